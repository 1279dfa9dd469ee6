#!/usr/bin/env bash
# test_firewall.sh: each role's generated ruleset applied in its own network
# namespace, and real sockets trying the allowed and the forbidden paths.
#
#   muni 192.0.2.10 ── 192.0.2.1 recv 198.51.100.1 ── 198.51.100.2 vault
#   (and 2001:db8:1::10 ── 2001:db8:1::1)               198.51.100.5 ── 198.51.100.6 send
#                                                  recip 203.0.113.10 ── 203.0.113.1 send
#
# Only connected routes exist: no namespace has a route to the outside. The
# namespaces, links and processes are this test's own and removed at exit.
. "$(dirname "$0")/lib.sh"

FW="$BIN/sekisho-firewall"
PROBE="$TOP/tests/integration/netprobe.py"
P="skfw$$"		# namespace prefix, unique to this run
NS=(muni recv vault send recip solo mgmt)

ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

teardown() {
	local n
	for n in "${NS[@]}"; do ip netns del "$P-$n" 2>/dev/null; done
}
trap 'teardown; cleanup' EXIT

link() {	# link NS1 ADDR1 NS2 ADDR2 (veth pair named after the ends)
	ip link add "$1$3" netns "$P-$1" type veth peer name "$3$1" netns "$P-$3"
	ns "$1" ip addr add "$2" dev "$1$3"
	ns "$3" ip addr add "$4" dev "$3$1"
	ns "$1" ip link set "$1$3" up
	ns "$3" ip link set "$3$1" up
}

setup_bed() {
	local n
	for n in "${NS[@]}"; do
		ip netns add "$P-$n" || return 1
		ns "$n" ip link set lo up
	done
	link muni 192.0.2.10/24 recv 192.0.2.1/24
	ns muni ip addr add 2001:db8:1::10/64 dev munirecv nodad
	ns recv ip addr add 2001:db8:1::1/64 dev recvmuni nodad
	link recv 198.51.100.1/30 vault 198.51.100.2/30
	link vault 198.51.100.5/30 send 198.51.100.6/30
	link recip 203.0.113.10/24 send 203.0.113.1/24
	cat > "$T/site.conf" <<CONF
site: { name = "Firewall test site"; };
ca: { municipalities = "m.crt"; recipients = "r.crt"; internal = "i.crt"; };
hosts: {
  receiver: { identity = "urn:sekisho:host:receiver";
    external: { address = "192.0.2.1"; port = 8443; interface = "recvmuni"; };
    internal: { address = "198.51.100.1"; port = 9443; interface = "recvvault"; }; };
  vault: { identity = "urn:sekisho:host:vault"; address = "198.51.100.2";
    sender_address = "198.51.100.5"; };
  sender: { identity = "urn:sekisho:host:sender";
    external: { address = "203.0.113.1"; port = 8444; interface = "sendrecip"; };
    internal: { address = "198.51.100.6"; port = 9444; interface = "sendvault"; }; };
};
datasets = ( { id = "d"; } );
municipalities = ( { id = "131156"; identity = "urn:sekisho:muni:131156";
  networks = [ "192.0.2.0/24", "2001:db8:1::/64" ]; datasets = [ "d" ]; } );
recipients = ( { id = "univ-a"; identity = "urn:sekisho:recip:univ-a";
  networks = [ "203.0.113.0/24" ]; } );
CONF
}

# bg NS ARGS...: a probe in the background, its own pid remembered (not a
# subshell's), so the cleanup stops it.
bg() {
	local n=$1; shift
	ip netns exec "$P-$n" python3 "$PROBE" "$@" &
	PIDS+=($!)
}

# Servers everywhere: each host listens on TCP 80 and UDP 53, and the
# receiver and sender on their service ports.
start_servers() {
	local spec
	for spec in "muni 192.0.2.10" "recv 192.0.2.1" "recv 198.51.100.1" \
	    "vault 198.51.100.2" "vault 198.51.100.5" "send 198.51.100.6" \
	    "send 203.0.113.1" "recip 203.0.113.10"; do
		set -- $spec
		bg "$1" serve-tcp "$2" 80
		bg "$1" serve-udp "$2" 53 "$T/udp-$2"
	done
	bg recv serve-tcp 192.0.2.1 8443 "$T/stream-bytes"
	bg recv serve-tcp 198.51.100.1 9443
	bg send serve-tcp 203.0.113.1 8444
	bg send serve-tcp 198.51.100.6 9444
	sleep 1
}

