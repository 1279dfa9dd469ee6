#!/usr/bin/env bash
# test_r55_release_package.sh: every release comes with its researcher's
# package: a codebook (Frictionless datapackage.json and codebook.md) and a
# manifest of the files with their SHA-256, signed by the vault (CMS). A
# recipient proves with openssl and sha256sum alone that the file is the
# one the two operators approved (R55, R51), and reads in the codebook what
# each column is, what was done to it and the terms of use (R07). What the
# test checks against is its own: the file it downloaded, the digest the
# vault's console shows, the header and rows it counts itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"
W=$T/recipient

fetch_package() {	# fetch_package RID: the five files into $W
	local f name
	rm -rf "$W" && mkdir -p "$W" || return 1
	for f in manifest manifest.p7s datapackage.json codebook.md; do
		[ "$(recip -o "$W/$f" -w '%{http_code}' "$URL/$1/$f")" = 200 ] ||
			{ echo "GET $f: not 200"; return 1; }
	done
	name=$(head -1 "$W/manifest" | awk '{print $2}')
	[ -n "$name" ] && [ "$(recip -o "$W/$name" -w '%{http_code}' \
		"$URL/$1")" = 200 ] && echo "$name" > "$W/.name"
}

verify() {	# openssl cms -verify of the manifest, against the internal CA
	openssl cms -verify -binary -inform DER -in "$W/manifest.p7s" \
		-content "$W/manifest" -CAfile "$P/internal-ca/ca.crt" \
		-out /dev/null 2>"$W/verify.err"
}

# approve shows what it signs (the digests, the operator, the time) and
# asks at the terminal; a script passes --yes. A pseudo-terminal from
# script(1) plays the operator.
test_r53_an_operator_sees_what_is_signed_and_confirms() {
	local cmd out
	python3 "$GEN" 300 173 "$T/c.csv" &&
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" awaiting_approval || return 1
	cmd="$VAULT -c $T/vault.conf release approve $C --operator op1 --key $T/ops/op1.key"
	# No terminal, no --yes: nothing signed.
	! $cmd < /dev/null > "$T/o1" 2>&1 && grep -q -- '--yes' "$T/o1" &&
	[ ! -e "$T/vdata/jobs/$C.approvals" ] || { cat "$T/o1"; return 1; }
	# "n" at the prompt: nothing signed.
	echo n | script -qec "$cmd" /dev/null > "$T/o2" 2>&1
	grep -q 'not signed' "$T/o2" && [ ! -e "$T/vdata/jobs/$C.approvals" ] ||
		{ cat "$T/o2"; return 1; }
	# "y": signed, after showing the release's digest as the console
	# knows it, and the operator and time it signs.
	echo y | script -qec "$cmd" /dev/null > "$T/o3" 2>&1
	out=$("$VAULT" -c "$T/vault.conf" release show "$C" |
		awk '/^release: .* sha256 / {print $NF; exit}')
	tr -d '\r' < "$T/o3" > "$T/o3.txt"
	cat "$T/o3.txt"
	grep -q "output_sha256=$out" "$T/o3.txt" &&
	grep -q 'operator=op1' "$T/o3.txt" && grep -q 'time=[0-9]' "$T/o3.txt" &&
	grep -q '1 of 2' "$T/o3.txt" &&
	[ "$(grep -c '^approve op1 ' "$T/vdata/jobs/$C.approvals")" = 1 ] ||
		return 1
	# The codebook's two files as the vault keeps them are the ones
	# whose digests were signed, with the recipient.
	grep -q "datapackage_sha256=$(sha256sum "$T/vdata/reports/$C.datapackage.json" | awk '{print $1}')$" "$T/o3.txt" &&
	grep -q "codebook_sha256=$(sha256sum "$T/vdata/reports/$C.codebook.md" | awk '{print $1}')$" "$T/o3.txt" &&
	grep -q '^    recipients=univ-a$' "$T/o3.txt" || return 1
	# The signature is an audit entry of its own, by the operator whose
	# signature verifies, with the digest of the text signed (rebuilt
	# here from the lines shown).
	sed -n '/^    sekisho-approval-v3$/,/^    reason=/p' "$T/o3.txt" |
		sed 's/^    //' > "$T/signed.txt" &&
	[ "$(wc -l < "$T/signed.txt")" -ge 12 ] || return 1
	out=$(sha256sum "$T/signed.txt" | awk '{print $1}')
	wait_for_audit "\"event\":\"release.signed\",\"actor\":\"operator:op1\",\"object\":\"$C\",.*command=release-approve operator=op1 time=[0-9]* signed_sha256=$out\"" ||
		{ grep release.signed "$T/vdata/audit.log"; return 1; }
}

