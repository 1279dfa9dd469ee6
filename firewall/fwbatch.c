/*
 * fwbatch.c: the ruleset as libnftnl objects and one netlink batch (pure:
 * it builds bytes in memory and never opens a socket).
 *
 * The batch adds the table, deletes it, and creates it again with its
 * sets, chains and rules, so that the kernel replaces `inet sekisho` (and nothing
 * else) all at once or not at all.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "fw.h"
#include "fwbatch.h"
#include "sk.h"

#define CT_INVALID 1u
#define CT_ESTABLISHED 2u
#define CT_RELATED 4u
#define CT_NEW 8u
#define FW_ELEMS_PER_MSG 256	/* set elements in one netlink message */
#define TYPE_IPADDR 7u		/* nft's data types: ipv4_addr */
#define TYPE_IP6ADDR 8u		/* ipv6_addr */

static int
add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return SK_ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int
meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int
cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

static int
payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int
mask(struct nftnl_rule *r, const void *m, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	static const uint8_t zero[16];

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return add_expr(r, e);
}

static int
match_u8(struct nftnl_rule *r, uint32_t key, uint8_t v)
{
	int e;

	if ((e = meta(r, key)) != 0)
		return e;
	return cmp(r, NFT_CMP_EQ, &v, 1);
}

/* ip/ip6 saddr or daddr, with a mask for a prefix. */
static int
match_addr(struct nftnl_rule *r, const struct netaddr *a, int dst)
{
	uint32_t len = a->family == AF_INET ? 4 : 16;
	uint32_t off = a->family == AF_INET ? (dst ? 16 : 12) : (dst ? 24 : 8);
	uint8_t m[16];
	unsigned i;
	int e;

	if ((e = payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len)) != 0)
		return e;
	if (a->prefixlen < len * 8) {
		memset(m, 0, sizeof(m));
		for (i = 0; i < a->prefixlen; i++)
			m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		if ((e = mask(r, m, len)) != 0)
			return e;
	}
	return cmp(r, NFT_CMP_EQ, a->addr, len);
}

/* ip/ip6 saddr looked up in a named set. */
static int
match_saddr_set(struct nftnl_rule *r, const char *set, int family)
{
	struct nftnl_expr *x;
	int e;

	if ((e = payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == AF_INET ?
	    12 : 8, family == AF_INET ? 4 : 16)) != 0)
		return e;
	if ((x = nftnl_expr_alloc("lookup")) != NULL) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set);
		/* The kernel reports flags 0; say it, to read back the same. */
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	}
	return add_expr(r, x);
}

static int
match_ifname(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[16];
	int e;

	memset(buf, 0, sizeof(buf));
	strncpy(buf, name, sizeof(buf) - 1);
	if ((e = meta(r, key)) != 0)
		return e;
	return cmp(r, NFT_CMP_EQ, buf, sizeof(buf));
}

static int
match_ct(struct nftnl_rule *r, enum fw_ct ct)
{
	struct nftnl_expr *x = nftnl_expr_alloc("ct");
	uint32_t bits = ct == FW_CT_NEW ? CT_NEW : ct == FW_CT_ESTREL ?
	    CT_ESTABLISHED | CT_RELATED : CT_INVALID, zero = 0;
	int e;

	if (x != NULL) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if ((e = add_expr(r, x)) != 0 || (e = mask(r, &bits, 4)) != 0)
		return e;
	return cmp(r, NFT_CMP_NEQ, &zero, 4);
}

static int
verdict(struct nftnl_rule *r, const struct fw_rule *fr)
{
	enum fw_verdict v = fr->verdict;
	struct nftnl_expr *e;

	if (fr->counter && add_expr(r, nftnl_expr_alloc("counter")) != 0)
		return SK_ENOMEM;

	if (v == FW_LOG) {
		if ((e = nftnl_expr_alloc("limit")) != NULL) {
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, 10);
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 60);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE,
			    NFT_LIMIT_PKTS);
		}
		if (add_expr(r, e) != 0)
			return SK_ENOMEM;
		if ((e = nftnl_expr_alloc("log")) != NULL) {
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX,
			    fw_log_prefixes[fr->chain]);
			/* The kernel would fill in warning (4) itself; say it,
			 * so the rule reads back exactly as it was sent. */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, 4);
		}
		return add_expr(r, e);
	}
	if ((e = nftnl_expr_alloc("immediate")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
		    v == FW_ACCEPT ? NF_ACCEPT : NF_DROP);
	}
	return add_expr(r, e);
}

