#!/usr/bin/env bash
# test_r19_debian_package.sh: the Debian packages (issue 21, R19: software
# kept current through Debian's own tools). `make deb` builds them; lintian
# finds nothing at the warning level; they are installed with dpkg -i into a
# throwaway Debian root made by mmdebstrap from this machine's own apt
# sources, with only the packages their Depends name; there the installed
# programs check the example site, and `dpkg -r` leaves nothing of ours but
# the conffiles, which `dpkg --purge` takes too.
. "$(dirname "$0")/lib.sh"

D=$TOP/build/deb
R=$T/root			# the throwaway root
PKGS="sekisho sekisho-receiver sekisho-vault sekisho-sender"
VERSION=$(sed -n 's/^#define SK_VERSION "\(.*\)"$/\1/p' "$TOP/common/version.h")

# in_root COMMAND...: COMMAND in the root, with /proc and /dev mounted in
# a mount namespace of its own (they vanish with it: nothing to unmount,
# and nothing of the host's below $T when it is removed).
in_root() {
	unshare --mount --propagation private -- sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
		exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 "$@"' sh "$R" "$@"
}

debs() {	# the binary packages, without their debug symbols
	local p
	for p in $PKGS; do echo "$D/${p}_${VERSION}_amd64.deb"; done
}

test_r19_make_deb_builds_the_four_packages() {
	make -s -C "$TOP" deb > "$T/deb.log" 2>&1 || { tail -30 "$T/deb.log" >&2; return 1; }
	local f
	for f in $(debs); do
		[ -f "$f" ] || { echo "no $f" >&2; return 1; }
	done
	# one version: the changelog's is the programs'
	[ "$(cd "$TOP/deploy" && dpkg-parsechangelog -l debian/changelog -S Version)" = "$VERSION" ]
}

test_r19_lintian_finds_nothing_at_warning_level() {
	local out
	out=$(lintian --fail-on warning "$D"/sekisho_"$VERSION"_amd64.changes 2>&1) ||
		{ echo "$out" >&2; return 1; }
	# Nothing at all is printed at the default level (E, W).
	! echo "$out" | grep -q '^[EW]: '
}

# Each role's package holds its own program, unit, user and folder, and no
# other role's (every binary only its role's code, R17).
test_r17_each_role_package_holds_only_its_role() {
	local r o list
	for r in receiver vault sender; do
		list=$(dpkg-deb -c "$D/sekisho-${r}_${VERSION}_amd64.deb" | awk '{print $6}')
		echo "$list" | grep -qx "./usr/sbin/sekisho-$r" &&
		echo "$list" | grep -qx "./lib/systemd/system/sekisho-$r.service" &&
		echo "$list" | grep -qx "./usr/lib/sysusers.d/sekisho-$r.conf" &&
		echo "$list" | grep -qx "./usr/lib/tmpfiles.d/sekisho-$r.conf" &&
		echo "$list" | grep -qx "./etc/sekisho/$r.conf" || return 1
		for o in receiver vault sender firewall; do
			[ "$o" = "$r" ] && continue
			! echo "$list" | grep -q "sekisho-$o" || { echo "$r holds $o" >&2; return 1; }
		done
		# Depends from shlibs: the libraries the program links
		dpkg-deb -f "$D/sekisho-${r}_${VERSION}_amd64.deb" Depends |
			grep -q 'libssl3 (>= 3' || return 1
	done
	dpkg-deb -f "$D/sekisho_${VERSION}_amd64.deb" Depends | grep -q 'libnftnl11' &&
	! dpkg-deb -f "$D/sekisho-receiver_${VERSION}_amd64.deb" Depends | grep -q nftnl
}

# The packages' Depends, each alternative's first choice, without ours.
deps_of_debs() {
	local f
	for f in $(debs); do
		dpkg-deb -f "$f" Depends | tr ',' '\n'
	done | sed -e 's/|.*//' -e 's/(.*)//' -e 's/ //g' | grep -v '^sekisho' |
		grep -v '^$' | sort -u | paste -sd, -
}

