#!/usr/bin/env bash
# test_r34_many_cities_upload_slowly_at_once.sh: many municipalities, each
# with its own certificate and network, upload at the same time, each as
# slowly as over a busy IP-VPN line; every one is stored (R34, R10).
#
# The full load (all 1,741 municipalities, and the receiver's memory under
# it, against nginx's) is `make bench BENCH=slow`; this is its functional
# core at a size the test suite can afford: N_CITIES uploads of 64 KiB at
# 10 KB/s, all open together. A slow upload is sealed on its connection's
# thread with no buffer of its own (what lets the whole country fit in
# memory): checked by counting the net process's threads at the peak, which
# with a sealing thread per upload would be twice the uploads.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
N_CITIES=${N_CITIES:-300}
SLOW=$TOP/tests/integration/slow_uploads.py

setup() {
	make_pki >/dev/null &&
	python3 "$SLOW" certs "$T/pki" "$N_CITIES" "$T/slow" &&
	write_site "$PORT" &&
	sed -i -e "/^municipalities = (/r $T/slow/munis.conf" \
		-e "s|127.0.0.0/8|127.0.0.0/16|g" "$T/site.conf" &&
	write_local "disk_reserve = 0L; max_connections = 512;" &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" init >/dev/null &&
	start_receiver "$PORT"
}

net_pid() { child_of "$RECEIVER_PID" receiver net; }

test_r34_every_city_uploading_slowly_at_once_is_stored() {
	local net out peak=0 n i before
	net=$(net_pid) || return 1
	before=$(grep -c '"event":"upload.stored"' "$T/data/audit.log")
	python3 "$SLOW" run 127.0.0.1 "$PORT" "$T/pki/internal-ca/ca.crt" \
		"$T/slow" 65536 10000 > "$T/slow.json" &
	local client=$!
	# The threads of net, sampled while the uploads are open.
	while kill -0 "$client" 2>/dev/null; do
		n=$(ls "/proc/$net/task" | wc -l)
		[ "$n" -gt "$peak" ] && peak=$n
		sleep 0.2
	done
	wait "$client" || { echo "client failed"; return 1; }
	out=$(cat "$T/slow.json"); echo "$out"
	echo "net threads at the peak: $peak"
	python3 - "$T/slow.json" "$N_CITIES" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert d["answers"] == {"201": n}, d["answers"]
assert d["peak_open"] == n, "not all open at once: %d" % d["peak_open"]
PY
	# One thread per connection and a few of the process's own; a sealing
	# thread per slow upload would make it 2 x N_CITIES.
	[ "$peak" -ge "$N_CITIES" ] && [ "$peak" -lt $((N_CITIES + 40)) ] ||
		{ echo "expected about $N_CITIES threads"; return 1; }
	# Each one stored and recorded once, by its own municipality.
	[ $(($(grep -c '"event":"upload.stored"' "$T/data/audit.log") - before)) \
		= "$N_CITIES" ] || return 1
	for i in 0 $((N_CITIES / 2)) $((N_CITIES - 1)); do
		grep '"event":"upload.stored"' "$T/data/audit.log" |
			grep -q "muni:$(sed -n "$((i + 1))p" "$T/slow/codes.txt")" ||
			{ echo "no upload.stored by city $i"; return 1; }
	done
}

setup || { echo "setup failed"; cat "$T/receiver.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
