#!/usr/bin/env bash
# test_sender.sh: sekisho-sender with real curl and openssl. The test plays
# the vault on the internal listener (curl with the vault's certificate)
# and the recipients on the external one.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
EXT=$((PORT + 2))
INT=$((PORT + 3))
P=$T/pki
CA=$P/internal-ca/ca.crt

setup() {
	mkdir -p "$P"
	"$PKI" "$P" init-ca muni-ca "Sekisho test municipalities CA"
	"$PKI" "$P" init-ca recip-ca "Sekisho test recipients CA"
	"$PKI" "$P" init-ca internal-ca "Sekisho test internal CA"
	"$PKI" "$P" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 --dns localhost
	"$PKI" "$P" issue internal-ca vault --uri urn:sekisho:host:vault
	"$PKI" "$P" issue muni-ca 131156 --uri urn:sekisho:muni:131156
	local r
	for r in univ-a univ-b univ-c; do
		"$PKI" "$P" issue recip-ca "$r" --uri "urn:sekisho:recip:$r"
	done
	write_site "$PORT"
	# Replace the recipients: B has tight download thresholds of its own,
	# C takes only CMS envelopes sealed to its certificate.
	python3 - "$T/site.conf" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s[:s.index("recipients = (")] + """downloads = { window = 3600; warn_bytes = 1073741824L; limit_bytes = 4294967296L; };
recipients = (
  { id = "univ-a"; identity = "urn:sekisho:recip:univ-a"; networks = [ "127.0.0.0/8" ]; },
  { id = "univ-b"; identity = "urn:sekisho:recip:univ-b"; networks = [ "127.0.0.0/8" ];
    downloads = { warn_bytes = 3000000L; limit_bytes = 5000000L; }; },
  { id = "univ-c"; identity = "urn:sekisho:recip:univ-c"; networks = [ "127.0.0.0/8" ];
    envelope = true; certificate = "pki/recip-ca/issued/univ-c.crt"; }
);
"""
open(p, "w").write(s)
PY
	write_sender_local
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null
}

digest() { echo "sha-256=:$(openssl dgst -sha256 -binary "$1" | base64 -w0):"; }
in_secs() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

# publish ID FILE RECIPIENTS EXPIRES [CURL ARGS...]: as the vault; prints
# the HTTP status.
publish() {
	local id=$1 file=$2 recips=$3 expires=$4; shift 4
	curl -sS -o "$T/pub.out" -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" \
		-H "Content-Digest: $(digest "$file")" \
		-H "Sekisho-Dataset: health-checkup" \
		-H "Sekisho-Recipients: $recips" -H "Sekisho-Expires: $expires" \
		"$@" -T "$file" "https://127.0.0.1:$INT/v1/releases/$id"
}

# as RECIPIENT CURL ARGS...: curl with a recipient's certificate.
as() {
	local r=$1; shift
	curl -sS --cacert "$CA" --cert "$P/recip-ca/issued/$r.crt" \
		--key "$P/recip-ca/issued/$r.key" "$@"
}
URL="https://127.0.0.1:$EXT/v1/releases"

test_r03_publish_list_and_download() {
	head -c 5000000 /dev/urandom > "$T/rel1"
	[ "$(publish rel-1 "$T/rel1" univ-a,univ-b "$(in_secs 3600)")" = 201 ] ||
		return 1
	as univ-a "$URL" > "$T/list-a" &&
	python3 - "$T/list-a" "$(sha256sum < "$T/rel1" | cut -c1-64)" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["releases"] if x["id"] == "rel-1"]
assert len(r) == 1 and r[0]["size"] == 5000000 and r[0]["sha256"] == sys.argv[2], d
assert r[0]["dataset"] == "health-checkup" and r[0]["downloads_left"] is None
PY
	as univ-a -D "$T/h1" -o "$T/got1" "$URL/rel-1" &&
	cmp "$T/rel1" "$T/got1" &&
	grep -qi "^etag: \"$(sha256sum < "$T/rel1" | cut -c1-64)\"" "$T/h1" &&
	grep -qi "^content-digest: $(digest "$T/rel1")" "$T/h1" &&
	grep -q '"event":"download.completed"' "$T/sdata/audit.log"
}

