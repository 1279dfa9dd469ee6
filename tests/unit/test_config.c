/*
 * test_config.c: site and local configuration, and that every error names
 * the file, the line and what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "sk.h"

static const char base_site[] =
    "site: { name = \"Test Prefecture\"; };\n"				/* 1 */
    "ca: {\n"								/* 2 */
    "  municipalities = \"muni-ca.crt\";\n"				/* 3 */
    "  recipients = \"recip-ca.crt\";\n"				/* 4 */
    "  internal = \"/etc/sekisho/internal-ca.crt\";\n"			/* 5 */
    "};\n"								/* 6 */
    "hosts: {\n"							/* 7 */
    "  receiver: {\n"							/* 8 */
    "    identity = \"urn:sekisho:host:receiver\";\n"			/* 9 */
    "    external: { address = \"192.0.2.10\"; port = 8443; };\n"	/* 10 */
    "    internal: { address = \"198.51.100.1\"; port = 9443; };\n"	/* 11 */
    "  };\n"								/* 12 */
    "  vault: { identity = \"urn:sekisho:host:vault\";\n"		/* 13 */
    "    address = \"198.51.100.2\"; };\n"				/* 14 */
    "  sender: {\n"							/* 15 */
    "    identity = \"urn:sekisho:host:sender\";\n"			/* 16 */
    "    external: { address = \"203.0.113.10\"; port = 8443; };\n"	/* 17 */
    "    internal: { address = \"198.51.100.3\"; port = 9443; };\n"	/* 18 */
    "  };\n"								/* 19 */
    "};\n"								/* 20 */
    "datasets = (\n"							/* 21 */
    "  { id = \"health\"; max_bytes = 1000; },\n"			/* 22 */
    "  { id = \"register\"; envelope = true; retention_days = 7; }\n"	/* 23 */
    ");\n"								/* 24 */
    "municipalities = (\n"						/* 25 */
    "  { id = \"131156\"; identity = \"urn:sekisho:muni:131156\";\n"	/* 26 */
    "    networks = [ \"192.0.2.0/26\", \"2001:db8::/48\" ];\n"	/* 27 */
    "    datasets = [ \"health\" ]; }\n"				/* 28 */
    ");\n"								/* 29 */
    "recipients = (\n"							/* 30 */
    "  { id = \"univ-a\"; identity = \"urn:sekisho:recip:univ-a\";\n"	/* 31 */
    "    networks = [ \"203.0.113.0/24\" ]; }\n"			/* 32 */
    ");\n"								/* 33 */
    "operators = (\n"							/* 34 */
    "  { id = \"op1\"; public_key = \"op1.pub\";\n"			/* 35 */
    "    valid_from = \"2026-04-01\"; valid_until = \"2027-03-31\"; },\n" /* 36 */
    /* Two more, so that approvals = 2 can be given after op1's end. */
    "  { id = \"op2\"; public_key = \"op2.pub\";\n"			/* 37 */
    "    valid_from = \"2026-04-01\"; valid_until = \"2099-12-31\"; },\n" /* 38 */
    "  { id = \"op3\"; public_key = \"op3.pub\";\n"			/* 39 */
    "    valid_from = \"2026-04-01\"; valid_until = \"2099-12-31\"; }\n" /* 40 */
    ");\n";								/* 41 */

static struct config_error err;

/* Loads base_site with the first `from` replaced by `to`. */
static int
load_with(const char *from, const char *to, struct site_config **out)
{
	char text[8192];
	const char *at = strstr(base_site, from);
	int r;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base_site),
	    base_site, to, at + strlen(from));
	memset(&err, 0, sizeof(err));
	r = site_config_load_string(text, "/etc/sekisho/site.conf", out, &err);
	return r;
}

static void
expect_error(const char *from, const char *to, int line, const char *words)
{
	struct site_config *site = NULL;

	if (load_with(from, to, &site) != SK_ECONFIG)
		fail_msg("replacing '%s' with '%s' was accepted", from, to);
	assert_null(site);
	assert_string_equal(err.file, "/etc/sekisho/site.conf");
	if (line != err.line || strstr(err.message, words) == NULL)
		fail_msg("line %d '%s', wanted line %d with '%s'", err.line,
		    err.message, line, words);
}

