#!/usr/bin/env bash
# test_sandbox.sh: the privilege drop and the kernel sandbox of each daemon
# (R02, R03, R05, R17), in the hardened build and in the sanitizer build.
#
# `sekisho-<role> -c LOCAL sandbox-check CALL` drops root and enters the
# role's sandbox exactly as `run` does, then makes the call: a forbidden one
# must end the process with SIGSYS (exit status 128 + 31 = 159 in a shell),
# an allowed one must return. A running daemon is checked from /proc: its
# user, no capabilities, no_new_privs, a seccomp filter.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BUILDS=("$TOP/build/bin" "$BIN")
SIGSYS_STATUS=159

setup() {
	make_pki >/dev/null &&
	"$PKI" "$T/pki" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 >/dev/null &&
	write_site "$PORT" && write_local && write_sender_local &&
	write_vault_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null &&
	"$BIN/sekisho-vault" -c "$T/vault.conf" init >/dev/null
}

# probe BIN ROLE CALL [KIND]: the exit status of sandbox-check (its output
# in $T/probe.out). KIND names one of the receiver's processes (net, store,
# parent) or the vault's (main, engine, checker, spawner, parent); without
# it, the receiver's net process and the vault's main are probed.
probe() {
	local status=0
	"$1/sekisho-$2" -c "$T/$2.conf" sandbox-check ${4:+"$4"} "$3" \
		>"$T/probe.out" 2>"$T/probe.err" || status=$?
	echo "$status"
}

# killed ROLE CALL...: each call kills the role's process with SIGSYS, in
# both builds (for the receiver, its net process).
killed() { killed_as "$1" "" "${@:2}"; }

# killed_in KIND CALL...: the same in one of the receiver's processes.
killed_in() { killed_as receiver "$1" "${@:2}"; }

killed_as() {
	local role=$1 kind=$2 b c s; shift 2
	for b in "${BUILDS[@]}"; do
		for c in "$@"; do
			s=$(probe "$b" "$role" "$c" "$kind")
			if [ "$s" != "$SIGSYS_STATUS" ]; then
				echo "$role ${kind:+$kind }$c in $b: exit $s," \
					"not SIGSYS" >&2
				cat "$T/probe.out" "$T/probe.err" >&2
				return 1
			fi
		done
	done
}

# allowed ROLE CALL: the call returns (the harness can tell both apart).
allowed() {
	local b
	for b in "${BUILDS[@]}"; do
		[ "$(probe "$b" "$1" "$2")" = 0 ] &&
		grep -q "^$2 was not killed" "$T/probe.out" || return 1
	done
}

test_control_getpid_returns_in_every_role() {
	allowed receiver getpid && allowed sender getpid && allowed vault getpid
}

test_r02_receiver_connect_and_socket_killed() {
	killed receiver connect socket execve
}

# R17: the receiver's net process has no file call at all, nor a socket
# or connection of its own.
test_r17_receiver_net_killed_on_open_socket_connect() {
	killed_in net open socket connect execve
}

# The store holds the keys and the data: no network at all.
test_r17_receiver_store_killed_on_socket_and_accept() {
	killed_in store socket connect accept4 bind listen execve
}

# The parent only waits: no file, no socket, no exec.
test_r17_receiver_parent_killed_on_open_and_socket() {
	killed_in parent open socket connect accept4 execve
}

# The control: getpid returns in every process of the receiver.
test_r17_receiver_processes_allow_getpid() {
	local b k
	for b in "${BUILDS[@]}"; do
		for k in net store parent; do
			[ "$(probe "$b" receiver getpid "$k")" = 0 ] || return 1
		done
	done
}

# R17: the vault's engine (one job) and checker (one release) have no file
# call, no socket and no exec; main has no exec either (it asks the
# spawner); the parent only waits.
test_r17_vault_engine_killed_on_open_socket_connect_execve() {
	killed_as vault engine open socket connect execve bind
}

test_r17_vault_checker_killed_on_open_socket_connect_execve() {
	killed_as vault checker open socket connect execve bind
}

test_r17_vault_main_and_parent_killed_on_execve() {
	killed_as vault main execve bind &&
	killed_as vault parent execve open socket connect
}

# The control: getpid returns in each of those.
test_r17_vault_parts_allow_getpid() {
	local b k
	for b in "${BUILDS[@]}"; do
		for k in engine checker main parent; do
			[ "$(probe "$b" vault getpid "$k")" = 0 ] || return 1
		done
	done
}

test_r03_sender_connect_and_socket_killed() {
	killed sender connect socket execve
}

