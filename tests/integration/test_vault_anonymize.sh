#!/usr/bin/env bash
# test_vault_anonymize.sh: `sekisho-vault anonymize` on generated CP932
# health check-up files and on the UCI Adult benchmark, each release
# re-checked by an independent counter (check_release.py).
. "$(dirname "$0")/lib.sh"

GEN="$TOP/tests/data/gen_checkup.py"
CHECK="$TOP/tests/integration/check_release.py"
VAULT="$BIN/sekisho-vault"

# policy FILE [EXTRA_COLUMN_LINES] [PRIVACY]: the issue's example policy.
policy() {
	local extra=${2:-} privacy=${3:-"k = 5; max_suppression = 0.05; l_diversity = 2;"}
	cat > "$1" <<CONF
input:  { encoding = "cp932"; delimiter = ","; header = true; };
columns = (
  { name = "宛名番号"; role = "identifier"; action = "drop"; },
  { name = "個人番号"; role = "identifier"; action = "drop"; },
  { name = "氏名";     role = "identifier"; action = "pseudonymize"; },
  { name = "生年月日"; role = "quasi"; action = "age_band";
    reference_date = "2026-04-01"; width = 5; top = 90; },
  { name = "性別";     role = "quasi"; action = "keep"; },
  { name = "郵便番号"; role = "quasi"; action = "truncate"; keep = 3; },
  { name = "住所";     role = "identifier"; action = "drop"; },
  { name = "身長";     role = "other"; action = "band"; width = 5; },
  { name = "診断名";   role = "sensitive"; action = "keep"; }$extra
);
privacy: { $privacy };
output:  { encoding = "utf-8"; shuffle = true; };
CONF
}

anonymize() {	# anonymize POLICY IN OUT REPORT
	"$VAULT" anonymize --policy "$1" --in "$2" --out "$3" --report "$4" \
		>"$T/stdout" 2>"$T/stderr"
}

test_r07_release_meets_k_and_l_independently_checked() {
	python3 "$GEN" 20000 7 "$T/in.csv"
	policy "$T/p.conf"
	anonymize "$T/p.conf" "$T/in.csv" "$T/out.csv" "$T/rep.json" &&
	python3 "$CHECK" "$T/out.csv" "$T/rep.json" --k 5 --l 2 \
		--sensitive 診断名 --qi 生年月日,性別,郵便番号 \
		--absent 宛名番号,個人番号,住所
}

test_r07_no_identifier_or_my_number_in_release() {
	# Every My Number and every name of the input is absent from the output.
	python3 - "$T/in.csv" "$T/out.csv" <<'PY'
import csv, sys
src = list(csv.reader(open(sys.argv[1], encoding="cp932", newline="")))[1:]
out = open(sys.argv[2], encoding="utf-8").read()
leaks = [r for r in src if r[1] in out or r[2] in out or r[6] in out]
sys.exit(1 if leaks else 0)
PY
}

test_r07_rows_are_shuffled() {
	# The generator writes birth years at random, so the input order of
	# pseudonyms cannot survive a shuffle; compare the first 50 rows' order
	# in two releases of the same input.
	anonymize "$T/p.conf" "$T/in.csv" "$T/out2.csv" "$T/rep2.json" &&
	[ "$(sed -n 2,51p "$T/out.csv" | cut -d, -f3)" != \
	  "$(sed -n 2,51p "$T/out2.csv" | cut -d, -f3)" ]
}

test_r07_pseudonyms_differ_between_runs() {
	cut -d, -f1 "$T/out.csv" | sed 1d | sort -u > "$T/ps1"
	cut -d, -f1 "$T/out2.csv" | sed 1d | sort -u > "$T/ps2"
	# The generator draws names from 140 combinations.
	[ "$(wc -l < "$T/ps1")" -gt 100 ] &&
	[ -z "$(comm -12 "$T/ps1" "$T/ps2")" ]
}

# Over the suppression limit: no release at all, and (issue 20) the report
# of the failure in its place, so that the operator sees why.
test_suppression_over_limit_releases_nothing_and_reports_why() {
	policy "$T/strict.conf" "" "k = 2000; max_suppression = 0.01;"
	! anonymize "$T/strict.conf" "$T/in.csv" "$T/none.csv" "$T/none.json" &&
	grep -q 'more than max_suppression' "$T/stderr" &&
	[ ! -e "$T/none.csv" ] && [ -z "$(ls "$T" | grep 'none.csv.tmp')" ] &&
	python3 - "$T/none.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert r["outcome"] == "failed" and "more than max_suppression" in r["failure"], r
assert r["rows_out"] == 0 and r["rows_in"] == 20000, r
assert r["rows_suppressed"] == r["rows_in_classes_under_k"] == 20000, r
PY
}

