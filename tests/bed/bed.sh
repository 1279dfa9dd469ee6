# bed.sh: the three-host test bed in network namespaces (sourced by
# tests/bed/demo.sh and by the integration tests on the bed).
#
#   muni  192.0.2.11 (131156)      192.0.2.1 recv 198.51.100.1 ── 198.51.100.2 vault
#         192.0.2.12 (011002) ──── muni0       vault0              recv0
#                                                                  send0 198.51.100.5
#                                                                         │
#   recip 203.0.113.11 (univ-a) ── recip0 203.0.113.1 send 198.51.100.6 vault0
#         203.0.113.12 (univ-b)
#         203.0.113.13 (univ-c, push: its nginx on 8443 takes the releases)
#
# Five namespaces joined by veth links, addresses from the documentation
# ranges, only connected routes: nothing reaches outside the bed. The
# receiver, vault and sender each have their generated firewall applied in
# their namespace and run as their own system user, started as root through
# the same privilege drop as in production. Everything the bed makes is
# listed under $BED_DIR and removed by bed_down, also after a failure.
#
# Settings (before sourcing): BED_NAME (namespace prefix, "sekisho"),
# BED_DIR (state: PKI, configuration, data, logs), BED_BIN (the programs,
# build/bin), BED_ALL_PUSH=1 (every recipient in push mode, each with an
# endpoint on its own address: the sender then has no external listener).

BED_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BED_BIN=${BED_BIN:-$BED_TOP/build/bin}
BED_NAME=${BED_NAME:-sekisho}
BED_DIR=${BED_DIR:-/var/tmp/sekisho-demo}
BED_PKI="$BED_TOP/deploy/pki.sh"
BED_POLICY="$BED_TOP/tests/bench/checkup/checkup.policy"
. "$BED_TOP/tests/service_users.sh"

NS_MUNI=$BED_NAME-muni
NS_RECV=$BED_NAME-recv
NS_VAULT=$BED_NAME-vault
NS_SEND=$BED_NAME-send
NS_RECIP=$BED_NAME-recip
BED_NAMESPACES=("$NS_MUNI" "$NS_RECV" "$NS_VAULT" "$NS_SEND" "$NS_RECIP")

MUNI1=131156 MUNI1_ADDR=192.0.2.11
MUNI2=011002 MUNI2_ADDR=192.0.2.12
RECV_EXT=192.0.2.1 RECV_INT=198.51.100.1
VAULT_TO_RECV=198.51.100.2 VAULT_TO_SEND=198.51.100.5
SEND_INT=198.51.100.6 SEND_EXT=203.0.113.1
RECIP1=univ-a RECIP1_ADDR=203.0.113.11
RECIP2=univ-b RECIP2_ADDR=203.0.113.12
RECIP3=univ-c RECIP3_ADDR=203.0.113.13 RECIP3_PORT=8443
RECIP3_NAME=push.univ-c.example
RECV_PORT=8443 RECV_INT_PORT=9443 SEND_PORT=8444 SEND_INT_PORT=9444
RECEIVER_URL=https://$RECV_EXT:$RECV_PORT
SENDER_URL=https://$SEND_EXT:$SEND_PORT

bed_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

bed_log() { printf '%s\n' "$*" >&2; }

# bed_link NS1 IF1 - NS2 IF2: a veth pair between two namespaces, each end
# named after the host it faces.
bed_link() {
	local n1=$1 i1=$2 n2=$4 i2=$5
	ip link add "$i1" netns "$n1" type veth peer name "$i2" netns "$n2" ||
		return 1
	bed_ns "$n1" ip link set "$i1" up && bed_ns "$n2" ip link set "$i2" up
}

bed_addr() { bed_ns "$1" ip addr add "$3" dev "$2"; }

