#!/usr/bin/env bash
# test_r22_r52_backup.sh: the vault's backups (R22, R52; R13 for what a
# backup still holds). A backup is written outside the data folder only,
# sealed, without the master key; the master key is escrowed apart to a
# backup officer's certificate and opens with openssl itself; a damaged or
# foreign backup restores nothing; after the data folder is destroyed, a
# restore on a fresh store brings back a job that was awaiting approval,
# which two operators then publish and a recipient downloads. Every step is
# signed by an operator and audited by the daemon; disposing of a backup
# shreds it and the register says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"

bk() { "$VAULT" -c "$T/vault.conf" backup "$@"; }
as_op1() { echo --operator op1 --key "$T/ops/op1.key"; }

# wait_audit PATTERN [SECONDS]: until the vault's audit log has PATTERN.
wait_audit() {
	local i
	for i in $(seq 1 $((${2:-20} * 10))); do
		grep -q "$1" "$T/vdata/audit.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no '$1' in the vault's audit log" >&2
	return 1
}

test_r22_backup_refused_into_the_data_folder() {
	python3 "$GEN" 300 81 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval || return 1
	! bk --to "$T/vdata" $(as_op1) 2>"$T/e1" &&
	grep -q 'refusing to write a backup into the data folder' "$T/e1" &&
	! bk --to "$T/vdata/jobs" $(as_op1) 2>/dev/null &&
	[ -z "$(find "$T/vdata" -name '*.skb*')" ] &&
	# Nobody off the roster, and no key but the operator's own.
	mkdir -p "$T/bk" && ! bk --to "$T/bk" --operator op2 \
		--key "$T/ops/op1.key" 2>"$T/e2" && grep -q 'does not verify' "$T/e2" &&
	[ -z "$(ls -A "$T/bk")" ]
}

test_r22_backup_while_a_job_awaits_approval_is_sealed() {
	local f
	python3 "$GEN" 300 82 "$T/b.csv" &&
	[ "$(upload "$T/b.csv" health-checkup)" = 201 ] && B=$(cat "$T/id") &&
	wait_state "$B" awaiting_approval &&
	approve "$B" op1 >/dev/null && approve "$B" op2 >/dev/null &&
	# 90 s: a sender that did not answer at once is tried again after
	# 2, 4, 8, 16 and 32 s (the vault's backoff), which 30 s cannot hold
	wait_state "$B" published 90 || return 1
	bk --to "$T/bk" $(as_op1) > "$T/bk.out" || return 1
	cat "$T/bk.out"
	f=$(ls "$T/bk"/vault-backup-*.skb) && [ "$(echo "$f" | wc -l)" = 1 ] &&
	BKFILE=$f && BKNAME=$(basename "$f" .skb) || return 1
	# Neither a record of the data nor the master key is in it.
	python3 - "$f" "$T/a.csv" "$T/vdata/master.key" <<'PY' || return 1
import sys
blob = open(sys.argv[1], "rb").read()
rows = open(sys.argv[2], "rb").read().splitlines()[1:]
key = open(sys.argv[3], "rb").read()
assert len(rows) > 100 and len(key) == 32
leaks = [r for r in rows if r in blob] + ([b"key"] if key in blob else [])
assert blob.startswith(b"SKSEAL"), "not a sealed object"
assert not leaks, "plaintext in the backup"
PY
	bk check "$f" | tee "$T/check.out" | grep -q ': OK: backup' &&
	grep -q '(2 jobs)' "$T/check.out" &&
	wait_audit "\"event\":\"backup.written\",\"actor\":\"operator:op1\",\"object\":\"$BKNAME\""
}

