#!/usr/bin/env bash
# test_readme.sh: runs the README's receiver trial exactly as written, so the
# documented curl example keeps working.
. "$(dirname "$0")/lib.sh"

script=$T/trial.sh
sed -n '/<!-- trial:begin -->/,/<!-- trial:end -->/p' "$TOP/README.md" |
	sed '1,2d;$d' | sed '$d' > "$script"

run_trial() {
	# The trial copies its site to /tmp/sekisho-trial and uses port 8443.
	rm -rf /tmp/sekisho-trial
	(cd "$TOP" && bash -e "$script") > "$T/out" 2>&1
}

check readme_trial_script_extracted grep -q 'curl --fail-with-body' "$script"
check readme_trial_runs_as_written run_trial
check readme_trial_returns_receipt grep -q '"municipality":"131156"' "$T/out"
check readme_trial_audit_verifies grep -q 'data/audit.log: OK' "$T/out"
[ "$FAILED" -eq 0 ] || cat "$T/out"
rm -rf /tmp/sekisho-trial
summary