/* delivery = "push" (R03): the endpoint's parts, and what is refused. */
static void
test_r03_push_recipient(void **state)
{
	static const char *const from = "    networks = [ \"203.0.113.0/24\" ]; }\n";
	char to[512];
	struct site_config *site = NULL;
	const struct config_recipient *rc;

	(void)state;
	assert_int_equal(load_with(from, "    networks = [ \"203.0.113.0/24\" ];"
	    " delivery = \"push\";\n    endpoint = "
	    "\"https://[2001:db8::7]:8443/in/box/\"; endpoint_ca = \"b.crt\";"
	    " endpoint_name = \"in.b.example\"; }\n", &site), 0);
	assert_non_null(rc = site_find_recipient(site, "univ-a"));
	assert_true(rc->push);
	assert_string_equal(rc->push_address, "2001:db8::7");
	assert_int_equal(rc->push_port, 8443);
	assert_string_equal(rc->push_path, "/in/box/");
	assert_string_equal(rc->endpoint_ca, "/etc/sekisho/b.crt");
	assert_int_equal(site_push_recipients(site), 1);
	site_config_free(site);
	static const char *const bad[] = {
		"http://192.0.2.9:8443/in/", "https://push.example:8443/in/",
		"https://192.0.2.9/in/", "https://192.0.2.9:0/in/",
		"https://192.0.2.9:8443/in", "https://192.0.2.0/24:8443/in/",
		"https://192.0.2.9:8443/a b/",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(to, sizeof(to), "    networks = [ \"203.0.113.0/24\" ];"
		    " delivery = \"push\";\n    endpoint = \"%s\"; "
		    "endpoint_ca = \"b.crt\"; endpoint_name = \"b\"; }\n",
		    bad[i]);
		expect_error(from, to, 33, "https://ADDRESS:PORT/PATH/");
	}
	expect_error(from, "    networks = [ \"203.0.113.0/24\" ]; delivery = "
	    "\"push\"; }\n", 31, "missing setting 'endpoint'");
	expect_error(from, "    networks = [ \"203.0.113.0/24\" ]; delivery = "
	    "\"pushed\"; }\n", 32, "'delivery' must be");
	expect_error(from, "    networks = [ \"203.0.113.0/24\" ]; endpoint = "
	    "\"https://192.0.2.9:8443/in/\"; }\n", 31, "are for delivery");
}

static void
test_good_site(void **state)
{
	struct site_config *site = NULL;
	const struct config_municipality *m;

	(void)state;
	assert_int_equal(load_with("", "", &site), 0);
	assert_string_equal(site->name, "Test Prefecture");
	assert_int_equal(strlen(site->digest), 64);
	assert_int_equal(site->receiver.external.port, 8443);
	/* Relative paths are taken from the file's folder; CAs default. */
	assert_string_equal(site->receiver.external.ca_file,
	    "/etc/sekisho/muni-ca.crt");
	assert_string_equal(site->sender.external.ca_file,
	    "/etc/sekisho/recip-ca.crt");
	assert_string_equal(site->receiver.internal.ca_file,
	    "/etc/sekisho/internal-ca.crt");
	/* One vault address unless it has a second link to the sender. */
	assert_string_equal(site->vault.sender_address, "198.51.100.2");
	assert_int_equal(site->ndatasets, 2);
	assert_int_equal(site->datasets[0].max_bytes, 1000);
	assert_int_equal(site->datasets[1].retention_days, 7);
	assert_true(site->datasets[1].envelope);
	m = site_find_municipality_by_identity(site, "urn:sekisho:muni:131156");
	assert_non_null(m);
	assert_string_equal(m->id, "131156");
	assert_int_equal(m->nnetworks, 2);
	assert_true(site_municipality_allows(m, "health"));
	assert_false(site_municipality_allows(m, "register"));
	assert_null(site_find_municipality_by_identity(site,
	    "urn:sekisho:recip:univ-a"));
	assert_int_equal(site->noperators, 3);
	assert_int_equal(site->operators[0].valid_from, 1775001600);
	assert_int_equal(site->operators[0].valid_until, 1806537600);
	site_config_free(site);
	/* Issue 15: 2 GiB written without the L suffix is 2 GiB. */
	assert_int_equal(load_with("max_bytes = 1000", "max_bytes = 2147483648",
	    &site), 0);
	assert_true(site->datasets[0].max_bytes == UINT64_C(2147483648));
	site_config_free(site);
	/* ... and inside a string or a comment nothing changes. */
	assert_int_equal(load_with("\"Test Prefecture\"; };",
	    "\"Test 4294967296\"; }; # 4294967296", &site), 0);
	assert_string_equal(site->name, "Test 4294967296");
	site_config_free(site);
}

