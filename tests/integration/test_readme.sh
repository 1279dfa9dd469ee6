#!/usr/bin/env bash
# test_readme.sh: runs the README's receiver trial exactly as written, so the
# documented curl example keeps working.
. "$(dirname "$0")/lib.sh"

# block NAME: the shell block between <!-- NAME:begin --> and its end.
block() {
	sed -n "/<!-- $1:begin -->/,/<!-- $1:end -->/p" "$TOP/README.md" |
		sed '1,2d;$d' | sed '$d'
}
script=$T/trial.sh
block trial > "$script"
block anonymize > "$T/anonymize.sh"
block sender > "$T/sender.sh"

run_trial() {
	# The trial copies its site to /tmp/sekisho-trial and uses port 8443.
	rm -rf /tmp/sekisho-trial
	(cd "$TOP" && bash -e "$script") > "$T/out" 2>&1
}

check readme_trial_script_extracted grep -q 'curl --fail-with-body' "$script"
check readme_trial_runs_as_written run_trial
check readme_trial_returns_receipt grep -q '"municipality":"131156"' "$T/out"
check readme_trial_audit_verifies grep -q 'data/audit.log: OK' "$T/out"
check readme_sender_script_extracted grep -q 'sekisho-sender' "$T/sender.sh"
# It continues in the receiver trial's directory.
check readme_sender_runs_as_written \
	bash -c "cd '$TOP' && bash -e '$T/sender.sh' > '$T/sender.out' 2>&1"
check readme_sender_lists_the_release grep -q '"id":"2026-kenshin-1"' "$T/sender.out"
check readme_sender_audit_verifies grep -q 'data-sender/audit.log: OK' "$T/sender.out"
check readme_anonymize_script_extracted grep -q 'sekisho-vault anonymize' "$T/anonymize.sh"
check readme_anonymize_runs_as_written \
	bash -c "cd '$TOP' && bash -e '$T/anonymize.sh' > '$T/anon.out' 2>&1"
check readme_anonymize_releases_with_header \
	grep -q '^生年月日,性別,郵便番号,身長,診断名' "$T/anon.out"
rm -f /tmp/kenshin.csv /tmp/release.csv /tmp/report.json
[ "$FAILED" -eq 0 ] || cat "$T/out" "$T/sender.out"
rm -rf /tmp/sekisho-trial
summary
