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
#include <time.h>

#include "audit.h"
#include "config.h"
#include "fw.h"
#include "fwbatch.h"
#include "log.h"
#include "sk.h"
#include "util.h"

struct fw_cmd {
	const char *site_path;
	const char *role_name;
	enum config_role role;
	const char *audit_path;
	struct site_config *site;
	/* R26: a lockdown says why, who reported it and when it was found. */
	const char *reason, *reporter, *discovered;
};

static void
print_usage(FILE *fp)
{
	fprintf(fp, "usage: sekisho-firewall -c ROLE.conf [--audit LOG] "
	    "render|apply|verify|lockdown|unlock|systemd\n"
	    "       sekisho-firewall -c SITE.conf --role "
	    "receiver|vault|sender [--audit LOG] ...\n"
	    "       (lockdown --reason TEXT --reporter ID "
	    "[--discovered YYYY-MM-DDTHH:MM])\n");
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
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
	return fw_tag(rs, fc->role_name, lockdown, tag, tagcap);
}

static int
audit_note(struct fw_cmd *fc, const char *event, const char *actor,
    const char *detail)
{
	struct audit_event ev = { .event = event, .actor = actor,
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

/*
 * R26: a lockdown must say why (one line, at most 200 bytes: say what, not
 * whom), who reported it (an id: letters, digits, '.', '_', '-', '@') and
 * when it was found (YYYY-MM-DDTHH:MM, JST; default now).
 */
static void
lockdown_record(struct fw_cmd *fc)
{
	static char now[32];
	const char *p;
	struct tm tm;
	time_t t;

	if (fc->reason == NULL || fc->reporter == NULL)
		fatalx("lockdown needs --reason TEXT and --reporter ID (and "
		    "optionally --discovered YYYY-MM-DDTHH:MM, JST): the "
		    "incident record (R26) / 封鎖には理由と報告者が必要です");
	if (fc->reason[0] == '\0' || strlen(fc->reason) > 200 ||
	    !sk_utf8_printable(fc->reason, strlen(fc->reason)))
		fatalx("--reason: one line of printable text, at most 200 "
		    "bytes");
	for (p = fc->reporter; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-' || *p == '@'))
			break;
	if (fc->reporter[0] == '\0' || *p != '\0' || strlen(fc->reporter) >
	    64)
		fatalx("--reporter: an id (letters, digits, '.', '_', '-', "
		    "'@'), at most 64: not a name");
	if (fc->discovered == NULL) {
		t = time(NULL) + 9 * 3600;
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M+09:00", &tm);
		fc->discovered = now;
		return;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(fc->discovered, "%Y-%m-%dT%H:%M", &tm)) == NULL ||
	    *p != '\0')
		fatalx("--discovered %s: a time written YYYY-MM-DDTHH:MM (JST)",
		    fc->discovered);
	t = timegm(&tm) - 9 * 3600;
	if (t > time(NULL) + 300)
		fatalx("--discovered %s is in the future", fc->discovered);
	snprintf(now, sizeof(now), "%s+09:00", fc->discovered);
	fc->discovered = now;
}

static int
cmd_apply(struct fw_cmd *fc, int lockdown, const char *event)
{
	struct fw_ruleset rs;
	struct fw_batch b;
	char *text = NULL, tag[256], why[512];
	size_t i, nets;
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
	for (i = 0, nets = 0; i < rs.nsets; i++)
		nets += rs.sets[i].n;
	if (r == 0)
		printf("applied the %s ruleset%s: %zu rules, %zu networks in "
		    "%zu sets, %zu bytes in one batch, sha256 %s\n",
		    fc->role_name, lockdown ? " (LOCKDOWN)" : "", rs.n, nets,
		    rs.nsets, b.len, rs.digest);
	else
		fprintf(stderr, "sekisho-firewall: apply failed: %s\n", why);
	if (r == 0 && lockdown) {
		char detail[1024];

		snprintf(detail, sizeof(detail), "discovered=%s reporter=%s "
		    "%s reason=%s", fc->discovered, fc->reporter, tag,
		    fc->reason);
		if (audit_note(fc, event, "admin", detail) != 0) {
			fprintf(stderr, "sekisho-firewall: the host is locked "
			    "down, but the audit log %s could not be written\n",
			    fc->audit_path);
			r = 1;
		}
	} else if (r == 0 && event != NULL &&
	    audit_note(fc, event, "admin", tag) != 0) {
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

/*
 * R54: the live ruleset against the generated one. What differs goes to
 * stdout; drift is also said at error level (the journal's priority 3)
 * and, with --audit, recorded as firewall.drift by "system", so that the
 * verify timer's run raises an alert. A match is said on stdout only.
 */
static int
cmd_verify(struct fw_cmd *fc)
{
	char *text = NULL, first[128], detail[256];
	size_t len = 0, lines = 0, i, k;
	FILE *fp;
	int r;

	if ((fp = open_memstream(&text, &len)) == NULL)
		fatalx("out of memory");
	r = fw_verify(fc->site, fc->role, fp);
	if (fclose(fp) != 0 || text == NULL)
		fatalx("out of memory");
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	if (r != SK_EAUTH) {
		free(text);
		return r == 0 ? 0 : 2;
	}
	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	for (k = 0; k < len && k + 1 < sizeof(first) && text[k] != '\n'; k++)
		first[k] = text[k] >= 0x20 && text[k] != 0x7f ? text[k] : '?';
	first[k] = '\0';
	free(text);
	log_errorx("the live %s ruleset is not the generated one (R54): %s%s",
	    fc->role_name, first, lines > 1 ? " (and more: see verify's "
	    "output)" : "");
	snprintf(detail, sizeof(detail), "role=%s lines=%zu first=%s",
	    fc->role_name, lines, first);
	if (audit_note(fc, "firewall.drift", "system", detail) != 0)
		log_errorx("and the audit log %s cannot be written",
		    fc->audit_path);
	return 1;
}

/* The drop-in for /etc/systemd/system/sekisho-ROLE.service.d/. */
static int
cmd_systemd(struct fw_cmd *fc)
{
	char *text = NULL;
	int r;

	if ((r = fw_systemd_dropin(fc->site, fc->role, &text)) != 0) {
		log_errorx("cannot write the drop-in: %s", sk_strerror(r));
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
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

/*
 * -c means what it means for every Sekisho program: the host's local file,
 * which names the role and the site (the site file itself is taken too,
 * with --role). A role given beside a local file must be the file's.
 */
static void
resolve_config(struct fw_cmd *fc, struct local_config *local)
{
	struct config_error lerr, serr;
	struct site_config *site;

	memset(&lerr, 0, sizeof(lerr));
	if (local_config_load(fc->site_path, local, &lerr) == 0) {
		const char *role = config_role_name(local->role);

		if (fc->role_name != NULL && strcmp(fc->role_name, role) != 0)
			fatalx("%s is the %s's local file, not the %s's",
			    fc->site_path, role, fc->role_name);
		fc->role_name = role;
		fc->site_path = local->site_file;
		return;
	}
	if (fc->role_name != NULL)
		return;
	/* No role: the file had to be a local one. Say why it is not, and
	 * whether it is a site file that only lacks --role. */
	memset(&serr, 0, sizeof(serr));
	if (site_config_load(fc->site_path, &site, &serr) == 0) {
		site_config_free(site);
		fatalx("%s is a site file: give --role, or -c the host's "
		    "local file (ROLE.conf)", fc->site_path);
	}
	fatalx("%s:%d: %s", lerr.file, lerr.line, lerr.message);
}

int
main(int argc, char **argv)
{
	struct fw_cmd fc = { 0 };
	struct local_config local;
	struct config_error err;
	const char *cmd = NULL;
	int i, r;

	/* Asked for: on stdout, exit 0 (a wrong call: stderr, exit 2). */
	if (util_cli_info(argc, argv, "sekisho-firewall", FW_VERSION, print_usage))
		return 0;
	log_init("sekisho-firewall", 0, LOG_LEVEL_INFO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			fc.site_path = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			fc.role_name = argv[++i];
		else if (strcmp(argv[i], "--audit") == 0 && i + 1 < argc)
			fc.audit_path = argv[++i];
		else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			fc.reason = argv[++i];
		else if (strcmp(argv[i], "--reporter") == 0 && i + 1 < argc)
			fc.reporter = argv[++i];
		else if (strcmp(argv[i], "--discovered") == 0 && i + 1 < argc)
			fc.discovered = argv[++i];
		else if (cmd == NULL && argv[i][0] != '-')
			cmd = argv[i];
		else
			usage();
	}
	if (fc.site_path == NULL || cmd == NULL)
		usage();
	resolve_config(&fc, &local);
	if (strcmp(cmd, "lockdown") == 0)
		lockdown_record(&fc);
	else if (fc.reason != NULL || fc.reporter != NULL ||
	    fc.discovered != NULL)
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
	else if (strcmp(cmd, "systemd") == 0)
		r = cmd_systemd(&fc);
	else
		usage();
	site_config_free(fc.site);
	return r;
}
