/*
 * test_fw.c: the firewall's pure core without a kernel: each role's rules,
 * the rendered text, and the netlink batch parsed back (R02, R03, R05, R18).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "config.h"
#include "fw.h"
#include "fwbatch.h"
#include "sk.h"

static const char site_text[] =
    "site: { name = \"t\"; };\n"
    "ca: { municipalities = \"m\"; recipients = \"r\"; internal = \"i\"; };\n"
    "hosts: {\n"
    "  receiver: { identity = \"urn:sekisho:host:receiver\";\n"
    "    external: { address = \"192.0.2.1\"; port = 8443; interface = \"eth0\"; };\n"
    "    internal: { address = \"198.51.100.1\"; port = 9443; interface = \"eth1\"; }; };\n"
    "  vault: { identity = \"urn:sekisho:host:vault\"; address = \"198.51.100.2\";\n"
    "    sender_address = \"198.51.100.5\"; };\n"
    "  sender: { identity = \"urn:sekisho:host:sender\";\n"
    "    external: { address = \"203.0.113.1\"; port = 8444; };\n"
    "    internal: { address = \"198.51.100.6\"; port = 9444; }; };\n"
    "};\n"
    "management: { networks = [ \"192.0.2.128/28\", \"2001:db8:ff::/64\" ]; };\n"
    "datasets = ( { id = \"d\"; } );\n"
    "municipalities = (\n"
    "  { id = \"131156\"; identity = \"urn:sekisho:muni:131156\";\n"
    "    networks = [ \"192.0.2.0/26\", \"2001:db8:1::/48\" ]; datasets = [ \"d\" ]; },\n"
    "  { id = \"011002\"; identity = \"urn:sekisho:muni:011002\";\n"
    "    networks = [ \"192.0.2.0/26\", \"192.0.2.64/26\" ]; datasets = [ \"d\" ]; }\n"
    ");\n"
    "recipients = ( { id = \"u\"; identity = \"urn:sekisho:recip:u\";\n"
    "  networks = [ \"203.0.113.0/24\" ]; } );\n";

static struct site_config *site;

static int
setup(void **state)
{
	struct config_error err;

	(void)state;
	return site_config_load_string(site_text, "/t/site.conf", &site, &err);
}

static int
teardown(void **state)
{
	(void)state;
	site_config_free(site);
	return 0;
}

static char *
render(enum config_role role, int lockdown, struct fw_ruleset *rs)
{
	char *text = NULL;

	assert_int_equal(fw_build(site, role, lockdown, rs), 0);
	assert_int_equal(fw_render(rs, config_role_name(role), lockdown,
	    &text), 0);
	return text;
}

/* The lines of one chain in the rendered text. */
static const char *
chain_text(const char *text, const char *chain, char *buf, size_t cap)
{
	char head[64];
	const char *start, *end;

	snprintf(head, sizeof(head), "chain %s {", chain);
	assert_non_null(start = strstr(text, head));
	assert_non_null(end = strstr(start, "\t}"));
	snprintf(buf, cap, "%.*s", (int)(end - start), start);
	return buf;
}

