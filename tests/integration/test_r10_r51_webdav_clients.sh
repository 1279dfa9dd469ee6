#!/usr/bin/env bash
# test_r10_r51_webdav_clients.sh: the clients clerks already use (issue 18,
# item 7). WinSCP, rclone and Windows' WebDAV redirector ask OPTIONS and
# PROPFIND before they PUT; the receiver answers them with the datasets this
# city may upload to and its own uploads, and nothing else of WebDAV. Tried
# with Debian's rclone and with curl, each with the city's certificate.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE=https://127.0.0.1:$PORT/v1/uploads

setup() {
	make_pki >/dev/null && write_site "$PORT" &&
	# Sapporo on loopback too: a second city for the health check-ups.
	sed -i 's|networks = \[ "192.0.2.0/24" \]|networks = [ "127.0.0.0/8" ]|' "$T/site.conf" &&
	write_local &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT" &&
	printf '氏名,年齢\r\n山田,40\r\n鈴木,51\r\n' > "$T/kenshin.csv" &&
	: > "$T/rclone.conf"
}

# propfind MUNI DEPTH PATH [CURL ARGS...]: the status; the body in $T/dav.
propfind() {
	local who=$1 depth=$2 path=$3; shift 3
	curl_as "$who" -X PROPFIND -H "Depth: $depth" -o "$T/dav" \
		-w '%{http_code}' "$@" "$BASE$path"
}

# rclone_as MUNI ARGS...: rclone with a WebDAV remote "recv:" at the
# uploads' root, and the city's certificate.
rclone_as() {
	local who=$1; shift
	RCLONE_CONFIG="$T/rclone.conf" RCLONE_CONFIG_RECV_TYPE=webdav \
	RCLONE_CONFIG_RECV_URL="$BASE/" RCLONE_CONFIG_RECV_VENDOR=other \
		timeout 60 rclone --ca-cert "$T/pki/internal-ca/ca.crt" \
		--client-cert "$T/pki/muni-ca/issued/$who.crt" \
		--client-key "$T/pki/muni-ca/issued/$who.key" \
		--low-level-retries 1 --retries 1 "$@"
}

test_r10_options_and_propfind_show_the_citys_own_datasets() {
	curl_as 131156 -X OPTIONS -D "$T/opt" -o /dev/null "$BASE/" &&
	grep -qi '^dav: 1' "$T/opt" && grep -qi '^allow: .*PROPFIND' "$T/opt" &&
	[ "$(propfind 131156 1 /)" = 207 ] && cat "$T/dav" &&
	grep -q '<D:href>/v1/uploads/health-checkup/</D:href>' "$T/dav" &&
	grep -q '<D:href>/v1/uploads/resident-register/</D:href>' "$T/dav" &&
	# Yokohama may upload to the register only: it sees only that.
	[ "$(propfind 141003 1 /)" = 207 ] &&
	grep -q '/v1/uploads/resident-register/' "$T/dav" &&
	! grep -q 'health-checkup' "$T/dav" &&
	[ "$(propfind 141003 0 /health-checkup/)" = 404 ] &&
	[ "$(propfind 011002 1 /)" = 207 ] && ! grep -q 'resident' "$T/dav" &&
	# Depth 0: the collection alone.
	[ "$(propfind 131156 0 /)" = 207 ] && ! grep -q 'resident' "$T/dav" &&
	# Depth infinity (or none) is refused, as RFC 4918 allows.
	[ "$(propfind 131156 infinity /)" = 403 ] &&
	grep -q 'propfind-finite-depth' "$T/dav" &&
	[ "$(curl_as 131156 -X PROPFIND -o /dev/null -w '%{http_code}' "$BASE/")" = 403 ]
}