bed_network() {
	local n
	for n in "${BED_NAMESPACES[@]}"; do
		ip netns add "$n" || return 1
		echo "$n" >> "$BED_DIR/namespaces"
		bed_ns "$n" ip link set lo up || return 1
	done
	bed_link "$NS_MUNI" recv0 - "$NS_RECV" muni0 &&
	bed_addr "$NS_MUNI" recv0 "$MUNI1_ADDR/24" &&
	bed_addr "$NS_MUNI" recv0 "$MUNI2_ADDR/24" &&
	bed_addr "$NS_RECV" muni0 "$RECV_EXT/24" &&
	bed_link "$NS_RECV" vault0 - "$NS_VAULT" recv0 &&
	bed_addr "$NS_RECV" vault0 "$RECV_INT/30" &&
	bed_addr "$NS_VAULT" recv0 "$VAULT_TO_RECV/30" &&
	bed_link "$NS_VAULT" send0 - "$NS_SEND" vault0 &&
	bed_addr "$NS_VAULT" send0 "$VAULT_TO_SEND/30" &&
	bed_addr "$NS_SEND" vault0 "$SEND_INT/30" &&
	bed_link "$NS_SEND" recip0 - "$NS_RECIP" send0 &&
	bed_addr "$NS_SEND" recip0 "$SEND_EXT/24" &&
	bed_addr "$NS_RECIP" send0 "$RECIP1_ADDR/24" &&
	bed_addr "$NS_RECIP" send0 "$RECIP2_ADDR/24" &&
	bed_addr "$NS_RECIP" send0 "$RECIP3_ADDR/24"
}

# The demo PKI: a CA each for municipalities, recipients and internal
# links; two municipalities, two recipients, the three hosts, two operators.
bed_pki() {
	local p=$BED_DIR/pki
	"$BED_PKI" "$p" init-ca muni-ca "Sekisho bed municipalities CA" &&
	"$BED_PKI" "$p" init-ca recip-ca "Sekisho bed recipients CA" &&
	"$BED_PKI" "$p" init-ca internal-ca "Sekisho bed internal CA" &&
	"$BED_PKI" "$p" host receiver --ip "$RECV_EXT" --ip "$RECV_INT" &&
	"$BED_PKI" "$p" host vault &&
	"$BED_PKI" "$p" host sender --ip "$SEND_EXT" --ip "$SEND_INT" &&
	"$BED_PKI" "$p" muni "$MUNI1" && "$BED_PKI" "$p" muni "$MUNI2" &&
	"$BED_PKI" "$p" recipient "$RECIP1" && "$BED_PKI" "$p" recipient "$RECIP2" &&
	"$BED_PKI" "$p" recipient "$RECIP3" &&
	"$BED_PKI" "$p" init-ca univ-c-ca "University C's own server CA" &&
	"$BED_PKI" "$p" issue univ-c-ca endpoint --server --dns "$RECIP3_NAME" \
		--ip "$RECIP3_ADDR" &&
	"$BED_PKI" "$p" operator op1 >/dev/null &&
	"$BED_PKI" "$p" operator op2 >/dev/null
}

# bed_push_of ADDR: with BED_ALL_PUSH=1, the push settings of the recipient
# at ADDR (its endpoint on its own address, the same nginx as univ-c's).
bed_push_of() {
	[ "${BED_ALL_PUSH:-0}" = 1 ] || return 0
	printf '\n    delivery = "push"; endpoint = "https://%s:%s/incoming/";\n' \
		"$1" "$RECIP3_PORT"
	printf '    endpoint_ca = "%s/univ-c-ca/ca.crt"; endpoint_name = "%s";' \
		"$BED_DIR/pki" "$RECIP3_NAME"
}

# The registers of the bed's site (issue 16): what the ledgers print in
# their 入手目的, 取扱者 and 範囲 columns; tests compare against these.
BED_PURPOSE="特定健診結果の統計分析のため"
BED_DEPARTMENT="健康福祉部 健康推進課"
BED_OP1_NAME="鈴木 一郎"
BED_OP2_NAME="佐藤 花子"
BED_OP_SCOPE="健診結果 (匿名加工前)"

