#!/usr/bin/env bash
# run-tests.sh: runs every suite and prints one closing line
# "tests: N passed, N failed". Exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
timings=()
# Each suite's output goes to a file first: printed whole as it ends, and
# the end of a failed one printed again after the summary of times, where
# a reader of only the last lines of a CI log still sees why it failed.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

suite() {
	local name=$1 t0=$SECONDS log; shift
	log=$logs/$((passed + failed)).log
	echo "=== $name"
	if "$@" > "$log" 2>&1; then
		passed=$((passed + 1))
		cat "$log"
		rm -f "$log"
	else
		failed=$((failed + 1))
		cat "$log"
		failures+=("$name"$'\t'"$log")
	fi
	timings+=("$((SECONDS - t0)) s  $name")
}

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp

# Two long integration suites that time nothing run beside the unit tests
# and the fuzzers (a unit test under valgrind keeps one core busy, not two):
# the Debian package (a build, downloads, lintian) and the generalization
# searches. They run one after the other in the background, nothing else
# that starts daemons runs meanwhile (the service users are shared), and
# their results are counted before the other integration tests start.
beside=(tests/integration/test_r19_debian_package.sh
	tests/integration/test_vault_search.sh)
beside_dir=$(mktemp -d)
(
	for t in "${beside[@]}"; do
		t0=$SECONDS
		"$t" > "$beside_dir/$(basename "$t").log" 2>&1
		echo "$? $((SECONDS - t0))" > "$beside_dir/$(basename "$t").rc"
	done
) &
beside_pid=$!

# Unit tests under ASan and UBSan.
for t in build/san/tests/test_*; do
	suite "unit (asan+ubsan) $(basename "$t")" "$t"
done
# The same unit tests, built without sanitizers, under valgrind (the
# random problems of test_search at a quarter: each costs thirty times as
# much there, and ASan has run them all).
for t in build/tests/test_*; do
	suite "unit (valgrind) $(basename "$t")" env SK_TEST_SCALE=25 \
		valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite "$t"
done
# Fuzz targets: a short run on each checked-in corpus, two at a time (one
# per core; `make fuzz` runs them longer). New inputs go to a scratch
# folder, never into the corpus.
suite "fuzz build" make -s -j"$(nproc)" fuzz-bin
declare -A fuzz_pid fuzz_work
fuzz_start() {
	local f=$1 name corpus
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	fuzz_work[$f]=$(mktemp -d)
	"$f" -max_total_time="${FUZZ_SECONDS:-15}" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=0 -close_fd_mask=3 \
		"${fuzz_work[$f]}" "$corpus" > "${fuzz_work[$f]}.log" 2>&1 &
	fuzz_pid[$f]=$!
}
fuzz_wait() {
	local f=$1 r=0
	wait "${fuzz_pid[$f]}" || r=$?
	cat "${fuzz_work[$f]}.log"
	rm -rf "${fuzz_work[$f]}" "${fuzz_work[$f]}.log"
	return "$r"
}
fuzzers=(build/fuzz/fuzz_*)
for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
	for f in "${fuzzers[@]:i:2}"; do
		fuzz_start "$f"
	done
	for f in "${fuzzers[@]:i:2}"; do
		suite "fuzz $(basename "$f")" fuzz_wait "$f"
	done
done
# The suites that ran beside: their output, and their own time.
wait "$beside_pid"
for t in "${beside[@]}"; do
	b=$(basename "$t")
	read -r rc secs < "$beside_dir/$b.rc" || { rc=1; secs=0; }
	suite "integration $b (beside the unit tests: $secs s)" \
		bash -c 'cat "$1"; exit "$2"' sh "$beside_dir/$b.log" "$rc"
done
rm -rf "$beside_dir"

# Construction checks: each binary holds only its role's code (R02, R03,
# R05, R17).
. tests/construction.sh
suite "R02 receiver imports no connect() or SSL_connect()" \
	none_of build/bin/sekisho-receiver connect connectat SSL_connect
suite "R03 sender imports no connect() or SSL_connect()" \
	none_of build/bin/sekisho-sender connect connectat SSL_connect
suite "R03 push process imports no bind/listen/accept or SSL_accept()" \
	none_of build/bin/sekisho-pusher bind listen accept accept4 SSL_accept
suite "R05 vault imports no bind/listen/accept or SSL_accept()" \
	none_of build/bin/sekisho-vault bind listen accept accept4 SSL_accept
for d in receiver sender pusher vault; do
	suite "R17 $d links no firewall apply path (nftnl, mnl)" \
		none_of build/bin/sekisho-$d nftnl_batch_begin mnl_socket_open \
		nftnl_rule_alloc mnl_socket_sendto
done
# The control: the same check sees the symbols where they are.
suite "construction checks see what they look for" \
	bash -c '. tests/construction.sh &&
	! none_of build/bin/sekisho-firewall mnl_socket_open &&
	! none_of build/bin/sekisho-vault SSL_connect &&
	! none_of build/bin/sekisho-pusher SSL_connect &&
	! none_of build/bin/sekisho-receiver SSL_accept'
# Every requirement ID has a test named after it (docs/requirements-map.md
# is written by the same check; it is compared with the one in the repo).
suite "every requirement has a named test (make check-reqs)" \
	bash -c 'cp docs/requirements-map.md /tmp/reqmap.$$ &&
	python3 tests/check_reqs.py && cmp -s docs/requirements-map.md /tmp/reqmap.$$;
	r=$?; rm -f /tmp/reqmap.$$; exit $r'
# The events' table in the docs is the one the programs carry (audit
# events prints common/audit_schema.c).
suite "docs/audit-events.md is the events' schema (audit events)" \
	bash -c 'sed -n "/^| event |/,\$p" docs/audit-events.md |
	cmp - <(build/bin/sekisho-vault audit events)'
# Integration tests with the sanitizer builds of the daemons.
for t in tests/integration/test_*.sh; do
	case " ${beside[*]} " in *" $t "*) continue ;; esac
	suite "integration $(basename "$t")" "$t"
done

echo
echo "time per suite:"
printf '  %s\n' "${timings[@]}"
for f in "${failures[@]}"; do
	echo
	echo "--- the end of ${f%%$'\t'*}:"
	grep -v '^ok - ' "${f#*$'\t'}" | tail -40
done
for f in "${failures[@]}"; do
	echo "FAILED: ${f%%$'\t'*}"
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
