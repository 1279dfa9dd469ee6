#!/usr/bin/env bash
# run.sh: Sekisho's benchmarks, each against a peer measured in the same run
# on the same machine. Prints one line per case:
#   bench: NAME ours=X MB/s peer=Y MB/s ratio=R
#
# upload_1g: a 1 GiB file PUT with curl over TLS 1.3 with client
# certificates, to sekisho-receiver (which hashes, seals with AES-256-GCM and
# fsyncs) and to nginx from Debian as a WebDAV PUT server (which only writes),
# interleaved, ROUNDS times each; the median of each side is reported, and
# the receiver's peak RSS.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/lib.sh"
BIN=$TOP/build/bin
ROUNDS=${ROUNDS:-3}
SIZE_MB=${SIZE_MB:-1024}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# tree_rss PID: the peak RSS (VmHWM, KiB) of a daemon's processes added
# up: the process and its children (net and store).
tree_rss() {
	local p sum=0 kb
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		kb=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${kb:-0}))
	done
	echo "$sum"
}

# tree_rss_each PID: the same, one "name=KiB" per process (net, store).
tree_rss_each() {
	local p
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		printf '%s=%s ' "$(tr '\0' ' ' < "/proc/$p/cmdline" | awk '{print $NF}')" \
			"$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null)"
	done
}

# seconds for one upload; fails unless the server answered 201
# rate_line NAME OURS PEER LABEL: OURS and PEER are median seconds for
# SIZE_MB; prints the rates and PEER/OURS, the ratio.
rate_line() {
	printf 'bench: %s ours=%.0f MB/s peer=%.0f MB/s ratio=%.2f (%s)\n' "$1" \
		"$(echo "$SIZE_MB / $2" | bc -l)" "$(echo "$SIZE_MB / $3" | bc -l)" \
		"$(echo "$3 / $2" | bc -l)" "$4"
}

# recycle_pages: writes and deletes a scratch file a little larger than
# the payload, so that the next side's writes land in pages the guest
# has just freed. On this kind of virtual machine a page the guest has not
# touched for a few seconds goes back to the host (free page reporting),
# and writing into it costs a host fault: measured with dd, 1 GiB into
# such pages ran at ~360 MB/s and into just-freed ones at 1.7-3.3 GB/s.
# Without this, whichever side ran right after another's file was deleted
# wrote several times faster; both sides now start from the same state.
recycle_pages() {
	head -c "$(((SIZE_MB + 256) << 20))" /dev/zero > "$T/scratch" &&
		rm -f "$T/scratch"
}

timed_upload() {
	local url=$1 file=${2:-$T/payload} start end code
	start=$(date +%s.%N)
	code=$(curl_as 131156 -o /dev/null -w '%{http_code}' -T "$file" "$url")
	end=$(date +%s.%N)
	[ "$code" = 201 ] || { echo "upload to $url answered $code" >&2; return 1; }
	echo "$end - $start" | bc -l
}

# run_nginx CONF PORT: starts nginx with CONF (NGINX_PID) and waits until
# it takes connections on 127.0.0.1:PORT.
run_nginx() {
	local i
	nginx -c "$1" &
	NGINX_PID=$!
	for i in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null && return 0
		sleep 0.1
	done
	stop_nginx
	echo "nginx did not start" >&2
	cat "$(dirname "$1")/error.log" >&2
	return 1
}

start_nginx() {
	local port=$1 d=$T/nginx
	mkdir -p "$d/root" "$d/tmp"
	cat > "$d/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
worker_rlimit_nofile 16384;
events { worker_connections ${2:-256}; }
http {
  access_log off;
  client_body_temp_path $d/tmp;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $T/pki/internal-ca/issued/receiver.crt;
    ssl_certificate_key $T/pki/internal-ca/issued/receiver.key;
    ssl_protocols TLSv1.3;
    ssl_client_certificate $T/pki/muni-ca/ca.crt;
    ssl_verify_client on;
    client_max_body_size 4g;
    location /v1/uploads/ {
      root $d/root;
      dav_methods PUT;
      create_full_put_path on;
    }
  }
}
CONF
	run_nginx "$d/nginx.conf" "$port"
}

# TERM lets the master stop its workers (KILL would orphan them).
stop_nginx() {
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}
trap 'stop_nginx; cleanup' EXIT

