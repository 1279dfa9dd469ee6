#!/usr/bin/env bash
# demo.sh: the whole appliance on the namespace test bed (tests/bed/bed.sh).
#
#   demo.sh run    set up, play the story, take everything down (make demo)
#   demo.sh up     set up and leave it running; writes build/demo/env.sh
#                  (make demo-up)
#   demo.sh down   remove every namespace, process, user and file `up`
#                  made; safe to run twice (make demo-down)
#
# The story: a municipality uploads a CP932 health check-up file with curl,
# a second one seals its file to the vault with openssl cms first; the vault
# fetches and anonymizes both; two operators approve each; the recipients
# list and download their releases with curl; the report and the first
# lines are shown; then a forbidden connection from each host is tried and
# fails. Every step prints its duration.
set -uo pipefail
. "$(dirname "$0")/bed.sh"

ENV_FILE=$BED_TOP/build/demo/env.sh
GEN=$BED_TOP/tests/data/gen_checkup.py
PROBE=$BED_TOP/tests/integration/netprobe.py
W=$BED_DIR/work

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

# step "what" COMMAND...: runs it, prints how long it took; stops the story
# on a failure.
step() {
	local what=$1 t0 t1 r; shift
	t0=$(date +%s%N)
	"$@"
	r=$?
	t1=$(date +%s%N)
	printf '   [%s: %d ms]\n' "$what" $(( (t1 - t0) / 1000000 ))
	[ "$r" -eq 0 ] || { echo "demo: '$what' failed" >&2; exit 1; }
}

upload_plain() {
	python3 "$GEN" 20000 7 "$W/kenshin.csv" --encoding cp932 || return 1
	echo "   $MUNI1 (Nakano) uploads kenshin.csv: $(stat -c %s "$W/kenshin.csv") bytes, CP932"
	echo "   \$ ip netns exec $NS_MUNI curl --cert $MUNI1.crt --key $MUNI1.key -T kenshin.csv $RECEIVER_URL/v1/uploads/health-checkup/kenshin.csv"
	[ "$(bed_upload "$MUNI1" "$W/kenshin.csv" health-checkup)" = 201 ] || return 1
	ID1=$(bed_receipt_id)
	echo "   receipt: $(cat "$BED_DIR/receipt")"
}

upload_sealed() {
	local p=$BED_DIR/pki
	python3 "$GEN" 15000 8 "$W/kenshin2.csv" --encoding cp932 || return 1
	echo "   $MUNI2 (Sapporo) signs its file, then seals it to the vault's certificate:"
	echo "   \$ openssl cms -sign ... | openssl cms -encrypt -aes-256-gcm -recip vault-envelope.crt"
	openssl cms -sign -binary -nodetach -outform DER -in "$W/kenshin2.csv" \
		-signer "$p/muni-ca/issued/$MUNI2.crt" \
		-inkey "$p/muni-ca/issued/$MUNI2.key" -out "$W/kenshin2.signed" &&
	openssl cms -encrypt -aes-256-gcm -binary -inform DER -outform DER \
		-recip "$p/internal-ca/issued/vault-envelope.crt" -in "$W/kenshin2.signed" \
		-out "$W/kenshin2.csv.cms" || return 1
	[ "$(bed_upload "$MUNI2" "$W/kenshin2.csv.cms" health-checkup-sealed)" = 201 ] ||
		return 1
	ID2=$(bed_receipt_id)
	echo "   receipt: $(cat "$BED_DIR/receipt")"
	echo "   the receiver holds only ciphertext: it cannot open the envelope"
}

processed() {
	bed_wait_state "$ID1" awaiting_approval 60 &&
	bed_wait_state "$ID2" awaiting_approval 60 &&
	bed_console release list
}

report() {
	bed_console release show "$ID1" > "$W/show" || return 1
	sed -n '1,/^release report:/p' "$W/show" | sed 's/^/   /'
	sed -n '/^release report:/,$p' "$W/show" | tail -n +2 | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   rows in %(rows_in)d, out %(rows_out)d, suppressed %(rows_suppressed)d, "
      "rejected %(rows_rejected)d" % r)
print("   k = %(k)d, l = %(l_diversity)d: %(equivalence_classes)d classes, "
      "the smallest of %(smallest_class)d rows" % r)
print("   re-identification risk: highest %(risk_highest).4f, average "
      "%(risk_average).4f" % r)
for c in r["columns"]:
    print("   %-8s %-10s %s" % (c["action"], c["role"], c["name"]))' || return 1
	# The same as a page for the operator's browser (no script, fetches
	# nothing), with the class sizes, suppression and loss as charts.
	bed_console release show "$ID1" --html "$W/report.html" | sed 's/^/   /' &&
	echo "   $(grep -c '<svg' "$W/report.html") charts, $(wc -c < "$W/report.html") bytes"
}

