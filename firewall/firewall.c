/*
 * sekisho-firewall: builds a host's nftables ruleset from the site
 * configuration with libnftnl, applies it in one atomic netlink batch,
 * verifies the live ruleset against it, and locks a host down (R18, R24,
 * R54).
 *
 * What it may touch: the table `inet sekisho` and nothing else of the
 * host's ruleset; with --audit, its own audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "fw.h"
#include "fwbatch.h"
#include "log.h"
#include "sk.h"

struct fw_cmd {
	const char *site_path;
	const char *role_name;
	enum config_role role;
	const char *audit_path;
	struct site_config *site;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sekisho-firewall -c SITE.conf --role "
	    "receiver|vault|sender [--audit LOG] "
	    "render|apply|verify|lockdown|unlock\n");
	exit(2);
}

static int
build(struct fw_cmd *fc, int lockdown, struct fw_ruleset *rs, char **text,
    char *tag, size_t tagcap)
{
	int r;

	if ((r = fw_build(fc->site, fc->role, lockdown, rs)) != 0 ||
	    (r = fw_render(rs, fc->role_name, lockdown, text)) != 0) {
		log_errorx("cannot build the %s ruleset: %s", fc->role_name,
		    sk_strerror(r));
		return r;
	}
	snprintf(tag, tagcap, "sekisho-firewall %s role=%s%s sha256=%s",
	    FW_VERSION, fc->role_name, lockdown ? " lockdown" : "",
	    rs->digest);
	return 0;
}

static int
audit_note(struct fw_cmd *fc, const char *event, const char *detail)
{
	struct audit_event ev = { .event = event, .actor = "admin",
		.detail = detail };
	struct audit_log *a;
	char key0[4096];
	int r;

	if (fc->audit_path == NULL)
		return 0;
	snprintf(key0, sizeof(key0), "%s.key0", fc->audit_path);
	if ((r = audit_open(fc->audit_path, key0, &a)) != 0)
		return r;
	r = audit_append(a, &ev);
	audit_close(a);
	return r;
}

static int
cmd_apply(struct fw_cmd *fc, int lockdown, const char *event)
{
	struct fw_ruleset rs;
	struct fw_batch b;
	char *text = NULL, tag[256], why[512];
	int r;

	if ((r = build(fc, lockdown, &rs, &text, tag, sizeof(tag))) != 0)
		return 1;
	if ((r = fw_batch_build(&rs, tag, &b)) != 0) {
		log_errorx("cannot build the batch: %s", sk_strerror(r));
		fw_free(&rs);
		free(text);
		return 1;
	}
	r = fw_kernel_apply(&b, why, sizeof(why));
	if (r == 0)
		printf("applied the %s ruleset%s: %zu rules, %zu bytes in one "
		    "batch, sha256 %s\n", fc->role_name,
		    lockdown ? " (LOCKDOWN)" : "", rs.n, b.len, rs.digest);
	else
		fprintf(stderr, "sekisho-firewall: apply failed: %s\n", why);
	if (r == 0 && event != NULL && audit_note(fc, event, tag) != 0) {
		fprintf(stderr, "sekisho-firewall: the rules are in place, "
		    "but the audit log %s could not be written\n",
		    fc->audit_path);
		r = 1;
	}
	fw_batch_free(&b);
	fw_free(&rs);
	free(text);
	return r == 0 ? 0 : 1;
}

/* Compares one chain's rules; prints each difference. */
static int
compare_chain(const struct fw_ruleset *rs, const struct fw_live *live,
    int c)
{
	char want[8192], shown[1024];
	size_t i, k = 0, n = 0;
	int diffs = 0, found;
	char *used = calloc(live->nrules[c] + 1, 1);

	if (used == NULL)
		return 1;
	for (i = 0; i < rs->n; i++) {
		if (rs->rules[i].chain != (enum fw_chain)c)
			continue;
		n++;
		if (fw_rule_expected_canonical(&rs->rules[i], want,
		    sizeof(want)) != 0) {
			diffs++;
			continue;
		}
		for (found = 0, k = 0; k < live->nrules[c]; k++)
			if (!used[k] && strcmp(live->rules[c][k], want) == 0) {
				used[k] = 1;
				found = 1;
				break;
			}
		if (!found) {
			fw_render_rule(&rs->rules[i], shown, sizeof(shown));
			printf("missing rule in chain %s: %s\n",
			    fw_chain_names[c], shown);
			diffs++;
		}
	}
	for (k = 0; k < live->nrules[c]; k++)
		if (!used[k]) {
			printf("extra rule in chain %s:\n%s", fw_chain_names[c],
			    live->rules[c][k]);
			diffs++;
		}
	free(used);
	return diffs;
}

