#!/usr/bin/env bash
# test_r40_r44_ledgers.sh: the council's ledgers (forms 7 to 10) printed by
# the vault from the three hosts' audit logs and the site's registers (R40,
# R44, R31), and the recipient register's contract dates enforced (R28).
# The expected cells are the test's own inputs (the file name a city chose,
# the registers' texts, the operators' names), never the code's output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"
FNAME="健診結果_2026年11月分.csv"
TODAY=$(TZ=Asia/Tokyo date +%F)
YESTERDAY=$(TZ=Asia/Tokyo date -d yesterday +%F)
TOMORROW=$(TZ=Asia/Tokyo date -d tomorrow +%F)

# upload_named FILE NAME DATASET: as upload, under a name of the city's.
upload_named() {
	local enc
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$2")
	curl_as 131156 -o "$T/receipt" -w '%{http_code}' -T "$1" \
		"https://127.0.0.1:$PORT/v1/uploads/$3/$enc" &&
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' \
		"$T/receipt" > "$T/id"
}

# The registers, as an administrator writes them into the site file.
write_registers() {
	python3 - "$T/site.conf" <<'PY'
import sys
path = sys.argv[1]
s = open(path, encoding="utf-8").read()
s = s.replace('{ id = "health-checkup";',
    '{ id = "health-checkup"; purpose = "特定健診結果の統計分析のため"; '
    'department = "健康福祉部 健康推進課";', 1)
names = {"op1": "鈴木 一郎", "op2": "佐藤 花子", "op3": "高橋 次郎", "old": "田中 三郎"}
for op, name in names.items():
    s = s.replace('{ id = "%s";' % op, '{ id = "%s"; name = "%s"; '
        'scope = "健診結果 (匿名加工前)";' % (op, name), 1)
s = s.replace('{ id = "univ-a";', '{ id = "univ-a"; contract = "2026-研-017"; '
    'purpose = "疫学研究"; legal_basis = "条例第12条"; '
    'valid_from = "2026-01-01"; valid_until = "2099-12-31";', 1)
open(path, "w", encoding="utf-8").write(s)
PY
}

# contract_until DAY: the recipient's contract ends on DAY.
contract_until() {
	python3 - "$T/site.conf" "$1" <<'PY'
import re, sys
path, day = sys.argv[1], sys.argv[2]
s = open(path, encoding="utf-8").read()
s, n = re.subn(r'(id = "univ-a";[^}]*?valid_until = ")[^"]*"', r'\g<1>%s"' % day, s)
assert n == 1
open(path, "w", encoding="utf-8").write(s)
PY
}

ledger() {	# ledger FORM: the CSV on stdout
	"$VAULT" -c "$T/vault.conf" ledger --form "$1" --from "$YESTERDAY" \
		--to "$TOMORROW" --logs "$T/data" "$T/vdata" "$T/sdata"
}

test_the_story_a_release_downloaded_and_a_rejection() {
	python3 "$GEN" 300 91 "$T/a.csv" && python3 "$GEN" 300 92 "$T/b.csv" &&
	[ "$(upload_named "$T/a.csv" "$FNAME" health-checkup)" = 201 ] &&
	A=$(cat "$T/id") &&
	[ "$(upload_named "$T/b.csv" "差替前_$FNAME" health-checkup)" = 201 ] &&
	B=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval && wait_state "$B" awaiting_approval &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published &&
	recip -o "$T/release.csv" "$URL/$(rid_of "$A")" &&
	for op in op1 op2; do
		"$VAULT" -c "$T/vault.conf" release reject "$B" --yes --operator $op \
			--key "$T/ops/$op.key" --reason "列の誤り" >/dev/null || return 1
	done &&
	wait_state "$B" rejected && wait_gone "$T/vdata/sources/$B" &&
	write_registers
}

