#!/usr/bin/env bash
# test_bed.sh: the integration suite on the three-host test bed
# (tests/bed/bed.sh): five network namespaces, each server with its
# generated firewall, the three hardened daemons each as its own user,
# real curl and openssl as the municipalities, recipients and operators.
#
# The full flow checked independently of the engine; the reachability
# matrix of every ordered pair of hosts (TCP, UDP, ICMP) against the allowed
# set; daemons that refuse to start without their firewall; each daemon
# restarted and each link cut in the middle of a transfer; 1,000 uploads
# from two municipalities, each ending exactly once; the time for a 10 MB
# upload to reach the sender. The bed is this test's own (its own namespace
# names and folder) and is removed at exit, pass or fail.
. "$(dirname "$0")/lib.sh"

BED_NAME=skb$$
BED_DIR=$T/bed
BED_BIN=${BED_BIN:-$TOP/build/bin}
BED_UPLOADS=${BED_UPLOADS:-300}	# a multiple of 10; `make soak` runs 1,000
. "$TOP/tests/bed/bed.sh"
trap 'bed_down; cleanup' EXIT

GEN=$TOP/tests/data/gen_checkup.py
CHECK=$TOP/tests/integration/check_release.py
REACH=$TOP/tests/integration/reach.py
W=$T/work
QI="生年月日,性別,郵便番号"
DROPPED="宛名番号,個人番号,氏名,住所"

sha() { sha256sum < "$1" | cut -c1-64; }

# report ID FILE: the job's release report, as the console shows it.
report() {
	bed_console release show "$1" | sed -n '/^release report:/,$p' |
		tail -n +2 > "$2"
}

# approve_all ID: two operators sign; waits until published.
publish() {
	bed_approve "$1" op1 >/dev/null && bed_approve "$1" op2 >/dev/null &&
	bed_wait_state "$1" published 60
}

# kill_on ROLE PATTERN [BEFORE]: kill -9 the daemon the moment its log
# shows PATTERN more than BEFORE times (default: as often as now).
kill_on() {
	local log=$BED_DIR/logs/$1.log before i
	before=${3:-$(grep -c "$2" "$log")}
	for i in $(seq 1 3000); do
		if [ "$(grep -c "$2" "$log")" -gt "$before" ]; then
			bed_stop "$1" KILL
			return 0
		fi
		sleep 0.01
	done
	echo "never saw '$2' in $log" >&2
	return 1
}

jobs_of() { ls "$BED_DIR/data/vault/jobs" | grep -c "^$1\$"; }

test_r41_full_flow_checked_independently() {
	local p=$BED_DIR/pki id2
	python3 "$GEN" 20000 31 "$W/k1.csv" &&
	[ "$(bed_upload "$MUNI1" "$W/k1.csv" health-checkup)" = 201 ] &&
	ID1=$(bed_receipt_id) && bed_wait_state "$ID1" awaiting_approval &&
	publish "$ID1" &&
	bed_recip "$RECIP1" -o "$W/r1.csv" "$SENDER_URL/v1/releases/$(bed_release_id "$ID1")" &&
	report "$ID1" "$W/r1.json" &&
	python3 "$CHECK" "$W/r1.csv" "$W/r1.json" --k 5 --l 2 --sensitive 診断名 \
		--qi "$QI" --absent "$DROPPED" || return 1
	# The second municipality signs and seals; the second recipient gets
	# a release sealed to its own certificate.
	python3 "$GEN" 12000 32 "$W/k2.csv" &&
	openssl cms -sign -binary -nodetach -outform DER -in "$W/k2.csv" \
		-signer "$p/muni-ca/issued/$MUNI2.crt" \
		-inkey "$p/muni-ca/issued/$MUNI2.key" -out "$W/k2.sig" &&
	openssl cms -encrypt -aes-256-gcm -binary -inform DER -outform DER \
		-recip "$p/internal-ca/issued/vault-envelope.crt" -in "$W/k2.sig" \
		-out "$W/k2.cms" &&
	[ "$(bed_upload "$MUNI2" "$W/k2.cms" health-checkup-sealed)" = 201 ] &&
	id2=$(bed_receipt_id) && bed_wait_state "$id2" awaiting_approval &&
	publish "$id2" &&
	bed_recip "$RECIP2" -o "$W/r2.cms" "$SENDER_URL/v1/releases/$(bed_release_id "$id2")" &&
	openssl cms -decrypt -binary -inform DER -in "$W/r2.cms" \
		-recip "$p/recip-ca/issued/$RECIP2.crt" \
		-inkey "$p/recip-ca/issued/$RECIP2.key" -out "$W/r2.csv" &&
	report "$id2" "$W/r2.json" &&
	python3 "$CHECK" "$W/r2.csv" "$W/r2.json" --k 5 --l 2 --sensitive 診断名 \
		--qi "$QI" --absent "$DROPPED" &&
	# Each recipient sees only its own release.
	[ "$(bed_recip "$RECIP1" -o /dev/null -w '%{http_code}' \
		"$SENDER_URL/v1/releases/$(bed_release_id "$id2")")" = 404 ]
}

