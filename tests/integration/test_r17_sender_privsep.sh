#!/usr/bin/env bash
# test_r17_sender_privsep.sh: the sender's privilege separation (R17), on
# the hardened build, with a real publication and download by curl.
#
# The sender runs as a parent and two fork+exec'd children: net (TLS,
# HTTP, authorization of recipients and of the vault) and store (keys,
# releases, download accounts, expiry, audit log). These tests read the
# running processes from /proc as root.
. "$(dirname "$0")/lib.sh"

BIN=$TOP/build/bin
PORT=$(free_port)
P=$T/pki
CA=$P/internal-ca/ca.crt

setup() {
	make_pki >/dev/null &&
	"$PKI" "$P" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 >/dev/null &&
	write_site "$PORT" && write_sender_local &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null &&
	start_sender && head -c 3000000 /dev/urandom > "$T/rel" &&
	[ "$(publish rel-1)" = 201 ] && [ "$(download rel-1)" = 200 ] &&
	cmp -s "$T/rel" "$T/got"
}

publish() {	# publish ID: as the vault; prints the HTTP status
	curl -sS -o "$T/pub.out" -w '%{http_code}' --cacert "$CA" \
		--cert "$P/internal-ca/issued/vault.crt" \
		--key "$P/internal-ca/issued/vault.key" \
		-H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary "$T/rel" | base64 -w0):" \
		-H "Sekisho-Dataset: health-checkup" -H "Sekisho-Recipients: univ-a" \
		-H "Sekisho-Expires: $(( $(date +%s) + 3600 ))" -T "$T/rel" \
		"https://127.0.0.1:$((PORT + 3))/v1/releases/$1"
}

download() {	# download ID: as univ-a; prints the HTTP status
	curl -sS -o "$T/got" -w '%{http_code}' --cacert "$CA" \
		--cert "$P/recip-ca/issued/univ-a.crt" \
		--key "$P/recip-ca/issued/univ-a.key" \
		"https://127.0.0.1:$((PORT + 2))/v1/releases/$1"
}

kid() { child_of "$SENDER_PID" sender "$1"; }

test_r17_three_processes_each_a_fresh_image() {
	local net store
	net=$(kid net) && store=$(kid store) || return 1
	[ "$(cat /proc/"$SENDER_PID"/task/*/children | wc -w)" = 2 ] &&
	[ "$(readlink /proc/"$net"/exe)" = "$BIN/sekisho-sender" ] &&
	[ "$(readlink /proc/"$store"/exe)" = "$BIN/sekisho-sender" ] &&
	grep -qE '^Seccomp:\s+2$' "/proc/$net/status" &&
	grep -qE '^Seccomp:\s+2$' "/proc/$store/status" &&
	grep -qE '^Seccomp:\s+2$' "/proc/$SENDER_PID/status"
}

# After a publication and a download: the master key and the audit
# chain's current key are in the store (the control) and not in net.
test_r17_net_memory_holds_no_master_or_audit_key() {
	local net store master auditkey
	net=$(kid net) && store=$(kid store) || return 1
	master=$(hex_of "$T/sdata/master.key")
	auditkey=$(hex_of "$T/sdata/audit.log.state" 16 32)
	[ ${#master} = 64 ] && [ ${#auditkey} = 64 ] &&
	keys_only_in "$store" "$net" "$master" "$auditkey"
}

# net has sockets only (besides stdio); the store has exactly one socket,
# its channel, and no TCP socket.
test_r17_net_has_no_file_store_no_network_socket() {
	local net store
	net=$(kid net) && store=$(kid store) && net_sockets_only "$net" "$store"
}

# A net process that dies takes the sender with it (the service manager
# restarts it); what was published is still there, accounts included.
test_r17_net_killed_the_sender_ends_and_restarts_clean() {
	local net
	net=$(kid net) || return 1
	kill -KILL "$net"
	wait "$SENDER_PID"
	[ $? -ne 0 ] || return 1
	grep -q 'net process killed by signal 9' "$T/sender.log" &&
	start_sender && [ "$(download rel-1)" = 200 ] && cmp -s "$T/rel" "$T/got" &&
	[ "$(publish rel-1)" = 200 ] &&
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null
}

# A stop (SIGTERM to the parent): net stops, the store records the stop
# and ends, the parent exits 0.
test_r17_stop_is_clean_and_recorded() {
	kill -TERM "$SENDER_PID"
	wait "$SENDER_PID" || return 1
	tail -1 "$T/sdata/audit.log" | grep -q '"event":"sender.stop"' &&
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null
}

setup || { echo "setup failed"; cat "$T/sender.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
