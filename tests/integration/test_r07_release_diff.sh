#!/usr/bin/env bash
# test_r07_release_diff.sh: before two operators approve a release, the
# console compares it with the previous release of the same dataset: a
# class whose count changed by fewer than k between the two lets whoever
# holds both single those records out (a differencing attack, R07). The
# counts are the test's own: it recounts both downloaded releases.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"

test_r07_first_release_has_nothing_to_compare() {
	python3 "$GEN" 400 151 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	"$VAULT" -c "$T/vault.conf" release diff "$A" | grep -q 'no earlier release' &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published
}

# The same people and ten of them twice: several classes grow by 1 or 2.
test_r07_a_release_that_differs_by_fewer_than_k_is_flagged() {
	local rc=0
	python3 - "$T/a.csv" "$T/b.csv" <<'PY' || return 1
import sys
rows = open(sys.argv[1], "rb").read().split(b"\r\n")
head, body = rows[0], [r for r in rows[1:] if r]
open(sys.argv[2], "wb").write(b"\r\n".join([head] + body + body[:10]) + b"\r\n")
PY
	[ "$(upload "$T/b.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval || return 1
	"$VAULT" -c "$T/vault.conf" release show "$B" | grep -q "^previous:      $A" &&
	"$VAULT" -c "$T/vault.conf" release diff "$B" > "$T/diff" || rc=$?
	cat "$T/diff"
	[ "$rc" = 1 ] && grep -q 'classes changed by fewer than k' "$T/diff" || return 1
	# Each flagged class grew by 1 to 4 (fewer than k = 5), and together
	# by no more than the 10 rows added.
	python3 - "$T/diff" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.startswith("  ! (")]
assert lines, "no class flagged"
total = 0
for l in lines:
    m = re.search(r": (\d+) -> (\d+) \(([+-]\d+)\)$", l.rstrip())
    a, b, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert b - a == d and 0 < d < 5, l
    total += d
assert total <= 10, total
PY
}

# The same rows in another order: every class has the same count.
test_r07_the_same_people_again_are_not_flagged() {
	local rc=0
	python3 - "$T/a.csv" "$T/c.csv" <<'PY' || return 1
import sys
rows = open(sys.argv[1], "rb").read().split(b"\r\n")
head, body = rows[0], [r for r in rows[1:] if r]
open(sys.argv[2], "wb").write(b"\r\n".join([head] + body[::-1]) + b"\r\n")
PY
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" awaiting_approval || return 1
	"$VAULT" -c "$T/vault.conf" release diff "$C" --with "$A" > "$T/diff2" || rc=$?
	cat "$T/diff2"
	[ "$rc" = 0 ] && grep -q 'no class changed by fewer than k' "$T/diff2" &&
	grep -q ' 0 new, 0 vanished' "$T/diff2"
}

run_pipeline_tests
