#!/usr/bin/env bash
# test_r47_witness.sh: logs that witness each other (R47). The vault records
# the receiver's chain head at each listing that moved it, the sender the
# vault's at each publication; `audit verify --witness` checks a log
# against those heads. A log cut short with its state removed, or deleted
# and begun afresh (marker, state and first key too), still verifies on its
# own; against its witness it does not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

RV() { "$BIN/sekisho-receiver" audit verify "$@"; }

test_the_story() {
	python3 "$GEN" 300 111 "$T/a.csv" && python3 "$GEN" 300 112 "$T/b.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	[ "$(upload "$T/b.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published
}

test_r47_each_log_matches_its_witness() {
	local n
	n=$(grep -c '"event":"witness.receiver"' "$T/vdata/audit.log")
	[ "$n" -ge 2 ] || { echo "only $n receiver heads witnessed"; return 1; }
	grep -q '"event":"witness.vault","actor":"vault",.*"detail":"seq=[0-9]* mac=[0-9a-f]\{64\}"' \
		"$T/sdata/audit.log" || return 1
	RV "$T/data/audit.log" --witness "$T/vdata/audit.log" | tee "$T/w1" &&
	grep -q "OK against .*: $n head(s) of this receiver log" "$T/w1" &&
	"$VAULT" audit verify "$T/vdata/audit.log" --witness "$T/sdata/audit.log"
}

# The receiver's log cut back to before the last head the vault saw, and
# its state removed: on its own it verifies (a shorter chain is a chain).
test_r47_a_log_cut_short_is_caught_by_its_witness() {
	local last
	last=$(grep '"event":"witness.receiver"' "$T/vdata/audit.log" | tail -1 |
		sed 's/.*seq=\([0-9]*\) .*/\1/')
	[ "$last" -gt 1 ] || return 1
	head -n $((last - 1)) "$T/data/audit.log" > "$T/cut.log" &&
	cp "$T/data/audit.log.key0" "$T/cut.log.key0" &&
	RV "$T/cut.log" >/dev/null &&
	! RV "$T/cut.log" --witness "$T/vdata/audit.log" > "$T/w2" &&
	grep -q "WITNESS FAILED: .*entry $last, witnessed at .*, is not in this log" "$T/w2"
}

# An intruder stops the receiver and removes its log, state, chain marker
# and first key: it begins a new chain that verifies, and its witness says
# it is not the log the vault saw.
test_r47_a_deleted_and_restarted_log_is_caught_by_its_witness() {
	stop_receiver &&
	rm -f "$T/data/audit.log" "$T/data/audit.log.state" \
		"$T/data/audit.log.key0" "$T/data/audit.chain" &&
	start_receiver "$PORT" &&
	RV "$T/data/audit.log" > "$T/w3" && grep -q ': OK' "$T/w3" &&
	! RV "$T/data/audit.log" --witness "$T/vdata/audit.log" > "$T/w4" &&
	grep -q 'WITNESS FAILED' "$T/w4" && cat "$T/w4"
}

test_r47_a_malformed_witness_header_is_refused() {
	local code
	printf 'x' > "$T/x.bin"
	code=$(curl -sS -o /dev/null -w '%{http_code}' -T "$T/x.bin" \
		--cacert "$P/internal-ca/ca.crt" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" \
		-H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary "$T/x.bin" | base64):" \
		-H 'Sekisho-Dataset: health-checkup' -H 'Sekisho-Recipients: univ-a' \
		-H "Sekisho-Expires: $(( $(date +%s) + 3600 ))" \
		-H 'Sekisho-Witness: seq=1 mac=zz' \
		"https://127.0.0.1:$((PORT + 3))/v1/releases/witnesstest")
	[ "$code" = 400 ] && grep -q 'Sekisho-Witness is malformed' "$T/sdata/audit.log"
}

# (The final audit_logs_verify sees the receiver's new chain, which
# verifies on its own: that is the point of the witness.)
run_pipeline_tests
