/*
 * fwrule.c: the per-role policy, from the site configuration (pure).
 *
 * receiver: new TCP in from each municipality's networks to the external
 *           port, and from the vault to the internal port; nothing new out.
 * vault:    nothing new in; new TCP out only to the receiver's and the
 *           sender's internal listeners.
 * sender:   new TCP in from each pull recipient's networks to the external
 *           port, and from the vault to the internal port; new TCP out
 *           only from the external address to each push recipient's
 *           endpoint (a site of push recipients alone: nothing new in on
 *           the external side at all).
 * Every role: loopback accepted, invalid state dropped, established and
 * related traffic accepted as the return path of what was allowed, IPv6
 * neighbour discovery (without which IPv6 does not work at all), SSH from
 * the site's management networks (receiver and sender only), and a log
 * of what is dropped, rate-limited. The municipalities', recipients' and
 * administrators' networks go into interval sets, one per family, so a
 * site with every municipality of Japan still has a handful of rules. Lockdown keeps only loopback (and so cuts SSH:
 * the lockdown procedure is done at the console).
 */
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "sk.h"

const char *const fw_chain_names[FW_NCHAINS] = { "input", "output",
	"forward" };
const char *const fw_log_prefixes[FW_NCHAINS] = { "sekisho-drop-in ",
	"sekisho-drop-out ", "sekisho-drop-fwd " };

static int
same_addr(int has_a, const struct netaddr *a, int has_b,
    const struct netaddr *b)
{
	if (has_a != has_b)
		return 0;
	return !has_a || (a->family == b->family &&
	    a->prefixlen == b->prefixlen && memcmp(a->addr, b->addr, 16) == 0);
}

static int
rule_equal(const struct fw_rule *a, const struct fw_rule *b)
{
	return a->chain == b->chain && strcmp(a->iif, b->iif) == 0 &&
	    strcmp(a->oif, b->oif) == 0 &&
	    same_addr(a->has_saddr, &a->saddr, b->has_saddr, &b->saddr) &&
	    same_addr(a->has_daddr, &a->daddr, b->has_daddr, &b->daddr) &&
	    strcmp(a->sset, b->sset) == 0 &&
	    a->tcp == b->tcp && a->udp == b->udp && a->dport == b->dport &&
	    a->icmp6_type == b->icmp6_type && a->icmp_echo == b->icmp_echo &&
	    a->ct == b->ct &&
	    a->counter == b->counter && a->verdict == b->verdict;
}

/* Appends a rule unless the same rule is there already (two peers may
 * share a network). */
static int
add(struct fw_ruleset *rs, const struct fw_rule *r)
{
	void *p;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rule_equal(&rs->rules[i], r))
			return 0;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;

		if ((p = reallocarray(rs->rules, cap, sizeof(*r))) == NULL)
			return SK_ENOMEM;
		rs->rules = p;
		rs->cap = cap;
	}
	rs->rules[rs->n++] = *r;
	return 0;
}

static struct fw_rule
rule(enum fw_chain chain, enum fw_ct ct, enum fw_verdict v)
{
	struct fw_rule r;

	memset(&r, 0, sizeof(r));
	r.chain = chain;
	r.ct = ct;
	r.verdict = v;
	r.icmp6_type = -1;
	return r;
}

/*
 * A comment as nft keeps and prints it: at most 127 bytes, cut at a
 * character's boundary, and nothing that would end nft's quoted string or
 * a line ('"', '\\', control characters become ' ' or '\'').
 */
static void __attribute__((format(printf, 2, 3)))
comment(char out[FW_COMMENT_MAX], const char *fmt, ...)
{
	unsigned char *p;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, FW_COMMENT_MAX, fmt, ap);
	va_end(ap);
	for (p = (unsigned char *)out; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
		else if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	/* vsnprintf may have cut a multi-byte character: drop its start. */
	n = strlen(out);
	if (n > 0 && (out[n - 1] & 0x80)) {
		size_t k = n;

		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 :
			    lead >= 0xc0 ? 2 : 1;

			if (n - (k - 1) < need)
				out[k - 1] = '\0';
		}
	}
}