# R53: a register record whose signature is not the named operator's is
# audited as invalid, never as that operator's action.
test_r53_a_record_not_signed_by_its_operator_is_not_theirs() {
	local rec
	rec=$(ls "$T/vdata/backups/$BKNAME".written.*.json 2>/dev/null | head -1)
	[ -n "$rec" ] || rec=$(ls "$T/vdata/backups/$BKNAME".written*.json | head -1)
	[ -n "$rec" ] || return 1
	python3 - "$rec" "$T/vdata/backups/forged.written.x.pending" <<'PY' || return 1
import json, sys
r = json.loads(open(sys.argv[1]).read())
r["operator"] = "op2"          # op1's signature, claimed as op2's
r["name"] = "forged"
open(sys.argv[2], "w").write(json.dumps(r) + "\n")
PY
	chown --reference="$rec" "$T/vdata/backups/forged.written.x.pending" &&
	wait_audit '"event":"backup.record_invalid","actor":"operator:unknown","object":"forged"' &&
	! grep -q '"actor":"operator:op2","object":"forged"' "$T/vdata/audit.log" &&
	[ -e "$T/vdata/backups/forged.written.x.invalid" ]
}

test_r22_master_key_escrow_opens_with_openssl() {
	local f
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/officer.key" -out "$T/officer.crt" -days 30 \
		-subj "/CN=backup officer" 2>/dev/null &&
	mkdir -p "$T/keys" &&
	bk --escrow-key "$T/officer.crt" --to "$T/keys" $(as_op1) &&
	f=$(ls "$T/keys"/vault-master-*.cms) &&
	openssl cms -decrypt -inform DER -recip "$T/officer.crt" \
		-inkey "$T/officer.key" -in "$f" -out "$T/escrowed.key" &&
	cmp "$T/escrowed.key" "$T/vdata/master.key" && ESCROW=$f &&
	! bk --escrow-key "$T/officer.crt" --to "$T/vdata" $(as_op1) 2>/dev/null &&
	wait_audit '"event":"backup.escrowed","actor":"operator:op1"'
}