# The codebook is made when the release is accepted, and what goes out is
# what the operators signed: a codebook file changed in the vault after
# that is not published.
test_r55_a_codebook_changed_after_approval_is_not_published() {
	local D
	python3 "$GEN" 300 175 "$T/d.csv" &&
	[ "$(upload "$T/d.csv" health-checkup)" = 201 ] && D=$(cat "$T/id") &&
	wait_state "$D" awaiting_approval && approve "$D" op1 >/dev/null &&
	[ -s "$T/vdata/reports/$D.codebook.md" ] || return 1
	printf '\n追記 / added after approval\n' >> "$T/vdata/reports/$D.codebook.md"
	approve "$D" op2 >/dev/null && wait_state "$D" failed &&
	"$VAULT" -c "$T/vault.conf" release show "$D" |
		grep -q "is not the codebook the operators approved" &&
	grep -q "\"event\":\"release.refused\",\"actor\":\"vault\",\"object\":\"$D\"" "$T/vdata/audit.log" &&
	! grep -q "\"event\":\"release.published\",\"actor\":\"vault\",\"object\":\"$D\"" "$T/vdata/audit.log" &&
	! ls "$T/sdata/objects/" | grep -q "^$(rid_of "$D")"
}

# A job whose privacy model cannot be met still has its report (issue 20):
# every postal code's first three digits made unique, so that each person
# is a class of one; the report, the console's summary and the page say
# so and name 郵便番号 as the column to generalize. Nothing is released and
# nothing can be signed.
test_r41_a_failed_job_reports_the_column_that_drives_it() {
	local F
	python3 "$GEN" 300 177 "$T/f0.csv" &&
	python3 - "$T/f0.csv" "$T/f.csv" <<'PY' || return 1
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="cp932", newline="")))
for i, r in enumerate(rows[1:]):
    r[5] = "%03d-0000" % (100 + i)
csv.writer(open(sys.argv[2], "w", encoding="cp932", newline=""),
           lineterminator="\r\n").writerows(rows)
PY
	[ "$(upload "$T/f.csv" health-checkup)" = 201 ] && F=$(cat "$T/id") &&
	wait_state "$F" failed && ! approve "$F" op1 >/dev/null 2>&1 &&
	[ ! -e "$T/vdata/releases/$F" ] &&
	[ ! -e "$T/vdata/reports/$F.codebook.md" ] || return 1
	python3 - "$T/vdata/reports/$F.json" <<'PY' || return 1
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert r["outcome"] == "failed" and r["failed_on"] == "郵便番号", r
assert r["rows_in"] == 300 and r["rows_out"] == 0, r
assert r["classes_under_k"] == 300 and r["rows_in_classes_under_k"] == 300, r
assert "more than max_suppression" in r["failure"], r
PY
	"$VAULT" -c "$T/vault.conf" release show "$F" > "$T/show-f" &&
	grep -q '^state: *failed: .*"郵便番号" drives it' "$T/show-f" &&
	grep -q '^結果 / outcome: *加工できませんでした / NOT RELEASED: k-anonymity' "$T/show-f" &&
	grep -q '^原因の列 / driving column: *郵便番号（' "$T/show-f" &&
	grep -q '^k 未満のクラス / classes under k: 300 (300 行 / rows)$' "$T/show-f" &&
	! grep -q '^先頭' "$T/show-f" &&
	grep -q '<b>郵便番号</b>' "$T/vdata/reports/$F.html" &&
	grep -q "\"event\":\"release.failed_report\",\"actor\":\"vault\",\"object\":\"$F\"" "$T/vdata/audit.log"
}