apply_all() {
	ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null &&
	ns vault "$FW" -c "$T/site.conf" --role vault apply >/dev/null &&
	ns send "$FW" -c "$T/site.conf" --role sender apply >/dev/null
}

can_tcp() { ns "$1" python3 "$PROBE" connect "$2" "$3"; }
cannot_tcp() { ! can_tcp "$@"; }
cannot_ping() { ! ns "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; }
cannot_udp() {	# cannot_udp FROM ADDR: a datagram never arrives
	ns "$1" python3 "$PROBE" send-udp "$2" 53 2>/dev/null
	sleep 0.3
	[ ! -s "$T/udp-$2" ]
}

test_r18_apply_and_verify_each_role() {
	apply_all &&
	ns recv "$FW" -c "$T/site.conf" --role receiver verify >/dev/null &&
	ns vault "$FW" -c "$T/site.conf" --role vault verify >/dev/null &&
	ns send "$FW" -c "$T/site.conf" --role sender verify >/dev/null
}

test_r18_live_ruleset_matches_render() {
	local role n
	for role in receiver:recv vault:vault sender:send; do
		n=${role#*:}; role=${role%:*}
		diff <("$FW" -c "$T/site.conf" --role "$role" render |
		    grep -v '^#') <(ns "$n" nft -s list table inet sekisho) || return 1
	done
}

test_r01_allowed_paths_work() {
	can_tcp muni 192.0.2.1 8443 && can_tcp vault 198.51.100.1 9443 &&
	can_tcp vault 198.51.100.6 9444 && can_tcp recip 203.0.113.1 8444
}

test_r01_other_ports_and_peers_refused() {
	cannot_tcp muni 192.0.2.1 80 && cannot_tcp muni 192.0.2.1 9443 &&
	cannot_tcp recip 203.0.113.1 80 && cannot_tcp vault 198.51.100.1 8443
}

# R02: as root inside the receiver, nothing gets out (TCP, UDP, ICMP).
test_r02_compromised_receiver_cannot_send() {
	cannot_tcp recv 192.0.2.10 80 && cannot_tcp recv 198.51.100.2 80 &&
	cannot_udp recv 192.0.2.10 && cannot_udp recv 198.51.100.2 &&
	cannot_ping recv 192.0.2.10 && cannot_ping recv 198.51.100.2 &&
	cannot_tcp recv 203.0.113.1 8444
}

# R05: nothing connects to the vault; it reaches only the two ports.
test_r05_nothing_connects_to_vault() {
	cannot_tcp recv 198.51.100.2 80 && cannot_tcp send 198.51.100.5 80 &&
	cannot_udp send 198.51.100.5 && cannot_ping recv 198.51.100.2
}

test_r06_compromised_vault_reaches_only_two_ports() {
	cannot_tcp vault 198.51.100.1 80 && cannot_tcp vault 198.51.100.6 80 &&
	cannot_udp vault 198.51.100.1 && cannot_ping vault 198.51.100.6 &&
	can_tcp vault 198.51.100.1 9443
}

test_r03_compromised_sender_cannot_send() {
	cannot_tcp send 203.0.113.10 80 && cannot_tcp send 198.51.100.5 80 &&
	cannot_udp send 203.0.113.10 && cannot_ping send 203.0.113.10
}

test_ipv6_refused_without_an_ipv6_listener() {
	# The site's listener is IPv4: no IPv6 rule exists, so IPv6 is dropped.
	cannot_tcp muni 2001:db8:1::1 8443 && cannot_ping muni 2001:db8:1::1
}

test_r54_verify_detects_hand_rule_and_deleted_table() {
	ns recv nft add rule inet sekisho output tcp dport 80 accept &&
	! ns recv "$FW" -c "$T/site.conf" --role receiver --audit "$T/fwv.log" \
		verify > "$T/v1" 2> "$T/v1.err" &&
	grep -q 'extra rule in chain output' "$T/v1" &&
	# The timer's run raises an alert: an error line and an audit entry.
	grep -q 'error: .*the live receiver ruleset is not the generated one (R54): extra rule in chain output' "$T/v1.err" &&
	grep -q '"event":"firewall.drift","actor":"system".*role=receiver' "$T/fwv.log" &&
	ns recv nft delete table inet sekisho &&
	! ns recv "$FW" -c "$T/site.conf" --role receiver verify > "$T/v2" &&
	grep -q 'missing table inet sekisho' "$T/v2" &&
	ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null &&
	# A match is not worth an entry (the timer runs every five minutes).
	ns recv "$FW" -c "$T/site.conf" --role receiver --audit "$T/fwv.log" \
		verify >/dev/null &&
	[ "$(grep -c . "$T/fwv.log")" = 1 ] &&
	"$BIN/sekisho-receiver" audit verify "$T/fwv.log" >/dev/null
}

test_r54_verify_detects_hand_added_set_element() {
	ns recv nft add element inet sekisho municipal_v4 '{ 198.18.0.0/15 }' &&
	! ns recv "$FW" -c "$T/site.conf" --role receiver verify > "$T/v3" &&
	grep -q 'extra element in set municipal_v4: 198.18.0.0 (interval start)' \
		"$T/v3" &&
	ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null &&
	ns recv "$FW" -c "$T/site.conf" --role receiver verify >/dev/null
}

# Every municipality in Japan, three networks each: one set, one batch,
# and nft lists it (stateless) exactly as render prints it.
test_r18_every_municipality_in_japan_in_one_set() {
	local start end
	python3 "$TOP/tests/data/gen_site.py" 1741 3 "$T/big.conf" || return 1
	start=$(date +%s%N)
	ns solo "$FW" -c "$T/big.conf" --role receiver apply > "$T/big.out" ||
		return 1
	end=$(date +%s%N)
	echo "apply for 1,741 municipalities: $(( (end - start) / 1000000 )) ms;" \
		"$(cat "$T/big.out")"
	grep -q ': 22 rules, 5223 networks in 1 sets,' "$T/big.out" &&
	ns solo "$FW" -c "$T/big.conf" --role receiver verify >/dev/null &&
	diff <("$FW" -c "$T/big.conf" --role receiver render | grep -v '^#') \
		<(ns solo nft -s list table inet sekisho) >/dev/null &&
	ns solo nft delete table inet sekisho
}

# A batch the kernel refuses (here: sent by root without CAP_NET_ADMIN)
# changes nothing, and says why.
test_r18_refused_batch_leaves_previous_ruleset() {
	! ns recv setpriv --bounding-set=-net_admin \
		"$FW" -c "$T/site.conf" --role receiver --reason "test" \
		--reporter admin lockdown 2> "$T/refused" &&
	grep -q 'the kernel refused the batch: Operation not permitted; nothing was changed' \
		"$T/refused" &&
	ns recv "$FW" -c "$T/site.conf" --role receiver verify >/dev/null &&
	can_tcp muni 192.0.2.1 8443
}

test_r24_lockdown_stops_established_transfer_and_unlock_resumes() {
	local before after
	bg muni stream 192.0.2.1 8443 "$T/sent" 6
	local sp=${PIDS[-1]}
	sleep 1.5
	ns recv "$FW" -c "$T/site.conf" --role receiver --audit "$T/fw.log" \
		--reason "不審な外向き通信 / outbound attempts" --reporter ops-1 \
		--discovered 2026-01-05T09:30 lockdown >/dev/null || return 1
	sleep 0.5
	before=$(cat "$T/stream-bytes")
	sleep 1.5
	after=$(cat "$T/stream-bytes")
	wait "$sp"
	[ "$before" = "$after" ] || { echo "data still flowed: $before -> $after"; return 1; }
	cannot_tcp muni 192.0.2.1 8443 || return 1
	ns recv "$FW" -c "$T/site.conf" --role receiver --audit "$T/fw.log" \
		unlock >/dev/null &&
	can_tcp muni 192.0.2.1 8443 &&
	grep -q firewall.lockdown "$T/fw.log" && grep -q firewall.unlock "$T/fw.log" &&
	"$BIN/sekisho-receiver" audit verify "$T/fw.log" >/dev/null
}

# R26: the lockdown's record says why, who reported it and when it was
# found; a lockdown without them is refused before anything changes.
test_r26_lockdown_records_reason_reporter_and_discovery() {
	grep -q '"event":"firewall.lockdown".*discovered=2026-01-05T09:30+09:00 reporter=ops-1 .*reason=不審な外向き通信 / outbound attempts' \
		"$T/fw.log" || return 1
	! ns recv "$FW" -c "$T/site.conf" --role receiver lockdown \
		2> "$T/no-reason" && grep -q 'needs --reason TEXT and --reporter ID' \
		"$T/no-reason" &&
	! ns recv "$FW" -c "$T/site.conf" --role receiver --reason x \
		--reporter "山田 太郎" lockdown 2>/dev/null &&
	! ns recv "$FW" -c "$T/site.conf" --role receiver --reason x \
		--reporter a apply 2>/dev/null &&
	# Nothing changed: the receiver's ruleset is still the generated one.
	ns recv "$FW" -c "$T/site.conf" --role receiver verify >/dev/null &&
	can_tcp muni 192.0.2.1 8443
}

# The receiver given an NTP server (issue 21: DMZ clocks): UDP 123 to that
# address leaves, nothing else does (another port, another address), and
# without the setting not even that.
test_r02_receiver_reaches_only_its_named_ntp_server() {
	sed 's|identity = "urn:sekisho:host:receiver";|identity = "urn:sekisho:host:receiver"; ntp = [ "192.0.2.10" ];|' \
		"$T/site.conf" > "$T/ntp.conf" && grep -q 'ntp = ' "$T/ntp.conf" &&
	ns recv "$FW" -c "$T/ntp.conf" --role receiver apply >/dev/null &&
	ns recv "$FW" -c "$T/ntp.conf" --role receiver verify >/dev/null || return 1
	bg muni serve-udp 192.0.2.10 123 "$T/ntp-123"
	bg muni serve-udp 192.0.2.10 124 "$T/ntp-124"
	bg vault serve-udp 198.51.100.2 123 "$T/ntp-vault"
	sleep 0.5
	ns recv python3 "$PROBE" send-udp 192.0.2.10 123
	ns recv python3 "$PROBE" send-udp 192.0.2.10 124 2>/dev/null
	ns recv python3 "$PROBE" send-udp 198.51.100.2 123 2>/dev/null
	sleep 0.3
	[ -s "$T/ntp-123" ] && [ ! -s "$T/ntp-124" ] && [ ! -s "$T/ntp-vault" ] ||
		return 1
	ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null &&
	: > "$T/ntp-123" &&
	ns recv python3 "$PROBE" send-udp 192.0.2.10 123 2>/dev/null
	sleep 0.3
	[ ! -s "$T/ntp-123" ]
}

test_r18_reapply_under_load_never_opens_forbidden_path() {
	local i prober tries opened
	# While the ruleset is replaced 1,000 times, the receiver keeps trying
	# to connect out, a new SYN every 2 ms: not one may get through.
	rm -f "$T/stop"
	ns recv python3 "$PROBE" connect-flood 192.0.2.10 80 "$T/stop" \
		> "$T/flood" & prober=$!
	for i in $(seq 1 1000); do
		ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null ||
			{ touch "$T/stop"; wait "$prober"; return 1; }
	done
	touch "$T/stop"
	wait "$prober" || return 1
	read -r tries opened < "$T/flood"
	echo "re-applied 1000 times; $tries forbidden connection attempts meanwhile, $opened opened"
	[ "$tries" -gt 1000 ] && [ "$opened" = 0 ]
}

# Issue 21: SSH only on the management interface, even from an address of
# the management networks that arrives on another; ping from there when the
# site asks; the vault's ways out bound to their links; the rules and the
# set elements name whom they are for, as nft lists them.
test_r18_management_interface_ping_and_vault_links() {
	link mgmt 10.250.0.2/28 recv 10.250.0.1/28
	# 192.0.2.0/24, the city's network, is in the management networks
	# too: only the interface keeps it off SSH.
	sed -e 's|name = "Firewall test site"; };|&\nmanagement: { networks = [ "10.250.0.0/28", "192.0.2.0/24" ]; interface = "recvmgmt"; icmp_echo = true; };|' \
		-e 's|id = "131156";|id = "131156"; name = "Chuo City";|' \
		-e 's|sender_address = "198.51.100.5";|sender_address = "198.51.100.5"; interface = "vaultrecv"; sender_interface = "vaultsend";|' \
		"$T/site.conf" > "$T/mgmt.conf" && grep -q icmp_echo "$T/mgmt.conf" &&
		grep -q vaultsend "$T/mgmt.conf" || return 1
	ns recv "$FW" -c "$T/mgmt.conf" --role receiver apply >/dev/null &&
	ns recv "$FW" -c "$T/mgmt.conf" --role receiver verify >/dev/null &&
	ns vault "$FW" -c "$T/mgmt.conf" --role vault apply >/dev/null &&
	ns vault "$FW" -c "$T/mgmt.conf" --role vault verify >/dev/null || return 1
	diff <("$FW" -c "$T/mgmt.conf" --role receiver render | grep -v '^#') \
		<(ns recv nft -s list table inet sekisho) || return 1
	diff <("$FW" -c "$T/mgmt.conf" --role vault render | grep -v '^#') \
		<(ns vault nft -s list table inet sekisho) || return 1
	ns recv nft -s list table inet sekisho |
		grep -q '192.0.2.0/24 comment "131156 Chuo City"' &&
	ns vault nft -s list table inet sekisho |
		grep -q 'oifname "vaultsend" ip saddr 198.51.100.5 .* comment "to the sender"' ||
		return 1
	bg recv serve-tcp 10.250.0.1 22
	bg recv serve-tcp 192.0.2.1 22
	sleep 0.5
	can_tcp mgmt 10.250.0.1 22 && cannot_tcp muni 192.0.2.1 22 || return 1
	ns mgmt ping -c 1 -W 2 10.250.0.1 >/dev/null && cannot_ping muni 192.0.2.1 ||
		return 1
	# the vault still reaches both listeners, each by its own link
	can_tcp vault 198.51.100.1 9443 && can_tcp vault 198.51.100.6 9444 || return 1
	# without icmp_echo there is no ping
	ns recv "$FW" -c "$T/site.conf" --role receiver apply >/dev/null &&
	ns vault "$FW" -c "$T/site.conf" --role vault apply >/dev/null &&
	cannot_ping mgmt 10.250.0.1
}

# The receiver refuses to serve until its host's firewall verifies.
test_r54_receiver_refuses_to_start_without_firewall() {
	local port code
	make_pki >/dev/null
	port=$(free_port)
	cp "$T/site.conf" "$T/fwsite.conf"
	write_site "$port"
	write_local
	sed -i 's/require_firewall = false;/require_firewall = true;/' \
		"$T/receiver.conf"
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null
	ns solo ip link set lo up
	ns solo timeout 20 "$BIN/sekisho-receiver" -c "$T/receiver.conf" run \
		> "$T/solo.log" 2>&1 && return 1	# it must refuse
	grep -q 'missing table inet sekisho' "$T/solo.log" &&
	grep -q 'refusing to serve' "$T/solo.log" || return 1
	ns solo "$FW" -c "$T/site.conf" --role receiver apply >/dev/null || return 1
	ip netns exec "$P-solo" "$BIN/sekisho-receiver" -c "$T/receiver.conf" \
		run >> "$T/solo.log" 2>&1 &
	PIDS+=($!)
	sleep 2
	printf 'a\n' > "$T/s.csv"
	code=$(ns solo curl -sS -o /dev/null -w '%{http_code}' \
		--cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/muni-ca/issued/131156.crt" \
		--key "$T/pki/muni-ca/issued/131156.key" -T "$T/s.csv" \
		"https://127.0.0.1:$port/v1/uploads/health-checkup/s.csv")
	cp "$T/fwsite.conf" "$T/site.conf"
	[ "$code" = 201 ] && grep -q 'firewall verified' "$T/solo.log"
}

setup_bed || { echo "cannot create namespaces"; exit 1; }
start_servers
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
