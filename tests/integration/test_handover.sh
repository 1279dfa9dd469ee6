#!/usr/bin/env bash
# test_handover.sh: the receiver's internal listener, with the test playing
# the vault with curl: list pending uploads, fetch one (and resume), and
# acknowledge it, after which the receiver keeps only the receipt and has
# disposed of its copy, with a record (R13). Nothing is handed over twice.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
INT=$((PORT + 1))
VURL="https://127.0.0.1:$INT/v1/pending"

vault() {
	curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/internal-ca/issued/vault.crt" \
		--key "$T/pki/internal-ca/issued/vault.key" "$@"
}

upload() {	# upload FILE: prints the HTTP status; the receipt in $T/receipt
	curl_as 131156 -o "$T/receipt" -w '%{http_code}' -T "$1" \
		"https://127.0.0.1:$PORT/v1/uploads/health-checkup/$(basename "$1")"
}

id_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$1"; }
sha_of() { sha256sum < "$1" | cut -c1-64; }

setup() {
	make_pki >/dev/null &&
	write_site "$PORT" && write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT"
}

test_list_and_fetch_pending_uploads() {
	head -c 300000 /dev/urandom > "$T/a.csv"
	printf 'x,y\n1,2\n' > "$T/b.csv"
	[ "$(upload "$T/a.csv")" = 201 ] && A=$(id_of "$T/receipt") &&
	[ "$(upload "$T/b.csv")" = 201 ] && B=$(id_of "$T/receipt") || return 1
	vault "$VURL" > "$T/list" &&
	python3 - "$T/list" "$A" "$(sha_of "$T/a.csv")" "$B" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
ids = {r["id"]: r for r in d["pending"]}
assert sys.argv[2] in ids and sys.argv[4] in ids and not d["more"], d
r = ids[sys.argv[2]]
assert r["sha256"] == sys.argv[3] and r["size"] == 300000 and r["municipality"] == "131156"
PY
	vault -D "$T/h" -o "$T/a.got" "$VURL/$A" && cmp "$T/a.csv" "$T/a.got" &&
	grep -qi "^etag: \"$(sha_of "$T/a.csv")\"" "$T/h"
}

# Issue 21: the vault polls every few seconds; a listing is recorded when
# it shows something new, not on every poll.
test_listings_recorded_when_they_show_something_new() {
	local before after i
	before=$(grep -c '"event":"pending.listed"' "$T/data/audit.log")
	for i in 1 2 3 4 5; do vault "$VURL" >/dev/null || return 1; done
	after=$(grep -c '"event":"pending.listed"' "$T/data/audit.log")
	printf 'z,w\n3,4\n' > "$T/c.csv"
	[ "$(upload "$T/c.csv")" = 201 ] && vault "$VURL" >/dev/null &&
	[ "$after" -le $((before + 1)) ] &&
	[ "$(grep -c '"event":"pending.listed"' "$T/data/audit.log")" = $((after + 1)) ]
}

test_fetch_resumes_with_range() {
	local code
	code=$(vault -r 100000- -o "$T/a.tail" -w '%{http_code}' "$VURL/$A")
	[ "$code" = 206 ] && cmp <(tail -c 200000 "$T/a.csv") "$T/a.tail"
}

test_ack_with_a_wrong_digest_disposes_of_nothing() {
	local code
	code=$(vault -X DELETE -H "Sekisho-Sha256: $(sha_of "$T/b.csv")" \
		-o /dev/null -w '%{http_code}' "$VURL/$A")
	[ "$code" = 409 ] && [ -e "$T/data/objects/$A" ] &&
	[ "$(vault -X DELETE -o /dev/null -w '%{http_code}' "$VURL/$A")" = 400 ]
}

test_r13_ack_hands_over_and_disposes_with_a_record() {
	local code
	code=$(vault -X DELETE -H "Sekisho-Sha256: $(sha_of "$T/a.csv")" \
		-o "$T/ack" -w '%{http_code}' "$VURL/$A")
	[ "$code" = 200 ] && grep -q '"acknowledged":true' "$T/ack" &&
	[ ! -e "$T/data/objects/$A" ] && [ -e "$T/data/handed/$A" ] &&
	grep -q "\"event\":\"upload.handed_over\",\"actor\":\"vault\",\"object\":\"$A\"" \
		"$T/data/audit.log" &&
	grep -q "\"event\":\"upload.disposed\",\"actor\":\"vault\",\"object\":\"$A\".*key_destroyed=1" \
		"$T/data/audit.log" &&
	! vault "$VURL" | grep -q "$A" &&
	[ "$(vault -o /dev/null -w '%{http_code}' "$VURL/$A")" = 404 ]
}

test_ack_again_is_the_same_answer() {
	vault -X DELETE -H "Sekisho-Sha256: $(sha_of "$T/a.csv")" "$VURL/$A" |
		grep -q '"again":true'
}

# The municipality sends the same file again: its original receipt, and
# nothing new for the vault.
test_resent_file_is_not_handed_over_twice() {
	local code
	code=$(upload "$T/a.csv")
	[ "$code" = 200 ] && [ "$(id_of "$T/receipt")" = "$A" ] &&
	[ ! -e "$T/data/objects/$A" ] && ! vault "$VURL" | grep -q "$A"
}

test_only_the_vault_gets_in() {
	# A municipality's and a recipient's certificates are refused in the
	# handshake; the vault's is refused on the municipalities' listener.
	! curl_as 131156 -o /dev/null "$VURL" 2>/dev/null &&
	! curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/recip-ca/issued/univ-a.crt" \
		--key "$T/pki/recip-ca/issued/univ-a.key" -o /dev/null "$VURL" 2>/dev/null &&
	! vault -o /dev/null "https://127.0.0.1:$PORT/v1/uploads/health-checkup/x" 2>/dev/null &&
	[ "$(vault -X POST -d x -o /dev/null -w '%{http_code}' "$VURL")" = 400 ] &&
	[ "$(vault -X PUT -o /dev/null -w '%{http_code}' "$VURL/$B")" = 405 ]
}

# A crash after the receipt was kept but before the copy was destroyed:
# the next start finishes the disposal, with a record.
test_r13_interrupted_hand_over_is_finished_at_start() {
	cp -p "$T/data/objects/$B" "$T/b.sealed" &&
	[ "$(vault -X DELETE -H "Sekisho-Sha256: $(sha_of "$T/b.csv")" \
		-o /dev/null -w '%{http_code}' "$VURL/$B")" = 200 ] || return 1
	stop_receiver
	cp -p "$T/b.sealed" "$T/data/objects/$B"	# as if never destroyed
	start_receiver "$PORT" &&
	[ ! -e "$T/data/objects/$B" ] &&
	grep -q '1 interrupted hand-over(s) finished' "$T/receiver.log" &&
	grep -q "\"event\":\"upload.disposed\",\"actor\":\"system\",\"object\":\"$B\"" \
		"$T/data/audit.log"
}

test_audit_log_verifies() {
	"$BIN/sekisho-receiver" audit verify "$T/data/audit.log" >/dev/null
}

setup || { echo "setup failed"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
stop_receiver
summary
