#!/usr/bin/env bash
# test_r17_privsep.sh: the receiver's privilege separation (R17), on the
# hardened build (what is deployed), with real uploads from curl.
#
# The receiver runs as a parent and two fork+exec'd children: net (TLS,
# HTTP, authorization) and store (keys, audit log, data). These tests read
# the running processes from /proc as root: what each one holds in memory,
# which descriptors it has, and what happens when one of them dies.
. "$(dirname "$0")/lib.sh"

BIN=$TOP/build/bin
PORT=$(free_port)
URL=https://localhost:$PORT

setup() {
	make_pki >/dev/null && write_site "$PORT" && write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" &&
	printf 'id,age\n1,40\n2,41\n' > "$T/a.csv" &&
	[ "$(upload a.csv)" = 201 ]
}

upload() {	# upload NAME -> prints the HTTP status
	curl_as 131156 -o "$T/body" -w '%{http_code}' -T "$T/a.csv" \
		"$URL/v1/uploads/health-checkup/$1" 2>/dev/null
}

# kid PART: the pid of the receiver's child running "proc PART".
kid() { child_of "$RECEIVER_PID" receiver "$1"; }

# The secrets: the master key, the object-id key derived from it, and the
# audit chain's current key (bytes 16..48 of the state file).
secrets() {
	MASTER=$(hex_of "$T/data/master.key")
	IDKEY=$(python3 -c 'import hmac,hashlib,sys
print(hmac.new(bytes.fromhex(sys.argv[1]), b"sekisho-receiver-object-id",
    hashlib.sha256).hexdigest())' "$MASTER")
	AUDITKEY=$(hex_of "$T/data/audit.log.state" 16 32)
	[ ${#MASTER} = 64 ] && [ ${#IDKEY} = 64 ] && [ ${#AUDITKEY} = 64 ]
}

test_r17_three_processes_each_a_fresh_image() {
	local net store
	net=$(kid net) && store=$(kid store) ||
		{ echo "no net or no store process" >&2; return 1; }
	[ "$(cat /proc/"$RECEIVER_PID"/task/*/children | wc -w)" = 2 ] &&
	[ "$(readlink /proc/"$net"/exe)" = "$BIN/sekisho-receiver" ] &&
	[ "$(readlink /proc/"$store"/exe)" = "$BIN/sekisho-receiver" ] &&
	grep -qE '^Seccomp:\s+2$' "/proc/$net/status" &&
	grep -qE '^Seccomp:\s+2$' "/proc/$store/status" &&
	grep -qE '^Seccomp:\s+2$' "/proc/$RECEIVER_PID/status"
}

# The scan must be able to see a key where it is (the store), or "absent"
# in net would prove nothing.
test_r17_net_memory_holds_no_master_or_audit_key() {
	local net store
	net=$(kid net) && store=$(kid store) && secrets || return 1
	# The id key is derived in the store and kept there.
	keys_only_in "$store" "$net" "$MASTER" "$AUDITKEY" "$IDKEY"
}

# net has sockets only (besides stdio); the store has one socket, its
# channel, and no TCP socket at all.
test_r17_net_has_no_file_store_no_network_socket() {
	local net store
	net=$(kid net) && store=$(kid store) && net_sockets_only "$net" "$store"
}

# The parent holds nothing: no listener, no channel, no key.
test_r17_parent_holds_only_its_children() {
	local fd n=0
	for fd in /proc/"$RECEIVER_PID"/fd/*; do
		[ "${fd##*/}" -le 2 ] && continue
		echo "the parent holds fd ${fd##*/}: $(readlink "$fd")" >&2
		n=$((n + 1))
	done
	[ "$n" = 0 ]
}

# The store sorts a long listing inside its sandbox (glibc's qsort asks
# for the memory size then): 150 pending uploads, listed to the vault.
test_r17_store_lists_150_pending_uploads_in_its_sandbox() {
	local i store n code
	store=$(kid store) || return 1
	for i in $(seq 1 150); do
		code=$(upload "many-$i.csv")
		[ "$code" = 201 ] ||
			{ echo "upload $i: HTTP $code: $(head -c 300 "$T/body")" >&2
			return 1; }
	done
	curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/internal-ca/issued/vault.crt" \
		--key "$T/pki/internal-ca/issued/vault.key" \
		-o "$T/pending.json" "https://127.0.0.1:$((PORT + 1))/v1/pending" ||
		return 1
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["pending"]))' \
		"$T/pending.json") || return 1
	[ "$n" -ge 151 ] && [ "$(kid store)" = "$store" ]
}

# A net process that dies takes the receiver with it (the service manager
# restarts it); nothing accepted is lost.
test_r17_net_killed_the_receiver_ends_and_restarts_clean() {
	local net code
	net=$(kid net) || return 1
	kill -KILL "$net"
	wait "$RECEIVER_PID"
	[ $? -ne 0 ] || { echo "the receiver exited 0" >&2; return 1; }
	grep -q 'net process killed by signal 9' "$T/receiver.log" ||
		{ echo "no word of the killed net process" >&2; return 1; }
	start_receiver "$PORT" || return 1
	code=$(upload a.csv)
	[ "$code" = 200 ] || { echo "a.csv again: HTTP $code" >&2; return 1; }
	code=$(upload b.csv)
	[ "$code" = 201 ] || { echo "b.csv: HTTP $code" >&2; return 1; }
	"$BIN/sekisho-receiver" audit verify "$T/data/audit.log"
}

# A stop (SIGTERM to the parent): net stops, the store records the stop
# and ends, the parent exits 0.
test_r17_stop_is_clean_and_recorded() {
	local r=0
	kill -TERM "$RECEIVER_PID"
	wait "$RECEIVER_PID" || r=$?
	[ "$r" = 0 ] || { echo "the receiver exited $r" >&2; return 1; }
	tail -1 "$T/data/audit.log" | grep -q '"event":"receiver.stop"' ||
		{ echo "the last entry is not the stop" >&2; return 1; }
	"$BIN/sekisho-receiver" audit verify "$T/data/audit.log"
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
# A failed test shows the processes and the receiver's last words.
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	failed_before=$FAILED
	check "$t" "$t"
	[ "$FAILED" = "$failed_before" ] && continue
	ps -o pid,ppid,stat,etimes,args -u "$(id -u sekisho-receiver 2>/dev/null ||
		echo 0)" -p "${RECEIVER_PID:-1}" 2>/dev/null
	tail -15 "$T/receiver.log"
done
summary