approvals() {
	local id
	# The first approval shows all that the operator sees and signs;
	# the others, the line that counts them.
	bed_approve "$ID1" op1 | sed 's/^/   /' &&
	bed_approve "$ID1" op2 | tail -1 | sed 's/^/   /' &&
	bed_approve "$ID2" op1 | tail -1 | sed 's/^/   /' &&
	bed_approve "$ID2" op2 | tail -1 | sed 's/^/   /' || return 1
	bed_wait_state "$ID1" published 60 && bed_wait_state "$ID2" published 60
}

# The municipality's side: what became of its file, by the receipt id, in
# the closed vocabulary the receiver checks (issue 18).
city_status() {
	local i
	echo "   \$ ip netns exec $NS_MUNI curl --cert $MUNI1.crt --key $MUNI1.key $RECEIVER_URL/v1/uploads/$ID1"
	# The vault reports on its next visit to the receiver.
	for i in $(seq 1 50); do
		bed_ns "$NS_MUNI" curl -sS --interface "$MUNI1_ADDR" \
			--cacert "$BED_DIR/pki/internal-ca/ca.crt" \
			--cert "$BED_DIR/pki/muni-ca/issued/$MUNI1.crt" \
			--key "$BED_DIR/pki/muni-ca/issued/$MUNI1.key" \
			-o "$W/status" "$RECEIVER_URL/v1/uploads/$ID1" || return 1
		grep -q '"released"' "$W/status" && break
		sleep 0.2
	done
	python3 - "$W/status" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("   %s: %s, %d bytes, %d rows" % (s["receipt"]["id"][:16],
      s["receipt"]["filename"], s["receipt"]["size"], s["receipt"]["rows"]))
for e in s["status"]:
    print("   %-12s %s" % (e["state"], e.get("at", "")))
sys.exit(0 if s["status"][-1]["state"] == "released" else 1)
PY
}

downloads() {
	local p=$BED_DIR/pki
	echo "   \$ ip netns exec $NS_RECIP curl --cert $RECIP1.crt --key $RECIP1.key $SENDER_URL/v1/releases"
	bed_recip "$RECIP1" "$SENDER_URL/v1/releases" | python3 -m json.tool |
		sed 's/^/   /' &&
	bed_recip "$RECIP1" -C - -o "$W/release.csv" \
		"$SENDER_URL/v1/releases/$(bed_release_id "$ID1")" || return 1
	echo "   $RECIP1 downloaded release.csv; its first lines:"
	head -6 "$W/release.csv" | sed 's/^/   /'
	package "$(bed_release_id "$ID1")" || return 1
	echo "   $RECIP2 takes sealed releases only: it downloads and opens one"
	bed_recip "$RECIP2" -o "$W/release2.csv.cms" "$SENDER_URL/v1/releases/$(bed_release_id "$ID2")" &&
	openssl cms -decrypt -binary -inform DER -in "$W/release2.csv.cms" \
		-recip "$p/recip-ca/issued/$RECIP2.crt" \
		-inkey "$p/recip-ca/issued/$RECIP2.key" -out "$W/release2.csv" &&
	head -3 "$W/release2.csv" | sed 's/^/   /' || return 1
	pushed
}

# The release's package: the recipient checks the vault's signature on
# the manifest and every file against it, and reads the codebook.
package() {
	local rid=$1 f d=$W/package
	mkdir -p "$d" || return 1
	for f in manifest manifest.p7s datapackage.json codebook.md; do
		bed_recip "$RECIP1" --fail -o "$d/$f" \
			"$SENDER_URL/v1/releases/$rid/$f" || return 1
	done
	cp "$W/release.csv" "$d/$(head -1 "$d/manifest" | awk '{print $2}')" &&
	echo "   its package: the manifest, signed by the vault:" &&
	sed 's/^/     /' "$d/manifest" &&
	echo "   \$ openssl cms -verify -binary -inform DER -in manifest.p7s -content manifest -CAfile internal-ca.crt" &&
	openssl cms -verify -binary -inform DER -in "$d/manifest.p7s" \
		-content "$d/manifest" -CAfile "$BED_DIR/pki/internal-ca/ca.crt" \
		-out /dev/null 2>"$d/verify.out" &&
	sed 's/^/   /' "$d/verify.out" &&
	echo "   \$ sha256sum -c manifest" &&
	(cd "$d" && sha256sum -c manifest > check.out) &&
	sed 's/^/   /' "$d/check.out" &&
	# The codebook is the one whose digest the two operators signed.
	grep -q "codebook.md sha256 $(sha256sum "$d/codebook.md" | awk '{print $1}')$" \
		<(bed_console release show "$ID1" --preview 0) &&
	echo "   codebook.md is the one the operators signed (codebook_sha256 in step 5)" &&
	echo "   the codebook (codebook.md), its columns:" &&
	sed -n '/^### 列/,/^削除した列/p' "$d/codebook.md" | sed 's/^/   /'
}

