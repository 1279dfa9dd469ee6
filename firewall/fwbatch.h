/*
 * fwbatch.h: libnftnl objects and the netlink batch (pure), and the
 * netlink calls (fwkernel.c).
 */
#ifndef FW_BATCH_H
#define FW_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fw.h"

struct nftnl_rule;
struct nftnl_chain;
struct nftnl_table;
struct nftnl_set;

struct fw_batch {
	char *buf;
	size_t len;
	uint32_t first_seq, last_seq;
	unsigned nacks;		/* messages that ask for an acknowledgement */
};

/* fwbatch.c */

/* Builds the one batch that replaces `inet sekisho` with rs; tag is the
 * table's userdata (generator version and digest). */
int fw_batch_build(const struct fw_ruleset *rs, const char *tag,
    struct fw_batch *out);
void fw_batch_free(struct fw_batch *b);

struct nftnl_rule *fw_rule_object(const struct fw_rule *r);
struct nftnl_chain *fw_chain_object(enum fw_chain c);
struct nftnl_table *fw_table_object(const char *tag);
struct nftnl_set *fw_set_object(const struct fw_set *s);

/* The text verify compares: a rule without handle or position. */
int fw_rule_canonical(struct nftnl_rule *nr, char *out, size_t cap);
/* The same for an expected rule, taken through netlink bytes and back. */
int fw_rule_expected_canonical(const struct fw_rule *r, char *out,
    size_t cap);

/* fwkernel.c */

/* Sends the batch and reads every acknowledgement. why says what failed. */
int fw_kernel_apply(const struct fw_batch *b, char *why, size_t whycap);

struct fw_live_set {
	char name[64];
	uint32_t key_type, key_len, flags;
	struct fw_elem *elems;		/* sorted */
	size_t n;
};

struct fw_live {
	int table_found;
	char tag[256];			/* the table's userdata */
	int chains_ok[FW_NCHAINS];	/* hook, priority, policy as ours */
	unsigned extra_chains;
	char **rules[FW_NCHAINS];	/* canonical text, in order */
	size_t nrules[FW_NCHAINS];
	struct fw_live_set *sets;
	size_t nsets;
};


/* Reads `inet sekisho` back from the kernel. */
int fw_kernel_read(struct fw_live *live, char *why, size_t whycap);
void fw_live_free(struct fw_live *live);

/* fwverify.c */

/* The table's tag: generator version, role and the ruleset's digest. */
int fw_tag(const struct fw_ruleset *rs, const char *role, int lockdown,
    char *tag, size_t cap);

/*
 * Compares the live table with the role's generated ruleset and writes each
 * difference to out. Returns 0 when equal, SK_EAUTH when they differ, or
 * another error when the ruleset cannot be read.
 */
int fw_verify(const struct site_config *site, enum config_role role,
    FILE *out);

/* A daemon's start-up check (require_firewall): exits, saying how to fix
 * it, unless the live ruleset is the role's. */
void fw_require(const struct site_config *site, enum config_role role,
    const char *site_file);

#endif