/* Every match is preceded by the protocol checks it depends on. */
static int
rule_exprs(struct nftnl_rule *nr, const struct fw_rule *r)
{
	int family = fw_rule_family(r);
	uint16_t port = htons(r->dport);
	uint8_t type;
	int e = 0;

	if (r->iif[0] != '\0' &&
	    (e = match_ifname(nr, NFT_META_IIFNAME, r->iif)) != 0)
		return e;
	if (r->oif[0] != '\0' &&
	    (e = match_ifname(nr, NFT_META_OIFNAME, r->oif)) != 0)
		return e;
	if (family != 0 && (e = match_u8(nr, NFT_META_NFPROTO,
	    family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6)) != 0)
		return e;
	if (r->sset[0] != '\0' &&
	    (e = match_saddr_set(nr, r->sset, family)) != 0)
		return e;
	if (r->sset[0] == '\0' && r->has_saddr &&
	    (e = match_addr(nr, &r->saddr, 0)) != 0)
		return e;
	if (r->has_daddr && (e = match_addr(nr, &r->daddr, 1)) != 0)
		return e;
	if (r->icmp_echo) {	/* type 8 in ICMP, 128 in ICMPv6 */
		type = family == AF_INET6 ? 128 : 8;
		if ((e = match_u8(nr, NFT_META_L4PROTO, family == AF_INET6 ?
		    IPPROTO_ICMPV6 : IPPROTO_ICMP)) != 0 ||
		    (e = payload(nr, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) != 0 ||
		    (e = cmp(nr, NFT_CMP_EQ, &type, 1)) != 0)
			return e;
	}
	if (r->tcp || r->udp) {
		if ((e = match_u8(nr, NFT_META_L4PROTO, r->tcp ? IPPROTO_TCP :
		    IPPROTO_UDP)) != 0)
			return e;
		if (r->dport != 0 && ((e = payload(nr,
		    NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) != 0 ||
		    (e = cmp(nr, NFT_CMP_EQ, &port, 2)) != 0))
			return e;
	}
	if (r->icmp6_type >= 0) {
		type = (uint8_t)r->icmp6_type;
		if ((e = match_u8(nr, NFT_META_NFPROTO, NFPROTO_IPV6)) != 0 ||
		    (e = match_u8(nr, NFT_META_L4PROTO, IPPROTO_ICMPV6)) != 0 ||
		    (e = payload(nr, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) != 0 ||
		    (e = cmp(nr, NFT_CMP_EQ, &type, 1)) != 0)
			return e;
	}
	if (r->ct != FW_CT_ANY && (e = match_ct(nr, r->ct)) != 0)
		return e;
	return verdict(nr, r);
}

/*
 * A comment in the user data nft reads (a TLV of type ..._COMMENT with the
 * string and its NUL), on a rule or a set element.
 */
static int
comment_udata(uint8_t type, const char *text, uint8_t *out, uint32_t *len)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(FW_COMMENT_MAX + 8);

	if (u == NULL)
		return SK_ENOMEM;
	if (!nftnl_udata_put_strz(u, type, text) ||
	    nftnl_udata_buf_len(u) > FW_COMMENT_MAX + 8) {
		nftnl_udata_buf_free(u);
		return SK_ETOOBIG;
	}
	*len = nftnl_udata_buf_len(u);
	memcpy(out, nftnl_udata_buf_data(u), *len);
	nftnl_udata_buf_free(u);
	return 0;
}

struct nftnl_rule *
fw_rule_object(const struct fw_rule *r)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	uint8_t ud[FW_COMMENT_MAX + 8];
	uint32_t udlen;

	if (nr == NULL)
		return NULL;
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, FW_TABLE);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, fw_chain_names[r->chain]);
	if (r->comment[0] != '\0') {
		if (comment_udata(NFTNL_UDATA_RULE_COMMENT, r->comment, ud,
		    &udlen) != 0) {
			nftnl_rule_free(nr);
			return NULL;
		}
		nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, ud, udlen);
	}
	if (rule_exprs(nr, r) != 0) {
		nftnl_rule_free(nr);
		return NULL;
	}
	return nr;
}

struct nftnl_chain *
fw_chain_object(enum fw_chain c)
{
	static const uint32_t hooks[FW_NCHAINS] = { NF_INET_LOCAL_IN,
		NF_INET_LOCAL_OUT, NF_INET_FORWARD };
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (ch == NULL)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, FW_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, fw_chain_names[c]);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hooks[c]);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_DROP);
	return ch;
}

struct nftnl_table *
fw_table_object(const char *tag)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (t == NULL)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	if (tag != NULL)
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, tag,
		    (uint32_t)strlen(tag) + 1);
	return t;
}

