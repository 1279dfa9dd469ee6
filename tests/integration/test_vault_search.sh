#!/usr/bin/env bash
# test_vault_search.sh: the engine's search for the best generalization
# (R07), checked against ARX, the reference tool. ARX's answers were made
# by running ARX itself (tests/bench/arx/answers.sh, which prints what ARX
# prints) and are kept in tests/data/adult/arx-answers.txt; each release
# is also re-counted by the independent checker (check_release.py).
#
# The fifteen ARX cases and the searches over every model on Adult run the
# hardened build (ten times faster than the sanitizer build on the 30,162
# rows: they check answers, not memory); the fixed-level, bounded and
# generated-data searches run with ASan and UBSan, as the unit tests do on
# random problems.
. "$(dirname "$0")/lib.sh"

ADULT="$TOP/tests/data/adult"
ANSWERS="$ADULT/arx-answers.txt"
CHECK="$TOP/tests/integration/check_release.py"
VAULT="$BIN/sekisho-vault"
FAST_VAULT=${SEKISHO_HARDENED_BIN:-$TOP/build/bin}/sekisho-vault
[ -x "$FAST_VAULT" ] || FAST_VAULT=$VAULT
QI8="sex age race marital-status education native-country workclass occupation"

# search_policy FILE QIS K SUPPRESSION [L]: every listed column searched
# over its ARX hierarchy; salary-class is the sensitive column with L,
# else a quasi-identifier if listed, else kept as it is.
search_policy() {
	local f=$1 qis=$2 k=$3 s=$4 l=${5:-} c sep="" role
	{
		echo 'input: { encoding = "utf-8"; delimiter = ";"; header = true; };'
		echo 'columns = ('
		for c in $QI8 salary-class; do
			printf '%s' "$sep"; sep=$',\n'
			if [[ " $qis " == *" $c "* ]]; then
				printf '  { name = "%s"; role = "quasi"; action = "hierarchy"; file = "%s/adult_hierarchy_%s.csv"; search = true; }' \
					"$c" "$ADULT" "$c"
			else
				role=other; [ -n "$l" ] && role=sensitive
				printf '  { name = "%s"; role = "%s"; action = "keep"; }' "$c" "$role"
			fi
		done
		echo; echo ');'
		echo "privacy: { k = $k; max_suppression = $s;${l:+ l_diversity = $l;} };"
		echo 'output: { encoding = "utf-8"; shuffle = true; };'
	} > "$f"
}

# field NAME LINE: the value of NAME= in an answer line (brackets off).
field() { sed -E "s/.* $1=\\[?([^] ]+)\\]?( .*|$)/\\1/" <<<"$2"; }

# refused POLICY PATTERN: anonymize with the policy fails, says PATTERN
# (an extended regular expression) and writes no release.
refused() {
	! "$VAULT" anonymize --policy "$1" --in "$ADULT/adult.csv" \
		--out "$T/refused.csv" --report "$T/refused.json" >"$T/out" 2>&1 &&
	grep -qE "$2" "$T/out" && [ ! -e "$T/refused.csv" ] || { cat "$T/out"; return 1; }
}

