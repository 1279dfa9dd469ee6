#!/usr/bin/env bash
# pki.sh: Sekisho's certificate authority tool, a thin layer over openssl
# (installed as sekisho-pki; see sekisho-pki(8) and docs/admin-guide.md).
#
#   pki.sh DIR init-ca CA "Common Name" [--passphrase]
#                                               create a CA in DIR/CA (its key
#                                               encrypted with a passphrase)
#   pki.sh DIR issue CA NAME [--client|--server|--envelope] [--uri URI] [--ip ADDR]...
#          [--signing] [--dns NAME]... [--days N]
#                                               issue DIR/CA/issued/NAME.{crt,key}
#   pki.sh DIR host ROLE [--ip ADDR]... [--dns NAME]...
#                                               a host of the appliance (internal-ca);
#                                               for the vault also vault-envelope,
#                                               the pair CMS uploads are sealed to,
#                                               and vault-signing, the pair that
#                                               signs each release's manifest
#   pki.sh DIR muni CODE                        a municipality (muni-ca)
#   pki.sh DIR recipient ID                     a data recipient (recip-ca)
#   pki.sh DIR operator ID [--passphrase]       an operator's signing key pair
#   pki.sh DIR renew CA NAME [--days N]         new key and certificate, same
#                                               names; the old one is revoked
#   pki.sh DIR rotate-ca CA ["Common Name"]     a new CA; the old one is retired
#                                               and bundle.crt trusts both
#   pki.sh DIR revoke CA NAME                   revoke NAME and refresh the CRL
#   pki.sh DIR crl CA [--days N]                (re)write DIR/CA/crl.pem, valid
#                                               N days (default 60); prints
#                                               its nextUpdate
#   pki.sh DIR sign-req CA NAME REQ.csr [--client|--server] [--uri URI]...
#                                               sign a request made where the
#                                               key stays (a city's own machine)
#   pki.sh DIR muni CODE [--csr REQ.csr]        the same for a municipality
#   pki.sh DIR list                             every certificate and its state
#
# Every path comes from DIR as given on this command line, each time (the
# CA's openssl.cnf is rewritten from it before each use), so a copied or
# moved PKI signs with its own CA. A name that has a certificate already
# is not issued again: renew it, or revoke it first. A CRL is valid 60 days
# unless --days says otherwise (SEKISHO_CRL_DAYS for revoke and renew);
# write it again with `crl` every month: the daemons warn 30 days before its
# nextUpdate, and after it every client of that CA is refused.
#
# Keys are ECDSA P-256 (R55), written with mode 0600; operators' keys are
# Ed25519. With --passphrase a CA's or an operator's key is encrypted
# (AES-256): openssl asks for the passphrase at the terminal whenever the
# key is used, or takes SEKISHO_PKI_PASSPHRASE when a script sets it (the
# vault's console takes an operator's from SEKISHO_KEY_PASSPHRASE). The
# hosts' keys stay unencrypted: a daemon has nobody to ask. Municipalities get client certificates whose SAN URI is
# urn:sekisho:muni:<code>, recipients urn:sekisho:recip:<id>, hosts
# urn:sekisho:host:<role>: the identities the site configuration names.
# The CAs are muni-ca, recip-ca and internal-ca (init-ca makes them).
set -euo pipefail
umask 077

# The version of Sekisho this tool belongs to: the same as common/version.h
# (tests/integration/test_cli.sh holds the two together).
SK_VERSION=0.1.0

die() { echo "pki.sh: $*" >&2; exit 2; }

usage() {	# the commands, from this file's own header
	echo "usage: sekisho-pki DIR init-ca|issue|host|muni|recipient|operator|renew|rotate-ca|revoke|crl|sign-req|list ..."
	sed -n '/^#   pki.sh DIR init-ca/,/^#   pki.sh DIR list/p' "$0" |
		sed -e 's/^#   pki.sh /  sekisho-pki /' -e 's/^#  /  /'
	echo "See sekisho-pki(8)."
}

case ${1:-} in
--help|-h) usage; exit 0 ;;
--version)
	echo "sekisho-pki $SK_VERSION"
	openssl version
	exit 0 ;;
