#!/usr/bin/env bash
# test_r03_push_delivery.sh: push mode (R03: the sending server has no
# function of receiving from outside). A recipient with delivery = "push"
# gets each release PUT to its own endpoint, here Debian's nginx as a
# WebDAV PUT server that asks for a client certificate of the internal CA
# (the sender's), on loopback; the sender checks the endpoint's server
# certificate against the recipient's own CA and the name it must carry.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
EXT=$((PORT + 2))
INT=$((PORT + 3))
NPORT=$(free_port)
P=$T/pki
CA=$P/internal-ca/ca.crt
NAME=push.univ-b.example

setup() {
	mkdir -p "$P"
	"$PKI" "$P" init-ca muni-ca "Sekisho test municipalities CA"
	"$PKI" "$P" init-ca recip-ca "Sekisho test recipients CA"
	"$PKI" "$P" init-ca internal-ca "Sekisho test internal CA"
	# The recipient's own CA for its server, and someone else's.
	"$PKI" "$P" init-ca univ-b-ca "Univ B's own server CA"
	"$PKI" "$P" init-ca rogue-ca "Someone else's CA"
	"$PKI" "$P" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 --dns localhost
	"$PKI" "$P" issue internal-ca vault --uri urn:sekisho:host:vault
	"$PKI" "$P" issue recip-ca univ-a --uri urn:sekisho:recip:univ-a
	"$PKI" "$P" issue univ-b-ca endpoint --server --dns "$NAME" --ip 127.0.0.1
	"$PKI" "$P" issue univ-b-ca other-name --server --dns other.univ-b.example \
		--ip 127.0.0.1
	"$PKI" "$P" issue rogue-ca endpoint --server --dns "$NAME" --ip 127.0.0.1
	write_site "$PORT"
}

# site MODE: univ-a pulls and univ-b is pushed to ("mixed"), or univ-b
# alone ("push").
site() {
	python3 - "$T/site.conf" "$1" "$NPORT" "$NAME" <<'PY'
import sys
p, mode, port, name = sys.argv[1:]
s = open(p).read()
s = s[:s.index("recipients = (")]
b = ('  { id = "univ-b"; identity = "urn:sekisho:recip:univ-b"; networks = [ "127.0.0.0/8" ];\n'
     '    delivery = "push"; endpoint = "https://127.0.0.1:%s/incoming/";\n'
     '    endpoint_ca = "pki/univ-b-ca/ca.crt"; endpoint_name = "%s"; }\n' % (port, name))
a = '  { id = "univ-a"; identity = "urn:sekisho:recip:univ-a"; networks = [ "127.0.0.0/8" ]; },\n'
s += "recipients = (\n" + (a if mode == "mixed" else "") + b + ");\n"
open(p, "w").write(s)
PY
}

# nginx_up [CERT-CA [CERT-NAME]]: the endpoint, with the server
# certificate of univ-b-ca/endpoint unless told otherwise; it logs each
# request's method, path, status and Content-Digest.
nginx_up() {
	local ca=${1:-univ-b-ca} crt=${2:-endpoint} d=$T/nginx
	dav_endpoint_conf "$d" "127.0.0.1:$NPORT" "$P/$ca/issued/$crt.crt" \
		"$P/$ca/issued/$crt.key" "$CA" "${MAXBODY:-1g}" || return 1
	nginx -c "$d/nginx.conf" &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	local i
	for i in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/"$NPORT") 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$d/error.log"
	return 1
}

nginx_down() {
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}

digest() { echo "sha-256=:$(openssl dgst -sha256 -binary "$1" | base64 -w0):"; }
in_secs() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

# publish ID FILE RECIPIENTS: as the vault, for an hour.
publish() {
	curl -sS -o "$T/pub.out" -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" \
		-H "Content-Digest: $(digest "$2")" \
		-H "Sekisho-Dataset: health-checkup" -H "Sekisho-Filename: $1.csv" \
		-H "Sekisho-Recipients: $3" -H "Sekisho-Expires: $(in_secs 3600)" \
		"${@:4}" -T "$2" "https://127.0.0.1:$INT/v1/releases/$1"
}