# matches ANSWER_LINE: runs the same problem and compares levels, rows
# suppressed and loss with ARX's line, then re-checks the release.
matches() {
	local line=$1 k s l qis n opt loss supp
	k=$(field k "$line"); l=$(field l "$line")
	s=$(field suppression "$line"); n=$(field qis "$line")
	opt=$(field optimum "$line"); loss=$(field loss "$line")
	supp=$(field suppressed "$line")
	qis=$QI8; [ "$n" = 9 ] && qis="$QI8 salary-class"
	[ "$l" = - ] && l="" || l=${l#*:}
	search_policy "$T/s.policy" "$qis" "$k" "$s" "$l"
	"$FAST_VAULT" anonymize --policy "$T/s.policy" --in "$ADULT/adult.csv" \
		--out "$T/s.csv" --report "$T/s.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	python3 - "$T/s.json" "$opt" "$loss" "$supp" "$line" <<'PY' || return 1
import json, sys
r = json.load(open(sys.argv[1]))
levels = [c["level"] for c in r["columns"] if c.get("level_searched")]
want = [int(x) for x in sys.argv[2].split(",")]
ok = (levels == want and r["rows_suppressed"] == int(sys.argv[4]) and
      abs(r["information_loss"] - float(sys.argv[3])) < 1e-9)
if not ok:
    print("ARX:  %s" % sys.argv[5])
    print("ours: levels=%s loss=%r suppressed=%d" %
          (levels, r["information_loss"], r["rows_suppressed"]))
sys.exit(0 if ok else 1)
PY
	python3 "$CHECK" "$T/s.csv" "$T/s.json" --k "$k" \
		${l:+--l "$l" --sensitive salary-class} \
		--qi "$(tr ' ' , <<<"$qis")" >/dev/null
}

# cases WANT PATTERN...: runs every answer line that matches one of the
# extended regular expressions (pinned lines aside); all must agree with
# ARX, and there must be WANT of them.
cases() {
	local want=$1 line n=0 bad=0
	shift
	while read -r line; do
		[[ "$line" == arx:* && "$line" != *pinned=* ]] || continue
		printf '%s\n' "$line" | grep -qE "$(IFS='|'; echo "$*")" || continue
		n=$((n + 1))
		matches "$line" || bad=$((bad + 1))
	done < "$ANSWERS"
	echo "$n cases, $bad differ from ARX"
	[ "$n" -eq "$want" ] && [ "$bad" -eq 0 ]
}

# The search returns exactly ARX's optimum, rows suppressed and loss for
# k = 2, 5 and 10 at suppression limits of 100 % and 0 %, over nine
# quasi-identifiers and over eight.
test_r07_search_finds_arx_optimum_k_2_5_10_at_0_and_100_percent() {
	cases 12 ' l=- suppression=(1|0)\.0 '
}

# The same with a suppression limit in between and with distinct
# l-diversity on salary-class.
test_r07_search_finds_arx_optimum_with_limit_and_l_diversity() {
	cases 3 ' suppression=0\.1 ' ' suppression=0\.02 '
}

# Fixed levels (the benchmark policy) are scored with the same metric:
# the report's loss is the one ARX gives those levels.
test_r07_fixed_levels_report_arx_loss() {
	local line loss
	line=$(grep -m1 ' pinned=' "$ANSWERS") || return 1
	loss=$(sed -E 's/.* loss=([0-9.eE-]+) .*/\1/' <<<"$line")
	"$VAULT" anonymize --policy "$TOP/tests/bench/adult/adult-k5.policy" \
		--in "$ADULT/adult.csv" --out "$T/f.csv" --report "$T/f.json" \
		>/dev/null 2>&1 || return 1
	python3 - "$T/f.json" "$loss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("ours %r, ARX %s" % (r["information_loss"], sys.argv[2]))
sys.exit(0 if abs(r["information_loss"] - float(sys.argv[2])) < 1e-9 else 1)
PY
}

# min_level and max_level bound the search, and the report says which
# levels were searched.
test_r07_search_stays_within_min_and_max_level() {
	search_policy "$T/m.policy" "$QI8" 5 0.0
	sed -i 's#adult_hierarchy_age.csv"; search = true;#adult_hierarchy_age.csv"; search = true; max_level = 2;#; s#adult_hierarchy_education.csv"; search = true;#adult_hierarchy_education.csv"; search = true; min_level = 3;#' \
		"$T/m.policy"
	"$VAULT" anonymize --policy "$T/m.policy" --in "$ADULT/adult.csv" \
		--out "$T/m.csv" --report "$T/m.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	python3 - "$T/m.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lv = {c["name"]: c["level"] for c in r["columns"] if "level" in c}
print(lv)
sys.exit(0 if lv["age"] <= 2 and lv["education"] >= 3 and
         r["rows_suppressed"] == 0 else 1)
PY
}

# Built-in generalizations searched (a check-up file: age bands of 1, 5,
# 10 and 20 years, postal-code prefixes of 7, 5, 3 and 1 characters, then
# "*"): the optimum equals a brute force over all 25 nodes written here
# from the metric's definition, and the release holds only values of the
# chosen levels, k and l re-counted independently.
test_r07_search_over_built_in_generalizations() {
	python3 "$TOP/tests/data/gen_checkup.py" 20000 5 "$T/ck.csv" || return 1
	cat > "$T/ck.policy" <<'CONF'
input:  { encoding = "cp932"; delimiter = ","; header = true; };
columns = (
  { name = "宛名番号"; role = "identifier"; action = "drop"; },
  { name = "個人番号"; role = "identifier"; action = "drop"; },
  { name = "氏名";     role = "identifier"; action = "drop"; },
  { name = "生年月日"; role = "quasi"; action = "age_band";
    reference_date = "2026-04-01"; top = 90; search = true; widths = [1, 5, 10, 20]; },
  { name = "性別";     role = "quasi"; action = "keep"; },
  { name = "郵便番号"; role = "quasi"; action = "truncate"; search = true; keeps = [7, 5, 3, 1]; },
  { name = "住所";     role = "identifier"; action = "drop"; },
  { name = "身長";     role = "other"; action = "band"; width = 5; },
  { name = "診断名";   role = "sensitive"; action = "keep"; }
);
privacy: { k = 40; max_suppression = 0.002; l_diversity = 3; };
output:  { encoding = "utf-8"; shuffle = true; };
CONF
	"$VAULT" anonymize --policy "$T/ck.policy" --in "$T/ck.csv" \
		--out "$T/ck-out.csv" --report "$T/ck.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	python3 "$CHECK" "$T/ck-out.csv" "$T/ck.json" --k 40 --l 3 \
		--sensitive 診断名 --qi 生年月日,性別,郵便番号 >/dev/null || return 1
	python3 - "$T/ck.csv" "$T/ck.json" "$T/ck-out.csv" <<'PY'
import collections, csv, json, math, sys
rows = list(csv.reader(open(sys.argv[1], encoding="cp932", newline="")))
h, data = rows[0], rows[1:]
B, S, P, D = (h.index(c) for c in ("生年月日", "性別", "郵便番号", "診断名"))
def age(b):
    y, m, d = (int(x) for x in b.split("-"))
    return 2026 - y - ((4, 1) < (m, d))
def band(a, w):
    if a >= 90: return "90+"
    lo = a // w * w; hi = min(lo + w, 90)
    return str(lo) if hi - 1 == lo else "%d-%d" % (lo, hi - 1)
ages = [band(age(r[B]), 1) for r in data]
def lab_age(r, i, lv):
    return [None, band(age(r[B]), 5), band(age(r[B]), 10), band(age(r[B]), 20), "*"][lv] if lv else ages[i]
def lab_pc(r, lv):
    return r[P][:(7, 5, 3, 1)[lv]] if lv < 4 else "*"
n = len(data)
def loss_of(la, lp):
    labs = [(lab_age(r, i, la), r[S], lab_pc(r, lp)) for i, r in enumerate(data)]
    size = collections.Counter(labs)
    div = collections.defaultdict(set)
    for l, r in zip(labs, data): div[l].add(r[D])
    kept = [size[l] >= 40 and len(div[l]) >= 3 for l in labs]
    out = kept.count(False)
    # domains: the level-0 values seen; a label's share = values under it
    dims = []
    for f in (lambda i, r, lv: lab_age(r, i, lv), lambda i, r, lv: r[S],
              lambda i, r, lv: lab_pc(r, lv)):
        v0 = {}
        for i, r in enumerate(data): v0.setdefault(f(i, r, 0), (i, r))
        dims.append((f, v0))
    lv = (la, 0, lp)
    vals = []
    for d, (f, v0) in enumerate(dims):
        under = collections.Counter(f(i, r, lv[d]) for (i, r) in v0.values())
        agg = sum(under[f(i, r, lv[d])] / len(v0) if kept[i] else 1
                  for i, r in enumerate(data))
        lo = n / len(v0)
        x = 0 if len(v0) <= 1 else max(0, (agg - lo) / (n - lo))
        vals.append(math.floor(x * 1e10) / 1e10)
    g = 1.0
    for x in vals: g *= (x + 1) ** (1 / 3)
    return g - 1, out
best = None
for la in range(5):
    for lp in range(5):
        l, out = loss_of(la, lp)
        if out > int(0.002 * n) or out >= n: continue
        key = (l, la + lp)
        if best is None or key < best[0]: best = (key, (la, lp), out)
r = json.load(open(sys.argv[2]))
lv = {c["name"]: c.get("level") for c in r["columns"]}
got = (lv["生年月日"], lv["郵便番号"])
print("ours", got, r["information_loss"], r["rows_suppressed"], "brute", best)
ok = got == best[1] and r["rows_suppressed"] == best[2] and \
     abs(r["information_loss"] - best[0][0]) < 1e-9
# Only values of the chosen levels are released.
rel = list(csv.reader(open(sys.argv[3], encoding="utf-8", newline="")))
hh = rel[0]
want_a = {lab_age(x, i, got[0]) for i, x in enumerate(data)}
want_p = {lab_pc(x, got[1]) for x in data}
ok = ok and all(x[hh.index("生年月日")] in want_a and
                x[hh.index("郵便番号")] in want_p for x in rel[1:])
sys.exit(0 if ok else 1)
PY
}

# Widths that are not multiples of each other would not nest (a band of
# 10 would span two of 15): the policy is refused naming its line.
test_search_widths_that_do_not_nest_are_refused() {
	python3 "$TOP/tests/data/gen_checkup.py" 500 6 "$T/nn.csv" || return 1
	cat > "$T/nn.policy" <<'CONF'
input:  { encoding = "cp932"; delimiter = ","; header = true; };
columns = (
  { name = "宛名番号"; role = "identifier"; action = "drop"; },
  { name = "個人番号"; role = "identifier"; action = "drop"; },
  { name = "氏名";     role = "identifier"; action = "drop"; },
  { name = "生年月日"; role = "quasi"; action = "age_band";
    reference_date = "2026-04-01"; top = 85; search = true; widths = [10, 20]; },
  { name = "性別";     role = "quasi"; action = "keep"; },
  { name = "郵便番号"; role = "quasi"; action = "drop"; },
  { name = "住所";     role = "identifier"; action = "drop"; },
  { name = "身長";     role = "other"; action = "drop"; },
  { name = "診断名";   role = "sensitive"; action = "keep"; }
);
privacy: { k = 2; max_suppression = 0.5; };
CONF
	"$VAULT" anonymize --policy "$T/nn.policy" --in "$T/nn.csv" \
		--out "$T/nn-out.csv" --report "$T/nn.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	sed 's/widths = \[10, 20\]/widths = [10, 15]/' "$T/nn.policy" > "$T/nn2.policy"
	! "$VAULT" anonymize --policy "$T/nn2.policy" --in "$T/nn.csv" \
		--out "$T/nn-out.csv" --report "$T/nn.json" >"$T/out" 2>&1 &&
	grep -q "nn2.policy:7: 'widths' must go from finest to coarsest" "$T/out" ||
		{ cat "$T/out"; return 1; }
}

# The report shows whom suppression removes: per released value of each
# quasi-identifier, the rows and the rows suppressed (named only in the
# --values file, never in the report), re-counted here from the input at
# the levels the report names. max_group_suppression caps the
# worst value's share: the search then avoids the optimum that removes
# most of one group, and fixed levels that break the cap fail the job.
test_r07_suppression_per_value_reported_and_capped() {
	search_policy "$T/g.policy" "$QI8" 5 0.1
	"$FAST_VAULT" anonymize --policy "$T/g.policy" --in "$ADULT/adult.csv" \
		--out "$T/g.csv" --report "$T/g.json" --values "$T/g-values.json" \
		>/dev/null 2>&1 || return 1
	sed 's/max_suppression = 0.1;/max_suppression = 0.1; max_group_suppression = 0.3;/' \
		"$T/g.policy" > "$T/gc.policy"
	"$FAST_VAULT" anonymize --policy "$T/gc.policy" --in "$ADULT/adult.csv" \
		--out "$T/gc.csv" --report "$T/gc.json" --values "$T/gc-values.json" \
		>"$T/out" 2>&1 || { cat "$T/out"; return 1; }
	python3 - "$ADULT" "$T/g.json" "$T/gc.json" <<'PY' || return 1
import collections, csv, json, sys
d = sys.argv[1]
rows = list(csv.reader(open(d + "/adult.csv"), delimiter=";"))
head, data = rows[0], rows[1:]
qi = head[:8]
hier = {c: {r[0]: r for r in csv.reader(open("%s/adult_hierarchy_%s.csv" % (d, c)), delimiter=";")} for c in qi}
def groups(rep):
    lv = {c["name"]: c["level"] for c in rep["columns"] if "level" in c}
    gen = [tuple(hier[c][r[i]][lv[c]] for i, c in enumerate(qi)) for r in data]
    size = collections.Counter(gen)
    out = {}
    for i, c in enumerate(qi):
        n = collections.Counter(g[i] for g in gen)
        s = collections.Counter(g[i] for g in gen if size[g] < 5)
        out[c] = {v: (n[v], s[v]) for v in n if n[v] >= 5}
    return out
worst = []
for f in sys.argv[2:]:
    rep = json.load(open(f))
    named = json.load(open(f.replace(".json", "-values.json")))
    mine = groups(rep)
    w = 0
    for c in qi:
        # The report counts without naming; --values names the same.
        plain = rep["suppression_by_value"][c]
        if any("value" in e for e in plain) or \
           [{k: v for k, v in e.items() if k != "value"} for e in named[c]] != plain:
            print("report and values differ for", c); sys.exit(1)
        for e in named[c]:
            if "value" in e:
                if mine[c][e["value"]] != (e["rows"], e["suppressed"]):
                    print("differs", c, e, mine[c][e["value"]]); sys.exit(1)
        w = max([w] + [s / n for n, s in mine[c].values()])
    worst.append(w)
    print(f.split("/")[-1], "loss", rep["information_loss"], "worst group share %.3f" % w)
# Uncapped, the optimum removes more than 30 % of some value's rows;
# capped, none loses more than 30 %, at a higher loss.
r0, r1 = (json.load(open(f)) for f in sys.argv[2:])
sys.exit(0 if worst[0] > 0.3 and worst[1] <= 0.3 and
         r1["information_loss"] >= r0["information_loss"] else 1)
PY
	# The benchmark's fixed levels remove all the rows of one value of
	# workclass (and 91.5 % of native-country's Africa).
	sed 's/max_suppression = 0.1;/max_suppression = 0.1; max_group_suppression = 0.5;/' \
		"$TOP/tests/bench/adult/adult-k5.policy" |
		sed "s#\.\./\.\./data/adult#$ADULT#" > "$T/fx.policy"
	! "$VAULT" anonymize --policy "$T/fx.policy" --in "$ADULT/adult.csv" \
		--out "$T/fx.csv" --report "$T/fx.json" >"$T/out" 2>&1 &&
	grep -q 'column "workclass": one value.s rows would be 100.0% suppressed, more than max_group_suppression allows (50.0%)' "$T/out" &&
	[ ! -e "$T/fx.csv" ] || { cat "$T/out"; return 1; }
}

# Entropy and recursive (c,l)-diversity and t-closeness on salary-class,
# searched: each release is recounted by the independent checker (t
# against the source's distribution), and the vault's checker accepts it
# and refuses a class changed to break entropy l-diversity.
test_r07_search_with_entropy_recursive_and_t_closeness() {
	local m
	for m in "l_diversity = 2; l_model = \"recursive\"; c = 3.0;|--l 2 --l-model recursive --c 3" \
		"t_closeness = 0.1;|--t 0.1 --source $ADULT/adult.csv --source-sep ;" \
		"l_diversity = 3; l_model = \"entropy\";|--l 3 --l-model entropy"; do
		search_policy "$T/md.policy" "$QI8" 5 0.1 2
		sed -i "s/l_diversity = 2; };/${m%%|*} };/" "$T/md.policy"
		# t without suppression: the search may prune, and is quick.
		[[ "$m" == t_closeness* ]] &&
			sed -i 's/max_suppression = 0.1;/max_suppression = 0.0;/' "$T/md.policy"
		if [[ "$m" == *entropy* ]]; then
			# salary-class has two values: entropy l = 3 cannot be met;
			# the job says so and writes nothing.
			! "$FAST_VAULT" anonymize --policy "$T/md.policy" --in "$ADULT/adult.csv" \
				--out "$T/md.csv" --report "$T/md.json" >"$T/out" 2>&1 &&
			grep -q "no combination of levels meets" "$T/out" || return 1
			continue
		fi
		rm -f "$T/md.csv"
		"$FAST_VAULT" anonymize --policy "$T/md.policy" --in "$ADULT/adult.csv" \
			--out "$T/md.csv" --report "$T/md.json" >"$T/out" 2>&1 ||
			{ cat "$T/out"; return 1; }
		# shellcheck disable=SC2086
		python3 "$CHECK" "$T/md.csv" "$T/md.json" --k 5 --sensitive salary-class \
			--qi "$(tr ' ' , <<<"$QI8")" ${m#*|} || return 1
		"$VAULT" check-release --policy "$T/md.policy" --release "$T/md.csv" \
			--report "$T/md.json" >/dev/null || return 1
	done
	# On a check-up file (many diagnoses), entropy l = 2 holds in the
	# release; a class whose diagnoses are made all one is refused by
	# the vault's checker, naming the model.
	python3 "$TOP/tests/data/gen_checkup.py" 5000 8 "$T/ent.csv" || return 1
	cat > "$T/ent.policy" <<'CONF'
input:  { encoding = "cp932"; delimiter = ","; header = true; };
columns = (
  { name = "宛名番号"; role = "identifier"; action = "drop"; },
  { name = "個人番号"; role = "identifier"; action = "drop"; },
  { name = "氏名";     role = "identifier"; action = "drop"; },
  { name = "生年月日"; role = "quasi"; action = "age_band";
    reference_date = "2026-04-01"; top = 90; search = true; widths = [5, 10, 20]; },
  { name = "性別";     role = "quasi"; action = "keep"; },
  { name = "郵便番号"; role = "quasi"; action = "truncate"; search = true; keeps = [5, 3]; },
  { name = "住所";     role = "identifier"; action = "drop"; },
  { name = "身長";     role = "other"; action = "drop"; },
  { name = "診断名";   role = "sensitive"; action = "keep"; }
);
privacy: { k = 5; max_suppression = 0.05; l_diversity = 2; l_model = "entropy"; };
output:  { encoding = "utf-8"; shuffle = true; };
CONF
	"$VAULT" anonymize --policy "$T/ent.policy" --in "$T/ent.csv" \
		--out "$T/ent-out.csv" --report "$T/ent.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	python3 "$CHECK" "$T/ent-out.csv" "$T/ent.json" --k 5 --l 2 --l-model entropy \
		--sensitive 診断名 --qi 生年月日,性別,郵便番号 >/dev/null &&
	"$VAULT" check-release --policy "$T/ent.policy" --release "$T/ent-out.csv" \
		--report "$T/ent.json" >/dev/null || return 1
	python3 - "$T/ent-out.csv" "$T/ent-bad.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
h = rows[0]; q = [h.index(c) for c in ("生年月日", "性別", "郵便番号")]
d = h.index("診断名"); first = tuple(rows[1][i] for i in q)
cls = [r for r in rows[1:] if tuple(r[i] for i in q) == first]
other = next(r[d] for r in rows[1:] if r[d] != rows[1][d])
# two values, one of them on a single row: distinct l = 2 still holds,
# entropy l = 2 does not
for r in cls:
    r[d] = rows[1][d]
cls[-1][d] = other
csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""),
           lineterminator="\n").writerows(rows)
PY
	! "$VAULT" check-release --policy "$T/ent.policy" --release "$T/ent-bad.csv" \
		--report "$T/ent.json" >"$T/out" 2>&1 &&
	grep -q "does not meet entropy l-diversity with l = 2" "$T/out" ||
		{ cat "$T/out"; return 1; }
}