-*|"") usage >&2; exit 2 ;;
esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
top=$1; cmd=$2; shift 2

ca_conf() {
	local d
	d=$(cd "$1" && pwd -P) || die "no folder $1"
	cat > "$1/openssl.cnf" <<EOF
# Written by sekisho-pki from the folder it was given, before each use.
[ ca ]
default_ca = sekisho
[ sekisho ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 825
default_crl_days = ${SEKISHO_CRL_DAYS:-60}
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
EOF
}

# An encrypted CA or operator key (--passphrase): openssl asks for the
# passphrase at the terminal, or takes SEKISHO_PKI_PASSPHRASE when a script
# sets it. pass_opts in|out|gen: the options for that, or none.
pass_opts() {
	[ -n "${SEKISHO_PKI_PASSPHRASE:-}" ] || return 0
	case $1 in
	in) printf '%s\n' -passin env:SEKISHO_PKI_PASSPHRASE ;;
	gen) printf '%s\n' -pass env:SEKISHO_PKI_PASSPHRASE ;;
	esac
}

# key_pass_opts KEY: -passin for KEY when it is encrypted.
key_pass_opts() {
	grep -q ENCRYPTED "$1" 2>/dev/null && pass_opts in
	return 0
}

init_ca() {
	local name=$1 cn=$2 d="$top/$1" enc=() pin=()
	[ "${3:-}" = --passphrase ] && enc=(-aes-256-cbc) &&
		mapfile -t -O 1 enc < <(pass_opts gen)
	[ -e "$d/ca.crt" ] && die "CA $name exists in $d"
	mkdir -p "$d/newcerts" "$d/issued"
	: > "$d/index.txt"
	echo 1000 > "$d/serial"
	echo 1000 > "$d/crlnumber"
	ca_conf "$d"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		"${enc[@]}" -out "$d/ca.key" 2>/dev/null ||
		die "cannot make the key of CA $name (a passphrase of 4 or more characters?)"
	mapfile -t pin < <(key_pass_opts "$d/ca.key")
	openssl req -x509 -new -key "$d/ca.key" "${pin[@]}" -subj "/CN=$cn" -days 3650 \
		-sha256 -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$d/ca.crt" 2>/dev/null
	chmod 644 "$d/ca.crt"
	write_crl "$name"
}

# openssl ca on the CA in folder $1, configured from that folder now.
ca_run() {
	local d=$1 pin=(); shift
	ca_conf "$d"
	mapfile -t pin < <(key_pass_opts "$d/ca.key")
	openssl ca -batch -config "$d/openssl.cnf" "${pin[@]}" "$@"
}

write_crl() {
	local d="$top/$1"
	ca_run "$d" -gencrl -out "$d/crl.pem" 2>/dev/null ||
		die "cannot write the CRL of $1"
	chmod 644 "$d/crl.pem"
}

# The 2-digit-weighted check digit of a local government code (JIS X 0401/
# 0402): digits 1-5 times 6,5,4,3,2, summed; 11 minus the sum mod 11, its
# last digit.
code_ok() {
	local c=$1 s=0 i w=(6 5 4 3 2)
	for i in 0 1 2 3 4; do s=$((s + ${c:i:1} * ${w[i]})); done
	[ "${c:5:1}" = $(( (11 - s % 11) % 10 )) ]
}

