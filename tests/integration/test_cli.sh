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

# complete_words LINE: what bash completion offers for the last word of
# LINE (a trailing space: a new word), through deploy/bash-completion.
complete_words() {
	bash -c '
		. "$1/deploy/bash-completion/sekisho"
		read -ra COMP_WORDS <<< "$2"
		[ "${2: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		f=$(complete -p "${COMP_WORDS[0]}" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		"$f"
		printf "%s\n" "${COMPREPLY[@]}" | sort' sh "$TOP" "$1"
}

# Bash completion knows each program's commands and their options, and
# every command it offers is one the program's --help names.
completion() {
	local b c
	[ "$(complete_words 'sekisho-vault -c v.conf release ap')" = approve ] &&
	[ "$(complete_words 'sekisho-vault -c v.conf release approve J --op')" = --operator ] &&
	[ "$(complete_words 'sekisho-receiver -c r.conf status --')" = "$(printf -- '--json\n--prometheus')" ] &&
	[ "$(complete_words 'sekisho-firewall -c r.conf --role s')" = sender ] &&
	[ "$(complete_words 'sekisho-pki /srv/pki host ')" = "$(printf 'receiver\nsender\nvault')" ] &&
	[ "$(complete_words 'sekisho-vault -c v.conf ledger --form ')" = "$(printf '10\n7\n8\n9')" ] ||
		return 1
	for b in receiver sender vault firewall; do
		"$BIN/sekisho-$b" --help > "$T/help" &&
		[ "$(complete_words "sekisho-$b " | grep -vc '^-')" -ge 5 ] || return 1
		for c in $(complete_words "sekisho-$b "); do
			case $c in -*) continue ;; esac
			grep -qE "(^| |\|)$c( |\||$)" "$T/help" ||
				{ echo "sekisho-$b: completion offers $c, --help does not name it" >&2; return 1; }
		done
	done
}
check test_bash_completion_offers_what_the_programs_take completion
summary
