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

# Issue 15: a code whose check digit is wrong is refused; a name with a
# live certificate is not issued again over it (the key stays as it was).
test_pki_wrong_check_digit_and_a_second_live_certificate_refused() {
	! "$PKI" "$P" muni 131155 2>"$T/e1" && grep -q 'check digit' "$T/e1" &&
	[ ! -e "$P/muni-ca/issued/131155.crt" ] &&
	cp "$P/muni-ca/issued/131156.key" "$T/key-before" &&
	! "$PKI" "$P" muni 131156 2>"$T/e2" && grep -q 'live certificate' "$T/e2" &&
	cmp -s "$P/muni-ca/issued/131156.key" "$T/key-before" &&
	[ "$(as muni-ca 131156)" = 201 ]
}

# A copied PKI writes its own records, and one named by a relative path
# works from any folder: every path comes from the folder on the command
# line, each time.
test_pki_paths_come_from_the_folder_given() {
	local idx
	cp -a "$P" "$T/pki-copy" && idx=$(md5sum < "$P/recip-ca/index.txt") &&
	"$PKI" "$T/pki-copy" recipient univ-b >/dev/null &&
	[ "$(md5sum < "$P/recip-ca/index.txt")" = "$idx" ] &&
	grep -q 'CN=univ-b' "$T/pki-copy/recip-ca/index.txt" &&
	[ ! -e "$P/recip-ca/issued/univ-b.crt" ] || return 1
	(cd "$T" && "$PKI" pki-rel init-ca recip-ca "Relative CA" >/dev/null) &&
	(cd / && "$PKI" "$T/pki-rel" recipient univ-c >/dev/null) &&
	openssl verify -CAfile "$T/pki-rel/recip-ca/ca.crt" \
		"$T/pki-rel/recip-ca/issued/univ-c.crt" >/dev/null
}

# The city makes its key and a request on its own machine; the PKI signs
# the request and never sees the key. The certificate's names are ours,
# whatever the request asked for.
test_pki_a_city_keeps_its_key_sign_req() {
	mkdir -p "$T/city" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$T/city/141003.key" 2>/dev/null &&
	openssl req -new -key "$T/city/141003.key" -subj "/CN=urn:sekisho:muni:131156" \
		-out "$T/city/141003.csr" &&
	"$PKI" "$P" muni 141003 --csr "$T/city/141003.csr" >/dev/null &&
	[ ! -e "$P/muni-ca/issued/141003.key" ] &&
	openssl x509 -in "$P/muni-ca/issued/141003.crt" -noout -subject -ext \
		subjectAltName > "$T/city.txt" &&
	grep -q 'CN *= *141003' "$T/city.txt" &&
	grep -q 'URI:urn:sekisho:muni:141003' "$T/city.txt" &&
	cp "$P/muni-ca/issued/141003.crt" "$T/city/" && restart &&
	# Yokohama may send only resident-register: 403 is its certificate
	# accepted in the handshake and its identity known.
	[ "$(as muni-ca 141003 "$T/city")" = 403 ] || return 1
	# Not P-256, or not signed by its key: refused.
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$T/city/rsa.key" 2>/dev/null &&
	openssl req -new -key "$T/city/rsa.key" -subj "/CN=x" -out "$T/city/rsa.csr" &&
	! "$PKI" "$P" sign-req recip-ca univ-r "$T/city/rsa.csr" 2>"$T/e3" &&
	grep -q 'P-256' "$T/e3"
}

