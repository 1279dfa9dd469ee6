/*
 * fwverify.c: compares the live table `inet sekisho` with the ruleset the
 * site configuration gives for a role (R54). sekisho-firewall's verify and
 * the daemons' start-up check share it.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "fw.h"
#include "fwbatch.h"
#include "log.h"
#include "sk.h"

/* Compares one chain's rules; prints each difference. */
static int
compare_chain(const struct fw_ruleset *rs, const struct fw_live *live,
    int c, FILE *out)
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
			fprintf(out, "missing rule in chain %s: %s\n",
			    fw_chain_names[c], shown);
			diffs++;
		}
	}
	for (k = 0; k < live->nrules[c]; k++)
		if (!used[k]) {
			fprintf(out, "extra rule in chain %s:\n%s", fw_chain_names[c],
			    live->rules[c][k]);
			diffs++;
		}
	free(used);
	return diffs;
}

static void
print_elem(FILE *out, const char *what, const char *set, int family,
    const struct fw_elem *e)
{
	char ip[64];

	inet_ntop(family, e->key, ip, sizeof(ip));
	fprintf(out, "%s element in set %s: %s (interval %s)\n", what, set, ip,
	    e->end ? "end" : "start");
}

/* Compares the sets: same names, kinds and elements. Both element lists
 * are sorted, so one merge finds what is missing and what is extra. */
static int
compare_sets(const struct fw_ruleset *rs, const struct fw_live *live,
    FILE *out)
{
	const struct fw_live_set *ls;
	struct fw_elem *want;
	size_t i, k, a, b, n;
	int diffs = 0, c;
	unsigned len;

	for (i = 0; i < rs->nsets; i++) {
		const struct fw_set *s = &rs->sets[i];

		len = s->family == AF_INET ? 4 : 16;
		for (ls = NULL, k = 0; k < live->nsets; k++)
			if (strcmp(live->sets[k].name, s->name) == 0)
				ls = &live->sets[k];
		if (ls == NULL) {
			fprintf(out, "missing set %s\n", s->name);
			diffs++;
			continue;
		}
		if (ls->key_len != len || ls->flags != NFT_SET_INTERVAL ||
		    ls->key_type != (s->family == AF_INET ? 7u : 8u)) {
			fprintf(out, "set %s: its type or flags differ\n",
			    s->name);
			diffs++;
			continue;
		}
		if (fw_set_elements(s, &want, &n) != 0)
			return diffs + 1;
		for (a = b = 0; a < n || b < ls->n;) {
			c = a == n ? 1 : b == ls->n ? -1 :
			    fw_elem_cmp(&want[a], &ls->elems[b]);
			if (c < 0)
				print_elem(out, "missing", s->name, s->family,
				    &want[a++]);
			else if (c > 0)
				print_elem(out, "extra", s->name, s->family,
				    &ls->elems[b++]);
			else {
				a++;
				b++;
				continue;
			}
			diffs++;
		}
		free(want);
	}
	for (k = 0; k < live->nsets; k++) {
		for (i = 0; i < rs->nsets; i++)
			if (strcmp(live->sets[k].name, rs->sets[i].name) == 0)
				break;
		if (i == rs->nsets) {
			fprintf(out, "extra set %s\n", live->sets[k].name);
			diffs++;
		}
	}
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

int
fw_tag(const struct fw_ruleset *rs, const char *role, int lockdown,
    char *tag, size_t cap)
{
	int n = snprintf(tag, cap, "sekisho-firewall %s role=%s%s sha256=%s",
	    FW_VERSION, role, lockdown ? " lockdown" : "", rs->digest);

	return n < 0 || (size_t)n >= cap ? SK_ETOOBIG : 0;
}

int
fw_verify(const struct site_config *site, enum config_role role, FILE *out)
{
	struct fw_ruleset rs;
	struct fw_live live;
	char *text = NULL, tag[256], why[512];
	int diffs = 0, c, r;

	if ((r = fw_build(site, role, 0, &rs)) != 0)
		return r;
	if ((r = fw_render(&rs, config_role_name(role), 0, &text)) != 0 ||
	    (r = fw_tag(&rs, config_role_name(role), 0, tag, sizeof(tag))) != 0) {
		fw_free(&rs);
		free(text);
		return r;
	}
	if ((r = fw_kernel_read(&live, why, sizeof(why))) != 0) {
		fprintf(out, "%s\n", why);
		fw_free(&rs);
		free(text);
		return r;
	}
	if (!live.table_found) {
		fprintf(out, "missing table inet %s\n", FW_TABLE);
		diffs++;
	} else {
		if (strcmp(live.tag, tag) != 0) {
			fprintf(out, "table tag differs: live \"%s\", expected "
			    "\"%s\"\n", live.tag, tag);
			diffs++;
		}
		if (live.extra_chains > 0) {
			fprintf(out, "%u extra chain(s) in table inet %s\n",
			    live.extra_chains, FW_TABLE);
			diffs++;
		}
		diffs += compare_sets(&rs, &live, out);
		for (c = 0; c < FW_NCHAINS; c++) {
			if (!live.chains_ok[c]) {
				fprintf(out, "chain %s is missing or its hook, "
				    "priority or policy differ\n",
				    fw_chain_names[c]);
				diffs++;
			}
			diffs += compare_chain(&rs, &live, c, out);
			if (diffs == 0 && !same_order(&rs, &live, c)) {
				fprintf(out, "chain %s: the rules are out of "
				    "order\n", fw_chain_names[c]);
				diffs++;
			}
		}
	}
	if (diffs == 0)
		fprintf(out, "verified: the live %s ruleset is the generated one "
		    "(sha256 %s)\n", config_role_name(role), rs.digest);
	fw_live_free(&live);
	fw_free(&rs);
	free(text);
	return diffs == 0 ? 0 : SK_EAUTH;
}

void
fw_require(const struct site_config *site, enum config_role role,
    const char *site_file)
{
	const char *name = config_role_name(role);

	/* The network layer of one-way must be in place before we serve. */
	if (fw_verify(site, role, stderr) != 0)
		fatalx("this host's firewall is not the %s ruleset of %s; "
		    "apply it with 'sekisho-firewall -c %s --role %s apply' "
		    "(or set require_firewall = false); refusing to serve",
		    name, site_file, site_file, name);
	log_info("firewall verified: table inet sekisho is the %s ruleset of "
	    "the site", name);
}
