#!/usr/bin/env bash
# test_r10_r51_upload_status.sh: what became of my file (issue 18, item 1).
# The vault tells the receiver, over the connection it opens anyway, what became of
# each upload, in a closed vocabulary; the city reads its own uploads'
# status with GET /v1/uploads/{id}; another city cannot; a status that is
# not of the vocabulary, or names a line the upload does not have, is
# refused and kept nowhere.
. "$(dirname "$0")/lib.sh"
EXTRA_MUNIS=',
  { id = "011002"; identity = "urn:sekisho:muni:011002"; networks = [ "127.0.0.0/8" ];
    datasets = [ "health-checkup" ]; }'
. "$(dirname "$0")/pipeline.sh"

status_of() {	# status_of ID [MUNI]: the city's view, into $T/st; the code
	curl_as "${2:-131156}" -o "$T/st" -w '%{http_code}' \
		"https://127.0.0.1:$PORT/v1/uploads/$1"
}
states() { python3 -c 'import json,sys; print(" ".join(e["state"] + ("/" + e["reason"] if "reason" in e else "") for e in json.load(open(sys.argv[1]))["status"]))' "$T/st"; }

wait_city_state() {	# wait_city_state ID WORDS
	local i
	for i in $(seq 1 100); do
		[ "$(status_of "$1")" = 200 ] && [ "$(states)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "the city sees '$(states)', not '$2'" >&2
	return 1
}

fake_vault() {	# fake_vault ID HEADERS...: PUT /v1/status/ID as the vault
	local id=$1; shift
	curl -sS -o "$T/fv" -w '%{http_code}' --cacert "$P/internal-ca/ca.crt" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -X PUT "$@" \
		"https://127.0.0.1:$((PORT + 1))/v1/status/$id"
}

test_r51_the_city_follows_its_upload() {
	python3 "$GEN" 300 81 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	[ "$(status_of "$A")" = 200 ] || return 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["receipt"]["id"] == sys.argv[2], d' "$T/st" "$A" &&
	wait_city_state "$A" "received handed_over accepted" &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_city_state "$A" "received handed_over accepted released"
}

test_r51_a_failed_upload_says_why() {
	printf 'name,age\r\nx,1\r\n' > "$T/wrong.csv" &&
	[ "$(upload "$T/wrong.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" failed &&
	# Failed, then (the vault's copy goes at the decision) every copy is
	# gone: the city is told both, in that order (R45).
	wait_city_state "$B" "received handed_over failed/columns_mismatch disposed" &&
	grep -q "\"event\":\"status.recorded\",\"actor\":\"vault\",\"object\":\"$B\".*state=failed reason=columns_mismatch" \
		"$T/data/audit.log" &&
	# The notice gives the day each host's copies went: the receiver's
	# at the hand-over, the vault's; never at the sender, none there.
	python3 - "$T/st" "$(date -u +%F)" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["status"][-1]
assert ev["state"] == "disposed", ev
assert ev["disposed"] == {"receiver": sys.argv[2], "vault": sys.argv[2]}, ev
PY
}

test_r10_another_city_cannot_read_it() {
	[ "$(status_of "$A" 011002)" = 404 ] &&
	! grep -q "$A" "$T/st" &&
	[ "$(status_of 0123456789abcdef0123456789abcdef)" = 404 ]
}

# The city's own list: what it sent since a day, each with its last state.
test_r51_the_city_lists_its_uploads_since_a_day() {
	local today tomorrow
	today=$(date -u +%F)
	tomorrow=$(date -u -d tomorrow +%F)
	curl_as 131156 -o "$T/list" "https://127.0.0.1:$PORT/v1/uploads?since=$today" &&
	python3 - "$T/list" "$A" "$B" "$today" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
by = {u["id"]: u for u in d["uploads"]}
assert by[sys.argv[2]]["state"] == "released", by
assert by[sys.argv[3]]["state"] == "disposed", by
assert all(u["received"] >= sys.argv[4] for u in d["uploads"]) and d["more"] is False
PY
	curl_as 131156 -o "$T/list2" "https://127.0.0.1:$PORT/v1/uploads?since=$tomorrow" &&
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["uploads"] == []' "$T/list2" &&
	curl_as 011002 -o "$T/list3" "https://127.0.0.1:$PORT/v1/uploads?since=$today" &&
	! grep -q "$A" "$T/list3" &&
	[ "$(curl_as 131156 -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$PORT/v1/uploads?since=yesterday")" = 400 ]
}

# A vault that says more than the vocabulary: refused, nothing kept.
test_r10_a_doctored_status_is_refused() {
	local before
	status_of "$A" >/dev/null && before=$(cat "$T/st")
	[ "$(fake_vault "$A" -H 'Sekisho-State: pwned')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: failed' -H 'Sekisho-Reason: the name was Yamada')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: failed')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: accepted' -H 'Sekisho-Reason: other')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: failed' -H 'Sekisho-Reason: other' -H 'Sekisho-Line: 99999')" = 400 ] &&
	grep -q 'not a line of this upload' "$T/fv" &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: failed' -H 'Sekisho-Reason: other' -H 'Sekisho-Line: 1x')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: rejected' -H 'Sekisho-Reason: other' --data-binary 'free text')" = 400 ] &&
	# Disposal days: only days, only with "disposed", never before the
	# receipt nor after tomorrow.
	[ "$(fake_vault "$A" -H 'Sekisho-State: withdrawn' -H "Sekisho-Disposed-Vault: $(date -u +%F)")" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: disposed' -H 'Sekisho-Disposed-Vault: 2026-02-30')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: disposed' -H 'Sekisho-Disposed-Vault: 2026-12-02T10:00')" = 400 ] &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: disposed' -H 'Sekisho-Disposed-Sender: 2020-01-01')" = 400 ] &&
	grep -q 'before the receipt' "$T/fv" &&
	[ "$(fake_vault "$A" -H 'Sekisho-State: disposed' -H "Sekisho-Disposed-Sender: $(date -u -d '+3 days' +%F)")" = 400 ] &&
	status_of "$A" >/dev/null && [ "$(cat "$T/st")" = "$before" ] || return 1
	# Well-formed, it is what the city reads.
	[ "$(fake_vault "$A" -H 'Sekisho-State: disposed' -H "Sekisho-Disposed-Vault: $(date -u +%F)" \
		-H "Sekisho-Disposed-Sender: $(date -u +%F)")" = 200 ] &&
	status_of "$A" >/dev/null &&
	python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["status"][-1]
assert ev["state"] == "disposed" and set(ev["disposed"]) == {"receiver", "vault", "sender"}, ev' "$T/st"
}

run_pipeline_tests