# Issue 15, item 3: a CRL renewed on disk is in use within seconds, with
# no restart; SIGHUP (systemctl reload) asks at once and ends nothing; a
# CRL that is not good is refused, recorded, and the one in use stays.
test_r14_a_new_crl_is_taken_without_a_restart() {
	local i code
	# The CA's folder holds public files: the store, as the service
	# user, reads the CRL there (sekisho-pki makes folders 0700).
	chmod 755 "$P" "$P/muni-ca" && restart &&
	[ "$(as muni-ca 141003 "$T/city")" = 403 ] &&
	"$PKI" "$P" revoke muni-ca 141003 && kill -HUP "$RECEIVER_PID" || return 1
	for i in $(seq 1 40); do
		code=$(as muni-ca 141003 "$T/city")
		[ "$code" = 000 ] && break
		sleep 0.25
	done
	echo "revoked, no restart: refused after $i tries"
	[ "$code" = 000 ] && kill -0 "$RECEIVER_PID" &&
	[ "$(as muni-ca 131156)" = 201 ] &&
	grep -q 'SIGHUP: passed on to the net process' "$T/receiver.log" &&
	grep -q 'external listener: the new CRL is in use' "$T/receiver.log" &&
	grep -q '"event":"crl.loaded"' "$T/data/audit.log" || return 1
	# A CRL that is not one: refused; the revocation still holds.
	cp "$P/muni-ca/crl.pem" "$T/crl.good" &&
	echo "not a CRL" > "$P/muni-ca/crl.pem" && kill -HUP "$RECEIVER_PID" || return 1
	for i in $(seq 1 40); do
		grep -q '"event":"crl.refused"' "$T/data/audit.log" && break
		sleep 0.25
	done
	grep -q 'the CRL in use stays' "$T/receiver.log" &&
	[ "$(as muni-ca 141003 "$T/city")" = 000 ] &&
	[ "$(as muni-ca 131156)" = 201 ] && kill -0 "$RECEIVER_PID" &&
	cp "$T/crl.good" "$P/muni-ca/crl.pem"
}