static void
test_r02_receiver_rules(void **state)
{
	struct fw_ruleset rs;
	char *text = render(ROLE_RECEIVER, 0, &rs), in[8192], out[8192];

	(void)state;
	chain_text(text, "input", in, sizeof(in));
	chain_text(text, "output", out, sizeof(out));
	/* The municipalities' networks are one set, one rule. */
	assert_non_null(strstr(in, "iifname \"eth0\" ip saddr @municipal_v4 "
	    "ip daddr 192.0.2.1 tcp dport 8443 ct state new accept"));
	assert_non_null(strstr(text, "\tset municipal_v4 {\n"
	    "\t\ttype ipv4_addr\n\t\tflags interval\n"
	    "\t\telements = { 192.0.2.0/26 comment \"131156, 011002\", "
	    "192.0.2.64/26 comment \"011002\" }\n\t}\n"));
	assert_non_null(strstr(in, "iifname \"eth1\" ip saddr 198.51.100.2 "
	    "ip daddr 198.51.100.1 tcp dport 9443 ct state new accept"));
	/* A network shared by two municipalities is one element. */
	assert_null(strstr(strstr(text, "192.0.2.0/26") + 1, "192.0.2.0/26"));
	/* An IPv6 network cannot reach an IPv4 listener: no set for it. */
	assert_null(strstr(text, "2001:db8:1::"));
	assert_null(strstr(text, "municipal_v6"));
	/* SSH from the management networks only, IPv4 and IPv6. */
	assert_non_null(strstr(in, "ip saddr @management_v4 tcp dport 22 "
	    "ct state new accept"));
	assert_non_null(strstr(in, "ip6 saddr @management_v6 tcp dport 22 "
	    "ct state new accept"));
	assert_non_null(strstr(text, "elements = { 192.0.2.128/28 comment "
	    "\"administrators\" }"));
	assert_non_null(strstr(text, "elements = { 2001:db8:ff::/64 comment "
	    "\"administrators\" }"));
	/* Nothing new goes out. */
	assert_null(strstr(out, "ct state new"));
	assert_non_null(strstr(text, "policy drop;"));
	/* Each chain logs with its own prefix and ends in a counted drop
	 * of its own, not only in its policy. */
	assert_non_null(strstr(text, "log prefix \"sekisho-drop-in \" "
	    "comment \"log what is refused, a little\"\n"
	    "\t\tcounter drop comment \"everything else\"\n\t}"));
	assert_non_null(strstr(text, "log prefix \"sekisho-drop-out \" "
	    "comment \"log what is refused, a little\"\n"
	    "\t\tcounter drop comment \"everything else\"\n\t}"));
	assert_non_null(strstr(text, "log prefix \"sekisho-drop-fwd \" "
	    "comment \"log what is refused, a little\"\n"
	    "\t\tcounter drop comment \"everything else\"\n\t}"));
	fw_free(&rs);
	free(text);
}

/* The receiver's own time, name and log servers: UDP 123, UDP and TCP 53,
 * UDP 514 to those addresses only; none for the vault (R06). */
static void
test_r02_receiver_egress_to_its_named_servers_only(void **state)
{
	static const char from[] = "identity = \"urn:sekisho:host:receiver\";";
	char text[sizeof(site_text) + 256], *out = NULL, o[8192];
	const char *at = strstr(site_text, from);
	struct site_config *s = NULL;
	struct config_error err;
	struct fw_ruleset rs;

	(void)state;
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s ntp = [ \"192.0.2.200\" ]; "
	    "dns = [ \"192.0.2.201\" ]; syslog = [ \"2001:db8::202\" ];%s",
	    (int)(at - site_text), site_text, from, at + strlen(from));
	assert_int_equal(site_config_load_string(text, "/t/site.conf", &s,
	    &err), 0);
	assert_int_equal(fw_build(s, ROLE_RECEIVER, 0, &rs), 0);
	assert_int_equal(fw_render(&rs, "receiver", 0, &out), 0);
	chain_text(out, "output", o, sizeof(o));
	assert_non_null(strstr(o, "ip daddr 192.0.2.200 udp dport 123 ct state "
	    "new accept"));
	assert_non_null(strstr(o, "ip daddr 192.0.2.201 udp dport 53 ct state "
	    "new accept"));
	assert_non_null(strstr(o, "ip daddr 192.0.2.201 tcp dport 53 ct state "
	    "new accept"));
	assert_non_null(strstr(o, "ip6 daddr 2001:db8::202 udp dport 514 ct "
	    "state new accept"));
	/* Those four, and no other new connection out. */
	assert_null(strstr(strstr(strstr(strstr(strstr(o, "ct state new") +
	    1, "ct state new") + 1, "ct state new") + 1, "ct state new") + 1,
	    "ct state new"));
	fw_free(&rs);
	free(out);
	site_config_free(s);
	/* A plain address only, and never on the vault. */
	snprintf(text, sizeof(text), "%.*s%s ntp = [ \"192.0.2.0/24\" ];%s",
	    (int)(at - site_text), site_text, from, at + strlen(from));
	assert_int_not_equal(site_config_load_string(text, "/t/site.conf", &s,
	    &err), 0);
	assert_non_null(strstr(err.message, "is not an IPv4 or IPv6 address"));
	at = strstr(site_text, "address = \"198.51.100.2\";");
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s ntp = [ \"192.0.2.200\" ]; %s",
	    (int)(at - site_text), site_text, at);
	assert_int_not_equal(site_config_load_string(text, "/t/site.conf", &s,
	    &err), 0);
	assert_non_null(strstr(err.message, "(R06)"));
}

