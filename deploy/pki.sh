#!/usr/bin/env bash
# pki.sh: Sekisho's certificate authority tool, a thin layer over openssl.
#
#   pki.sh DIR init-ca CA "Common Name"        create a CA in DIR/CA
#   pki.sh DIR issue CA NAME [--client|--server] [--uri URI] [--ip ADDR]...
#          [--dns NAME]... [--days N]           issue DIR/CA/issued/NAME.{crt,key}
#   pki.sh DIR revoke CA NAME                   revoke NAME and refresh the CRL
#   pki.sh DIR crl CA                           (re)write DIR/CA/crl.pem
#
# Keys are ECDSA P-256 (R55), written with mode 0600. Municipalities get
# client certificates whose SAN URI is urn:sekisho:muni:<code>, recipients
# urn:sekisho:recip:<id>, hosts urn:sekisho:host:<role>: the identities the
# site configuration names.
set -euo pipefail
umask 077

die() { echo "pki.sh: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: pki.sh DIR init-ca|issue|revoke|crl ..."
top=$1; cmd=$2; shift 2

ca_conf() {
	local d=$1
	cat > "$d/openssl.cnf" <<EOF
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
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
EOF
}

init_ca() {
	local name=$1 cn=$2 d="$top/$1"
	[ -e "$d/ca.crt" ] && die "CA $name exists in $d"
	mkdir -p "$d/newcerts" "$d/issued"
	: > "$d/index.txt"
	echo 1000 > "$d/serial"
	echo 1000 > "$d/crlnumber"
	ca_conf "$d"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$d/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$d/ca.key" -subj "/CN=$cn" -days 3650 \
		-sha256 -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$d/ca.crt" 2>/dev/null
	chmod 644 "$d/ca.crt"
	write_crl "$name"
}

write_crl() {
	local d="$top/$1"
	openssl ca -batch -config "$d/openssl.cnf" -gencrl -out "$d/crl.pem" \
		2>/dev/null || die "cannot write the CRL of $1"
	chmod 644 "$d/crl.pem"
}

issue() {
	local ca=$1 name=$2; shift 2
	local d="$top/$ca" kind=client days=825 san=() eku
	[ -f "$d/ca.crt" ] || die "no CA $ca in $top"
	while [ $# -gt 0 ]; do
		case $1 in
		--client) kind=client ;;
		--server) kind=server ;;
		--uri) san+=("URI:$2"); shift ;;
		--ip) san+=("IP:$2"); shift ;;
		--dns) san+=("DNS:$2"); shift ;;
		--days) days=$2; shift ;;
		*) die "unknown option $1" ;;
		esac
		shift
	done
	case $kind in
	client) eku=clientAuth ;;
	server) eku=serverAuth,clientAuth ;;
	esac
	local key="$d/issued/$name.key" crt="$d/issued/$name.crt"
	local tmp; tmp=$(mktemp -d)
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$key" 2>/dev/null
	openssl req -new -key "$key" -subj "/CN=$name" -out "$tmp/req.csr" \
		2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$eku"
		if [ ${#san[@]} -gt 0 ]; then
			(IFS=,; echo "subjectAltName=${san[*]}")
		fi
	} > "$tmp/ext.cnf"
	openssl ca -batch -config "$d/openssl.cnf" -in "$tmp/req.csr" \
		-out "$crt" -extfile "$tmp/ext.cnf" -days "$days" -notext \
		2>"$tmp/err" || { cat "$tmp/err" >&2; rm -rf "$tmp"; die "issue failed"; }
	rm -rf "$tmp"
	chmod 644 "$crt"
	chmod 600 "$key"
}

revoke() {
	local ca=$1 name=$2 d="$top/$1"
	[ -f "$d/issued/$name.crt" ] || die "no certificate $name under CA $ca"
	openssl ca -batch -config "$d/openssl.cnf" -revoke "$d/issued/$name.crt" \
		2>/dev/null || die "cannot revoke $name"
	write_crl "$ca"
}

case $cmd in
init-ca) [ $# -eq 2 ] || die "init-ca CA \"Common Name\""; init_ca "$1" "$2" ;;
issue) [ $# -ge 2 ] || die "issue CA NAME [options]"; issue "$@" ;;
revoke) [ $# -eq 2 ] || die "revoke CA NAME"; revoke "$1" "$2" ;;
crl) [ $# -eq 1 ] || die "crl CA"; write_crl "$1" ;;
*) die "unknown command $cmd" ;;
esac
