# service_users.sh: the daemons' service users for tests and the test bed
# (sourced). Started as root, each daemon becomes sekisho-<role>; what a
# test or the bed makes, it notes in a file and removes again.

# service_users_add FILE: makes the users missing here, noting each in FILE.
service_users_add() {
	local u
	for u in sekisho-receiver sekisho-vault sekisho-sender; do
		id -u "$u" >/dev/null 2>&1 && continue
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$u" || return 1
		echo "$u" >> "$1"
	done
}

# service_users_remove FILE: removes the users FILE notes.
service_users_remove() {
	local u
	[ -f "$1" ] || return 0
	while read -r u; do
		[ -n "$u" ] && userdel "$u" 2>/dev/null
	done < "$1"
	rm -f "$1"
}