/* Loopback, invalid, the return path, IPv6 neighbour discovery. */
static int
add_common(struct fw_ruleset *rs, int lockdown)
{
	static const int nd_types[] = { 133, 134, 135, 136 };
	struct fw_rule r;
	size_t i;
	int c, e;

	r = rule(FW_INPUT, FW_CT_ANY, FW_ACCEPT);
	strcpy(r.iif, "lo");
	comment(r.comment, "loopback");
	if ((e = add(rs, &r)) != 0)
		return e;
	r = rule(FW_OUTPUT, FW_CT_ANY, FW_ACCEPT);
	strcpy(r.oif, "lo");
	comment(r.comment, "loopback");
	if ((e = add(rs, &r)) != 0 || lockdown)
		return e;
	for (c = FW_INPUT; c <= FW_OUTPUT; c++) {
		r = rule((enum fw_chain)c, FW_CT_INVALID, FW_DROP);
		comment(r.comment, "invalid state");
		if ((e = add(rs, &r)) != 0)
			return e;
		r = rule((enum fw_chain)c, FW_CT_ESTREL, FW_ACCEPT);
		comment(r.comment, "the return path of what was allowed");
		if ((e = add(rs, &r)) != 0)
			return e;
		for (i = 0; i < SK_ARRAY_LEN(nd_types); i++) {
			r = rule((enum fw_chain)c, FW_CT_ANY, FW_ACCEPT);
			r.icmp6_type = nd_types[i];
			comment(r.comment, "IPv6 neighbour discovery");
			if ((e = add(rs, &r)) != 0)
				return e;
		}
	}
	return 0;
}