# served_serial: the serial of the certificate the receiver shows now.
served_serial() {
	openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$P/internal-ca/ca.crt" \
		-cert "$P/muni-ca/issued/131156.crt" -key "$P/muni-ca/issued/131156.key" \
		</dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}

# Issue 15, item 3: the host's own certificate and key renewed on disk are
# used for new connections after SIGHUP, with no restart and uploads going
# on; the audit entry names the new certificate's fingerprint; a key that
# does not match is refused on the next look without a signal, recorded,
# and the pair in use stays.
test_r55_a_renewed_host_certificate_is_taken_without_a_restart() {
	local i old new fp starts k=$P/internal-ca/issued/receiver.key
	# The store, as the service user, reads the pair: the certificate's
	# folders are public, the key is the service user's, mode 0600.
	chmod 755 "$P" "$P/internal-ca" "$P/internal-ca/issued" &&
	chown sekisho-receiver "$k" && restart &&
	old=$(served_serial) && [ -n "$old" ] || return 1
	starts=$(grep -c 'listening on' "$T/receiver.log")
	"$PKI" "$P" renew internal-ca receiver >/dev/null &&
	chown sekisho-receiver "$k" &&
	new=$(openssl x509 -in "$P/internal-ca/issued/receiver.crt" -noout -serial) &&
	[ "$new" != "$old" ] && kill -HUP "$RECEIVER_PID" || return 1
	for i in $(seq 1 40); do
		grep -q '"event":"certificate.loaded"' "$T/data/audit.log" &&
			[ "$(served_serial)" = "$new" ] && break
		sleep 0.25
	done
	echo "served before: $old; after SIGHUP: $(served_serial) (renewed: $new)"
	fp=$(openssl x509 -in "$P/internal-ca/issued/receiver.crt" -noout \
		-fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
	[ "$(served_serial)" = "$new" ] && kill -0 "$RECEIVER_PID" &&
	[ "$(grep -c 'listening on' "$T/receiver.log")" = "$starts" ] &&
	grep '"event":"certificate.loaded"' "$T/data/audit.log" | grep -q "\"sha256\":\"$fp\"" &&
	grep -q 'the renewed certificate (serial=.*) is in use for new connections' "$T/receiver.log" &&
	[ "$(as muni-ca 131156)" = 201 ] || return 1
	# A key that is not the certificate's, and no signal: refused at the
	# next look, recorded; the renewed pair stays in use.
	cp -p "$k" "$T/receiver.key.good" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$k" 2>/dev/null && chown sekisho-receiver "$k" || return 1
	for i in $(seq 1 80); do
		grep -q '"event":"certificate.refused"' "$T/data/audit.log" && break
		sleep 0.25
	done
	grep '"event":"certificate.refused"' "$T/data/audit.log" |
		grep -q 'the key does not match the certificate' &&
	grep -q 'is refused: .*the pair in use stays' "$T/receiver.log" &&
	[ "$(served_serial)" = "$new" ] && [ "$(as muni-ca 131156)" = 201 ] &&
	kill -0 "$RECEIVER_PID" && cp -p "$T/receiver.key.good" "$k"
}

# Issue 15, item 6: uploads keep going, none refused or cut, while the
# host's pair is renewed and taken ten times (each a SIGHUP).
test_r55_uploads_go_on_across_ten_reloads() {
	local i before done_before loader k=$P/internal-ca/issued/receiver.key
	chmod 755 "$P" "$P/internal-ca" "$P/internal-ca/issued" &&
	chown sekisho-receiver "$k" && restart || return 1
	{ echo a,b; seq 1 60000 | sed 's/$/,x/'; } > "$T/big.csv"
	rm -f "$T/stop" && : > "$T/codes"
	while [ ! -e "$T/stop" ]; do
		echo "$RANDOM$RANDOM,y" >> "$T/big.csv"	# a new file each time
		curl -s -o /dev/null -w '%{http_code}\n' --limit-rate 2M \
			--cacert "$P/internal-ca/ca.crt" --cert "$P/muni-ca/issued/131156.crt" \
			--key "$P/muni-ca/issued/131156.key" -T "$T/big.csv" "$URL/big.csv" >> "$T/codes"
	done &
	loader=$!
	for i in $(seq 1 10); do
		before=$(grep -c '"event":"certificate.loaded"' "$T/data/audit.log")
		done_before=$(grep -c . "$T/codes")
		"$PKI" "$P" renew internal-ca receiver >/dev/null &&
		chown sekisho-receiver "$k" && kill -HUP "$RECEIVER_PID" || break
		for _ in $(seq 1 40); do
			[ "$(grep -c '"event":"certificate.loaded"' "$T/data/audit.log")" -gt "$before" ] && break
			sleep 0.1
		done
		# An upload ends between one reload and the next: ten
		# reloads, each with uploads going on across it.
		for _ in $(seq 1 100); do
			[ "$(grep -c . "$T/codes")" -gt "$done_before" ] && break
			sleep 0.1
		done
	done
	touch "$T/stop"
	wait "$loader"
	echo "$(grep -c . "$T/codes") uploads across $i reloads: $(sort "$T/codes" | uniq -c | tr '\n' ' ')"
	[ "$i" = 10 ] && [ "$(grep -c . "$T/codes")" -ge 10 ] &&
	! grep -qv '^201$' "$T/codes" && kill -0 "$RECEIVER_PID" &&
	[ "$(served_serial)" = "$(openssl x509 -in "$P/internal-ca/issued/receiver.crt" -noout -serial)" ] &&
	[ "$(grep -c '"event":"certificate.loaded"' "$T/data/audit.log")" -ge 10 ]
}

# The CRL's lifetime is an option, and `crl` says when to write it again.
test_pki_crl_lifetime_and_next_update() {
	"$PKI" "$P" crl recip-ca --days 90 > "$T/crl.out" &&
	grep -q 'next update' "$T/crl.out" &&
	local next
	next=$(date -d "$(openssl crl -in "$P/recip-ca/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s) &&
	[ $(( (next - $(date +%s)) / 86400 )) -ge 89 ]
}

# Issue 15, item 4: a CA's key and an operator's key may be kept under a
# passphrase. Without it nothing is signed; with it (asked at the terminal,
# or SEKISHO_PKI_PASSPHRASE for a script) the CA works as before, and the
# operator's encrypted key still signs (SEKISHO_KEY_PASSPHRASE for the
# vault's console, checked by the roster's public key).
test_r14_ca_and_operator_keys_under_a_passphrase() {
	local q=$T/pki-pass out
	mkdir -p "$q" &&
	SEKISHO_PKI_PASSPHRASE=correct-horse "$PKI" "$q" init-ca pass-ca "Passphrase CA" \
		--passphrase >/dev/null &&
	head -1 "$q/pass-ca/ca.key" | grep -q 'BEGIN ENCRYPTED PRIVATE KEY' &&
	! openssl pkey -in "$q/pass-ca/ca.key" -passin pass:wrong -noout 2>/dev/null &&
	# No passphrase and no terminal (setsid): nothing is issued.
	! setsid -w "$PKI" "$q" issue pass-ca a1 --client --uri urn:sekisho:muni:a1 \
		</dev/null >/dev/null 2>&1 &&
	[ ! -e "$q/pass-ca/issued/a1.crt" ] &&
	! SEKISHO_PKI_PASSPHRASE=wrong "$PKI" "$q" issue pass-ca a1 --client \
		--uri urn:sekisho:muni:a1 </dev/null >/dev/null 2>&1 &&
	[ ! -e "$q/pass-ca/issued/a1.crt" ] || return 1
	SEKISHO_PKI_PASSPHRASE=correct-horse "$PKI" "$q" issue pass-ca a1 --client \
		--uri urn:sekisho:muni:a1 >/dev/null &&
	openssl verify -CAfile "$q/pass-ca/ca.crt" "$q/pass-ca/issued/a1.crt" >/dev/null &&
	SEKISHO_PKI_PASSPHRASE=correct-horse "$PKI" "$q" revoke pass-ca a1 >/dev/null &&
	! openssl verify -crl_check -CAfile "$q/pass-ca/ca.crt" \
		-CRLfile "$q/pass-ca/crl.pem" "$q/pass-ca/issued/a1.crt" >/dev/null 2>&1 || return 1
	# The operator's key: encrypted, and its public key as usual.
	SEKISHO_PKI_PASSPHRASE=op-secret "$PKI" "$q" operator op9 --passphrase >/dev/null &&
	head -1 "$q/operators/op9.key" | grep -q 'BEGIN ENCRYPTED PRIVATE KEY' &&
	openssl pkey -pubin -in "$q/operators/op9.pub" -noout &&
	out=$(SEKISHO_PKI_PASSPHRASE=op-secret "$PKI" "$q" operator op9 --passphrase 2>&1);
	echo "$out" | grep -q 'has a key already'
}

# since N PATTERN: does the receiver's log, from line N on, match PATTERN?
since() { tail -n +"$1" "$T/receiver.log" | grep -q -- "$2"; }

# Issue 15, item 3: a CRL near its next update, and the host's
# certificate near its end, raise a warning in the running daemon's log
# (at the start, when a new one is taken, then daily) and in `status`; the
# window is limits.expiry_warn_days (30 by default).
test_r14_a_crl_near_its_next_update_is_warned_of_in_the_log_and_status() {
	local i n far near rc=0 crl=$P/muni-ca/crl.pem
	local warn="external listener: the CRL in use ($crl) reaches its next update in"
	chmod 755 "$P" "$P/muni-ca" && "$PKI" "$P" crl muni-ca --days 90 >/dev/null &&
	n=$(grep -c . "$T/receiver.log") && restart || return 1
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" status > "$T/st.far" || rc=$?
	far=$(grep -m1 -o 'certificates and CRLs: 0 expired or unusable, [0-9]* ending' "$T/st.far" |
		grep -o '[0-9]* ending' | cut -d' ' -f1)
	# Ninety days ahead: nothing said. Three days: said within seconds
	# (two days and some hours, or three if read the second it is written).
	sleep 1 && ! since "$n" "$warn" && [ -n "$far" ] &&
	n=$(grep -c . "$T/receiver.log") &&
	"$PKI" "$P" crl muni-ca --days 3 >/dev/null || return 1
	for i in $(seq 1 100); do
		since "$n" "$warn [23] day(s), at " && break
		sleep 0.1
	done
	since "$n" "$warn [23] day(s), at " || { tail "$T/receiver.log"; return 1; }
	rc=0
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" status > "$T/st.near" || rc=$?
	near=$(grep -m1 -o 'certificates and CRLs: 0 expired or unusable, [0-9]* ending within 30 days' "$T/st.near" |
		grep -o '[0-9]* ending' | cut -d' ' -f1)
	echo "status: $far ending before, $near after; exit $rc"
	[ "$rc" = 1 ] && [ "$near" = $((far + 1)) ] &&
	head -1 "$T/st.near" | grep -q '^SEKISHO-receiver WARNING' || { cat "$T/st.near"; return 1; }
	# The window is a setting: 900 days takes in the host's certificate.
	"$PKI" "$P" crl muni-ca --days 90 >/dev/null &&
	sed -i 's/limits: { /limits: { expiry_warn_days = 900; /' "$T/receiver.conf" &&
	n=$(grep -c . "$T/receiver.log") && restart &&
	since "$n" "the host's certificate in use ([^)]*receiver.crt) expires in 8[0-9][0-9] day(s)" &&
	since "$n" "$warn 89 day(s)" || since "$n" "$warn 90 day(s)" || { tail "$T/receiver.log"; return 1; }
	write_local && restart
}

# Issue 15, item 2: show-config prints what `run` would run with, every
# default filled in, and the digest check-config names; a bad file is an
# error with its line, and nothing is printed on stdout.
test_r54_show_config_prints_the_effective_configuration() {
	local digest out st=0
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" show-config > "$T/shown" 2>/dev/null &&
	digest=$("$BIN/sekisho-receiver" -c "$T/receiver.conf" check-config 2>/dev/null |
		sed -n 's/.*digest \([0-9a-f]*\),.*/\1/p') && [ -n "$digest" ] &&
	grep -qx "# site $T/site.conf sha256 $digest" "$T/shown" &&
	grep -qx 'limits.expiry_warn_days 30' "$T/shown" &&
	grep -qx 'limits.disk_reserve 0' "$T/shown" &&
	grep -qx 'require_firewall false' "$T/shown" &&
	grep -qx "key $T/pki/internal-ca/issued/receiver.key" "$T/shown" &&
	grep -qx 'datasets.health-checkup.retention_days [0-9]*' "$T/shown" &&
	grep -qx 'municipalities.131156.identity urn:sekisho:muni:131156' "$T/shown" ||
		{ cat "$T/shown"; return 1; }
	sed 's/limits: { /limits: { read_timout = 5; /' "$T/receiver.conf" > "$T/typo.conf" &&
	"$BIN/sekisho-receiver" -c "$T/typo.conf" show-config > "$T/out" 2> "$T/err" || st=$?
	[ "$st" != 0 ] && [ ! -s "$T/out" ] &&
	grep -q "typo.conf:8: unknown setting 'read_timout'; did you mean 'read_timeout'?" "$T/err" ||
		{ cat "$T/err"; return 1; }
}

# Issue 15, item 1: an interface the site names for this host that the
# host does not have is a warning with the site file's line (its rules
# would match nothing); one that exists is not.
test_r18_an_interface_this_host_lacks_is_warned_of() {
	local line out
	sed "s/port = $PORT; interface = \"lo\";/port = $PORT; interface = \"sk-nosuch0\";/" \
		"$T/site.conf" > "$T/site-if.conf" &&
	sed 's#site = "site.conf";#site = "site-if.conf";#' "$T/receiver.conf" > "$T/receiver-if.conf" &&
	line=$(grep -n sk-nosuch0 "$T/site-if.conf" | cut -d: -f1) && [ -n "$line" ] &&
	out=$("$BIN/sekisho-receiver" -c "$T/receiver-if.conf" check-config 2>&1) &&
	echo "$out" | grep -qF "site-if.conf:$line: warning: 'hosts.receiver.external.interface' is \"sk-nosuch0\": no such interface on this host" &&
	echo "$out" | grep -q ': OK' || { echo "$out"; return 1; }
	out=$("$BIN/sekisho-receiver" -c "$T/receiver.conf" check-config 2>&1) &&
	! echo "$out" | grep -q 'no such interface'
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
