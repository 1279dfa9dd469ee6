#!/usr/bin/env bash
# test_cli.sh: what an administrator types first (issue 21): --version and
# --help answer on stdout with exit status 0; a wrong call gets the usage
# on stderr and exit status 2.
. "$(dirname "$0")/lib.sh"

# The one version, from common/version.h.
VERSION=$(sed -n 's/^#define SK_VERSION "\(.*\)"$/\1/p' "$TOP/common/version.h")

cli() {	# cli NAME
	local b=$1 out st=0
	out=$("$BIN/sekisho-$b" --version) &&
	[ "$(echo "$out" | sed -n 1p)" = "sekisho-$b $VERSION" ] &&
	echo "$out" | grep -q '^OpenSSL 3\.' &&
	echo "$out" | grep -qE '^libconfig [0-9]+\.[0-9]+' &&
	"$BIN/sekisho-$b" --help > "$T/help" 2> "$T/help.err" &&
	grep -q "^usage: sekisho-$b" "$T/help" && [ ! -s "$T/help.err" ] || return 1
	"$BIN/sekisho-$b" --no-such-option > "$T/out" 2> "$T/err" || st=$?
	[ "$st" = 2 ] && [ ! -s "$T/out" ] && grep -q '^usage: ' "$T/err"
}

for b in receiver sender vault firewall pusher; do
	check "test_${b}_version_help_and_misuse" cli "$b"
done

# sekisho-pki is a script over openssl: the same conventions.
pki_cli() {
	local out st=0 p=$TOP/deploy/pki.sh
	out=$("$p" --version) &&
	[ "$(echo "$out" | sed -n 1p)" = "sekisho-pki $VERSION" ] &&
	echo "$out" | grep -q '^OpenSSL 3\.' &&
	"$p" --help > "$T/help" 2> "$T/help.err" &&
	grep -q '^usage: sekisho-pki DIR init-ca' "$T/help" && [ ! -s "$T/help.err" ] ||
		return 1
	"$p" --no-such-option > "$T/out" 2> "$T/err" || st=$?
	[ "$st" = 2 ] && [ ! -s "$T/out" ] && grep -q '^usage: ' "$T/err"
}
check test_pki_version_help_and_misuse pki_cli
summary