issue() {
	local ca=$1 name=$2; shift 2
	local d="$top/$ca" kind=client days=825 san=() eku
	[ -f "$d/ca.crt" ] || die "no CA $ca in $top"
	while [ $# -gt 0 ]; do
		case $1 in
		--client) kind=client ;;
		--server) kind=server ;;
		--envelope) kind=envelope ;;
		--signing) kind=signing ;;
		--uri) san+=("URI:$2"); shift ;;
		--ip) san+=("IP:$2"); shift ;;
		--dns) san+=("DNS:$2"); shift ;;
		--days) days=$2; shift ;;
		*) die "unknown option $1" ;;
		esac
		shift
	done
	local ku=digitalSignature
	case $kind in
	client) eku=clientAuth ;;
	server) eku=serverAuth,clientAuth ;;
	# What CMS envelopes are encrypted to (ECDH): no TLS use at all.
	envelope) eku=emailProtection; ku=keyAgreement ;;
	# What signs each release's manifest (CMS SignedData): recipients
	# check it with openssl cms -verify, whose default purpose wants
	# emailProtection; no TLS use at all.
	signing) eku=emailProtection; ku=digitalSignature,nonRepudiation ;;
	esac
	local key="$d/issued/$name.key" crt="$d/issued/$name.crt"
	# A live certificate is never replaced quietly; a revoked or expired
	# one is kept aside, and the name issued again.
	if [ -e "$crt" ]; then
		openssl verify -crl_check -CAfile "$d/ca.crt" -CRLfile "$d/crl.pem" \
			"$crt" >/dev/null 2>&1 &&
			die "$name has a live certificate under $ca (until $(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)): renew it ('renew $ca $name') or revoke it first"
		local stamp; stamp=$(date -u +%Y%m%dT%H%M%SZ)
		mv "$crt" "$crt.old-$stamp"
		[ ! -e "$key" ] || mv "$key" "$key.old-$stamp"
	fi
	local tmp; tmp=$(mktemp -d)
	if [ -n "${CSR:-}" ]; then
		# The key stays where the request was made: check the request
		# is signed by its key and that the key is P-256 (R55).
		openssl req -in "$CSR" -noout -verify 2>/dev/null ||
			{ rm -rf "$tmp"; die "$CSR: not a request signed by its own key"; }
		openssl req -in "$CSR" -noout -text 2>/dev/null |
			grep -q 'NIST CURVE: P-256' ||
			{ rm -rf "$tmp"; die "$CSR: the key must be ECDSA P-256"; }
		cp "$CSR" "$tmp/req.csr"
	else
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out "$key" 2>/dev/null
		openssl req -new -key "$key" -subj "/CN=$name" -out "$tmp/req.csr" \
			2>/dev/null
	fi
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,$ku"
		echo "extendedKeyUsage=$eku"
		echo "subjectKeyIdentifier=hash"
		echo "authorityKeyIdentifier=keyid"
		if [ ${#san[@]} -gt 0 ]; then
			(IFS=,; echo "subjectAltName=${san[*]}")
		fi
	} > "$tmp/ext.cnf"
	# The subject is ours (CN=name), whatever the request says.
	ca_run "$d" -in "$tmp/req.csr" -subj "/CN=$name" -out "$crt" \
		-extfile "$tmp/ext.cnf" -days "$days" -notext \
		2>"$tmp/err" || { cat "$tmp/err" >&2; rm -rf "$tmp"; die "issue failed"; }
	rm -rf "$tmp"
	chmod 644 "$crt"
	[ -n "${CSR:-}" ] || chmod 600 "$key"
}

revoke() {
	local ca=$1 name=$2 d="$top/$1"
	[ -f "$d/issued/$name.crt" ] || die "no certificate $name under CA $ca"
	ca_run "$d" -revoke "$d/issued/$name.crt" 2>/dev/null ||
		die "cannot revoke $name"
	write_crl "$ca"
}

# The roles' identities, as the site configuration names them.
host() {
	local role=$1; shift
	case $role in
	receiver|sender) issue internal-ca "$role" --server \
		--uri "urn:sekisho:host:$role" "$@" ;;
	# The vault gets two pairs: TLS, and the one envelopes are sealed to.
	vault) issue internal-ca vault --client --uri urn:sekisho:host:vault "$@"
		issue internal-ca vault-envelope --envelope \
			--uri urn:sekisho:host:vault-envelope
		issue internal-ca vault-signing --signing \
			--uri urn:sekisho:host:vault-signing ;;
	*) die "host: the role is receiver, vault or sender" ;;
	esac
}

