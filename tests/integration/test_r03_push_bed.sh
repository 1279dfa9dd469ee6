#!/usr/bin/env bash
# test_r03_push_bed.sh: the strict reading of R03 on the namespace bed.
# Every recipient is in push mode (BED_ALL_PUSH=1), so the sender has no
# function of receiving from outside: nothing listens on its external
# side, no recipient address can open any connection to it, and it still
# delivers every release (the sealed one too) to the recipients' own
# endpoints (Debian's nginx in the recipients' namespace).
. "$(dirname "$0")/lib.sh"

BED_NAME=skp$$
BED_DIR=$T/bed
BED_BIN=${BED_BIN:-$TOP/build/bin}
BED_ALL_PUSH=1
. "$TOP/tests/bed/bed.sh"
trap 'bed_down; cleanup' EXIT

GEN=$TOP/tests/data/gen_checkup.py
REACH=$TOP/tests/integration/reach.py
W=$T/work

test_r03_every_release_is_pushed_and_the_sealed_one_opens() {
	local p=$BED_DIR/pki id1 id2 r1 r2 f
	mkdir -p "$W"
	python3 "$GEN" 3000 41 "$W/k1.csv" &&
	[ "$(bed_upload "$MUNI1" "$W/k1.csv" health-checkup)" = 201 ] &&
	id1=$(bed_receipt_id) && bed_wait_state "$id1" awaiting_approval &&
	python3 "$GEN" 2000 42 "$W/k2.csv" &&
	openssl cms -sign -binary -nodetach -outform DER -in "$W/k2.csv" \
		-signer "$p/muni-ca/issued/$MUNI2.crt" \
		-inkey "$p/muni-ca/issued/$MUNI2.key" -out "$W/k2.sig" &&
	openssl cms -encrypt -aes-256-gcm -binary -inform DER -outform DER \
		-recip "$p/internal-ca/issued/vault-envelope.crt" -in "$W/k2.sig" \
		-out "$W/k2.cms" &&
	[ "$(bed_upload "$MUNI2" "$W/k2.cms" health-checkup-sealed)" = 201 ] &&
	id2=$(bed_receipt_id) && bed_wait_state "$id2" awaiting_approval || return 1
	for f in "$id1" "$id2"; do
		bed_approve "$f" op1 >/dev/null && bed_approve "$f" op2 >/dev/null &&
		bed_wait_state "$f" published 60 || return 1
	done
	r1=$(bed_release_id "$id1") && r2=$(bed_release_id "$id2") &&
	bed_wait_delivered "$r1" "$RECIP1" && bed_wait_delivered "$r1" "$RECIP3" &&
	bed_wait_delivered "$r2" "$RECIP2" || return 1
	# The sealed release opens with univ-b's key alone.
	for f in "$BED_DIR"/push/incoming/*/*.cms; do
		openssl cms -decrypt -binary -inform DER -in "$f" \
			-recip "$p/recip-ca/issued/$RECIP2.crt" \
			-inkey "$p/recip-ca/issued/$RECIP2.key" -out "$W/r2.csv" \
			2>/dev/null && break
	done
	[ -s "$W/r2.csv" ] && head -1 "$W/r2.csv" | grep -q '診断名' || return 1
	# Each release's folder holds its package too, the sealed one's as
	# well: the manifest's digests hold and the vault's signature verifies.
	for f in "$BED_DIR"/push/incoming/*/manifest; do
		(cd "$(dirname "$f")" && sha256sum -c --quiet manifest) &&
		openssl cms -verify -binary -inform DER -in "$f.p7s" -content "$f" \
			-CAfile "$p/internal-ca/ca.crt" -out /dev/null 2>/dev/null ||
			{ echo "the package in $(dirname "$f") does not verify"; return 1; }
	done
	[ "$(ls "$BED_DIR"/push/incoming/*/manifest | wc -l)" -ge 2 ] &&
	! grep -q "/incoming/.* [45][0-9][0-9] " "$BED_DIR/logs/endpoint-access.log"
}

# Nothing listens on the sender's external side: ss in its namespace
# shows the internal listener alone.
test_r03_sender_listens_on_its_internal_port_only() {
	local l
	l=$(bed_ns "$NS_SEND" ss -Hltn | awk '{print $4}' | sort)
	echo "listening in the sender's namespace: $l"
	[ "$l" = "$SEND_INT:$SEND_INT_PORT" ] &&
	grep -q 'no external listener (every recipient is pushed to)' \
		"$BED_DIR/logs/sender.log"
}

# From the recipients' namespace (as root, every recipient address) no
# TCP connection to the sender opens on any port; the sender reaches the
# three endpoints and nothing else there.
test_r03_recipients_cannot_reach_the_sender_at_all() {
	local specs=() a p got
	for a in "$SEND_EXT" "$SEND_INT"; do
		for p in 22 80 443 8443 8444 9443 9444; do
			specs+=("tcp:$a:$p")
		done
	done
	got=$(bed_ns "$NS_RECIP" python3 "$REACH" probe "${specs[@]}" |
		awk '$2 == "open"')
	[ -z "$got" ] || { echo "open: $got"; return 1; }
	specs=()
	for a in "$RECIP1_ADDR" "$RECIP2_ADDR" "$RECIP3_ADDR"; do
		for p in 22 443 8443 8444; do
			specs+=("tcp:$a:$p")
		done
	done
	got=$(bed_ns "$NS_SEND" python3 "$REACH" probe "${specs[@]}" |
		awk '$2 == "open" {print $1}' | sort)
	echo "the sender reaches: $(echo $got)"
	[ "$got" = "$(printf '%s\n' "tcp:$RECIP1_ADDR:$RECIP3_PORT" \
		"tcp:$RECIP2_ADDR:$RECIP3_PORT" "tcp:$RECIP3_ADDR:$RECIP3_PORT" | sort)" ]
}

test_no_daemon_was_killed_by_its_sandbox() {
	! grep -h 'killed by signal\|sandbox forbids' "$BED_DIR"/logs/*.log
}

bed_up || { echo "the bed did not come up"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
