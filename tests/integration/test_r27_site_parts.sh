#!/usr/bin/env bash
# test_r27_site_parts.sh: each DMZ host holds only its part of the site
# file (R27). `sekisho-vault site-part` writes the receiver's part without
# the recipients, the roster, the policies or the registers' texts, and the
# sender's without the municipalities, the roster or the policies; each
# host runs on its part, renders the same firewall from it as from the
# whole file, and the pipeline works end to end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pipeline.sh"

URL="https://127.0.0.1:$((PORT + 2))/v1/releases"

test_r27_parts_hold_only_what_each_host_needs() {
	"$VAULT" site-part "$T/site.conf" --role receiver > "$T/receiver-site.conf" &&
	"$VAULT" site-part "$T/site.conf" --role sender > "$T/sender-site.conf" ||
		return 1
	# The whole file has all of it, so that the greps below can fail.
	grep -q 'univ-a' "$T/site.conf" && grep -q '131156' "$T/site.conf" &&
	grep -q 'public_key' "$T/site.conf" && grep -q 'checkup.policy' "$T/site.conf" &&
	! grep -v '^#' "$T/receiver-site.conf" |
		grep -qE 'univ-a|urn:sekisho:recip|public_key|operators|checkup.policy' &&
	grep -q '131156' "$T/receiver-site.conf" &&
	! grep -v '^#' "$T/sender-site.conf" |
		grep -qE '131156|urn:sekisho:muni|public_key|operators|checkup.policy' &&
	grep -q 'univ-a' "$T/sender-site.conf" &&
	! "$VAULT" site-part "$T/site.conf" --role vault 2>/dev/null
}

test_r27_each_part_renders_the_same_firewall() {
	local role
	for role in receiver sender; do
		diff <("$BIN/sekisho-firewall" -c "$T/site.conf" --role $role render | grep -v '^#') \
			<("$BIN/sekisho-firewall" -c "$T/$role-site.conf" --role $role render | grep -v '^#') ||
			return 1
	done
}

test_r27_the_pipeline_runs_on_the_parts() {
	stop_receiver && stop_sender &&
	sed -i 's|^site = "site.conf";|site = "receiver-site.conf";|' "$T/receiver.conf" &&
	sed -i 's|^site = "site.conf";|site = "sender-site.conf";|' "$T/sender.conf" &&
	grep -q 'receiver-site.conf' "$T/receiver.conf" &&
	"$BIN/sekisho-receiver" -c "$T/receiver.conf" check-config >/dev/null &&
	"$BIN/sekisho-sender" -c "$T/sender.conf" check-config >/dev/null &&
	start_receiver "$PORT" && start_sender || return 1
	python3 "$GEN" 300 131 "$T/a.csv" &&
	[ "$(upload "$T/a.csv" health-checkup)" = 201 ] && A=$(cat "$T/id") &&
	wait_state "$A" awaiting_approval &&
	approve "$A" op1 >/dev/null && approve "$A" op2 >/dev/null &&
	wait_state "$A" published &&
	recip -o "$T/release.csv" "$URL/$(rid_of "$A")" &&
	[ "$(head -1 "$T/release.csv" | tr -d '\r')" != "" ]
}

run_pipeline_tests