/* A site text with one substitution: from becomes to (both present). */
static char *
site_with(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	size_t n = strlen(base) + strlen(to) + 1;
	char *t;

	assert_non_null(at);
	assert_non_null(t = malloc(n));
	snprintf(t, n, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return t;
}

/*
 * Issue 21, a firewall an admin can live with: SSH bound to the management
 * interface, ping from the administrators when asked, the vault's output
 * rules on their links' interfaces, and every rule and set element saying
 * whom it is for; a city's name is kept to 127 bytes, cut at a character,
 * with nothing that would end nft's quoted string.
 */
static void
test_r18_interfaces_ping_and_comments(void **state)
{
	/* 45 three-byte characters: 135 bytes, over nft's 127 */
	static const char longname[] = "北海道北海道北海道北海道北海道"
	    "北海道北海道北海道北海道北海道北海道北海道北海道北海道北海道";
	char *a, *b, *c, *d, *text = NULL, in[8192], out[8192], name[256];
	struct site_config *s = NULL;
	struct config_error err;
	struct fw_ruleset rs;
	const char *p;

	(void)state;
	snprintf(name, sizeof(name), "id = \"011002\"; name = \"%s\";",
	    longname);
	a = site_with(site_text, "\"2001:db8:ff::/64\" ];", "\"2001:db8:ff::/64\" ]; "
	    "interface = \"mgmt0\"; icmp_echo = true;");
	b = site_with(a, "sender_address = \"198.51.100.5\";", "sender_address = "
	    "\"198.51.100.5\"; interface = \"ens4\"; sender_interface = \"ens5\";");
	c = site_with(b, "id = \"131156\";", "id = \"131156\"; name = "
	    "\"Chuo \\\"City\\\"\";");
	d = site_with(c, "id = \"011002\";", name);
	assert_int_equal(site_config_load_string(d, "/t/site.conf", &s, &err), 0);
	assert_int_equal(fw_build(s, ROLE_RECEIVER, 0, &rs), 0);
	assert_int_equal(fw_render(&rs, "receiver", 0, &text), 0);
	chain_text(text, "input", in, sizeof(in));
	assert_non_null(strstr(in, "iifname \"mgmt0\" ip saddr @management_v4 "
	    "tcp dport 22 ct state new accept comment \"management SSH\"\n"));
	assert_non_null(strstr(in, "iifname \"mgmt0\" ip6 saddr @management_v6 "
	    "tcp dport 22 ct state new accept comment \"management SSH\"\n"));
	assert_non_null(strstr(in, "iifname \"mgmt0\" ip saddr @management_v4 "
	    "icmp type echo-request ct state new accept comment \"ping from the "
	    "administrators\"\n"));
	assert_non_null(strstr(in, "iifname \"mgmt0\" ip6 saddr @management_v6 "
	    "icmpv6 type echo-request ct state new accept"));
	assert_non_null(strstr(in, "tcp dport 8443 ct state new accept comment "
	    "\"uploads from the municipalities\"\n"));
	assert_non_null(strstr(in, "tcp dport 9443 ct state new accept comment "
	    "\"the vault takes the uploads\"\n"));
	/* the quotes of the name became apostrophes; a long name is cut to
	 * 127 bytes at a character's boundary */
	assert_non_null(p = strstr(text, "192.0.2.0/26 comment \"131156 Chuo "
	    "'City', 011002 北海道"));
	/* both cities in 127 bytes: 27 and 100 of the name's, of which the
	 * last is the first byte of a character, dropped */
	p += strlen("192.0.2.0/26 comment \"131156 Chuo 'City', 011002 ");
	assert_int_equal(strchr(p, '"') - p, 99);
	assert_non_null(p = strstr(text, "192.0.2.64/26 comment \"011002 "));
	p += strlen("192.0.2.64/26 comment \"011002 ");
	assert_int_equal(strchr(p, '"') - p, 120);
	assert_memory_equal(p, longname, 120);
	fw_free(&rs);
	free(text);
	/* the vault's two ways out, each on its own link */
	assert_int_equal(fw_build(s, ROLE_VAULT, 0, &rs), 0);
	assert_int_equal(fw_render(&rs, "vault", 0, &text), 0);
	chain_text(text, "output", out, sizeof(out));
	assert_non_null(strstr(out, "oifname \"ens4\" ip saddr 198.51.100.2 ip "
	    "daddr 198.51.100.1 tcp dport 9443 ct state new accept comment \"to "
	    "the receiver\"\n"));
	assert_non_null(strstr(out, "oifname \"ens5\" ip saddr 198.51.100.5 ip "
	    "daddr 198.51.100.6 tcp dport 9444 ct state new accept comment \"to "
	    "the sender\"\n"));
	assert_null(strstr(text, "echo-request"));	/* no ping to the vault */
	fw_free(&rs);
	free(text);
	site_config_free(s);
	/* An interface name the kernel would not take is refused. */
	free(a);
	a = site_with(site_text, "\"2001:db8:ff::/64\" ];", "\"2001:db8:ff::/64\" ]; "
	    "interface = \"mgmt 0\";");
	assert_int_not_equal(site_config_load_string(a, "/t/site.conf", &s,
	    &err), 0);
	assert_non_null(strstr(err.message, "'interface' must be an interface "
	    "name"));
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_r05_vault_rules(void **state)
{
	struct fw_ruleset rs;
	char *text = render(ROLE_VAULT, 0, &rs), in[8192], out[8192];
	const char *p;
	int n = 0;

	(void)state;
	chain_text(text, "input", in, sizeof(in));
	chain_text(text, "output", out, sizeof(out));
	assert_null(strstr(in, "ct state new"));	/* nothing comes in */
	for (p = out; (p = strstr(p, "ct state new accept")) != NULL; p++)
		n++;
	assert_int_equal(n, 2);			/* exactly two ways out */
	assert_int_equal(rs.nsets, 0);		/* and no SSH set */
	assert_non_null(strstr(out, "ip saddr 198.51.100.2 ip daddr "
	    "198.51.100.1 tcp dport 9443 ct state new accept"));
	assert_non_null(strstr(out, "ip saddr 198.51.100.5 ip daddr "
	    "198.51.100.6 tcp dport 9444 ct state new accept"));
	fw_free(&rs);
	free(text);
}

static void
test_r03_sender_rules(void **state)
{
	struct fw_ruleset rs;
	char *text = render(ROLE_SENDER, 0, &rs), in[8192], out[8192];

	(void)state;
	chain_text(text, "input", in, sizeof(in));
	chain_text(text, "output", out, sizeof(out));
	assert_non_null(strstr(in, "ip saddr @recipient_v4 ip daddr "
	    "203.0.113.1 tcp dport 8444 ct state new accept"));
	assert_non_null(strstr(text, "set recipient_v4 {"));
	assert_non_null(strstr(text, "elements = { 203.0.113.0/24 comment \"u\" }"));
	assert_null(strstr(text, "municipal_v"));
	assert_non_null(strstr(in, "ip saddr 198.51.100.5 ip daddr "
	    "198.51.100.6 tcp dport 9444 ct state new accept"));
	assert_null(strstr(out, "ct state new"));
	fw_free(&rs);
	free(text);
}

/*
 * Push recipients (R03): no way in for them, one way out to each
 * endpoint from the external address; with push recipients alone the
 * external port takes nothing new at all.
 */
static void
test_r03_sender_push_rules(void **state)
{
	static const char *const tails[2] = {
	    "recipients = ( { id = \"u\"; identity = \"urn:sekisho:recip:u\";\n"
	    "  networks = [ \"203.0.113.0/24\" ]; },\n"
	    " { id = \"p\"; identity = \"urn:sekisho:recip:p\";\n"
	    "  networks = [ \"198.18.0.0/24\" ]; delivery = \"push\";\n"
	    "  endpoint = \"https://198.18.0.10:8443/in/\";\n"
	    "  endpoint_ca = \"p-ca.crt\"; endpoint_name = \"in.p.example\"; } );\n",
	    "recipients = ( { id = \"p\"; identity = \"urn:sekisho:recip:p\";\n"
	    "  networks = [ \"198.18.0.0/24\" ]; delivery = \"push\";\n"
	    "  endpoint = \"https://198.18.0.10:8443/in/\";\n"
	    "  endpoint_ca = \"p-ca.crt\"; endpoint_name = \"in.p.example\"; } );\n" };
	struct site_config *ps;
	struct config_error err;
	struct fw_ruleset rs;
	char buf[8192], in[8192], out[8192], *text = NULL;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "%.*s%s",
		    (int)(strstr(site_text, "recipients = (") - site_text),
		    site_text, tails[i]);
		assert_int_equal(site_config_load_string(buf, "/t/site.conf",
		    &ps, &err), 0);
		assert_int_equal(fw_build(ps, ROLE_SENDER, 0, &rs), 0);
		assert_int_equal(fw_render(&rs, "sender", 0, &text), 0);
		chain_text(text, "input", in, sizeof(in));
		chain_text(text, "output", out, sizeof(out));
		assert_non_null(strstr(out, "ip saddr 203.0.113.1 ip daddr "
		    "198.18.0.10 tcp dport 8443 ct state new accept"));
		assert_null(strstr(text, "198.18.0.0/24"));	/* no way in */
		if (i == 0)
			assert_non_null(strstr(in, "tcp dport 8444 ct state "
			    "new accept"));
		else
			assert_null(strstr(in, "dport 8444"));
		fw_free(&rs);
		free(text);
		text = NULL;
		assert_int_equal(fw_systemd_dropin(ps, ROLE_SENDER, &text), 0);
		assert_non_null(strstr(text, "IPAddressAllow=198.18.0.10\n"));
		assert_non_null(strstr(text, "SystemCallFilter=\n"
		    "SystemCallFilter=@system-service\n"));
		free(text);
		text = NULL;
		site_config_free(ps);
	}
	/* A pull-only sender keeps the unit's ~connect. */
	assert_int_equal(fw_systemd_dropin(site, ROLE_SENDER, &text), 0);
	assert_null(strstr(text, "SystemCallFilter"));
	free(text);
}

