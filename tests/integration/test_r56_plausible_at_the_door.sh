#!/usr/bin/env bash
# test_r56_plausible_at_the_door.sh: the receiver checks a plain dataset's
# upload as it streams in, before any receipt: every byte valid in the
# dataset's encoding, the header row the dataset's columns (R56, R51;
# issue 18). A file that fails is answered 422 with the line, in English
# and Japanese, recorded, and not kept; a good one is stored as before.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
URL=https://127.0.0.1:$PORT/v1/uploads/health-checkup

setup() {
	make_pki >/dev/null && write_site "$PORT" &&
	sed -i 's|{ id = "health-checkup"; max_bytes = 2147483648L;|& encoding = "cp932"; columns = [ "氏名", "年齢" ];|' \
		"$T/site.conf" && grep -q 'columns = \[ "氏名"' "$T/site.conf" &&
	write_local && "$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" &&
	# 氏名,年齢 in CP932, then two rows.
	printf '\x8e\x81\x96\xbc,\x94\x4e\x97\xee\r\n\x8e\x52\x93\x63,40\r\n\x97\xe9\x96\xd8,51\r\n' > "$T/good.csv" &&
	printf '氏名,年齢\r\n山田,40\r\n' > "$T/utf8.csv" &&
	printf '\x8e\x81\x96\xbc,\x94\x4e\x97\xee\r\n\x8e\x52\x93\x63,40\r\n\x80\x80,51\r\n' > "$T/badbyte.csv" &&
	printf '\x94\x4e\x97\xee,\x8e\x81\x96\xbc\r\nx,1\r\n' > "$T/swapped.csv"
}

put() {	# put FILE NAME: the status; the body in $T/body
	curl_as 131156 -o "$T/body" -w '%{http_code}' -T "$1" "$URL/$2"
}

test_r56_a_file_in_the_datasets_encoding_and_columns_is_stored() {
	[ "$(put "$T/good.csv" good.csv)" = 201 ] &&
	[ "$(ls "$T/data/objects" | wc -l)" = 1 ]
}

test_r56_the_wrong_encoding_or_columns_get_422_with_the_line_and_nothing_is_kept() {
	local before
	before=$(grep -c '"event":"upload.stored"' "$T/data/audit.log")
	[ "$(put "$T/utf8.csv" utf8.csv)" = 422 ] && cat "$T/body" && echo &&
	grep -q 'column 1 of the header row (line 1) is not \\"氏名\\"' "$T/body" &&
	grep -q '"error_ja":"1 行目' "$T/body" || return 1
	[ "$(put "$T/badbyte.csv" badbyte.csv)" = 422 ] && cat "$T/body" && echo &&
	grep -q 'line 3 is not valid CP932' "$T/body" &&
	grep -q '3 行目が CP932' "$T/body" || return 1
	[ "$(put "$T/swapped.csv" swapped.csv)" = 422 ] || return 1
	# Recorded as refusals, none stored, no file left behind.
	[ "$(grep -c '"event":"upload.stored"' "$T/data/audit.log")" = "$before" ] &&
	[ "$(grep '"event":"upload.refused"' "$T/data/audit.log" | grep -c 'status=422')" = 3 ] &&
	[ "$(ls "$T/data/objects" | wc -l)" = 1 ] &&
	[ -z "$(ls -A "$T/data/tmp")" ] &&
	# The log and the audit entries name columns and lines, never a value.
	! grep -q "山田" "$T/data/audit.log" "$T/receiver.log"
}

test_r56_a_sealed_dataset_cannot_ask_for_columns() {
	sed 's|{ id = "resident-register"; max_bytes = 1024;|& envelope = true; columns = [ "a" ];|' \
		"$T/site.conf" > "$T/site-bad.conf" &&
	sed 's#^site = .*#site = "site-bad.conf";#' "$T/receiver.conf" > "$T/bad.conf" &&
	! "$BIN/sekisho-receiver" -c "$T/bad.conf" check-config > "$T/cc" 2>&1 &&
	grep -q 'holds only ciphertext of a sealed dataset' "$T/cc"
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
