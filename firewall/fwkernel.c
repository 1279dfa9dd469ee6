/*
 * fwkernel.c: the only file of sekisho-firewall that talks to the kernel.
 *
 * apply sends the whole batch in one sendmsg(2), so that nf_tables
 * commits it as one transaction, and reads an acknowledgement for every
 * message; read dumps `inet sekisho` back for verify: the table, its
 * chains, its rules, its sets and their elements.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "fw.h"
#include "fwbatch.h"
#include "sk.h"

#define FW_ACK_TIMEOUT_MS 10000
#define FW_NL_BUF 32768		/* one netlink read */

static struct mnl_socket *
open_socket(size_t sndbuf, size_t rcvbuf, char *why, size_t whycap)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int one = 1, snd = (int)sndbuf, rcv = (int)rcvbuf;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(why, whycap, "netlink: %s", strerror(errno));
		if (nl != NULL)
			mnl_socket_close(nl);
		return NULL;
	}
	/* Acks without a copy of the request; buffers that hold it all. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &snd,
	    sizeof(snd));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
	    sizeof(rcv));
	return nl;
}

int
fw_kernel_apply(const struct fw_batch *b, char *why, size_t whycap)
{
	struct mnl_socket *nl;
	char buf[FW_NL_BUF];
	struct pollfd pfd;
	unsigned acks = 0;
	int err = 0, n;
	ssize_t got;

	why[0] = '\0';
	/* Each ack is a socket buffer of its own (~1-2 KiB accounted), so the
	 * receive buffer is sized by their number, not their 36 bytes. */
	if ((nl = open_socket(b->len + 65536, (size_t)b->nacks * 2048 +
	    (1u << 20), why, whycap)) == NULL)
		return SK_ESYS;
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0) {
		snprintf(why, whycap, "sending the batch: %s", strerror(errno));
		mnl_socket_close(nl);
		return SK_ESYS;
	}
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	while (acks < b->nacks) {
		if ((n = poll(&pfd, 1, FW_ACK_TIMEOUT_MS)) <= 0) {
			snprintf(why, whycap, "no answer from the kernel "
			    "(%u of %u acknowledgements)", acks, b->nacks);
			err = SK_ESYS;
			break;
		}
		if ((got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) <= 0) {
			snprintf(why, whycap, "netlink: %s%s", strerror(errno),
			    errno == ENOBUFS ? " (acknowledgements were lost: "
			    "run verify to see what the kernel holds)" : "");
			err = SK_ESYS;
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		    mnl_nlmsg_ok(h, (int)got); h = mnl_nlmsg_next(h, (int *)&got)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			acks++;
			if (e->error != 0 && h->nlmsg_seq == b->first_seq) {
				/* Refused whole (no CAP_NET_ADMIN, say): this
				 * is the only answer that will come. */
				snprintf(why, whycap, "the kernel refused the "
				    "batch: %s; nothing was changed",
				    strerror(-e->error));
				err = SK_EINVAL;
				acks = b->nacks;
				break;
			}
			if (e->error != 0 && err == 0) {
				snprintf(why, whycap, "the kernel refused "
				    "message %u of the batch: %s; nothing was "
				    "changed", h->nlmsg_seq - b->first_seq,
				    strerror(-e->error));
				err = SK_EINVAL;
			}
		}
	}
	mnl_socket_close(nl);
	return err;
}

static int
chain_matches(struct nftnl_chain *c, enum fw_chain which)
{
	struct nftnl_chain *want = fw_chain_object(which);
	int ok;

	/* A regular chain of the same name has no hook: not ours. (The
	 * getters read through NULL for an absent attribute.) */
	ok = want != NULL && nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) &&
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) ==
	    nftnl_chain_get_u32(want, NFTNL_CHAIN_HOOKNUM) &&
	    nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == 0 &&
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP &&
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter") == 0;
	nftnl_chain_free(want);
	return ok;
}