# The other metrics (issue 19): discernibility and precision choose the
# node; the figure the report gives is recounted here from the release
# itself (its classes, the rows it lacks, each column's level against its
# hierarchy's height). Their optimality is the unit test's brute force.
test_r07_search_by_discernibility_and_precision() {
	local m
	for m in discernibility precision; do
		search_policy "$T/$m.policy" "$QI8" 5 0.05
		sed -i "s/max_suppression = 0.05;/max_suppression = 0.05; metric = \"$m\";/" "$T/$m.policy"
		grep -q "metric = \"$m\"" "$T/$m.policy" &&
		"$FAST_VAULT" anonymize --policy "$T/$m.policy" --in "$ADULT/adult.csv" \
			--out "$T/$m.csv" --report "$T/$m.json" >"$T/out" 2>&1 ||
			{ cat "$T/out"; return 1; }
		python3 "$CHECK" "$T/$m.csv" "$T/$m.json" --k 5 \
			--qi "$(tr ' ' , <<<"$QI8")" || return 1
		python3 - "$m" "$T/$m.csv" "$T/$m.json" "$ADULT" $QI8 <<'PY' || return 1
import collections, csv, sys
m, rel, rep, adult, qis = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
import json
r = json.load(open(rep))
assert r["search_metric"] == m, r["search_metric"]
rows = list(csv.DictReader(open(rel, encoding="utf-8")))
n, out = r["rows_in"], r["rows_in"] - len(rows)
assert r["rows_suppressed"] == out
classes = collections.Counter(tuple(x[q] for q in qis) for x in rows)
if m == "discernibility":
    want = (sum(c * c for c in classes.values()) + out * n) / (n * n)
else:
    level = {c["name"]: c["level"] for c in r["columns"] if "level" in c}
    height = {q: len(next(csv.reader(open("%s/adult_hierarchy_%s.csv" % (adult, q)), delimiter=";"))) - 1 for q in qis}
    want = (sum(len(rows) * level[q] / height[q] for q in qis) + out * len(qis)) / (n * len(qis))
got = float(r["search_metric_value"])
assert abs(got - want) < 1e-9, (m, got, want)
# the report gives the release under every metric; the loss is its own
assert abs(r["metrics"][m] - want) < 1e-9, r["metrics"]
assert r["metrics"]["loss"] == r["information_loss"], r["metrics"]
print("%s: %.6f (recounted %.6f), levels %s, %d suppressed" % (m, got, want,
      [c["level"] for c in r["columns"] if "level" in c], out))
PY
	done
	# A metric that is not built is refused with the file and line.
	sed 's/metric = "precision"/metric = "entropy"/' "$T/precision.policy" > "$T/bad.policy"
	! "$VAULT" anonymize --policy "$T/bad.policy" --in "$ADULT/adult.csv" \
		--out "$T/bad.csv" --report "$T/bad.json" >"$T/out" 2>&1 &&
	grep -q "bad.policy:[0-9]*: 'metric' must be \"loss\"" "$T/out" || { cat "$T/out"; return 1; }
}