test_r03_resume_interrupted_download() {
	local code
	head -c 67108864 /dev/urandom > "$T/big"
	[ "$(publish big "$T/big" univ-a "$(in_secs 3600)")" = 201 ] || return 1
	# Cut it off halfway: a slow transfer stopped after a second.
	as univ-a --limit-rate 16M --max-time 1 -o "$T/part" "$URL/big" 2>/dev/null
	local have; have=$(stat -c %s "$T/part")
	echo "interrupted after $have of 67108864 bytes"
	[ "$have" -gt 0 ] && [ "$have" -lt 67108864 ] || return 1
	code=$(as univ-a -C - -o "$T/part" -w '%{http_code}' "$URL/big") &&
	[ "$code" = 206 ] &&
	[ "$(sha256sum < "$T/part")" = "$(sha256sum < "$T/big")" ] &&
	grep -q '"event":"download.incomplete","actor":"recip:univ-a","object":"big"' \
		"$T/sdata/audit.log" &&
	grep -q '"event":"download.completed","actor":"recip:univ-a","object":"big".*"detail":"range='"$have"'-67108863/67108864' \
		"$T/sdata/audit.log"
}

test_r10_other_recipient_cannot_list_or_fetch() {
	local c1 c2
	head -c 1000 /dev/urandom > "$T/only-a"
	[ "$(publish only-a "$T/only-a" univ-a "$(in_secs 3600)")" = 201 ] ||
		return 1
	as univ-b "$URL" > "$T/list-b" && ! grep -q '"only-a"' "$T/list-b" &&
	c1=$(as univ-b -o "$T/b1" -w '%{http_code}' "$URL/only-a") &&
	c2=$(as univ-b -o "$T/b2" -w '%{http_code}' "$URL/no-such-release") &&
	[ "$c1" = 404 ] && [ "$c2" = 404 ] && cmp "$T/b1" "$T/b2"
}

# Every refusal comes before the body is read: curl never gets to send a
# 64 MB body, and the answer is 400.
test_r03_bodies_and_other_methods_refused() {
	local out
	head -c 67108864 /dev/zero > "$T/zeros"
	out=$(as univ-a -X GET --data-binary @"$T/zeros" -o /dev/null \
		-w '%{http_code} %{size_upload}' "$URL/rel-1")
	echo "GET with a body: $out"
	[ "${out%% *}" = 400 ] && [ "${out#* }" -lt 67108864 ] || return 1
	out=$(head -c 100000 /dev/zero | as univ-a -X GET -H "Transfer-Encoding: chunked" \
		-T - -o /dev/null -w '%{http_code}' "$URL/rel-1")
	[ "$out" = 400 ] || { echo "chunked: $out"; return 1; }
	out=$(as univ-a -T "$T/zeros" -o /dev/null \
		-w '%{http_code} %{size_upload}' "$URL/rel-1")
	echo "PUT: $out"
	[ "${out%% *}" = 400 ] && [ "${out#* }" -lt 67108864 ] || return 1
	out=$(as univ-a -X POST --data-binary @"$T/zeros" -o /dev/null \
		-w '%{http_code} %{size_upload}' "$URL")
	echo "POST: $out"
	[ "${out%% *}" = 400 ] && [ "${out#* }" -lt 67108864 ] || return 1
	[ "$(as univ-a -X PUT -o /dev/null -w '%{http_code}' "$URL/rel-1")" = 405 ] &&
	[ "$(as univ-a -X DELETE -o /dev/null -w '%{http_code}' "$URL/rel-1")" = 405 ] &&
	[ "$(as univ-a -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" \
		-o /dev/null -w '%{http_code}' "$URL")" = 431 ]
}

test_r03_wrong_certificates_refused_in_handshake() {
	local i
	# A municipality's certificate and the vault's on the external
	# listener, a recipient's on the internal one: no HTTP at all.
	! curl -sS --cacert "$CA" --cert "$P/muni-ca/issued/131156.crt" \
		--key "$P/muni-ca/issued/131156.key" -o /dev/null "$URL" 2>/dev/null &&
	! curl -sS --cacert "$CA" --cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -o /dev/null "$URL" 2>/dev/null &&
	! as univ-a -o /dev/null "https://127.0.0.1:$INT/v1/releases" 2>/dev/null &&
	# Refusals are written as counts once a second here: within a few.
	for i in $(seq 1 50); do
		[ "$(refusal_count tls.refused "$T/sdata/audit.log")" -ge 3 ] && return 0
		sleep 0.2
	done
	return 1
}