bed_site() {
	local p=$BED_DIR/pki e=$BED_DIR/etc
	mkdir -p "$e" || return 1
	cat > "$e/site.conf" <<CONF
# The test bed's site (tests/bed/bed.sh): one receiver, vault and sender,
# two municipalities, two recipients, two operators.
site: { name = "Sekisho test bed"; };
ca: {
  municipalities = "$p/muni-ca/ca.crt"; municipalities_crl = "$p/muni-ca/crl.pem";
  recipients = "$p/recip-ca/ca.crt"; recipients_crl = "$p/recip-ca/crl.pem";
  internal = "$p/internal-ca/ca.crt"; internal_crl = "$p/internal-ca/crl.pem";
};
hosts: {
  receiver: { identity = "urn:sekisho:host:receiver";
    external: { address = "$RECV_EXT"; port = $RECV_PORT; interface = "muni0"; };
    internal: { address = "$RECV_INT"; port = $RECV_INT_PORT; interface = "vault0"; }; };
  vault: { identity = "urn:sekisho:host:vault"; address = "$VAULT_TO_RECV";
    sender_address = "$VAULT_TO_SEND"; };
  sender: { identity = "urn:sekisho:host:sender";
    internal: { address = "$SEND_INT"; port = $SEND_INT_PORT; interface = "vault0"; };
    external: { address = "$SEND_EXT"; port = $SEND_PORT; interface = "recip0"; }; };
};
datasets = (
  { id = "health-checkup"; max_bytes = 1073741824L; retention_days = 0;
    purpose = "$BED_PURPOSE"; department = "$BED_DEPARTMENT";
    policy = "$BED_POLICY";
    release = { recipients = [ "$RECIP1", "$RECIP3" ]; days = 30; approvals = 2; }; },
  { id = "health-checkup-sealed"; max_bytes = 1073741824L; retention_days = 0;
    purpose = "$BED_PURPOSE"; department = "$BED_DEPARTMENT"; envelope = true; signed = true; policy = "$BED_POLICY";
    release = { recipients = [ "$RECIP2" ]; days = 30; approvals = 2; }; }
);
municipalities = (
  { id = "$MUNI1"; name = "Nakano City"; identity = "urn:sekisho:muni:$MUNI1";
    networks = [ "$MUNI1_ADDR" ]; datasets = [ "health-checkup", "health-checkup-sealed" ]; },
  { id = "$MUNI2"; name = "Sapporo City"; identity = "urn:sekisho:muni:$MUNI2";
    networks = [ "$MUNI2_ADDR" ]; datasets = [ "health-checkup", "health-checkup-sealed" ]; }
);
recipients = (
  { id = "$RECIP1"; name = "University A"; identity = "urn:sekisho:recip:$RECIP1";
    contract = "2026-研-017"; purpose = "疫学研究"; legal_basis = "条例第12条";
    valid_from = "2026-01-01"; valid_until = "2099-12-31";
    networks = [ "$RECIP1_ADDR" ];$(bed_push_of "$RECIP1_ADDR") },
  { id = "$RECIP2"; name = "University B (sealed releases)";
    contract = "2026-研-018"; purpose = "疫学研究"; legal_basis = "条例第12条";
    valid_from = "2026-01-01"; valid_until = "2099-12-31";
    identity = "urn:sekisho:recip:$RECIP2"; networks = [ "$RECIP2_ADDR" ];
    envelope = true; certificate = "$p/recip-ca/issued/$RECIP2.crt";$(bed_push_of "$RECIP2_ADDR") },
  { id = "$RECIP3"; name = "University C (push: no connection to the sender)";
    contract = "2026-研-019"; purpose = "疫学研究"; legal_basis = "条例第12条";
    valid_from = "2026-01-01"; valid_until = "2099-12-31";
    identity = "urn:sekisho:recip:$RECIP3"; networks = [ "$RECIP3_ADDR" ];
    delivery = "push"; endpoint = "https://$RECIP3_ADDR:$RECIP3_PORT/incoming/";
    endpoint_ca = "$p/univ-c-ca/ca.crt"; endpoint_name = "$RECIP3_NAME"; }
);
operators = (
  { id = "op1"; name = "$BED_OP1_NAME"; scope = "$BED_OP_SCOPE";
    public_key = "$p/operators/op1.pub";
    valid_from = "2020-01-01"; valid_until = "2099-12-31"; },
  { id = "op2"; name = "$BED_OP2_NAME"; scope = "$BED_OP_SCOPE";
    public_key = "$p/operators/op2.pub";
    valid_from = "2020-01-01"; valid_until = "2099-12-31"; }
);
CONF
	local r limits
	for r in receiver vault sender; do
		case $r in
		vault) limits="poll_interval = 1;" ;;
		receiver) limits="max_connections = 128; disk_reserve = 0L;" ;;
		sender) limits="max_connections = 128; disk_reserve = 0L; push_retry = 1;" ;;
		esac
		cat > "$e/$r.conf" <<CONF
