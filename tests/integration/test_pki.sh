#!/usr/bin/env bash
# test_pki.sh: certificates made by deploy/pki.sh (sekisho-pki), tried
# against the real receiver with curl: accepted where they should be,
# refused where they should not (R14, R34, R55): by role, after revocation,
# after renewal, and across a CA rotation with the bundle.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
P=$T/pki
URL="https://127.0.0.1:$PORT/v1/uploads/health-checkup"

# as CA NAME [PKIDIR]: upload a small file with that certificate; prints
# the HTTP status (000 when the handshake is refused).
as() {
	local d=${3:-$P/$1/issued}
	printf 'a,b\n%s,1\n' "$RANDOM$RANDOM" > "$T/up.csv"
	curl -s -o /dev/null -w '%{http_code}' --cacert "$P/internal-ca/ca.crt" \
		--cert "$d/$2.crt" --key "$d/$2.key" -T "$T/up.csv" "$URL/up.csv"
}

restart() { stop_receiver; start_receiver; }

setup() {
	"$PKI" "$P" init-ca muni-ca "PKI test municipalities CA" &&
	"$PKI" "$P" init-ca recip-ca "PKI test recipients CA" &&
	"$PKI" "$P" init-ca internal-ca "PKI test internal CA" &&
	"$PKI" "$P" host receiver --ip 127.0.0.1 &&
	"$PKI" "$P" host vault && "$PKI" "$P" muni 131156 &&
	"$PKI" "$P" muni 131016 && "$PKI" "$P" recipient univ-a &&
	write_site "$PORT" && write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver
} >/dev/null

test_r34_municipality_certificate_accepted() {
	[ "$(as muni-ca 131156)" = 201 ]
}

test_r10_recipient_and_host_certificates_refused_at_the_receiver() {
	[ "$(as recip-ca univ-a)" = 000 ] && [ "$(as internal-ca vault)" = 000 ]
}

test_r34_each_role_gets_its_identity_and_use() {
	openssl x509 -in "$P/internal-ca/issued/receiver.crt" -noout -ext \
		subjectAltName,extendedKeyUsage > "$T/recv.txt" &&
	grep -q 'URI:urn:sekisho:host:receiver, IP Address:127.0.0.1' "$T/recv.txt" &&
	grep -q 'TLS Web Server Authentication' "$T/recv.txt" &&
	openssl x509 -in "$P/internal-ca/issued/vault.crt" -noout -ext \
		extendedKeyUsage | grep -q 'TLS Web Client Authentication' &&
	! openssl x509 -in "$P/internal-ca/issued/vault.crt" -noout -ext \
		extendedKeyUsage | grep -q 'Server' &&
	openssl x509 -in "$P/muni-ca/issued/131156.crt" -noout -ext \
		subjectAltName | grep -q 'URI:urn:sekisho:muni:131156' &&
	[ "$(stat -c %a "$P/muni-ca/issued/131156.key")" = 600 ]
}

test_r41_operator_key_pair() {
	"$PKI" "$P" operator op1 >/dev/null &&
	[ "$(stat -c %a "$P/operators/op1.key")" = 600 ] &&
	openssl pkey -in "$P/operators/op1.key" -noout -text | grep -q ED25519 &&
	! "$PKI" "$P" operator op1 2>/dev/null	# never overwritten
}

test_r14_revoked_municipality_refused() {
	[ "$(as muni-ca 131016)" = 201 ] &&
	"$PKI" "$P" revoke muni-ca 131016 && restart &&
	[ "$(as muni-ca 131016)" = 000 ] && [ "$(as muni-ca 131156)" = 201 ]
}

# renew: the new pair is accepted, the old one refused once the CRL is
# read again.
test_r55_renewed_certificate_replaces_the_old() {
	mkdir -p "$T/old" && cp "$P/muni-ca/issued/131156".* "$T/old/" &&
	"$PKI" "$P" renew muni-ca 131156 >/dev/null && restart &&
	[ "$(as muni-ca 131156)" = 201 ] &&
	[ "$(as muni-ca 131156 "$T/old")" = 000 ] &&
	! cmp -s "$P/muni-ca/issued/131156.key" "$T/old/131156.key"
}

# rotate-ca: with the bundle, certificates of the old and the new CA are
# both accepted; back on the new CA alone, only the new ones.
test_r55_ca_rotation_with_the_bundle() {
	mkdir -p "$T/oldca" && cp "$P/muni-ca/issued/131156".* "$T/oldca/" &&
	"$PKI" "$P" rotate-ca muni-ca >/dev/null &&
	"$PKI" "$P" muni 131156 >/dev/null &&
	sed -i -e 's|pki/muni-ca/ca.crt|pki/muni-ca/bundle.crt|' \
		-e 's|pki/muni-ca/crl.pem|pki/muni-ca/bundle-crl.pem|' "$T/site.conf" &&
	restart &&
	[ "$(as muni-ca 131156)" = 201 ] &&
	[ "$(as muni-ca 131156 "$T/oldca")" = 201 ] &&
	sed -i -e 's|pki/muni-ca/bundle.crt|pki/muni-ca/ca.crt|' \
		-e 's|pki/muni-ca/bundle-crl.pem|pki/muni-ca/crl.pem|' "$T/site.conf" &&
	restart &&
	[ "$(as muni-ca 131156)" = 201 ] &&
	[ "$(as muni-ca 131156 "$T/oldca")" = 000 ]
}

test_list_shows_state_and_expiry() {
	"$PKI" "$P" list > "$T/list" &&
	grep -qE '^muni-ca +131156 +valid +until ' "$T/list" &&
	grep -qE '^recip-ca +univ-a +valid' "$T/list" &&
	grep -qE '^muni-ca.retired-[0-9TZ]+ +131016 +revoked-or-invalid' "$T/list"
}

setup || { echo "setup failed"; tail "$T/receiver.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