# A failed job says which column to generalize (issue 20): the postal
# code kept whole (nearly one per person) is what makes the classes small;
# without it age band and sex leave few rows in classes under k.
test_a_failure_names_the_column_that_drives_suppression() {
	policy "$T/raw.conf" "" "k = 5; max_suppression = 0.05;"
	sed -i 's|{ name = "郵便番号"; role = "quasi"; action = "truncate"; keep = 3; }|{ name = "郵便番号"; role = "quasi"; action = "keep"; }|' "$T/raw.conf" &&
	grep -q '"郵便番号"; role = "quasi"; action = "keep"' "$T/raw.conf" &&
	! anonymize "$T/raw.conf" "$T/in.csv" "$T/raw.csv" "$T/raw.json" &&
	cat "$T/stderr" &&
	grep -q 'more than max_suppression allows ([0-9]*); "郵便番号" drives it (without it: [0-9]*); generalize it further' \
		"$T/stderr" && [ ! -e "$T/raw.csv" ] &&
	python3 - "$T/raw.json" "$T/in.csv" <<'PY'
import csv, json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert r["outcome"] == "failed" and r["failed_on"] == "郵便番号", r
assert r["rows_out"] == 0 and r["classes_under_k"] > 0, r
# Counts and names only: no postal code of the input is in the report.
text = open(sys.argv[1], encoding="utf-8").read()
codes = {row[5] for row in list(csv.reader(open(sys.argv[2], encoding="cp932", newline="")))[1:]}
assert not [c for c in codes if c and c in text], "a postal code in the report"
PY
}

test_r07_my_number_in_kept_free_text_fails_naming_column_not_value() {
	python3 "$GEN" 3000 8 "$T/note.csv" --extra "連絡先 1234-5678-9018 まで"
	policy "$T/note.conf" ',
  { name = "備考"; role = "other"; action = "keep"; }' \
		"k = 2; max_suppression = 0.5;"
	! anonymize "$T/note.conf" "$T/note.csv" "$T/n.csv" "$T/n.json" &&
	grep -q 'line 8, column "備考": a value that looks like My Number' \
		"$T/stderr" &&
	! grep -q '1234' "$T/stderr" && [ ! -e "$T/n.csv" ]
}

test_unknown_or_missing_column_fails() {
	python3 "$GEN" 100 9 "$T/extra.csv" --extra "x"
	! anonymize "$T/p.conf" "$T/extra.csv" "$T/e.csv" "$T/e.json" &&
	grep -q 'input column 10 is not named in the policy' "$T/stderr" &&
	cut -d, -f1-8 "$T/in.csv" > "$T/missing.csv" &&
	! anonymize "$T/p.conf" "$T/missing.csv" "$T/m.csv" "$T/m.json" &&
	grep -q '"診断名" of the policy is missing' "$T/stderr"
}

test_bad_row_fails_with_line_or_is_rejected_and_counted() {
	{ cat "$T/in.csv"; printf '99999999,000000000000,"x",1990-02-30,男,164-0001,"y",170.0,貧血\r\n' |
		iconv -f UTF-8 -t CP932; } > "$T/bad.csv"
	! anonymize "$T/p.conf" "$T/bad.csv" "$T/b.csv" "$T/b.json" &&
	grep -q 'line 20002, column "生年月日": not a date' "$T/stderr" || return 1
	sed 's/header = true; };/header = true; on_error = "reject"; };/' \
		"$T/p.conf" > "$T/reject.conf"
	anonymize "$T/reject.conf" "$T/bad.csv" "$T/b.csv" "$T/b.json" &&
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["rows_rejected"]==1 and r["rejected_examples"][0]["line"]==20002 else 1)' "$T/b.json"
}

test_report_has_counts_and_digests_but_no_values() {
	local sum
	sum=$(sha256sum "$T/in.csv" | cut -d' ' -f1)
	grep -q "\"input_sha256\":\"$sum\"" "$T/rep.json" &&
	grep -q "\"output_sha256\":\"$(sha256sum "$T/out.csv" | cut -d' ' -f1)\"" "$T/rep.json" &&
	grep -q '"risk_highest":' "$T/rep.json" &&
	! grep -q '異常なし\|要精密検査\|164-' "$T/rep.json"
}