# R31: the file names the cities chose are in no log, only in the ledger.
test_r31_file_names_are_in_no_log() {
	! grep -rqF "$FNAME" "$T/data" "$T/vdata" "$T/sdata" "$T"/*.log &&
	! grep -rqF "健診結果_2026" "$T/data/audit.log" "$T/vdata/audit.log" \
		"$T/sdata/audit.log"
}

test_r40_r44_form8_receipt_and_disposal_ledger() {
	ledger 8 > "$T/form8.csv" || return 1
	python3 - "$T/form8.csv" "$A" "$B" "$FNAME" <<'PY'
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw, "BOM and CRLF"
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
assert rows[0] == ["受払簿No.", "入手 年月日", "入手 取扱者",
    "特定個人情報等(ファイル名・書類名)", "入手目的", "提出/廃棄 年月日", "事由",
    "取扱者", "備考"], rows[0]
by = {r[0]: r for r in rows[1:]}
a, b = by[sys.argv[2]], by[sys.argv[3]]
for r in (a, b):
    assert all(c != "" for c in r), r          # every column filled
    assert "131156" in r[2] and r[4] == "特定健診結果の統計分析のため", r
    assert "保管庫へ引渡し後に消去" in r[6] and "判断後に消去" in r[6], r
    assert "鈴木 一郎" in r[7] and "佐藤 花子" in r[7], r
assert a[3] == sys.argv[4] and b[3] == "差替前_" + sys.argv[4], (a[3], b[3])
assert "提供承認済み" in a[8] and "提供却下" in b[8], (a[8], b[8])
print("form 8: %d rows, e.g. %s" % (len(rows) - 1, ",".join(a)))
PY
}

test_r40_r44_form9_usage_record() {
	ledger 9 > "$T/form9.csv" || return 1
	python3 - "$T/form9.csv" "$A" "$B" "$FNAME" <<'PY'
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
assert rows[0] == ["使用日時", "受払簿No.",
    "使用する特定個人情報等(ファイル名・書類名)", "使用目的", "使用者", "備考"]
body = rows[1:]
for r in body:
    assert all(c != "" for c in r), r
a = [r for r in body if r[1] == sys.argv[2]]
b = [r for r in body if r[1] == sys.argv[3]]
# processing, then one row per operator's own signature
assert [r[4] for r in a if "匿名加工" in r[5]] == ["保管庫(自動処理)"], a
assert sorted(r[4] for r in a if "承認" in r[5]) == ["op1 (鈴木 一郎)", "op2 (佐藤 花子)"], a
assert sorted(r[4] for r in b if "却下" in r[5]) == ["op1 (鈴木 一郎)", "op2 (佐藤 花子)"], b
assert all(r[2] == sys.argv[4] and r[3] == "特定健診結果の統計分析のため" for r in a), a
PY
}

test_r40_r44_form10_copy_and_transport_record() {
	ledger 10 > "$T/form10.csv" || return 1
	python3 - "$T/form10.csv" "$A" "$FNAME" "$(stat -c %s "$T/release.csv")" \
		"$T/a.csv" "$T/release.csv" <<'PY'
import csv, io, os, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
assert rows[0] == ["複製日時", "複製元特定個人情報等(ファイル名・書類名)",
    "複製元(媒体等)/運搬元所在地", "複製先(媒体等)/運搬先所在地", "複製の量",
    "複製・運搬の目的(引き渡し先)", "作業者", "備考"], rows[0]
body = rows[1:]
hand = [r for r in body if r[1] == sys.argv[3]]
pub = [r for r in body if r[2] == "保管庫" and sys.argv[2] in r[1]]
down = [r for r in body if r[2] == "送信サーバ"]
assert len(hand) == 1 and hand[0][2].startswith("受信サーバ") and \
    hand[0][3].startswith("保管庫"), hand
assert len(pub) == 1 and "univ-a" in pub[0][5] and "2026-研-017" in pub[0][5] \
    and "鈴木 一郎" in pub[0][6], pub
assert len(down) == 1 and down[0][4] == sys.argv[4] + " バイト" and \
    "univ-a" in down[0][5], down
for r in hand + pub + down:
    assert all(c != "" for c in r[:7]), r
# Records beside the bytes: the upload's lines (its receipt counts the
# header), the release's records (without it), counted here.
up, rel = sys.argv[5], sys.argv[6]
up_lines = open(up, "rb").read().count(b"\n")
rel_records = open(rel, "rb").read().count(b"\n") - 1
assert hand[0][4] == "%d バイト (%d 行、見出し行を含む)" % (os.path.getsize(up), up_lines), hand
assert pub[0][4] == "%d バイト (%d 件、見出し行を除く)" % (os.path.getsize(rel), rel_records), pub
PY
}

test_r42_r44_form7_roster() {
	"$VAULT" -c "$T/vault.conf" ledger --form 7 --from "$TODAY" \
		--to "$TODAY" > "$T/form7.csv" || return 1
	python3 - "$T/form7.csv" <<'PY'
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
assert rows[0] == ["利用者名", "取扱う特定個人情報の範囲", "指定年月日", "解除年月日", "備考"]
names = sorted(r[0] for r in rows[1:])
# "old" left the roster in 2021: not on this month's roster.
assert names == sorted(["鈴木 一郎", "佐藤 花子", "高橋 次郎"]), names
for r in rows[1:]:
    assert r[1] == "健診結果 (匿名加工前)" and r[2] == "2020-01-01" and \
        r[3] == "2099-12-31", r
PY
}

test_ledger_refuses_a_bad_call() {
	! "$VAULT" -c "$T/vault.conf" ledger --form 11 --logs "$T/data" \
		2>/dev/null &&
	! "$VAULT" -c "$T/vault.conf" ledger --form 8 --from 2026-13-01 \
		--logs "$T/data" 2>"$T/e" && grep -q 'YYYY-MM-DD' "$T/e"
}

# R28: a recipient whose contract ended yesterday downloads nothing, and a
# release for it alone is not published: the vault refuses it when it is
# made, before any operator is asked to sign (the recipients are part of
# what they sign). (The site file's dates are UTC days, as the operators'
# are.)
test_r28_a_recipient_out_of_contract_gets_nothing() {
	local code ended
	ended=$(date -u -d yesterday +%F)
	contract_until "$ended" &&
	grep -q "valid_until = \"$ended\"" "$T/site.conf" &&
	stop_sender && start_sender || return 1
	code=$(recip -o /dev/null -w '%{http_code}' "$URL/$(rid_of "$A")")
	[ "$code" = 403 ] && grep -q 'contract is not in force' "$T/sdata/audit.log" || return 1
	stop_vault && start_vault &&
	python3 "$GEN" 300 93 "$T/c.csv" &&
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" failed && ! approve "$C" op1 >/dev/null 2>&1 &&
	[ ! -e "$T/vdata/jobs/$C.approvals" ] &&
	"$VAULT" -c "$T/vault.conf" release show "$C" | grep -q 'contract in force' &&
	[ -z "$(grep "\"event\":\"release.published\",\"actor\":\"vault\",\"object\":\"$C\"" "$T/vdata/audit.log")" ]
}

test_r28_a_half_given_contract_is_a_config_error() {
	sed 's/valid_from = "2026-01-01"; //' "$T/site.conf" > "$T/half.conf" &&
	sed "s|site = \"site.conf\"|site = \"half.conf\"|" "$T/vault.conf" > "$T/vhalf.conf" &&
	! "$VAULT" -c "$T/vhalf.conf" check-config 2>"$T/e" &&
	grep -q "half.conf:[0-9]*: .*give both 'valid_from' and 'valid_until'" "$T/e"
}

# R43: the month's review verifies each log with its first key, lists what
# an auditor must look at (here the job that failed for want of a contract
# in force; operators' signatures at night or at the weekend, when the test
# runs then), is signed, and the signature is audited.
test_r43_monthly_review_verifies_lists_and_is_signed() {
	local month rc sha
	month=$(TZ=Asia/Tokyo date +%Y-%m)
	"$VAULT" -c "$T/vault.conf" review --month "$month" --logs "$T/data" \
		"$T/vdata" "$T/sdata" --out "$T/review.txt" --sign \
		--operator op1 --key "$T/ops/op1.key" > "$T/review.out"
	rc=$?
	cat "$T/review.txt"
	[ "$rc" = 1 ] || return 1
	python3 - "$T/review.txt" "$C" "$T/vdata/audit.log" <<'PY' || return 1
import json, sys, datetime
text = open(sys.argv[1], encoding="utf-8").read()
sec = {}
cur = None
for line in text.splitlines():
    if line[:2] in ("1.", "2.", "3.", "4.", "5."):
        cur = line[:1]
    elif line.strip()[:2] in ("a.", "b.", "c.", "d.", "e.", "f."):
        cur = "3" + line.strip()[:1]
    sec.setdefault(cur, []).append(line)
logs = "\n".join(sec["1"])
assert logs.count("OK (") == 3, logs               # three logs verified
assert sys.argv[2] in "\n".join(sec["3d"]), sec["3d"]   # the failed job
# signatures at odd hours, computed here from the vault's own log
odd = False
for l in open(sys.argv[3]):
    e = json.loads(l)
    if e["event"] in ("release.approved", "release.rejected"):
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ") + \
            datetime.timedelta(hours=9)
        odd |= t.hour < 7 or t.hour >= 20 or t.weekday() >= 5
e3 = "\n".join(sec["3e"])
assert ("release.approved" in e3) == odd, (odd, e3)
assert "確認事項あり / items to check" in text
PY
	sha=$(sha256sum "$T/review.txt" | cut -d' ' -f1) &&
	wait_for_audit "\"event\":\"review.signed\",\"actor\":\"operator:op1\",\"object\":\"review-$month\",.*\"sha256\":\"$sha\""
}

# An edited copy of the receiver's log fails verification in the review.
test_r43_review_catches_an_edited_log() {
	mkdir -p "$T/copy" && cp "$T/data/audit.log" "$T/data/audit.log.key0" "$T/copy/" &&
	sed -i '0,/"event":"upload.stored"/s/"size":\([0-9]*\)/"size":1\1/' "$T/copy/audit.log" &&
	! cmp -s "$T/copy/audit.log" "$T/data/audit.log" &&
	! "$VAULT" -c "$T/vault.conf" review --month "$(TZ=Asia/Tokyo date +%Y-%m)" \
		--logs "$T/copy" "$T/vdata" "$T/sdata" > "$T/review2.txt" &&
	grep -q 'FAILED at line' "$T/review2.txt"
}

# R45: the disposal report owed to the city lists every copy of each of its
# uploads and what became of it; R25: the inspection shows what is held.
test_r45_disposal_report_lists_every_copy() {
	local rc
	"$VAULT" -c "$T/vault.conf" disposal-report --municipality 131156 \
		--signed "$T/disp.p7m" --logs "$T/data" "$T/vdata" "$T/sdata" \
		> "$T/disp.txt"
	rc=$?
	cat "$T/disp.txt"
	# The signed copy: the same text, checked with openssl against the
	# internal CA, as the municipality checks it; a changed byte fails.
	openssl cms -verify -inform DER -in "$T/disp.p7m" \
		-CAfile "$T/pki/internal-ca/ca.crt" -out "$T/disp.opened" 2>/dev/null &&
	cmp "$T/disp.txt" "$T/disp.opened" || { echo "the signed report differs"; return 1; }
	python3 - "$T/disp.p7m" "$T/disp.bad" <<'PY' || return 1
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find("廃棄報告書".encode())
b[i] ^= 1
open(sys.argv[2], "wb").write(b)
PY
	! openssl cms -verify -inform DER -in "$T/disp.bad" \
		-CAfile "$T/pki/internal-ca/ca.crt" -out /dev/null 2>/dev/null || return 1
	# Signed with the rogue CA's key instead: refused against ours.
	! openssl cms -verify -inform DER -in "$T/disp.p7m" \
		-CAfile "$T/pki/rogue-ca/ca.crt" -out /dev/null 2>/dev/null || return 1
	# Never over an existing file.
	cp "$T/disp.p7m" "$T/disp.keep" &&
	! "$VAULT" -c "$T/vault.conf" disposal-report --municipality 131156 \
		--signed "$T/disp.p7m" --logs "$T/data" "$T/vdata" "$T/sdata" \
		>/dev/null 2>"$T/err" &&
	grep -q 'the signed report goes to a new file' "$T/err" &&
	cmp -s "$T/disp.p7m" "$T/disp.keep" || return 1
	python3 - "$T/disp.txt" "$rc" "$A" "$B" "$C" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
rc, a, b, c = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
blocks = {}
cur = None
for line in text.splitlines():
    if line.startswith("受付 / upload "):
        cur = line.split()[3]
        blocks[cur] = []
    elif cur is not None and line.startswith("  "):
        blocks[cur].append(line.strip())
assert set((a, b, c)) <= set(blocks), blocks.keys()
def copies(u):
    out, it = {}, iter(blocks[u])
    for where in it:
        out.setdefault(where[2:], []).append(next(it))
    return out
ca, cb = copies(a), copies(b)
recv = [k for k in ca if k.startswith("受信サーバ")][0]
assert "handed_over, key overwritten" in ca[recv][0], ca[recv]
src = [k for k in ca if k.startswith("保管庫の封かん原本")][0]
assert "decided, key overwritten" in ca[src][0], ca[src]
prov = [k for k in ca if k.startswith("提供先への提供")]
assert prov and "recip:univ-a" in ca[prov[0]][0], ca
assert any(k.startswith("送信サーバの匿名加工情報") for k in ca), ca
assert not any(k.startswith("送信サーバ") for k in cb), cb   # B never left
held = "HELD" in text
assert (rc == 1) == held, (rc, held)
assert ("copies are still held" in text) == held
PY
}

test_r25_inspection_shows_only_what_is_held() {
	"$VAULT" -c "$T/vault.conf" inspect-data --logs "$T/data" "$T/vdata" \
		"$T/sdata" > "$T/insp.txt" || return 1
	python3 - "$T/insp.txt" "$T/disp.txt" <<'PY'
import sys
insp = open(sys.argv[1], encoding="utf-8").read()
disp = open(sys.argv[2], encoding="utf-8").read()
def held(text):
    out, cur = set(), None
    for line in text.splitlines():
        if "受付 / upload " in line:
            cur = line.split("受付 / upload ")[1].split()[0]
        elif "保管中 / HELD" in line and cur:
            out.add(cur)
    return out
listed = set(l.split("受付 / upload ")[1].split()[0]
             for l in insp.splitlines() if "受付 / upload " in l)
assert listed == held(disp) == held(insp), (listed, held(disp))
PY
}

# R26: the damage scope of an incident's window: during the story every
# upload passed the receiver and the vault, A went on to the sender and to
# the recipient; in a window after it, only what is still held is listed.
test_r26_damage_scope_of_a_window() {
	local f t
	f=$(TZ=Asia/Tokyo date -d '-30 min' +%FT%H:%M)
	t=$(TZ=Asia/Tokyo date -d '+1 min' +%FT%H:%M)
	"$VAULT" -c "$T/vault.conf" damage-scope --from "$f" --to "$t" \
		--logs "$T/data" "$T/vdata" "$T/sdata" > "$T/scope1.txt" || return 1
	f=$(TZ=Asia/Tokyo date -d '+2 min' +%FT%H:%M)
	t=$(TZ=Asia/Tokyo date -d '+3 min' +%FT%H:%M)
	"$VAULT" -c "$T/vault.conf" damage-scope --from "$f" --to "$t" \
		--logs "$T/data" "$T/vdata" "$T/sdata" > "$T/scope2.txt" || return 1
	cat "$T/scope1.txt"
	python3 - "$T/scope1.txt" "$T/scope2.txt" "$A" "$B" "$C" <<'PY'
import sys
def parse(path):
    out, cur = {}, None
    for line in open(path, encoding="utf-8"):
        if line and not line.startswith(" ") and " / " in line and ":" not in line:
            cur = line.split(" / ")[1].strip()
            out[cur] = []
        elif line.startswith("  upload ") and cur:
            out[cur].append(line.split())
    return out
w1, w2 = parse(sys.argv[1]), parse(sys.argv[2])
a, b, c = sys.argv[3:6]
ids = lambda rows, kind=None: {r[1] for r in rows if kind is None or r[3].rstrip(":") == kind}
assert {a, b, c} <= ids(w1["receiver"], "made"), w1["receiver"]
assert {a, b, c} <= ids(w1["vault"], "made"), w1["vault"]
assert ids(w1["sender"]) == {a}, w1["sender"]
assert ids(w1["recipients"], "provided") == {a}, w1["recipients"]
# After the story: the receiver holds nothing of it; A's release is held.
assert not ({a, b, c} & ids(w2["receiver"])), w2["receiver"]
assert a in ids(w2["vault"], "held") and a in ids(w2["sender"], "held"), w2
assert not ids(w2["recipients"]), w2["recipients"]
PY
}

# R30: the console's use is on record: who viewed which release (and how
# many preview rows), who printed which ledger, whose disposal report; and
# the view is a row of form 9, the usage record.
test_r30_console_use_is_recorded() {
	local user
	user=${SUDO_USER:-$(id -un)}
	"$VAULT" -c "$T/vault.conf" release show "$A" --preview 5 >/dev/null &&
	wait_for_audit "\"event\":\"console.used\",\"actor\":\"console:$user\",\"object\":\"$A\",\"detail\":\"command=release-show preview_rows=5\"" &&
	wait_for_audit "\"event\":\"console.used\",\"actor\":\"console:$user\",\"detail\":\"command=ledger form=8 from=$YESTERDAY to=$TOMORROW\"" &&
	wait_for_audit "\"event\":\"console.used\",\"actor\":\"console:$user\",\"detail\":\"command=disposal-report 131156 signed=1\"" &&
	[ -z "$(ls "$T/vdata/console")" ] || return 1
	# Form 9, the usage record, has the view: when, which, by whom.
	ledger 9 > "$T/form9-views.csv" &&
	python3 - "$T/form9-views.csv" "$A" "$user" "$FNAME" <<'PY'
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))[1:]
# (the story before looked at it too, with the default 20 rows)
views = [r for r in rows if r[1] == sys.argv[2] and "先頭 5 行" in r[5]]
assert len(views) == 1, views
v = views[0]
assert v[4] == sys.argv[3] + " (コンソールの利用者)", v
assert v[5] == "処理報告と提供データ先頭 5 行の表示 (コンソール)", v
assert v[2] == sys.argv[4] and v[3] == "特定健診結果の統計分析のため", v
print("form 9: " + ",".join(v))
PY
}

# R42: form 7 prints the roster as it was in the period, not only today's:
# the vault keeps each version of the roster it starts with and records
# the change. Here op3 leaves the roster and op1's scope changes; the
# period's form has op3 (marked as gone from a later version) and op1
# under both scopes, today's site file only the two who remain.
test_r42_form7_prints_the_roster_of_the_period() {
	local n0
	n0=$(grep -c '"event":"roster.changed"' "$T/vdata/audit.log")
	[ "$n0" -ge 1 ] || return 1
	python3 - "$T/site.conf" <<'PY' || return 1
import re, sys
path = sys.argv[1]
s = open(path, encoding="utf-8").read()
s, n = re.subn(r'\n *\{ id = "op3";[^\n]*\},', "", s)
assert n == 1, "op3 not found"
s, n = re.subn(r'(\{ id = "op1"; name = "鈴木 一郎"; )scope = "[^"]*";',
               r'\g<1>scope = "健診結果 (匿名加工後のみ)";', s)
assert n == 1, "op1 not found"
open(path, "w", encoding="utf-8").write(s)
PY
	stop_vault && start_vault &&
	[ "$(grep -c '"event":"roster.changed"' "$T/vdata/audit.log")" = $((n0 + 1)) ] &&
	"$VAULT" -c "$T/vault.conf" ledger --form 7 --from "$TODAY" --to "$TODAY" \
		--logs "$T/vdata" > "$T/form7h.csv" &&
	"$VAULT" -c "$T/vault.conf" ledger --form 7 --from "$TODAY" --to "$TODAY" \
		> "$T/form7now.csv" || return 1
	python3 - "$T/form7h.csv" "$T/form7now.csv" "$T/vdata" <<'PY'
import csv, hashlib, io, json, os, re, sys
def rows(p):
    raw = open(p, "rb").read()
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))[1:]
hist, now, vdata = rows(sys.argv[1]), rows(sys.argv[2]), sys.argv[3]
before, after = "健診結果 (匿名加工前)", "健診結果 (匿名加工後のみ)"
have = {(r[0], r[1]) for r in hist}
assert {("鈴木 一郎", before), ("鈴木 一郎", after), ("佐藤 花子", before),
        ("高橋 次郎", before)} <= have, hist
gone = [r for r in hist if r[0] == "高橋 次郎"]
assert gone and all("後の版で名簿から外れた" in r[4] for r in gone), gone
assert not [r for r in hist if r[0] == "佐藤 花子" and "外れた" in r[4]], hist
assert len([r for r in hist if (r[0], r[1]) == ("佐藤 花子", before)]) == 1, hist
# Each row names its version; the version is kept, and is what its name says.
for r in hist:
    v = re.search(r"名簿の版 ([0-9a-f]{12})", r[4]).group(1)
    files = [f for f in os.listdir(vdata + "/roster") if f.startswith(v)]
    assert len(files) == 1, (v, files)
    body = open(vdata + "/roster/" + files[0], "rb").read()
    assert hashlib.sha256(body).hexdigest() == files[0], files[0]
# Today's site file: the two who remain, op1 under the new scope.
assert sorted((r[0], r[1]) for r in now) == [("佐藤 花子", before), ("鈴木 一郎", after)], now
# The log records each change with the version before it.
ch = [json.loads(l) for l in open(vdata + "/audit.log") if '"roster.changed"' in l]
assert ch[-1]["detail"].endswith("previous=" + ch[-2]["object"]), ch[-2:]
assert "operators=op1,op2,old previous=" in ch[-1]["detail"], ch[-1]
PY
}

run_pipeline_tests