static void
test_digest_changes_with_text(void **state)
{
	struct site_config *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(load_with("", "", &a), 0);
	assert_int_equal(load_with("Test Prefecture", "Test Prefecture ", &b),
	    0);
	assert_string_not_equal(a->digest, b->digest);
	site_config_free(a);
	site_config_free(b);
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("port = 8443; };\n    internal",
	    "port = 70000; };\n    internal", 10, "between 1 and 65535");
	expect_error("\"192.0.2.10\"", "\"192.0.2.300\"", 10, "IPv4 or IPv6");
	expect_error("\"192.0.2.0/26\"", "\"192.0.2.1/26\"", 27,
	    "zero host bits");
	expect_error("\"131156\"", "\"131155\"", 26, "check digit");
	expect_error("\"131156\"", "\"13115\"", 26, "6-digit");
	expect_error("[ \"health\" ]", "[ \"nothing\" ]", 28, "not defined");
	expect_error("\"register\"", "\"health\"", 23, "defined twice");
	expect_error("\"register\"", "\"bad/id\"", 23, "may hold only");
	expect_error("\"recip-ca.crt\"", "\"muni-ca.crt\"", 2,
	    "three different files");
	expect_error("\"urn:sekisho:recip:univ-a\"", "\"urn:sekisho:muni:131156\"",
	    31, "used twice");
	expect_error("\"2027-03-31\"", "\"2027-13-31\"", 35, "YYYY-MM-DD");
	expect_error("\"2027-03-31\"", "\"2026-03-31\"", 35, "before");
	expect_error("max_bytes = 1000", "max_bytes = \"big\"", 22,
	    "must be an integer");
	expect_error("envelope = true", "envelope = 1", 23, "true or false");
	/* R41: one operator alone is a configuration error at its line. */
	expect_error("max_bytes = 1000; }", "max_bytes = 1000; release: { "
	    "approvals = 1; }; }", 22, "at least 2 distinct operators");
	expect_error("    identity = \"urn:sekisho:host:sender\";\n", "", 15,
	    "missing setting 'identity'");
	expect_error("networks = [ \"203.0.113.0/24\" ]", "networks = [ ]", 32,
	    "1 to 64");
	expect_error("address = \"198.51.100.2\"; };",
	    "address = \"198.51.100.2\"; sender_address = \"x\"; };", 14,
	    "'sender_address' must be");
	/* The sender's settings of a recipient (R16, envelopes). */
	expect_error("networks = [ \"203.0.113.0/24\" ]; }",
	    "networks = [ \"203.0.113.0/24\" ]; envelope = true; }", 31,
	    "no 'certificate'");
	expect_error("networks = [ \"203.0.113.0/24\" ]; }",
	    "networks = [ \"203.0.113.0/24\" ];\n downloads = { warn_bytes = 10; "
	    "limit_bytes = 5; }; }", 33, "above its limit");
	expect_error("networks = [ \"203.0.113.0/24\" ]; }",
	    "networks = [ \"203.0.113.0/24\" ];\n downloads = { window = 5; }; }",
	    33, "window");
	/* Issue 15: a typo is an error at its line, with the nearest name
	 * the parser knows there, never a silent default. */
	expect_error("envelope = true", "envelop = true", 23,
	    "unknown setting 'envelop'; did you mean 'envelope'?");
	expect_error("retention_days = 7", "retension_days = 7", 23,
	    "unknown setting 'retension_days'; did you mean 'retention_days'?");
	expect_error("site: { name = \"Test Prefecture\"; };\n",
	    "site: { name = \"Test Prefecture\"; };\n"
	    "managment: { ssh_port = 22; };\n", 2,
	    "unknown setting 'managment'; did you mean 'management'?");
	expect_error("port = 9443; };\n  };\n  vault",
	    "port = 9443; prot = 1; };\n  };\n  vault", 11,
	    "unknown setting 'prot'; did you mean 'port'?");
	expect_error("site: { name = \"Test Prefecture\"; };",
	    "site: { name = \"Test Prefecture\"; colour = \"red\"; };", 1,
	    "unknown setting 'colour'");
	expect_error("max_bytes = 1000", "max_bytes = \"1000\"", 22,
	    "'max_bytes' must be an integer, not a string");
	/* Issue 15: the same id twice is an error at the second. */
	expect_error("    datasets = [ \"health\" ]; }\n);\nrecipients",
	    "    datasets = [ \"health\" ]; },\n"
	    "  { id = \"131156\"; identity = \"urn:sekisho:muni:other\";\n"
	    "    networks = [ \"198.18.0.0/24\" ]; datasets = [ \"health\" ]; }\n"
	    ");\nrecipients", 29, "municipality '131156' is defined twice");
	expect_error("    networks = [ \"203.0.113.0/24\" ]; }\n",
	    "    networks = [ \"203.0.113.0/24\" ]; },\n"
	    "  { id = \"univ-a\"; identity = \"urn:sekisho:recip:other\";\n"
	    "    networks = [ \"203.0.113.0/24\" ]; }\n", 33,
	    "recipient 'univ-a' is defined twice");
	/* A syntax error: libconfig's own message, with the line. */
	expect_error("max_bytes = 1000; },", "max_bytes = = 1000; },", 22,
	    "syntax error");
}

