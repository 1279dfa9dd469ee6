#!/usr/bin/env bash
# test_r55_vault_reload.sh: the vault takes a renewed pair, a new
# municipalities' CRL and a changed policy without a restart (R55, R54,
# issue 15), on the sanitizer
# build (the swap of a TLS context under a thread that connects). The site has CRLs for the municipalities and the internal CA, so
# that a renewal (which revokes the old certificate) is felt: once the
# receiver and the sender take the new internal CRL, a vault still on its
# old pair could not poll or publish any more.
. "$(dirname "$0")/lib.sh"
# A policy of its own, to change while the vault runs.
cp "$TOP/tests/bench/checkup/checkup.policy" "$T/checkup.policy" &&
	chmod 644 "$T/checkup.policy" || exit 1
export POLICY=$T/checkup.policy
export SITE_CA_EXTRA=' municipalities_crl = "pki/muni-ca/crl.pem"; internal_crl = "pki/internal-ca/crl.pem";'
. "$(dirname "$0")/pipeline.sh"

# The vault's user reads its pair and the CAs' folders (public data, and
# its own key, mode 0600): then a renewal is taken in place.
share_pki() {
	chmod 755 "$P" "$P/internal-ca" "$P/internal-ca/issued" "$P/muni-ca" &&
	chown sekisho-vault "$P/internal-ca/issued/vault.key"
}

# All three again: each looks at the folders it may watch at its start.
restart_all() {
	kill -TERM "$VAULT_PID" && wait "$VAULT_PID"
	stop_receiver && stop_sender &&
	start_receiver "$PORT" && start_sender && start_vault
}

# signed_upload NAME SIGNER: a file signed with muni-ca's SIGNER pair and
# sealed to the vault, uploaded by 131156; its id in $T/id.
signed_upload() {
	python3 "$GEN" 300 "$RANDOM" "$T/$1.csv" &&
	openssl cms -sign -binary -nodetach -outform DER -in "$T/$1.csv" \
		-signer "$P/muni-ca/issued/$2.crt" \
		-inkey "$P/muni-ca/issued/$2.key" -out "$T/$1.signed" &&
	openssl cms -encrypt -aes-256-gcm -binary -inform DER -outform DER \
		-recip "$P/internal-ca/issued/vault-envelope.crt" \
		-in "$T/$1.signed" -out "$T/$1.csv.cms" &&
	[ "$(upload "$T/$1.csv.cms" health-signed)" = 201 ]
}

