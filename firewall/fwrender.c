/*
 * fwrender.c: the ruleset in nft syntax, for review and the admin guide
 * (pure), written exactly as `nft -s list table inet sekisho` prints it
 * (stateless: without the counters' values), so an administrator can
 * compare the two. `nft -f` loads it too. Its digest tags
 * the live table.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fw.h"
#include "sk.h"

static const char *
icmp6_name(int type)
{
	switch (type) {
	case 133: return "nd-router-solicit";
	case 134: return "nd-router-advert";
	case 135: return "nd-neighbor-solicit";
	case 136: return "nd-neighbor-advert";
	}
	return "?";
}

static void
addr_text(const struct netaddr *a, char *out, size_t cap)
{
	char ip[64];
	unsigned full = a->family == AF_INET ? 32 : 128;

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	if (a->prefixlen == full)
		snprintf(out, cap, "%s", ip);
	else
		snprintf(out, cap, "%s/%u", ip, a->prefixlen);
}

int
fw_render_rule(const struct fw_rule *r, char *buf, size_t cap)
{
	/* "ip" or "ip6" implies the nfproto check */
	const char *ip = fw_rule_family(r) == AF_INET ? "ip" : "ip6";
	char a[80];
	size_t o = 0;

#define PUT(...) do { \
	int n_ = snprintf(buf + o, cap - o, __VA_ARGS__); \
	if (n_ < 0 || (size_t)n_ >= cap - o) \
		return SK_ETOOBIG; \
	o += (size_t)n_; \
} while (0)
	buf[0] = '\0';
	if (r->iif[0] != '\0')
		PUT("iifname \"%s\" ", r->iif);
	if (r->oif[0] != '\0')
		PUT("oifname \"%s\" ", r->oif);
	/* nft's own notation: the protocol checks the batch carries before
	 * each header match are implied by the match and not printed. */
	if (r->sset[0] != '\0')
		PUT("%s saddr @%s ", ip, r->sset);
	else if (r->has_saddr) {
		addr_text(&r->saddr, a, sizeof(a));
		PUT("%s saddr %s ", ip, a);
	}
	if (r->has_daddr) {
		addr_text(&r->daddr, a, sizeof(a));
		PUT("%s daddr %s ", ip, a);
	}
	if (r->icmp_echo)
		PUT("%s type echo-request ", fw_rule_family(r) == AF_INET6 ?
		    "icmpv6" : "icmp");
	if (r->tcp && r->dport != 0)
		PUT("tcp dport %u ", r->dport);
	else if (r->tcp)
		PUT("meta l4proto tcp ");
	else if (r->udp && r->dport != 0)
		PUT("udp dport %u ", r->dport);
	else if (r->udp)
		PUT("meta l4proto udp ");
	if (r->icmp6_type >= 0)
		PUT("icmpv6 type %s ", icmp6_name(r->icmp6_type));
	if (r->ct == FW_CT_NEW)
		PUT("ct state new ");
	else if (r->ct == FW_CT_ESTREL)
		PUT("ct state established,related ");
	else if (r->ct == FW_CT_INVALID)
		PUT("ct state invalid ");
	if (r->counter)
		PUT("counter ");
	if (r->verdict == FW_LOG)
		PUT("limit rate 10/minute log prefix \"%s\"",
		    fw_log_prefixes[r->chain]);
	else
		PUT("%s", r->verdict == FW_ACCEPT ? "accept" : "drop");
	if (r->comment[0] != '\0')
		PUT(" comment \"%s\"", r->comment);
#undef PUT
	return (int)o;
}

/* A set as nft lists it: two IPv4 or one IPv6 element a line. */
static int
render_set(const struct fw_set *s, char *buf, size_t cap, size_t *o)
{
	size_t i, per_line = s->family == AF_INET ? 2 : 1;
	char a[80];
	int n;

#define PUT(...) do { \
	n = snprintf(buf + *o, cap - *o, __VA_ARGS__); \
	if (n < 0 || (size_t)n >= cap - *o) \
		return SK_ETOOBIG; \
	*o += (size_t)n; \
} while (0)
	PUT("\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { ",
	    s->name, s->family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0; i < s->n; i++) {
		addr_text(&s->nets[i].a, a, sizeof(a));
		if (i == 0)
			PUT("%s", a);
		else if (i % per_line == 0)
			PUT(",\n\t\t\t     %s", a);
		else
			PUT(", %s", a);
		if (s->nets[i].label[0] != '\0')
			PUT(" comment \"%s\"", s->nets[i].label);
	}
	PUT(" }\n\t}\n\n");
#undef PUT
	return 0;
}

int
fw_render(struct fw_ruleset *rs, const char *role, int lockdown, char **out)
{
	size_t cap = 4096 + rs->n * 512, o = 0, i;
	char *buf, line[512];
	uint8_t md[32];
	unsigned mdlen = 0;
	int c, n;

	for (i = 0; i < rs->nsets; i++)
		cap += 64 + rs->sets[i].n * (64 + FW_COMMENT_MAX);
	if ((buf = malloc(cap)) == NULL)
		return SK_ENOMEM;
	o += (size_t)snprintf(buf + o, cap - o, "table inet %s {\n", FW_TABLE);
	for (i = 0; i < rs->nsets; i++)
		if ((n = render_set(&rs->sets[i], buf, cap, &o)) != 0) {
			free(buf);
			return n;
		}
	for (c = 0; c < FW_NCHAINS; c++) {
		o += (size_t)snprintf(buf + o, cap - o, "%s\tchain %s {\n"
		    "\t\ttype filter hook %s priority filter; policy drop;\n",
		    c > 0 ? "\n" : "", fw_chain_names[c], fw_chain_names[c]);
		for (i = 0; i < rs->n; i++) {
			if (rs->rules[i].chain != (enum fw_chain)c)
				continue;
			if ((n = fw_render_rule(&rs->rules[i], line,
			    sizeof(line))) < 0) {
				free(buf);
				return n;
			}
			o += (size_t)snprintf(buf + o, cap - o, "\t\t%s\n",
			    line);
		}
		o += (size_t)snprintf(buf + o, cap - o, "\t}\n");
	}
	o += (size_t)snprintf(buf + o, cap - o, "}\n");
	if (o >= cap) {
		free(buf);
		return SK_ETOOBIG;
	}
	EVP_Digest(buf, o, md, &mdlen, EVP_sha256(), NULL);
	sk_hex(md, sizeof(md), rs->digest);
	/* The header names what this is; the digest covers the rules. */
	n = snprintf(line, sizeof(line), "# sekisho-firewall %s, role %s%s, "
	    "sha256 %s\n# generated from the site configuration: do not edit\n",
	    FW_VERSION, role, lockdown ? " (LOCKDOWN)" : "", rs->digest);
	if (n < 0 || o + (size_t)n + 1 > cap) {
		free(buf);
		return SK_ETOOBIG;
	}
	memmove(buf + n, buf, o + 1);
	memcpy(buf, line, (size_t)n);
	*out = buf;
	return 0;
}