# Non-uniform entropy (issue 19): the search returns exactly ARX's
# optimum, rows suppressed and score (Metric.createEntropyMetric(), run by
# our driver tests/bench/arx/ArxModels.java) on nine cases: k = 2, 5, 10
# with nothing suppressed over nine and eight quasi-identifiers, and three
# with suppression over eight.
test_r07_search_by_nonuniform_entropy_equals_arx() {
	local line k s n opt score supp qis cases=0 bad=0
	while read -r line; do
		[[ "$line" == "arx-models: metric=entropy "* ]] || continue
		k=$(field k "$line"); s=$(field suppression "$line")
		n=$(field qis "$line"); opt=$(field optimum "$line")
		score=$(field score "$line"); supp=$(field suppressed "$line")
		qis=$QI8; [ "$n" = 9 ] && qis="$QI8 salary-class"
		search_policy "$T/e.policy" "$qis" "$k" "$s"
		sed -i 's/max_suppression = \([0-9.]*\);/max_suppression = \1; metric = "nonuniform_entropy";/' "$T/e.policy"
		grep -q 'metric = "nonuniform_entropy"' "$T/e.policy" &&
		"$FAST_VAULT" anonymize --policy "$T/e.policy" --in "$ADULT/adult.csv" \
			--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 ||
			{ cat "$T/out"; return 1; }
		cases=$((cases + 1))
		python3 - "$T/e.json" "$opt" "$score" "$supp" "$line" <<'PY' || bad=$((bad + 1))
import json, sys
r = json.load(open(sys.argv[1]))
levels = [c["level"] for c in r["columns"] if c.get("level_searched")]
want = [int(x) for x in sys.argv[2].split(",")]
got = float(r["search_metric_value"])
ok = (r["search_metric"] == "nonuniform_entropy" and levels == want and
      r["metrics"]["nonuniform_entropy"] == got and
      r["rows_suppressed"] == int(sys.argv[4]) and
      abs(got - float(sys.argv[3])) <= 1e-9 * float(sys.argv[3]))
if not ok:
    print("ARX:  %s" % sys.argv[5])
    print("ours: levels=%s score=%r suppressed=%d" % (levels, got, r["rows_suppressed"]))
sys.exit(0 if ok else 1)
PY
		python3 "$CHECK" "$T/e.csv" "$T/e.json" --k "$k" \
			--qi "$(tr ' ' , <<<"$qis")" >/dev/null || bad=$((bad + 1))
	done < "$ANSWERS"
	echo "$cases cases, $bad differ from ARX"
	[ "$cases" -eq 9 ] && [ "$bad" -eq 0 ]
}