test_r51_rclone_copyto_uploads_and_reads_back_the_size() {
	local n
	rclone_as 131156 copyto "$T/kenshin.csv" "recv:health-checkup/健診 2026.csv" \
		2> "$T/rclone.err" || { cat "$T/rclone.err"; return 1; }
	n=$(ls "$T/data/objects" | wc -l)
	[ "$n" = 1 ] &&
	grep -q '"event":"upload.stored","actor":"muni:131156"' "$T/data/audit.log" &&
	# rclone lists what it sent, with its size, under its own name.
	rclone_as 131156 lsl recv:health-checkup > "$T/lsl" && cat "$T/lsl" &&
	grep -q "^ *$(stat -c %s "$T/kenshin.csv") .* 健診 2026.csv$" "$T/lsl" &&
	# The listing names the file percent-encoded, with its receipt and
	# state; the receipt is the one the city gets by id.
	[ "$(propfind 131156 1 /health-checkup/)" = 207 ] &&
	grep -q '<D:href>/v1/uploads/health-checkup/%E5%81%A5%E8%A8%BA%202026.csv</D:href>' "$T/dav" &&
	grep -q '<S:state>received</S:state>' "$T/dav" &&
	grep -q "<S:receipt>$(ls "$T/data/objects")</S:receipt>" "$T/dav"
}

test_r10_a_city_sees_none_of_anothers_uploads() {
	# Sapporo may upload to the same dataset; Nakano's file is not there
	# for it, in the listing or by name.
	[ "$(propfind 011002 1 /health-checkup/)" = 207 ] &&
	grep -q '<D:href>/v1/uploads/health-checkup/</D:href>' "$T/dav" &&
	! grep -q '2026.csv' "$T/dav" &&
	[ "$(propfind 011002 0 '/health-checkup/%E5%81%A5%E8%A8%BA%202026.csv')" = 404 ] &&
	[ "$(propfind 131156 0 '/health-checkup/%E5%81%A5%E8%A8%BA%202026.csv')" = 207 ] &&
	rclone_as 011002 lsl recv:health-checkup > "$T/lsl2" &&
	! grep -q 2026 "$T/lsl2"
}

test_r56_nothing_else_of_webdav_and_bodies_bounded() {
	# MKCOL on a dataset: it exists (405); on anything else: refused.
	[ "$(curl_as 131156 -X MKCOL -o /dev/null -w '%{http_code}' "$BASE/health-checkup/")" = 405 ] &&
	[ "$(curl_as 131156 -X MKCOL -o "$T/body" -w '%{http_code}' "$BASE/health-checkup/sub/")" = 403 ] &&
	grep -q '"error_ja":"フォルダはデータセットごとに決まっていて' "$T/body" &&
	[ "$(curl_as 131156 -X MKCOL -o /dev/null -w '%{http_code}' "$BASE/new/")" = 404 ] &&
	# A revoked city gets nothing at all.
	! curl_as 131016 -X PROPFIND -H 'Depth: 1' -o /dev/null "$BASE/" 2>/dev/null &&
	for m in MOVE DELETE PROPPATCH LOCK COPY; do
		[ "$(curl_as 131156 -X "$m" -o /dev/null -w '%{http_code}' \
			"$BASE/health-checkup/x.csv")" = 405 ] || return 1
	done &&
	# A PROPFIND body is read within 64 KiB and dropped; more is 413.
	head -c 70000 /dev/zero | tr '\0' a > "$T/big.xml" &&
	[ "$(propfind 131156 1 / --data-binary @"$T/big.xml")" = 413 ] &&
	printf '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>' > "$T/small.xml" &&
	[ "$(propfind 131156 1 / --data-binary @"$T/small.xml")" = 207 ] &&
	[ "$(propfind 131156 1 '/?x=1')" = 400 ] &&
	[ "$(propfind 131156 1 /../../etc/ --path-as-is)" = 400 ] &&
	# The receiver still serves, and nothing was made by any of it.
	[ "$(ls "$T/data/objects" | wc -l)" = 1 ] && [ -z "$(ls -A "$T/data/tmp")" ] &&
	kill -0 "$RECEIVER_PID" &&
	# File names stay out of the logs.
	! grep -q '健診' "$T/data/audit.log" "$T/receiver.log"
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