test_r55_a_recipient_verifies_the_release_with_openssl_and_sha256sum() {
	local approved got
	python3 "$GEN" 400 171 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published && RA=$(rid_of "$A") && [ -n "$RA" ] ||
		return 1
	fetch_package "$RA" || return 1
	verify || { cat "$W/verify.err"; return 1; }
	(cd "$W" && sha256sum -c manifest) || return 1
	# .../codebook is the codebook for people too.
	recip -o "$W/codebook" "$URL/$RA/codebook" && cmp "$W/codebook" "$W/codebook.md" &&
	rm "$W/codebook" || return 1
	# The file is the one the operators approved: its digest is the one
	# the vault's console shows for the job.
	approved=$("$VAULT" -c "$T/vault.conf" release show "$A" |
		awk '/^release: .* sha256 / {print $NF; exit}')
	got=$(sha256sum "$W/$(cat "$W/.name")" | awk '{print $1}')
	echo "approved $approved, downloaded $got"
	[ -n "$approved" ] && [ "$approved" = "$got" ] &&
	grep -q "\"hash\": \"sha256:$got\"" "$W/datapackage.json" &&
	# The codebook downloaded is the one the operators signed digests of.
	"$VAULT" -c "$T/vault.conf" release show "$A" > "$T/show-a" &&
	grep -q "datapackage.json sha256 $(sha256sum "$W/datapackage.json" | awk '{print $1}')$" "$T/show-a" &&
	grep -q "codebook.md sha256 $(sha256sum "$W/codebook.md" | awk '{print $1}')$" "$T/show-a" &&
	grep -q "\"event\":\"release.package\"" "$T/sdata/audit.log" &&
	grep '"event":"release.published"' "$T/vdata/audit.log" |
		grep -q "manifest_sha256=$(sha256sum "$W/manifest" | awk '{print $1}')"
}

test_r55_a_changed_release_manifest_or_signer_is_refused() {
	local name rc
	name=$(cat "$W/.name")
	cp -a "$W" "$W.bad" || return 1
	# One byte of the release changed (to another than it was): its
	# line in the manifest fails.
	if [ "$(dd if="$W/$name" bs=1 skip=40 count=1 2>/dev/null)" = X ]; then
		printf 'Y'
	else
		printf 'X'
	fi | dd of="$W.bad/$name" bs=1 seek=40 conv=notrunc 2>/dev/null
	! cmp -s "$W/$name" "$W.bad/$name" || return 1
	(cd "$W.bad" && sha256sum -c manifest >/dev/null 2>&1) && return 1
	# A digest in the manifest changed (its first hex digit, to another
	# one): the signature fails.
	cp "$W/manifest" "$W.bad/manifest" &&
	sed -i '1s/^0/x/;1s/^[1-9a-f]/0/;1s/^x/1/' "$W.bad/manifest" &&
	! cmp -s "$W/manifest" "$W.bad/manifest" || return 1
	rc=0
	openssl cms -verify -binary -inform DER -in "$W.bad/manifest.p7s" \
		-content "$W.bad/manifest" -CAfile "$P/internal-ca/ca.crt" \
		-out /dev/null 2>/dev/null || rc=$?
	[ "$rc" != 0 ] || { echo "a changed manifest verified"; return 1; }
	# Signed by another CA's key: refused against the internal CA.
	"$PKI" "$P" issue rogue-ca vault-signing --signing \
		--uri urn:sekisho:host:vault-signing >/dev/null &&
	openssl cms -sign -binary -outform DER -in "$W/manifest" \
		-signer "$P/rogue-ca/issued/vault-signing.crt" \
		-inkey "$P/rogue-ca/issued/vault-signing.key" \
		-out "$W.bad/manifest.p7s" || return 1
	rc=0
	openssl cms -verify -binary -inform DER -in "$W.bad/manifest.p7s" \
		-content "$W/manifest" -CAfile "$P/internal-ca/ca.crt" \
		-out /dev/null 2>/dev/null || rc=$?
	[ "$rc" != 0 ] || { echo "another CA's signature verified"; return 1; }
}

