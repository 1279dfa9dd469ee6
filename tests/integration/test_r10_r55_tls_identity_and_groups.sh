#!/usr/bin/env bash
# test_r10_r55_tls_identity_and_groups.sh: who a peer is comes only from
# what our CAs issue, its one urn:sekisho: URI SAN (R10): a certificate of
# the municipalities' CA whose subject CN names a city but that has no
# such SAN, or that has two, fails the TLS handshake itself. And the key
# exchange offers elliptic curves only (R55): X25519, P-256, P-384, never
# a finite-field group, whose cost an attacker could replay at will.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL="https://127.0.0.1:$PORT/v1/uploads/health-checkup"
CA=$T/pki/muni-ca

setup() {
	make_pki >/dev/null && write_site "$PORT" && write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" && printf 'id,age\n1,40\n' > "$T/a.csv"
}

# forge NAME EXTFILE_LINES: a certificate signed by the real municipalities'
# CA whose CN names a city of the site (131156), with the extensions given:
# before, such a CN alone was taken as that city's identity.
forge() {
	local name=$1 ext=$2
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$T/$name.key" 2>/dev/null &&
	openssl req -new -key "$T/$name.key" -subj "/CN=urn:sekisho:muni:131156" \
		-out "$T/$name.csr" 2>/dev/null &&
	printf '%b' "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n$ext" \
		> "$T/$name.ext" &&
	openssl x509 -req -in "$T/$name.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" \
		-CAcreateserial -days 30 -extfile "$T/$name.ext" \
		-out "$T/$name.crt" 2>/dev/null
}

put_as() {	# put_as CERT KEY NAME: prints curl's exit status and code
	local code rc=0
	code=$(curl -sS --cacert "$T/pki/internal-ca/ca.crt" --cert "$1" \
		--key "$2" -o /dev/null -w '%{http_code}' -T "$T/a.csv" \
		"$URL/$3" 2>/dev/null) || rc=$?
	echo "$rc $code"
}

test_r10_control_our_own_certificate_uploads() {
	[ "$(put_as "$CA/issued/131156.crt" "$CA/issued/131156.key" a.csv)" = "0 201" ]
}

test_r10_cn_without_our_uri_san_fails_the_handshake() {
	local before out
	forge cnonly "" || return 1
	before=$(grep -c 'application verification failure' "$T/receiver.log")
	out=$(put_as "$T/cnonly.crt" "$T/cnonly.key" b.csv)
	echo "CN only: curl exit and code: $out"
	# No HTTP answer at all (curl fails before any status), and the
	# receiver says why.
	[ "${out%% *}" != 0 ] && [ "${out#* }" = 000 ] &&
	[ "$(grep -c 'application verification failure' "$T/receiver.log")" -gt "$before" ] &&
	[ "$(ls "$T/data/objects" | wc -l)" = 1 ]	# the control's upload only
}

test_r10_two_identities_in_one_certificate_fail_the_handshake() {
	local out
	forge twice "subjectAltName=URI:urn:sekisho:muni:131156,URI:urn:sekisho:muni:011002\n" ||
		return 1
	out=$(put_as "$T/twice.crt" "$T/twice.key" c.csv)
	echo "two URIs: curl exit and code: $out"
	[ "${out%% *}" != 0 ] && [ "${out#* }" = 000 ]
}

# handshake GROUPS: 0 when a TLS 1.3 handshake with only those groups
# completes (with a municipality's certificate).
handshake() {
	openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -groups "$1" \
		-CAfile "$T/pki/internal-ca/ca.crt" -cert "$CA/issued/131156.crt" \
		-key "$CA/issued/131156.key" -brief </dev/null >"$T/sc.out" 2>&1 &&
	grep -q 'CONNECTION ESTABLISHED' "$T/sc.out"
}

test_r55_elliptic_groups_only() {
	local g
	for g in X25519 P-256 P-384; do
		handshake "$g" || { echo "$g refused" >&2; cat "$T/sc.out" >&2; return 1; }
	done
	for g in ffdhe2048 ffdhe8192 P-521 X448; do
		! handshake "$g" || { echo "$g accepted" >&2; return 1; }
	done
}

setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