/* Issue 15: a city network open to every address, or overlapping
 * another city's, is allowed but warned of, with both names and the line. */
static void
test_network_warnings(void **state)
{
	struct site_config *site = NULL;

	(void)state;
	assert_int_equal(load_with("    datasets = [ \"health\" ]; }\n);",
	    "    datasets = [ \"health\" ]; },\n"
	    "  { id = \"011002\"; identity = \"urn:sekisho:muni:011002\";\n"
	    "    networks = [ \"192.0.2.32/27\", \"0.0.0.0/0\" ];\n"
	    "    datasets = [ \"health\" ]; }\n);", &site), 0);
	assert_int_equal(site->nwarnings, 3);
	assert_string_equal(site->warnings[0], "/etc/sekisho/site.conf:29: "
	    "warning: municipality 011002: network 192.0.2.32/27 overlaps "
	    "192.0.2.0/26 of municipality 131156");
	assert_string_equal(site->warnings[1], "/etc/sekisho/site.conf:29: "
	    "warning: municipality 011002: network 0.0.0.0/0 admits every "
	    "address");
	assert_non_null(strstr(site->warnings[2], "0.0.0.0/0 overlaps "
	    "192.0.2.0/26 of municipality 131156"));
	site_config_free(site);
	/* The base site: no warning. */
	assert_int_equal(load_with("health", "health", &site), 0);
	assert_int_equal(site->nwarnings, 0);
	site_config_free(site);
}

static char tmpdir[64];

