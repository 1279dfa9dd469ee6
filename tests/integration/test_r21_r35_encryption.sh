#!/usr/bin/env bash
# test_r21_r35_encryption.sh: what the three hosts hold is ciphertext (R21),
# and every path between them and to the outside is TLS 1.3 only (R35);
# the programs are built from Debian's packaged libraries and say their
# versions when they start (R19).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"

# no_rows_in DIR FILE: no row of the CSV FILE (as bytes) in any file under
# DIR, and there are files to look at.
no_rows_in() {
	python3 - "$1" "$2" <<'PY'
import os, sys
rows = [r for r in open(sys.argv[2], "rb").read().splitlines()[1:] if len(r) >= 24]
assert len(rows) > 50, "too few rows to look for"
seen = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        seen += 1
        hits = [r for r in rows if r in data]
        assert not hits, "%s holds %d plaintext row(s)" % (p, len(hits))
assert seen > 0, "nothing stored to look at"
print("%s: %d files, none holds a row" % (sys.argv[1], seen))
PY
}

test_r21_the_receiver_holds_ciphertext() {
	python3 "$GEN" 400 101 "$T/a.csv" && stop_vault &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	no_rows_in "$T/data" "$T/a.csv"
}

test_r21_the_vault_holds_ciphertext() {
	start_vault && wait_state "$A" awaiting_approval &&
	[ -e "$T/vdata/sources/$A" ] && [ -e "$T/vdata/releases/$A" ] &&
	no_rows_in "$T/vdata" "$T/a.csv"
}

test_r21_the_sender_holds_ciphertext_of_the_release() {
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published &&
	recip -o "$T/release.csv" "$URL/$(rid_of "$A")" &&
	no_rows_in "$T/sdata" "$T/release.csv" &&
	no_rows_in "$T/vdata" "$T/release.csv"
}

# Every listener: no plain HTTP, no TLS 1.2; TLS 1.3 does handshake.
test_r35_every_listener_speaks_tls13_only() {
	local p out
	for p in "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
			"http://127.0.0.1:$p/")" != 200 ] || return 1
		out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$p" \
			-tls1_2 -CAfile "$P/internal-ca/ca.crt" 2>&1)
		echo "$out" | grep -q 'alert protocol version' ||
			{ echo "port $p: TLS 1.2 was not refused: $out" | head -5; return 1; }
		out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$p" \
			-tls1_3 -CAfile "$P/internal-ca/ca.crt" 2>&1)
		echo "$out" | grep -q 'New, TLSv1.3, Cipher is' ||
			{ echo "port $p: no TLS 1.3 handshake" ; return 1; }
	done
	echo "4 listeners: plain HTTP and TLS 1.2 refused, TLS 1.3 spoken"
}

# R19: every library each program loads is a file of a Debian package, and
# each daemon's start entry names its version and OpenSSL's, which is the
# system's own.
test_r19_debian_libraries_and_versions_at_start() {
	local b lib n=0 sys
	for b in "$BIN"/sekisho-*; do
		for lib in $(ldd "$b" | awk '/=>/ {print $3}'); do
			dpkg -S "$(readlink -f "$lib")" >/dev/null 2>&1 ||
			dpkg -S "$lib" >/dev/null 2>&1 ||
				{ echo "$b: $lib is no Debian package's"; return 1; }
			n=$((n + 1))
		done
	done
	echo "$n libraries of $(ls "$BIN"/sekisho-* | wc -l) programs, each a Debian package's"
	sys=$(openssl version | awk '{print $2}')
	grep -q "\"event\":\"receiver.start\".*version=[0-9.]* openssl=$sys " "$T/data/audit.log" &&
	grep -q "\"event\":\"vault.start\".*version=[0-9.]* openssl=$sys " "$T/vdata/audit.log" &&
	grep -q "\"event\":\"sender.start\".*version=[0-9.]* openssl=$sys " "$T/sdata/audit.log"
}

run_pipeline_tests
