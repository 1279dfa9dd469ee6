/*
 * fwkernel.c: the only file of sekisho-firewall that talks to the kernel.
 *
 * apply sends the whole batch in one sendmsg(2), so that nf_tables
 * commits it as one transaction, and reads an acknowledgement for every
 * message; read dumps `inet sekisho` back for verify.
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

struct dump_ctx {
	struct fw_live *live;
	int kind;		/* NFT_MSG_GETTABLE, GETCHAIN, GETRULE */
	int error;
};

static int
chain_matches(struct nftnl_chain *c, enum fw_chain which)
{
	struct nftnl_chain *want = fw_chain_object(which);
	int ok;

	ok = want != NULL &&
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
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *cx = data;

	switch (cx->kind) {
	case NFT_MSG_GETTABLE:
		return on_table(nlh, cx->live);
	case NFT_MSG_GETCHAIN:
		return on_chain(nlh, cx->live);
	default:
		return on_rule(nlh, cx->live);
	}
}

static int
dump(struct mnl_socket *nl, int kind, struct fw_live *live)
{
	char buf[FW_NL_BUF];
	struct dump_ctx cx = { .live = live, .kind = kind };
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	ssize_t n;
	int r;

	switch (kind) {
	case NFT_MSG_GETTABLE:
		nlh = nftnl_table_nlmsg_build_hdr(buf, kind, NFPROTO_INET,
		    NLM_F_DUMP, seq);
		break;
	case NFT_MSG_GETCHAIN:
		nlh = nftnl_chain_nlmsg_build_hdr(buf, kind, NFPROTO_INET,
		    NLM_F_DUMP, seq);
		break;
	default:
		nlh = nftnl_rule_nlmsg_build_hdr(buf, kind, NFPROTO_INET,
		    NLM_F_DUMP, seq);
		break;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return SK_ESYS;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, &cx);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return errno == ENOENT ? 0 : SK_ESYS;
	}
	return SK_ESYS;
}

int
fw_kernel_read(struct fw_live *live, char *why, size_t whycap)
{
	struct mnl_socket *nl;
	int r;

	memset(live, 0, sizeof(*live));
	if ((nl = open_socket(1 << 20, 8 << 20, why, whycap)) == NULL)
		return SK_ESYS;
	if ((r = dump(nl, NFT_MSG_GETTABLE, live)) == 0 && live->table_found &&
	    (r = dump(nl, NFT_MSG_GETCHAIN, live)) == 0)
		r = dump(nl, NFT_MSG_GETRULE, live);
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
}