# t-closeness by hierarchical ground distance (issue 19), and by equal
# distance, on occupation over the seven other quasi-identifiers: the
# search returns exactly ARX's optimum, rows suppressed and loss
# (HierarchicalDistanceTCloseness and EqualDistanceTCloseness, run by
# tests/bench/arx/ArxModels.java), and the checker recounts t on the
# release by a flow on the hierarchy's tree. The hierarchical optimum at
# t = 0.3 is finer than the equal-distance one, and fails equal distance.
t_policy() {
	local f=$1 t=$2 s=$3 mode=$4 c sep="" q7=${QI8% occupation}
	{
		echo 'input: { encoding = "utf-8"; delimiter = ";"; header = true; };'
		echo 'columns = ('
		for c in $q7 occupation salary-class; do
			printf '%s' "$sep"; sep=$',\n'
			case $c in
			occupation) printf '  { name = "occupation"; role = "sensitive"; action = "keep"; }' ;;
			salary-class) printf '  { name = "salary-class"; role = "other"; action = "keep"; }' ;;
			*) printf '  { name = "%s"; role = "quasi"; action = "hierarchy"; file = "%s/adult_hierarchy_%s.csv"; search = true; }' \
				"$c" "$ADULT" "$c" ;;
			esac
		done
		echo; echo ');'
		printf 'privacy: { k = 5; max_suppression = %s; t_closeness = %s;' "$s" "$t"
		[ "$mode" = hierarchical ] &&
			printf ' t_hierarchy = "%s/adult_hierarchy_occupation.csv";' "$ADULT"
		echo ' };'
		echo 'output: { encoding = "utf-8"; shuffle = true; };'
	} > "$f"
}