# R03, push mode: univ-c never connects to the sender; the sender PUT the
# first release to univ-c's own nginx, byte for byte what univ-a
# downloaded, with a Content-Digest that verifies, recorded as delivered.
test_r03_push_recipient_gets_the_release_at_its_endpoint() {
	local rel f
	rel=$(bed_release_id "$ID1") && bed_wait_delivered "$rel" "$RECIP3" &&
	f=$(bed_pushed_copy "$W/r1.csv") || { ls -l "$BED_DIR/push/incoming"; return 1; }
	echo "delivered: ${f#"$BED_DIR"/push/}, $(stat -c %s "$f") bytes"
	grep -q "^PUT ${f#"$BED_DIR"/push} 201 sha-256=:$(openssl dgst -sha256 -binary "$f" | base64 -w0):" \
		"$BED_DIR/logs/endpoint-access.log" &&
	# Its package beside it: what the vault signed, checked with openssl.
	(cd "$(dirname "$f")" && sha256sum -c manifest) &&
	openssl cms -verify -binary -inform DER -in "$(dirname "$f")/manifest.p7s" \
		-content "$(dirname "$f")/manifest" \
		-CAfile "$BED_DIR/pki/internal-ca/ca.crt" -out /dev/null
}

# Every ordered pair of namespaces: TCP (the service ports and others),
# UDP and ICMP, as root inside each (the view of an intruder who owns the
# host), against what the design allows: five TCP paths (the fifth the
# sender's to univ-c's push endpoint) and nothing else.
# The four ledgers (R40, R44), printed at the vault from the three hosts'
# logs after the flows above: the forms' own headers (as the council's
# forms have them), every cell but 備考 filled on every row, and the
# registers of the bed's site (bed.sh) where the forms take them.
test_r40_r44_the_four_ledgers_are_filled_from_the_three_hosts() {
	local f d=$BED_DIR/data
	for f in 7 8 9 10; do
		"$BED_BIN/sekisho-vault" -c "$BED_DIR/etc/vault.conf" ledger --form $f \
			--from "$(TZ=Asia/Tokyo date -d yesterday +%F)" \
			--to "$(TZ=Asia/Tokyo date -d tomorrow +%F)" \
			--logs "$d/receiver" "$d/vault" "$d/sender" > "$W/form$f.csv" ||
			return 1
	done
	python3 - "$W" "$ID1" "$(bed_release_id "$ID1")" "$BED_PURPOSE" \
		"$BED_OP1_NAME" "$BED_OP2_NAME" "$BED_OP_SCOPE" <<'PY'
import csv, sys
w, id1, rel1, purpose, op1, op2, scope = sys.argv[1:]
heads = {
    7: "利用者名,取扱う特定個人情報の範囲,指定年月日,解除年月日,備考",
    8: "受払簿No.,入手 年月日,入手 取扱者,特定個人情報等(ファイル名・書類名),入手目的,提出/廃棄 年月日,事由,取扱者,備考",
    9: "使用日時,受払簿No.,使用する特定個人情報等(ファイル名・書類名),使用目的,使用者,備考",
    10: "複製日時,複製元特定個人情報等(ファイル名・書類名),複製元(媒体等)/運搬元所在地,複製先(媒体等)/運搬先所在地,複製の量,複製・運搬の目的(引き渡し先),作業者,備考",
}
forms = {}
for f, head in heads.items():
    raw = open("%s/form%d.csv" % (w, f), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), f          # Excel's BOM
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert ",".join(rows[0]) == head, (f, rows[0])
    assert len(rows) > 1, "form %d has no row" % f
    for r in rows[1:]:
        empty = [rows[0][i] for i, c in enumerate(r) if not c and rows[0][i] != "備考"]
        assert not empty, ("form %d: empty %s in %s" % (f, empty, r))
    forms[f] = rows[1:]
assert sorted((r[0], r[1]) for r in forms[7]) == sorted([(op1, scope), (op2, scope)]), forms[7]
mine = [r for r in forms[8] if r[0] == id1]
assert len(mine) == 1 and mine[0][3] == "k1.csv" and mine[0][4] == purpose, mine
used = [r for r in forms[9] if r[1] == id1]
assert any(op1 in r[4] for r in used) and any(op2 in r[4] for r in used), used
# The upload to the vault, then its release (named by its 受払簿No.) to
# the sender and from the sender to the recipients.
moved = [r for r in forms[10] if r[1] == "k1.csv" or id1 in r[1] or rel1 in r[1]]
kinds = [r[3] for r in moved]
assert moved[0][1] == "k1.csv" and len(moved) >= 4, moved
assert any("クライアント証明書" in k for k in kinds), kinds   # univ-a downloaded it
assert any("送信サーバから送付" in k for k in kinds), kinds   # univ-c got it pushed
print("ledgers: form 7 %d, form 8 %d, form 9 %d, form 10 %d rows, all filled" %
      tuple(len(forms[f]) for f in (7, 8, 9, 10)))
PY
}

