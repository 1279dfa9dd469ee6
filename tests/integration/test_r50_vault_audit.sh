#!/usr/bin/env bash
# test_r50_vault_audit.sh: the vault's audit log on a tiny tmpfs of the
# vault's own mount namespace, filled up while the pipeline runs (issue 14,
# item 1). While no entry can be written the vault takes, processes,
# approves and publishes nothing, says so in its log and in `status`, and
# the console takes no decision; once space returns it resumes by itself,
# with an entry that records the gap, and its chain verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

in_vault_ns() { nsenter -t "$VAULT_PID" -m "$@"; }

start_vault_on_small_audit_fs() {
	stop_vault
	mkdir -p "$T/vaudit"
	echo 'audit: { log = "vaudit/audit.log"; key = "vaudit/audit.key0"; };' \
		>> "$T/vault.conf"
	local before
	before=$(grep -c 'polling the receiver' "$T/vault.log")
	unshare -m --propagation private sh -c \
		"mount -t tmpfs -o size=256k tmpfs '$T/vaudit' && exec '$VAULT' -c '$T/vault.conf' run" \
		>>"$T/vault.log" 2>&1 &
	VAULT_PID=$!
	PIDS+=("$VAULT_PID")
	vault_polling "$before"
}

wait_log() {	# wait_log PATTERN [SECONDS]
	local i
	for i in $(seq 1 $((${2:-15} * 10))); do
		grep -q "$1" "$T/vault.log" && return 0
		sleep 0.1
	done
	echo "the vault never logged '$1'" >&2
	return 1
}

test_r50_vault_stops_while_its_audit_log_cannot_be_written() {
	start_vault_on_small_audit_fs &&
	python3 "$GEN" 300 31 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	"$VAULT" -c "$T/vault.conf" status | grep -q '書き込み可' || return 1
	in_vault_ns dd if=/dev/zero of="$T/vaudit/fill" bs=4k 2>/dev/null
	approve "$A" op1 | grep -q '1 of 2' || return 1
	# The log's last page still takes a few entries: upload until the
	# vault cannot write one (B is the job it was at then).
	local i
	for i in 1 2 3 4 5 6; do
		python3 "$GEN" 300 $((40 + i)) "$T/b$i.csv" &&
		[ "$(upload "$T/b$i.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") || return 1
		while [ "$(state "$B")" != awaiting_approval ] &&
			! grep -q 'stop until it can (R50)' "$T/vault.log"; do
			sleep 0.1
		done
		grep -q 'stop until it can (R50)' "$T/vault.log" && break
	done
	grep -q 'stop until it can (R50)' "$T/vault.log" || return 1
	echo "the log filled up at upload $i; job $B is '$(state "$B")'"
	local st=0
	"$VAULT" -c "$T/vault.conf" status > "$T/status" || st=$?
	cat "$T/status"
	# CRITICAL in the monitoring plugins' terms: nothing moves.
	[ "$st" = 2 ] && grep -q '書き込めません' "$T/status" &&
	head -1 "$T/status" | grep -q '^SEKISHO-vault CRITICAL - ' || return 1
	# Nothing is taken, processed, approved or published now.
	python3 "$GEN" 300 50 "$T/c.csv" &&
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") || return 1
	! approve "$A" op2 2>"$T/e" && grep -q 'R50' "$T/e" || return 1
	"$VAULT" -c "$T/vault.conf" release list > "$T/list1"
	sleep 3
	"$VAULT" -c "$T/vault.conf" release list > "$T/list2"
	cmp -s "$T/list1" "$T/list2" && [ -z "$(state "$C")" ] &&
	[ -e "$T/data/objects/$C" ] && [ ! -e "$T/vdata/sources/$C" ] &&
	[ "$(state "$A")" = awaiting_approval ]
}

test_r50_vault_resumes_once_the_log_can_be_written() {
	in_vault_ns rm -f "$T/vaudit/fill"
	wait_log 'work resumes' &&
	"$VAULT" -c "$T/vault.conf" status | grep -q '書き込み可' &&
	wait_state "$B" awaiting_approval && wait_state "$C" awaiting_approval &&
	approve "$A" op2 >/dev/null && wait_state "$A" published || return 1
	in_vault_ns "$VAULT" audit verify "$T/vaudit/audit.log" \
		--key "$T/vaudit/audit.key0" > "$T/v.out" ||
		{ cat "$T/v.out"; return 1; }
	grep -q 'could not be written for a while' "$T/v.out" || return 1
	# The gap is recorded before C's first entry.
	local gap took
	gap=$(in_vault_ns grep -n '"event":"audit.resumed"' "$T/vaudit/audit.log" | cut -d: -f1)
	took=$(in_vault_ns grep -n "\"event\":\"job.received\",\"actor\":\"vault\",\"object\":\"$C\"" \
		"$T/vaudit/audit.log" | cut -d: -f1)
	echo "gap at entry $gap, $C taken at entry $took"
	[ -n "$gap" ] && [ -n "$took" ] && [ "$gap" -lt "$took" ] &&
	in_vault_ns grep -q "\"event\":\"release.published\",\"actor\":\"vault\",\"object\":\"$A\"" \
		"$T/vaudit/audit.log"
}

run_pipeline_tests