test_r07_t_closeness_by_hierarchical_distance_equals_arx() {
	local line t mode s opt loss supp cases=0 bad=0 q7=${QI8% occupation}
	local chk=(--k 5 --sensitive occupation --source "$ADULT/adult.csv" --source-sep ";")
	while read -r line; do
		[[ "$line" == "arx-models: metric=loss "*" t=occupation:"* ]] || continue
		t=$(field t "$line"); mode=${t##*:}; t=${t#occupation:}; t=${t%:*}
		s=$(field suppression "$line"); opt=$(field optimum "$line")
		loss=$(field score "$line"); supp=$(field suppressed "$line")
		t_policy "$T/t.policy" "$t" "$s" "$mode"
		"$FAST_VAULT" anonymize --policy "$T/t.policy" --in "$ADULT/adult.csv" \
			--out "$T/t.csv" --report "$T/t.json" >"$T/out" 2>&1 ||
			{ cat "$T/out"; return 1; }
		cases=$((cases + 1))
		python3 - "$T/t.json" "$opt" "$loss" "$supp" "$mode" "$line" <<'PY' || bad=$((bad + 1))
import json, sys
r = json.load(open(sys.argv[1]))
levels = [c["level"] for c in r["columns"] if c.get("level_searched")]
ok = (levels == [int(x) for x in sys.argv[2].split(",")] and
      r["rows_suppressed"] == int(sys.argv[4]) and
      abs(r["information_loss"] - float(sys.argv[3])) < 1e-9 and
      r["t_distance"] == sys.argv[5])
if not ok:
    print("ARX:  %s" % sys.argv[6])
    print("ours: levels=%s loss=%r suppressed=%d %s" % (levels,
          r["information_loss"], r["rows_suppressed"], r["t_distance"]))
sys.exit(0 if ok else 1)
PY
		if [ "$mode" = hierarchical ]; then
			python3 "$CHECK" "$T/t.csv" "$T/t.json" --qi "$(tr ' ' , <<<"$q7")" \
				"${chk[@]}" --t "$t" --t-hierarchy "$ADULT/adult_hierarchy_occupation.csv" \
				>/dev/null || bad=$((bad + 1))
			# the finer release of t = 0.3 is not 0.3-close by equal distance
			if [ "$t" = 0.3 ] && [ "$s" = 0.0 ] &&
				python3 "$CHECK" "$T/t.csv" "$T/t.json" --qi "$(tr ' ' , <<<"$q7")" \
				"${chk[@]}" --t "$t" >/dev/null; then
				echo "hierarchical release passes equal distance too"; bad=$((bad + 1))
			fi
		else
			python3 "$CHECK" "$T/t.csv" "$T/t.json" --qi "$(tr ' ' , <<<"$q7")" \
				"${chk[@]}" --t "$t" >/dev/null || bad=$((bad + 1))
		fi
	done < "$ANSWERS"
	echo "$cases cases, $bad differ from ARX or fail the check"
	[ "$cases" -eq 6 ] && [ "$bad" -eq 0 ] || return 1
	# A hierarchy that lacks a released value fails the job, naming the
	# column but not the value; t_hierarchy without t is refused.
	grep -v '^Sales;' "$ADULT/adult_hierarchy_occupation.csv" > "$T/occ.csv"
	t_policy "$T/t.policy" 0.3 0.0 hierarchical
	sed -i "s|$ADULT/adult_hierarchy_occupation.csv|$T/occ.csv|" "$T/t.policy"
	refused "$T/t.policy" 'column "occupation": a released value is not in t_hierarchy' &&
	! grep -q Sales "$T/out" || return 1
	sed -i 's/ t_closeness = 0.3;//' "$T/t.policy"
	refused "$T/t.policy" "t.policy:[0-9]+: 't_hierarchy' is for t_closeness"
}

# Local recoding (issue 19): on Adult, eight quasi-identifiers, k = 5 and
# a 10 % limit, the rows the global search suppresses (2,659 in ARX's
# optimum) are generalized further by rounds of their own. The release
# must keep more rows than ARX's global optimum at less loss, with k (and
# distinct l = 2) recounted on it, its loss recounted here from the
# hierarchies (a label's share of its hierarchy's rows, per row, at
# whatever level it stands), the rounds' rows adding up to the release,
# and the vault's own checker passing it. Cell suppression (recoding =
# "cells") the same, with every released value at the first round's
# level of its column or the top of its hierarchy, "*".
test_r07_local_recoding_releases_what_a_global_search_suppresses() {
	local arx l qis loss mode
	qis=$(tr ' ' , <<<"$QI8")
	arx=$(grep -m1 '^arx: k=5 l=- suppression=0.1 qis=8 ' "$ANSWERS") || return 1
	for l in "" 2 cells; do
		mode=local; [ "$l" = cells ] && { mode=cells; l=""; }
		search_policy "$T/lr.policy" "$QI8" 5 0.1 "$l"
		sed -i "s/max_suppression = 0.1;/max_suppression = 0.1; recoding = \"$mode\";/" "$T/lr.policy"
		grep -q "recoding = \"$mode\"" "$T/lr.policy" &&
		"$FAST_VAULT" anonymize --policy "$T/lr.policy" --in "$ADULT/adult.csv" \
			--out "$T/lr.csv" --report "$T/lr.json" >"$T/out" 2>&1 ||
			{ cat "$T/out"; return 1; }
		python3 "$CHECK" "$T/lr.csv" "$T/lr.json" --k 5 --qi "$qis" \
			${l:+--l "$l" --sensitive salary-class} || return 1
		"$VAULT" check-release --policy "$T/lr.policy" --release "$T/lr.csv" \
			--report "$T/lr.json" >/dev/null || return 1
		loss=$(python3 "$TOP/tests/integration/release_loss.py" "$T/lr.csv" \
			30162 "$qis" "$ADULT") || return 1
		python3 - "$T/lr.json" "${loss#*loss=}" "$l" "$arx" "$mode" "$T/lr.csv" "$ADULT" <<'PY' || return 1
import csv, json, sys
rep, loss, l, arx, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
r = json.load(open(rep))
n, out = r["rows_in"], r["rows_suppressed"]
assert r["recoding"] == mode and r["rows_out"] == n - out, r
if mode == "cells":
    first = r["local_rounds"][0]["levels"]
    for q, lv in first.items():
        h = list(csv.reader(open("%s/adult_hierarchy_%s.csv" % (sys.argv[7], q)), delimiter=";"))
        allowed = {x[lv] for x in h} | {x[-1] for x in h}
        got = {x[q] for x in csv.DictReader(open(sys.argv[6], encoding="utf-8"))}
        assert got <= allowed, (q, sorted(got - allowed)[:5])
assert sum(x["rows"] for x in r["local_rounds"]) == r["rows_out"], r["local_rounds"]
assert abs(loss - r["information_loss"]) < 1e-9, (loss, r["information_loss"])
print("%s%s: %d of %d rows, loss %.4f in %d rounds" % (mode, " l=" + l if l
      else "", n - out, n, loss, len(r["local_rounds"])))
if not l:
    arx_loss = float(arx.split(" loss=")[1].split()[0])
    arx_supp = int(arx.split(" suppressed=")[1].split()[0])
    print("ARX's global optimum: %d rows, loss %.4f" % (n - arx_supp, arx_loss))
    assert out < arx_supp and loss < arx_loss
PY
		# What the operators read of it (`report`, as `release show`):
		# every round with its rows and levels, as the report has them.
		"$FAST_VAULT" report "$T/lr.json" > "$T/summary" || return 1
		python3 - "$T/lr.json" "$T/summary" <<'PY' || return 1
import json, re, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
rounds = re.findall(r"^第 (\d+) 回 / round \1: (\d+) 行 / rows:(.*)$", text, re.M)
assert [int(x[1]) for x in rounds] == [x["rows"] for x in r["local_rounds"]], (rounds, r["local_rounds"])
for (_, _, lv), want in zip(rounds, r["local_rounds"]):
    got = {w.split("=")[0]: int(w.split("=")[1]) for w in lv.split()}
    assert got == want["levels"], (got, want)
kind = "セル抑制" if r["recoding"] == "cells" else "局所再符号化"
assert re.search(r"^再符号化 / recoding: %s" % kind, text, re.M), text
PY
	done
	# What local recoding needs, said with the file and line.
	sed 's/recoding = "cells";/recoding = "local"; metric = "precision";/' \
		"$T/lr.policy" > "$T/bad.policy"
	refused "$T/bad.policy" "bad.policy:[0-9]+: local recoding is scored by the loss metric only" &&
	sed 's/recoding = "cells";/recoding = "nearby";/' "$T/lr.policy" > "$T/bad.policy" &&
	refused "$T/bad.policy" "bad.policy:[0-9]+: 'recoding' must be \"global\""
}

# max_group_suppression with local recoding (issue 19): the rows no round
# releases are counted per value of each quasi-identifier as it came in
# (a row's levels differ from round to round). With every level at most
# 2, so that some rows stay suppressed, and released in input order
# with the suppressed rows as all-"*" rows, the share of each value's
# rows suppressed is recounted here from the input and the release; a
# cap just above the worst share passes and the report gives that share,
# one below it fails the job, says which column, and writes no release.
test_r07_local_recoding_caps_the_share_one_value_loses() {
	local w
	search_policy "$T/lc.policy" "$QI8" 5 0.1
	sed -i -e 's/max_suppression = 0.1;/max_suppression = 0.1; recoding = "local"; suppressed = "star";/' \
		-e 's/shuffle = true;/shuffle = false;/' \
		-e 's/search = true;/search = true; max_level = 2;/' "$T/lc.policy"
	grep -q 'suppressed = "star"' "$T/lc.policy" && grep -q 'shuffle = false' "$T/lc.policy" &&
	[ "$(grep -c "max_level = 2;" "$T/lc.policy")" = 8 ] &&
	"$FAST_VAULT" anonymize --policy "$T/lc.policy" --in "$ADULT/adult.csv" \
		--out "$T/lc.csv" --report "$T/lc.json" >"$T/out" 2>&1 || { cat "$T/out"; return 1; }
	w=$(python3 - "$ADULT/adult.csv" "$T/lc.csv" "$T/lc.json" "$QI8" <<'PY2'
import collections, csv, json, sys
src = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
rel = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))
rep = json.load(open(sys.argv[3]))
qi = sys.argv[4].split()
assert len(src) == len(rel), (len(src), len(rel))
sup = [all(r[q] == "*" for q in qi) for r in rel]
assert sum(sup) == rep["rows_suppressed"] > 0, (sum(sup), rep["rows_suppressed"])
worst = 0
for q in qi:
    n = collections.Counter(r[q] for r in src)
    s = collections.Counter(r[q] for r, x in zip(src, sup) if x)
    worst = max([worst] + [s[v] / n[v] for v in n if n[v] >= 5])
print("%.9f" % worst)
PY2
) || return 1
	echo "worst share suppressed in one value: $w"
	python3 -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 1 else 1)" "$w" || return 1
	sed "s/recoding = \"local\";/& max_group_suppression = $(python3 -c "print(min(1.0, float('$w') + 1e-6))");/" \
		"$T/lc.policy" > "$T/lc-above.policy"
	"$FAST_VAULT" anonymize --policy "$T/lc-above.policy" --in "$ADULT/adult.csv" \
		--out "$T/lca.csv" --report "$T/lca.json" >"$T/out" 2>&1 || { cat "$T/out"; return 1; }
	python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert abs(r['group_suppression_worst'] - float(sys.argv[2])) < 1e-6, (r['group_suppression_worst'], sys.argv[2])