role = "$r";
site = "$e/site.conf";
data_dir = "$BED_DIR/data/$r";
master_key = "$BED_DIR/data/$r/master.key";
certificate = "$p/internal-ca/issued/$r.crt";
key = "$p/internal-ca/issued/$r.key";
limits: { $limits };
CONF
		[ "$r" != vault ] || cat >> "$e/$r.conf" <<CONF
envelope: { certificate = "$p/internal-ca/issued/vault-envelope.crt";
            key = "$p/internal-ca/issued/vault-envelope.key"; };
signing: { certificate = "$p/internal-ca/issued/vault-signing.crt";
           key = "$p/internal-ca/issued/vault-signing.key"; };
CONF
	done
}

bed_firewall() {
	local r n
	mkdir -p "$BED_DIR/fw"
	for r in receiver:$NS_RECV vault:$NS_VAULT sender:$NS_SEND; do
		n=${r#*:}; r=${r%:*}
		bed_ns "$n" "$BED_BIN/sekisho-firewall" -c "$BED_DIR/etc/site.conf" \
			--role "$r" --audit "$BED_DIR/fw/$r.log" apply >/dev/null ||
			return 1
	done
}

bed_ns_of() {
	case $1 in
	receiver) echo "$NS_RECV" ;; vault) echo "$NS_VAULT" ;;
	sender) echo "$NS_SEND" ;;
	esac
}

# bed_start ROLE: the daemon, started as root in its namespace (it drops
# to its user); returns once it serves.
bed_start() {
	local r=$1 log=$BED_DIR/logs/$1.log ready before pid i
	case $r in vault) ready='polling the receiver' ;; *) ready='listening on' ;; esac
	before=$(grep -c "$ready" "$log" 2>/dev/null)
	nohup ip netns exec "$(bed_ns_of "$r")" "$BED_BIN/sekisho-$r" \
		-c "$BED_DIR/etc/$r.conf" run >>"$log" 2>&1 </dev/null &
	pid=$!
	disown "$pid"	# its end is bed_stop's business, not the shell's
	echo "$pid" > "$BED_DIR/pids/$r"
	for i in $(seq 1 200); do
		[ "$(grep -c "$ready" "$log" 2>/dev/null)" -gt "${before:-0}" ] &&
			return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	bed_log "sekisho-$r did not start:"
	tail -5 "$log" >&2
	return 1
}