withdraw() {
	curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -X DELETE \
		"https://127.0.0.1:$INT/v1/releases/$1"
}

start() {
	write_role_local sender sdata \
		"max_connections = 64; read_timeout = 30; disk_reserve = 0L; refusal_interval = 1; push_retry = 1;"
	rm -rf "$T/sdata"
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null &&
	start_sender
}

# A mixed site: the push recipient's nginx receives the release byte for
# byte, with a Content-Digest that verifies and the sender's certificate;
# the pull recipient downloads the same release as before.
test_r03_push_delivers_byte_for_byte_and_pull_still_works() {
	site mixed && nginx_up && start || return 1
	head -c 3000000 /dev/urandom > "$T/r1"
	[ "$(publish r1 "$T/r1" univ-a,univ-b)" = 201 ] || { cat "$T/pub.out"; return 1; }
	wait_for '"event":"release.delivered".*"object":"r1"' "$T/sdata/audit.log" ||
		{ cat "$T/sender.log"; return 1; }
	cmp "$T/r1" "$T/nginx/root/incoming/r1/r1.csv" &&
	grep -q "^PUT /incoming/r1/r1.csv 201 $(digest "$T/r1") .*CN=sender" \
		"$T/nginx/access.log" || { cat "$T/nginx/access.log"; return 1; }
	curl -sS --cacert "$CA" --cert "$P/recip-ca/issued/univ-a.crt" \
		--key "$P/recip-ca/issued/univ-a.key" -o "$T/r1.a" \
		"https://127.0.0.1:$EXT/v1/releases/r1" && cmp "$T/r1" "$T/r1.a" &&
	[ "$(grep -c '^PUT /incoming/r1/r1.csv' "$T/nginx/access.log")" = 1 ]
}

# The endpoint down for a while, then up: delivered once, the failures
# audited with the next try.
test_r03_endpoint_down_then_up_delivered_once() {
	nginx_down
	head -c 100000 /dev/urandom > "$T/r2"
	[ "$(publish r2 "$T/r2" univ-b)" = 201 ] || return 1
	wait_for '"event":"push.failed".*"object":"r2".*status=0 attempts=2' \
		"$T/sdata/audit.log" || return 1
	nginx_up &&
	wait_for '"event":"release.delivered".*"object":"r2"' "$T/sdata/audit.log" 30 &&
	cmp "$T/r2" "$T/nginx/root/incoming/r2/r2.csv" || return 1
	sleep 3
	[ "$(grep -c '^PUT /incoming/r2/r2.csv' "$T/nginx/access.log")" = 1 ] &&
	[ "$(grep -c '"event":"release.delivered".*"object":"r2"' "$T/sdata/audit.log")" = 1 ]
}

# Withdrawn before the endpoint came back: never delivered.
test_r03_withdrawal_before_delivery_cancels_it() {
	nginx_down
	head -c 100000 /dev/urandom > "$T/r3"
	[ "$(publish r3 "$T/r3" univ-b)" = 201 ] &&
	wait_for '"event":"push.failed".*"object":"r3"' "$T/sdata/audit.log" &&
	[ "$(withdraw r3)" = 200 ] &&
	grep -q '"event":"push.cancelled".*"object":"r3".*reason=withdrawn' \
		"$T/sdata/audit.log" || return 1
	nginx_up && sleep 4
	[ ! -e "$T/nginx/root/incoming/r3/r3.csv" ] &&
	! grep -q '/incoming/r3/r3.csv' "$T/nginx/access.log"
}