# R17: the sender's processes, as the receiver's: net has no file call and
# no socket of its own; the store has no network; the parent only waits.
test_r17_sender_net_killed_on_open_socket_connect() {
	killed_as sender net open socket connect execve
}

test_r17_sender_store_killed_on_socket_and_accept() {
	killed_as sender store socket connect accept4 bind listen execve
}

test_r17_sender_parent_killed_on_open_and_socket() {
	killed_as sender parent open socket connect accept4 execve
}

test_r05_vault_bind_listen_accept_killed() {
	killed vault bind listen accept accept4 execve
}

# The vault may make TCP sockets, but no UDP (or any other) socket.
test_r06_vault_udp_socket_killed() { killed vault socket; }

test_r17_ptrace_killed_in_the_hardened_build() {
	local r
	for r in receiver sender vault; do
		[ "$(probe "$TOP/build/bin" "$r" ptrace)" = "$SIGSYS_STATUS" ] ||
			return 1
	done
}

# Landlock: files outside the role's data folder are out of reach (for
# the receiver and the sender, in the store: their net process cannot
# open at all).
test_r17_landlock_keeps_files_to_the_data_folder() {
	local r kind
	for r in receiver sender vault; do
		kind=; [ "$r" = vault ] || kind=store
		[ "$(probe "$TOP/build/bin" "$r" open-file $kind)" = 0 ] &&
		grep -q "returned -1 (Permission denied)" "$T/probe.out" ||
			return 1
	done
}

# Landlock TCP: the vault reaches the two internal ports, nothing else.
test_r06_landlock_refuses_other_tcp_ports() {
	[ "$(probe "$TOP/build/bin" vault tcp-connect)" = 0 ] &&
	grep -q "returned -1 (Permission denied)" "$T/probe.out"
}

# A running daemon: its own user, no capabilities, no_new_privs, seccomp
# in filter mode, no core dumps, and a log line naming the layers.
# Its three processes (the parent, net and store) alike.
test_r17_running_receiver_is_unprivileged_and_sandboxed() {
	local st uid p n=0
	start_receiver "$PORT" || return 1
	uid=$(id -u sekisho-receiver)
	for p in "$RECEIVER_PID" $(cat /proc/"$RECEIVER_PID"/task/*/children); do
		st=/proc/$p/status
		grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$st" &&
		grep -qE '^CapEff:\s+0+$' "$st" &&
		grep -qE '^CapPrm:\s+0+$' "$st" &&
		grep -qE '^NoNewPrivs:\s+1$' "$st" &&
		grep -qE '^Seccomp:\s+2$' "$st" &&
		grep -qE '^Max core file size\s+0\s+0' "/proc/$p/limits" ||
			{ echo "process $p is not sandboxed" >&2; return 1; }
		n=$((n + 1))
	done
	[ "$n" = 3 ] &&
	[ "$(grep -c 'sandbox: root dropped to uid' "$T/receiver.log")" -ge 3 ] &&
	grep -q 'seccomp allow-list of' "$T/receiver.log" &&
	stop_receiver
}

test_r17_missing_user_refuses_to_start() {
	sed 's/^role = "receiver";/&\nuser = "sekisho-nobody-here";/' \
		"$T/receiver.conf" > "$T/nouser.conf" &&
	! "$BIN/sekisho-receiver" -c "$T/nouser.conf" run >"$T/nouser.log" 2>&1 &&
	grep -q 'user sekisho-nobody-here does not exist' "$T/nouser.log"
}

test_r17_root_cannot_be_the_user() {
	sed 's/^role = "receiver";/&\nuser = "root";/' \
		"$T/receiver.conf" > "$T/root.conf" &&
	! "$BIN/sekisho-receiver" -c "$T/root.conf" check-config \
		>"$T/root.log" 2>&1 &&
	grep -q "root.conf:2: 'user' may not be root" "$T/root.log"
}

# init gives the data folder and the master key to the service user; a
# folder the user cannot write stops the start with a clear message.
test_r14_init_gives_the_data_to_the_service_user() {
	[ "$(stat -c %U:%a "$T/data")" = "sekisho-receiver:700" ] &&
	[ "$(stat -c %U:%a "$T/data/master.key")" = "sekisho-receiver:600" ] &&
	chown root "$T/data" &&
	! "$BIN/sekisho-receiver" -c "$T/receiver.conf" run >"$T/rootdata.log" 2>&1 &&
	grep -q 'Permission denied' "$T/rootdata.log" &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	[ "$(stat -c %U "$T/data")" = sekisho-receiver ]
}

setup || { echo "setup failed"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
