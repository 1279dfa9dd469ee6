#!/usr/bin/env bash
# test_r17_store_distrusts_net.sh: the receiver's and the sender's store
# trust their net process no more than the network (R17). The real store
# process is started as the parent starts it (`proc store`, its channel on
# descriptor 3), with a Python script in net's place; each case sends what
# a compromised net process might, and the store must end at once (exit 1,
# the reason in its log), with the audit log intact and nothing stored.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)

setup() {
	make_pki >/dev/null && write_site "$PORT" && write_local &&
	write_sender_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null
}

# as_net ROLE CASE: runs the role's store against the script's case;
# prints the store's exit status.
as_net() {
	python3 - "$BIN/sekisho-$1" "$T/$1.conf" "$2" \
		2>>"$T/store.log" <<'PY'
import fcntl, os, socket, struct, subprocess, sys, time
binary, conf, case = sys.argv[1:4]
ours, theirs = socket.socketpair()
# Our end out of the way of descriptor 3, which becomes the store's.
hi = fcntl.fcntl(ours.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
ours.close()
ours = socket.socket(fileno=hi)
os.dup2(theirs.fileno(), 3)
p = subprocess.Popen([binary, "-c", conf, "proc", "store"], pass_fds=(3,),
                     stderr=sys.stderr)
os.close(3)
theirs.close()
def s(x):
    return struct.pack(">I", len(x)) + x
def msg(t, payload, fds=None):
    data = struct.pack(">II", t, len(payload)) + payload
    if fds:
        ours.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                               struct.pack("i" * len(fds), *fds))])
    else:
        ours.sendall(data)
def audit(event):
    return (s(event) + s(b"muni:131156") + s(b"") + struct.pack(">I", 0) +
            struct.pack(">Q", 0) + s(b"") + s(b""))
# The store answers an honest request first: it is up.
msg(2, b"")
ours.settimeout(10)
reply = ours.recv(64)
assert reply[:4] == struct.pack(">I", 2 | 0x80000000), reply
if case == "unknown_type":
    msg(77, b"")
elif case == "trailing_bytes":
    msg(2, b"\0")
elif case == "short_field":
    msg(3, s(b"131156")[:6])
elif case == "foreign_audit_event":
    msg(1, audit(b"upload.stored"))
elif case == "descriptor":
    r, w = os.pipe()
    msg(2, b"", [r])
elif case == "token_never_given":
    msg(6, struct.pack(">Q", 12345))
elif case == "upload_net_must_refuse":
    msg(3, s(b"131156") + s(b"no-such-dataset") + struct.pack(">Q", 10))
elif case == "length_over_max":
    ours.sendall(struct.pack(">II", 1, (8 << 20) + 1))
# The sender's store (sender.h: 4 open, 7 publish begin, 9 commit).
elif case == "sender_unknown_recipient":
    msg(4, s(b"rel-1") + s(b"nobody"))
elif case == "sender_foreign_audit_event":
    msg(1, audit(b"release.published"))
elif case == "sender_token_never_given":
    msg(9, struct.pack(">Q", 12345))
elif case == "sender_publish_net_must_refuse":
    msg(7, s(b"rel-x") + s(b"no-such-dataset") + s(b"univ-a") + s(b"f") +
        struct.pack(">QQI", 4102444800, 10, 0) + b"\0" * 32)
try:
    status = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    status = "still running"
print(status)
PY
}

# store_ends CASE [ROLE DATA]: the store (the receiver's, with its data in
# data/, unless named) ends on it, nothing stored, its log intact.
store_ends() {
	local status role=${2:-receiver} data=${3:-data}
	status=$(as_net "$role" "$1") || return 1
	[ "$status" = 1 ] || { echo "$1: store status $status" >&2; return 1; }
	tail -1 "$T/store.log" | grep -q 'from the net process' &&
	[ -z "$(ls -A "$T/$data/objects")" ] &&
	"$BIN/sekisho-$role" audit verify "$T/$data/audit.log" >/dev/null
}

test_r17_store_ends_on_an_unknown_type() { store_ends unknown_type; }
test_r17_store_ends_on_trailing_bytes() { store_ends trailing_bytes; }
test_r17_store_ends_on_a_short_field() { store_ends short_field; }
test_r17_store_ends_on_an_audit_event_not_nets() {
	store_ends foreign_audit_event &&
	! grep -q '"event":"upload.stored"' "$T/data/audit.log"
}
test_r17_store_ends_on_a_descriptor_from_net() { store_ends descriptor; }
test_r17_store_ends_on_a_token_it_never_gave() { store_ends token_never_given; }
test_r17_store_ends_on_an_upload_net_must_refuse() {
	store_ends upload_net_must_refuse
}
test_r17_store_ends_on_a_length_over_the_maximum() {
	local status
	status=$(as_net receiver length_over_max) && [ "$status" = 1 ] &&
	tail -1 "$T/store.log" | grep -q 'input too large'
}

# The sender's store: a recipient net never authorized, an audit entry
# that is the store's own to write, a token it never gave, a publication
# net's checks refuse.
test_r17_sender_store_ends_on_a_recipient_net_never_authorized() {
	store_ends sender_unknown_recipient sender sdata
}
test_r17_sender_store_ends_on_an_audit_event_not_nets() {
	store_ends sender_foreign_audit_event sender sdata &&
	! grep -q '"event":"release.published"' "$T/sdata/audit.log"
}
test_r17_sender_store_ends_on_a_token_it_never_gave() {
	store_ends sender_token_never_given sender sdata
}
test_r17_sender_store_ends_on_a_publication_net_must_refuse() {
	store_ends sender_publish_net_must_refuse sender sdata
}

setup || { echo "setup failed"; exit 1; }
[ -n "${KEEP_LOG:-}" ] && trap 'cp "$T/store.log" "$KEEP_LOG"; cleanup' EXIT
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
