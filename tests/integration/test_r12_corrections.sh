#!/usr/bin/env bash
# test_r12_corrections.sh: a municipality corrects an upload (R12; issue
# 14, item 9). It sends the corrected file with Sekisho-Replaces: the
# earlier receipt id. An earlier upload the vault has not taken is disposed
# of at the receiver; an undecided job stops; a published release is marked
# for withdrawal by two operators; the link is recorded on both. Only an
# upload of the same municipality and dataset can be replaced.
. "$(dirname "$0")/lib.sh"
EXTRA_MUNIS=',
  { id = "011002"; identity = "urn:sekisho:muni:011002"; networks = [ "127.0.0.0/8" ];
    datasets = [ "health-checkup" ]; }'
. "$(dirname "$0")/pipeline.sh"

correct() {	# correct FILE DATASET REPLACES [MUNI]: prints the status
	curl_as "${4:-131156}" -o "$T/receipt" -w '%{http_code}' -T "$1" \
		-H "Sekisho-Replaces: $3" \
		"https://127.0.0.1:$PORT/v1/uploads/$2/$(basename "$1")"
}
receipt_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$T/receipt" "$1"; }

test_r12_r46_a_correction_stops_an_undecided_job() {
	python3 "$GEN" 300 71 "$T/a.csv" && python3 "$GEN" 300 72 "$T/a2.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	[ "$(correct "$T/a2.csv" health-checkup "$A")" = 201 ] &&
	A2=$(receipt_field id) && [ "$(receipt_field replaces)" = "$A" ] &&
	wait_state "$A2" awaiting_approval && wait_state "$A" replaced &&
	wait_gone "$T/vdata/sources/$A" || return 1
	"$VAULT" -c "$T/vault.conf" release show "$A" | grep -q "^replaced by:   $A2" &&
	"$VAULT" -c "$T/vault.conf" release show "$A2" | grep -q "^replaces:      $A" &&
	grep -q "\"event\":\"job.replaced\",\"actor\":\"vault\",\"object\":\"$A\".*by=$A2 state_was=awaiting_approval" \
		"$T/vdata/audit.log" &&
	grep -q "\"event\":\"upload.stored\".*\"object\":\"$A2\".*replaces=$A" "$T/data/audit.log" &&
	# A replaced job takes no approval.
	! approve "$A" op1 2>/dev/null
}

test_r12_r46_a_correction_of_a_published_release_asks_for_withdrawal() {
	python3 "$GEN" 300 73 "$T/b.csv" && python3 "$GEN" 300 74 "$T/b2.csv" &&
	[ "$(upload "$T/b.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval &&
	approve "$B" op1 >/dev/null && approve "$B" op2 >/dev/null &&
	wait_state "$B" published &&
	[ "$(correct "$T/b2.csv" health-checkup "$B")" = 201 ] && B2=$(receipt_field id) &&
	wait_state "$B2" awaiting_approval || return 1
	# Still out: two operators must withdraw it; the console says so.
	[ "$(state "$B")" = published ] &&
	"$VAULT" -c "$T/vault.conf" release list | grep "^${B:0:16}" | grep -q 'withdrawal requested' &&
	"$VAULT" -c "$T/vault.conf" release show "$B" | grep -q "^replaced by:   $B2.*withdrawal requested" &&
	"$VAULT" -c "$T/vault.conf" release withdraw "$B" --yes --operator op1 --key "$T/ops/op1.key" >/dev/null &&
	"$VAULT" -c "$T/vault.conf" release withdraw "$B" --yes --operator op3 --key "$T/ops/op3.key" >/dev/null &&
	wait_state "$B" withdrawn
}

test_r12_a_correction_before_the_vault_took_the_upload() {
	python3 "$GEN" 300 75 "$T/c.csv" && python3 "$GEN" 300 76 "$T/c2.csv" &&
	stop_vault &&
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") &&
	[ -e "$T/data/objects/$C" ] &&
	[ "$(correct "$T/c2.csv" health-checkup "$C")" = 201 ] && C2=$(receipt_field id) &&
	[ ! -e "$T/data/objects/$C" ] &&
	grep -q "\"event\":\"upload.disposed\".*\"object\":\"$C\".*reason=replaced by=$C2" \
		"$T/data/audit.log" &&
	start_vault && wait_state "$C2" awaiting_approval &&
	[ -z "$(state "$C")" ] &&
	grep -q "\"event\":\"job.corrects\",\"actor\":\"vault\",\"object\":\"$C2\".*never taken" \
		"$T/vdata/audit.log"
}

test_r12_only_the_same_municipality_and_dataset() {
	local before
	python3 "$GEN" 300 77 "$T/d.csv" || return 1
	before=$(ls "$T/data/objects" | wc -l)
	# Another dataset, another municipality, an id never given, not an id,
	# and a correction that is the very same file.
	[ "$(correct "$T/d.csv" health-sealed "$A2")" = 409 ] &&
	grep -q 'names no earlier upload' "$T/receipt" &&
	[ "$(correct "$T/d.csv" health-checkup "$A2" 011002)" = 409 ] &&
	[ "$(correct "$T/d.csv" health-checkup 0123456789abcdef0123456789abcdef)" = 409 ] &&
	[ "$(correct "$T/d.csv" health-checkup 'not-an-id')" = 400 ] &&
	[ "$(correct "$T/a2.csv" health-checkup "$A2")" = 409 ] &&
	grep -q 'must differ' "$T/receipt" &&
	[ "$(ls "$T/data/objects" | wc -l)" = "$before" ]
}

run_pipeline_tests