test_r02_r03_r05_reachability_matrix() {
	local ns addrs specs src n a p expected got
	declare -A ADDRS=(
		[$NS_MUNI]="$MUNI1_ADDR $MUNI2_ADDR" [$NS_RECV]="$RECV_EXT $RECV_INT"
		[$NS_VAULT]="$VAULT_TO_RECV $VAULT_TO_SEND"
		[$NS_SEND]="$SEND_INT $SEND_EXT"
		[$NS_RECIP]="$RECIP1_ADDR $RECIP2_ADDR $RECIP3_ADDR")
	: > "$W/udp"
	for ns in "${BED_NAMESPACES[@]}"; do
		# shellcheck disable=SC2086
		ip netns exec "$ns" python3 "$REACH" listen "$W/udp" ${ADDRS[$ns]} &
		PIDS+=($!)
	done
	sleep 0.5
	: > "$W/matrix"
	for src in "${BED_NAMESPACES[@]}"; do
		specs=()
		for n in "${BED_NAMESPACES[@]}"; do
			[ "$n" = "$src" ] && continue
			for a in ${ADDRS[$n]}; do
				for p in 22 80 443 8443 9443 8444 9444; do
					specs+=("tcp:$a:$p")
				done
				specs+=("udp:$a:53" "udp:$a:123" "icmp:$a")
			done
		done
		# And the world beyond the bed.
		specs+=("tcp:192.0.2.99:443" "tcp:8.8.8.8:53" "udp:8.8.8.8:53"
			"icmp:8.8.8.8")
		bed_ns "$src" python3 "$REACH" probe "${specs[@]}" |
			sed "s/^/$src /" >> "$W/matrix" || return 1
	done
	sleep 0.5
	got=$(awk '$3 == "open" {print $1, $2}' "$W/matrix" | sort)
	expected=$(printf '%s\n' \
		"$NS_MUNI tcp:$RECV_EXT:$RECV_PORT" \
		"$NS_RECIP tcp:$SEND_EXT:$SEND_PORT" \
		"$NS_SEND tcp:$RECIP3_ADDR:$RECIP3_PORT" \
		"$NS_VAULT tcp:$RECV_INT:$RECV_INT_PORT" \
		"$NS_VAULT tcp:$SEND_INT:$SEND_INT_PORT" | sort)
	echo "probes: $(wc -l < "$W/matrix"), open: $(echo "$got" | wc -l)," \
		"UDP datagrams that arrived: $(wc -l < "$W/udp")"
	echo "$got" | sed 's/^/  open: /'
	[ "$got" = "$expected" ] && [ ! -s "$W/udp" ] &&
	[ "$(grep -c ' closed$' "$W/matrix")" -gt 300 ]
}