bench_upload() {
	local rport nport ours=() peer=() i t o p rss
	make_pki >/dev/null
	rport=$(free_port)
	write_site "$rport"
	write_local "disk_reserve = 0L;"
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null
	start_receiver "$rport"
	nport=$(free_port)
	start_nginx "$nport"
	head -c "$((SIZE_MB << 20))" /dev/urandom > "$T/payload"
	# Each side after the other's writes are on disk, into recycled
	# pages (recycle_pages).
	for i in $(seq 1 "$ROUNDS"); do
		sync
		recycle_pages
		t=$(timed_upload "https://127.0.0.1:$rport/v1/uploads/health-checkup/r$i.bin")
		ours+=("$t")
		rm -f "$T"/data/objects/*
		sync
		recycle_pages
		t=$(timed_upload "https://127.0.0.1:$nport/v1/uploads/health-checkup/r$i.bin")
		peer+=("$t")
		rm -f "$T"/nginx/root/v1/uploads/health-checkup/*
	done
	rss=$(tree_rss "$RECEIVER_PID")
	o=$(printf '%s\n' "${ours[@]}" | median)
	p=$(printf '%s\n' "${peer[@]}" | median)
	rate_line upload_1g "$o" "$p" "median of $ROUNDS, nginx WebDAV PUT peer"
	printf 'bench: upload_1g receiver_peak_rss=%d KiB, its processes added up (goal < 65536)\n' "$rss"
	printf 'bench: upload_1g receiver split of the last upload: %s\n' \
		"$(grep -o 'body [0-9]* ms, seal and sync [0-9]* ms' "$T/receiver.log" | tail -1)"
	stop_receiver
	stop_nginx
	bench_plausible_cost "$rport"
}

# upload_checked: what the receiver's check of a plain dataset's encoding
# and header row (issue 18, item 3) costs: the same valid UTF-8 CSV to a
# dataset that checks it and to one that does not, interleaved (goal: the
# checked one at least 0.9 of the other's rate).
bench_plausible_cost() {
	local rport=$1 plain=() checked=() i o c
	python3 - "$T/valid.csv" "$SIZE_MB" <<'PY'
import sys
row = "13115600001,ナカノ　タロウ,1956-04-01,M,164.0,58.2,Ｅ６６,\"中野区中央 1-2-3\"\r\n"
block = (row * 4096).encode()
with open(sys.argv[1], "wb") as f:
    f.write("宛名番号,氏名,生年月日,性別,身長,体重,診断コード,住所\r\n".encode())
    for _ in range(int(sys.argv[2]) * (1 << 20) // len(block)):
        f.write(block)
PY
	sed -i 's|{ id = "health-checkup"; max_bytes = 2147483648L;|{ id = "health-checked"; max_bytes = 2147483648L; retention_days = 30; encoding = "utf-8"; columns = [ "宛名番号", "氏名", "生年月日", "性別", "身長", "体重", "診断コード", "住所" ]; },\n  &|' "$T/site.conf"
	sed -i 's|datasets = \[ "health-checkup", "resident-register" \]|datasets = [ "health-checkup", "health-checked", "resident-register" ]|' "$T/site.conf"
	start_receiver "$rport"
	for i in $(seq 1 "$ROUNDS"); do
		plain+=("$(timed_upload "https://127.0.0.1:$rport/v1/uploads/health-checkup/c$i.csv" "$T/valid.csv")")
		rm -f "$T"/data/objects/*
		checked+=("$(timed_upload "https://127.0.0.1:$rport/v1/uploads/health-checked/c$i.csv" "$T/valid.csv")")
		rm -f "$T"/data/objects/*
	done
	o=$(printf '%s\n' "${plain[@]}" | median)
	c=$(printf '%s\n' "${checked[@]}" | median)
	rate_line upload_checked "$c" "$o" "median of $ROUNDS; ours: a dataset that checks encoding and header, peer: the same file to one that does not; goal >= 0.90"
	stop_receiver
	rm -f "$T/valid.csv"
}

# download_1g: a 1 GiB release fetched with curl over TLS 1.3 with client
# certificates from sekisho-sender (which decrypts the sealed object on the
# fly) and from nginx serving the same bytes as a plain file, interleaved;
# then 32 concurrent downloads, and the sender's peak RSS.
timed_download() {
	local url=$1 out=${2:-/dev/null} start end code
	start=$(date +%s.%N)
	code=$(curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/recip-ca/issued/univ-a.crt" \
		--key "$T/pki/recip-ca/issued/univ-a.key" -o "$out" \
		-w '%{http_code}' "$url")
	end=$(date +%s.%N)
	[ "$code" = 200 ] || { echo "download from $url answered $code" >&2; return 1; }
	echo "$end - $start" | bc -l
}

start_nginx_files() {
	local port=$1 d=$T/nginx
	mkdir -p "$d/root/v1/releases"
	cp "$T/payload" "$d/root/v1/releases/bench"
	cat > "$d/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $T/pki/internal-ca/issued/sender.crt;
    ssl_certificate_key $T/pki/internal-ca/issued/sender.key;
    ssl_protocols TLSv1.3;
    ssl_client_certificate $T/pki/recip-ca/ca.crt;
    ssl_verify_client on;
    root $d/root;
  }
}
CONF
	run_nginx "$d/nginx.conf" "$port"
}

bench_download() {
	local port ext int nport ours=() peer=() i t o p rss pids=() before
	make_pki >/dev/null
	"$PKI" "$T/pki" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 >/dev/null
	"$PKI" "$T/pki" issue internal-ca vault --uri urn:sekisho:host:vault >/dev/null
	port=$(free_port); ext=$((port + 2)); int=$((port + 3))
	write_site "$port"
	write_sender_local
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null
	start_sender || return 1
	head -c "$((SIZE_MB << 20))" /dev/urandom > "$T/payload"
	t=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/pki/internal-ca/ca.crt" \
		--cert "$T/pki/internal-ca/issued/vault.crt" \
		--key "$T/pki/internal-ca/issued/vault.key" \
		-H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary "$T/payload" | base64 -w0):" \
		-H "Sekisho-Dataset: health-checkup" -H "Sekisho-Recipients: univ-a" \
		-H "Sekisho-Expires: $(( $(date +%s) + 86400 ))" -T "$T/payload" \
		"https://127.0.0.1:$int/v1/releases/bench")
	[ "$t" = 201 ] || { echo "publishing answered $t" >&2; return 1; }
	nport=$(free_port)
	start_nginx_files "$nport" || return 1
	# The bytes are checked once; the timed rounds write to /dev/null on
	# both sides, so that the client's own disk is not what is measured.
	timed_download "https://127.0.0.1:$ext/v1/releases/bench" "$T/got" >/dev/null &&
	cmp -s "$T/got" "$T/payload" || { echo "sender sent other bytes" >&2; return 1; }
	rm -f "$T/got"
	for i in $(seq 1 "$ROUNDS"); do
		ours+=("$(timed_download "https://127.0.0.1:$ext/v1/releases/bench")")
		peer+=("$(timed_download "https://127.0.0.1:$nport/v1/releases/bench")")
	done
	o=$(printf '%s\n' "${ours[@]}" | median)
	p=$(printf '%s\n' "${peer[@]}" | median)
	rate_line download_1g "$o" "$p" "median of $ROUNDS, nginx static file peer"
	for i in $(seq 1 32); do
		curl -sS --cacert "$T/pki/internal-ca/ca.crt" \
			--cert "$T/pki/recip-ca/issued/univ-a.crt" \
			--key "$T/pki/recip-ca/issued/univ-a.key" -o /dev/null \
			--limit-rate 20M "https://127.0.0.1:$ext/v1/releases/bench" &
		pids+=($!)
	done
	sleep 5
	rss=$(tree_rss "$SENDER_PID")
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	printf 'bench: download_1g sender_peak_rss=%d KiB with 32 concurrent downloads (goal < 65536)\n' "$rss"
	stop_sender
	stop_nginx
}

# proc_ticks PID: the user and system time a process has used, in ticks.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# times_seconds: "0m1.250s 0m0.500s" (a line of bash's times) in seconds.
times_seconds() {
	awk '{ s = 0; for (i = 1; i <= NF; i++) { split($i, a, "m");
		sub("s", "", a[2]); s += a[1] * 60 + a[2] } print s }'
}

# push_1g: a 1 GiB release delivered by the sender's push process (which
# decrypts the sealed object and PUTs it over TLS 1.3 with its client
# certificate) to nginx as a WebDAV PUT endpoint, against curl -T of the
# same bytes to the same nginx with the same certificate, interleaved.
# Both are timed by the wall clock: curl from its start to its end, ours
# from the moment the endpoint takes the pusher's waiting connection to
# the audit entry release.delivered (polled every 10 ms; nginx's own
# $request_time cannot serve: its clock stands still while it reads a
# fast client without returning to its event loop). nginx's worker is
# stopped (SIGSTOP) while the release is published, so that the pusher's
# connection waits in the listen queue, and continued once the
# publication's writes are on disk and the pages recycled: neither side
# pays for the other's writeback or for fresh pages.
bench_push() {
	local port int nport d=$T/nginx ours=() peer=() i t t0 o p w
	local pp c0 ocpu=() pcpu=() tck
	tck=$(getconf CLK_TCK)
	make_pki >/dev/null
	"$PKI" "$T/pki" issue internal-ca sender --server \
		--uri urn:sekisho:host:sender --ip 127.0.0.1 >/dev/null
	"$PKI" "$T/pki" issue internal-ca vault --uri urn:sekisho:host:vault >/dev/null
	"$PKI" "$T/pki" init-ca endpoint-ca "Bench endpoint CA" >/dev/null
	"$PKI" "$T/pki" issue endpoint-ca endpoint --server --dns push.bench \
		--ip 127.0.0.1 >/dev/null
	port=$(free_port); int=$((port + 3)); nport=$(free_port)
	write_site "$port"
	python3 - "$T/site.conf" "$nport" <<'PY'
import sys
p, port = sys.argv[1:]
s = open(p).read()
s = s[:s.index("recipients = (")] + """recipients = (
  { id = "univ-a"; identity = "urn:sekisho:recip:univ-a"; networks = [ "127.0.0.0/8" ];
    delivery = "push"; endpoint = "https://127.0.0.1:%s/incoming/";
    endpoint_ca = "pki/endpoint-ca/ca.crt"; endpoint_name = "push.bench"; }
);
""" % port
open(p, "w").write(s)
PY
	write_role_local sender sdata \
		"max_connections = 64; read_timeout = 30; disk_reserve = 0L; push_retry = 1;"
	"$BIN/sekisho-sender" -c "$T/sender.conf" init >/dev/null
	dav_endpoint_conf "$d" "127.0.0.1:$nport" \
		"$T/pki/endpoint-ca/issued/endpoint.crt" \
		"$T/pki/endpoint-ca/issued/endpoint.key" \
		"$T/pki/internal-ca/ca.crt" || return 1
	start_sender || return 1
	run_nginx "$d/nginx.conf" "$nport" || return 1
	for t in $(seq 1 50); do
		w=$(pgrep -P "$NGINX_PID" | head -1) && break
		sleep 0.1
	done
	[ -n "$w" ] || { echo "nginx has no worker" >&2; return 1; }
	head -c "$((SIZE_MB << 20))" /dev/urandom > "$T/payload"
	for i in $(seq 1 "$ROUNDS"); do
		kill -STOP "$w"
		t=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/pki/internal-ca/ca.crt" \
			--cert "$T/pki/internal-ca/issued/vault.crt" \
			--key "$T/pki/internal-ca/issued/vault.key" \
			-H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary "$T/payload" | base64 -w0):" \
			-H "Sekisho-Dataset: health-checkup" -H "Sekisho-Recipients: univ-a" \
			-H "Sekisho-Filename: p$i.bin" \
			-H "Sekisho-Expires: $(( $(date +%s) + 86400 ))" -T "$T/payload" \
			"https://127.0.0.1:$int/v1/releases/p$i")
		[ "$t" = 201 ] || { kill -CONT "$w"; echo "publishing answered $t" >&2; return 1; }
		# The pusher's connection is queued at the stopped worker.
		for t in $(seq 1 100); do
			[ -n "$(ss -Htn state established "( dport = :$nport )")" ] && break
			sleep 0.1
		done
		sync
		recycle_pages
		pp=$(pgrep -x sekisho-pusher) || { echo "no push process" >&2; return 1; }
		c0=$(proc_ticks "$pp")
		t0=$(date +%s.%N)
		kill -CONT "$w"
		for t in $(seq 1 6000); do
			grep -q "\"event\":\"release.delivered\".*\"object\":\"p$i\"" \
				"$T/sdata/audit.log" && break
			sleep 0.01
		done
		o=$(echo "$(date +%s.%N) - $t0" | bc -l)
		ocpu+=("$(echo "($(proc_ticks "$pp") - $c0) / $tck" | bc -l)")
		grep -q "^PUT /incoming/p$i/p$i.bin 201 " "$d/access.log" &&
			cmp -s "$T/payload" "$d/root/incoming/p$i/p$i.bin" ||
			{ echo "push p$i: not delivered whole" >&2; return 1; }
		ours+=("$o")
		rm -rf "$d/root/incoming/p$i"
		sync
		recycle_pages
		p=$( { timed curl -sS -f --cacert "$T/pki/endpoint-ca/ca.crt" \
			--resolve push.bench:"$nport":127.0.0.1 \
			--cert "$T/pki/internal-ca/issued/sender.crt" \
			--key "$T/pki/internal-ca/issued/sender.key" -T "$T/payload" \
			"https://push.bench:$nport/incoming/c$i.bin" &&
			times > "$T/curl.times"; } ) || return 1
		pcpu+=("$(sed -n 2p "$T/curl.times" | times_seconds)")
		peer+=("$p")
		printf 'push round %d: ours %.2f s (cpu %.2f s), curl %.2f s (cpu %.2f s)\n' \
			"$i" "$o" "${ocpu[-1]}" "$p" "${pcpu[-1]}" >&2
		rm -f "$d/root/incoming/c$i.bin"
		sync
	done
	o=$(printf '%s\n' "${ours[@]}" | median)
	p=$(printf '%s\n' "${peer[@]}" | median)
	rate_line push_1g "$o" "$p" "median of $ROUNDS, curl -T to the same nginx peer"
	o=$(printf '%s\n' "${ocpu[@]}" | median)
	p=$(printf '%s\n' "${pcpu[@]}" | median)
	printf 'bench: push_1g_cpu ours=%.2f s peer=%.2f s ratio=%.2f (CPU time of the push process and of curl for the same transfer, median of %d)\n' \
		"$o" "$p" "$(echo "$p / $o" | bc -l)" "$ROUNDS"
	stop_sender
	stop_nginx
}

# seconds for one command (wall clock)
timed() {
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null || { echo "failed: $*" >&2; return 1; }
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

# The vault engine against the same job in pandas: UCI Adult at k = 5, and
# a generated 1,000,000-row CP932 check-up file under the example policy.
bench_anonymize() {
	local adult=$TOP/../shared/datasets/adult hier o p i name rows rss
	local py=/usr/bin/python3 ours=() peer=()
	[ -x "$py" ] && "$py" -c 'import pandas' 2>/dev/null ||
		{ echo "bench: anonymize needs python3-pandas from Debian" >&2; return 1; }
	python3 "$TOP/tests/data/gen_checkup.py" "${ROWS:-1000000}" 42 "$T/checkup.csv"
	for name in adult_k5 checkup_1m; do
		ours=(); peer=()
		for i in $(seq 1 "$ROUNDS"); do
			if [ $name = adult_k5 ]; then
				ours+=("$(timed "$BIN/sekisho-vault" anonymize \
					--policy "$TOP/tests/bench/adult/adult-k5.policy" \
					--in "$adult/adult.csv" --out "$T/a.out" --report "$T/a.json")")
				peer+=("$(timed "$py" "$TOP/tests/bench/anon_pandas.py" \
					adult "$adult/adult.csv" "$adult" "$T/pa.out")")
				rows=$(wc -l < "$adult/adult.csv")
			else
				ours+=("$(timed "$BIN/sekisho-vault" anonymize \
					--policy "$TOP/tests/bench/checkup/checkup.policy" \
					--in "$T/checkup.csv" --out "$T/c.out" --report "$T/c.json")")
				peer+=("$(timed "$py" "$TOP/tests/bench/anon_pandas.py" \
					checkup "$T/checkup.csv" "$T/pc.out")")
				rows=$((${ROWS:-1000000}))
			fi
		done
		o=$(printf '%s\n' "${ours[@]}" | median)
		p=$(printf '%s\n' "${peer[@]}" | median)
		printf 'bench: anonymize_%s ours=%.0f rows/s peer=%.0f rows/s ratio=%.1f (median of %d, pandas peer)\n' \
			"$name" "$(echo "$rows / $o" | bc -l)" "$(echo "$rows / $p" | bc -l)" \
			"$(echo "$p / $o" | bc -l)" "$ROUNDS"
	done
	rss=$( { /usr/bin/time -f '%M' "$BIN/sekisho-vault" anonymize \
		--policy "$TOP/tests/bench/checkup/checkup.policy" --in "$T/checkup.csv" \
		--out "$T/c.out" --report "$T/c.json" >/dev/null; } 2>&1 | tail -1)
	printf 'bench: anonymize_checkup_1m vault_peak_rss=%d KiB (goal < 524288)\n' "$rss"
}

# The search for the best generalization against ARX (../shared/peers/arx)
# on the same problem: UCI Adult, nine quasi-identifiers, k = 5, 100 %
# suppression limit, and a 1,000,000-row file resampled from Adult. ours:
# the whole `sekisho-vault anonymize` process (read, search, release,
# report); peer: ARX's driver as a process doing the same once (JVM start,
# load, search, transformation, output), and ARX's own timing of a warm
# run inside the JVM (warm_peer, after a warm-up). Both must agree on the
# optimum; a disagreement fails the bench.
bench_search() {
	local arx=${ARX:-$TOP/../shared/peers/arx} d=$TOP/tests/data/adult
	local pol=$TOP/tests/bench/adult/adult-search-k5.policy name in o p w
	local qi=sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class
	local ours=() peer=() i ol al rss
	command -v java >/dev/null ||
		{ echo "bench: search needs default-jre-headless" >&2; return 1; }
	[ -f "$arx/ArxBench.class" ] || { echo "bench: no ARX at $arx" >&2; return 1; }
	python3 - "$d/adult.csv" "$T/adult1m.csv" <<'PY'
import random, sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
random.seed(7)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write(rows[0] + "\n")
    body = rows[1:]
    for _ in range(1000000):
        f.write(random.choice(body) + "\n")
PY
	for name in adult_k5 1m_k5; do
		in=$d/adult.csv; [ $name = 1m_k5 ] && in=$T/adult1m.csv
		ours=(); peer=()
		for i in $(seq 1 "$ROUNDS"); do
			ours+=("$(timed "$BIN/sekisho-vault" anonymize --policy "$pol" \
				--in "$in" --out "$T/s.out" --report "$T/s.json")") || return 1
			peer+=("$(timed java -cp "$arx:$arx/lib/*" ArxBench --data "$in" \
				--hierarchies "$d" --qi "$qi" --k 5 --suppression 1.0 \
				--reps 0 --out "$T/arx.out")") || return 1
		done
		al=$(java -cp "$arx:$arx/lib/*" ArxBench --data "$in" --hierarchies "$d" \
			--qi "$qi" --k 5 --suppression 1.0 --reps "$ROUNDS") || return 1
		ol=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(",".join(str(c["level"]) for c in r["columns"]), r["rows_suppressed"])' "$T/s.json")
		w=$(sed -E 's/.* median_ms=([0-9.]+).*/\1/' <<<"$al")
		o=$(printf '%s\n' "${ours[@]}" | median)
		p=$(printf '%s\n' "${peer[@]}" | median)
		if [ "[${ol% *}] ${ol#* }" != "$(sed -E 's/.* optimum=(\[[0-9,]+\]).* suppressed=([0-9]+).*/\1 \2/' <<<"$al")" ]; then
			echo "bench: anonymize_search_$name: ours chose ${ol}, ARX: $al" >&2
			return 1
		fi
		printf 'bench: anonymize_search_%s ours=%.3f s peer=%.3f s ratio=%.1f warm_peer=%.3f s warm_ratio=%.1f same_optimum=yes (median of %d; ARX process, and ARX warm in its JVM)\n' \
			"$name" "$o" "$p" "$(echo "$p / $o" | bc -l)" "$(echo "$w / 1000" | bc -l)" \
			"$(echo "$w / 1000 / $o" | bc -l)" "$ROUNDS"
	done
	rss=$( { /usr/bin/time -f '%M' "$BIN/sekisho-vault" anonymize --policy "$pol" \
		--in "$T/adult1m.csv" --out "$T/s.out" --report "$T/s.json" >/dev/null; } 2>&1 | tail -1)
	printf 'bench: anonymize_search_1m_k5 vault_peak_rss=%d KiB (goal < 1048576)\n' "$rss"
}