# bed_pid ROLE: the daemon's pid, if it is still our sekisho process.
bed_pid() {
	local pid
	pid=$(cat "$BED_DIR/pids/$1" 2>/dev/null) || return 1
	grep -qa "sekisho-$1" "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

bed_stop() {	# bed_stop ROLE [SIGNAL]
	local pid i
	pid=$(bed_pid "$1") || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
}

# bed_endpoint: univ-c's endpoint, Debian's nginx as a WebDAV PUT server in
# the recipients' namespace, asking for a client certificate of the
# internal CA (the sender's); what it receives lands in $BED_DIR/push/.
bed_endpoint() {
	local d=$BED_DIR/nginx p=$BED_DIR/pki i
	mkdir -p "$d/tmp" "$BED_DIR/push/incoming" || return 1
	cat > "$d/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $BED_DIR/logs/endpoint.log;
events { worker_connections 64; }
http {
  log_format push '\$request_method \$uri \$status \$http_content_digest';
  access_log $BED_DIR/logs/endpoint-access.log push;
  client_body_temp_path $d/tmp;
  server {
    listen $RECIP3_ADDR:$RECIP3_PORT ssl;$( [ "${BED_ALL_PUSH:-0}" = 1 ] &&
	printf '\n    listen %s:%s ssl;\n    listen %s:%s ssl;' \
		"$RECIP1_ADDR" "$RECIP3_PORT" "$RECIP2_ADDR" "$RECIP3_PORT")
    ssl_certificate $p/univ-c-ca/issued/endpoint.crt;
    ssl_certificate_key $p/univ-c-ca/issued/endpoint.key;
    ssl_protocols TLSv1.3;
    ssl_client_certificate $p/internal-ca/ca.crt;
    ssl_verify_client on;
    client_max_body_size 1g;
    location /incoming/ {
      root $BED_DIR/push;
      dav_methods PUT;
      create_full_put_path on;
    }
  }
}
CONF
	nohup ip netns exec "$NS_RECIP" nginx -c "$d/nginx.conf" \
		>>"$BED_DIR/logs/endpoint.log" 2>&1 </dev/null &
	echo $! > "$BED_DIR/pids/endpoint"
	disown $!
	for i in $(seq 1 50); do
		bed_ns "$NS_RECIP" bash -c "exec 3<>/dev/tcp/$RECIP3_ADDR/$RECIP3_PORT" \
			2>/dev/null && return 0
		sleep 0.1
	done
	bed_log "univ-c's endpoint (nginx) did not start"
	return 1
}

bed_up() {
	[ "$(id -u)" = 0 ] || { bed_log "the test bed needs root"; return 1; }
	if [ -e "$BED_DIR" ] || ip netns list | grep -q "^$NS_RECV\b"; then
		bed_log "a bed is up already ($BED_DIR, $NS_RECV): take it down first"
		return 1
	fi
	mkdir -p "$BED_DIR" && chmod 711 "$BED_DIR" &&
	mkdir -p "$BED_DIR/logs" "$BED_DIR/pids" "$BED_DIR/data" &&
	: > "$BED_DIR/namespaces" &&
	bed_network && bed_pki >/dev/null && bed_site &&
	service_users_add "$BED_DIR/users" &&
	bed_firewall || return 1
	local r
	for r in receiver vault sender; do
		"$BED_BIN/sekisho-$r" -c "$BED_DIR/etc/$r.conf" init >/dev/null ||
			return 1
	done
	bed_endpoint && bed_start sender && bed_start receiver && bed_start vault
}

# Removes every process, namespace, user and file bed_up made; safe to run
# twice, and after a half-made bed.
bed_down() {
	local r n
	[ -d "$BED_DIR" ] || return 0
	for r in vault receiver sender; do
		bed_stop "$r"
	done
	# The endpoint's nginx, by its own id (TERM: the master ends its
	# worker).
	if [ -f "$BED_DIR/pids/endpoint" ]; then
		n=$(cat "$BED_DIR/pids/endpoint")
		kill -TERM "$n" 2>/dev/null
		for r in $(seq 1 30); do
			kill -0 "$n" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$n" 2>/dev/null
	fi
	if [ -f "$BED_DIR/namespaces" ]; then
		while read -r n; do
			[ -n "$n" ] && ip netns del "$n" 2>/dev/null
		done < "$BED_DIR/namespaces"
	fi
	service_users_remove "$BED_DIR/users"
	rm -rf "$BED_DIR"
}

# bed_wait_delivered RELEASE [RECIPIENT]: waits (up to 30 s) for the
# sender's release.delivered entry of a push delivery.
bed_wait_delivered() {
	local i
	for i in $(seq 1 150); do
		grep -q "\"event\":\"release.delivered\",.*\"actor\":\"recip:${2:-[^\"]*}\",.*\"object\":\"$1\"" \
			"$BED_DIR/data/sender/audit.log" && return 0
		sleep 0.2
	done
	bed_log "release $1 never reached ${2:-its push recipients}"
	return 1
}

# bed_pushed_copy FILE: the file the push endpoints received that holds
# exactly FILE's bytes (none: fails).
bed_pushed_copy() {
	local f
	# A folder per release: the release, and its package beside it.
	for f in "$BED_DIR"/push/incoming/*/*; do
		[ -f "$f" ] && cmp -s "$f" "$1" && { echo "$f"; return 0; }
	done
	return 1
}

# ---- acting as each party ----

# bed_upload MUNI FILE DATASET [CURL-ARGS...]: curl from the
# municipality's own address; prints the HTTP status, the receipt in
# $BED_DIR/receipt.
bed_upload() {
	local m=$1 f=$2 ds=$3 addr
	shift 3
	case $m in $MUNI1) addr=$MUNI1_ADDR ;; $MUNI2) addr=$MUNI2_ADDR ;; esac
	bed_ns "$NS_MUNI" curl -sS --interface "$addr" \
		--cacert "$BED_DIR/pki/internal-ca/ca.crt" \
		--cert "$BED_DIR/pki/muni-ca/issued/$m.crt" \
		--key "$BED_DIR/pki/muni-ca/issued/$m.key" \
		-H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary "$f" | base64):" \
		-o "$BED_DIR/receipt" -w '%{http_code}' -T "$f" "$@" \
		"$RECEIVER_URL/v1/uploads/$ds/$(basename "$f")"
}

bed_receipt_id() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' \
		"$BED_DIR/receipt"
}

# bed_recip RECIPIENT CURL-ARGS...: curl as a recipient, from its address.
bed_recip() {
	local r=$1 addr; shift
	case $r in $RECIP1) addr=$RECIP1_ADDR ;; $RECIP2) addr=$RECIP2_ADDR ;; esac
	bed_ns "$NS_RECIP" curl -sS --interface "$addr" \
		--cacert "$BED_DIR/pki/internal-ca/ca.crt" \
		--cert "$BED_DIR/pki/recip-ca/issued/$r.crt" \
		--key "$BED_DIR/pki/recip-ca/issued/$r.key" "$@"
}

# bed_console ARGS...: sekisho-vault at the vault's console.
bed_console() {
	bed_ns "$NS_VAULT" "$BED_BIN/sekisho-vault" -c "$BED_DIR/etc/vault.conf" "$@"
}

# bed_release_id JOB: the id the release of JOB has at the sender (fresh and
# random: the vault alone keeps the mapping, R07).
bed_release_id() {
	bed_console release show "$1" | awk '/^release id:/ {print $3}'
}

bed_approve() {	# bed_approve ID OPERATOR
	bed_console release approve "$1" --yes --operator "$2" \
		--key "$BED_DIR/pki/operators/$2.key"
}

bed_state() {
	bed_console release list 2>/dev/null |
		awk -v id="${1:0:16}" '$1 == id {print $4}'
}

bed_wait_state() {	# bed_wait_state ID STATE [SECONDS]
	local i
	for i in $(seq 1 $((${3:-60} * 10))); do
		[ "$(bed_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	bed_log "job $1 is $(bed_state "$1"), not $2"
	return 1
}

# bed_env FILE: shell variables for every party, for `make demo-up`.
bed_env() {
	local p=$BED_DIR/pki
	cat > "$1" <<ENV
# Sekisho test bed: source this file (. $1) to act as each party.
BED_DIR=$BED_DIR
BIN=$BED_BIN
NS_MUNI=$NS_MUNI
NS_RECV=$NS_RECV
NS_VAULT=$NS_VAULT
NS_SEND=$NS_SEND
NS_RECIP=$NS_RECIP
RECEIVER_URL=$RECEIVER_URL
SENDER_URL=$SENDER_URL
CA=$p/internal-ca/ca.crt
MUNI1=$MUNI1
MUNI1_ADDR=$MUNI1_ADDR
MUNI1_CERT=$p/muni-ca/issued/$MUNI1.crt
MUNI1_KEY=$p/muni-ca/issued/$MUNI1.key
MUNI2=$MUNI2
MUNI2_ADDR=$MUNI2_ADDR
MUNI2_CERT=$p/muni-ca/issued/$MUNI2.crt
MUNI2_KEY=$p/muni-ca/issued/$MUNI2.key
VAULT_CERT=$p/internal-ca/issued/vault.crt
RECIP1=$RECIP1
RECIP1_ADDR=$RECIP1_ADDR
RECIP1_CERT=$p/recip-ca/issued/$RECIP1.crt
RECIP1_KEY=$p/recip-ca/issued/$RECIP1.key
RECIP2=$RECIP2
RECIP2_ADDR=$RECIP2_ADDR
RECIP2_CERT=$p/recip-ca/issued/$RECIP2.crt
RECIP2_KEY=$p/recip-ca/issued/$RECIP2.key
RECIP3=$RECIP3
RECIP3_ADDR=$RECIP3_ADDR
PUSHED=$BED_DIR/push/incoming
OP1_KEY=$p/operators/op1.key
OP2_KEY=$p/operators/op2.key
SITE_CONF=$BED_DIR/etc/site.conf
RECEIVER_CONF=$BED_DIR/etc/receiver.conf
VAULT_CONF=$BED_DIR/etc/vault.conf
SENDER_CONF=$BED_DIR/etc/sender.conf
RECEIVER_DATA=$BED_DIR/data/receiver
VAULT_DATA=$BED_DIR/data/vault
SENDER_DATA=$BED_DIR/data/sender
LOGS=$BED_DIR/logs
ENV
}
