#!/usr/bin/env bash
# test_r17_vault_separation.sh: the vault's parts (R17). Each upload is
# processed by an engine process of its own, exec'd by the spawner: during
# the job it holds only the three descriptors main handed it (its channel,
# the input pipe, the output pipe) and none of main's keys; an engine that
# dies fails its job and nothing else. A separate checker re-reads every
# release before it may be approved, and refuses one doctored after the
# engine: a dropped column put back, a class under k, a My Number.
#
# On the hardened build, what is deployed (and what /proc/PID/mem can be
# scanned on: a sanitizer build maps terabytes of shadow memory); the
# engine's code runs under the sanitizers in test_pipeline.sh.
. "$(dirname "$0")/lib.sh"
BIN=$TOP/build/bin
. "$(dirname "$0")/pipeline.sh"

# The engine's pid, once one runs (within 60 s).
engine_pid() {
	local i pid
	for i in $(seq 1 6000); do
		pid=$(pgrep -f "sekisho-vault -c $T/vault.conf proc engine" |
			head -1)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.01
	done
	echo "no engine process appeared" >&2
	return 1
}

main_pid() { pgrep -f "sekisho-vault -c $T/vault.conf proc main" | head -1; }

test_r17_vault_is_parent_main_and_spawner_each_a_fresh_image() {
	local kids m s
	kids=$(cat /proc/"$VAULT_PID"/task/*/children | wc -w)
	m=$(main_pid) &&
	s=$(pgrep -f "sekisho-vault -c $T/vault.conf proc spawner" | head -1) &&
	[ "$kids" = 2 ] && [ -n "$m" ] && [ -n "$s" ] &&
	[ "$(readlink /proc/"$m"/exe)" = "$BIN/sekisho-vault" ] &&
	grep -qE '^Seccomp:\s+2$' "/proc/$m/status" &&
	grep -qE '^Seccomp:\s+2$' "/proc/$VAULT_PID/status" &&
	# The spawner has no filter of its own (it would pass to the
	# engine), but no_new_privs and the vault's user.
	grep -qE '^NoNewPrivs:\s+1$' "/proc/$s/status" &&
	[ "$(stat -c %U /proc/"$s")" = sekisho-vault ]
}

# Stopped (SIGSTOP) in the middle of a 300,000-row job: its descriptors
# and its memory, against main's as the control.
test_r17_engine_holds_only_its_descriptors_and_no_key() {
	local e m fd target socks=0 pipes=0 other=0 master auditkey keys seccomp
	python3 "$GEN" 300000 31 "$T/big.csv" &&
	[ "$(upload "$T/big.csv" health-checkup)" = 201 ] && J1=$(cat "$T/id") &&
	e=$(engine_pid) && m=$(main_pid) || return 1
	kill -STOP "$e"
	for fd in /proc/"$e"/fd/*; do
		[ "${fd##*/}" -le 2 ] && continue
		target=$(readlink "$fd")
		case $target in
		socket:*) socks=$((socks + 1)) ;;
		pipe:*) pipes=$((pipes + 1)) ;;
		*) other=$((other + 1)); echo "the engine has $target open" >&2 ;;
		esac
	done
	master=$(hex_of "$T/vdata/master.key")
	auditkey=$(hex_of "$T/vdata/audit.log.state" 16 32)
	# Main holds both (the control); the engine neither.
	keys_only_in "$m" "$e" "$master" "$auditkey"
	keys=$?
	seccomp=$(awk '/^Seccomp:/ {print $2}' "/proc/$e/status")
	# Held past five seconds, the job is long: the daemon logs how far
	# the engine has read (issue 20) once it reads again.
	sleep 5.5
	kill -CONT "$e"
	echo "engine $e: $socks socket, $pipes pipes, $other other; seccomp $seccomp"
	[ "$socks" = 1 ] && [ "$pipes" = 2 ] && [ "$other" = 0 ] &&
	[ "$seccomp" = 2 ] && [ "$keys" = 0 ] || return 1
	wait_state "$J1" awaiting_approval 120 &&
	grep -q "\"event\":\"release.checked\",\"actor\":\"vault\",\"object\":\"$J1\"" \
		"$T/vdata/audit.log" &&
	grep -E "job $J1: [0-9]+ of $(( $(stat -c %s "$T/big.csv") / 1000000 )) MB read by the engine \([0-9]+%\), [0-9.]+ MB/s, about [0-9]+ s to go" \
		"$T/vault.log"
}