" "$T/lca.json" "$w" || return 1
	sed "s/recoding = \"local\";/& max_group_suppression = $(python3 -c "print(float('$w') / 2)");/" \
		"$T/lc.policy" > "$T/lc-below.policy"
	! "$FAST_VAULT" anonymize --policy "$T/lc-below.policy" --in "$ADULT/adult.csv" \
		--out "$T/lcb.csv" --report "$T/lcb.json" >"$T/out" 2>&1 &&
	grep -qE 'column "[a-z-]+": one value.s rows would be [0-9.]+% suppressed even after the last round, more than max_group_suppression allows' "$T/out" &&
	[ ! -e "$T/lcb.csv" ] || { cat "$T/out"; return 1; }
}

# Journalist risk and population uniqueness (issue 19): with the counts
# of the population the file is drawn from (made here from Adult: each
# combination of the eight quasi-identifiers 3 times as common, plus 0-2,
# or, for one in five, no more common than in the file), each released
# class of f rows stands for F people and carries 1 / F. The report's
# highest and average journalist risk, rows above the threshold and the
# file's rows unique in the population at the release's levels are
# recounted here from the release, the population and the hierarchies.
test_r07_journalist_risk_and_population_uniqueness() {
	local qis
	qis=$(tr ' ' , <<<"$QI8")
	python3 - "$ADULT/adult.csv" "$T/pop.csv" "$qis" <<'PY' || return 1
import collections, csv, random, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
qis = sys.argv[3].split(",")
random.seed(11)
c = collections.Counter(tuple(r[q] for q in qis) for r in rows)
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(qis + ["count"])
    for key, n in sorted(c.items()):
        w.writerow(list(key) + [n if random.random() < 0.2 else n * 3 + random.randrange(3)])
PY
	search_policy "$T/pop.policy" "$QI8" 5 0.1
	sed -i "s|max_suppression = 0.1;|max_suppression = 0.1; population = \"$T/pop.csv\";|" "$T/pop.policy"
	"$FAST_VAULT" anonymize --policy "$T/pop.policy" --in "$ADULT/adult.csv" \
		--out "$T/pop-out.csv" --report "$T/pop.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; return 1; }
	python3 - "$T/pop-out.csv" "$T/pop.json" "$T/pop.csv" "$ADULT" "$qis" <<'PY' || return 1
import collections, csv, json, sys
rel, rep, pop, adult, qis = sys.argv[1:6]
qis = qis.split(",")
r = json.load(open(rep))
level = {c["name"]: c["level"] for c in r["columns"] if "level" in c}
gen = {}
for q in qis:
    h = list(csv.reader(open("%s/adult_hierarchy_%s.csv" % (adult, q)), delimiter=";"))
    gen[q] = {x[0]: x[level[q]] for x in h}
people = collections.Counter()
for x in csv.DictReader(open(pop, encoding="utf-8")):
    people[tuple(gen[q][x[q]] for q in qis)] += int(x["count"])
released = collections.Counter(tuple(x[q] for q in qis)
                               for x in csv.DictReader(open(rel, encoding="utf-8")))
n = sum(released.values())
want_max = max(1 / people[k] for k in released)
want_avg = sum(f / people[k] for k, f in released.items()) / n
want_risk = sum(f for k, f in released.items() if 1 / people[k] > r["risk_threshold"])
src = list(csv.DictReader(open("%s/adult.csv" % adult, encoding="utf-8"), delimiter=";"))
want_uniq = sum(1 for x in src if people[tuple(gen[q][x[q]] for q in qis)] == 1)
got = (r["risk_journalist_highest"], r["risk_journalist_average"],
       r["rows_at_journalist_risk"], r["population_unique_rows"], r["population_people"])
want = (want_max, want_avg, want_risk, want_uniq,
        sum(int(x["count"]) for x in csv.DictReader(open(pop, encoding="utf-8"))))
print("journalist risk: highest %.6f average %.6f, %d rows above %.2f; %d of "
      "the file's rows unique in a population of %d (recounted %s)" % (
      got[0], got[1], got[2], r["risk_threshold"], got[3], got[4], want))
assert abs(got[0] - want[0]) <= 5e-6 * want[0] and abs(got[1] - want[1]) <= 5e-6 * want[1], (got, want)
assert got[2:] == want[2:], (got, want)
assert want_uniq > 0 and r["risk_journalist_highest"] < r["risk_highest"]
PY
	# The summary the operators read says the same.
	"$FAST_VAULT" report "$T/pop.json" > "$T/summary" || return 1
	python3 - "$T/pop.json" "$T/summary" <<'PY' || return 1
import json, re, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
m = re.search(r"^母集団 / population: (\d+) 人 / people$", text, re.M)
assert m and int(m.group(1)) == r["population_people"], text
m = re.search(r"^母集団に対するリスク / journalist risk: 最大 / highest (\S+), "
              r"平均 / average (\S+)$", text, re.M)
assert m and abs(float(m.group(1)) - r["risk_journalist_highest"]) < 1e-9, text
assert abs(float(m.group(2)) - r["risk_journalist_average"]) < 1e-9, text
m = re.search(r"^母集団で閾値超 / rows at journalist risk: (\d+) 行 / rows "
              r"\(> \S+\); 母集団で一意 / population-unique (\d+) 行 / rows$", text, re.M)
assert m and (int(m.group(1)), int(m.group(2))) == (
    r["rows_at_journalist_risk"], r["population_unique_rows"]), text
PY
	# A population that lacks a quasi-identifier, or counts fewer people
	# than the file, fails the job and says so.
	cut -d, -f2- "$T/pop.csv" > "$T/pop2.csv"
	sed "s|$T/pop.csv|$T/pop2.csv|" "$T/pop.policy" > "$T/bad.policy"
	refused "$T/bad.policy" "population .*pop2.csv has no column \"sex\"" &&
	sed 's/,[0-9]*$/,1/' "$T/pop.csv" > "$T/pop3.csv" &&
	sed "s|$T/pop.csv|$T/pop3.csv|" "$T/pop.policy" > "$T/bad.policy" &&
	refused "$T/bad.policy" "counts fewer people .* than the file has rows" &&
	sed 's/,count$/,people/' "$T/pop.csv" > "$T/pop4.csv" &&
	sed "s|$T/pop.csv|$T/pop4.csv|" "$T/pop.policy" > "$T/bad.policy" &&
	refused "$T/bad.policy" "bad.policy:[0-9]+: .*pop4.csv: the header has no \"count\" column"
}

