#!/usr/bin/env bash
# test_r29_my_numbers.sh: each dataset says whether it may carry My Numbers
# (R29). An upload to a dataset that may not, holding one in any column (a
# column the policy drops included), is refused and its copy disposed of at
# once, on record, and the city reads "my_number_found"; the same file
# without valid My Numbers goes through; a dataset that may carry them
# (the default) is not affected.
EXTRA_DATASETS=',
  { id = "health-nomn"; max_bytes = 104857600L; retention_days = 0;
    my_numbers = false; policy = "'"$(cd "$(dirname "$0")/../.." && pwd)"'/tests/bench/checkup/checkup.policy";
    release = { recipients = [ "univ-a" ]; approvals = 2; }; }'
EXTRA_DATASET_IDS=', "health-nomn"'
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

status_of() {
	curl_as 131156 -o "$T/st" -w '%{http_code}' \
		"https://127.0.0.1:$PORT/v1/uploads/$1"
}

# no_my_numbers IN OUT: the file with each My Number's check digit broken
# (12 digits, no longer a My Number).
no_my_numbers() {
	python3 - "$1" "$2" <<'PY'
import sys
rows = open(sys.argv[1], "rb").read().split(b"\r\n")
out = [rows[0]]
for r in rows[1:]:
    if not r:
        out.append(r); continue
    f = r.split(b",")
    d = f[1]
    f[1] = d[:11] + str((int(d[11:12]) + 1) % 10).encode()
    out.append(b",".join(f))
open(sys.argv[2], "wb").write(b"\r\n".join(out))
PY
}

test_r29_a_my_number_where_none_may_be_is_refused_and_disposed_of() {
	local i
	python3 "$GEN" 300 121 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-nomn)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" rejected || return 1
	# In the same round: no source, no release, and the records say so.
	wait_gone "$T/vdata/sources/$A" && wait_gone "$T/vdata/releases/$A" &&
	grep -q "\"event\":\"upload.refused_my_number\",\"actor\":\"vault\",\"object\":\"$A\".*input column 2: a My Number, which this dataset may not carry" \
		"$T/vdata/audit.log" &&
	grep -q "\"event\":\"object.disposed\",\"actor\":\"vault\",\"object\":\"$A\",\"detail\":\"source reason=my_number_forbidden key_destroyed=1" \
		"$T/vdata/audit.log" &&
	"$VAULT" -c "$T/vault.conf" release show "$A" | grep -q 'may not carry' || return 1
	# The city is told, in the closed vocabulary.
	for i in $(seq 1 100); do
		[ "$(status_of "$A")" = 200 ] && grep -q '"reason":"my_number_found"' "$T/st" &&
			return 0
		sleep 0.1
	done
	cat "$T/st"; return 1
}

test_r29_the_same_file_without_my_numbers_goes_through() {
	python3 "$GEN" 300 122 "$T/b0.csv" && no_my_numbers "$T/b0.csv" "$T/b.csv" &&
	[ "$(upload "$T/b.csv" health-nomn)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval
}

test_r29_a_dataset_that_may_carry_them_is_not_affected() {
	python3 "$GEN" 300 123 "$T/c.csv" &&
	[ "$(upload "$T/c.csv" health-checkup)" = 201 ] && C=$(cat "$T/id") &&
	wait_state "$C" awaiting_approval &&
	! grep -q "\"event\":\"upload.refused_my_number\",\"actor\":\"vault\",\"object\":\"$C\"" \
		"$T/vdata/audit.log"
}

run_pipeline_tests