static int
chain_index(const char *name)
{
	int c;

	for (c = 0; c < FW_NCHAINS; c++)
		if (strcmp(name, fw_chain_names[c]) == 0)
			return c;
	return -1;
}

static int
on_table(const struct nlmsghdr *nlh, struct fw_live *live)
{
	struct nftnl_table *t = nftnl_table_alloc();
	const void *tag;
	uint32_t len = 0;

	if (t == NULL || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), FW_TABLE) == 0) {
		live->table_found = 1;
		tag = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
		if (tag != NULL && len > 0 && len < sizeof(live->tag)) {
			memcpy(live->tag, tag, len);
			live->tag[len] = '\0';
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int
on_chain(const struct nlmsghdr *nlh, struct fw_live *live)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	int i;

	if (c == NULL || nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), FW_TABLE) == 0) {
		i = chain_index(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
		if (i < 0)
			live->extra_chains++;
		else
			live->chains_ok[i] = chain_matches(c,
			    (enum fw_chain)i);
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int
on_rule(const struct nlmsghdr *nlh, struct fw_live *live)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char text[8192], **p;
	int i;

	if (r == NULL || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), FW_TABLE) != 0 ||
	    (i = chain_index(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN))) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;	/* another table's, or a stray chain's */
	}
	if (fw_rule_canonical(r, text, sizeof(text)) != 0 ||
	    (p = reallocarray(live->rules[i], live->nrules[i] + 1,
	    sizeof(*p))) == NULL) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	live->rules[i] = p;
	if ((p[live->nrules[i]] = strdup(text)) == NULL) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	live->nrules[i]++;
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int
on_set(const struct nlmsghdr *nlh, struct fw_live *live)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct fw_live_set *p, *ls;
	const char *name;

	if (ns == NULL || nftnl_set_nlmsg_parse(nlh, ns) < 0) {
		nftnl_set_free(ns);
		return MNL_CB_ERROR;
	}
	if (strcmp(nftnl_set_get_str(ns, NFTNL_SET_TABLE), FW_TABLE) != 0 ||
	    (name = nftnl_set_get_str(ns, NFTNL_SET_NAME)) == NULL) {
		nftnl_set_free(ns);
		return MNL_CB_OK;
	}
	if ((p = reallocarray(live->sets, live->nsets + 1, sizeof(*p))) ==
	    NULL) {
		nftnl_set_free(ns);
		return MNL_CB_ERROR;
	}
	live->sets = p;
	ls = &p[live->nsets++];
	memset(ls, 0, sizeof(*ls));
	snprintf(ls->name, sizeof(ls->name), "%s", name);
	if (nftnl_set_is_set(ns, NFTNL_SET_KEY_TYPE))
		ls->key_type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE);
	if (nftnl_set_is_set(ns, NFTNL_SET_KEY_LEN))
		ls->key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
	if (nftnl_set_is_set(ns, NFTNL_SET_FLAGS))
		ls->flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

struct dump_ctx {
	struct fw_live *live;
	int kind;		/* NFT_MSG_GET... */
	struct nftnl_set *elems;	/* GETSETELEM: gathers the elements */
};

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *cx = data;

	switch (cx->kind) {
	case NFT_MSG_GETTABLE:
		return on_table(nlh, cx->live);
	case NFT_MSG_GETCHAIN:
		return on_chain(nlh, cx->live);
	case NFT_MSG_GETSET:
		return on_set(nlh, cx->live);
	case NFT_MSG_GETSETELEM:
		return nftnl_set_elems_nlmsg_parse(nlh, cx->elems) < 0 ?
		    MNL_CB_ERROR : MNL_CB_OK;
	default:
		return on_rule(nlh, cx->live);
	}
}