static void
test_r24_lockdown_keeps_only_loopback(void **state)
{
	struct fw_ruleset rs;
	char *text = render(ROLE_RECEIVER, 1, &rs);

	size_t i;

	(void)state;
	/* Loopback in and out, then each chain's own counted drop. */
	assert_int_equal(rs.n, 2 + FW_NCHAINS);
	for (i = 2; i < rs.n; i++) {
		assert_int_equal(rs.rules[i].chain, (int)(i - 2));
		assert_int_equal(rs.rules[i].verdict, FW_DROP);
		assert_int_equal(rs.rules[i].counter, 1);
		assert_int_equal(rs.rules[i].ct, FW_CT_ANY);
		assert_int_equal(fw_rule_family(&rs.rules[i]), 0);
	}
	assert_null(strstr(text, "log prefix"));
	assert_int_equal(rs.nsets, 0);
	assert_null(strstr(text, "set "));
	assert_non_null(strstr(text, "iifname \"lo\" accept"));
	assert_non_null(strstr(text, "oifname \"lo\" accept"));
	assert_null(strstr(text, "established"));
	assert_null(strstr(text, "dport 22"));
	fw_free(&rs);
	free(text);
}

static void
test_generating_twice_gives_identical_bytes(void **state)
{
	struct fw_ruleset a, b;
	struct fw_batch ba, bb;
	char *ta = render(ROLE_RECEIVER, 0, &a), *tb = render(ROLE_RECEIVER, 0,
	    &b);

	(void)state;
	assert_string_equal(ta, tb);
	assert_string_equal(a.digest, b.digest);
	assert_int_equal(fw_batch_build(&a, "tag", &ba), 0);
	assert_int_equal(fw_batch_build(&b, "tag", &bb), 0);
	assert_int_equal(ba.len, bb.len);
	assert_memory_equal(ba.buf, bb.buf, ba.len);
	fw_batch_free(&ba);
	fw_batch_free(&bb);
	fw_free(&a);
	fw_free(&b);
	free(ta);
	free(tb);
}