/* The set named base_v4 or base_v6, created on first use. */
static struct fw_set *
set_get(struct fw_ruleset *rs, const char *base, int family)
{
	char name[FW_SET_NAME_MAX];
	struct fw_set *s;
	size_t i;

	snprintf(name, sizeof(name), "%s_v%d", base, family == AF_INET ? 4 : 6);
	for (i = 0; i < rs->nsets; i++)
		if (strcmp(rs->sets[i].name, name) == 0)
			return &rs->sets[i];
	if (rs->nsets == FW_MAX_SETS)
		return NULL;
	s = &rs->sets[rs->nsets++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->family = family;
	return s;
}

static int
set_add(struct fw_set *s, const struct netaddr *a, const char *label)
{
	struct fw_net *p, net;
	size_t k, ll, nl;
	unsigned i;

	net.a = *a;
	/* The network itself, whatever host bits were written. */
	for (i = net.a.prefixlen; i < 128; i++)
		net.a.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	/* A network two peers share is one element naming both. */
	for (k = 0; k < s->n; k++) {
		p = &s->nets[k];
		if (p->a.prefixlen != net.a.prefixlen ||
		    memcmp(p->a.addr, net.a.addr, 16) != 0)
			continue;
		ll = strlen(p->label);
		nl = strlen(label);
		if (strcmp(p->label, label) != 0 && !(ll > nl + 2 &&
		    strcmp(p->label + ll - nl, label) == 0 &&
		    p->label[ll - nl - 1] == ' ' && p->label[ll - nl - 2] == ','))
		{
			char both[FW_COMMENT_MAX];

			comment(both, "%s, %s", p->label, label);
			memcpy(p->label, both, sizeof(both));
		}
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((p = reallocarray(s->nets, cap, sizeof(*p))) == NULL)
			return SK_ENOMEM;
		s->nets = p;
		s->cap = cap;
	}
	p = &s->nets[s->n++];
	p->a = net.a;
	comment(p->label, "%s", label);
	return 0;
}

static int
net_cmp(const void *a, const void *b)
{
	const struct fw_net *x = a, *y = b;
	int c = memcmp(x->a.addr, y->a.addr, 16);

	if (c != 0)
		return c;
	return (int)x->a.prefixlen - (int)y->a.prefixlen;
}

/* Does outer hold all of inner? (Both are networks of one family.) */
static int
net_contains(const struct netaddr *outer, const struct netaddr *inner)
{
	unsigned i;

	if (outer->prefixlen > inner->prefixlen)
		return 0;
	for (i = 0; i < outer->prefixlen; i++)
		if ((outer->addr[i / 8] ^ inner->addr[i / 8]) &
		    (0x80 >> (i % 8)))
			return 0;
	return 1;
}

/* Sorted; a network inside another (or twice) is dropped, and keeps the
 * label of the one that holds it. Prefixes either nest or are apart, so
 * after sorting one pass suffices. */
static void
set_normalize(struct fw_set *s)
{
	size_t i, k = 0;

	if (s->n == 0)
		return;
	qsort(s->nets, s->n, sizeof(*s->nets), net_cmp);
	for (i = 1; i < s->n; i++)
		if (!net_contains(&s->nets[k].a, &s->nets[i].a))
			s->nets[++k] = s->nets[i];
	s->n = k + 1;
}

/* New TCP in to a listener from the networks of a group of peers, put in
 * the group's set of the listener's family (another family cannot reach
 * it, so its networks are left out). */
static int
allow_group_in(struct fw_ruleset *rs, const char *base,
    const struct netaddr *nets, size_t n, const struct config_listener *l,
    const char *label, const char *what)
{
	struct fw_rule r = rule(FW_INPUT, FW_CT_NEW, FW_ACCEPT);
	struct fw_set *s;
	size_t i;
	int e;

	if (netaddr_parse(l->address, &r.daddr) != 0)
		return SK_ECONFIG;
	if ((s = set_get(rs, base, r.daddr.family)) == NULL)
		return SK_ETOOBIG;
	for (i = 0; i < n; i++)
		if (nets[i].family == r.daddr.family &&
		    (e = set_add(s, &nets[i], label)) != 0)
			return e;
	if (s->n == 0)
		return 0;
	comment(r.comment, "%s", what);
	snprintf(r.iif, sizeof(r.iif), "%s", l->interface);
	snprintf(r.sset, sizeof(r.sset), "%s", s->name);
	r.sset_family = s->family;
	r.has_daddr = 1;
	r.tcp = 1;
	r.dport = l->port;
	return add(rs, &r);
}

/* New TCP in from one address to a listener. */
static int
allow_in(struct fw_ruleset *rs, const struct netaddr *from,
    const struct config_listener *l, const char *what)
{
	struct fw_rule r = rule(FW_INPUT, FW_CT_NEW, FW_ACCEPT);
	struct netaddr to;

	if (netaddr_parse(l->address, &to) != 0)
		return SK_ECONFIG;
	if (to.family != from->family)
		return 0;	/* an IPv6 address cannot reach an IPv4 listener */
	snprintf(r.iif, sizeof(r.iif), "%s", l->interface);
	r.has_saddr = 1;
	r.saddr = *from;
	r.has_daddr = 1;
	r.daddr = to;
	r.tcp = 1;
	r.dport = l->port;
	comment(r.comment, "%s", what);
	return add(rs, &r);
}

/* New TCP out from the vault, on its link's interface, to one listener. */
static int
allow_out(struct fw_ruleset *rs, const char *from_addr, const char *oif,
    const struct config_listener *l, const char *what)
{
	struct fw_rule r = rule(FW_OUTPUT, FW_CT_NEW, FW_ACCEPT);

	if (netaddr_parse(l->address, &r.daddr) != 0 ||
	    netaddr_parse(from_addr, &r.saddr) != 0)
		return SK_ECONFIG;
	r.has_saddr = r.has_daddr = 1;
	if (r.saddr.family != r.daddr.family)
		return SK_ECONFIG;
	snprintf(r.oif, sizeof(r.oif), "%s", oif);
	r.tcp = 1;
	r.dport = l->port;
	comment(r.comment, "%s", what);
	return add(rs, &r);
}

/* New TCP out from the sender's external address to a push endpoint. */
static int
allow_push(struct fw_ruleset *rs, const struct site_config *site,
    const struct config_recipient *rc)
{
	struct fw_rule r = rule(FW_OUTPUT, FW_CT_NEW, FW_ACCEPT);

	if (netaddr_parse(rc->push_address, &r.daddr) != 0 ||
	    netaddr_parse(site->sender.external.address, &r.saddr) != 0)
		return SK_ECONFIG;
	r.has_daddr = 1;
	/* An endpoint of the other family leaves by another address. */
	r.has_saddr = r.saddr.family == r.daddr.family;
	snprintf(r.oif, sizeof(r.oif), "%s", site->sender.external.interface);
	r.tcp = 1;
	r.dport = rc->push_port;
	comment(r.comment, "push to %s%s%s", rc->id, rc->name[0] ? " " : "",
	    rc->name);
	return add(rs, &r);
}

/* New UDP (and TCP) out to the host's own time, name and log servers. */
static int
add_servers(struct fw_ruleset *rs, const struct config_host *h)
{
	static const struct { uint16_t port; int tcp_too; const char *what; }
	    svc[] = { { 123, 0, "NTP" }, { 53, 1, "DNS" }, { 514, 0, "syslog" } };
	const struct netaddr *list[] = { h->ntp, h->dns, h->syslog };
	const size_t n[] = { h->nntp, h->ndns, h->nsyslog };
	struct fw_rule r;
	size_t s, i;
	int e, proto;

	for (s = 0; s < SK_ARRAY_LEN(svc); s++)
		for (i = 0; i < n[s]; i++)
			for (proto = 0; proto <= svc[s].tcp_too; proto++) {
				r = rule(FW_OUTPUT, FW_CT_NEW, FW_ACCEPT);
				r.daddr = list[s][i];
				r.has_daddr = 1;
				r.udp = proto == 0;
				r.tcp = proto == 1;
				r.dport = svc[s].port;
				comment(r.comment, "%s server", svc[s].what);
				if ((e = add(rs, &r)) != 0)
					return e;
			}
	return 0;
}

/* SSH from the administrators' networks (none if unset), on the
 * management interface when the site names one, and ping from them when
 * it asks. Never on the vault: nothing connects to it at all (R05); it is
 * run at its console. */
static int
add_management(struct fw_ruleset *rs, const struct site_config *site)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct fw_rule r;
	struct fw_set *s;
	size_t i, f;
	int e;

	for (f = 0; f < SK_ARRAY_LEN(families); f++) {
		for (i = 0, s = NULL; i < site->management.nnetworks; i++) {
			if (site->management.networks[i].family != families[f])
				continue;
			if (s == NULL && (s = set_get(rs, "management",
			    families[f])) == NULL)
				return SK_ETOOBIG;
			if ((e = set_add(s, &site->management.networks[i],
			    "administrators")) != 0)
				return e;
		}
		if (s == NULL)
			continue;
		r = rule(FW_INPUT, FW_CT_NEW, FW_ACCEPT);
		snprintf(r.iif, sizeof(r.iif), "%s", site->management.interface);
		snprintf(r.sset, sizeof(r.sset), "%s", s->name);
		r.sset_family = s->family;
		r.tcp = 1;
		r.dport = site->management.port;
		comment(r.comment, "management SSH");
		if ((e = add(rs, &r)) != 0)
			return e;
		if (!site->management.icmp_echo)
			continue;
		r.tcp = 0;
		r.dport = 0;
		r.icmp_echo = 1;
		comment(r.comment, "ping from the administrators");
		if ((e = add(rs, &r)) != 0)
			return e;
	}
	return 0;
}

