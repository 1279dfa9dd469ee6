#!/usr/bin/env bash
# test_r51_cut_uploads_resume.sh: an upload cut off over a failing line is
# held for a while; the city asks how much is held (HEAD) and sends the
# rest with `curl -C OFFSET -T` (Content-Range), and gets one receipt for
# the whole file, its digest checked over all of it (R51; issue 18, item
# 6). A partial upload never becomes a receipt, never reaches the vault,
# and nothing of it is kept once its time has passed (R20).
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=https://127.0.0.1:$PORT/v1/uploads/health-checkup
BIG_MB=${BIG_MB:-1024}		# the file, and where the line breaks
CUT_MB=${CUT_MB:-900}
LIMITS="disk_reserve = 0L; refusal_interval = 1; read_timeout = 3; resume_seconds = 120;"

setup() {
	make_pki >/dev/null && write_site "$PORT" &&
	# Sapporo on loopback too: a second city for the health check-ups.
	sed -i 's|networks = \[ "192.0.2.0/24" \]|networks = [ "127.0.0.0/8" ]|' "$T/site.conf" &&
	write_local "$LIMITS" &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" &&
	head -c $((BIG_MB << 20)) /dev/urandom > "$T/big.csv" &&
	head -c 3000000 /dev/urandom > "$T/small.csv" &&
	head -c 3000000 /dev/urandom > "$T/other.csv"
}

digest() { echo "sha-256=:$(openssl dgst -sha256 -binary "$1" | base64 -w0):"; }

# cut_off MUNI NAME FILE BYTES close|stall: a PUT of FILE that stops after
# BYTES.
cut_off() {
	python3 "$TOP/tests/integration/cut_upload.py" 127.0.0.1 "$PORT" \
		"$T/pki/muni-ca/issued/$1.crt" "$T/pki/muni-ca/issued/$1.key" \
		"$T/pki/internal-ca/ca.crt" "/v1/uploads/health-checkup/$2" "$3" "$4" "$5"
}

# held MUNI NAME: prints the Upload-Offset a HEAD tells, or the status.
held() {
	local code
	code=$(curl_as "$1" -I -D "$T/head" -o /dev/null -w '%{http_code}' "$URL/$2")
	if [ "$code" = 200 ]; then
		tr -d '\r' < "$T/head" | awk -F': ' 'tolower($1) == "upload-offset" {print $2}'
	else
		echo "$code"
	fi
}

objects() { ls "$T/data/objects" | wc -l; }

# wait_held MUNI NAME: the offset once the gateway holds part of NAME (it
# sees the cut when the bytes in flight are read), up to 10 s; else fails.
wait_held() {
	local i code
	for i in $(seq 1 100); do
		code=$(curl_as "$1" -I -o /dev/null -w '%{http_code}' "$URL/$2")
		[ "$code" = 200 ] && { held "$1" "$2"; return 0; }
		sleep 0.1
	done
	echo "nothing of $2 is held" >&2
	return 1
}

test_r51_an_upload_cut_at_900_mb_is_held_and_resumed_to_one_receipt() {
	local off t0 code
	[ "$(cut_off 131156 big.csv "$T/big.csv" $((CUT_MB << 20)) close)" = cut ] || return 1
	# The store has the sealed part; the net process its state, once it
	# has read what was in flight and seen the cut.
	off=$(wait_held 131156 big.csv) || return 1
	echo "held after the cut: $off of $((BIG_MB << 20)) bytes"
	[ "$off" -gt 0 ] && [ "$off" -le $((CUT_MB << 20)) ] &&
	[ "$(objects)" = 0 ] || return 1
	t0=$(date +%s%N)
	code=$(curl_as 131156 -C "$off" -T "$T/big.csv" -H "Content-Digest: $(digest "$T/big.csv")" \
		-o "$T/receipt" -w '%{http_code}' "$URL/big.csv") || return 1
	echo "resumed with $(( ($(stat -c %s "$T/big.csv") - off) >> 20 )) MiB more: $code in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	cat "$T/receipt"; echo
	[ "$code" = 201 ] && [ "$(objects)" = 1 ] &&
	grep -q "\"size\":$(stat -c %s "$T/big.csv")," "$T/receipt" &&
	grep -q "\"sha256\":\"$(sha256sum "$T/big.csv" | cut -c1-64)\"" "$T/receipt" &&
	# Held no longer; recorded as cut, resumed, stored: once each.
	[ "$(held 131156 big.csv)" = 404 ] &&
	[ "$(grep -c '"event":"upload.suspended","actor":"muni:131156"' "$T/data/audit.log")" = 1 ] &&
	[ "$(grep -c '"event":"upload.resumed","actor":"muni:131156"' "$T/data/audit.log")" = 1 ] &&
	[ "$(grep -c '"event":"upload.stored"' "$T/data/audit.log")" = 1 ] &&
	[ -z "$(ls -A "$T/data/tmp")" ]
}