test_cp932_release() {
	sed 's/output:  { encoding = "utf-8"/output:  { encoding = "cp932"/' \
		"$T/p.conf" > "$T/sj.conf"
	anonymize "$T/sj.conf" "$T/in.csv" "$T/sj.csv" "$T/sj.json" &&
	iconv -f CP932 -t UTF-8 "$T/sj.csv" > /dev/null &&
	head -c 200 "$T/sj.csv" | grep -q $'\r$' &&
	python3 "$CHECK" "$T/sj.csv" "$T/sj.json" --encoding cp932 --k 5 \
		--qi 生年月日,性別,郵便番号 >/dev/null
}

test_adult_benchmark_k5() {
	local adult="$TOP/tests/data/adult/adult.csv"
	[ -f "$adult" ] || { echo "no $adult"; return 1; }
	anonymize "$TOP/tests/bench/adult/adult-k5.policy" "$adult" \
		"$T/adult.csv" "$T/adult.json" &&
	python3 "$CHECK" "$T/adult.csv" "$T/adult.json" --k 5 \
		--qi sex,age,race,marital-status,education,native-country,workclass,occupation
}

# R41: the report counts the release's class sizes in buckets doubling
# from k, which the operators read as a histogram; recounted here from the
# release itself.
test_r41_report_counts_class_sizes() {
	anonymize "$TOP/tests/bench/adult/adult-k5.policy" \
		"$TOP/tests/data/adult/adult.csv" "$T/h.csv" "$T/h.json" &&
	python3 - "$T/h.csv" "$T/h.json" <<'PY'
import collections, csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
h, data = rows[0], rows[1:]
qi = [h.index(c) for c in ("sex", "age", "race", "marital-status", "education",
                           "native-country", "workclass", "occupation")]
sizes = collections.Counter(collections.Counter(tuple(r[i] for i in qi) for r in data).values())
rep = json.load(open(sys.argv[2]))
want, lo = [], 5
while lo <= max(sizes):
    cl = sum(n for s, n in sizes.items() if lo <= s < 2 * lo)
    rw = sum(s * n for s, n in sizes.items() if lo <= s < 2 * lo)
    want.append({"from": lo, "to": 2 * lo - 1, "classes": cl, "rows": rw})
    lo *= 2
print(rep["class_sizes"])
sys.exit(0 if rep["class_sizes"] == want else 1)
PY
}

# A kept value a spreadsheet would run (a DDE payload, a HYPERLINK) is
# released as text with a leading ' (issue 14), the report says so, and the
# checker passes it; with guard_formulas = false it is released as it came.
test_spreadsheet_formulas_are_released_as_text() {
	python3 "$GEN" 3000 41 "$T/f.csv" &&
	python3 - "$T/f.csv" <<'PY' || return 1
import csv, sys
p = sys.argv[1]
rows = list(csv.reader(open(p, encoding="cp932", newline="")))
col = rows[0].index("診断名")
for i in range(1, len(rows)):
    if i % 3 == 0:
        rows[i][col] = "=cmd|' /C calc'!A0"
    elif i % 3 == 1:
        rows[i][col] = "@SUM(1+1)"
csv.writer(open(p, "w", encoding="cp932", newline=""),
           lineterminator="\r\n").writerows(rows)
PY
	policy "$T/f.conf" &&
	anonymize "$T/f.conf" "$T/f.csv" "$T/f-out.csv" "$T/f.json" &&
	grep -q "^[^=@]*,'=cmd|' /C calc'!A0" "$T/f-out.csv" &&
	grep -q ",'@SUM(1+1)" "$T/f-out.csv" &&
	! grep -q ",=cmd\|,@SUM" "$T/f-out.csv" &&
	grep -q '"formulas_guarded":true' "$T/f.json" &&
	"$VAULT" check-release --policy "$T/f.conf" --release "$T/f-out.csv" \
		--report "$T/f.json" >/dev/null || return 1
	sed 's/shuffle = true; };/shuffle = true; guard_formulas = false; };/' \
		"$T/f.conf" > "$T/f-off.conf" &&
	anonymize "$T/f-off.conf" "$T/f.csv" "$T/f-raw.csv" "$T/f-raw.json" &&
	grep -q ",=cmd|' /C calc'!A0" "$T/f-raw.csv" &&
	grep -q '"formulas_guarded":false' "$T/f-raw.json"
}