# R16: univ-b may have 3 MB before a warning and 5 MB in the window.
test_r16_warning_threshold_and_hard_limit() {
	local code
	head -c 2000000 /dev/urandom > "$T/two"
	[ "$(publish two "$T/two" univ-b "$(in_secs 3600)")" = 201 ] || return 1
	[ "$(as univ-b -o /dev/null -w '%{http_code}' "$URL/two")" = 200 ] &&
	! grep -q '"event":"download.alert"' "$T/sdata/audit.log" &&
	[ "$(as univ-b -o /dev/null -w '%{http_code}' "$URL/two")" = 200 ] &&
	grep -q '"event":"download.alert","actor":"recip:univ-b"' \
		"$T/sdata/audit.log" &&
	grep -q 'ALERT (R16): recip:univ-b' "$T/sender.log" || return 1
	code=$(as univ-b -D "$T/h429" -o /dev/null -w '%{http_code}' "$URL/two")
	[ "$code" = 429 ] && grep -qi '^retry-after: [0-9]' "$T/h429" &&
	grep -q 'download limit reached' "$T/sdata/audit.log" &&
	# A range that fits is still allowed; HEAD is not a download.
	[ "$(as univ-b -r 0-999 -o /dev/null -w '%{http_code}' "$URL/two")" = 206 ] &&
	[ "$(as univ-b -I -o /dev/null -w '%{http_code}' "$URL/two")" = 200 ]
}

test_r16_max_downloads_per_release() {
	head -c 1000 /dev/urandom > "$T/once"
	[ "$(publish once "$T/once" univ-a "$(in_secs 3600)" \
		-H "Sekisho-Max-Downloads: 1")" = 201 ] || return 1
	[ "$(as univ-a -o /dev/null -w '%{http_code}' "$URL/once")" = 200 ] &&
	[ "$(as univ-a -o /dev/null -w '%{http_code}' "$URL/once")" = 403 ] &&
	as univ-a "$URL" | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin)["releases"] if x["id"] == "once"]
assert r[0]["downloads_left"] == 0, r'
}

test_publish_is_checked_and_idempotent() {
	head -c 3000 /dev/urandom > "$T/p1"
	head -c 3000 /dev/urandom > "$T/p2"
	# A body that does not match its digest keeps nothing.
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" \
		-H "Content-Digest: $(digest "$T/p2")" \
		-H "Sekisho-Dataset: health-checkup" -H "Sekisho-Recipients: univ-a" \
		-H "Sekisho-Expires: $(in_secs 60)" -T "$T/p1" \
		"https://127.0.0.1:$INT/v1/releases/p")" = 400 ] &&
	[ ! -e "$T/sdata/objects/p" ] &&
	[ "$(publish p "$T/p1" univ-a "$(in_secs 60)")" = 201 ] &&
	[ "$(publish p "$T/p1" univ-a "$(in_secs 60)")" = 200 ] &&
	[ "$(publish p "$T/p2" univ-a "$(in_secs 60)")" = 409 ] &&
	[ "$(publish q "$T/p1" nobody "$(in_secs 60)")" = 400 ] &&
	[ "$(publish q "$T/p1" univ-a "2020-01-01T00:00:00Z")" = 400 ] &&
	ls "$T/sdata/tmp" | wc -l | grep -qx 0
}

test_r33_expired_release_is_gone() {
	local code end=$(( $(date +%s) + 4 ))
	head -c 1000 /dev/urandom > "$T/short"
	# Four seconds (at least three: the date is whole seconds) to be
	# published and fetched once under the sanitizers; then past its end.
	[ "$(publish short "$T/short" univ-a "$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)")" = 201 ] || return 1
	[ "$(as univ-a -o /dev/null -w '%{http_code}' "$URL/short")" = 200 ] || return 1
	while [ "$(date +%s)" -le "$end" ]; do sleep 0.2; done
	code=$(as univ-a -o "$T/gone" -w '%{http_code}' "$URL/short") &&
	[ "$code" = 410 ] && grep -q expired "$T/gone" &&
	[ ! -e "$T/sdata/objects/short" ] &&
	! as univ-a "$URL" | grep -q '"short"' &&
	grep -q '"object":"short".*reason=expired' "$T/sdata/audit.log" &&
	# Not addressed to B: still 404 for it, gone or not.
	[ "$(as univ-b -o /dev/null -w '%{http_code}' "$URL/short")" = 404 ]
}