# univ-c (push mode, R03's strict reading): it never connects to the
# sender; the sender PUT the release to univ-c's own nginx.
pushed() {
	local rel f
	rel=$(bed_release_id "$ID1") && bed_wait_delivered "$rel" "$RECIP3" &&
	f=$(bed_pushed_copy "$W/release.csv") ||
		{ echo "   FAIL: $RECIP3's endpoint did not get the release" >&2; return 1; }
	echo "   $RECIP3 takes releases by push: it never connects to the sender."
	echo "   The sender PUT the same release to $RECIP3's own nginx (https://$RECIP3_ADDR:$RECIP3_PORT/incoming/):"
	echo "   ${f#"$BED_DIR"/push/incoming/}, $(stat -c %s "$f") bytes, the same bytes as $RECIP1's download,"
	echo "   with its signed package beside it, checked there with sha256sum and openssl:"
	(cd "$(dirname "$f")" && ls | tr '\n' ' ' | sed 's/^/   /' && echo &&
		sha256sum -c manifest | sed 's/^/   /' &&
		openssl cms -verify -binary -inform DER -in manifest.p7s -content manifest \
			-CAfile "$BED_DIR/pki/internal-ca/ca.crt" -out /dev/null 2>&1 | sed 's/^/   /') ||
		return 1
	echo "   nginx's log: $(grep "^PUT ${f#"$BED_DIR"/push} " "$BED_DIR/logs/endpoint-access.log" | head -1)"
}

# forbid NS ADDR PORT WHAT: a TCP connection that must not open.
forbid() {
	if NETPROBE_TIMEOUT=1 bed_ns "$1" python3 "$PROBE" connect "$2" "$3"; then
		echo "   FAIL: $4 connected" >&2
		return 1
	fi
	echo "   refused: $4"
}

forbidden() {
	local s
	forbid "$NS_RECV" "$MUNI1_ADDR" 443 "receiver -> municipality $MUNI1_ADDR:443 (R02)" &&
	forbid "$NS_RECV" "$VAULT_TO_RECV" 22 "receiver -> vault $VAULT_TO_RECV:22 (R05)" &&
	forbid "$NS_VAULT" "$RECV_INT" 8443 "vault -> receiver's external port (R06)" &&
	forbid "$NS_VAULT" "$MUNI1_ADDR" 443 "vault -> municipality (R06)" &&
	forbid "$NS_SEND" "$RECIP1_ADDR" 443 "sender -> recipient $RECIP1_ADDR:443 (R03)" &&
	forbid "$NS_SEND" "$RECIP3_ADDR" 22 "sender -> $RECIP3's host but its endpoint port (R03)" &&
	forbid "$NS_SEND" "$VAULT_TO_SEND" 22 "sender -> vault (R05)" &&
	forbid "$NS_RECIP" "$SEND_EXT" "$SEND_INT_PORT" "recipient -> sender's internal port" &&
	forbid "$NS_MUNI" "$VAULT_TO_RECV" 22 "municipality -> vault" || return 1
	echo "   and inside the receiver's own sandbox, connect(2) kills the process:"
	s=0
	bed_ns "$NS_RECV" "$BED_BIN/sekisho-receiver" -c "$BED_DIR/etc/receiver.conf" \
		sandbox-check connect >/dev/null 2>&1 || s=$?
	[ "$s" = 159 ] || { echo "   FAIL: exit $s" >&2; return 1; }
	echo "   \$ sekisho-receiver ... sandbox-check connect: killed by SIGSYS (exit 159)"
}

audits() {
	local r
	for r in receiver vault sender; do
		"$BED_BIN/sekisho-$r" audit verify "$BED_DIR/data/$r/audit.log" |
			sed 's/^/   /' || return 1
	done
}

# cut_chars N: each line to N characters (not bytes: the text is Japanese).
cut_chars() { python3 -c 'import sys
for l in sys.stdin: print(l.rstrip("\n")[:int(sys.argv[1])])' "$1"; }

# The auditor's evidence: form 8 from the three logs, each log against its
# witness, the vault's health, and the live host's inspection table.
evidence() {
	local v="$BED_BIN/sekisho-vault" c="$BED_DIR/etc/vault.conf" d=$BED_DIR/data
	local f title
	for f in 7 8 9 10; do
		case $f in
		7) title="特定個人情報事務取扱者名簿 / roster" ;;
		8) title="受払簿 / receipt and disposal" ;;
		9) title="使用記録簿 / usage record" ;;
		10) title="複製・運搬記録簿 / copy and transport" ;;
		esac
		"$v" -c "$c" ledger --form $f --from "$(TZ=Asia/Tokyo date -d yesterday +%F)" \
			--to "$(TZ=Asia/Tokyo date -d tomorrow +%F)" \
			--logs "$d/receiver" "$d/vault" "$d/sender" > "$W/form$f.csv" || return 1
		echo "   form $f ($title), $(($(wc -l < "$W/form$f.csv") - 1)) rows; the header and first row:"
		sed -n '1,2p' "$W/form$f.csv" | sed 's/^\xef\xbb\xbf//; s/^/     /' | cut_chars 110
	done
	"$BED_BIN/sekisho-receiver" audit verify "$d/receiver/audit.log" \
		--witness "$d/vault/audit.log" | sed 's/^/   /' | head -1 || return 1
	"$v" audit verify "$d/vault/audit.log" --witness "$d/sender/audit.log" |
		sed 's/^/   /' | head -1 || return 1
	bed_ns "$NS_VAULT" "$v" -c "$c" status 2>/dev/null | head -1 |
		cut_chars 110 | sed 's/^/   /'
	echo "   inspect (the vault host's evidence, R-id: control: result):"
	bed_ns "$NS_VAULT" "$v" -c "$c" inspect 2>/dev/null | grep '^| R[0-9]' |
		python3 -c 'import sys