# No node meets the model: the job fails, says why, releases nothing, and
# reports (issue 20) the classes at the highest levels the policy allows;
# with every row suppressed whatever is left out, no column stands out.
test_search_without_solution_fails_and_reports_the_highest_levels() {
	search_policy "$T/n.policy" "$QI8" 40000 0.5
	! "$VAULT" anonymize --policy "$T/n.policy" --in "$ADULT/adult.csv" \
		--out "$T/n.csv" --report "$T/n.json" >"$T/out" 2>&1 &&
	grep -q "no combination of levels meets k=40000" "$T/out" &&
	[ ! -e "$T/n.csv" ] &&
	python3 - "$T/n.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert r["outcome"] == "failed" and r["failed_on"] is None, r
assert r["rows_out"] == 0 and r["rows_suppressed"] == r["rows_in"] == 30162, r
searched = [c for c in r["columns"] if c.get("level_searched")]
assert len(searched) == 8 and all(c["level"] > 0 for c in searched), searched
PY
}

# Policy mistakes about the search name the file and line.
test_search_policy_errors_name_file_and_line() {
	search_policy "$T/e.policy" "$QI8" 5 0.1
	sed 's#adult_hierarchy_age.csv"; search = true;#adult_hierarchy_age.csv"; search = true; level = 2;#' \
		"$T/e.policy" > "$T/e1.policy"
	! "$VAULT" anonymize --policy "$T/e1.policy" --in "$ADULT/adult.csv" \
		--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 &&
	grep -q "e1.policy:4: 'level' and 'search' exclude each other" "$T/out" ||
		{ cat "$T/out"; return 1; }
	# A hierarchy whose levels do not nest would break the search.
	sed "s/^21;20-24;20-29;/21;20-24;30-39;/" "$ADULT/adult_hierarchy_age.csv" \
		> "$T/age.csv"
	grep -q "^21;20-24;30-39;" "$T/age.csv" || return 1
	sed "s#$ADULT/adult_hierarchy_age.csv#$T/age.csv#" "$T/e.policy" \
		> "$T/e2.policy"
	! "$VAULT" anonymize --policy "$T/e2.policy" --in "$ADULT/adult.csv" \
		--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 &&
	grep -q "does not nest" "$T/out" || { cat "$T/out"; return 1; }
	sed 's/privacy: { k = 5;/privacy: { l_model = "entropy"; k = 5;/' \
		"$T/e.policy" > "$T/e4.policy"
	! "$VAULT" anonymize --policy "$T/e4.policy" --in "$ADULT/adult.csv" \
		--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 &&
	grep -q "'l_model' needs 'l_diversity' of 2 or more" "$T/out" ||
		{ cat "$T/out"; return 1; }
	search_policy "$T/e5.policy" "$QI8" 5 0.1 2
	sed -i 's/l_diversity = 2; };/l_diversity = 2; l_model = "recursive"; };/' "$T/e5.policy"
	! "$VAULT" anonymize --policy "$T/e5.policy" --in "$ADULT/adult.csv" \
		--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 &&
	grep -q "recursive (c,l)-diversity needs 'c'" "$T/out" ||
		{ cat "$T/out"; return 1; }
	sed 's/privacy: { k = 5;/privacy: { metric = "entropy"; k = 5;/' \
		"$T/e.policy" > "$T/e3.policy"
	! "$VAULT" anonymize --policy "$T/e3.policy" --in "$ADULT/adult.csv" \
		--out "$T/e.csv" --report "$T/e.json" >"$T/out" 2>&1 &&
	grep -q "'metric' must be" "$T/out" || { cat "$T/out"; return 1; }
}

for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