test_r33_expiry_while_the_sender_is_down() {
	local i
	head -c 1000 /dev/urandom > "$T/down"
	[ "$(publish down "$T/down" univ-a "$(in_secs 2)")" = 201 ] || return 1
	stop_sender
	[ -e "$T/sdata/objects/down" ] || return 1
	sleep 3
	start_sender || return 1
	# The store disposes of it as it starts, beside the net process that
	# says it listens: wait for the one, not the other.
	for i in $(seq 1 50); do
		[ -e "$T/sdata/objects/down" ] || break
		sleep 0.1
	done
	[ ! -e "$T/sdata/objects/down" ] &&
	grep -q '"object":"down".*reason=expired' "$T/sdata/audit.log" &&
	# What was there and still valid survived the restart.
	as univ-a -o "$T/again" "$URL/rel-1" && cmp "$T/rel1" "$T/again"
}

test_withdrawal_by_the_vault() {
	head -c 1000 /dev/urandom > "$T/wd"
	[ "$(publish wd "$T/wd" univ-a "$(in_secs 3600)")" = 201 ] || return 1
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -X DELETE \
		"https://127.0.0.1:$INT/v1/releases/wd")" = 200 ] &&
	[ "$(as univ-a -o "$T/wd.out" -w '%{http_code}' "$URL/wd")" = 410 ] &&
	grep -q withdrawn "$T/wd.out" && [ ! -e "$T/sdata/objects/wd" ]
}

# R33 (issue 14, item 5): a withdrawal ends every download of the release
# in progress at once, and so does its expiry; the part already sent is
# all the recipient gets, and the disposal's entry counts the cuts.
test_r33_withdrawal_and_expiry_cut_downloads_in_progress() {
	local pid t0 t1 size
	head -c 40000000 /dev/urandom > "$T/big40"
	[ "$(publish cut "$T/big40" univ-a "$(in_secs 3600)")" = 201 ] || return 1
	as univ-a --limit-rate 2M -o "$T/cut.part" "$URL/cut" 2>/dev/null &
	pid=$!
	sleep 2
	t0=$(date +%s%N)
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -X DELETE \
		"https://127.0.0.1:$INT/v1/releases/cut")" = 200 ] || return 1
	# The sender stops sending at once (what is already in the socket
	# buffers still reaches curl, at its own limited rate).
	local i
	for i in $(seq 1 60); do
		grep -q 'release cut: the download by univ-a was cut (withdrawn)' \
			"$T/sender.log" && break
		sleep 0.05
	done
	t1=$(date +%s%N)
	grep 'release cut: the download by univ-a was cut' "$T/sender.log" || return 1
	wait "$pid"
	size=$(stat -c %s "$T/cut.part")
	echo "withdrawn 2 s into a 20 s download: the sender stopped $(( (t1 - t0) / 1000000 )) ms later; curl got $size of 40000000 bytes"
	[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] && [ "$size" -lt 20000000 ] &&
	grep -q '"object":"cut".*reason=withdrawn.*downloads_cut=1' \
		"$T/sdata/audit.log" || return 1
	[ "$(publish cutx "$T/big40" univ-a "$(in_secs 3)")" = 201 ] || return 1
	t0=$(date +%s)
	as univ-a --limit-rate 2M -o "$T/cutx.part" "$URL/cutx" 2>/dev/null &
	pid=$!
	wait "$pid"
	t1=$(date +%s)
	size=$(stat -c %s "$T/cutx.part")
	echo "expiring 3 s into a 20 s download: it ended after $((t1 - t0)) s, with $size bytes"
	[ $((t1 - t0)) -le 6 ] && [ "$size" -lt 20000000 ] &&
	grep -q '"object":"cutx".*reason=expired' "$T/sdata/audit.log"
}