static int
add_role(struct fw_ruleset *rs, const struct site_config *site,
    enum config_role role)
{
	char label[FW_COMMENT_MAX];
	struct netaddr vault, vault2;
	size_t i;
	int e;

	if (netaddr_parse(site->vault.address, &vault) != 0 ||
	    netaddr_parse(site->vault.sender_address, &vault2) != 0)
		return SK_ECONFIG;
	switch (role) {
	case ROLE_RECEIVER:
		if ((e = add_servers(rs, &site->receiver)) != 0)
			return e;
		for (i = 0; i < site->nmunicipalities; i++) {
			comment(label, "%s%s%s", site->municipalities[i].id,
			    site->municipalities[i].name[0] ? " " : "",
			    site->municipalities[i].name);
			if ((e = allow_group_in(rs, "municipal",
			    site->municipalities[i].networks,
			    site->municipalities[i].nnetworks,
			    &site->receiver.external, label,
			    "uploads from the municipalities")) != 0)
				return e;
		}
		return allow_in(rs, &vault, &site->receiver.internal,
		    "the vault takes the uploads");
	case ROLE_SENDER:
		if ((e = add_servers(rs, &site->sender)) != 0)
			return e;
		for (i = 0; i < site->nrecipients; i++) {
			comment(label, "%s%s%s", site->recipients[i].id,
			    site->recipients[i].name[0] ? " " : "",
			    site->recipients[i].name);
			if ((e = site->recipients[i].push ?
			    allow_push(rs, site, &site->recipients[i]) :
			    allow_group_in(rs, "recipient",
			    site->recipients[i].networks,
			    site->recipients[i].nnetworks,
			    &site->sender.external, label,
			    "downloads by the recipients")) != 0)
				return e;
		}
		return allow_in(rs, &vault2, &site->sender.internal,
		    "the vault publishes");
	case ROLE_VAULT:
		if ((e = allow_out(rs, site->vault.address,
		    site->vault.interface, &site->receiver.internal,
		    "to the receiver")) != 0)
			return e;
		return allow_out(rs, site->vault.sender_address,
		    site->vault.sender_interface, &site->sender.internal,
		    "to the sender");
	}
	return SK_EINVAL;
}