muni() {
	local code=$1; shift
	[[ $code =~ ^[0-9]{6}$ ]] || die "muni: a 6-digit local government code"
	code_ok "$code" || die "muni: $code: the check digit (the 6th) is wrong"
	if [ $# -eq 2 ] && [ "$1" = --csr ]; then
		CSR=$2 issue muni-ca "$code" --client --uri "urn:sekisho:muni:$code"
	elif [ $# -eq 0 ]; then
		issue muni-ca "$code" --client --uri "urn:sekisho:muni:$code"
	else
		die "muni CODE [--csr REQ.csr]"
	fi
}

# sign-req CA NAME REQ [issue options]: a certificate for a key made
# elsewhere (the admin guide's recommended way for cities and recipients).
sign_req() {
	local ca=$1 name=$2 req=$3; shift 3
	[ -f "$req" ] || die "sign-req: no request $req"
	CSR=$req issue "$ca" "$name" "$@"
	echo "$top/$ca/issued/$name.crt: signed; send it back with $top/$ca/ca.crt"
}

crl() {
	local ca=$1; shift
	if [ $# -eq 2 ] && [ "$1" = --days ]; then
		[[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] || die "crl: --days N, N >= 1"
		SEKISHO_CRL_DAYS=$2 write_crl "$ca"
	elif [ $# -eq 0 ]; then
		write_crl "$ca"
	else
		die "crl CA [--days N]"
	fi
	echo "$top/$ca/crl.pem: next update $(openssl crl -in "$top/$ca/crl.pem" -noout -nextupdate | cut -d= -f2); write it again before then"
}

recipient() {
	[[ $1 =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "recipient: an id of a-z, 0-9, . _ -"
	issue recip-ca "$1" --client --uri "urn:sekisho:recip:$1"
}

# An operator signs approvals with an Ed25519 key (R41, R53): the private
# key stays with the operator, the public key goes into the roster.
operator() {
	local d="$top/operators" id=$1 enc=() pin=()
	[ "${2:-}" = --passphrase ] && enc=(-aes-256-cbc) &&
		mapfile -t -O 1 enc < <(pass_opts gen)
	[[ $id =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "operator: an id of a-z, 0-9, . _ -"
	[ -e "$d/$id.key" ] && die "operator $id has a key already"
	mkdir -p "$d"
	openssl genpkey -algorithm ED25519 "${enc[@]}" -out "$d/$id.key" 2>/dev/null ||
		die "cannot make the key of operator $id (a passphrase of 4 or more characters?)"
	mapfile -t pin < <(key_pass_opts "$d/$id.key")
	openssl pkey -in "$d/$id.key" "${pin[@]}" -pubout -out "$d/$id.pub"
	chmod 600 "$d/$id.key"
	chmod 644 "$d/$id.pub"
	echo "$d/$id.pub: for the roster (operators.public_key)"
}

# renew CA NAME: a new key and certificate with the same names and kind;
# the certificate it replaces is revoked (superseded) and the CRL rewritten.
renew() {
	local ca=$1 name=$2 d="$top/$1"; shift 2
	local crt="$d/issued/$name.crt" args=() san kind=--client old
	[ -f "$crt" ] || die "no certificate $name under CA $ca"
	san=$(openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null |
		tail -n +2 | tr ',' '\n' | sed 's/^ *//')
	while IFS= read -r line; do
		case $line in
		URI:*) args+=(--uri "${line#URI:}") ;;
		DNS:*) args+=(--dns "${line#DNS:}") ;;
		"IP Address:"*) args+=(--ip "${line#IP Address:}") ;;
		esac
	done <<< "$san"
	openssl x509 -in "$crt" -noout -ext extendedKeyUsage 2>/dev/null |
		grep -q "TLS Web Server" && kind=--server
	openssl x509 -in "$crt" -noout -ext extendedKeyUsage 2>/dev/null |
		grep -q "E-mail Protection" && kind=--envelope
	old=$(mktemp -d)
	cp -p "$crt" "$d/issued/$name.key" "$old/"
	rm -f "$crt" "$d/issued/$name.key"
	if ! (issue "$ca" "$name" "$kind" "${args[@]}" "$@"); then
		cp -p "$old/$name.crt" "$old/$name.key" "$d/issued/"
		rm -rf "$old"
		die "renew failed; $name left as it was"
	fi
	ca_run "$d" -revoke "$old/$name.crt" -crl_reason superseded \
		2>/dev/null || die "cannot revoke the old $name"
	rm -rf "$old"
	write_crl "$ca"
	echo "$crt: renewed; the old certificate is revoked in $d/crl.pem"
}

# rotate-ca CA: the old CA moves to CA.retired-<time> (it can still revoke
# and write CRLs there); a new CA takes its place; CA/bundle.crt and
# CA/bundle-crl.pem hold both, for the site to trust during the changeover.
rotate_ca() {
	local ca=$1 d="$top/$1" cn old old_cn
	[ -f "$d/ca.crt" ] || die "no CA $ca in $top"
	old_cn=$(openssl x509 -in "$d/ca.crt" -noout -subject -nameopt multiline |
		sed -n 's/^ *commonName *= *//p')
	# The new CA needs a name of its own: certificates and CRLs are
	# matched to their CA by name.
	if [ $# -ge 2 ]; then
		cn=$2
	else
		cn="${old_cn% (*} ($(date -u +%Y-%m-%dT%H%M%SZ))"
	fi
	[ "$cn" != "$old_cn" ] || die "the new CA needs another name than $old_cn"
	old="$top/$ca.retired-$(date -u +%Y%m%dT%H%M%SZ)"
	mv "$d" "$old"
	init_ca "$ca" "$cn"
	cat "$d/ca.crt" "$old/ca.crt" > "$d/bundle.crt"
	cat "$d/crl.pem" "$old/crl.pem" > "$d/bundle-crl.pem"
	chmod 644 "$d/bundle.crt" "$d/bundle-crl.pem"
	echo "$d: new CA; the old one is $old"
	echo "trust $d/bundle.crt (and bundle-crl.pem) until every certificate is re-issued"
}

list() {
	local c ca name state end
	for c in "$top"/*/issued/*.crt; do
		[ -f "$c" ] || continue
		ca=$(basename "$(dirname "$(dirname "$c")")")
		name=$(basename "$c" .crt)
		end=$(openssl x509 -in "$c" -noout -enddate | cut -d= -f2)
		if openssl verify -crl_check -CAfile "$top/$ca/ca.crt" \
		    -CRLfile "$top/$ca/crl.pem" "$c" >/dev/null 2>&1; then
			state=valid
		else
			state=revoked-or-invalid
		fi
		printf '%-28s %-16s %-20s until %s\n' "$ca" "$name" "$state" "$end"
	done
}

case $cmd in
init-ca) [ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = --passphrase ]; } ||
	die "init-ca CA \"Common Name\" [--passphrase]"; init_ca "$@" ;;
issue) [ $# -ge 2 ] || die "issue CA NAME [options]"; issue "$@" ;;
host) [ $# -ge 1 ] || die "host ROLE [--ip ADDR]... [--dns NAME]..."; host "$@" ;;
muni) [ $# -ge 1 ] || die "muni CODE [--csr REQ.csr]"; muni "$@" ;;
sign-req) [ $# -ge 3 ] || die "sign-req CA NAME REQ.csr [options]"; sign_req "$@" ;;
recipient) [ $# -eq 1 ] || die "recipient ID"; recipient "$1" ;;
operator) [ $# -eq 1 ] || { [ $# -eq 2 ] && [ "$2" = --passphrase ]; } ||
	die "operator ID [--passphrase]"; operator "$@" ;;
renew) [ $# -ge 2 ] || die "renew CA NAME [--days N]"; renew "$@" ;;
rotate-ca) [ $# -ge 1 ] && [ $# -le 2 ] || die "rotate-ca CA [\"Common Name\"]"
	rotate_ca "$@" ;;
revoke) [ $# -eq 2 ] || die "revoke CA NAME"; revoke "$1" "$2" ;;
crl) [ $# -ge 1 ] || die "crl CA [--days N]"; crl "$@" ;;
list) [ $# -eq 0 ] || die "list"; list ;;
*) die "unknown command $cmd" ;;
esac
