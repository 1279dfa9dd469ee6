/*
 * fwrule.c: the per-role policy, from the site configuration (pure).
 *
 * receiver: new TCP in from each municipality's networks to the external
 *           port, and from the vault to the internal port; nothing new out.
 * vault:    nothing new in; new TCP out only to the receiver's and the
 *           sender's internal listeners.
 * sender:   new TCP in from each recipient's networks to the external port,
 *           and from the vault to the internal port; nothing new out.
 * Every role: loopback accepted, invalid state dropped, established and
 * related traffic accepted as the return path of what was allowed, IPv6
 * neighbour discovery (without which IPv6 does not work at all), SSH from
 * the site's management networks (receiver and sender only), and a log
 * of what is dropped, rate-limited. Lockdown keeps only loopback (and so cuts SSH:
 * the lockdown procedure is done at the console).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "sk.h"

const char *const fw_chain_names[FW_NCHAINS] = { "input", "output",
	"forward" };

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
	    a->tcp == b->tcp && a->dport == b->dport &&
	    a->icmp6_type == b->icmp6_type && a->ct == b->ct &&
	    a->verdict == b->verdict;
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
	if ((e = add(rs, &r)) != 0)
		return e;
	r = rule(FW_OUTPUT, FW_CT_ANY, FW_ACCEPT);
	strcpy(r.oif, "lo");
	if ((e = add(rs, &r)) != 0 || lockdown)
		return e;
	for (c = FW_INPUT; c <= FW_OUTPUT; c++) {
		r = rule((enum fw_chain)c, FW_CT_INVALID, FW_DROP);
		if ((e = add(rs, &r)) != 0)
			return e;
		r = rule((enum fw_chain)c, FW_CT_ESTREL, FW_ACCEPT);
		if ((e = add(rs, &r)) != 0)
			return e;
		for (i = 0; i < SK_ARRAY_LEN(nd_types); i++) {
			r = rule((enum fw_chain)c, FW_CT_ANY, FW_ACCEPT);
			r.icmp6_type = nd_types[i];
			if ((e = add(rs, &r)) != 0)
				return e;
		}
	}
	return 0;
}

/* New TCP in from one network to a listener. */
static int
allow_in(struct fw_ruleset *rs, const struct netaddr *from,
    const struct config_listener *l)
{
	struct fw_rule r = rule(FW_INPUT, FW_CT_NEW, FW_ACCEPT);
	struct netaddr to;

	if (netaddr_parse(l->address, &to) != 0)
		return SK_ECONFIG;
	if (to.family != from->family)
		return 0;	/* an IPv6 network cannot reach an IPv4 listener */
	snprintf(r.iif, sizeof(r.iif), "%s", l->interface);
	r.has_saddr = 1;
	r.saddr = *from;
	r.has_daddr = 1;
	r.daddr = to;
	r.tcp = 1;
	r.dport = l->port;
	return add(rs, &r);
}

/* New TCP out from the vault to one listener. */
static int
allow_out(struct fw_ruleset *rs, const char *from_addr,
    const struct config_listener *l)
{
	struct fw_rule r = rule(FW_OUTPUT, FW_CT_NEW, FW_ACCEPT);

	if (netaddr_parse(l->address, &r.daddr) != 0 ||
	    netaddr_parse(from_addr, &r.saddr) != 0)
		return SK_ECONFIG;
	r.has_saddr = r.has_daddr = 1;
	if (r.saddr.family != r.daddr.family)
		return SK_ECONFIG;
	r.tcp = 1;
	r.dport = l->port;
	return add(rs, &r);
}

/* SSH from the administrators' networks (none if unset). Never on the
 * vault: nothing connects to it at all (R05); it is run at its console. */
static int
add_management(struct fw_ruleset *rs, const struct site_config *site)
{
	struct fw_rule r;
	size_t i;
	int e;

	for (i = 0; i < site->management.nnetworks; i++) {
		r = rule(FW_INPUT, FW_CT_NEW, FW_ACCEPT);
		r.has_saddr = 1;
		r.saddr = site->management.networks[i];
		r.tcp = 1;
		r.dport = site->management.port;
		if ((e = add(rs, &r)) != 0)
			return e;
	}
	return 0;
}

static int
add_role(struct fw_ruleset *rs, const struct site_config *site,
    enum config_role role)
{
	struct netaddr vault, vault2;
	size_t i, j;
	int e;

	if (netaddr_parse(site->vault.address, &vault) != 0 ||
	    netaddr_parse(site->vault.sender_address, &vault2) != 0)
		return SK_ECONFIG;
	switch (role) {
	case ROLE_RECEIVER:
		for (i = 0; i < site->nmunicipalities; i++)
			for (j = 0; j < site->municipalities[i].nnetworks; j++)
				if ((e = allow_in(rs,
				    &site->municipalities[i].networks[j],
				    &site->receiver.external)) != 0)
					return e;
		return allow_in(rs, &vault, &site->receiver.internal);
	case ROLE_SENDER:
		for (i = 0; i < site->nrecipients; i++)
			for (j = 0; j < site->recipients[i].nnetworks; j++)
				if ((e = allow_in(rs,
				    &site->recipients[i].networks[j],
				    &site->sender.external)) != 0)
					return e;
		return allow_in(rs, &vault2, &site->sender.internal);
	case ROLE_VAULT:
		if ((e = allow_out(rs, site->vault.address,
		    &site->receiver.internal)) != 0)
			return e;
		return allow_out(rs, site->vault.sender_address,
		    &site->sender.internal);
	}
	return SK_EINVAL;
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
	/* What falls through is dropped by the chain's policy; log a little
	 * of it so an administrator sees what was refused. */
	for (c = 0; !lockdown && c < FW_NCHAINS; c++) {
		r = rule((enum fw_chain)c, FW_CT_ANY, FW_LOG);
		if ((e = add(&rs, &r)) != 0)
			goto fail;
	}
	*out = rs;
	return 0;
fail:
	fw_free(&rs);
	return e;
}

void
fw_free(struct fw_ruleset *rs)
{
	free(rs->rules);
	rs->rules = NULL;
	rs->n = rs->cap = 0;
}