test_r07_the_codebook_describes_every_released_column() {
	python3 - "$W" "$(cat "$W/.name")" "$POLICY" <<'PY'
import csv, io, json, sys
w, name, policy = sys.argv[1], sys.argv[2], sys.argv[3]
dp = json.load(open(w + "/datapackage.json", encoding="utf-8"))
assert dp["profile"] == "tabular-data-package", dp["profile"]
res = dp["resources"][0]
assert res["path"] == name and res["format"] == "csv", res
rows = list(csv.reader(io.StringIO(open(w + "/" + name, encoding="utf-8").read())))
header, body = rows[0], [r for r in rows[1:] if r]
fields = res["schema"]["fields"]
assert [f["name"] for f in fields] == header, ([f["name"] for f in fields], header)
for f in fields:
    p = f["sekisho:processing"]
    assert p["ja"] and p["en"], f
ages = next(f for f in fields if f["name"] == "生年月日")
assert "2026-04-01" in ages["sekisho:processing"]["en"] and "90" in ages["sekisho:processing"]["en"], ages
height = next(f for f in fields if f["name"] == "身長")
assert "height" in height["description"] and "身長" in height["sekisho:description_ja"], height
post = next(f for f in fields if f["name"] == "郵便番号")
assert "first 3 characters" in post["sekisho:processing"]["en"], post
sk = dp["sekisho"]
assert sk["privacy"]["k"] == 5 and sk["privacy"]["l"] == 2, sk["privacy"]
assert sk["counts"]["rows_out"] == len(body), (sk["counts"], len(body))
assert sk["recipients"][0]["id"] == "univ-a", sk["recipients"]
assert "identify" in sk["terms"]["en"] and "識別" in sk["terms"]["ja"]
md = open(w + "/codebook.md", encoding="utf-8").read()
for col in header:
    assert "| " + col + " |" in md, col
for dropped in ("氏名", "個人番号", "住所"):
    assert dropped not in header and dropped in md.split("削除した列:")[1].split("\n")[0], dropped
assert "k = 5" in md and "## 日本語" in md and "## English" in md
print("codebook: %d columns, %d rows" % (len(fields), len(body)))
PY
}

test_r55_no_package_file_outside_the_four_and_none_after_withdrawal() {
	[ "$(recip -o /dev/null -w '%{http_code}' "$URL/$RA/report.json")" = 404 ] &&
	[ "$(recip -o /dev/null -w '%{http_code}' "$URL/0123456789abcdef0123456789abcdef/manifest")" = 404 ] &&
	"$VAULT" -c "$T/vault.conf" release withdraw "$A" --yes --operator op1 \
		--key "$T/ops/op1.key" >/dev/null &&
	"$VAULT" -c "$T/vault.conf" release withdraw "$A" --yes --operator op2 \
		--key "$T/ops/op2.key" >/dev/null &&
	wait_state "$A" withdrawn &&
	[ "$(recip -o /dev/null -w '%{http_code}' "$URL/$RA/manifest")" = 410 ] &&
	! ls "$T/sdata/objects/" "$T/sdata/packages/" | grep -q "^$RA"
}

run_pipeline_tests
