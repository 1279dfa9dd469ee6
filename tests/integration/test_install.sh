#!/usr/bin/env bash
# test_install.sh: `make install` into a staging DESTDIR, and the tree it
# makes: programs, units (systemd-analyze verify), sysusers.d and
# tmpfiles.d entries applied to a scratch root, man pages (man -l), and the
# example site checked by the installed programs with a PKI made by the
# installed sekisho-pki, laid out as docs/admin-guide.md says (R14, R17).
. "$(dirname "$0")/lib.sh"

S=$T/stage			# DESTDIR
R=$T/root			# a scratch root for sysusers, tmpfiles, /etc
SBIN=$S/usr/sbin

setup() {
	make -s -C "$TOP" install DESTDIR="$S" PREFIX=/usr >"$T/install.log" 2>&1
}

test_tree_has_every_part() {
	local f
	for f in usr/sbin/sekisho-receiver usr/sbin/sekisho-vault \
	    usr/sbin/sekisho-sender usr/sbin/sekisho-firewall usr/sbin/sekisho-pki \
	    usr/lib/systemd/system/sekisho-receiver.service \
	    usr/lib/systemd/system/sekisho-vault.service \
	    usr/lib/systemd/system/sekisho-sender.service \
	    usr/lib/systemd/system/sekisho-firewall@.service \
	    usr/lib/systemd/system/sekisho-firewall-verify@.service \
	    usr/lib/systemd/system/sekisho-firewall-verify@.timer \
	    usr/lib/sysusers.d/sekisho-receiver.conf \
	    usr/lib/sysusers.d/sekisho-vault.conf \
	    usr/lib/sysusers.d/sekisho-sender.conf usr/lib/tmpfiles.d/sekisho.conf \
	    usr/lib/tmpfiles.d/sekisho-receiver.conf \
	    usr/lib/tmpfiles.d/sekisho-vault.conf \
	    usr/lib/tmpfiles.d/sekisho-sender.conf \
	    usr/share/man/man5/sekisho.conf.5 usr/share/man/man5/sekisho-policy.5 \
	    usr/share/man/man8/sekisho-pki.8 usr/share/man/man8/sekisho-pusher.8 \
	    usr/share/man/man8/sekisho-receiver.8 usr/share/man/man8/sekisho-vault.8 \
	    usr/share/man/man8/sekisho-sender.8 usr/share/man/man8/sekisho-firewall.8 \
	    usr/share/doc/sekisho/examples/site.conf \
	    usr/share/doc/sekisho/examples/policies/health-checkup.policy \
	    usr/share/doc/sekisho/admin-guide.md \
	    usr/share/bash-completion/completions/sekisho-firewall; do
		[ -f "$S/$f" ] || { echo "missing $f" >&2; return 1; }
	done
	[ -d "$S/etc/sekisho" ]
}

# Programs 0755, everything else 0644 or a folder 0755; nothing writable by
# others, no set-id bit, and no key of any kind in the tree.
test_r14_file_modes_and_no_keys() {
	local bad
	bad=$(find "$S" -type f -path '*/sbin/*' ! -perm 0755)
	bad+=$(find "$S" -type f ! -path '*/sbin/*' ! -perm 0644)
	bad+=$(find "$S" -type d ! -perm 0755)
	bad+=$(find "$S" -perm -o+w ! -type l)
	bad+=$(find "$S" -perm /6000)
	bad+=$(find "$S" -name '*.key' -o -name '*.pem' -o -name 'master*')
	[ -z "$bad" ] || { echo "$bad" >&2; return 1; }
}

