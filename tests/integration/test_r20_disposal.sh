#!/usr/bin/env bash
# test_r20_disposal.sh: disposal that really happened, every time (issue 14,
# item 8; R13, R20, R33). A disposal that fails is recorded as failed, not
# as done, and is tried again until it succeeds; a job nobody decides
# expires under its dataset's retention; the vault's copy of a source goes
# when its job is decided unless the dataset keeps it for corrections, and
# the report says which.
. "$(dirname "$0")/lib.sh"

# A dataset whose undecided jobs expire after a day, and whose source is
# kept 3 days after the decision, for corrections.
EXTRA_DATASETS=',
  { id = "health-kept"; max_bytes = 104857600L; retention_days = 1;
    keep_source_days = 3; policy = "'"$TOP"'/tests/bench/checkup/checkup.policy";
    release = { recipients = [ "univ-a" ]; approvals = 2; }; }'
EXTRA_DATASET_IDS=', "health-kept"'
. "$(dirname "$0")/pipeline.sh"

report() { cat "$T/vdata/reports/$1.json"; }

# Moves a job's receipt (and decision) back by DAYS days, as if that much
# time had passed: the vault is stopped meanwhile.
age_job() {	# age_job ID DAYS
	local f=$T/vdata/jobs/$1 d=$(( $2 * 86400 ))
	awk -F= -v d="$d" 'BEGIN { OFS = "=" }
		($1 == "received" || $1 == "decided" || $1 == "updated") && $2 > 0 { $2 = $2 - d } { print }' \
		"$f" > "$f.aged" && chown --reference="$f" "$f.aged" &&
	chmod --reference="$f" "$f.aged" && mv "$f.aged" "$f"
}

test_r20_source_goes_when_decided_and_the_report_says_so() {
	python3 "$GEN" 300 61 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval || return 1
	report "$A" | grep -q '"source_copy":{"disposal":"when_decided","days":0}' &&
	[ -e "$T/vdata/sources/$A" ] || return 1
	"$VAULT" -c "$T/vault.conf" release reject "$A" --yes --operator op1 \
		--key "$T/ops/op1.key" --reason "test" >/dev/null &&
	"$VAULT" -c "$T/vault.conf" release reject "$A" --yes --operator op2 \
		--key "$T/ops/op2.key" --reason "test" >/dev/null &&
	wait_state "$A" rejected && wait_gone "$T/vdata/sources/$A" &&
	grep -q "\"object\":\"$A\".*source reason=decided key_destroyed=1" \
		"$T/vdata/audit.log"
}

# The sources folder made read-only: the key is overwritten but the file
# cannot be unlinked. That is recorded as a failure, the job is not marked,
# and once the folder is writable again the disposal is done, on record.
test_r13_a_failed_disposal_is_recorded_and_retried() {
	python3 "$GEN" 300 62 "$T/b.csv" &&
	[ "$(upload "$T/b.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval || return 1
	chmod 0500 "$T/vdata/sources"
	approve "$B" op1 >/dev/null && approve "$B" op2 >/dev/null &&
	wait_state "$B" published || { chmod 0700 "$T/vdata/sources"; return 1; }
	sleep 2
	local failed done_early mark
	failed=$(grep -c "\"event\":\"object.dispose_failed\",\"actor\":\"vault\",\"object\":\"$B\"" \
		"$T/vdata/audit.log")
	done_early=$(grep -c "\"object\":\"$B\".*source reason=decided" "$T/vdata/audit.log")
	# The mark as it is while the folder is read-only: once it is
	# writable again the vault may dispose of it at once.
	mark=$(grep source_disposed "$T/vdata/jobs/$B")
	echo "with the folder read-only: $failed failure entry, $done_early disposal entries; marked: $mark"
	chmod 0700 "$T/vdata/sources"
	[ "$failed" = 1 ] && [ "$done_early" = 0 ] &&
	[ "$mark" = "source_disposed=0" ] &&
	wait_gone "$T/vdata/sources/$B" &&
	# The file goes first, then the entry and the job's mark: wait for
	# each (a fixed 1.5 s was once too short under load).
	wait_for_audit "\"object\":\"$B\".*source reason=decided key_destroyed=1" || return 1
	local i
	for i in $(seq 1 100); do
		grep -q '^source_disposed=1$' "$T/vdata/jobs/$B" && return 0
		sleep 0.1
	done
	echo "job $B not marked disposed after 10 s: $(grep source_disposed "$T/vdata/jobs/$B")"
	return 1
}

# A job left awaiting approval past retention_days expires: its state says
# so, the source and the release go, on record.
test_r20_an_undecided_job_expires() {
	python3 "$GEN" 300 63 "$T/c.csv" &&
	[ "$(upload "$T/c.csv" health-kept)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" awaiting_approval || return 1
	report "$C" | grep -q '"source_copy":{"disposal":"kept_after_decision","days":3}' &&
	stop_vault && age_job "$C" 2 && start_vault &&
	wait_state "$C" expired && wait_gone "$T/vdata/releases/$C" || return 1
	grep -q "\"event\":\"job.expired\",\"actor\":\"vault\",\"object\":\"$C\"" "$T/vdata/audit.log" &&
	grep -q "\"object\":\"$C\".*release reason=expired key_destroyed=1" "$T/vdata/audit.log" &&
	# Expired now: its source is kept 3 days for corrections ...
	[ -e "$T/vdata/sources/$C" ] &&
	# ... and goes once they are over.
	stop_vault && age_job "$C" 4 && start_vault &&
	wait_gone "$T/vdata/sources/$C" &&
	grep -q "\"object\":\"$C\".*source reason=kept_days_after_decision key_destroyed=1" \
		"$T/vdata/audit.log"
}

run_pipeline_tests
