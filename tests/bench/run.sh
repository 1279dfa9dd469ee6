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

# seconds for one upload; fails unless the server answered 201
timed_upload() {
	local url=$1 start end code
	start=$(date +%s.%N)
	code=$(curl_as 131156 -o /dev/null -w '%{http_code}' -T "$T/payload" "$url")
	end=$(date +%s.%N)
	[ "$code" = 201 ] || { echo "upload to $url answered $code" >&2; return 1; }
	echo "$end - $start" | bc -l
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
events { worker_connections 256; }
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
	nginx -c "$d/nginx.conf" &
	NGINX_PID=$!
	local i
	for i in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
		sleep 0.1
	done
	stop_nginx
	echo "nginx did not start" >&2
	cat "$d/error.log" >&2
	return 1
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
	for i in $(seq 1 "$ROUNDS"); do
		t=$(timed_upload "https://127.0.0.1:$rport/v1/uploads/health-checkup/r$i.bin")
		ours+=("$t")
		rm -f "$T"/data/objects/*
		t=$(timed_upload "https://127.0.0.1:$nport/v1/uploads/health-checkup/r$i.bin")
		peer+=("$t")
		rm -f "$T"/nginx/root/v1/uploads/health-checkup/*
	done
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$RECEIVER_PID/status")
	o=$(printf '%s\n' "${ours[@]}" | median)
	p=$(printf '%s\n' "${peer[@]}" | median)
	printf 'bench: upload_1g ours=%.0f MB/s peer=%.0f MB/s ratio=%.2f (median of %d, nginx WebDAV PUT peer)\n' \
		"$(echo "$SIZE_MB / $o" | bc -l)" "$(echo "$SIZE_MB / $p" | bc -l)" \
		"$(echo "$p / $o" | bc -l)" "$ROUNDS"
	printf 'bench: upload_1g receiver_peak_rss=%d KiB (goal < 65536)\n' "$rss"
	printf 'bench: upload_1g receiver split of the last upload: %s\n' \
		"$(grep -o 'body [0-9]* ms, seal and sync [0-9]* ms' "$T/receiver.log" | tail -1)"
	stop_receiver
	stop_nginx
}

command -v bc >/dev/null || { echo "bench needs bc (apt-get install bc)" >&2; exit 1; }
bench_upload
