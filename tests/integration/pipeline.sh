# pipeline.sh: the three-daemon set-up on loopback shared by the pipeline
# tests (sourced after lib.sh): PKI, operators' keys, site and local
# configurations, and helpers to act as each party.

PORT=$(free_port)
P=$T/pki
CHECK="$TOP/tests/integration/check_release.py"
GEN="$TOP/tests/data/gen_checkup.py"
POLICY=${POLICY:-$TOP/tests/bench/checkup/checkup.policy}
VAULT="$BIN/sekisho-vault"

setup() {
	make_pki >/dev/null || return 1
	"$PKI" "$P" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 >/dev/null || return 1
	mkdir -p "$T/ops"
	local op
	for op in op1 op2 op3 old; do
		openssl genpkey -algorithm ED25519 -out "$T/ops/$op.key" 2>/dev/null &&
		openssl pkey -in "$T/ops/$op.key" -pubout -out "$T/ops/$op.pub" || return 1
		chmod 600 "$T/ops/$op.key"
	done
	# op3 signs with ECDSA P-256: both kinds are accepted.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$T/ops/op3.key" 2>/dev/null &&
	openssl pkey -in "$T/ops/op3.key" -pubout -out "$T/ops/op3.pub" &&
	chmod 600 "$T/ops/op3.key" || return 1
	cat > "$T/site.conf" <<CONF
site: { name = "Sekisho pipeline test"; };
ca: { municipalities = "pki/muni-ca/ca.crt"; recipients = "pki/recip-ca/ca.crt";
      internal = "pki/internal-ca/ca.crt";${SITE_CA_EXTRA:-} };
hosts: {
  receiver: { identity = "urn:sekisho:host:receiver";
    external: { address = "127.0.0.1"; port = $PORT; interface = "lo"; };
    internal: { address = "127.0.0.1"; port = $((PORT + 1)); interface = "lo"; }; };
  vault: { identity = "urn:sekisho:host:vault"; address = "127.0.0.1"; };
  sender: { identity = "urn:sekisho:host:sender";
    external: { address = "127.0.0.1"; port = $((PORT + 2)); };
    internal: { address = "127.0.0.1"; port = $((PORT + 3)); }; };
};
datasets = (
  { id = "health-checkup"; max_bytes = 104857600L; retention_days = 0;
    policy = "$POLICY";
    release = { recipients = [ "univ-a" ]; days = 30; approvals = 2; }; },
  { id = "health-sealed"; max_bytes = 104857600L; retention_days = 0;
    envelope = true; policy = "$POLICY";
    release = { recipients = [ "univ-a" ]; approvals = 2; }; },
  { id = "health-signed"; max_bytes = 104857600L; retention_days = 0;
    envelope = true; signed = true; policy = "$POLICY";
    release = { recipients = [ "univ-a" ]; approvals = 2; }; }${EXTRA_DATASETS:-}
);
municipalities = (
  { id = "131156"; identity = "urn:sekisho:muni:131156"; networks = [ "127.0.0.0/8" ];
    datasets = [ "health-checkup", "health-sealed", "health-signed"${EXTRA_DATASET_IDS:-} ]; }${EXTRA_MUNIS:-}
);
recipients = (
  { id = "univ-a"; identity = "urn:sekisho:recip:univ-a"; networks = [ "127.0.0.0/8" ]; }
);
operators = (
  { id = "op1"; public_key = "ops/op1.pub"; valid_from = "2020-01-01"; valid_until = "2099-12-31"; },
  { id = "op2"; public_key = "ops/op2.pub"; valid_from = "2020-01-01"; valid_until = "2099-12-31"; },
  { id = "op3"; public_key = "ops/op3.pub"; valid_from = "2020-01-01"; valid_until = "2099-12-31"; },
  { id = "old"; public_key = "ops/old.pub"; valid_from = "2020-01-01"; valid_until = "2021-03-31"; }
);
CONF
	write_local
	write_sender_local
	write_vault_local "poll_interval = 1;"
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null &&
	"$VAULT" -c "$T/vault.conf" init >/dev/null &&
	start_receiver "$PORT" && start_sender && start_vault
}

# vault_polling BEFORE: waits until the vault's log has more "polling the
# receiver" lines than BEFORE (it has started).
vault_polling() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c 'polling the receiver' "$T/vault.log" 2>/dev/null)" -gt "${1:-0}" ] && return 0
		sleep 0.05
	done
	tail "$T/vault.log" >&2
	return 1
}

