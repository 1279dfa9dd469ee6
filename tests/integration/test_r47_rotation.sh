#!/usr/bin/env bash
# test_r47_rotation.sh: the audit log rolls into segments (issue 16, item
# 6; R47). The receiver's log, rotated every 2 kB, keeps one chain across
# its segments: verify reads them all, the vault's witness of its heads
# still matches, the ledger reads the segments too. (Retention, which
# removes old segments on record, is tested in tests/unit/test_audit.c.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

RV() { "$BIN/sekisho-receiver" audit verify "$@"; }

test_the_story() {
	python3 "$GEN" 300 170 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval
}

# Rotation (issue 16, item 6): the receiver's log rolls into segments
# every 2 kB; the chain goes on across them, verify reads them all, the
# vault's witness still matches, the ledger reads the segments too.
test_r47_a_rotating_log_verifies_across_its_segments() {
	local i n
	printf 'audit: { rotate_bytes = 2000L; };\n' >> "$T/receiver.conf" &&
	stop_receiver && start_receiver "$PORT" || return 1
	for i in 1 2 3 4; do
		python3 "$GEN" 300 $((160 + i)) "$T/r$i.csv" &&
		[ "$(upload "$T/r$i.csv" health-checkup)" = 201 ] || return 1
		R_LAST=$(cat "$T/id")
	done
	wait_state "$R_LAST" awaiting_approval || return 1
	n=$(ls "$T/data" | grep -c '^audit\.log\.[0-9]\{12\}-[0-9]\{12\}$')
	echo "$n segments"
	[ "$n" -ge 2 ] &&
	grep -q '"event":"audit.rotated".*"detail":"segment=audit.log.000000000001-' \
		"$T/data/audit.log"* &&
	RV "$T/data/audit.log" | grep -q 'OK, .* its rotated segments first' &&
	RV "$T/data/audit.log" --witness "$T/vdata/audit.log" | grep -q 'OK against' &&
	"$VAULT" -c "$T/vault.conf" ledger --form 8 --from "$(TZ=Asia/Tokyo date -d yesterday +%F)" \
		--to "$(TZ=Asia/Tokyo date -d tomorrow +%F)" \
		--logs "$T/data" "$T/vdata" "$T/sdata" | grep -c "^$A," | grep -qx 1
}


# A segment taken away: the chain is broken, and verify says so.
test_r47_a_missing_segment_is_caught() {
	local seg
	seg=$(ls "$T/data"/audit.log.0* | sed -n 2p) && [ -n "$seg" ] &&
	mv "$seg" "$T/away" &&
	! RV "$T/data/audit.log" > "$T/v.out" &&
	grep -q 'FAILED' "$T/v.out" &&
	mv "$T/away" "$seg" && RV "$T/data/audit.log" >/dev/null
}

run_pipeline_tests