/* Same rules, same order? (Order matters: the first match decides.) */
static int
same_order(const struct fw_ruleset *rs, const struct fw_live *live, int c)
{
	char want[8192];
	size_t i, k = 0;

	for (i = 0; i < rs->n; i++) {
		if (rs->rules[i].chain != (enum fw_chain)c)
			continue;
		if (k >= live->nrules[c] ||
		    fw_rule_expected_canonical(&rs->rules[i], want,
		    sizeof(want)) != 0 || strcmp(live->rules[c][k++], want) != 0)
			return 0;
	}
	return k == live->nrules[c];
}

static int
cmd_verify(struct fw_cmd *fc)
{
	struct fw_ruleset rs;
	struct fw_live live;
	char *text = NULL, tag[256], why[512];
	int diffs = 0, c;

	if (build(fc, 0, &rs, &text, tag, sizeof(tag)) != 0)
		return 2;
	if (fw_kernel_read(&live, why, sizeof(why)) != 0) {
		fprintf(stderr, "sekisho-firewall: %s\n", why);
		return 2;
	}
	if (!live.table_found) {
		printf("missing table inet %s\n", FW_TABLE);
		diffs++;
	} else {
		if (strcmp(live.tag, tag) != 0) {
			printf("table tag differs: live \"%s\", expected \"%s\"\n",
			    live.tag, tag);
			diffs++;
		}
		if (live.extra_chains > 0) {
			printf("%u extra chain(s) in table inet %s\n",
			    live.extra_chains, FW_TABLE);
			diffs++;
		}
		for (c = 0; c < FW_NCHAINS; c++) {
			if (!live.chains_ok[c]) {
				printf("chain %s is missing or its hook, "
				    "priority or policy differ\n",
				    fw_chain_names[c]);
				diffs++;
			}
			diffs += compare_chain(&rs, &live, c);
			if (diffs == 0 && !same_order(&rs, &live, c)) {
				printf("chain %s: the rules are out of order\n",
				    fw_chain_names[c]);
				diffs++;
			}
		}
	}
	if (diffs == 0)
		printf("verified: the live %s ruleset is the generated one "
		    "(sha256 %s)\n", fc->role_name, rs.digest);
	fw_live_free(&live);
	fw_free(&rs);
	free(text);
	return diffs == 0 ? 0 : 1;
}

static int
cmd_render(struct fw_cmd *fc)
{
	struct fw_ruleset rs;
	char *text = NULL, tag[256];

	if (build(fc, 0, &rs, &text, tag, sizeof(tag)) != 0)
		return 1;
	fputs(text, stdout);
	fw_free(&rs);
	free(text);
	return 0;
}

int
main(int argc, char **argv)
{
	struct fw_cmd fc = { 0 };
	struct config_error err;
	const char *cmd = NULL;
	int i, r;

	log_init("sekisho-firewall", 0, LOG_LEVEL_INFO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			fc.site_path = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			fc.role_name = argv[++i];
		else if (strcmp(argv[i], "--audit") == 0 && i + 1 < argc)
			fc.audit_path = argv[++i];
		else if (cmd == NULL && argv[i][0] != '-')
			cmd = argv[i];
		else
			usage();
	}
	if (fc.site_path == NULL || fc.role_name == NULL || cmd == NULL)
		usage();
	if (strcmp(fc.role_name, "receiver") == 0)
		fc.role = ROLE_RECEIVER;
	else if (strcmp(fc.role_name, "vault") == 0)
		fc.role = ROLE_VAULT;
	else if (strcmp(fc.role_name, "sender") == 0)
		fc.role = ROLE_SENDER;
	else
		usage();
	memset(&err, 0, sizeof(err));
	if (site_config_load(fc.site_path, &fc.site, &err) != 0)
		fatalx("%s:%d: %s", err.file, err.line, err.message);
	if (strcmp(cmd, "render") == 0)
		r = cmd_render(&fc);
	else if (strcmp(cmd, "apply") == 0)
		r = cmd_apply(&fc, 0, "firewall.apply");
	else if (strcmp(cmd, "verify") == 0)
		r = cmd_verify(&fc);
	else if (strcmp(cmd, "lockdown") == 0)
		r = cmd_apply(&fc, 1, "firewall.lockdown");
	else if (strcmp(cmd, "unlock") == 0)
		r = cmd_apply(&fc, 0, "firewall.unlock");
	else
		usage();
	site_config_free(fc.site);
	return r;
}