static int
make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sekisho-test-config.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
write_file(const char *name, const char *text, char *path, size_t cap)
{
	FILE *fp;

	snprintf(path, cap, "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* R41, the vault's check: more approvals than the roster's valid
 * operators can give is an error at the dataset's approvals line; what
 * they can give is fine. */
static void
test_r41_approvals_the_roster_cannot_give(void **state)
{
	struct site_config *site = NULL;

	(void)state;
	assert_int_equal(load_with("max_bytes = 1000; }", "max_bytes = 1000; "
	    "release: { approvals = 4; }; }", &site), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(site_check_approvals(site, &err), SK_ECONFIG);
	assert_string_equal(err.file, "/etc/sekisho/site.conf");
	assert_int_equal(err.line, 22);
	/* 3 operators until op1's end (2027-03-31), 2 after. */
	assert_non_null(strstr(err.message, "needs 4 approvals, but the "
	    "roster has "));
	site_config_free(site);
	assert_int_equal(load_with("max_bytes = 1000; }", "max_bytes = 1000; "
	    "release: { approvals = 2; }; }", &site), 0);
	assert_int_equal(site_check_approvals(site, &err), 0);
	site_config_free(site);
}

static void
test_local_config(void **state)
{
	struct local_config lc;
	char path[256];

	(void)state;
	assert_int_equal(write_file("receiver.conf",
	    "role = \"receiver\";\n"
	    "site = \"site.conf\";\n"
	    "data_dir = \"/var/lib/sekisho\";\n"
	    "certificate = \"pki/receiver.crt\";\n"
	    "key = \"pki/receiver.key\";\n"
	    "master_key = \"/var/lib/sekisho/master.key\";\n"
	    "limits: { max_connections = 128; disk_reserve = 5000000000L; };\n",
	    path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), 0);
	assert_int_equal(lc.role, ROLE_RECEIVER);
	assert_non_null(strstr(lc.site_file, "/site.conf"));
	assert_int_equal(strncmp(lc.site_file, tmpdir, strlen(tmpdir)), 0);
	assert_string_equal(lc.audit_log, "/var/lib/sekisho/audit.log");
	assert_string_equal(lc.audit_key, "/var/lib/sekisho/audit.log.key0");
	assert_true(lc.require_firewall);	/* on unless said otherwise */
	assert_int_equal(lc.max_connections, 128);
	assert_int_equal(lc.read_timeout, 30);
	assert_int_equal(lc.disk_reserve, UINT64_C(5000000000));
	assert_string_equal(lc.user, "sekisho-receiver");	/* the default */
}

/* R17: the user a daemon drops to is an account name, never root. */
static void
test_local_config_user(void **state)
{
	static const char base[] = "role = \"sender\";\nsite = \"s\";\n"
	    "data_dir = \"d\";\ncertificate = \"c\";\nkey = \"k\";\n"
	    "master_key = \"m\";\n";
	static const char *const bad[] = { "root", "0day", "Sekisho",
	    "a b", "../x", "abcdefghijabcdefghijabcdefghijabc" };
	struct local_config lc;
	char path[256], text[512];
	size_t i;

	(void)state;
	snprintf(text, sizeof(text), "%suser = \"_sk-send3\";\n", base);
	assert_int_equal(write_file("user.conf", text, path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), 0);
	assert_string_equal(lc.user, "_sk-send3");
	for (i = 0; i < SK_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), "%suser = \"%s\";\n", base, bad[i]);
		assert_int_equal(write_file("user.conf", text, path,
		    sizeof(path)), 0);
		assert_int_equal(local_config_load(path, &lc, &err),
		    SK_ECONFIG);
		assert_int_equal(err.line, 7);
	}
	/* An empty name means the role's own user. */
	snprintf(text, sizeof(text), "%suser = \"\";\n", base);
	assert_int_equal(write_file("user.conf", text, path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), 0);
	assert_string_equal(lc.user, "sekisho-sender");
}

static void
test_local_config_errors(void **state)
{
	struct local_config lc;
	char path[256];

	(void)state;
	assert_int_equal(write_file("bad.conf",
	    "site = \"site.conf\";\n"
	    "role = \"router\";\n", path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), SK_ECONFIG);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "\"receiver\", \"vault\""));
	assert_int_equal(write_file("bad2.conf",
	    "role = \"vault\";\nsite = \"s\";\ndata_dir = \"d\";\n"
	    "certificate = \"c\";\nkey = \"k\";\nmaster_key = \"m\";\n"
	    "limits: {\n  max_connections = 0;\n};\n", path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), SK_ECONFIG);
	assert_int_equal(err.line, 8);
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(local_config_load(path, &lc, &err), SK_ECONFIG);
	assert_non_null(strstr(err.message, "cannot open"));
	/* Issue 15: typos in a local file, at their lines. */
	assert_int_equal(write_file("typo.conf",
	    "role = \"vault\";\nsite = \"s\";\ndata_dir = \"d\";\n"
	    "certificate = \"c\";\nkey = \"k\";\nmaster_key = \"m\";\n"
	    "limts: {\n  max_connections = 4;\n};\n", path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), SK_ECONFIG);
	assert_int_equal(err.line, 7);
	assert_string_equal(err.message,
	    "unknown setting 'limts'; did you mean 'limits'?");
	assert_int_equal(write_file("typo2.conf",
	    "role = \"vault\";\nsite = \"s\";\ndata_dir = \"d\";\n"
	    "certificate = \"c\";\nkey = \"k\";\nmaster_key = \"m\";\n"
	    "audit: {\n  reserv = 0;\n};\n", path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), SK_ECONFIG);
	assert_int_equal(err.line, 8);
	assert_string_equal(err.message,
	    "unknown setting 'reserv'; did you mean 'reserve'?");
}