# univ-c takes only envelopes; it opens one with openssl cms -decrypt.
test_envelope_to_the_recipients_certificate() {
	local c
	printf 'age_band,sex,bmi_band\n40-44,F,22-24\n' > "$T/plain.csv"
	[ "$(publish env "$T/plain.csv" univ-c "$(in_secs 3600)")" = 400 ] &&
	grep -q 'only CMS envelopes' "$T/pub.out" || return 1
	openssl cms -encrypt -aes-256-gcm -binary -outform DER \
		-recip "$P/recip-ca/issued/univ-c.crt" -in "$T/plain.csv" \
		-out "$T/plain.csv.cms" &&
	[ "$(publish env "$T/plain.csv.cms" univ-c "$(in_secs 3600)" \
		-H "Sekisho-Filename: plain.csv.cms")" = 201 ] &&
	c=$(as univ-c -o "$T/got.cms" -w '%{http_code}' "$URL/env") && [ "$c" = 200 ] &&
	openssl cms -decrypt -binary -inform DER -in "$T/got.cms" \
		-recip "$P/recip-ca/issued/univ-c.crt" \
		-inkey "$P/recip-ca/issued/univ-c.key" -out "$T/opened.csv" &&
	cmp "$T/plain.csv" "$T/opened.csv" &&
	# The sender holds only ciphertext.
	! grep -rq 'bmi_band' "$T/sdata"
}

test_audit_log_verifies() {
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null
}

# R50 (issue 14, item 1): the sender's audit log on a tiny tmpfs of its
# own mount namespace, filled: publishing and downloads get 503 and nothing
# is kept; once space returns it resumes by itself, and the first entry
# records the gap. (Last: it leaves the sender on the tmpfs log.)
test_r50_sender_stops_while_its_audit_log_is_full_then_resumes() {
	local i code got503=0 before
	stop_sender
	mkdir -p "$T/sauditfs"
	echo 'audit: { log = "sauditfs/audit.log"; key = "sauditfs/audit.key0"; };' \
		>> "$T/sender.conf"
	before=$(grep -c 'listening on' "$T/sender.log")
	unshare -m --propagation private sh -c \
		"mount -t tmpfs -o size=256k tmpfs '$T/sauditfs' && exec '$BIN/sekisho-sender' -c '$T/sender.conf' run" \
		>>"$T/sender.log" 2>&1 &
	SENDER_PID=$!
	PIDS+=("$SENDER_PID")
	wait_listening "$SENDER_PID" "$T/sender.log" "$before" || return 1
	nsenter -t "$SENDER_PID" -m dd if=/dev/zero of="$T/sauditfs/fill" bs=4k 2>/dev/null
	head -c 1000 /dev/urandom > "$T/r50"
	for i in $(seq 1 40); do
		code=$(publish "r50-$i" "$T/r50" univ-a "$(in_secs 3600)")
		[ "$code" = 503 ] && { got503=1; break; }
	done
	echo "the log filled up at publication $i"
	[ "$got503" = 1 ] && [ ! -e "$T/sdata/objects/r50-$i" ] &&
	[ "$(as univ-a -o /dev/null -w '%{http_code}' "$URL")" = 503 ] || return 1
	nsenter -t "$SENDER_PID" -m rm -f "$T/sauditfs/fill"
	for i in $(seq 1 10); do
		code=$(publish r50-after "$T/r50" univ-a "$(in_secs 3600)")
		[ "$code" = 201 ] && break
		sleep 0.5
	done
	echo "after space returned: $code"
	[ "$code" = 201 ] &&
	nsenter -t "$SENDER_PID" -m grep -q '"event":"audit.resumed".*entries_not_written=[1-9]' \
		"$T/sauditfs/audit.log" &&
	nsenter -t "$SENDER_PID" -m "$BIN/sekisho-sender" audit verify \
		"$T/sauditfs/audit.log" --key "$T/sauditfs/audit.key0" >/dev/null &&
	grep -q 'work resumes (R50)' "$T/sender.log"
}

setup >/dev/null || { echo "setup failed"; exit 1; }
start_sender || exit 1
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
stop_sender
summary