# R33: a withdrawal in the middle of a push stops it: the push process
# asks the store every second whether the release is still due, and cuts
# the transfer when it is not. The endpoint here reads slowly (about
# 1 MB/s), as one behind a busy line would.
test_r33_withdrawal_cuts_a_push_in_progress() {
	local i got t0 t1
	nginx_down
	cat > "$T/slow_endpoint.py" <<'PY'
import socket, ssl, sys, time
port, crt, key, ca, log = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(crt, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port)))
srv.listen(4)
while True:
    raw, _ = srv.accept()
    n = 0
    try:
        c = ctx.wrap_socket(raw, server_side=True)
        head = b""
        while b"\r\n\r\n" not in head:
            head += c.recv(4096)
        head, body = head.split(b"\r\n\r\n", 1)
        if b"100-continue" in head.lower():
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        n = len(body)
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
            open(log, "w").write("%d\n" % n)
            time.sleep(0.06)
    except (OSError, ssl.SSLError):
        pass
    open(log, "w").write("%d closed\n" % n)
PY
	python3 "$T/slow_endpoint.py" "$NPORT" "$P/univ-b-ca/issued/endpoint.crt" \
		"$P/univ-b-ca/issued/endpoint.key" "$CA" "$T/slow.log" &
	SLOW_PID=$!
	PIDS+=("$SLOW_PID")
	head -c 30000000 /dev/urandom > "$T/r8"
	[ "$(publish r8 "$T/r8" univ-b)" = 201 ] || return 1
	for i in $(seq 1 100); do
		got=$(cut -d' ' -f1 "$T/slow.log" 2>/dev/null)
		[ "${got:-0}" -gt 2000000 ] && break
		sleep 0.1
	done
	[ "${got:-0}" -gt 2000000 ] || { echo "the push did not start"; return 1; }
	t0=$(date +%s%N)
	[ "$(withdraw r8)" = 200 ] &&
	wait_for 'release r8: withdrawn or expired while it was pushed to univ-b; cut after' \
		"$T/sender.log" 10 || return 1
	t1=$(date +%s%N)
	# What was in the socket buffers still trickles in; then nothing.
	sleep 3
	kill "$SLOW_PID" 2>/dev/null
	wait "$SLOW_PID" 2>/dev/null
	nginx_up || return 1
	echo "withdrawn with $got bytes at the endpoint; the push stopped $(( (t1 - t0) / 1000000 )) ms later; $(grep -o 'cut after [0-9]* bytes' "$T/sender.log" | tail -1) of 30000000"
	[ "$(grep -o 'cut after [0-9]* bytes' "$T/sender.log" | tail -1 | cut -d' ' -f3)" -lt 20000000 ] &&
	[ "$(cut -d' ' -f1 "$T/slow.log")" -lt 20000000 ] &&
	! grep -q '"event":"release.delivered".*"object":"r8"' "$T/sdata/audit.log" &&
	grep -q '"event":"push.cancelled".*"object":"r8".*reason=withdrawn' "$T/sdata/audit.log"
}