/* show-config's text for local (may be NULL) and site, in a buffer. */
static char *
shown(const struct local_config *local, const struct site_config *site)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(config_show(f, local, site), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* Is line (whole) one of text's lines? */
static void
assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

/* Issue 15, item 2: show-config prints what the program runs with, the
 * defaults filled in (as sshd -T): a setting left out shows its default,
 * one given shows its value, dates and networks as the file writes them. */
static void
test_r54_show_config_fills_in_the_defaults(void **state)
{
	struct site_config *site = NULL;
	struct local_config lc;
	char path[256], *text;

	(void)state;
	assert_int_equal(load_with("site:", "site:", &site), 0);
	text = shown(NULL, site);
	assert_line(text, "site.name Test Prefecture");
	assert_line(text, "datasets.health.max_bytes 1000");
	assert_line(text, "datasets.health.retention_days 30");	/* default */
	assert_line(text, "datasets.health.envelope false");
	assert_line(text, "datasets.register.retention_days 7");
	assert_line(text, "datasets.register.envelope true");
	assert_line(text, "datasets.health.release.approvals 2");
	assert_line(text, "hosts.receiver.external.port 8443");
	assert_line(text, "hosts.receiver.external.crl \"\"");
	assert_line(text, "hosts.receiver.internal.ca /etc/sekisho/internal-ca.crt");
	assert_line(text, "municipalities.131156.networks 192.0.2.0/26 "
	    "2001:db8::/48");
	assert_line(text, "municipalities.131156.datasets health");
	assert_line(text, "operators.op1.valid_from 2026-04-01");
	assert_line(text, "operators.op1.valid_until 2027-03-31");
	assert_line(text, "management.networks \"\"");	/* no SSH */
	assert_null(strstr(text, "management.ssh_port"));
	assert_non_null(strstr(text, site->digest));
	free(text);
	site_config_free(site);
	assert_int_equal(write_file("shown.conf",
	    "role = \"receiver\";\nsite = \"site.conf\";\n"
	    "data_dir = \"/var/lib/sekisho\";\ncertificate = \"r.crt\";\n"
	    "key = \"r.key\";\nmaster_key = \"/var/lib/sekisho/m.key\";\n"
	    "log: { level = \"warning\"; };\n"
	    "limits: { max_connections = 128; expiry_warn_days = 45; };\n",
	    path, sizeof(path)), 0);
	assert_int_equal(local_config_load(path, &lc, &err), 0);
	text = shown(&lc, NULL);
	assert_line(text, "role receiver");
	assert_line(text, "user sekisho-receiver");
	assert_line(text, "limits.max_connections 128");
	assert_line(text, "limits.read_timeout 30");
	assert_line(text, "limits.expiry_warn_days 45");
	assert_line(text, "limits.resume_seconds 3600");
	assert_line(text, "require_firewall true");
	assert_line(text, "log.level warning");
	assert_line(text, "audit.log /var/lib/sekisho/audit.log");
	assert_null(strstr(text, "envelope."));	/* the vault's only */
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_site),
		cmocka_unit_test(test_r03_push_recipient),
		cmocka_unit_test(test_digest_changes_with_text),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_network_warnings),
		cmocka_unit_test(test_r41_approvals_the_roster_cannot_give),
		cmocka_unit_test(test_local_config),
		cmocka_unit_test(test_local_config_errors),
		cmocka_unit_test(test_local_config_user),
		cmocka_unit_test(test_r54_show_config_fills_in_the_defaults),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