for l in sys.stdin:
    c = [x.strip() for x in l.split("|")]
    print("     %s: %s: %s" % (c[1], c[2], c[-2]))'
	return 0
}

story() {
	mkdir -p "$W"
	say "1. A municipality uploads its health check-up file with curl"
	step "upload" upload_plain
	say "2. A second municipality seals its file end to end first (openssl cms)"
	step "sealed upload" upload_sealed
	say "3. The vault fetches, checks, decrypts and anonymizes both (it never listens)"
	step "fetch and processing" processed
	say "4. The release report an operator reviews"
	step "report" report
	say "5. Two operators approve each release (R41)"
	step "approvals and publishing" approvals
	say "6. The recipients list and download their releases with curl, and check the vault's signed manifest; one gets its release pushed"
	step "downloads" downloads
	say "7. The municipality asks what became of its file, by its receipt id"
	step "status" city_status
	say "8. Forbidden connections from each host fail"
	step "forbidden connections" forbidden
	say "9. Every host's audit log verifies"
	step "audit" audits
	say "10. The auditor's evidence: the four ledgers, the witnesses, health, inspection"
	step "evidence" evidence
}

case ${1:-} in
run)
	trap 'bed_down' EXIT
	say "Setting up: five namespaces, PKI, firewalls, three daemons as their own users"
	step "set-up" bed_up
	t0=$(date +%s)
	story
	say "The story took $(( $(date +%s) - t0 )) s. Taking everything down."
	;;
up)
	bed_up || { bed_down; exit 1; }
	mkdir -p "$(dirname "$ENV_FILE")" && bed_env "$ENV_FILE"
	cat <<EOF

The appliance is up. Its parties' settings are in $ENV_FILE:

  . $ENV_FILE
  # a municipality uploads
  ip netns exec \$NS_MUNI curl --interface \$MUNI1_ADDR --cacert \$CA \\
      --cert \$MUNI1_CERT --key \$MUNI1_KEY -T file.csv \\
      \$RECEIVER_URL/v1/uploads/health-checkup/file.csv
  # operators at the vault's console
  ip netns exec \$NS_VAULT \$BIN/sekisho-vault -c \$VAULT_CONF release list
  ip netns exec \$NS_VAULT \$BIN/sekisho-vault -c \$VAULT_CONF release approve ID --operator op1 --key \$OP1_KEY   # shows what it signs, asks y/N (--yes in scripts)
  # a recipient
  ip netns exec \$NS_RECIP curl --interface \$RECIP1_ADDR --cacert \$CA \\
      --cert \$RECIP1_CERT --key \$RECIP1_KEY \$SENDER_URL/v1/releases
  # the logs
  tail -f \$LOGS/*.log

Take it down with: make demo-down
EOF
	;;
down)
	bed_down
	rm -rf "$(dirname "$ENV_FILE")"
	echo "the test bed is down"
	;;
*)
	echo "usage: demo.sh run|up|down" >&2
	exit 2
	;;
esac