static int
dump(struct mnl_socket *nl, struct dump_ctx *cx, const char *set)
{
	char buf[FW_NL_BUF];
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	struct nftnl_set *ns;
	ssize_t n;
	int r;

	nlh = nftnl_nlmsg_build_hdr(buf, (uint16_t)cx->kind, NFPROTO_INET,
	    NLM_F_DUMP, seq);
	if (cx->kind == NFT_MSG_GETSET || cx->kind == NFT_MSG_GETSETELEM) {
		if ((ns = nftnl_set_alloc()) == NULL)
			return SK_ENOMEM;
		nftnl_set_set_str(ns, NFTNL_SET_TABLE, FW_TABLE);
		if (set != NULL) {
			nftnl_set_set_str(ns, NFTNL_SET_NAME, set);
			nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		} else
			nftnl_set_nlmsg_build_payload(nlh, ns);
		nftnl_set_free(ns);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return SK_ESYS;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, cx);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return errno == ENOENT ? 0 : SK_ESYS;
	}
	return SK_ESYS;
}

static int
take_elem(struct nftnl_set_elem *ne, void *data)
{
	struct fw_live_set *ls = data;
	struct fw_elem *e = &ls->elems[ls->n];
	const void *key;
	uint32_t len = 0;

	memset(e, 0, sizeof(*e));
	key = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY, &len);
	if (key != NULL)
		memcpy(e->key, key, len < sizeof(e->key) ? len : sizeof(e->key));
	/* (get_u32 of an absent attribute reads through NULL) */
	e->end = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS) &&
	    (nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS) &
	    NFT_SET_ELEM_INTERVAL_END) != 0;
	ls->n++;
	return 0;
}

static int
count_elem(struct nftnl_set_elem *ne, void *data)
{
	(void)ne;
	(*(size_t *)data)++;
	return 0;
}

/* Reads one set's elements into ls, sorted. */
static int
read_elements(struct mnl_socket *nl, struct fw_live *live,
    struct fw_live_set *ls)
{
	struct dump_ctx cx = { .live = live, .kind = NFT_MSG_GETSETELEM };
	size_t n = 0;
	int r;

	if ((cx.elems = nftnl_set_alloc()) == NULL)
		return SK_ENOMEM;
	if ((r = dump(nl, &cx, ls->name)) == 0) {
		nftnl_set_elem_foreach(cx.elems, count_elem, &n);
		if ((ls->elems = calloc(n + 1, sizeof(*ls->elems))) == NULL)
			r = SK_ENOMEM;
		else {
			nftnl_set_elem_foreach(cx.elems, take_elem, ls);
			qsort(ls->elems, ls->n, sizeof(*ls->elems),
			    fw_elem_cmp);
		}
	}
	nftnl_set_free(cx.elems);
	return r;
}

int
fw_kernel_read(struct fw_live *live, char *why, size_t whycap)
{
	static const int kinds[] = { NFT_MSG_GETCHAIN, NFT_MSG_GETRULE,
		NFT_MSG_GETSET };
	struct dump_ctx cx = { .live = live, .kind = NFT_MSG_GETTABLE };
	struct mnl_socket *nl;
	size_t i;
	int r;

	memset(live, 0, sizeof(*live));
	if ((nl = open_socket(1 << 20, 8 << 20, why, whycap)) == NULL)
		return SK_ESYS;
	r = dump(nl, &cx, NULL);
	for (i = 0; r == 0 && live->table_found && i < SK_ARRAY_LEN(kinds);
	    i++) {
		cx.kind = kinds[i];
		r = dump(nl, &cx, NULL);
	}
	for (i = 0; r == 0 && i < live->nsets; i++)
		r = read_elements(nl, live, &live->sets[i]);
	if (r != 0)
		snprintf(why, whycap, "reading the ruleset: %s",
		    strerror(errno));
	mnl_socket_close(nl);
	return r;
}

void
fw_live_free(struct fw_live *live)
{
	size_t i;
	int c;

	for (c = 0; c < FW_NCHAINS; c++) {
		for (i = 0; i < live->nrules[c]; i++)
			free(live->rules[c][i]);
		free(live->rules[c]);
	}
	for (i = 0; i < live->nsets; i++)
		free(live->sets[i].elems);
	free(live->sets);
}
