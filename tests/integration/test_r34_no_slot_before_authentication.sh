#!/usr/bin/env bash
# test_r34_no_slot_before_authentication.sh: a connection that has not shown
# a known certificate from a known network holds no slot (R34, R17).
#
# An attacker anywhere on a municipality's network can open TCP connections
# to the receiver. Until its certificate and source network are accepted a
# connection counts only against the unauthenticated caps (in all, and per
# source address); over them it is closed at once; the TLS handshake and the
# request head must be complete within handshake_timeout of the accept,
# however slowly the bytes come. Municipalities are served meanwhile.
# The attacker's sockets come from 127.0.0.2 and 127.0.0.3, the
# municipality's curl from 127.0.0.1, all on loopback.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=https://127.0.0.1:$PORT
HANDSHAKE_TIMEOUT=3
PER_SOURCE=16

setup() {
	make_pki >/dev/null && write_site "$PORT" &&
	write_local "disk_reserve = 0L; max_connections = 4;
	    handshake_timeout = $HANDSHAKE_TIMEOUT;
	    max_unauthenticated = 256;
	    max_unauthenticated_per_source = $PER_SOURCE;" &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" &&
	printf 'id,age\n1,40\n' > "$T/a.csv" &&
	head -c 300000 /dev/zero | tr '\0' 'x' > "$T/big.csv"
}

# net_pid: the receiver's net process.
net_pid() {
	local p
	for p in $(cat /proc/"$RECEIVER_PID"/task/*/children); do
		tr '\0' ' ' < "/proc/$p/cmdline" | grep -q ' proc net $' &&
			{ echo "$p"; return 0; }
	done
	return 1
}

upload() {	# upload NAME FILE [curl args] -> the HTTP status
	local name=$1 file=$2; shift 2
	curl_as 131156 -o "$T/body" -w '%{http_code}' -T "$file" "$@" \
		"$URL/v1/uploads/health-checkup/$name" 2>/dev/null
}

# 1000 TCP connections from 127.0.0.2 that send nothing. Meanwhile a
# municipality uploads; then how many of the 1000 the receiver has closed,
# at once and after the handshake deadline.
test_r34_1000_idle_connections_do_not_deny_a_municipality() {
	local net
	net=$(net_pid) || return 1
	python3 - "$PORT" "$HANDSHAKE_TIMEOUT" "$T" "$net" > "$T/idle.out" <<'PY' || return 1
import json, os, resource, select, socket, subprocess, sys, time
port, deadline, tdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
net = int(sys.argv[4])
def held():
    """Sockets the receiver's net process has open (what it holds)."""
    n = 0
    for fd in os.listdir(f"/proc/{net}/fd"):
        try:
            if os.readlink(f"/proc/{net}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n
base = held()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
socks = []
for i in range(1000):
    s = socket.socket()
    s.setblocking(False)
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
# Until each connect has finished (the listen queue drops SYNs, which the
# kernel sends again): connected, or refused.
pending, failed = set(socks), set()
limit = time.time() + 20
while pending and time.time() < limit:
    _, w, _ = select.select([], list(pending), [], 0.2)
    for s in w:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            failed.add(s)
        pending.discard(s)
# What the receiver holds for them: at most the per-source cap.
held_during = max(held() - base for _ in range(5) if time.sleep(0.1) is None)
t0 = time.time()
p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
    "--max-time", "10", "--cacert", f"{tdir}/pki/internal-ca/ca.crt",
    "--cert", f"{tdir}/pki/muni-ca/issued/131156.crt",
    "--key", f"{tdir}/pki/muni-ca/issued/131156.key",
    "-T", f"{tdir}/a.csv",
    f"https://127.0.0.1:{port}/v1/uploads/health-checkup/during-flood.csv"],
    capture_output=True, text=True)
upload_s = time.time() - t0
time.sleep(deadline + 1.5)
print(json.dumps({"unsettled": len(pending), "held_during": held_during,
    "upload": p.stdout, "upload_s": round(upload_s, 2),
    "held_after_deadline": held() - base}))
PY
	cat "$T/idle.out"
	python3 - "$T/idle.out" "$PER_SOURCE" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
per_source = int(sys.argv[2])
ok = (r["unsettled"] == 0 and r["upload"] == "201" and r["upload_s"] < 5
      and r["held_during"] <= per_source and r["held_after_deadline"] <= 0)
sys.exit(0 if ok else 1)
PY
}

# A ClientHello dripped one byte every half second from 127.0.0.3: cut at
# the handshake deadline counted from the accept, not after every byte.
test_r34_dripped_handshake_is_cut_at_the_deadline() {
	python3 - "$PORT" "$HANDSHAKE_TIMEOUT" <<'PY'
import socket, sys, time
port, deadline = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.bind(("127.0.0.3", 0))
s.connect(("127.0.0.1", port))
s.settimeout(0.5)
hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]) + b"\x03" * 600
start = time.time()
cut = None
for b in hello:
    try:
        s.send(bytes([b]))
        if s.recv(1) == b"":
            cut = time.time() - start
            break
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - start
        break
    if time.time() - start > deadline + 10:
        break
print(f"cut after {cut} s")
sys.exit(0 if cut is not None and deadline - 0.5 <= cut <= deadline + 1.5 else 1)
PY
}

# The connection cap counts municipalities only; past it the next one is
# answered 503 at once, not queued behind the others.
test_r34_authenticated_over_the_cap_get_503_at_once() {
	local i pids=() t0 code
	# curl itself in the background (exec), so that kill reaches it.
	for i in 1 2 3 4; do
		( exec curl -sS -o /dev/null --cacert "$T/pki/internal-ca/ca.crt" \
			--cert "$T/pki/muni-ca/issued/131156.crt" \
			--key "$T/pki/muni-ca/issued/131156.key" \
			--limit-rate 4k --max-time 60 -T "$T/big.csv" \
			"$URL/v1/uploads/health-checkup/slow-$i.csv" ) 2>/dev/null &
		pids+=($!)
	done
	sleep 1.5
	t0=$(date +%s%N)
	code=$(upload over.csv "$T/a.csv" --max-time 10)
	local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	echo "fifth upload: $code after $ms ms"
	[ "$code" = 503 ] && [ "$ms" -lt 3000 ] || return 1
	sleep 1
	code=$(upload after.csv "$T/a.csv"); echo "after: $code"; [ "$code" = 201 ]
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
[ -n "${KEEP_LOG:-}" ] && trap 'cp "$T/receiver.log" "$KEEP_LOG"; cleanup' EXIT
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