# A renewed pair, then SIGHUP: recorded with its fingerprint, in use for
# the next connections; the old certificate is revoked, and once the
# receiver has taken the new internal CRL an upload still reaches the
# vault (with the old pair it would be refused at the handshake).
test_r55_the_vault_takes_a_renewed_pair_without_a_restart() {
	local old new fp id starts k=$P/internal-ca/issued/vault.key
	starts=$(grep -c 'polling the receiver' "$T/vault.log")
	old=$(openssl x509 -in "$P/internal-ca/issued/vault.crt" -noout -serial) &&
	"$PKI" "$P" renew internal-ca vault >/dev/null && chown sekisho-vault "$k" &&
	new=$(openssl x509 -in "$P/internal-ca/issued/vault.crt" -noout -serial) &&
	[ "$new" != "$old" ] && kill -HUP "$VAULT_PID" || return 1
	wait_for '"event":"certificate.loaded"' "$T/vdata/audit.log" 10 &&
	wait_for "the renewed certificate (${new,,}.*) is in use for the next connections" \
		"$T/vault.log" 10 || return 1
	fp=$(openssl x509 -in "$P/internal-ca/issued/vault.crt" -noout \
		-fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
	grep '"event":"certificate.loaded"' "$T/vdata/audit.log" |
		grep -q "\"sha256\":\"$fp\"" || { echo "no fingerprint $fp" >&2; return 1; }
	# The receiver takes the CRL that revokes the old pair (within 5 s).
	wait_for '"event":"crl.loaded".*listener=internal' "$T/data/audit.log" 15 &&
	python3 "$GEN" 300 21 "$T/r1.csv" &&
	[ "$(upload "$T/r1.csv" health-checkup)" = 201 ] && id=$(cat "$T/id") &&
	wait_state "$id" awaiting_approval 60 &&
	kill -0 "$VAULT_PID" &&
	[ "$(grep -c 'polling the receiver' "$T/vault.log")" = "$starts" ]
}

# A bad pair (a key that is not the certificate's): refused and recorded
# at the next look, no signal needed; the pair in use stays, and uploads
# still reach the vault.
test_r55_the_vault_refuses_a_bad_pair_and_keeps_its_own() {
	local id k=$P/internal-ca/issued/vault.key
	cp -p "$k" "$T/vault.key.good" &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$k" 2>/dev/null && chown sekisho-vault "$k" || return 1
	wait_for '"event":"certificate.refused"' "$T/vdata/audit.log" 20 || return 1
	grep '"event":"certificate.refused"' "$T/vdata/audit.log" |
		grep -q 'the key does not match the certificate' &&
	grep -q 'is refused: .*the pair in use stays' "$T/vault.log" &&
	python3 "$GEN" 300 22 "$T/r2.csv" &&
	[ "$(upload "$T/r2.csv" health-checkup)" = 201 ] && id=$(cat "$T/id") &&
	wait_state "$id" awaiting_approval 60 || return 1
	cp -p "$T/vault.key.good" "$k"
}

# The municipalities' CRL: a signer accepted, then revoked on the PKI and
# the CRL copied in place; the vault takes it within seconds, without a
# signal, and the next upload signed with that certificate is rejected.
test_r55_the_vault_takes_a_new_municipalities_crl_without_a_restart() {
	local a b
	"$PKI" "$P" issue muni-ca signer-131156 --client \
		--uri urn:sekisho:muni:131156 >/dev/null &&
	signed_upload s1 signer-131156 && a=$(cat "$T/id") &&
	wait_state "$a" awaiting_approval 60 || return 1
	"$PKI" "$P" revoke muni-ca signer-131156 >/dev/null &&
	wait_for '"event":"crl.loaded".*crl=municipalities' "$T/vdata/audit.log" 15 &&
	grep -q 'taken for the signed uploads that the next engines check' \
		"$T/vault.log" &&
	signed_upload s2 signer-131156 && b=$(cat "$T/id") &&
	wait_state "$b" rejected 60 || return 1
	"$VAULT" -c "$T/vault.conf" release show "$b" |
		grep -q "the signer's certificate is refused: certificate revoked" ||
		{ "$VAULT" -c "$T/vault.conf" release show "$b" >&2; return 1; }
}

# A CRL that does not verify (signed by another CA): refused, recorded,
# and the one in use stays: a signer it revoked stays refused.
test_r55_the_vault_refuses_a_bad_municipalities_crl() {
	local c
	cp "$P/muni-ca/crl.pem" "$T/muni-crl.good" &&
	cp "$P/rogue-ca/crl.pem" "$P/muni-ca/crl.pem" &&
	wait_for '"event":"crl.refused".*crl=municipalities' "$T/vdata/audit.log" 15 &&
	signed_upload s3 signer-131156 && c=$(cat "$T/id") &&
	wait_state "$c" rejected 60 &&
	"$VAULT" -c "$T/vault.conf" release show "$c" |
		grep -q 'certificate revoked' || return 1
	cp "$T/muni-crl.good" "$P/muni-ca/crl.pem"
}

# report_policy ID: the policy digest the job's report gives.
report_policy() {
	"$VAULT" -c "$T/vault.conf" release show "$1" |
		grep -o '"policy_sha256": *"[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}'
}

# job_under NAME SEED DIGEST: an upload that reaches awaiting approval,
# its report naming policy DIGEST.
job_under() {
	local id
	python3 "$GEN" 300 "$2" "$T/$1.csv" &&
	[ "$(upload "$T/$1.csv" health-checkup)" = 201 ] && id=$(cat "$T/id") &&
	wait_state "$id" awaiting_approval 60 || return 1
	[ "$(report_policy "$id")" = "$3" ] ||
		{ echo "job $id ran under $(report_policy "$id"), not $3" >&2; return 1; }
}

# A policy changed on disk, then SIGHUP: checked, recorded with the new
# and the previous digest, and the next job runs under it (its report
# names the new digest), without a restart.
test_r54_the_vault_takes_a_changed_policy_without_a_restart() {
	local old new starts
	starts=$(grep -c 'polling the receiver' "$T/vault.log")
	old=$(sha256sum < "$POLICY" | cut -d' ' -f1) &&
	sed -i 's/action = "band"; width = 5;/action = "band"; width = 10;/' \
		"$POLICY" &&
	new=$(sha256sum < "$POLICY" | cut -d' ' -f1) && [ "$new" != "$old" ] &&
	kill -HUP "$VAULT_PID" || return 1
	wait_for "\"event\":\"policy.changed\".*\"sha256\":\"$new\".*previous=$old" \
		"$T/vdata/audit.log" 10 &&
	grep -q "policy $POLICY changed on disk: checked (sha256 $new, was $old); the next jobs use it" \
		"$T/vault.log" &&
	job_under p1 31 "$new" &&
	[ "$(grep -c 'polling the receiver' "$T/vault.log")" = "$starts" ]
}

# A policy that does not load: refused at the next look (no signal),
# recorded with its line, said once; the policy in use stays, and jobs
# go on under it: the engine and the checker run main's text of it, not
# the broken file. Put back, it is taken again.
test_r54_a_bad_policy_is_refused_and_the_one_in_use_stays() {
	local good
	good=$(sha256sum < "$POLICY" | cut -d' ' -f1) &&
	cp -p "$POLICY" "$T/policy.good" &&
	sed -i 's/^privacy: { k = 5;/privacy: { k = "five";/' "$POLICY" &&
	grep -q 'k = "five"' "$POLICY" || return 1
	wait_for '"event":"policy.refused".*dataset=health-checkup line=24' \
		"$T/vdata/audit.log" 15 &&
	grep -q "$POLICY:24: .*dataset health-checkup keeps the policy in use (sha256 $good)" \
		"$T/vault.log" &&
	job_under p2 32 "$good" || return 1
	# once per dataset and content, not every 5 s
	sleep 6
	[ "$(grep -c '"event":"policy.refused".*dataset=health-checkup' \
		"$T/vdata/audit.log")" = 1 ] || return 1
	cp "$T/policy.good" "$POLICY" &&
	wait_for "\"event\":\"policy.changed\".*\"sha256\":\"$good\".*dataset=health-checkup previous=$good" \
		"$T/vdata/audit.log" 15
}

# An operator added to the roster (the site file and a new key), then
# SIGHUP: the roster's new version is recorded and the new operator's
# approval counts, without a restart. The console reads the site file
# itself; the daemon, which counts the approvals, took the roster in
# place.
test_r42_an_operator_added_to_the_roster_approves_without_a_restart() {
	local id starts
	starts=$(grep -c 'polling the receiver' "$T/vault.log")
	openssl genpkey -algorithm ED25519 -out "$T/ops/op4.key" 2>/dev/null &&
	openssl pkey -in "$T/ops/op4.key" -pubout -out "$T/ops/op4.pub" &&
	chmod 600 "$T/ops/op4.key" && chmod 644 "$T/ops/op4.pub" &&
	sed -i 's|^  { id = "op3";|  { id = "op4"; public_key = "ops/op4.pub"; valid_from = "2020-01-01"; valid_until = "2099-12-31"; },\n&|' \
		"$T/site.conf" && grep -q '"op4"' "$T/site.conf" &&
	kill -HUP "$VAULT_PID" || return 1
	wait_for '"event":"roster.changed".*operators=op1,op2,op4,op3,old' \
		"$T/vdata/audit.log" 10 &&
	grep -q 'its roster is in use (5 operators); any other change is taken at a restart' \
		"$T/vault.log" || return 1
	python3 "$GEN" 300 41 "$T/o1.csv" &&
	[ "$(upload "$T/o1.csv" health-checkup)" = 201 ] && id=$(cat "$T/id") &&
	wait_state "$id" awaiting_approval 60 &&
	approve "$id" op1 >/dev/null && approve "$id" op4 >/dev/null &&
	wait_state "$id" published 30 &&
	grep -q "\"event\":\"release.approved\",\"actor\":\"vault\",\"object\":\"$id\".*operators=op1,op4" \
		"$T/vdata/audit.log" &&
	[ "$(grep -c 'polling the receiver' "$T/vault.log")" = "$starts" ]
}

# A site file that does not load (or names a key that is not there):
# refused once with its line, and the roster in use stays.
test_r42_a_bad_site_file_leaves_the_roster_in_use() {
	local taken i
	taken=$(grep -c 'its roster is in use' "$T/vault.log")
	cp -p "$T/site.conf" "$T/site.good" &&
	sed -i 's|^  { id = "op4";|  { id = "op5"; public_key = "ops/none.pub"; valid_from = "2020-01-01"; valid_until = "2099-12-31"; },\n&|' \
		"$T/site.conf" || return 1
	wait_for '"event":"roster.refused".*operator op5: public key' \
		"$T/vdata/audit.log" 15 &&
	grep -q 'ops/none.pub: No such file or directory; the roster in use stays (5 operators)' \
		"$T/vault.log" || return 1
	printf 'operators = ( oops\n' >> "$T/site.conf" &&
	wait_for '"event":"roster.refused".*line=[1-9]' "$T/vdata/audit.log" 15 &&
	# put back whole (a copy in place could be read half written)
	cp "$T/site.good" "$T/site.new" && mv "$T/site.new" "$T/site.conf" ||
		return 1
	for i in $(seq 150); do
		[ "$(grep -c 'its roster is in use (5 operators)' "$T/vault.log")" -gt "$taken" ] &&
			break
		sleep 0.1
	done
	[ "$(grep -c 'its roster is in use' "$T/vault.log")" -gt "$taken" ] &&
	[ "$(grep -c '"event":"roster.refused"' "$T/vdata/audit.log")" = 2 ]
}

setup_reload() {
	setup && share_pki && restart_all
}

setup_reload || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
[ "$FAILED" -eq 0 ] || tail -30 "$T/vault.log"
summary
