#!/usr/bin/env bash
# test_handover_longpoll.sh: GET /v1/pending?wait=N, the vault's long-poll
# on the receiver's internal listener. With nothing pending it waits, at
# most N seconds; an upload stored meanwhile is answered at once, so the
# vault learns of it the moment it is durable, not at its next poll.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
VURL="https://127.0.0.1:$((PORT + 1))/v1/pending"

vault() {
	curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/internal-ca/issued/vault.crt" \
		--key "$T/pki/internal-ca/issued/vault.key" "$@"
}

setup() {
	make_pki >/dev/null && write_site "$PORT" && write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT"
}

count() {	# count FILE: the uploads a listing names
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["pending"]))' "$1"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

test_nothing_pending_waits_its_seconds_then_answers_empty() {
	local t0 t1
	t0=$(now_ms)
	vault -o "$T/l1" "$VURL?wait=2" || return 1
	t1=$(now_ms)
	echo "empty long-poll answered after $((t1 - t0)) ms"
	[ "$(count "$T/l1")" = 0 ] && [ $((t1 - t0)) -ge 1900 ] &&
	[ $((t1 - t0)) -lt 3500 ]
}

test_an_upload_stored_meanwhile_is_answered_at_once() {
	local t0 t1 t2 poll
	printf 'id,age\n1,40\n' > "$T/a.csv"
	t0=$(now_ms)
	vault -o "$T/l2" "$VURL?wait=20" &
	poll=$!
	sleep 0.5
	[ "$(curl_as 131156 -o /dev/null -w '%{http_code}' -T "$T/a.csv" \
	    "https://127.0.0.1:$PORT/v1/uploads/health-checkup/a.csv")" = 201 ] ||
		return 1
	t1=$(now_ms)
	wait "$poll" || return 1
	t2=$(now_ms)
	echo "upload stored at $((t1 - t0)) ms, long-poll answered at $((t2 - t0)) ms"
	[ "$(count "$T/l2")" = 1 ] && [ $((t2 - t1)) -lt 1000 ]
}

test_something_pending_is_answered_without_waiting() {
	local t0 t1
	t0=$(now_ms)
	vault -o "$T/l3" "$VURL?wait=20" || return 1
	t1=$(now_ms)
	[ "$(count "$T/l3")" = 1 ] && [ $((t1 - t0)) -lt 1000 ]
}

test_a_wait_out_of_range_or_malformed_is_refused() {
	local w
	for w in 0 61 1x "" 99999999999; do
		[ "$(vault -o /dev/null -w '%{http_code}' "$VURL?wait=$w")" = 400 ] ||
			{ echo "wait=$w not refused" >&2; return 1; }
	done
}

test_sanitizers_found_nothing() {
	! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' \
		"$T/receiver.log"
}

setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
