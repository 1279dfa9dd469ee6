# construction.sh: what a binary imports, for the construction checks of
# run-tests.sh (sourced).
#
# imports BIN: its undefined dynamic symbols, without their versions.
imports() { nm -D --undefined-only "$1" | awk '{print $2}' | sed 's/@.*//'; }

# none_of BIN SYMBOL...: succeeds when BIN imports none of the symbols.
none_of() {
	local bin=$1 list
	shift
	[ -x "$bin" ] || { echo "$bin: not built" >&2; return 1; }
	list=$(imports "$bin") || return 1
	! printf '%s\n' "$list" | grep -qxE "$(IFS='|'; echo "$*")"
}