# Each daemon refuses to serve when its host's table is missing, and
# serves again once the firewall is applied.
test_r18_daemons_refuse_to_start_without_their_firewall() {
	local r n role
	for r in receiver:$NS_RECV sender:$NS_SEND vault:$NS_VAULT; do
		n=${r#*:}; role=${r%:*}
		bed_stop "$role" &&
		bed_ns "$n" nft delete table inet sekisho || return 1
		if bed_ns "$n" "$BED_BIN/sekisho-$role" -c "$BED_DIR/etc/$role.conf" \
		    run >"$W/nofw-$role.log" 2>&1; then
			echo "$role started without its firewall" >&2
			return 1
		fi
		grep -q "refusing to serve" "$W/nofw-$role.log" &&
		bed_ns "$n" "$BED_BIN/sekisho-firewall" -c "$BED_DIR/etc/site.conf" \
			--role "$role" apply >/dev/null &&
		bed_start "$role" || return 1
	done
}

# The receiver killed during an upload: nothing half-stored; the retry is
# taken once. The vault killed while it fetches: it takes the upload once.
# The sender killed during a download: the recipient resumes it.
test_r50_each_daemon_restarted_in_the_middle_of_a_transfer() {
	local c id rel sz
	python3 "$GEN" 60000 33 "$W/k3.csv" || return 1
	bed_upload "$MUNI1" "$W/k3.csv" health-checkup --limit-rate 1M \
		> "$W/c3" 2>/dev/null &
	c=$!
	sleep 1.5 && bed_stop receiver KILL && wait "$c"
	[ "$(cat "$W/c3")" != 201 ] &&
	[ -z "$(ls "$BED_DIR/data/receiver/objects")" ] || return 1
	bed_start receiver &&
	[ -z "$(ls "$BED_DIR/data/receiver/tmp")" ] &&
	[ "$(bed_upload "$MUNI1" "$W/k3.csv" health-checkup)" = 201 ] &&
	id=$(bed_receipt_id) && bed_wait_state "$id" awaiting_approval &&
	[ "$(jobs_of "$id")" = 1 ] || return 1
	# The vault, while it fetches.
	python3 "$GEN" 110000 34 "$W/k4.csv" && bed_stop vault &&
	[ "$(bed_upload "$MUNI2" "$W/k4.csv" health-checkup)" = 201 ] &&
	ID4=$(bed_receipt_id) || return 1
	bed_start vault && kill_on vault "upload $ID4: fetching" 0 &&
	bed_start vault && bed_wait_state "$ID4" awaiting_approval &&
	[ "$(jobs_of "$ID4")" = 1 ] && publish "$ID4" || return 1
	# The sender, while a recipient downloads.
	rel=$(bed_recip "$RECIP1" "$SENDER_URL/v1/releases" | python3 -c \
		'import json,sys; d=json.load(sys.stdin); print([r["sha256"] for r in d["releases"] if r["id"] == sys.argv[1]][0])' "$(bed_release_id "$ID4")") ||
		return 1
	bed_recip "$RECIP1" --limit-rate 300K -o "$W/r4.csv" \
		"$SENDER_URL/v1/releases/$(bed_release_id "$ID4")" 2>/dev/null &
	c=$!
	sleep 1.5 && bed_stop sender KILL && wait "$c"
	sz=$(stat -c %s "$W/r4.csv")
	echo "download cut at $sz bytes; resuming"
	bed_start sender &&
	bed_recip "$RECIP1" -C - -o "$W/r4.csv" "$SENDER_URL/v1/releases/$(bed_release_id "$ID4")" &&
	[ "$sz" -gt 0 ] && [ "$(sha "$W/r4.csv")" = "$rel" ]
}

# A link cut (ip link set down) for two seconds in the middle of each
# transfer: the upload, the vault's fetch (slowed by a token bucket so that
# the cut lands inside it) and a download all end as if nothing happened.
test_r50_cut_links_in_the_middle_of_transfers() {
	local c code id
	python3 "$GEN" 40000 35 "$W/k5.csv" || return 1
	bed_upload "$MUNI1" "$W/k5.csv" health-checkup --limit-rate 1M \
		> "$W/c5" 2>/dev/null &
	c=$!
	sleep 1 && bed_ns "$NS_MUNI" ip link set recv0 down && sleep 2 &&
	bed_ns "$NS_MUNI" ip link set recv0 up && wait "$c"
	code=$(cat "$W/c5")
	echo "upload across the cut: $code"
	[ "$code" = 201 ] || code=$(bed_upload "$MUNI1" "$W/k5.csv" health-checkup)
	[ "$code" = 201 ] && id=$(bed_receipt_id) &&
	bed_wait_state "$id" awaiting_approval && [ "$(jobs_of "$id")" = 1 ] ||
		return 1
	# The receiver-to-vault link, during the vault's fetch.
	bed_ns "$NS_RECV" tc qdisc add dev vault0 root tbf rate 16mbit \
		burst 64kbit latency 500ms || return 1
	python3 "$GEN" 60000 36 "$W/k6.csv" &&
	[ "$(bed_upload "$MUNI2" "$W/k6.csv" health-checkup)" = 201 ] &&
	id=$(bed_receipt_id) || return 1
	for c in $(seq 1 300); do
		grep -q "upload $id: fetching" "$BED_DIR/logs/vault.log" && break
		sleep 0.01
	done
	sleep 0.5 && bed_ns "$NS_VAULT" ip link set recv0 down && sleep 2 &&
	bed_ns "$NS_VAULT" ip link set recv0 up &&
	bed_ns "$NS_RECV" tc qdisc del dev vault0 root &&
	bed_wait_state "$id" awaiting_approval 90 && [ "$(jobs_of "$id")" = 1 ] &&
	publish "$id" || return 1
	# The recipient's link, during a download.
	bed_recip "$RECIP1" --limit-rate 300K -o "$W/r6.csv" \
		"$SENDER_URL/v1/releases/$(bed_release_id "$id")" 2>/dev/null &
	c=$!
	sleep 1 && bed_ns "$NS_RECIP" ip link set send0 down && sleep 2 &&
	bed_ns "$NS_RECIP" ip link set send0 up
	wait "$c" ||
		bed_recip "$RECIP1" -C - -o "$W/r6.csv" "$SENDER_URL/v1/releases/$(bed_release_id "$id")"
	report "$id" "$W/r6.json" &&
	[ "$(sha "$W/r6.csv")" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["output_sha256"])' "$W/r6.json")" ]
}

# BED_UPLOADS uploads (300 in `make test`, 1,000 in `make soak`), half
# from each municipality: every receipt ends as one job, published
# (approved by two operators) or rejected, none missing, none twice, none
# twice at the sender, and every audit log verifies.
test_r11_many_uploads_each_end_exactly_once() {
	local t0 t1 m ids n_pub n_rej n=$BED_UPLOADS
	# What the bed held before: the count is of this test's uploads.
	bed_console release list | awk 'NR > 1 {print $1}' | LC_ALL=C sort > "$W/before"
	python3 "$GEN" 600 37 "$W/base.csv" &&
	python3 - "$W/base.csv" "$W/bulk" "$n" <<'PY' || return 1
import os, sys
base = open(sys.argv[1], "rb").read().split(b"\r\n")
os.makedirs(sys.argv[2])
lists = [open("%s/list%d" % (sys.argv[2], k), "w") for k in (0, 1)]
for i in range(int(sys.argv[3])):
    rows = list(base)
    rows[1] = rows[1].replace(b",", b",%d" % i, 1)  # a distinct file each
    name = "%s/f%04d.csv" % (sys.argv[2], i)
    open(name, "wb").write(b"\r\n".join(rows))
    lists[i % 2].write(name + "\n")
PY
	t0=$(date +%s%N)
	for m in "$MUNI1:$MUNI1_ADDR:0" "$MUNI2:$MUNI2_ADDR:1"; do
		set -- ${m//:/ }
		ip netns exec "$NS_MUNI" bash -c '
			while read -r f; do
				curl -sS --interface "$2" --cacert "$3/internal-ca/ca.crt" \
					--cert "$3/muni-ca/issued/$1.crt" \
					--key "$3/muni-ca/issued/$1.key" -o /dev/null \
					-w "%{http_code}\n" -T "$f" \
					"$4/v1/uploads/health-checkup/${f##*/}"
			done' _ "$1" "$2" "$BED_DIR/pki" "$RECEIVER_URL" \
			< "$W/bulk/list$3" > "$W/codes-$1" &
		PIDS+=($!)
	done
	wait "${PIDS[-1]}" "${PIDS[-2]}"
	t1=$(date +%s%N)
	echo "$n uploads in $(( (t1 - t0) / 1000000 )) ms:" \
		"$(sort "$W"/codes-* | uniq -c | tr -s ' ' | tr '\n' ' ')"
	[ "$(grep -c '^201$' "$W"/codes-*  | awk -F: '{s += $2} END {print s}')" = "$n" ] ||
		return 1
	# Every receipt becomes a job awaiting approval.
	for m in $(seq 1 120); do
		bed_console release list | awk '$4 == "awaiting_approval" {print $1}' |
			LC_ALL=C sort | LC_ALL=C comm -23 - "$W/before" > "$W/new"
		[ "$(wc -l < "$W/new")" -ge "$n" ] && break
		sleep 1
	done
	ids=$(cat "$W/new")
	t1=$(date +%s%N)
	echo "all $n awaiting approval after $(( (t1 - t0) / 1000000 )) ms"
	[ "$(echo "$ids" | wc -l)" = "$n" ] || return 1
	# Two operators reject every tenth and approve the others (R41: a
	# rejection, like an approval, needs two).
	echo "$ids" | awk 'NR % 10 == 0' > "$W/reject"
	echo "$ids" | awk 'NR % 10 != 0' > "$W/approve"
	for m in op1 op2; do
		xargs -a "$W/reject" -P 4 -I{} ip netns exec "$NS_VAULT" \
			"$BED_BIN/sekisho-vault" -c "$BED_DIR/etc/vault.conf" \
			release reject {} --yes --operator "$m" \
			--key "$BED_DIR/pki/operators/$m.key" \
			--reason "bulk test" >/dev/null || return 1
	done
	for m in op1 op2; do
		xargs -a "$W/approve" -P 4 -I{} ip netns exec "$NS_VAULT" \
			"$BED_BIN/sekisho-vault" -c "$BED_DIR/etc/vault.conf" \
			release approve {} --yes --operator "$m" \
			--key "$BED_DIR/pki/operators/$m.key" >/dev/null || return 1
	done
	for m in $(seq 1 180); do
		bed_console release list | awk 'NR > 1' | LC_ALL=C sort |
			LC_ALL=C join -v 1 - "$W/before" > "$W/list"
		n_pub=$(grep -c ' published ' "$W/list")
		n_rej=$(grep -c ' rejected ' "$W/list")
		[ $((n_pub + n_rej)) -ge "$n" ] && break
		sleep 1
	done
	t1=$(date +%s%N)
	echo "after $(( (t1 - t0) / 1000000 )) ms: $n_pub published, $n_rej rejected"
	[ "$n_pub" = $((n - n / 10)) ] && [ "$n_rej" = $((n / 10)) ] &&
	[ "$(wc -l < "$W/list")" = "$n" ] &&
	# Nothing missing or twice: receipts = the jobs that ended once.
	python3 - "$BED_DIR" "$W/list" "$W/before" "$n" <<'PY'
import collections, json, sys
bed, listing = sys.argv[1], sys.argv[2]
before = set(l.strip() for l in open(sys.argv[3]))
def events(role, name):
    out = []
    for line in open("%s/data/%s/audit.log" % (bed, role)):
        e = json.loads(line)
        if e["event"] == name and e["object"][:16] not in before:
            out.append(e["object"])
    return out
stored = events("receiver", "upload.stored")
handed = events("receiver", "upload.handed_over")
published = events("vault", "release.published")
at_sender = events("sender", "release.published")
jobs = [l.split()[0] for l in open(listing) if l.split()[3] in ("published", "rejected")]
problems = []
if len(stored) != int(sys.argv[4]):
    problems.append("%d receipts, not %s" % (len(stored), sys.argv[4]))
if len(set(stored)) != len(stored):
    problems.append("a receipt twice")
if set(handed) != set(stored):
    problems.append("%d uploads not handed over" % len(set(stored) - set(handed)))
prefixes = collections.Counter(s[:16] for s in stored)
if sorted(jobs) != sorted(prefixes):
    problems.append("jobs and receipts differ")
dup = [k for k, v in collections.Counter(at_sender).items() if v > 1]
if dup:
    problems.append("%d releases published twice at the sender" % len(dup))
print("receipts %d, handed over %d, jobs ended %d, published at the sender %d" %
      (len(stored), len(set(handed)), len(jobs), len(set(at_sender))))
for p in problems:
    print("problem: " + p)
sys.exit(1 if problems else 0)
PY
}

test_timing_10mb_upload_reaches_the_sender() {
	local t0 t1 t2 id
	python3 "$GEN" 110000 38 "$W/k10.csv" || return 1
	t0=$(date +%s%N)
	[ "$(bed_upload "$MUNI1" "$W/k10.csv" health-checkup)" = 201 ] &&
	id=$(bed_receipt_id) && bed_wait_state "$id" awaiting_approval &&
	t1=$(date +%s%N) && publish "$id" || return 1
	t2=$(date +%s%N)
	echo "a $(stat -c %s "$W/k10.csv")-byte upload: awaiting approval after" \
		"$(( (t1 - t0) / 1000000 )) ms, at the sender after" \
		"$(( (t2 - t0) / 1000000 )) ms (approvals scripted)"
}

test_r15_every_host_audit_log_verifies() {
	local r
	for r in receiver vault sender; do
		"$BED_BIN/sekisho-$r" audit verify "$BED_DIR/data/$r/audit.log" ||
			return 1
	done
}

# Issue 16: after the whole story every entry of the three logs follows
# its event's schema (docs/audit-events.md), and the fields are typed:
# the receipt's row count and the approval's operators as written.
test_r15_every_entry_follows_its_event_schema() {
	local r out
	for r in receiver vault sender; do
		out=$("$BED_BIN/sekisho-$r" audit verify \
			"$BED_DIR/data/$r/audit.log") || return 1
		! grep "SCHEMA:" <<<"$out" || return 1
	done
	python3 - "$BED_DIR/data" <<'PY'
import json, sys
def entries(role):
    return [json.loads(l) for l in open("%s/%s/audit.log" % (sys.argv[1], role))]
stored = [e for e in entries("receiver") if e["event"] == "upload.stored"]
approved = [e for e in entries("vault") if e["event"] == "release.approved"]
assert stored and approved, "no upload or approval in the logs"
for e in stored:
    f = e["fields"]
    # the dataset is the detail's first word; rows, if any, a number
    assert f["dataset"] == e["detail"].split()[0], e
    assert "rows" not in f or f["rows"] == int(e["detail"].split("rows=")[1].split()[0]), e
for e in approved:
    ops = e["detail"].split("operators=")[1].split()[0].split(",")
    assert e["fields"]["operators"] == ops and len(ops) >= 2, e
    assert isinstance(e["fields"]["approvals"], int), e
PY
}

test_no_daemon_was_killed_by_its_sandbox() {
	! grep -l "Bad system call" "$BED_DIR"/logs/*.log 2>/dev/null &&
	[ -n "$(bed_pid receiver)" ] && [ -n "$(bed_pid vault)" ] &&
	[ -n "$(bed_pid sender)" ]
}

mkdir -p "$W"
bed_up || { echo "the bed did not come up"; tail "$BED_DIR"/logs/*.log; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
[ "$FAILED" -eq 0 ] || tail -n 20 "$BED_DIR"/logs/*.log
summary