# Units parse with no warning (the paths point into the staging tree).
test_units_verify() {
	local u out
	command -v systemd-analyze >/dev/null || { echo "no systemd-analyze" >&2; return 1; }
	mkdir -p "$T/units"
	for u in "$S"/usr/lib/systemd/system/*.service \
	    "$S"/usr/lib/systemd/system/*.timer; do
		sed "s|/usr/sbin/|$SBIN/|g" "$u" > "$T/units/$(basename "$u")"
	done
	ln -s sekisho-firewall@.service "$T/units/sekisho-firewall@vault.service"
	ln -s sekisho-status@.service "$T/units/sekisho-status@receiver.service"
	ln -s sekisho-status@.timer "$T/units/sekisho-status@receiver.timer"
	ln -s sekisho-firewall-verify@.service "$T/units/sekisho-firewall-verify@vault.service"
	ln -s sekisho-firewall-verify@.timer "$T/units/sekisho-firewall-verify@vault.timer"
	out=$(cd "$T/units" && systemd-analyze verify --man=no \
		./sekisho-receiver.service ./sekisho-vault.service \
		./sekisho-sender.service ./sekisho-firewall@vault.service \
		./sekisho-status@receiver.service ./sekisho-status@receiver.timer \
		./sekisho-firewall-verify@vault.service \
		./sekisho-firewall-verify@vault.timer 2>&1)
	[ -z "$out" ] || { echo "$out" >&2; return 1; }
	# Debian's nftables.service flushes the ruleset: the firewall unit
	# comes after it and is restarted with it (R54).
	grep -q '^After=.*nftables.service' "$T/units/sekisho-firewall@.service" &&
	grep -q '^PartOf=nftables.service$' "$T/units/sekisho-firewall@.service" || return 1
	# The one-way lines are there (the fourth layer of DESIGN.md).
	grep -q '^SystemCallFilter=~connect$' "$T/units/sekisho-receiver.service" &&
	grep -q '^SystemCallFilter=~listen accept accept4$' "$T/units/sekisho-vault.service" &&
	grep -q '^SystemCallFilter=~connect$' "$T/units/sekisho-sender.service" &&
	grep -q '^IPAddressDeny=any$' "$T/units/sekisho-vault.service"
}

# sysusers.d and tmpfiles.d applied to a scratch root: the users exist and
# each folder has its owner and mode.
test_r17_sysusers_and_tmpfiles() {
	local d
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" "$S"/usr/lib/sysusers.d/sekisho-*.conf &&
	grep -q '^sekisho-vault:' "$R/etc/passwd" &&
	systemd-tmpfiles --root="$R" --create "$S/usr/lib/tmpfiles.d/sekisho.conf" \
		"$S"/usr/lib/tmpfiles.d/sekisho-*.conf || return 1
	for d in "receiver:700:sekisho-receiver" "vault:700:sekisho-vault" \
	    "sender:700:sekisho-sender" "firewall:700:0"; do
		set -- ${d//:/ }
		[ "$(stat -c %a "$R/var/lib/sekisho/$1")" = "$2" ] || return 1
		if [ "$3" = 0 ]; then
			[ "$(stat -c %u "$R/var/lib/sekisho/$1")" = 0 ] || return 1
		else
			[ "$(stat -c %u "$R/var/lib/sekisho/$1")" = \
			    "$(awk -F: -v u="$3" '$1 == u {print $3}' "$R/etc/passwd")" ] ||
				return 1
		fi
	done
	[ "$(stat -c %a "$R/etc/sekisho/keys")" = 711 ]
}

test_man_pages_render_without_warnings() {
	local m out
	command -v man >/dev/null || { echo "no man" >&2; return 1; }
	for m in "$S"/usr/share/man/man*/*; do
		out=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$m: $out" >&2; return 1; }
		MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q '^NAME' || return 1
	done
}

# What an administrator looks for in a manual page (issue 21): every
# program's page has EXIT STATUS, FILES and EXAMPLES, each daemon's
# SIGNALS; the policy format has its own page.
test_man_pages_have_the_sections_admins_look_for() {
	local m sec
	[ -f "$S/usr/share/man/man5/sekisho-policy.5" ] || return 1
	for m in "$S"/usr/share/man/man8/*.8; do
		for sec in "EXIT STATUS" FILES EXAMPLES; do
			grep -q "^\.SH $sec\$" "$m" || { echo "$m: no $sec" >&2; return 1; }
		done
	done
	for m in receiver vault sender pusher; do
		grep -q '^\.SH SIGNALS$' "$S/usr/share/man/man8/sekisho-$m.8" ||
			{ echo "sekisho-$m.8: no SIGNALS" >&2; return 1; }
	done
}

# The example site with a PKI from the installed sekisho-pki, copied to a
# root as the admin guide lays it out: every role's check-config passes,
# the firewall renders, and the drop-in names the role's peers.
test_example_site_checks_with_its_pki() {
	local e=$R/etc/sekisho r
	mkdir -p "$R/var/lib/sekisho" &&
	example_site_pki "$T/pki-site" "$SBIN/sekisho-pki" "$T/pki-site" &&
	example_site_layout "$T/pki-site" "$S/usr/share/doc/sekisho/examples" \
		"$e" "$e" "$R/var/lib/sekisho" || return 1
	for r in receiver vault sender; do
		"$SBIN/sekisho-$r" -c "$e/$r.conf" check-config || return 1
		"$SBIN/sekisho-firewall" -c "$e/site.conf" --role "$r" render \
			>/dev/null || return 1
	done
	"$SBIN/sekisho-firewall" -c "$e/site.conf" --role receiver systemd \
		> "$T/peers.conf" &&
	grep -q '^IPAddressAllow=10.11.100.0/24$' "$T/peers.conf" &&
	grep -q '^IPAddressAllow=172.16.1.2$' "$T/peers.conf" &&
	! grep -q '10.220.' "$T/peers.conf"
}

# -c means the host's local file for the firewall too (issue 21): it finds
# the role and the site through it and renders what the site and --role
# render; a role that is not the file's, or a site file without --role, is
# refused with a message that says which.
test_firewall_takes_the_local_file_as_every_program_does() {
	local e=$R/etc/sekisho r st=0
	for r in receiver vault sender; do
		"$SBIN/sekisho-firewall" -c "$e/$r.conf" render > "$T/fw-local" &&
		"$SBIN/sekisho-firewall" -c "$e/site.conf" --role "$r" render \
			> "$T/fw-site" || return 1
		# the first line names the generator and the role; same rules
		cmp -s "$T/fw-local" "$T/fw-site" || { diff "$T/fw-local" "$T/fw-site" >&2; return 1; }
		grep -q "$r" "$T/fw-local" || return 1
	done
	"$SBIN/sekisho-firewall" -c "$e/receiver.conf" --role vault render \
		> /dev/null 2> "$T/fw-err" || st=$?
	[ "$st" = 1 ] && grep -q "is the receiver's local file, not the vault's" "$T/fw-err" ||
		return 1
	st=0
	"$SBIN/sekisho-firewall" -c "$e/site.conf" render > /dev/null 2> "$T/fw-err" || st=$?
	[ "$st" = 1 ] && grep -q "is a site file: give --role" "$T/fw-err"
}

setup || { echo "setup failed"; cat "$T/install.log"; exit 1; }
for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