struct guard {
	int nfproto, l4proto, bad;
};

static int
check_expr(struct nftnl_expr *e, void *data)
{
	struct guard *g = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "meta") == 0) {
		uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);

		g->nfproto |= key == NFT_META_NFPROTO;
		g->l4proto |= key == NFT_META_L4PROTO;
	} else if (strcmp(name, "payload") == 0) {
		uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);

		if (base == NFT_PAYLOAD_NETWORK_HEADER && !g->nfproto)
			g->bad = 1;
		if (base == NFT_PAYLOAD_TRANSPORT_HEADER && !g->l4proto)
			g->bad = 1;
	}
	return 0;
}

/* The batch: begin, table added, deleted, created, three chains, the
 * rules, end; every header load guarded by its protocol check. */
static void
test_batch_structure_and_protocol_guards(void **state)
{
	struct fw_ruleset rs;
	struct fw_batch b;
	char *text = render(ROLE_RECEIVER, 0, &rs);
	const struct nlmsghdr *h;
	int len, i = 0, rules = 0;
	uint16_t types[8];

	(void)state;
	assert_int_equal(fw_batch_build(&rs, "tag", &b), 0);
	/* municipal_v4, management_v4, management_v6: a set message and
	 * one element message each */
	assert_int_equal(rs.nsets, 3);
	assert_int_equal(b.nacks, 3 + 2 * 3 + FW_NCHAINS + rs.n);
	len = (int)b.len;
	for (h = (const struct nlmsghdr *)b.buf; mnl_nlmsg_ok(h, len);
	    h = mnl_nlmsg_next(h, &len), i++) {
		uint16_t type = h->nlmsg_type & 0xff;

		if (i < 8)
			types[i] = h->nlmsg_type;
		if (i > 0 && type == NFT_MSG_NEWRULE &&
		    (h->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES) {
			struct nftnl_rule *r = nftnl_rule_alloc();
			struct guard g = { 0 };

			assert_true(nftnl_rule_nlmsg_parse(h, r) >= 0);
			nftnl_expr_foreach(r, check_expr, &g);
			assert_false(g.bad);
			nftnl_rule_free(r);
			rules++;
		}
	}
	assert_int_equal(types[0], NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(types[1] & 0xff, NFT_MSG_NEWTABLE);
	assert_int_equal(types[2] & 0xff, NFT_MSG_DELTABLE);
	assert_int_equal(types[3] & 0xff, NFT_MSG_NEWTABLE);
	assert_int_equal(types[4] & 0xff, NFT_MSG_NEWSET);
	assert_int_equal(types[5] & 0xff, NFT_MSG_NEWSETELEM);
	assert_int_equal(rules, (int)rs.n);
	assert_int_equal(i, (int)(1 + 3 + 2 * 3 + FW_NCHAINS + rs.n + 1));
	fw_batch_free(&b);
	fw_free(&rs);
	free(text);
}

/* Networks inside others fold into them; adjacent ones stay apart; the
 * kernel elements are start and last + 1, flagged end, and a network at
 * the top of the address space has no end. */
static void
test_r18_set_normalized_into_intervals(void **state)
{
	static const char *const nets[] = { "10.0.0.0/16", "10.0.5.0/24",
		"10.0.0.0/16", "10.1.0.0/16", "9.255.255.255/32",
		"255.255.255.0/24" };
	struct site_config *big;
	struct config_error err;
	struct fw_ruleset rs;
	struct fw_elem *el;
	size_t i, n;
	char text[4096], *t = NULL;
	int o;

	(void)state;
	o = snprintf(text, sizeof(text), "%.*s", (int)(strstr(site_text,
	    "municipalities = (") - site_text), site_text);
	o += snprintf(text + o, sizeof(text) - (size_t)o, "municipalities = "
	    "( { id = \"131156\"; identity = \"urn:sekisho:muni:131156\";\n"
	    "networks = [ ");
	for (i = 0; i < SK_ARRAY_LEN(nets); i++)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%s\"%s\"",
		    i ? ", " : "", nets[i]);
	snprintf(text + o, sizeof(text) - (size_t)o, " ]; datasets = "
	    "[ \"d\" ]; } );\n%s", strstr(site_text, "recipients = ("));
	assert_int_equal(site_config_load_string(text, "/t/big.conf", &big,
	    &err), 0);
	assert_int_equal(fw_build(big, ROLE_RECEIVER, 0, &rs), 0);
	assert_int_equal(fw_render(&rs, "receiver", 0, &t), 0);
	assert_non_null(strstr(t, "elements = { 9.255.255.255 comment \"131156\", "
	    "10.0.0.0/16 comment \"131156\",\n\t\t\t     10.1.0.0/16 comment "
	    "\"131156\", 255.255.255.0/24 comment \"131156\" }"));
	for (i = 0; i < rs.nsets; i++)
		if (strcmp(rs.sets[i].name, "municipal_v4") == 0)
			break;
	assert_true(i < rs.nsets);
	assert_int_equal(fw_set_elements(&rs.sets[i], &el, &n), 0);
	assert_int_equal(n, 7);
	/* 9.255.255.255 start, 10.0.0.0 end then 10.0.0.0 start (adjacent),
	 * 10.1.0.0 end and start, 10.2.0.0 end, 255.255.255.0 start. */
	assert_memory_equal(el[0].key, "\x09\xff\xff\xff", 4);
	assert_false(el[0].end);
	assert_memory_equal(el[1].key, "\x0a\x00\x00\x00", 4);
	assert_true(el[1].end);
	assert_memory_equal(el[2].key, "\x0a\x00\x00\x00", 4);
	assert_false(el[2].end);
	assert_memory_equal(el[5].key, "\x0a\x02\x00\x00", 4);
	assert_true(el[5].end);
	assert_memory_equal(el[6].key, "\xff\xff\xff\x00", 4);
	assert_false(el[6].end);
	free(el);
	free(t);
	fw_free(&rs);
	site_config_free(big);
}

/* The systemd layer: each unit may exchange packets with its peers only,
 * from the same site file as the nftables rules. */
static void
test_systemd_dropin_per_role(void **state)
{
	char *text = NULL;

	(void)state;
	assert_int_equal(fw_systemd_dropin(site, ROLE_RECEIVER, &text), 0);
	assert_non_null(strstr(text, "[Service]\nIPAddressDeny=any\n"
	    "IPAddressAllow=192.0.2.0/26\nIPAddressAllow=2001:db8:1::/48\n"
	    "IPAddressAllow=192.0.2.0/26\nIPAddressAllow=192.0.2.64/26\n"
	    "IPAddressAllow=198.51.100.2\n"));
	assert_null(strstr(text, "203.0.113"));		/* no recipients */
	assert_null(strstr(text, "192.0.2.128"));	/* SSH is not ours */
	free(text);
	assert_int_equal(fw_systemd_dropin(site, ROLE_VAULT, &text), 0);
	assert_non_null(strstr(text, "IPAddressDeny=any\n"
	    "IPAddressAllow=198.51.100.1\nIPAddressAllow=198.51.100.6\n"));
	assert_null(strstr(text, "192.0.2."));
	free(text);
	assert_int_equal(fw_systemd_dropin(site, ROLE_SENDER, &text), 0);
	assert_non_null(strstr(text, "IPAddressDeny=any\n"
	    "IPAddressAllow=203.0.113.0/24\nIPAddressAllow=198.51.100.5\n"));
	assert_non_null(strstr(text, "site digest "));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r02_receiver_rules),
		cmocka_unit_test(test_systemd_dropin_per_role),
		cmocka_unit_test(test_r05_vault_rules),
		cmocka_unit_test(test_r18_interfaces_ping_and_comments),
		cmocka_unit_test(test_r03_sender_rules),
		cmocka_unit_test(test_r03_sender_push_rules),
		cmocka_unit_test(test_r24_lockdown_keeps_only_loopback),
		cmocka_unit_test(test_r02_receiver_egress_to_its_named_servers_only),
		cmocka_unit_test(test_generating_twice_gives_identical_bytes),
		cmocka_unit_test(test_batch_structure_and_protocol_guards),
		cmocka_unit_test(test_r18_set_normalized_into_intervals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
