/*
 * fw.h: sekisho-firewall's model of a host's ruleset, and its parts.
 *
 * fwrule.c turns the site configuration and a role into an ordered list of
 * abstract rules (pure); fwrender.c prints them in nft syntax; fwbatch.c
 * turns them into libnftnl objects and one netlink batch, and gives the
 * canonical text of each rule that verify compares (pure); fwkernel.c is
 * the only file that talks to the kernel.
 *
 * The table is `inet sekisho`, with input, output and forward chains whose
 * policy is drop. Every address or port match is preceded by an explicit
 * `meta nfproto` / `meta l4proto` check, which nft adds implicitly and
 * libnftnl does not: without it an inet table would compare IPv6 packets
 * at IPv4 offsets.
 */
#ifndef FW_H
#define FW_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "netaddr.h"
#include "version.h"

#define FW_TABLE "sekisho"
#define FW_VERSION SK_VERSION

enum fw_chain { FW_INPUT, FW_OUTPUT, FW_FORWARD, FW_NCHAINS };

enum fw_ct { FW_CT_ANY, FW_CT_NEW, FW_CT_ESTREL, FW_CT_INVALID };

enum fw_verdict { FW_ACCEPT, FW_DROP, FW_LOG };	/* FW_LOG: limited log */

#define FW_SET_NAME_MAX 32
#define FW_MAX_SETS 6
/* A comment on a rule or a set element, as nft keeps it (127 bytes and
 * the NUL): who a rule is for, which city a network is. */
#define FW_COMMENT_MAX 128

/* A network of a set and whom it belongs to ("111007 Saitama City"). */
struct fw_net {
	struct netaddr a;
	char label[FW_COMMENT_MAX];
};

/*
 * A named interval set of networks of one family: the municipalities',
 * the recipients' or the administrators' networks. One rule looks a source
 * address up in it, instead of one rule per network. Sorted, and no network
 * lies inside another (the kernel refuses overlapping intervals).
 */
struct fw_set {
	char name[FW_SET_NAME_MAX];
	int family;			/* AF_INET or AF_INET6 */
	uint32_t id;			/* its id in the batch: 1, 2, ... */
	struct fw_net *nets;
	size_t n, cap;
};

/* One element of an interval set as the kernel holds it: a network is a
 * start key and an end key (its last address plus one, flagged end). */
struct fw_elem {
	uint8_t key[16];
	int end;
	const char *label;		/* a start's comment, or NULL */
};

struct fw_rule {
	enum fw_chain chain;
	char iif[32];			/* match the input interface, or "" */
	char oif[32];			/* match the output interface, or "" */
	int has_saddr, has_daddr;
	struct netaddr saddr, daddr;	/* same family when both are set */
	char sset[FW_SET_NAME_MAX];	/* match the source in this set, or "" */
	int sset_family;
	int tcp;			/* match TCP (with dport if non-zero) */
	int udp;			/* match UDP (with dport if non-zero) */
	uint16_t dport;
	int icmp6_type;			/* >= 0: match this ICMPv6 type */
	int icmp_echo;			/* match an echo request (ping) of
					 * the rule's family */
	enum fw_ct ct;
	int counter;			/* count what the rule matches */
	enum fw_verdict verdict;
	char comment[FW_COMMENT_MAX];	/* whom it is for, or "" */
};

struct fw_ruleset {
	struct fw_rule *rules;
	size_t n, cap;
	struct fw_set sets[FW_MAX_SETS];
	size_t nsets;
	char digest[65];		/* sha-256 of the rendered ruleset */
};

/* fwrule.c */

/*
 * Builds the ruleset of a role from the site (or, with lockdown, the one
 * that drops everything but loopback). The caller frees with fw_free.
 */
int fw_build(const struct site_config *site, enum config_role role,
    int lockdown, struct fw_ruleset *out);
void fw_free(struct fw_ruleset *rs);

/* The family a rule's address matches are in (0: none). */
int fw_rule_family(const struct fw_rule *r);

/* The kernel elements of a set, sorted by key; the caller frees. */
int fw_set_elements(const struct fw_set *s, struct fw_elem **out,
    size_t *n);
int fw_elem_cmp(const void *a, const void *b);

/* fwrender.c */

/* Renders the ruleset in nft syntax into a new string, and sets rs->digest. */
int fw_render(struct fw_ruleset *rs, const char *role, int lockdown,
    char **out);

/* The nft text of one rule's matches and verdict (no chain). */
int fw_render_rule(const struct fw_rule *r, char *buf, size_t cap);

extern const char *const fw_chain_names[FW_NCHAINS];

/* The log prefix of each chain's dropped packets: an outbound attempt on
 * the receiver is told apart from the usual noise inbound. */
extern const char *const fw_log_prefixes[FW_NCHAINS];

/* fwunit.c: the systemd drop-in limiting the role's unit to its peers
 * (IPAddressDeny=any, then IPAddressAllow= each peer network). */
int fw_systemd_dropin(const struct site_config *site, enum config_role role,
    char **out);

#endif
