#!/usr/bin/env bash
# test_pipeline.sh: the three daemons on loopback. A municipality uploads
# with curl; the vault pulls, processes, waits for two operators' signed
# approvals, and publishes to the sender; a recipient downloads with curl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

test_r41_upload_flows_to_awaiting_approval() {
	local t0 t1
	python3 "$GEN" 2000 11 "$T/kenshin.csv" &&
	t0=$(date +%s%N) &&
	[ "$(upload "$T/kenshin.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval || return 1
	t1=$(date +%s%N)
	echo "upload to awaiting_approval: $(( (t1 - t0) / 1000000 )) ms"
	# The receiver's copy is gone, with a record; the vault has a report.
	[ ! -e "$T/data/objects/$A" ] &&
	grep -q "\"event\":\"upload.disposed\",\"actor\":\"vault\",\"object\":\"$A\"" "$T/data/audit.log" &&
	"$VAULT" -c "$T/vault.conf" release show "$A" > "$T/show" &&
	grep -q '"rows_out"' "$T/show" &&
	# The summary the operators read (issue 20): its figures are the
	# report's.
	local out
	out=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows_out"])' \
		"$T/vdata/reports/$A.json") &&
	grep -q "^出力行数 / rows out: *$out\$" "$T/show" &&
	grep -q '^モデル / privacy model: *k = 5, l = 2: 満たす / holds$' "$T/show" &&
	grep -q '^  生年月日 *quasi *age_band' "$T/show" &&
	# The first 20 released rows, under the release's header, read from
	# the sealed copy; none with --preview 0.
	grep -q '^先頭 20 行 / the first 20 rows' "$T/show" &&
	[ "$(sed -n '/^先頭 20 行/,/^release report:/p' "$T/show" | grep -c '^  ')" = 21 ] &&
	sed -n '/^先頭 20 行/{n;p}' "$T/show" | grep -q '^  生年月日,性別,郵便番号' &&
	[ "$(sed -n '/^先頭 20 行/,/^release report:/p' "$T/show" |
		grep -c '^  [0-9<]*[-+0-9]*,[男女],')" = 20 ] &&
	! "$VAULT" -c "$T/vault.conf" release show "$A" --preview 0 | grep -q '^先頭' &&
	# The list for scripts: by state, as JSON lines.
	"$VAULT" -c "$T/vault.conf" release list --state awaiting_approval \
		--json > "$T/list.json" &&
	python3 - "$T/list.json" "$A" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["state"] == "awaiting_approval" for r in rows), rows
a = [r for r in rows if r["id"] == sys.argv[2]][0]
assert a["municipality"] == "131156" and a["rows_out"] > 0, a
assert a["approvals"] == 0 and a["approvals_needed"] == 2, a
PY
	# The list for people: the city, when the file was received (to the
	# minute, as the JSON list has it) and the rows the report releases.
	local line rec
	line=$("$VAULT" -c "$T/vault.conf" release list | awk -v id="${A:0:16}" '$1 == id')
	rec=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["id"] == sys.argv[2]][0]["received"][:16] + "Z")' \
		"$T/list.json" "$A")
	echo "$line"
	[ "$(echo "$line" | awk '{print $3, $4, $5, $6}')" = "131156 awaiting_approval $rec $out" ]
}

# The report as a page (issue 20): the daemon writes it beside the report,
# `release show --html` writes the same; it names nothing outside itself,
# and Chromium, in a network namespace of its own with no network at all,
# renders its three charts (the bars' colour is in the screenshot) without
# the page asking for any URL.
test_r41_report_page_renders_in_chromium_fetching_nothing() {
	local page=$T/page.html urls
	[ -s "$T/vdata/reports/$A.html" ] &&
	"$VAULT" -c "$T/vault.conf" release show "$A" --html "$page" > /dev/null &&
	cmp -s "$page" "$T/vdata/reports/$A.html" || return 1
	# no script, and no address but SVG's namespace name
	! grep -qi '<script\|<link\|<img\|<iframe\|url(' "$page" || return 1
	urls=$(grep -o 'https\?://[^"]*' "$page" | grep -vx 'http://www.w3.org/2000/svg')
	[ -z "$urls" ] || { echo "page names: $urls" >&2; return 1; }
	grep -q "content=\"default-src 'none'; style-src 'unsafe-inline'\"" "$page" &&
	grep -q '<svg id="classes"' "$page" && grep -q '<svg id="groups"' "$page" &&
	grep -q '<svg id="loss"' "$page" || return 1
	unshare --net chromium --headless=new --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--no-first-run --user-data-dir="$T/chromium" \
		--log-net-log="$T/net.json" --window-size=800,1200 \
		--screenshot="$T/shot.png" "file://$page" > "$T/chromium.log" 2>&1 ||
		{ tail -5 "$T/chromium.log" >&2; return 1; }
	[ "$(python3 "$TOP/tests/integration/png_color_count.py" "$T/shot.png" 2a6ebb)" -gt 2000 ] ||
		return 1
	# What the page asked for: only itself. (Chromium's own services,
	# its clock and updates on Google's hosts, are the browser's and
	# find no network here.)
	urls=$(grep -o '"url":"[^"]*"' "$T/net.json" | sed 's/^"url":"//; s/"$//' | sort -u |
		grep -v "^file://$page\$" |
		grep -vE '^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)/')
	[ -z "$urls" ] || { echo "requested: $urls" >&2; return 1; }
}