start_vault() {
	local before parent
	before=$(grep -c 'polling the receiver' "$T/vault.log" 2>/dev/null)
	parent=$(grep -c 'the parent is sandboxed' "$T/vault.log" 2>/dev/null)
	"$VAULT" -c "$T/vault.conf" run >>"$T/vault.log" 2>&1 &
	VAULT_PID=$!
	PIDS+=("$VAULT_PID")
	vault_polling "$before" &&
	wait_sandboxed "$VAULT_PID" "$T/vault.log" "${parent:-0}"
}

upload() {	# upload FILE DATASET: prints the status; the id in $T/id
	curl_as 131156 -o "$T/receipt" -w '%{http_code}' -T "$1" \
		"https://127.0.0.1:$PORT/v1/uploads/$2/$(basename "$1")" &&
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' \
		"$T/receipt" > "$T/id"
}

state() { "$VAULT" -c "$T/vault.conf" release list | awk -v id="${1:0:16}" '$1 == id {print $4}'; }

wait_state() {	# wait_state ID STATE [SECONDS]
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "job $1 is $(state "$1"), not $2" >&2
	# what the daemons said meanwhile, for whoever reads the failure
	grep -h 'warning\|error' "$T/vault.log" "$T/sender.log" 2>/dev/null |
		tail -8 >&2
	return 1
}

# rid_of ID: the release's id at the sender, as the vault's console shows
# it (the vault alone keeps the mapping, R07).
rid_of() {
	"$VAULT" -c "$T/vault.conf" release show "$1" |
		awk '/^release id:/ {print $3}'
}

# wait_for_audit PATTERN: waits (up to 10 s) for an entry of the vault's
# audit log that matches (grep), such as one the daemon makes of a note
# the console left.
wait_for_audit() {
	local i
	for i in $(seq 1 100); do
		grep -q "$1" "$T/vdata/audit.log" && return 0
		sleep 0.1
	done
	echo "no '$1' in the vault's audit log" >&2
	return 1
}

approve() {	# approve ID OP
	"$VAULT" -c "$T/vault.conf" release approve "$1" --yes --operator "$2" \
		--key "$T/ops/$2.key"
}

recip() {
	curl -sS --cacert "$P/internal-ca/ca.crt" \
		--cert "$P/recip-ca/issued/univ-a.crt" \
		--key "$P/recip-ca/issued/univ-a.key" "$@"
}


stop_vault() {
	kill -TERM "$VAULT_PID" 2>/dev/null
	wait "$VAULT_PID" 2>/dev/null
}

# kill_when PID LOG PATTERN: kill -9 the moment LOG shows PATTERN, which
# names an id new to this test (counted from the start of the log: the
# daemon may log it before the test starts to look).
kill_when() {
	local pid=$1 log=$2 pat=$3 i k kids
	for i in $(seq 1 3000); do
		if grep -q "$pat" "$log" 2>/dev/null; then
			kids=$(pgrep -P "$pid")
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			# Its processes die with it, a moment after; until they
			# have, they hold its ports (a restart at once found its
			# port in use).
			for k in $kids; do
				for i in $(seq 1 100); do
					kill -0 "$k" 2>/dev/null || break
					sleep 0.05
				done
			done
			return 0
		fi
		sleep 0.01
	done
	echo "never saw '$pat' in $log" >&2
	return 1
}

# wait_gone PATH [SECONDS]: until PATH no longer exists.
wait_gone() {
	local i
	for i in $(seq 1 $((${2:-10} * 10))); do
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	echo "$1 is still there" >&2
	return 1
}

audit_logs_verify() {
	"$BIN/sekisho-receiver" audit verify "$T/data/audit.log" >/dev/null &&
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null &&
	"$VAULT" audit verify "$T/vdata/audit.log" >/dev/null
}

no_sanitizer_reports() {
	! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' \
		"$T/receiver.log" "$T/sender.log" "$T/vault.log"
}

# run_pipeline_tests [LOGS_CHECK]: the set-up, every test_* function of the
# calling script in the order written, then (with the vault stopped) the
# audit logs checked (audit_logs_verify, or the function named) and no
# sanitizer report; the summary.
run_pipeline_tests() {
	local t logs_check=${1:-audit_logs_verify}
	setup || { echo "setup failed"; tail "$T"/*.log; exit 1; }
	for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
		check "$t" "$t"
	done
	[ "$FAILED" -eq 0 ] || tail -30 "$T/vault.log"
	stop_vault
	check "$logs_check" "$logs_check"
	check no_sanitizer_reports no_sanitizer_reports
	summary
}