# A second, empty store beside the first (another host's), for restores
# that must fail and leave it empty.
test_r22_damaged_or_foreign_backup_restores_nothing() {
	sed "s|vdata|vdata2|g" "$T/vault.conf" > "$T/vault2.conf" &&
	"$VAULT" -c "$T/vault2.conf" init >/dev/null || return 1
	# Sealed under another master key: named as such.
	! "$VAULT" -c "$T/vault2.conf" restore --from "$BKFILE" $(as_op1) \
		2>"$T/e1" && grep -q 'not under this vault.s master key' "$T/e1" &&
	install -m 0600 -o "$(stat -c %U "$T/vdata2/master.key")" \
		"$T/escrowed.key" "$T/vdata2/master.key" || return 1
	# One byte changed in the middle, or the end cut off.
	cp "$BKFILE" "$T/flip.skb" && python3 - "$T/flip.skb" <<'PY' || return 1
import os, sys
f = open(sys.argv[1], "r+b"); n = os.path.getsize(sys.argv[1])
f.seek(n // 2); b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 1]))
PY
	head -c -100 "$BKFILE" > "$T/cut.skb" &&
	! "$VAULT" -c "$T/vault2.conf" restore --from "$T/flip.skb" $(as_op1) \
		2>"$T/e2" && grep -q 'damaged' "$T/e2" &&
	! "$VAULT" -c "$T/vault2.conf" restore --from "$T/cut.skb" $(as_op1) \
		2>"$T/e3" && grep -q 'damaged' "$T/e3" &&
	cat "$T/e2" "$T/e3" &&
	[ -z "$(ls "$T/vdata2/jobs" "$T/vdata2/sources" "$T/vdata2/releases" \
		"$T/vdata2/reports" 2>/dev/null | grep -v ':$' | grep .)" ] &&
	# The good one restores there, and a second restore is refused.
	"$VAULT" -c "$T/vault2.conf" restore --from "$BKFILE" $(as_op1) \
		>/dev/null &&
	! "$VAULT" -c "$T/vault2.conf" restore --from "$BKFILE" $(as_op1) \
		2>"$T/e4" && grep -q 'is not empty' "$T/e4"
}

test_r22_r52_restore_after_the_data_folder_is_lost_publishes_the_waiting_job() {
	local ra user
	cp "$T/vdata/audit.log.key0" "$T/auditor.key0" &&
	stop_vault && user=$(stat -c %U "$T/vdata/master.key") &&
	rm -rf "$T/vdata" &&
	"$VAULT" -c "$T/vault.conf" init >/dev/null &&
	! "$VAULT" -c "$T/vault.conf" restore --from "$BKFILE" $(as_op1) \
		2>/dev/null || return 1
	# The backup officer opens the escrowed key; it is put back.
	openssl cms -decrypt -inform DER -recip "$T/officer.crt" \
		-inkey "$T/officer.key" -in "$ESCROW" |
		install -m 0600 -o "$user" /dev/stdin "$T/vdata/master.key" &&
	"$VAULT" -c "$T/vault.conf" restore --from "$BKFILE" $(as_op1) |
		tee "$T/restore.out" | grep -q 'restored' || return 1
	cat "$T/restore.out"
	start_vault &&
	[ "$(state "$A")" = awaiting_approval ] && [ "$(state "$B")" = published ] &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published || return 1
	ra=$(rid_of "$A") && recip -o "$T/release.csv" "$URL/$ra" &&
	python3 "$CHECK" "$T/release.csv" "$T/vdata/reports/$A.json" --k 5 \
		--l 2 --sensitive 診断名 --qi 生年月日,性別,郵便番号 \
		--absent 宛名番号,個人番号,氏名,住所 || return 1
	# The new chain says the old one was broken off, and that it was
	# restored; the old chain's copy verifies with the auditor's key.
	wait_audit '"event":"audit.break"' &&
	wait_audit "\"event\":\"backup.restored\",\"actor\":\"operator:op1\",\"object\":\"$BKNAME\"" &&
	"$VAULT" audit verify "$T/vdata/backups/$BKNAME.audit.log" \
		--key "$T/auditor.key0"
}

test_r13_backup_list_says_what_it_holds_and_dispose_shreds_it() {
	bk list --json > "$T/list.json" &&
	python3 - "$T/list.json" "$BKNAME" <<'PY' || return 1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
# The register went with the data folder; the restore wrote it anew.
w = [r for r in recs if r["action"] == "restored" and r["name"] == sys.argv[2]]
assert len(w) == 1 and not w[0]["disposed"] and w[0]["audited"], recs
# A's source was disposed of when A was published: the backup still has it.
assert w[0]["objects_disposed_since"] >= 1, w[0]
PY
	# Not another file by that name: the digest must be the backup's.
	cp "$T/flip.skb" "$T/other.skb" &&
	! bk dispose "$BKNAME" --file "$T/other.skb" $(as_op1) 2>"$T/e1" &&
	grep -q 'is not backup' "$T/e1" && [ -e "$T/other.skb" ] &&
	bk dispose "$BKNAME" --file "$BKFILE" $(as_op1) && [ ! -e "$BKFILE" ] &&
	bk list --json | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
assert [r for r in recs if r["action"] == "restored" and r["disposed"]], recs' &&
	wait_audit "\"event\":\"backup.disposed\",\"actor\":\"operator:op1\",\"object\":\"$BKNAME\"" &&
	! bk dispose "$BKNAME" --file "$T/other.skb" $(as_op1) 2>/dev/null
}

# The final check of the logs here: the vault's chain after the restore
# begins with one audit.break, which verify must report (and nothing else).
vault_chain_has_one_break_at_its_start() {
	"$BIN/sekisho-receiver" audit verify "$T/data/audit.log" >/dev/null &&
	"$BIN/sekisho-sender" audit verify "$T/sdata/audit.log" >/dev/null &&
	! "$VAULT" audit verify "$T/vdata/audit.log" > "$T/verify.out" &&
	grep -q 'BREAK: the entries verify, but the chain records 1 break(s), the first at line 1:' \
		"$T/verify.out"
}

run_pipeline_tests vault_chain_has_one_break_at_its_start
