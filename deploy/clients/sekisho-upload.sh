#!/usr/bin/env bash
# sekisho-upload.sh: sends one file to the Sekisho gateway with curl and
# goes on after a broken line instead of starting again: before each try it
# asks the gateway how much of the file it holds (HEAD, Upload-Offset) and
# sends only the rest (curl -C, Content-Range). The Content-Digest is the
# whole file's, so the receipt is checked against all of it.
#
#   sekisho-upload.sh --gateway https://192.0.2.10:8443 \
#       --dataset health-checkup --cert 112232.crt --key 112232.key \
#       --cacert internal-ca.crt [--tries 10] kenshin.csv
#
# Exit 0 with the receipt (JSON) on standard output; 1 when the gateway
# refused the file (its JSON error on standard error: not worth a retry);
# 2 when it could not be delivered within the tries; 64 for bad usage.
# Needs bash, curl and openssl (for the digest).
set -u

usage() {
	echo "usage: $0 --gateway URL --dataset ID --cert CRT --key KEY --cacert CA [--tries N] FILE" >&2
	exit 64
}

gateway= dataset= cert= key= cacert= tries=10 file=
while [ $# -gt 0 ]; do
	case $1 in
	--gateway) gateway=${2:-}; shift 2 ;;
	--dataset) dataset=${2:-}; shift 2 ;;
	--cert) cert=${2:-}; shift 2 ;;
	--key) key=${2:-}; shift 2 ;;
	--cacert) cacert=${2:-}; shift 2 ;;
	--tries) tries=${2:-}; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "$0: unknown option $1" >&2; usage ;;
	*) [ -z "$file" ] || usage; file=$1; shift ;;
	esac
done
[ -n "$gateway" ] && [ -n "$dataset" ] && [ -n "$cert" ] && [ -n "$key" ] &&
	[ -n "$cacert" ] && [ -n "$file" ] || usage
case $tries in ''|*[!0-9]*) usage ;; esac
[ -f "$file" ] && [ -r "$file" ] || { echo "$0: cannot read $file" >&2; exit 64; }

# The file's name as one path segment: every byte but A-Z a-z 0-9 - . _ ~
# percent-encoded (UTF-8 names stay UTF-8 on the wire).
encode() {
	local LC_ALL=C s=$1 i c out=
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

url="${gateway%/}/v1/uploads/$(encode "$dataset")/$(encode "${file##*/}")"
digest="sha-256=:$(openssl dgst -sha256 -binary "$file" | openssl base64 -A):" ||
	exit 64
size=$(wc -c < "$file")
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
tls=(--cert "$cert" --key "$key" --cacert "$cacert" --tlsv1.2 -sS)

# held: how many bytes of this file the gateway holds from a cut try (0
# for none).
held() {
	local code
	code=$(curl "${tls[@]}" -I -D "$tmp/head" -o /dev/null -w '%{http_code}' \
		"$url" 2>/dev/null) || { echo 0; return; }
	if [ "$code" = 200 ]; then
		tr -d '\r' < "$tmp/head" |
			awk -F': ' 'tolower($1) == "upload-offset" {print $2; exit}'
	else
		echo 0
	fi
}

wait_s=5
for ((try = 1; try <= tries; try++)); do
	off=$(held)
	case $off in ''|*[!0-9]*) off=0 ;; esac
	if [ "$off" -gt 0 ] && [ "$off" -lt "$size" ]; then
		echo "try $try: the gateway holds $off of $size bytes; sending the rest" >&2
		range=(-C "$off")
	else
		echo "try $try: sending $size bytes" >&2
		range=()
	fi
	code=$(curl "${tls[@]}" "${range[@]}" -H "Content-Digest: $digest" \
		-T "$file" -o "$tmp/body" -w '%{http_code}' "$url")
	case $code in
	200|201)
		cat "$tmp/body"
		exit 0 ;;
	408|409|429|5??|000|100)
		# Cut, stalled, or the gateway busy: go on from what it holds.
		[ -s "$tmp/body" ] && cat "$tmp/body" >&2 && echo >&2 ;;
	*)
		echo "$0: the gateway refused the file ($code):" >&2
		cat "$tmp/body" >&2
		echo >&2
		exit 1 ;;
	esac
	[ "$try" -lt "$tries" ] || break
	echo "try $try did not finish ($code); again in $wait_s s" >&2
	sleep "$wait_s"
	[ "$wait_s" -ge 300 ] || wait_s=$((wait_s * 2))
done
echo "$0: not delivered after $tries tries" >&2
exit 2