struct nftnl_set *
fw_set_object(const struct fw_set *s)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (ns == NULL)
		return NULL;
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, FW_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, s->family == AF_INET ?
	    TYPE_IPADDR : TYPE_IP6ADDR);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, s->family == AF_INET ? 4 : 16);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	/* The kernel asks for an id that names the set within the batch. */
	nftnl_set_set_u32(ns, NFTNL_SET_ID, s->id);
	return ns;
}

/* Appends one message; returns its header or NULL when out of room. */
static struct nlmsghdr *
next_msg(struct mnl_nlmsg_batch *b)
{
	if (!mnl_nlmsg_batch_next(b))
		return NULL;
	return mnl_nlmsg_batch_current(b);
}

/* The set, then its elements a page at a time. */
static int
add_set(struct mnl_nlmsg_batch *b, const struct fw_set *s, uint32_t *seq,
    unsigned *nacks)
{
	struct nftnl_set *ns, *page;
	struct nftnl_set_elem *ne;
	struct fw_elem *el;
	struct nlmsghdr *nlh;
	uint8_t ud[FW_COMMENT_MAX + 8];
	uint32_t udlen;
	size_t n, i, k;
	unsigned len = s->family == AF_INET ? 4 : 16;
	int e;

	if ((nlh = next_msg(b)) == NULL)
		return SK_ETOOBIG;
	if ((ns = fw_set_object(s)) == NULL)
		return SK_ENOMEM;
	nftnl_set_nlmsg_build_payload(nftnl_nlmsg_build_hdr((char *)nlh,
	    NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL |
	    NLM_F_ACK, (*seq)++), ns);
	nftnl_set_free(ns);
	(*nacks)++;
	if ((e = fw_set_elements(s, &el, &n)) != 0)
		return e;
	for (i = 0; i < n; i += FW_ELEMS_PER_MSG) {
		if ((nlh = next_msg(b)) == NULL ||
		    (page = fw_set_object(s)) == NULL) {
			free(el);
			return nlh == NULL ? SK_ETOOBIG : SK_ENOMEM;
		}
		for (k = i; k < n && k < i + FW_ELEMS_PER_MSG; k++) {
			if ((ne = nftnl_set_elem_alloc()) == NULL) {
				nftnl_set_free(page);
				free(el);
				return SK_ENOMEM;
			}
			nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, el[k].key,
			    len);
			if (el[k].end)
				nftnl_set_elem_set_u32(ne, NFTNL_SET_ELEM_FLAGS,
				    NFT_SET_ELEM_INTERVAL_END);
			/* which city (or recipient) the network is */
			if (el[k].label != NULL) {
				if ((e = comment_udata(
				    NFTNL_UDATA_SET_ELEM_COMMENT, el[k].label,
				    ud, &udlen)) != 0) {
					nftnl_set_elem_free(ne);
					nftnl_set_free(page);
					free(el);
					return e;
				}
				nftnl_set_elem_set(ne, NFTNL_SET_ELEM_USERDATA,
				    ud, udlen);
			}
			nftnl_set_elem_add(page, ne);
		}
		nftnl_set_elems_nlmsg_build_payload(nftnl_nlmsg_build_hdr(
		    (char *)nlh, NFT_MSG_NEWSETELEM, NFPROTO_INET,
		    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, (*seq)++), page);
		nftnl_set_free(page);
		(*nacks)++;
	}
	free(el);
	return 0;
}

int
fw_batch_build(const struct fw_ruleset *rs, const char *tag,
    struct fw_batch *out)
{
	struct mnl_nlmsg_batch *b;
	struct nftnl_table *t;
	struct nftnl_chain *ch;
	struct nftnl_rule *nr;
	struct nlmsghdr *nlh;
	size_t cap = 65536 + rs->n * 4096, i;
	/* A fixed start: the same ruleset always gives the same bytes (each
	 * apply uses a socket of its own, so no stale ack can match). */
	uint32_t seq = 1;
	int c, ok = 1;
	char *buf;

