#!/usr/bin/env bash
# test_r16_r54_status.sh: `sekisho-ROLE status` for monitoring over SSH
# (issue 21): Nagios/Icinga exit codes and first line, JSON, and the
# Prometheus text file; the receiver warns when the vault stops taking
# uploads, every role goes critical when its disk is below its reserve,
# and the sender reports its releases and download alerts (R16).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

st() {	# st ROLE ARGS...: the status, its exit code in $T/rc
	local rc=0
	"$BIN/sekisho-$1" -c "$T/$1.conf" status "${@:2}" > "$T/st.out" || rc=$?
	echo "$rc" > "$T/rc"
	cat "$T/st.out"
}

test_r54_each_role_reports_ok_with_its_figures() {
	local role
	for role in receiver vault sender; do
		st $role > /dev/null
		[ "$(cat "$T/rc")" = 0 ] && head -1 "$T/st.out" |
			grep -q "^SEKISHO-$role OK - .* | .*disk_free_bytes=" ||
			{ cat "$T/st.out"; return 1; }
	done
	st receiver --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = {c["metric"]: c["value"] for c in d["checks"]}
assert d["role"] == "receiver" and d["code"] == 0 and d["status"] == "OK", d
assert m["pending_uploads"] == 0 and m["audit_writable"] == 1, m'
}

test_r54_prometheus_file_is_written_whole() {
	st vault --prometheus "$T/vault.prom" > /dev/null &&
	grep -qx 'sekisho_status{role="vault"} 0' "$T/vault.prom" &&
	grep -q '^sekisho_jobs_awaiting_approval{role="vault"} ' "$T/vault.prom" &&
	[ -z "$(ls "$T" | grep 'vault.prom.tmp')" ] &&
	[ "$(stat -c %a "$T/vault.prom")" = 644 ]
}

test_r54_receiver_warns_when_the_vault_does_not_take_uploads() {
	python3 "$GEN" 300 141 "$T/a.csv" && stop_vault &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	touch -d '2 hours ago' "$T/data/objects/$A" &&
	st receiver > /dev/null && [ "$(cat "$T/rc")" = 1 ] &&
	head -1 "$T/st.out" | grep -q '^SEKISHO-receiver WARNING - .*the oldest has waited' &&
	grep -q 'pending_uploads=1 ' "$T/st.out" || { cat "$T/st.out"; return 1; }
	start_vault && wait_state "$A" awaiting_approval &&
	st vault --json | python3 -c '
import json, sys
m = {c["metric"]: c["value"] for c in json.load(sys.stdin)["checks"]}
assert m["jobs_awaiting_approval"] == 1, m'
}

test_r54_a_disk_below_its_reserve_is_critical() {
	sed 's/disk_reserve = 0L;/disk_reserve = 1125899906842624L;/' \
		"$T/receiver.conf" > "$T/receiver-full.conf" &&
	grep -q '1125899906842624L' "$T/receiver-full.conf" || return 1
	local rc=0
	"$BIN/sekisho-receiver" -c "$T/receiver-full.conf" status > "$T/full.out" || rc=$?
	[ "$rc" = 2 ] && head -1 "$T/full.out" | grep -q '^SEKISHO-receiver CRITICAL - ディスク / disk'
}

test_r16_sender_reports_releases_and_alerts() {
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published &&
	st sender --json | python3 -c '
import json, sys
m = {c["metric"]: c["value"] for c in json.load(sys.stdin)["checks"]}
assert m["releases"] == 1 and m["download_alerts_24h"] == 0, m'
}

# issue 16, item 7: inspect prints the evidence of the live host as a
# table. Here, on loopback, there is no firewall table: that row fails, and
# so does the whole; a plaintext file planted among the sealed objects is
# caught (R21), and, dated long ago, so is a release kept past its period
# (R33).
test_r17_r21_r33_inspect_lists_the_evidence_of_the_live_host() {
	local rc=0
	"$BIN/sekisho-sender" -c "$T/sender.conf" inspect \
		--key "$T/sdata/audit.log.key0" > "$T/insp.out" 2>/dev/null || rc=$?
	cat "$T/insp.out"
	[ "$rc" = 2 ] &&
	grep -q '^| R18 R54 .*verify: it differs | FAIL |$' "$T/insp.out" &&
	grep -q '^| R17 .*3 process(es): parent uid [1-9][0-9]* no_new_privs seccomp; .* | PASS |$' "$T/insp.out" &&
	grep -q '^| R03 R17 .*imports none of: connect .* | PASS |$' "$T/insp.out" &&
	grep -q '^| R15 R50 .*every entry verifies.* | PASS |$' "$T/insp.out" &&
	grep -q '^| R15 .*0 entries off their event.s schema | PASS |$' "$T/insp.out" &&
	grep -q '^| R21 .*1 stored object(s), 0 not sealed | PASS |$' "$T/insp.out" &&
	grep -q '^| R33 .*1 release(s) held, 0 older than the longest release period ([0-9]* days) | PASS |$' "$T/insp.out" ||
		return 1
	printf 'plain text\n' > "$T/sdata/objects/planted" &&
	touch -d '400 days ago' "$T/sdata/objects/planted" &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" inspect > "$T/insp2.out" 2>/dev/null
	rm -f "$T/sdata/objects/planted"
	grep -q '^| R21 .*2 stored object(s), 1 not sealed | FAIL |$' "$T/insp2.out" &&
	grep -q '^| R15 R50 .*give the auditor.s first key.* | SKIPPED |$' "$T/insp2.out" &&
	# Held past every period a release may have: the sweep is not running.
	grep -q '^| R33 .*2 release(s) held, 1 older than the longest release period ([0-9]* days): the disposal sweep is not running | FAIL |$' "$T/insp2.out"
}

test_status_refuses_a_bad_call() {
	! "$BIN/sekisho-receiver" -c "$T/receiver.conf" status --bogus 2>/dev/null &&
	! "$VAULT" -c "$T/vault.conf" status --prometheus 2>/dev/null
}

run_pipeline_tests
