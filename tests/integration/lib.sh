# lib.sh: shared helpers for Sekisho's integration tests (sourced).
#
# Every test creates its own PKI, configuration and data under a temporary
# directory, drives the real daemons with real clients (curl, openssl), and
# removes what it started by its own process ids when it ends, pass or fail.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${SEKISHO_BIN:-$TOP/build/san/bin}
PKI="$TOP/deploy/pki.sh"
PASSED=0
FAILED=0
PIDS=()
T=$(mktemp -d /tmp/sekisho-it.XXXXXX)
# The daemons drop root for their service users, who must reach their
# data folders and the non-secret files below $T.
chmod 711 "$T"

# ASan/UBSan findings in the daemons must fail the run, not scroll by.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cleanup() {
	local p f off=0 name
	name=$(basename "$0" .sh)
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	service_users_remove "$T/.users"
	# Every entry the daemons wrote follows its event's schema
	# (docs/audit-events.md): a writer that leaves it fails the test.
	while IFS= read -r f; do
		"$BIN/sekisho-receiver" audit verify "${f%.key0}" 2>/dev/null |
			grep -m1 "SCHEMA:" && off=1
	done < <(find "$T" -name '*.log.key0' 2>/dev/null)
	# KEEP_LOGS=DIR keeps the daemons' logs of a run for a look after,
	# and the audit logs, as DIR/NAME.data.audit.log, NAME.vdata.audit.log,
	# ... (NAME: the test file's).
	if [ -n "${KEEP_LOGS:-}" ]; then
		cp "$T"/*.log "$KEEP_LOGS"/ 2>/dev/null
		while IFS= read -r f; do
			p=${f#"$T"/}
			cp "$f" "$KEEP_LOGS/$name.${p//\//.}"
		done < <(find "$T" -name audit.log 2>/dev/null)
	fi
	rm -rf "$T"
	if [ "$off" -ne 0 ]; then
		echo "not ok - $name: the audit logs follow their events' schema"
		exit 1
	fi
}
trap cleanup EXIT
# The daemons' service users: the missing ones are made here, removed at
# exit.
. "$TOP/tests/service_users.sh"
service_users_add "$T/.users" ||
	{ echo "cannot create the service users" >&2; exit 1; }

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check NAME COMMAND...: passes when the command succeeds; says how long
# it took.
check() {
	local name=$1 t0=$SECONDS; shift
	if "$@"; then
		pass "$name ($((SECONDS - t0)) s)"
	else
		fail "$name ($((SECONDS - t0)) s)"
	fi
}

summary() {
	echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# hex_of FILE [OFFSET LENGTH]: the file's bytes (or some of them) in hex,
# for the memory scans.
hex_of() {
	python3 - "$@" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
if len(sys.argv) > 2:
    off, n = int(sys.argv[2]), int(sys.argv[3])
    data = data[off:off + n]
print(data.hex())
PY
}

free_port() {
	# Four in a row (the daemons take PORT to PORT+3), below the kernel's
	# range for outgoing connections (32768 and up), where a client's
	# socket could hold PORT+1 though PORT was free; none handed out
	# before in this test.
	python3 - "$T/.ports" <<'PY'
import random, socket, sys
try:
    used = set(int(l) for l in open(sys.argv[1]))
except OSError:
    used = set()
for _ in range(500):
    p = random.randrange(20000, 32000, 4)
    if p in used:
        continue
    socks = []
    try:
        for q in range(p, p + 4):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", q))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    open(sys.argv[1], "a").write("%d\n" % p)
    print(p)
    break
else:
    sys.exit("no four free ports in a row")
PY
}

# make_pki: CAs for municipalities, recipients, internal links, and a rogue
# CA nobody trusts; the receiver's certificate; municipalities' client
# certificates (one of them revoked).
make_pki() {
	local p=$T/pki
	mkdir -p "$p"
	"$PKI" "$p" init-ca muni-ca "Sekisho test municipalities CA"
	"$PKI" "$p" init-ca recip-ca "Sekisho test recipients CA"
	"$PKI" "$p" init-ca internal-ca "Sekisho test internal CA"
	"$PKI" "$p" init-ca rogue-ca "Someone else's CA"
	"$PKI" "$p" issue internal-ca receiver --server \
		--uri urn:sekisho:host:receiver --ip 127.0.0.1 --dns localhost
	"$PKI" "$p" issue internal-ca vault --uri urn:sekisho:host:vault
	"$PKI" "$p" issue internal-ca vault-envelope --envelope \
		--uri urn:sekisho:host:vault-envelope
	"$PKI" "$p" issue internal-ca vault-signing --signing \
		--uri urn:sekisho:host:vault-signing
	"$PKI" "$p" issue muni-ca 131156 --uri urn:sekisho:muni:131156
	"$PKI" "$p" issue muni-ca 011002 --uri urn:sekisho:muni:011002
	"$PKI" "$p" issue muni-ca 131016 --uri urn:sekisho:muni:131016
	"$PKI" "$p" issue muni-ca 141003 --uri urn:sekisho:muni:141003
	"$PKI" "$p" issue recip-ca univ-a --uri urn:sekisho:recip:univ-a
	"$PKI" "$p" issue rogue-ca 131156 --uri urn:sekisho:muni:131156
	"$PKI" "$p" revoke muni-ca 131016
}

# write_site PORT [EXTRA]: a site with three municipalities on loopback.
write_site() {
	local port=$1 nets=${2:-127.0.0.0/8}
	cat > "$T/site.conf" <<CONF
site: { name = "Sekisho integration test"; };
ca: {
  municipalities = "pki/muni-ca/ca.crt";
  municipalities_crl = "pki/muni-ca/crl.pem";
  recipients = "pki/recip-ca/ca.crt";
  internal = "pki/internal-ca/ca.crt";
};
hosts: {
  receiver: {
    identity = "urn:sekisho:host:receiver";
    external: { address = "127.0.0.1"; port = $port; interface = "lo"; };
    internal: { address = "127.0.0.1"; port = $((port + 1)); interface = "lo"; };
  };
  vault: { identity = "urn:sekisho:host:vault"; address = "127.0.0.1"; };
  sender: {
    identity = "urn:sekisho:host:sender";
    external: { address = "127.0.0.1"; port = $((port + 2)); };
    internal: { address = "127.0.0.1"; port = $((port + 3)); };
  };
};
datasets = (
  { id = "health-checkup"; max_bytes = 2147483648L; retention_days = 30; },
  { id = "resident-register"; max_bytes = 1024; retention_days = 30; }
);
municipalities = (
  { id = "131156"; name = "Nakano"; identity = "urn:sekisho:muni:131156";
    networks = [ "$nets" ]; datasets = [ "health-checkup", "resident-register" ]; },
  { id = "011002"; name = "Sapporo"; identity = "urn:sekisho:muni:011002";
    networks = [ "192.0.2.0/24" ]; datasets = [ "health-checkup" ]; },
  { id = "131016"; name = "Chiyoda"; identity = "urn:sekisho:muni:131016";
    networks = [ "127.0.0.0/8" ]; datasets = [ "health-checkup" ]; },
  { id = "141003"; name = "Yokohama"; identity = "urn:sekisho:muni:141003";
    networks = [ "127.0.0.0/8" ]; datasets = [ "resident-register" ]; }
);
recipients = (
  { id = "univ-a"; identity = "urn:sekisho:recip:univ-a"; networks = [ "127.0.0.0/8" ]; }
);
CONF
}

# write_role_local ROLE DATA LIMITS: a daemon's local configuration on
# loopback without the firewall check: $T/ROLE.conf, its data in $T/DATA.
write_role_local() {
	cat > "$T/$1.conf" <<CONF
role = "$1";
site = "site.conf";
data_dir = "$2";
certificate = "pki/internal-ca/issued/$1.crt";
key = "pki/internal-ca/issued/$1.key";
master_key = "$2/master.key";
require_firewall = false;
limits: { $3 };
CONF
	# The vault's envelope pair, apart from its TLS pair.
	[ "$1" != vault ] || cat >> "$T/$1.conf" <<CONF
envelope: { certificate = "pki/internal-ca/issued/vault-envelope.crt";
            key = "pki/internal-ca/issued/vault-envelope.key"; };
signing: { certificate = "pki/internal-ca/issued/vault-signing.crt";
           key = "pki/internal-ca/issued/vault-signing.key"; };
CONF
}

# refusal_count EVENT LOG [FIRST]: how many refusals the summary entries of
# EVENT in audit log LOG count (from line FIRST on).
refusal_count() {
	tail -n +"${3:-1}" "$2" | grep "\"event\":\"$1\"" |
		awk '{ if (match($0, /count=[0-9]+/)) s += substr($0, RSTART + 6, RLENGTH - 6) } END { print s + 0 }'
}

# write_local [LIMITS]: the receiver's (data in data/).
write_local() { write_role_local receiver data "${1:-disk_reserve = 0L; refusal_interval = 1;}"; }

# wait_listening PID LOG BEFORE: waits until LOG has more "listening on"
# lines than BEFORE. (Probing the port instead can connect a client socket
# to itself when nothing listens yet, and then hold the port.)
wait_listening() {
	local pid=$1 log=$2 before=$3 i
	for i in $(seq 1 200); do
		if [ "$(grep -c 'listening on' "$log" 2>/dev/null)" -gt "$before" ]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "$(basename "$log" .log) did not start:" >&2
	tail -20 "$log" >&2
	return 1
}

# wait_for PATTERN FILE [SECONDS]: waits (20 s unless said) until FILE
# has a line matching PATTERN; says so when it never comes.
wait_for() {
	local i
	for i in $(seq 1 $((${3:-20} * 10))); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no '$1' in $2 within ${3:-20} s" >&2
	return 1
}

# wait_sandboxed PID LOG BEFORE: waits until LOG has more lines of the
# parent's saying its sandbox is in place than BEFORE (its children may
# serve before it: a test that looks at the parent waits for this).
wait_sandboxed() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -c 'the parent is sandboxed' "$2" 2>/dev/null)" -gt "$3" ] &&
			return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	echo "$(basename "$2" .log): the parent never said it is sandboxed" >&2
	return 1
}

# start_receiver: runs it in the background and waits until it listens.
start_receiver() {
	local before parent
	before=$(grep -c 'listening on' "$T/receiver.log" 2>/dev/null)
	parent=$(grep -c 'the parent is sandboxed' "$T/receiver.log" 2>/dev/null)
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" run \
		>>"$T/receiver.log" 2>&1 &
	RECEIVER_PID=$!
	PIDS+=("$RECEIVER_PID")
	wait_listening "$RECEIVER_PID" "$T/receiver.log" "${before:-0}" &&
	wait_sandboxed "$RECEIVER_PID" "$T/receiver.log" "${parent:-0}"
}

# write_sender_local: the sender's (data in sdata/).
write_sender_local() {
	write_role_local sender sdata \
		"max_connections = 64; read_timeout = 30; disk_reserve = 0L; refusal_interval = 1;"
}

# write_vault_local [LIMITS]: the vault's (data in vdata/).
write_vault_local() { write_role_local vault vdata "${1:-}"; }

# start_sender: runs it in the background and waits until it listens.
start_sender() {
	local before parent
	before=$(grep -c 'listening on' "$T/sender.log" 2>/dev/null)
	parent=$(grep -c 'the parent is sandboxed' "$T/sender.log" 2>/dev/null)
	"$BIN/sekisho-sender" -c "$T/sender.conf" run >>"$T/sender.log" 2>&1 &
	SENDER_PID=$!
	PIDS+=("$SENDER_PID")
	wait_listening "$SENDER_PID" "$T/sender.log" "${before:-0}" &&
	wait_sandboxed "$SENDER_PID" "$T/sender.log" "${parent:-0}"
}

# child_of PID ROLE PART: the pid of the daemon's child running
# "sekisho-ROLE -c $T/ROLE.conf proc PART".
child_of() {
	local p
	for p in $(cat /proc/"$1"/task/*/children); do
		if [ "$(tr '\0' ' ' < "/proc/$p/cmdline")" = \
		    "sekisho-$2 -c $T/$2.conf proc $3 " ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# keys_only_in STORE NET HEX...: the scan of /proc/PID/mem finds every
# key in the store (the control: the scan can see them) and none in net.
keys_only_in() {
	local store=$1 net=$2 out want_found="" want_absent="" h; shift 2
	for h in "$@"; do
		want_found+="found $h"$'\n'
		want_absent+="absent $h"$'\n'
	done
	out=$(python3 "$TOP/tests/integration/memscan.py" "$store" "$@" \
		2>/dev/null)$'\n' || return 1
	[ "$out" = "$want_found" ] || { echo "control failed: $out" >&2; return 1; }
	out=$(python3 "$TOP/tests/integration/memscan.py" "$net" "$@" \
		2>/dev/null)$'\n' || return 1
	[ "$out" = "$want_absent" ] || { echo "net holds: $out" >&2; return 1; }
}

# net_sockets_only NET STORE: net has sockets only (besides stdio); the
# store has one socket, its channel, and no TCP socket at all.
net_sockets_only() {
	local fd target files=0 socks=0
	for fd in /proc/"$1"/fd/*; do
		[ "${fd##*/}" -le 2 ] && continue
		target=$(readlink "$fd")
		case $target in socket:*) ;; *) files=$((files + 1))
			echo "net has $target open" >&2 ;; esac
	done
	for fd in /proc/"$2"/fd/*; do
		target=$(readlink "$fd")
		case $target in socket:*) socks=$((socks + 1)) ;; esac
	done
	[ "$files" = 0 ] && [ "$socks" = 1 ] &&
	! grep -q " $(stat -L -c %i "/proc/$2/fd/3") " /proc/net/tcp /proc/net/tcp6
}

stop_sender() {
	kill -TERM "$SENDER_PID" 2>/dev/null
	wait "$SENDER_PID" 2>/dev/null
}

stop_receiver() {
	kill -TERM "$RECEIVER_PID" 2>/dev/null
	wait "$RECEIVER_PID" 2>/dev/null
}

# curl_as MUNI ARGS...: curl with a municipality's certificate.
curl_as() {
	local who=$1; shift
	curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/muni-ca/issued/$who.crt" \
		--key "$T/pki/muni-ca/issued/$who.key" "$@"
}

# dav_endpoint_conf DIR LISTEN CERT KEY CLIENT_CA [MAXBODY]: DIR/nginx.conf
# for Debian's nginx as a WebDAV PUT endpoint over TLS 1.3 that asks for a
# client certificate of CLIENT_CA; what it receives lands in
# DIR/root/incoming/, each request logged (method, path, status,
# Content-Digest, client DN and serial) in DIR/access.log. The push recipients'
# endpoint in the tests and the push bench.
dav_endpoint_conf() {
	local d=$1
	mkdir -p "$d/root/incoming" "$d/tmp" || return 1
	cat > "$d/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
  log_format push '\$request_method \$uri \$status \$http_content_digest \$ssl_client_s_dn \$ssl_client_serial';
  access_log $d/access.log push;
  client_body_temp_path $d/tmp;
  server {
    listen $2 ssl;
    ssl_certificate $3;
    ssl_certificate_key $4;
    ssl_protocols TLSv1.3;
    ssl_client_certificate $5;
    ssl_verify_client on;
    client_max_body_size ${6:-4g};
    location /incoming/ {
      root $d/root;
      dav_methods PUT;
      create_full_put_path on;
    }
  }
}
CONF
}

# example_site_pki DIR PKI_COMMAND... PKI_DIR: the example site's PKI (three
# CAs, the hosts, a recipient, three operators) made by PKI_COMMAND (the
# installed sekisho-pki, or one run in a chroot) in PKI_DIR, which is DIR as
# that command sees it.
example_site_pki() {
	local dir=$1 r; shift
	local pdir=${!#} cmd=("${@:1:$#-1}")
	"${cmd[@]}" "$pdir" init-ca muni-ca "Example municipalities CA" &&
	"${cmd[@]}" "$pdir" init-ca recip-ca "Example recipients CA" &&
	"${cmd[@]}" "$pdir" init-ca internal-ca "Example internal CA" &&
	"${cmd[@]}" "$pdir" host receiver --ip 10.200.0.10 --ip 172.16.1.1 &&
	"${cmd[@]}" "$pdir" host vault &&
	"${cmd[@]}" "$pdir" host sender --ip 10.210.0.10 --ip 172.16.2.1 &&
	"${cmd[@]}" "$pdir" recipient pref-health-inst || return 1
	for r in sato suzuki takahashi; do
		"${cmd[@]}" "$pdir" operator "$r" >/dev/null || return 1
	done
	[ -f "$dir/internal-ca/issued/vault.key" ]
}

# example_site_layout PKI EXAMPLES DEST CONF_ETC CONF_VAR: the example site
# laid out as docs/admin-guide.md says, in DEST (a host path), from the PKI
# folder PKI and the installed EXAMPLES; the configuration files name
# CONF_ETC for /etc/sekisho and CONF_VAR for /var/lib/sekisho (the paths as
# the programs that read them will see them).
example_site_layout() {
	local pki=$1 ex=$2 e=$3 cetc=$4 cvar=$5 r
	mkdir -p "$e/ca" "$e/certs" "$e/keys" "$e/operators" "$e/recipients" \
		"$e/policies" || return 1
	for r in muni-ca recip-ca internal-ca; do
		cp "$pki/$r/ca.crt" "$e/ca/$r.crt" && cp "$pki/$r/crl.pem" "$e/ca/$r.crl" ||
			return 1
	done
	for r in receiver vault vault-envelope vault-signing sender; do
		cp "$pki/internal-ca/issued/$r.crt" "$e/certs/" &&
		install -m 0600 "$pki/internal-ca/issued/$r.key" "$e/keys/" || return 1
	done
	cp "$pki"/operators/*.pub "$e/operators/" &&
	cp "$pki/recip-ca/issued/pref-health-inst.crt" "$e/recipients/" &&
	cp "$ex"/policies/*.policy "$e/policies/" || return 1
	for r in site receiver vault sender; do
		# The example's roster is a fiscal year's (to 2027-03-31); the
		# vault refuses a roster that can no longer approve (R41), so
		# the copy's operators stay valid whenever this runs.
		sed -e "s|/etc/sekisho|$cetc|g" -e "s|/var/lib/sekisho|$cvar|g" \
			-e 's|valid_until = "2027-03-31"|valid_until = "2099-03-31"|' \
			"$ex/$r.conf" > "$e/$r.conf" || return 1
	done
}