# An endpoint whose certificate comes from another CA, or names another
# host: refused in the handshake, audited, nothing sent.
test_r03_endpoint_with_the_wrong_certificate_is_refused() {
	local c
	for c in "rogue-ca endpoint" "univ-b-ca other-name"; do
		nginx_down
		# shellcheck disable=SC2086
		nginx_up $c || return 1
		head -c 1000 /dev/urandom > "$T/r4"
		rm -f "$T/nginx/access.log"
		local id=r4${c%% *}
		id=${id//-/}
		[ "$(publish "$id" "$T/r4" univ-b)" = 201 ] || return 1
		wait_for "\"event\":\"push.failed\".*\"object\":\"$id\".*why=TLS handshake with $NAME failed" \
			"$T/sdata/audit.log" || { cat "$T/sender.log"; return 1; }
		[ ! -e "$T/nginx/root/incoming/$id/$id.csv" ] || return 1
		[ "$(withdraw "$id")" = 200 ] || return 1
	done
	nginx_down
	nginx_up
}

# An endpoint whose certificate its own CA has revoked (the site names
# that CA's CRL, endpoint_crl): the handshake ends, the failure is on
# record, nothing is delivered.
test_r03_endpoint_with_a_revoked_certificate_is_refused() {
	local out
	stop_sender
	"$PKI" "$P" revoke univ-b-ca endpoint >/dev/null || return 1
	sed -i 's#endpoint_ca = "pki/univ-b-ca/ca.crt";#& endpoint_crl = "pki/univ-b-ca/crl.pem";#' \
		"$T/site.conf" && grep -q endpoint_crl "$T/site.conf" &&
	out=$("$BIN/sekisho-sender" -c "$T/sender.conf" check-config 2>&1) &&
	# The push process starts after net says it listens: wait for its line.
	start && wait_for 'univ-b: endpoint certificates checked against the CRL' \
		"$T/sender.log" 10 ||
		{ echo "$out"; return 1; }
	head -c 1000 /dev/urandom > "$T/r7"
	[ "$(publish r7 "$T/r7" univ-b)" = 201 ] &&
	wait_for '"event":"push.failed".*"object":"r7".*why=TLS handshake with' \
		"$T/sdata/audit.log" || { tail "$T/sender.log"; return 1; }
	grep -q 'certificate revoked' "$T/sender.log" &&
	[ ! -e "$T/nginx/root/incoming/r7/r7.csv" ] &&
	[ "$(withdraw r7)" = 200 ] || return 1
	# A CRL named but absent is a configuration error.
	sed -i 's#pki/univ-b-ca/crl.pem#pki/univ-b-ca/none.pem#' "$T/site.conf" &&
	! "$BIN/sekisho-sender" -c "$T/sender.conf" check-config >"$T/out" 2>&1 &&
	grep -q 'recipients.endpoint_crl.*none.pem' "$T/out" || { cat "$T/out"; return 1; }
	# The rest goes on as before, without it.
	stop_sender
	"$PKI" "$P" issue univ-b-ca endpoint --server --dns "$NAME" --ip 127.0.0.1 >/dev/null &&
	site mixed && start && nginx_down && nginx_up
}

# Issue 15: an endpoint CRL renewed on disk (here: the endpoint's
# certificate revoked after the sender started) is checked by the store,
# recorded (crl.loaded), and taken by the push process for the next
# deliveries, without a signal or a restart.
test_r03_a_renewed_endpoint_crl_is_taken_without_a_restart() {
	local starts
	stop_sender
	# The store, as its service user, reads the CRL where it lies (as
	# for the listeners' CRLs: the admin guide says so).
	chmod 755 "$P" "$P/univ-b-ca" &&
	sed -i 's#endpoint_ca = "pki/univ-b-ca/ca.crt";#& endpoint_crl = "pki/univ-b-ca/crl.pem";#' \
		"$T/site.conf" && grep -q endpoint_crl "$T/site.conf" &&
	start && wait_for 'univ-b: endpoint certificates checked against the CRL' \
		"$T/sender.log" 10 || return 1
	starts=$(grep -c 'listening on' "$T/sender.log")
	head -c 3000 /dev/urandom > "$T/r8"
	[ "$(publish r8 "$T/r8" univ-b)" = 201 ] &&
	wait_for '"event":"release.delivered".*"object":"r8"' "$T/sdata/audit.log" &&
	cmp "$T/r8" "$T/nginx/root/incoming/r8/r8.csv" || return 1
	"$PKI" "$P" revoke univ-b-ca endpoint >/dev/null &&
	wait_for '"event":"crl.loaded".*listener=univ-b' "$T/sdata/audit.log" 20 &&
	wait_for 'sender/push: info: endpoint 1: the new CRL is in use for the next deliveries' \
		"$T/sender.log" 20 || { tail -5 "$T/sender.log"; return 1; }
	head -c 3000 /dev/urandom > "$T/r9"
	[ "$(publish r9 "$T/r9" univ-b)" = 201 ] &&
	wait_for '"event":"push.failed".*"object":"r9".*why=TLS handshake with' \
		"$T/sdata/audit.log" || { tail "$T/sender.log"; return 1; }
	[ ! -e "$T/nginx/root/incoming/r9/r9.csv" ] && [ "$(withdraw r9)" = 200 ] &&
	kill -0 "$SENDER_PID" && [ "$(grep -c 'listening on' "$T/sender.log")" = "$starts" ] ||
		return 1
	stop_sender
	"$PKI" "$P" issue univ-b-ca endpoint --server --dns "$NAME" --ip 127.0.0.1 >/dev/null &&
	site mixed && start && nginx_down && nginx_up
}

# An endpoint that refuses the upload (its size limit here) says so on
# the request head (Expect: 100-continue): no body byte is sent, the
# status is audited and the delivery is tried again.
test_r03_endpoint_refusal_before_the_body() {
	nginx_down
	MAXBODY=1k nginx_up || return 1
	head -c 100000 /dev/urandom > "$T/r6"
	[ "$(publish r6 "$T/r6" univ-b)" = 201 ] &&
	wait_for '"event":"push.failed".*"object":"r6".*"size":0,.*status=413.*before the body' \
		"$T/sdata/audit.log" || { grep r6 "$T/sdata/audit.log"; return 1; }
	[ "$(withdraw r6)" = 200 ] || return 1
	nginx_down
	nginx_up
}

# The researcher's package goes with a pushed release (issues 17, 20): a
# release whose package is to follow waits for it, then the release and
# its four files land in a folder of their own, where the recipient
# checks them with sha256sum and openssl alone, as a pull recipient does.
test_r55_a_pushed_release_goes_with_its_signed_package() {
	local d=$T/nginx/root/incoming/pk1
	head -c 4000 /dev/urandom > "$T/pk1"
	[ "$(publish pk1 "$T/pk1" univ-b -H 'Sekisho-Package: 1')" = 201 ] || return 1
	sleep 2.5
	[ ! -e "$d/pk1.csv" ] &&
	! grep -q '"event":"release.delivered".*"object":"pk1"' "$T/sdata/audit.log" ||
		{ echo "pushed before its package came"; return 1; }
	# The package as the vault makes it: the files' digests, signed.
	mkdir -p "$T/pkg" && cp "$T/pk1" "$T/pkg/pk1.csv" &&
	printf '{"name":"pk1","resources":[{"path":"pk1.csv"}]}\n' > "$T/pkg/datapackage.json" &&
	printf '# pk1\n\n列の説明 / the columns\n' > "$T/pkg/codebook.md" &&
	(cd "$T/pkg" && sha256sum pk1.csv datapackage.json codebook.md > manifest) &&
	openssl cms -sign -binary -outform DER -in "$T/pkg/manifest" \
		-signer "$P/internal-ca/issued/vault.crt" \
		-inkey "$P/internal-ca/issued/vault.key" -out "$T/pkg/manifest.p7s" &&
	python3 - "$T/pkg" > "$T/pkg.json" <<'PY' || return 1
import base64, json, os, sys
d = sys.argv[1]
r = lambda n: open(os.path.join(d, n), "rb").read()
print(json.dumps({"manifest": r("manifest").decode(),
                  "manifest.p7s": base64.b64encode(r("manifest.p7s")).decode(),
                  "datapackage.json": r("datapackage.json").decode(),
                  "codebook.md": r("codebook.md").decode()}, ensure_ascii=False))
PY
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" -X PUT \
		-H 'Content-Type: application/json' --data-binary @"$T/pkg.json" \
		"https://127.0.0.1:$INT/v1/releases/pk1/package")" = 201 ] &&
	wait_for '"event":"release.delivered".*"object":"pk1"' "$T/sdata/audit.log" || return 1
	ls "$d"
	cmp "$T/pk1" "$d/pk1.csv" &&
	(cd "$d" && sha256sum -c manifest) &&
	openssl cms -verify -binary -inform DER -in "$d/manifest.p7s" \
		-content "$d/manifest" -CAfile "$CA" -purpose any -out /dev/null &&
	# Each file came with a digest of its own, and once.
	[ "$(grep -c '^PUT /incoming/pk1/' "$T/nginx/access.log")" = 5 ] &&
	grep -q "^PUT /incoming/pk1/manifest.p7s 201 $(digest "$T/pkg/manifest.p7s")" "$T/nginx/access.log"
}

# Issue 15, item 3: the sender's pair renewed on disk is taken by the push
# process too (its client certificate is the host's), without a signal or
# a restart: the next delivery shows the endpoint the new certificate.
test_r55_the_push_process_takes_a_renewed_certificate() {
	local k=$P/internal-ca/issued/sender.key new starts
	chmod 755 "$P" "$P/internal-ca" "$P/internal-ca/issued" &&
	chown sekisho-sender "$k" || return 1
	stop_sender; start || return 1
	starts=$(grep -c 'listening on' "$T/sender.log")
	"$PKI" "$P" renew internal-ca sender >/dev/null && chown sekisho-sender "$k" &&
	new=$(openssl x509 -in "$P/internal-ca/issued/sender.crt" -noout -serial | cut -d= -f2) &&
	wait_for "sender/push: info: the renewed certificate (serial=$new .*) is in use for the next deliveries" \
		"$T/sender.log" 30 || { tail -5 "$T/sender.log"; return 1; }
	head -c 5000 /dev/urandom > "$T/rn"
	[ "$(publish rn "$T/rn" univ-b)" = 201 ] &&
	wait_for '"event":"release.delivered".*"object":"rn"' "$T/sdata/audit.log" &&
	cmp "$T/rn" "$T/nginx/root/incoming/rn/rn.csv" &&
	grep -q "^PUT /incoming/rn/rn.csv 201 .*CN=sender $new\$" "$T/nginx/access.log" ||
		{ tail -3 "$T/nginx/access.log"; return 1; }
	kill -0 "$SENDER_PID" && [ "$(grep -c 'listening on' "$T/sender.log")" = "$starts" ]
}

# Every recipient pushed to: the sender listens on its internal port
# only, its external port refuses connections, and the push still goes.
test_r03_all_push_site_has_no_external_listener() {
	stop_sender
	site push && start || return 1
	grep -q 'no external listener (every recipient is pushed to)' "$T/sender.log" ||
		return 1
	ss -ltn "( sport = :$EXT )" | grep -q LISTEN && { echo "port $EXT listens"; return 1; }
	ss -ltn "( sport = :$INT )" | grep -q LISTEN || return 1
	! (exec 3<>/dev/tcp/127.0.0.1/"$EXT") 2>/dev/null || return 1
	head -c 5000 /dev/urandom > "$T/r5"
	[ "$(publish r5 "$T/r5" univ-b)" = 201 ] &&
	wait_for '"event":"release.delivered".*"object":"r5"' "$T/sdata/audit.log" &&
	cmp "$T/r5" "$T/nginx/root/incoming/r5/r5.csv"
}

# check-config reads each push recipient's endpoint CA.
test_r03_check_config_reads_the_endpoint_ca() {
	"$BIN/sekisho-sender" -c "$T/sender.conf" check-config >/dev/null 2>&1 ||
		return 1
	cp "$T/site.conf" "$T/site.keep"
	sed -i 's#pki/univ-b-ca/ca.crt#pki/univ-b-ca/none.crt#' "$T/site.conf"
	! "$BIN/sekisho-sender" -c "$T/sender.conf" check-config >"$T/out" 2>&1 &&
	grep -q 'recipients.endpoint_ca.*none.crt.*cannot open' "$T/out" ||
		{ cat "$T/out"; mv "$T/site.keep" "$T/site.conf"; return 1; }
	mv "$T/site.keep" "$T/site.conf"
}

# The audit log of it all verifies; the sender holds no connect(2), the
# push process no accept(2), listen(2) or bind(2).
test_r03_push_construction_and_audit() {
	stop_sender
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null || return 1
	! nm -D --undefined-only "$BIN/sekisho-sender" | grep -qw connect &&
	nm -D --undefined-only "$BIN/sekisho-pusher" | grep -qw connect &&
	! nm -D --undefined-only "$BIN/sekisho-pusher" | grep -qwE 'accept4?|listen|bind'
}

setup
site mixed
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
nginx_down
summary