test_r51_a_resume_must_go_on_from_the_held_part_of_the_same_file() {
	local off
	[ "$(cut_off 131156 small.csv "$T/small.csv" 1000000 close)" = cut ] &&
	off=$(wait_held 131156 small.csv) && [ "$off" -gt 0 ] || return 1
	# Another city sees nothing held under the same name, and cannot go
	# on with it.
	[ "$(held 011002 small.csv)" = 404 ] && [ "$(held 141003 small.csv)" = 404 ] &&
	[ "$(curl -sS --cacert "$T/pki/internal-ca/ca.crt" --cert "$T/pki/muni-ca/issued/011002.crt" \
		--key "$T/pki/muni-ca/issued/011002.key" -C "$off" -T "$T/small.csv" \
		-o /dev/null -w '%{http_code}' "$URL/small.csv")" = 404 ] &&
	# From elsewhere: 409, with where it must go on from.
	[ "$(curl_as 131156 -C $((off - 1)) -T "$T/small.csv" -D "$T/h409" -o "$T/body" -w '%{http_code}' "$URL/small.csv")" = 409 ] &&
	grep -qi "^upload-offset: $off" "$T/h409" &&
	# Another length, another digest: 409; a malformed range: 400.
	head -c 3000001 /dev/urandom > "$T/longer.csv" &&
	[ "$(curl_as 131156 -C "$off" -T "$T/longer.csv" -o /dev/null -w '%{http_code}' "$URL/small.csv")" = 409 ] &&
	[ "$(curl_as 131156 -C "$off" -T "$T/small.csv" -H "Content-Digest: $(digest "$T/other.csv")" \
		-H "Content-Digest: $(digest "$T/small.csv")" -o /dev/null -w '%{http_code}' "$URL/small.csv")" != 201 ] &&
	[ "$(curl_as 131156 -X PUT -H 'Content-Range: bytes 5-x/9' --data-binary 1234 -o /dev/null -w '%{http_code}' "$URL/small.csv")" = 400 ] &&
	# None of that lost what is held.
	[ "$(held 131156 small.csv)" = "$off" ] &&
	# The rest of another file of the same length, with the whole
	# file's digest: refused at the end, nothing kept.
	[ "$(curl_as 131156 -C "$off" -T "$T/other.csv" -H "Content-Digest: $(digest "$T/small.csv")" \
		-o "$T/body" -w '%{http_code}' "$URL/small.csv")" = 400 ] &&
	grep -q 'Content-Digest does not match' "$T/body" &&
	[ "$(objects)" = 1 ] && [ "$(held 131156 small.csv)" = 404 ] &&
	# Nothing held: a Content-Range is refused, with what to do.
	[ "$(curl_as 131156 -C 1000 -T "$T/small.csv" -o "$T/body" -w '%{http_code}' "$URL/small.csv")" = 404 ] &&
	grep -q 'send it whole' "$T/body" &&
	grep -q '"error_ja":"このファイルの続きを送る元が保持されていません' "$T/body"
}

# The row count and the digest go on where the cut was, mid-record: the
# receipt says what it says for the same file sent in one go.
test_r51_the_receipts_rows_go_on_across_a_cut_in_a_record() {
	local off
	python3 -c '
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("id,note\r\n")
    for i in range(60000):
        f.write("%d,\"line %d\r\nwithin quotes\"\r\n" % (i, i))
' "$T/rows.csv" || return 1
	[ "$(cut_off 131156 rows.csv "$T/rows.csv" 500003 close)" = cut ] &&
	off=$(wait_held 131156 rows.csv) && [ "$off" -gt 0 ] &&
	[ "$(curl_as 131156 -C "$off" -T "$T/rows.csv" -o "$T/r1" -w '%{http_code}' "$URL/rows.csv")" = 201 ] &&
	[ "$(curl_as 131156 -T "$T/rows.csv" -o "$T/r2" -w '%{http_code}' "$URL/rows-whole.csv")" = 201 ] &&
	cat "$T/r1" && echo &&
	grep -q '"rows":60001,' "$T/r1" && grep -q '"rows":60001,' "$T/r2" &&
	[ "$(grep -o '"sha256":"[0-9a-f]*"' "$T/r1")" = "$(grep -o '"sha256":"[0-9a-f]*"' "$T/r2")" ]
}