	/* a set: ~40 bytes an element, and its comment */
	for (i = 0; i < rs->nsets; i++)
		cap += 65536 + rs->sets[i].n * (2 * 64 + FW_COMMENT_MAX + 8);
	if ((buf = calloc(1, cap)) == NULL)
		return SK_ENOMEM;
	if ((b = mnl_nlmsg_batch_start(buf, cap)) == NULL) {
		free(buf);
		return SK_ENOMEM;
	}
	out->first_seq = seq;
	out->nacks = 0;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	nlh = next_msg(b);
	/* Add (so that the delete cannot fail), delete, create anew. */
	t = fw_table_object(NULL);
	nftnl_table_nlmsg_build_payload(nftnl_table_nlmsg_build_hdr(
	    (char *)nlh, NFT_MSG_NEWTABLE, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_ACK, seq++), t);
	out->nacks++;
	nlh = next_msg(b);
	nftnl_table_nlmsg_build_payload(nftnl_table_nlmsg_build_hdr(
	    (char *)nlh, NFT_MSG_DELTABLE, NFPROTO_INET, NLM_F_ACK, seq++), t);
	out->nacks++;
	nftnl_table_free(t);
	nlh = next_msg(b);
	if ((t = fw_table_object(tag)) == NULL)
		ok = 0;
	else {
		nftnl_table_nlmsg_build_payload(nftnl_table_nlmsg_build_hdr(
		    (char *)nlh, NFT_MSG_NEWTABLE, NFPROTO_INET,
		    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq++), t);
		nftnl_table_free(t);
		out->nacks++;
	}
	for (i = 0; ok && i < rs->nsets; i++)
		ok = add_set(b, &rs->sets[i], &seq, &out->nacks) == 0;
	for (c = 0; ok && c < FW_NCHAINS; c++) {
		if ((nlh = next_msg(b)) == NULL ||
		    (ch = fw_chain_object((enum fw_chain)c)) == NULL) {
			ok = 0;
			break;
		}
		nftnl_chain_nlmsg_build_payload(nftnl_chain_nlmsg_build_hdr(
		    (char *)nlh, NFT_MSG_NEWCHAIN, NFPROTO_INET,
		    NLM_F_CREATE | NLM_F_ACK, seq++), ch);
		nftnl_chain_free(ch);
		out->nacks++;
	}
	for (i = 0; ok && i < rs->n; i++) {
		if ((nlh = next_msg(b)) == NULL ||
		    (nr = fw_rule_object(&rs->rules[i])) == NULL) {
			ok = 0;
			break;
		}
		nftnl_rule_nlmsg_build_payload(nftnl_rule_nlmsg_build_hdr(
		    (char *)nlh, NFT_MSG_NEWRULE, NFPROTO_INET,
		    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++), nr);
		nftnl_rule_free(nr);
		out->nacks++;
	}
	if (ok && (nlh = next_msg(b)) != NULL) {
		nftnl_batch_end((char *)nlh, seq++);
		ok = mnl_nlmsg_batch_next(b);
	} else
		ok = 0;
	if (!ok) {
		mnl_nlmsg_batch_stop(b);
		free(buf);
		return SK_ETOOBIG;
	}
	out->buf = buf;
	out->len = mnl_nlmsg_batch_size(b);
	out->last_seq = seq - 1;
	mnl_nlmsg_batch_stop(b);
	return 0;
}

void
fw_batch_free(struct fw_batch *b)
{
	free(b->buf);
	b->buf = NULL;
}

int
fw_rule_canonical(struct nftnl_rule *nr, char *out, size_t cap)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	int n;

	/* What a counter has counted is not what the rule does. */
	if ((it = nftnl_expr_iter_create(nr)) == NULL)
		return SK_ENOMEM;
	while ((e = nftnl_expr_iter_next(it)) != NULL)
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
		    "counter") == 0) {
			nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, 0);
			nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, 0);
		}
	nftnl_expr_iter_destroy(it);
	/* Where a rule sits is not what it does. */
	nftnl_rule_unset(nr, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(nr, NFTNL_RULE_POSITION);
	nftnl_rule_unset(nr, NFTNL_RULE_ID);
	n = nftnl_rule_snprintf(out, cap, nr, NFTNL_OUTPUT_DEFAULT, 0);
	return n < 0 || (size_t)n >= cap ? SK_ETOOBIG : 0;
}

int
fw_rule_expected_canonical(const struct fw_rule *r, char *out, size_t cap)
{
	char buf[8192];
	struct nftnl_rule *nr = fw_rule_object(r), *back;
	struct nlmsghdr *nlh;
	int e;

	if (nr == NULL)
		return SK_ENOMEM;
	/* Through netlink bytes and back, as the kernel's copy comes. */
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET,
	    0, 0);
	nftnl_rule_nlmsg_build_payload(nlh, nr);
	nftnl_rule_free(nr);
	if ((back = nftnl_rule_alloc()) == NULL)
		return SK_ENOMEM;
	e = nftnl_rule_nlmsg_parse(nlh, back) < 0 ? SK_EFORMAT :
	    fw_rule_canonical(back, out, cap);
	nftnl_rule_free(back);
	return e;
}