test_r41_one_approval_is_not_enough_nor_the_same_twice() {
	approve "$A" op1 >/dev/null && approve "$A" op1 > "$T/twice" &&
	grep -q '1 of 2' "$T/twice" && sleep 2.5 &&
	[ "$(state "$A")" = awaiting_approval ] &&
	[ "$(recip -o /dev/null -w '%{http_code}' "https://127.0.0.1:$((PORT + 2))/v1/releases/$A")" = 404 ]
}

test_r41_off_roster_and_out_of_date_operators_refused() {
	! "$VAULT" -c "$T/vault.conf" release approve "$A" --yes --operator nobody \
		--key "$T/ops/op2.key" 2>"$T/e1" && grep -q 'not on the roster' "$T/e1" &&
	! approve "$A" old 2>"$T/e2" && grep -q 'not valid today' "$T/e2" &&
	# op2's name with op1's key: the roster's key for op2 does not verify it.
	! "$VAULT" -c "$T/vault.conf" release approve "$A" --yes --operator op2 \
		--key "$T/ops/op1.key" 2>"$T/e3" && grep -q 'does not verify' "$T/e3"
}

test_r41_second_operator_publishes_and_recipient_downloads() {
	local t0 t1 url="https://127.0.0.1:$((PORT + 2))/v1/releases"
	t0=$(date +%s%N)
	approve "$A" op3 >/dev/null && wait_state "$A" published || return 1
	t1=$(date +%s%N)
	echo "second approval to published: $(( (t1 - t0) / 1000000 )) ms"
	RA=$(rid_of "$A") && [ ${#RA} = 32 ] &&
	recip -o "$T/release.csv" "$url/$RA" &&
	python3 "$CHECK" "$T/release.csv" "$T/vdata/reports/$A.json" --k 5 \
		--l 2 --sensitive 診断名 --qi 生年月日,性別,郵便番号 \
		--absent 宛名番号,個人番号,氏名,住所 &&
	grep -q "\"event\":\"release.approved\",\"actor\":\"vault\",\"object\":\"$A\".*operators=op1,op3" \
		"$T/vdata/audit.log" &&
	# R20: the vault's copy of the upload is gone, with a record.
	[ ! -e "$T/vdata/sources/$A" ] &&
	grep -q "\"object\":\"$A\".*source reason=decided" "$T/vdata/audit.log"
}

test_r41_tampered_signature_is_refused() {
	python3 "$GEN" 500 12 "$T/k2.csv" &&
	[ "$(upload "$T/k2.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval && approve "$B" op1 >/dev/null || return 1
	# Flip one character of op1's signature, then op2 approves.
	python3 - "$T/vdata/jobs/$B.approvals" <<'PY' || return 1
import sys
p = sys.argv[1]
f = open(p).read().split(" ")
sig = f[3]
f[3] = ("B" if sig[5] != "B" else "C").join([sig[:5], sig[6:]])
open(p, "w").write(" ".join(f))
PY
	approve "$B" op2 | grep -q '1 of 2' && sleep 2.5 &&
	[ "$(state "$B")" = awaiting_approval ]
}

# A rejection is a decision of two, like an approval: one alone leaves the
# release awaiting; the second rejects it, with the reasons.
test_r41_rejection_needs_two_operators_and_a_reason() {
	"$VAULT" -c "$T/vault.conf" release reject "$B" --yes --operator op3 \
		--key "$T/ops/op3.key" --reason "wrong reference date" |
		grep -q '1 of 2' && sleep 2.5 &&
	[ "$(state "$B")" = awaiting_approval ] &&
	"$VAULT" -c "$T/vault.conf" release reject "$B" --yes --operator op1 \
		--key "$T/ops/op1.key" --reason "wrong reference date" >/dev/null &&
	wait_state "$B" rejected &&
	"$VAULT" -c "$T/vault.conf" release show "$B" | grep -q 'rejected by op[13],op[13]: wrong reference date' &&
	wait_gone "$T/vdata/sources/$B" && wait_gone "$T/vdata/releases/$B"
}

# A CMS-sealed upload is opened and processed; a corrupted one is
# rejected with a reason and never processed.
test_r12_sealed_upload_processed_corrupted_rejected() {
	python3 "$GEN" 500 13 "$T/k3.csv" &&
	openssl cms -encrypt -aes-256-gcm -binary -outform DER \
		-recip "$P/internal-ca/issued/vault-envelope.crt" -in "$T/k3.csv" \
		-out "$T/k3.csv.cms" &&
	[ "$(upload "$T/k3.csv.cms" health-sealed)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" awaiting_approval || return 1
	grep -q "\"event\":\"upload.opened\",\"actor\":\"vault\",\"object\":\"$C\"" "$T/vdata/audit.log" || return 1
	cp "$T/k3.csv.cms" "$T/k4.csv.cms" &&
	printf '\xff\xff\xff\xff' | dd of="$T/k4.csv.cms" bs=1 seek=300 conv=notrunc 2>/dev/null &&
	[ "$(upload "$T/k4.csv.cms" health-sealed)" = 201 ] && D=$(cat "$T/id") &&
	wait_state "$D" rejected &&
	"$VAULT" -c "$T/vault.conf" release show "$D" | grep -q 'cannot be decrypted' &&
	wait_gone "$T/vdata/releases/$D" && wait_gone "$T/vdata/sources/$D"
}

# Signed by the municipality, then sealed: the signature is checked; a file
# signed by another municipality is rejected.
test_r12_signed_upload_checked() {
	local f
	python3 "$GEN" 500 14 "$T/k5.csv" || return 1
	for f in 131156 011002; do
		openssl cms -sign -binary -nodetach -outform DER -in "$T/k5.csv" \
			-signer "$P/muni-ca/issued/$f.crt" \
			-inkey "$P/muni-ca/issued/$f.key" -out "$T/k5.$f.signed" &&
		openssl cms -encrypt -aes-256-gcm -binary -inform DER -outform DER \
			-recip "$P/internal-ca/issued/vault-envelope.crt" \
			-in "$T/k5.$f.signed" -out "$T/k5-$f.csv.cms" || return 1
	done
	[ "$(upload "$T/k5-131156.csv.cms" health-signed)" = 201 ] && S1=$(cat "$T/id") &&
	[ "$(upload "$T/k5-011002.csv.cms" health-signed)" = 201 ] && S2=$(cat "$T/id") &&
	wait_state "$S1" awaiting_approval && wait_state "$S2" rejected &&
	"$VAULT" -c "$T/vault.conf" release show "$S2" | grep -q 'signed by another party' &&
	grep -q "\"object\":\"$S1\".*signature verified" "$T/vdata/audit.log"
}

# R07: the id recipients see is the release's own, fresh and random:
# neither the upload's id nor any part of it, and the receipt the
# municipality got does not contain it; the sender knows only that id.
test_r07_release_id_is_not_the_upload_id() {
	local url="https://127.0.0.1:$((PORT + 2))/v1/releases" listing
	[ -n "$RA" ] && [ "$RA" != "$A" ] &&
	case $RA in *"${A:0:8}"*) false ;; esac &&
	case $A in *"${RA:0:8}"*) false ;; esac || return 1
	listing=$(recip "$url") || return 1
	echo "$listing" | grep -q "\"id\":\"$RA\"" &&
	! echo "$listing" | grep -q "$A" &&
	! grep -q "$A" "$T/sdata/audit.log" &&
	[ "$(recip -o /dev/null -w '%{http_code}' "$url/$A")" = 404 ]
}

test_r41_withdrawal_needs_the_approvals_and_reaches_the_sender() {
	local url="https://127.0.0.1:$((PORT + 2))/v1/releases/$RA"
	"$VAULT" -c "$T/vault.conf" release withdraw "$A" --yes --operator op1 \
		--key "$T/ops/op1.key" >/dev/null && sleep 2.5 &&
	[ "$(state "$A")" = published ] &&
	[ "$(recip -o /dev/null -w '%{http_code}' "$url")" = 200 ] &&
	"$VAULT" -c "$T/vault.conf" release withdraw "$A" --yes --operator op2 \
		--key "$T/ops/op2.key" >/dev/null &&
	wait_state "$A" withdrawn &&
	[ "$(recip -o /dev/null -w '%{http_code}' "$url")" = 410 ]
}

# Issue 15: the vault's show-config prints, after the site, each dataset's
# policy as the engines run it, defaults filled in (the policy file gives
# no on_error, metric-free fixed levels, no line_end: their defaults show).
test_show_config_prints_each_policy_as_it_runs() {
	local pre=datasets.health-checkup.policy. want got
	"$VAULT" -c "$T/vault.conf" show-config > "$T/shown" 2>/dev/null || return 1
	want="${pre}file $POLICY
${pre}input.encoding cp932
${pre}input.delimiter \",\"
${pre}input.header true
${pre}input.on_error fail
${pre}columns.生年月日.action age_band
${pre}columns.生年月日.reference_date 2026-04-01
${pre}columns.生年月日.width 5
${pre}columns.生年月日.top 90
${pre}columns.郵便番号.keep 3
${pre}columns.身長.role other
${pre}privacy.k 5
${pre}privacy.max_suppression 0.05
${pre}privacy.suppressed delete
${pre}privacy.l_diversity 2
${pre}privacy.l_model distinct
${pre}privacy.t_closeness 0
${pre}output.encoding utf-8
${pre}output.shuffle true
${pre}output.line_end lf"
	got=$(grep -F -x -f <(echo "$want") "$T/shown")
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; return 1; }
	grep -q "^${pre}sha256 $(sha256sum "$POLICY" | cut -d' ' -f1)\$" "$T/shown" &&
	grep -q '^datasets.health-signed.policy.privacy.k 5$' "$T/shown"
}

# with_site EDIT ROLE: ROLE's check-config against a copy of the site with
# the sed EDIT applied; prints its output, fails as it fails.
with_site() {
	sed "$1" "$T/site.conf" > "$T/site-edit.conf" &&
	sed 's#^site = .*#site = "site-edit.conf";#' "$T/$2.conf" > "$T/$2-edit.conf" &&
	"$BIN/sekisho-$2" -c "$T/$2-edit.conf" check-config 2>&1
}

# R41 in the configuration: approvals = 1 is refused by every host (one
# operator could publish alone); more approvals than the roster's three
# valid operators can give is refused by the vault, which keeps the
# roster, with the line; the same site is fine for the receiver.
test_r41_approvals_below_two_or_beyond_the_roster_refused() {
	local out
	out=$(with_site '0,/approvals = 2/s//approvals = 1/' vault) &&
		{ echo "approvals = 1 accepted" >&2; return 1; }
	echo "$out" | grep -q 'site-edit.conf:[0-9]*: .*at least 2 distinct operators' || return 1
	out=$(with_site '0,/approvals = 2/s//approvals = 4/' vault) &&
		{ echo "approvals = 4 accepted" >&2; return 1; }
	echo "$out" | grep -q 'site-edit.conf:[0-9]*: .*needs 4 approvals, but the roster has 3' &&
	with_site '0,/approvals = 2/s//approvals = 4/' receiver >/dev/null &&
	with_site '0,/approvals = 2/s//approvals = 3/' vault >/dev/null
}

# with_local ROLE SED: ROLE's check-config with its local file edited.
with_local() {
	sed "$2" "$T/$1.conf" > "$T/$1-local-edit.conf" &&
	"$BIN/sekisho-$1" -c "$T/$1-local-edit.conf" check-config 2>&1
}

# Issue 15, item 2: check-config loads what run loads, and names the
# setting and the file: a key that is not the certificate's, a CA that is
# not there, a certificate out of date or not ours, a CRL past its next
# update; an end within 30 days is a warning, not an error.
# Issue 15, item 4: an operator's key kept under a passphrase signs as
# the plain one does, once the passphrase is given (SEKISHO_KEY_PASSPHRASE
# here; a terminal is asked otherwise); without it, or with a wrong one,
# nothing is signed and the console says why.
test_r53_an_operator_key_under_a_passphrase() {
	local E
	python3 "$GEN" 300 17 "$T/pp.csv" &&
	[ "$(upload "$T/pp.csv" health-checkup)" = 201 ] && E=$(cat "$T/id") &&
	wait_state "$E" awaiting_approval || return 1
	openssl pkey -in "$T/ops/op2.key" -aes-256-cbc -passout pass:op2-secret \
		-out "$T/ops/op2-enc.key" && chmod 600 "$T/ops/op2-enc.key" &&
	head -1 "$T/ops/op2-enc.key" | grep -q ENCRYPTED &&
	approve "$E" op1 >/dev/null || return 1
	# (setsid: no terminal to ask at, wherever the test runs)
	! setsid -w "$VAULT" -c "$T/vault.conf" release approve "$E" --yes \
		--operator op2 --key "$T/ops/op2-enc.key" </dev/null >/dev/null 2>"$T/err" &&
	grep -q 'passphrase is wrong or missing' "$T/err" &&
	! SEKISHO_KEY_PASSPHRASE=wrong "$VAULT" -c "$T/vault.conf" release approve \
		"$E" --yes --operator op2 --key "$T/ops/op2-enc.key" >/dev/null 2>&1 &&
	[ "$(state "$E")" = awaiting_approval ] &&
	SEKISHO_KEY_PASSPHRASE=op2-secret "$VAULT" -c "$T/vault.conf" release \
		approve "$E" --yes --operator op2 --key "$T/ops/op2-enc.key" |
		grep -q '2 of 2' &&
	wait_state "$E" published
}

test_check_config_loads_what_run_loads() {
	local out d=$P/internal-ca
	for r in receiver sender vault; do
		"$BIN/sekisho-$r" -c "$T/$r.conf" check-config >/dev/null 2>&1 ||
			{ echo "$r: check-config fails on the good set-up" >&2; return 1; }
	done
	out=$(with_local receiver 's#issued/receiver.key#issued/vault.key#') &&
		{ echo "a foreign key accepted" >&2; return 1; }
	echo "$out" | grep -q "error: 'key' (.*vault.key): does not match the certificate" || return 1
	out=$(with_site 's#pki/muni-ca/ca.crt#pki/muni-ca/none.crt#' receiver) &&
		return 1
	echo "$out" | grep -q "error: 'receiver external (municipalities) CA' (.*none.crt): cannot open" || return 1
	# A certificate that ended last year, and one from another CA.
	openssl req -new -key "$d/issued/sender.key" -subj /CN=old -out "$T/old.csr" 2>/dev/null &&
	openssl ca -batch -config "$d/openssl.cnf" -in "$T/old.csr" -out "$T/old.crt" \
		-startdate 20200101000000Z -enddate 20250101000000Z -notext 2>/dev/null || return 1
	out=$(with_local sender "s#pki/internal-ca/issued/sender.crt#old.crt#") && return 1
	echo "$out" | grep -q "error: 'certificate' (.*old.crt): the certificate has expired" || return 1
	out=$(with_local sender "s#internal-ca/issued/sender.crt#muni-ca/issued/131156.crt#;s#internal-ca/issued/sender.key#muni-ca/issued/131156.key#") &&
		return 1
	echo "$out" | grep -q "error: 'certificate' (.*131156.crt): is not issued by the internal CA" || return 1
	# A CRL past its next update is an error: every city would be refused.
	openssl ca -batch -config "$P/muni-ca/openssl.cnf" -gencrl \
		-crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
		-out "$T/old.crl" 2>/dev/null || return 1
	out=$(with_site 's#municipalities = "pki/muni-ca/ca.crt";#& municipalities_crl = "old.crl";#' receiver) &&
		return 1
	echo "$out" | grep -q "old.crl): the CRL's next update has passed" || return 1
	# A policy that is not there: the site's line that names it.
	out=$(with_site '0,/checkup.policy/s//nothing.policy/' vault) && return 1
	echo "$out" | grep -q 'site-edit.conf:[0-9][0-9]*: dataset health-checkup: policy .*nothing.policy: cannot open' ||
		{ echo "$out" | tail -3; return 1; }
	# Ten days left: a warning, and still OK.
	"$PKI" "$P" issue internal-ca soon --server --uri urn:sekisho:host:receiver \
		--ip 127.0.0.1 --days 10 >/dev/null &&
	out=$(with_local receiver 's#issued/receiver\.#issued/soon.#g') || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "warning: 'certificate' (.*soon.crt): the certificate expires in [0-9]* days" &&
	echo "$out" | grep -q ': OK'
}

test_r15_all_three_audit_logs_verify() { audit_logs_verify; }
test_sanitizers_found_nothing() { no_sanitizer_reports; }

setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
[ "$FAILED" -eq 0 ] || tail -30 "$T/vault.log"
summary