test_r19_dpkg_installs_into_a_fresh_root() {
	local deps src=() f
	deps=$(deps_of_debs) && [ -n "$deps" ] || return 1
	# This machine's own apt sources, never an address of ours.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && src+=("$f")
	done
	[ ${#src[@]} -gt 0 ] || { echo "no apt sources on this machine" >&2; return 1; }
	mmdebstrap --quiet --variant=essential --include="$deps" bookworm "$R" \
		"${src[@]}" > "$T/mmdebstrap.log" 2>&1 ||
		{ tail -20 "$T/mmdebstrap.log" >&2; return 1; }
	mkdir -p "$R/tmp/debs" && cp $(debs) "$R/tmp/debs/" || return 1
	# nothing of ours there before
	! ls "$R"/usr/sbin/sekisho-* > /dev/null 2>&1 || return 1
	find "$R" -xdev \( -type f -o -type l \) | sort > "$T/before" &&
	in_root dpkg -i /tmp/debs/sekisho_"$VERSION"_amd64.deb \
		/tmp/debs/sekisho-receiver_"$VERSION"_amd64.deb \
		/tmp/debs/sekisho-vault_"$VERSION"_amd64.deb \
		/tmp/debs/sekisho-sender_"$VERSION"_amd64.deb > "$T/dpkg.log" 2>&1 ||
		{ cat "$T/dpkg.log" >&2; return 1; }
	in_root dpkg-query -W -f='${Status}\n' $PKGS | grep -vc '^install ok installed$' |
		grep -qx 0
}

# Postinst made each role's user and folder, and enabled nothing: a daemon
# starts once its host is configured (systemctl enable --now).
test_r17_users_folders_and_nothing_enabled() {
	local r uid
	for r in receiver vault sender; do
		uid=$(awk -F: -v u="sekisho-$r" '$1 == u {print $3}' "$R/etc/passwd")
		[ -n "$uid" ] && [ "$(stat -c %u:%a "$R/var/lib/sekisho/$r")" = "$uid:700" ] ||
			{ echo "sekisho-$r: user or folder" >&2; return 1; }
		[ "$(in_root systemctl is-enabled sekisho-$r.service 2>/dev/null)" = disabled ] ||
			return 1
	done
	[ "$(stat -c %a "$R/etc/sekisho/keys")" = 711 ] &&
	[ "$(stat -c %a "$R/var/lib/sekisho/firewall")" = 700 ]
}

# The installed programs run there: --version, a PKI by the installed
# sekisho-pki, and each role's check-config passes on the example site.
test_r19_installed_programs_check_the_example_site() {
	local r
	in_root sekisho-receiver --version | grep -qx "sekisho-receiver $VERSION" &&
	in_root sekisho-pki --version | grep -qx "sekisho-pki $VERSION" || return 1
	example_site_pki "$R/root/pki" in_root sekisho-pki /root/pki &&
	example_site_layout "$R/root/pki" "$R/usr/share/doc/sekisho/examples" \
		"$R/etc/sekisho" /etc/sekisho /var/lib/sekisho || return 1
	for r in receiver vault sender; do
		in_root "sekisho-$r" -c "/etc/sekisho/$r.conf" check-config \
			> "$T/check-$r.log" 2>&1 || { cat "$T/check-$r.log" >&2; return 1; }
		grep -q "/etc/sekisho/$r.conf: OK" "$T/check-$r.log" || return 1
	done
	in_root sekisho-firewall -c /etc/sekisho/receiver.conf render |
		grep -q 'table inet sekisho'
}

# dpkg -r: of every file the packages installed, only conffiles remain;
# dpkg --purge takes them too. What the administrator put in /etc/sekisho
# (the site, certificates, keys) is theirs and stays.
test_r19_remove_leaves_only_conffiles_and_purge_none() {
	local p f conf left
	for p in $PKGS; do
		in_root dpkg-query -L "$p"
	done | sort -u > "$T/ours" &&
	conf=$(for p in $PKGS; do in_root dpkg-query -W -f='${Conffiles}\n' "$p"; done |
		awk 'NF {print $1}' | sort -u) &&
	[ "$(echo "$conf" | wc -l)" = 3 ] || return 1
	in_root dpkg -r $PKGS > "$T/remove.log" 2>&1 || { cat "$T/remove.log" >&2; return 1; }
	while read -r f; do
		# a folder (or /lib, a link to one) is not a file of ours
		[ -d "$R$f" ] && continue
		[ -e "$R$f" ] || [ -L "$R$f" ] || continue
		echo "$conf" | grep -qxF "$f" || { echo "left behind: $f" >&2; return 1; }
	done < "$T/ours"
	for f in $conf; do
		[ -f "$R$f" ] || { echo "conffile $f removed by dpkg -r" >&2; return 1; }
	done
	[ -f "$R/etc/sekisho/site.conf" ] && [ -f "$R/etc/sekisho/keys/vault.key" ] ||
		return 1
	in_root dpkg --purge $PKGS > "$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; return 1; }
	for f in $conf; do
		[ ! -e "$R$f" ] || { echo "conffile $f left by purge" >&2; return 1; }
	done
	# nothing of ours among the root's files but what the test laid out
	# (dpkg's own records and logs, and the users' entries, aside)
	find "$R" -xdev \( -type f -o -type l \) | sort > "$T/after" || return 1
	left=$(comm -13 "$T/before" "$T/after" |
		grep -v "^$R/etc/sekisho/\|^$R/root/pki/\|^$R/var/lib/dpkg/\|^$R/var/log/" |
		grep -v "^$R/etc/\(passwd\|group\|shadow\|gshadow\)-\?$")
	[ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
}

for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
	check "$t" "$t"
done
summary
