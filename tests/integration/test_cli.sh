#!/usr/bin/env bash
# test_cli.sh: what an administrator types first (issue 21): --version and
# --help answer on stdout with exit status 0; a wrong call gets the usage
# on stderr and exit status 2.
. "$(dirname "$0")/lib.sh"

cli() {	# cli NAME
	local b=$1 out st=0
	out=$("$BIN/sekisho-$b" --version) &&
	echo "$out" | grep -qE "^sekisho-$b [0-9]+\.[0-9]+\.[0-9]+ \(OpenSSL " &&
	"$BIN/sekisho-$b" --help > "$T/help" 2> "$T/help.err" &&
	grep -q "^usage: sekisho-$b" "$T/help" && [ ! -s "$T/help.err" ] || return 1
	"$BIN/sekisho-$b" --no-such-option > "$T/out" 2> "$T/err" || st=$?
	[ "$st" = 2 ] && [ ! -s "$T/out" ] && grep -q '^usage: ' "$T/err"
}

for b in receiver sender vault firewall; do
	check "test_${b}_version_help_and_misuse" cli "$b"
done
summary
