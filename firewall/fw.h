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

#define FW_TABLE "sekisho"
#define FW_VERSION "0.1.0"
#define FW_LOG_PREFIX "sekisho-drop "

enum fw_chain { FW_INPUT, FW_OUTPUT, FW_FORWARD, FW_NCHAINS };

enum fw_ct { FW_CT_ANY, FW_CT_NEW, FW_CT_ESTREL, FW_CT_INVALID };

enum fw_verdict { FW_ACCEPT, FW_DROP, FW_LOG };	/* FW_LOG: limited log */

struct fw_rule {
	enum fw_chain chain;
	char iif[32];			/* match the input interface, or "" */
	char oif[32];			/* match the output interface, or "" */
	int has_saddr, has_daddr;
	struct netaddr saddr, daddr;	/* same family when both are set */
	int tcp;			/* match TCP (with dport if non-zero) */
	uint16_t dport;
	int icmp6_type;			/* >= 0: match this ICMPv6 type */
	enum fw_ct ct;
	enum fw_verdict verdict;
};

struct fw_ruleset {
	struct fw_rule *rules;
	size_t n, cap;
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

/* fwrender.c */

/* Renders the ruleset in nft syntax into a new string, and sets rs->digest. */
int fw_render(struct fw_ruleset *rs, const char *role, int lockdown,
    char **out);

/* The nft text of one rule's matches and verdict (no chain). */
int fw_render_rule(const struct fw_rule *r, char *buf, size_t cap);

extern const char *const fw_chain_names[FW_NCHAINS];

#endif