# suppressed = "star": the suppressed rows stay in the release with every
# quasi-identifier *, so counts stay right; while their class is smaller
# than k their sensitive values are * too. Both checkers agree, and the
# vault's checker refuses a small star class that shows a diagnosis.
test_r07_suppressed_rows_released_as_stars() {
	local k small="" big=""
	python3 "$GEN" 3000 9 "$T/st.csv" || return 1
	for k in 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		policy "$T/st.conf" "" "k = $k; max_suppression = 0.05; suppressed = \"star\";"
		sed -i 's/width = 5; top = 90;/width = 10; top = 90;/; s/action = "truncate"; keep = 3;/action = "truncate"; keep = 5;/' "$T/st.conf"
		anonymize "$T/st.conf" "$T/st.csv" "$T/st-$k.csv" "$T/st-$k.json" || continue
		python3 "$CHECK" "$T/st-$k.csv" "$T/st-$k.json" --k "$k" --stars \
			--sensitive 診断名 --qi 生年月日,性別,郵便番号 >/dev/null &&
		"$VAULT" check-release --policy "$T/st.conf" --release "$T/st-$k.csv" \
			--report "$T/st-$k.json" >/dev/null || return 1
		python3 - "$T/st-$k.json" "$T/st-$k.csv" "$k" <<'PY' || return 1
import csv, json, sys
r = json.load(open(sys.argv[1])); k = int(sys.argv[3])
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))
star = [x for x in rows if (x["生年月日"], x["性別"], x["郵便番号"]) == ("*", "*", "*")]
ok = (r["rows_out"] == r["rows_in"] == len(rows) and
      len(star) == r["rows_starred"] == r["rows_suppressed"] and
      r["starred_sensitive"] == (0 < len(star) < k) and
      all((x["診断名"] == "*") == r["starred_sensitive"] for x in star))
sys.exit(0 if ok else 1)
PY
		s=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["rows_starred"])' "$T/st-$k.json")
		[ "$s" -gt 0 ] && [ "$s" -lt "$k" ] && [ -z "$small" ] && small=$k
		[ "$s" -ge "$k" ] && [ -z "$big" ] && big=$k
	done
	echo "small star class at k=$small, large at k=$big"
	[ -n "$small" ] && [ -n "$big" ] || return 1
	# A small star class that shows a diagnosis is refused.
	python3 - "$T/st-$small.csv" "$T/st-bad.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
h = rows[0]; i = h.index("診断名")
for r in rows[1:]:
    if (r[h.index("生年月日")], r[h.index("性別")]) == ("*", "*"):
        r[i] = "高血圧症"; break
csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""),
           lineterminator="\n").writerows(rows)
PY
	policy "$T/st.conf" "" "k = $small; max_suppression = 0.05; suppressed = \"star\";"
	sed -i 's/width = 5; top = 90;/width = 10; top = 90;/; s/action = "truncate"; keep = 3;/action = "truncate"; keep = 5;/' "$T/st.conf"
	! "$VAULT" check-release --policy "$T/st.conf" --release "$T/st-bad.csv" \
		--report "$T/st-$small.json" >"$T/out" 2>&1 &&
	grep -q "quasi-identifier \* has [0-9]* rows (k = $small) and shows sensitive values" "$T/out" ||
		{ cat "$T/out"; return 1; }
}

# Progress on long work (issue 20): on a terminal (script(1) gives it one)
# a line with MB/s and the time left; on a pipe or a file, nothing but the
# result, as before.
test_progress_line_on_a_terminal_only() {
	local big=$T/big.csv i
	{ cat "$T/in.csv"; for i in $(seq 2 32); do tail -n +2 "$T/in.csv"; done; } \
		> "$big" || return 1
	script -qec "$VAULT anonymize --policy $T/p.conf --in $big --out $T/big.out.csv --report $T/big.json" \
		/dev/null > "$T/tty" 2>&1 || { tail -3 "$T/tty" >&2; return 1; }
	grep -aqE '[0-9]+ rows, [0-9]+ / [0-9]+ MB \([0-9]+%\), [0-9.]+ MB/s, about [0-9]+ s to go|MB read, processing' "$T/tty" &&
	grep -aq '^released\|released [0-9]* of' "$T/tty" || { cat -A "$T/tty" | head >&2; return 1; }
	anonymize "$T/p.conf" "$big" "$T/big2.csv" "$T/big2.json" &&
	! grep -q 'MB/s\|processing' "$T/stderr" "$T/stdout" &&
	! grep -q $'\r' "$T/stderr"
}

for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