# Local recoding (issue 19) against ARX's (optimizeIterativeFast, 1 % of
# the records per step, after its search with any share suppressed, as
# ARX's own examples run it), driven by tests/bench/arx/ArxModels.java:
# Adult, eight quasi-identifiers, k = 5. Both releases are scored by the
# same independent count (tests/integration/release_loss.py), not by
# either tool; a ratio above 1 is less loss than ARX's.
bench_local() {
	local arx=${ARX:-$TOP/../shared/peers/arx} d=$TOP/tests/data/adult
	local qi=sex,age,race,marital-status,education,native-country,workclass,occupation
	local pol=$T/local.policy c sep="" ot pt ol pl
	command -v javac >/dev/null ||
		{ echo "bench: local needs default-jdk-headless (javac)" >&2; return 1; }
	mkdir -p "$T/arxm"
	javac -d "$T/arxm" -cp "$arx:$arx/lib/*" "$TOP/tests/bench/arx/ArxModels.java" || return 1
	{
		echo 'input: { encoding = "utf-8"; delimiter = ";"; header = true; };'
		echo 'columns = ('
		for c in ${qi//,/ }; do
			printf '%s  { name = "%s"; role = "quasi"; action = "hierarchy"; file = "%s/adult_hierarchy_%s.csv"; search = true; }' \
				"$sep" "$c" "$d" "$c"; sep=$',\n'
		done
		printf ',\n  { name = "salary-class"; role = "other"; action = "keep"; }\n);\n'
		echo 'privacy: { k = 5; max_suppression = 1.0; recoding = "local"; };'
		echo 'output: { encoding = "utf-8"; shuffle = true; };'
	} > "$pol"
	ot=$(timed "$BIN/sekisho-vault" anonymize --policy "$pol" --in "$d/adult.csv" \
		--out "$T/l.out" --report "$T/l.json") || return 1
	pt=$(timed java -cp "$T/arxm:$arx:$arx/lib/*" ArxModels --data "$d/adult.csv" \
		--hierarchies "$d" --qi "$qi" --k 5 --suppression 1.0 --local 100 \
		--out "$T/arxl.out") || return 1
	ol=$(python3 "$TOP/tests/integration/release_loss.py" "$T/l.out" 30162 "$qi" "$d") || return 1
	pl=$(python3 "$TOP/tests/integration/release_loss.py" "$T/arxl.out" 30162 "$qi" "$d" \
		--sep ';' --star-suppressed) || return 1
	printf 'bench: anonymize_local_adult_k5 ours_loss=%s ours_rows=%s peer_loss=%s peer_rows=%s loss_ratio=%.3f ours=%.3f s peer=%.3f s ratio=%.1f (ARX optimizeIterativeFast 0.01; both scored by release_loss.py)\n' \
		"${ol#*loss=}" "$(sed -E 's/rows=([0-9]+).*/\1/' <<<"$ol")" "${pl#*loss=}" \
		"$(sed -E 's/rows=([0-9]+).*/\1/' <<<"$pl")" \
		"$(echo "${pl#*loss=} / ${ol#*loss=}" | bc -l)" "$ot" "$pt" "$(echo "$pt / $ot" | bc -l)"
}

# pipeline_10mb: on the namespace test bed (tests/bed/bed.sh), a 10 MB
# CP932 check-up file from the municipality's curl to the recipient's curl:
# upload, fetch, anonymize, two scripted approvals, publish, download. The
# peer is the same file put to and fetched back from nginx over TLS 1.3
# with client certificates (a plain file drop, no processing), on loopback.
# bench_wait_state ID STATE: bed_wait_state, looking every 10 ms instead
# of every 100 ms, so that the time measured is the pipeline's and not the
# poll's (each look is one `release list` at the vault's console).
bench_wait_state() {
	local i
	for i in $(seq 1 3000); do
		[ "$(bed_state "$1")" = "$2" ] && return 0
		sleep 0.01
	done
	bed_log "job $1 is $(bed_state "$1"), not $2"
	return 1
}

bench_pipeline() {
	local ours=() peer=() split=() ua=() i t0 t1 t2 t3 id o p nport
	BED_NAME=skbench$$ BED_DIR=$T/bed BED_BIN=$BIN
	. "$TOP/tests/bed/bed.sh"
	trap 'bed_down; stop_nginx; cleanup' EXIT
	bed_up || return 1
	make_pki >/dev/null
	nport=$(free_port)
	start_nginx "$nport" || return 1
	for i in $(seq 1 "$ROUNDS"); do
		python3 "$TOP/tests/data/gen_checkup.py" 110000 "$((60 + i))" \
			"$T/p$i.csv" || return 1
		t0=$(date +%s%N)
		[ "$(bed_upload "$MUNI1" "$T/p$i.csv" health-checkup)" = 201 ] &&
		id=$(bed_receipt_id) && bench_wait_state "$id" awaiting_approval || return 1
		t1=$(date +%s%N)
		bed_approve "$id" op1 >/dev/null && bed_approve "$id" op2 >/dev/null &&
		bench_wait_state "$id" published || return 1
		t2=$(date +%s%N)
		bed_recip "$RECIP1" -o "$T/p$i.out" \
		    "$SENDER_URL/v1/releases/$(bed_release_id "$id")" ||
			return 1
		t3=$(date +%s%N)
		ours+=("$(echo "($t3 - $t0) / 1000000000" | bc -l)")
		ua+=("$(( (t1 - t0) / 1000000 ))")
		split+=("upload to awaiting $(( (t1 - t0) / 1000000 )) ms, approvals to published $(( (t2 - t1) / 1000000 )) ms, download $(( (t3 - t2) / 1000000 )) ms")
		cp "$T/p$i.csv" "$T/payload"
		t0=$(date +%s%N)
		[ "$(curl_as 131156 -o /dev/null -w '%{http_code}' -T "$T/payload" \
			"https://127.0.0.1:$nport/v1/uploads/health-checkup/p$i.csv")" = 201 ] &&
		curl_as 131156 -o "$T/p$i.back" \
			"https://127.0.0.1:$nport/v1/uploads/health-checkup/p$i.csv" &&
		cmp -s "$T/p$i.back" "$T/payload" || return 1
		t1=$(date +%s%N)
		peer+=("$(echo "($t1 - $t0) / 1000000000" | bc -l)")
	done
	o=$(printf '%s\n' "${ours[@]}" | median)
	p=$(printf '%s\n' "${peer[@]}" | median)
	printf 'bench: pipeline_10mb ours=%.2f s peer=%.2f s ratio=%.3f (median of %d, upload to download on the bed with scripted approvals; nginx PUT and GET peer)\n' \
		"$o" "$p" "$(echo "$p / $o" | bc -l)" "$ROUNDS"
	printf 'bench: pipeline_10mb upload to awaiting approval: median %d ms (goal < 250)\n' \
		"$(printf '%s\n' "${ua[@]}" | median)"
	printf 'bench: pipeline_10mb last round: %s\n' "${split[-1]}"
}

# slow_1741: every municipality of Japan (1,741, each with its own
# certificate and its own source address) with an upload open at the same
# time, each sending SLOW_RATE bytes a second (10 KB/s, as over a busy
# IP-VPN line; 17 MB/s in all) for SLOW_KB KiB. Every one must get 201;
# reported: the most uploads open at once, the receiver's peak RSS (its
# processes added up; goal < 256 MiB) and, as the peer, nginx's for the
# same load (WebDAV PUT with the same mTLS).
bench_slow() {
	local n=${SLOW_N:-1741} kb=${SLOW_KB:-300} rate=${SLOW_RATE:-10000}
	local rport nport ours peer rss prss each
	make_pki >/dev/null
	python3 "$TOP/tests/integration/slow_uploads.py" certs "$T/pki" "$n" \
		"$T/slow" || return 1
	rport=$(free_port)
	write_site "$rport"
	sed -i -e "/^municipalities = (/r $T/slow/munis.conf" \
		-e "s|127.0.0.0/8|127.0.0.0/16|g" "$T/site.conf"
	write_local "disk_reserve = 0L; max_connections = 2048; max_unauthenticated = 2048;"
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null
	start_receiver "$rport" || return 1
	ours=$(python3 "$TOP/tests/integration/slow_uploads.py" run 127.0.0.1 \
		"$rport" "$T/pki/internal-ca/ca.crt" "$T/slow" \
		"$((kb << 10))" "$rate") || return 1
	rss=$(tree_rss "$RECEIVER_PID")
	each=$(tree_rss_each "$RECEIVER_PID")
	stop_receiver
	nport=$(free_port)
	start_nginx "$nport" 4096 || return 1
	peer=$(python3 "$TOP/tests/integration/slow_uploads.py" run 127.0.0.1 \
		"$nport" "$T/pki/internal-ca/ca.crt" "$T/slow" \
		"$((kb << 10))" "$rate") || return 1
	prss=$(tree_rss "$NGINX_PID")
	stop_nginx
	printf 'bench: slow_%d ours: %s\n' "$n" "$ours"
	printf 'bench: slow_%d peer: %s\n' "$n" "$peer"
	printf 'bench: slow_%d receiver processes (KiB): %s\n' "$n" "$each"
	printf 'bench: slow_%d receiver_peak_rss=%d KiB nginx_peak_rss=%d KiB ratio=%.2f (goal: all %d answered 201, receiver < 262144 KiB)\n' \
		"$n" "$rss" "$prss" "$(echo "$rss / $prss" | bc -l)" "$n"
	[ "$(echo "$ours" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["answers"].get("201", 0))')" = "$n" ] || {
		echo "bench: slow_$n: not every upload was stored" >&2; return 1; }
}

command -v bc >/dev/null || { echo "bench needs bc (apt-get install bc)" >&2; exit 1; }
case "${1:-all}" in
upload) bench_upload ;;
download) bench_download ;;
push) bench_push ;;
anonymize) bench_anonymize ;;
search) bench_search; bench_local ;;
local) bench_local ;;
pipeline) bench_pipeline ;;
slow) bench_slow ;;
all) bench_upload; bench_download; bench_push; bench_anonymize; bench_search; bench_local; bench_pipeline; bench_slow ;;
*) echo "usage: run.sh [upload|download|push|anonymize|search|local|pipeline|slow|all]" >&2; exit 2 ;;
esac
