#!/usr/bin/env bash
# run-tests.sh: runs every suite and prints one closing line
# "tests: N passed, N failed". Exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
timings=()

suite() {
	local name=$1 t0=$SECONDS; shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
	timings+=("$((SECONDS - t0)) s  $name")
}

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp

# Unit tests under ASan and UBSan.
for t in build/san/tests/test_*; do
	suite "unit (asan+ubsan) $(basename "$t")" "$t"
done
# The same unit tests, built without sanitizers, under valgrind.
for t in build/tests/test_*; do
	suite "unit (valgrind) $(basename "$t")" valgrind -q --error-exitcode=1 \
		--leak-check=full --errors-for-leak-kinds=definite "$t"
done
# Fuzz targets: a short run on each checked-in corpus.
suite "fuzz build" make -s fuzz-bin
for f in build/fuzz/fuzz_*; do
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	suite "fuzz $name" "$f" -max_total_time="${FUZZ_SECONDS:-20}" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
		-close_fd_mask=3 "$work" "$corpus"
	rm -rf "$work"
done
# Construction check (R02): the receiver has no outbound-connection code.
suite "R02 receiver imports no connect()" \
	sh -c '! nm -D --undefined-only build/bin/sekisho-receiver | grep -qwE "connect|connectat"'
# R05: the vault has no listening code at all.
suite "R05 vault imports no bind/listen/accept" \
	sh -c '! nm -D --undefined-only build/bin/sekisho-vault | grep -qwE "bind|listen|accept|accept4"'
# R03: the sender (pull mode) never opens a connection either.
suite "R03 sender imports no connect()" \
	sh -c '! nm -D --undefined-only build/bin/sekisho-sender | grep -qwE "connect|connectat"'
# Integration tests with the sanitizer builds of the daemons.
for t in tests/integration/test_*.sh; do
	suite "integration $(basename "$t")" "$t"
done

echo
echo "time per suite:"
printf '  %s\n' "${timings[@]}"
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