/* A set no rule uses (its peers' networks all of the other family). */
static void
drop_empty_sets(struct fw_ruleset *rs)
{
	size_t i, k = 0;

	for (i = 0; i < rs->nsets; i++) {
		if (rs->sets[i].n == 0)
			free(rs->sets[i].nets);
		else {
			rs->sets[k] = rs->sets[i];
			rs->sets[k].id = (uint32_t)k + 1;
			k++;
		}
	}
	rs->nsets = k;
}

int
fw_build(const struct site_config *site, enum config_role role, int lockdown,
    struct fw_ruleset *out)
{
	struct fw_ruleset rs;
	struct fw_rule r;
	int c, e;

	memset(&rs, 0, sizeof(rs));
	if ((e = add_common(&rs, lockdown)) != 0 ||
	    (!lockdown && role != ROLE_VAULT &&
	    (e = add_management(&rs, site)) != 0) ||
	    (!lockdown && (e = add_role(&rs, site, role)) != 0))
		goto fail;
	/* What falls through is logged a little, so an administrator sees
	 * what was refused, counted, and dropped by a rule of its own: the
	 * chain's policy alone is not enough, because while a transaction
	 * replaces the table the kernel runs a new base chain with policy
	 * accept until the commit reaches it (and the old chain is gone). */
	for (c = 0; c < FW_NCHAINS; c++) {
		r = rule((enum fw_chain)c, FW_CT_ANY, FW_LOG);
		comment(r.comment, "log what is refused, a little");
		if (!lockdown && (e = add(&rs, &r)) != 0)
			goto fail;
		r = rule((enum fw_chain)c, FW_CT_ANY, FW_DROP);
		r.counter = 1;
		comment(r.comment, "%s", lockdown ? "LOCKDOWN: everything else" :
		    "everything else");
		if ((e = add(&rs, &r)) != 0)
			goto fail;
	}
	for (c = 0; c < (int)rs.nsets; c++)
		set_normalize(&rs.sets[c]);
	drop_empty_sets(&rs);
	*out = rs;
	return 0;
fail:
	fw_free(&rs);
	return e;
}

void
fw_free(struct fw_ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->nsets; i++)
		free(rs->sets[i].nets);
	rs->nsets = 0;
	free(rs->rules);
	rs->rules = NULL;
	rs->n = rs->cap = 0;
}

int
fw_rule_family(const struct fw_rule *r)
{
	if (r->sset[0] != '\0')
		return r->sset_family;
	if (r->has_saddr)
		return r->saddr.family;
	if (r->has_daddr)
		return r->daddr.family;
	return 0;
}

int
fw_elem_cmp(const void *a, const void *b)
{
	const struct fw_elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	/* At one key, the end of a network comes before the start of the
	 * next: the kernel takes adjacent intervals in that order. */
	return c != 0 ? c : y->end - x->end;
}

/*
 * A network [start, last] is the element start and the element last + 1
 * flagged as an end; a network that ends at the top of the address space
 * has no end element (the interval is open). Adjacent networks give an end
 * and a start with the same key, which the kernel keeps apart by the flag.
 */
int
fw_set_elements(const struct fw_set *s, struct fw_elem **out, size_t *n)
{
	unsigned len = s->family == AF_INET ? 4 : 16, i, bit;
	struct fw_elem *e = calloc(s->n * 2 + 1, sizeof(*e));
	size_t k = 0, j;
	int carry;

	if (e == NULL)
		return SK_ENOMEM;
	for (j = 0; j < s->n; j++) {
		memcpy(e[k].key, s->nets[j].a.addr, len);
		e[k].label = s->nets[j].label[0] != '\0' ? s->nets[j].label :
		    NULL;
		k++;
		/* last + 1: set the host bits, add one. */
		memcpy(e[k].key, s->nets[j].a.addr, len);
		for (bit = s->nets[j].a.prefixlen; bit < len * 8; bit++)
			e[k].key[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		for (carry = 1, i = len; carry && i-- > 0;) {
			e[k].key[i]++;
			carry = e[k].key[i] == 0;
		}
		if (carry)
			continue;	/* ran off the top: open interval */
		e[k].end = 1;
		k++;
	}
	qsort(e, k, sizeof(*e), fw_elem_cmp);
	*out = e;
	*n = k;
	return 0;
}