# kill -9 of the engine: that job fails with the reason, the vault does not
# stop, and the next upload is processed.
test_r17_engine_killed_fails_its_job_only() {
	local e
	python3 "$GEN" 300000 32 "$T/big2.csv" &&
	[ "$(upload "$T/big2.csv" health-checkup)" = 201 ] && J2=$(cat "$T/id") &&
	e=$(engine_pid) || return 1
	kill -KILL "$e"
	wait_state "$J2" failed 60 &&
	"$VAULT" -c "$T/vault.conf" release show "$J2" > "$T/show" &&
	grep -q "the engine ended without an answer (killed by signal 9)" "$T/show" &&
	kill -0 "$VAULT_PID" &&
	python3 "$GEN" 2000 33 "$T/small.csv" &&
	[ "$(upload "$T/small.csv" health-checkup)" = 201 ] && J3=$(cat "$T/id") &&
	wait_state "$J3" awaiting_approval 60
}

# The checker's recount, as `sekisho-vault check-release` runs it on a
# release the engine made, and on copies doctored after the engine.
checked() {	# checked RELEASE: 0 if the checker passes it
	"$VAULT" check-release --policy "$POLICY" --release "$1" \
		--report "$T/rep.json" >"$T/check.out" 2>"$T/check.err"
}

doctor() {	# doctor HOW OUT: a copy of rel.csv changed after the engine
	python3 - "$T/rel.csv" "$2" "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
how = sys.argv[3]
head = rows[0]
if how == "dropped-column":
    # 個人番号 (My Number) is dropped by the policy: put it back.
    rows = [r + [v] for r, v in zip(rows, ["個人番号"] + ["1"] * len(rows))]
elif how == "class-under-k":
    # One row's postcode prefix made unique: a class of one.
    rows[1][head.index("郵便番号")] = "999"
elif how == "my-number":
    # A valid My Number (check digit) in the height column.
    d = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    # P_n, the n-th digit from the right, weighs n + 1 up to 6, n - 5 after.
    s = sum(d[11 - n] * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    c = 0 if s % 11 <= 1 else 11 - s % 11
    rows[1][head.index("身長")] = "".join(map(str, d)) + str(c)
elif how == "row-removed":
    # A whole class left out: every class still has k rows, the count
    # is not the report's.
    qi = [head.index(c) for c in ("生年月日", "性別", "郵便番号")]
    key = lambda r: tuple(r[i] for i in qi)
    first = key(rows[1])
    rows = [rows[0]] + [r for r in rows[1:] if key(r) != first]
w = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""),
               lineterminator="\n")
w.writerows(rows)
PY
}

test_r17_checker_passes_the_engines_release() {
	python3 "$GEN" 5000 34 "$T/in.csv" &&
	"$VAULT" anonymize --policy "$POLICY" --in "$T/in.csv" \
		--out "$T/rel.csv" --report "$T/rep.json" >/dev/null &&
	checked "$T/rel.csv" && grep -q "OK" "$T/check.out"
}

test_r17_checker_refuses_a_dropped_column_put_back() {
	doctor dropped-column "$T/d1.csv" && ! checked "$T/d1.csv" &&
	grep -q '"個人番号", which the policy drops' "$T/check.err"
}

test_r17_checker_refuses_a_class_under_k() {
	doctor class-under-k "$T/d2.csv" && ! checked "$T/d2.csv" &&
	grep -q "has 1 rows, fewer than k = 5" "$T/check.err"
}

test_r17_checker_refuses_a_my_number() {
	doctor my-number "$T/d3.csv" && ! checked "$T/d3.csv" &&
	grep -q 'column "身長": a value that looks like My Number' "$T/check.err"
}

test_r17_checker_refuses_counts_that_are_not_the_reports() {
	doctor row-removed "$T/d4.csv" && ! checked "$T/d4.csv" &&
	grep -q "the report says [0-9]* rows, the release has" "$T/check.err"
}

setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
[ "$FAILED" -eq 0 ] || tail -30 "$T/vault.log"
summary