test_r51_a_stalled_upload_gets_408_with_the_offset_and_is_held() {
	local out
	out=$(cut_off 131156 stall.csv "$T/small.csv" 2000000 stall)
	echo "stalled: $(echo $out)"
	[ "$(echo "$out" | head -1)" = 408 ] &&
	[ "$(echo "$out" | sed -n 2p)" = "$(held 131156 stall.csv)" ] &&
	# Sent whole again instead: the held part goes, one receipt.
	[ "$(curl_as 131156 -T "$T/small.csv" -o /dev/null -w '%{http_code}' "$URL/stall.csv")" = 201 ] &&
	[ "$(held 131156 stall.csv)" = 404 ] &&
	grep -q '"event":"upload.truncated".*held=[0-9]* the same name sent whole again' "$T/data/audit.log"
}

# The clerk's script (deploy/clients/sekisho-upload.sh) asks what is held
# and sends the rest by itself; a refusal ends it at once with the error.
test_r51_the_clerks_script_goes_on_after_a_cut() {
	local script="$TOP/deploy/clients/sekisho-upload.sh" args rc=0
	args=(--gateway "https://127.0.0.1:$PORT" --cert "$T/pki/muni-ca/issued/131156.crt"
		--key "$T/pki/muni-ca/issued/131156.key" --cacert "$T/pki/internal-ca/ca.crt")
	cp "$T/other.csv" "$T/健診 script.csv" &&
	[ "$(cut_off 131156 '%E5%81%A5%E8%A8%BA%20script.csv' "$T/健診 script.csv" 1500000 close)" = cut ] &&
	wait_held 131156 '%E5%81%A5%E8%A8%BA%20script.csv' >/dev/null || return 1
	"$script" "${args[@]}" --dataset health-checkup "$T/健診 script.csv" \
		> "$T/receipt" 2> "$T/err" || { cat "$T/err"; return 1; }
	cat "$T/err" "$T/receipt"; echo
	grep -q 'the gateway holds [0-9]* of 3000000 bytes; sending the rest' "$T/err" &&
	grep -q '"filename":"健診 script.csv"' "$T/receipt" &&
	grep -q "\"sha256\":\"$(sha256sum "$T/other.csv" | cut -c1-64)\"" "$T/receipt" || return 1
	"$script" "${args[@]}" --dataset no-such-dataset "$T/other.csv" \
		> /dev/null 2> "$T/err" || rc=$?
	[ "$rc" = 1 ] && grep -q 'unknown dataset' "$T/err"
}

test_r20_what_is_held_goes_when_its_time_passes_or_at_a_restart() {
	[ "$(cut_off 131156 gone.csv "$T/other.csv" 1000000 close)" = cut ] &&
	wait_held 131156 gone.csv >/dev/null || return 1
	stop_receiver
	# A restart: nothing of it survives; the temporary file is removed.
	write_local "${LIMITS/resume_seconds = 120/resume_seconds = 2}" &&
	start_receiver && [ "$(held 131156 gone.csv)" = 404 ] &&
	[ -z "$(ls -A "$T/data/tmp")" ] || return 1
	# resume_seconds = 2: held, then dropped by itself, on record.
	[ "$(cut_off 131156 late.csv "$T/other.csv" 1000000 close)" = cut ] &&
	wait_held 131156 late.csv >/dev/null &&
	sleep 3 && [ "$(held 131156 late.csv)" = 404 ] &&
	grep -q '"event":"upload.truncated".*not resumed within resume_seconds' "$T/data/audit.log" &&
	[ -z "$(ls -A "$T/data/tmp")" ] &&
	# Never a file name in the log.
	! grep -q 'late.csv\|big.csv' "$T/data/audit.log"
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
