#!/usr/bin/env bash
# test_pipeline_restart.sh: the three daemons on loopback, each killed
# (kill -9) in the middle of a step or stopped for a while; afterwards
# every accepted upload ends in exactly one state, nothing reaches the
# sender twice, and every audit log verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

SURL="https://127.0.0.1:$((PORT + 3))/v1/releases"

# How many releases of this job the sender holds (as the vault sees it):
# those with the job's release id, and, for safety, any whose size and
# digest are the job's release's (a second id for the same release).
at_sender() {
	local rid sha
	rid=$(rid_of "$1")
	sha=$("$VAULT" -c "$T/vault.conf" release show "$1" |
		awk '/^release:/ {print $5}')
	curl -sS --cacert "$P/internal-ca/ca.crt" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" "$SURL" |
		python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["releases"] if r["id"] == sys.argv[1] or r["sha256"] == sys.argv[2]))' "$rid" "$sha"
}

jobs_named() { ls "$T/vdata/jobs" | grep -c "^$1\$"; }

test_a_10mb_upload_to_awaiting_approval() {
	local t0 t1
	python3 "$GEN" 110000 21 "$T/big1.csv" || return 1
	echo "file: $(stat -c %s "$T/big1.csv") bytes"
	t0=$(date +%s%N)
	[ "$(upload "$T/big1.csv" health-checkup)" = 201 ] && G0=$(cat "$T/id") &&
	wait_state "$G0" awaiting_approval 120 || return 1
	t1=$(date +%s%N)
	echo "10 MB upload to awaiting_approval: $(( (t1 - t0) / 1000000 )) ms"
}

test_r50_vault_killed_while_fetching_resumes() {
	python3 "$GEN" 110000 22 "$T/big2.csv" &&
	stop_vault &&
	[ "$(upload "$T/big2.csv" health-checkup)" = 201 ] && G=$(cat "$T/id") || return 1
	start_vault && kill_when "$VAULT_PID" "$T/vault.log" "upload $G: fetching" &&
	echo "killed while fetching; job recorded: $(jobs_named "$G")" &&
	start_vault && wait_state "$G" awaiting_approval 120 &&
	[ "$(jobs_named "$G")" = 1 ] && [ ! -e "$T/data/objects/$G" ] &&
	[ -z "$(ls "$T/vdata/tmp")" ]
}

test_r50_vault_killed_while_processing_resumes() {
	python3 "$GEN" 110000 23 "$T/big3.csv" &&
	[ "$(upload "$T/big3.csv" health-checkup)" = 201 ] && H=$(cat "$T/id") &&
	kill_when "$VAULT_PID" "$T/vault.log" "job $H: processing" &&
	echo "killed while processing: $(state "$H")" &&
	start_vault && wait_state "$H" awaiting_approval 120 &&
	[ "$(jobs_named "$H")" = 1 ]
}

test_r50_vault_killed_while_publishing_publishes_once() {
	approve "$G" op1 >/dev/null && approve "$G" op2 >/dev/null &&
	kill_when "$VAULT_PID" "$T/vault.log" "release $G: publishing" &&
	echo "killed while publishing: $(state "$G")" &&
	start_vault && wait_state "$G" published 60 &&
	[ "$(at_sender "$G")" = 1 ]
}

test_receiver_down_only_delays() {
	python3 "$GEN" 300 24 "$T/small.csv" &&
	stop_vault &&
	[ "$(upload "$T/small.csv" health-checkup)" = 201 ] && E=$(cat "$T/id") &&
	stop_receiver && start_vault && sleep 2.5 &&
	grep -q 'receiver: .*retrying in' "$T/vault.log" &&
	[ -z "$(state "$E")" ] &&
	start_receiver "$PORT" && wait_state "$E" awaiting_approval 60
}

test_sender_down_only_delays() {
	stop_sender &&
	approve "$H" op1 >/dev/null && approve "$H" op3 >/dev/null &&
	wait_state "$H" approved && sleep 2.5 &&
	grep -q "release $H: .*retrying in" "$T/vault.log" &&
	start_sender && wait_state "$H" published 60 &&
	[ "$(at_sender "$H")" = 1 ]
}

test_receiver_killed_while_the_vault_fetches() {
	python3 "$GEN" 110000 25 "$T/big4.csv" &&
	[ "$(upload "$T/big4.csv" health-checkup)" = 201 ] && I=$(cat "$T/id") &&
	kill_when "$RECEIVER_PID" "$T/vault.log" "upload $I: fetching" &&
	start_receiver "$PORT" && wait_state "$I" awaiting_approval 120 &&
	[ "$(jobs_named "$I")" = 1 ] &&
	# The acknowledgement may have been refused while the receiver was
	# down: the vault repeats it at its next poll.
	wait_gone "$T/data/objects/$I"
}

test_sender_killed_while_the_vault_publishes() {
	approve "$I" op1 >/dev/null && approve "$I" op2 >/dev/null &&
	kill_when "$SENDER_PID" "$T/vault.log" "release $I: publishing" &&
	start_sender && wait_state "$I" published 60 &&
	[ "$(at_sender "$I")" = 1 ]
}

# Every upload the receiver accepted (201) is one job at the vault, in one
# state; nothing is left pending at the receiver.
test_every_accepted_upload_in_exactly_one_state() {
	local accepted jobs
	accepted=$(grep -c '"event":"upload.stored"' "$T/data/audit.log")
	jobs=$(ls "$T/vdata/jobs" | grep -cE '^[0-9a-f]+$')
	echo "accepted $accepted, jobs $jobs"
	[ "$accepted" = "$jobs" ] && [ -z "$(ls "$T/data/objects")" ]
}

test_r15_all_three_audit_logs_verify() { audit_logs_verify; }
test_sanitizers_found_nothing() { no_sanitizer_reports; }

setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
[ "$FAILED" -eq 0 ] || tail -30 "$T/vault.log"
summary
