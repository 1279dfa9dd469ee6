/*
 * test_policy.c: policy files load as written, and every mistake is named
 * with its file and line.
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

#include "dict.h"
#include "policy.h"
#include "sk.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sekisho-test-policy.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* The example policy, with a map and a hierarchy added. */
static const char good[] =
    "input:  { encoding = \"cp932\"; delimiter = \",\"; header = true; };\n"
    "columns = (\n"
    "  { name = \"宛名番号\"; role = \"identifier\"; action = \"drop\"; },\n"
    "  { name = \"個人番号\"; role = \"identifier\"; action = \"drop\"; },\n"
    "  { name = \"氏名\"; role = \"identifier\"; action = \"pseudonymize\"; },\n"
    "  { name = \"生年月日\"; role = \"quasi\"; action = \"age_band\";\n"
    "    reference_date = \"2026-04-01\"; width = 5; top = 90; },\n"
    "  { name = \"性別\"; role = \"quasi\"; action = \"keep\"; },\n"
    "  { name = \"郵便番号\"; role = \"quasi\"; action = \"truncate\"; keep = 3; },\n"
    "  { name = \"住所\"; role = \"quasi\"; action = \"map\"; file = \"city.csv\";\n"
    "    default = \"その他\"; },\n"
    "  { name = \"身長\"; role = \"other\"; action = \"band\"; width = 5; },\n"
    "  { name = \"職業\"; role = \"quasi\"; action = \"hierarchy\";\n"
    "    file = \"job.csv\"; level = 1; },\n"
    "  { name = \"診断名\"; role = \"sensitive\"; action = \"keep\"; }\n"
    ");\n"
    "privacy: { k = 5; max_suppression = 0.05; l_diversity = 2; };\n"
    "output:  { encoding = \"cp932\"; shuffle = true; };\n"
    "scan: { patterns = ( { name = \"phone\"; regex = \"0[0-9]+-[0-9]+\"; } ); };\n";

static struct config_error err;

static int
load_variant(const char *from, const char *to, struct policy **p)
{
	char text[8192];
	const char *at = strstr(good, from);

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to,
	    at + strlen(from));
	memset(&err, 0, sizeof(err));
	return policy_load(write_file("p.conf", text), p, &err);
}

static void
expect_error(const char *from, const char *to, int line, const char *words)
{
	struct policy *p = NULL;

	if (load_variant(from, to, &p) != SK_ECONFIG)
		fail_msg("'%s' -> '%s' was accepted", from, to);
	if (err.line != line || strstr(err.message, words) == NULL ||
	    strstr(err.file, "p.conf") == NULL)
		fail_msg("%s:%d '%s', wanted line %d '%s'", err.file, err.line,
		    err.message, line, words);
}

static int
setup_tables(void **state)
{
	(void)state;
	write_file("city.csv", "中野区中央1-1,中野区\n中野区本町2-2,中野区\n"
	    "新宿区西新宿,新宿区\n");
	write_file("job.csv", "nurse;medical;*\nclerk;office;*\n");
	write_file("dx.csv", "flu;infection;*\ncold;infection;*\n"
	    "fracture;injury;*\n");
	write_file("flat.csv", "flu\ncold\n");
	return 0;
}

/*
 * Issue 15: the vault hands its engines the text of the policy it
 * checked, not the path: the same text loads to the same policy and
 * digest (its tables still from beside the path), whatever the file says
 * now; a text with a NUL byte is refused.
 */
static void
test_policy_from_the_text_main_checked(void **state)
{
	struct policy *a = NULL, *b = NULL;
	const char *path;

	(void)state;
	memset(&err, 0, sizeof(err));
	path = write_file("p.conf", good);
	assert_int_equal(policy_load(path, &a, &err), 0);
	assert_non_null(a->text);
	assert_int_equal(a->textlen, strlen(good));
	write_file("p.conf", "privacy: { k = \"five\"; };\n");
	assert_int_equal(policy_load_text(path, a->text, a->textlen, &b, &err),
	    0);
	assert_string_equal(a->digest, b->digest);
	assert_int_equal(b->ncols, a->ncols);
	assert_non_null(b->cols[6].to);		/* city.csv, beside p.conf */
	policy_free(b);
	b = NULL;
	assert_int_equal(policy_load(path, &b, &err), SK_ECONFIG);
	assert_null(b);
	assert_int_not_equal(policy_load_text(path, "k\0= 5;", 6, &b, &err),
	    0);
	assert_non_null(strstr(err.message, "NUL"));
	policy_free(a);
}

static void
test_good_policy(void **state)
{
	struct policy *p = NULL;
	uint32_t id, len;

	(void)state;
	assert_int_equal(load_variant("", "", &p), 0);
	assert_int_equal(p->ncols, 10);
	assert_int_equal(p->in_enc, CSV_CP932);
	assert_int_equal(p->out_enc, CSV_CP932);
	assert_true(p->crlf);		/* CP932 output defaults to CRLF */
	assert_int_equal(p->k, 5);
	assert_int_equal(p->l, 2);
	assert_int_equal(p->cols[2].action, ACT_PSEUDONYMIZE);
	assert_int_equal(p->cols[3].ref_y, 2026);
	assert_true(p->cols[3].has_top);
	assert_int_equal(p->cols[5].keep, 3);
	assert_int_equal(dict_count(p->cols[6].from), 3);
	assert_int_equal(dict_find(p->cols[6].from, "新宿区西新宿",
	    strlen("新宿区西新宿"), &id), 0);
	assert_string_equal(dict_key(p->cols[6].to, p->cols[6].to_id[id], &len),
	    "新宿区");
	assert_string_equal(p->cols[6].default_value, "その他");
	assert_int_equal(dict_count(p->cols[8].to), 2);
	assert_int_equal(p->npatterns, 1);
	assert_int_equal(strlen(p->digest), 64);
	policy_free(p);
}

/* t_hierarchy loads the sensitive values' levels, nested. */
static void
test_t_hierarchy_loads_its_levels(void **state)
{
	struct policy *p = NULL;
	uint32_t flu, cold, frac;

	(void)state;
	assert_int_equal(load_variant("l_diversity = 2;", "t_closeness = 0.2; "
	    "t_hierarchy = \"dx.csv\";", &p), 0);
	assert_true(p->t > 0.19 && p->t < 0.21);
	assert_int_equal(p->t_hier.nlevels, 3);
	assert_int_equal(dict_find(p->t_hier.from, "flu", 3, &flu), 0);
	assert_int_equal(dict_find(p->t_hier.from, "cold", 4, &cold), 0);
	assert_int_equal(dict_find(p->t_hier.from, "fracture", 8, &frac), 0);
	/* flu and cold share level 1, not fracture; all share level 2 */
	assert_int_equal(p->t_hier.gen[3 + flu], p->t_hier.gen[3 + cold]);
	assert_int_not_equal(p->t_hier.gen[3 + flu], p->t_hier.gen[3 + frac]);
	assert_int_equal(p->t_hier.gen[6 + flu], p->t_hier.gen[6 + frac]);
	policy_free(p);
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("action = \"pseudonymize\"", "action = \"keep\"", 5,
	    "may only be dropped or pseudonymized");
	expect_error("action = \"keep\"; },\n  { name = \"郵便番号\"",
	    "action = \"blur\"; },\n  { name = \"郵便番号\"", 8,
	    "unknown action \"blur\"");
	expect_error("role = \"sensitive\"", "role = \"other\"", 17,
	    "l_diversity needs exactly one");
	expect_error("keep = 3;", "", 9, "truncate needs 'keep'");
	expect_error("\"2026-04-01\"", "\"2026-02-30\"", 6, "YYYY-MM-DD");
	expect_error("width = 5; top = 90;", "width = 0; top = 90;", 6,
	    "above zero");
	expect_error("\"city.csv\"", "\"nowhere.csv\"", 10, "cannot open");
	expect_error("level = 1;", "level = 5;", 13, "needs at least 6 columns");
	expect_error("\"0[0-9]+-[0-9]+\"", "\"0[0-9\"", 19, "regular expression");
	expect_error("k = 5;", "k = 0;", 17, "between 1 and");
	expect_error("max_suppression = 0.05", "max_suppression = 1.5", 17,
	    "between 0 and 1");
	expect_error("encoding = \"cp932\"; d", "encoding = \"euc-jp\"; d", 1,
	    "utf-8");
	expect_error("\"性別\"; role", "\"氏名\"; role", 8, "listed twice");
	expect_error("delimiter = \",\"", "delimiter = \"::\"", 1, "delimiter");
	/* t-closeness by hierarchical distance (issue 19). */
	expect_error("l_diversity = 2;", "l_diversity = 2; t_hierarchy = "
	    "\"dx.csv\";", 17, "'t_hierarchy' is for t_closeness");
	expect_error("l_diversity = 2;", "t_closeness = 0.2; t_hierarchy = "
	    "\"flat.csv\";", 17, "needs two levels or more");
	expect_error("l_diversity = 2;", "t_closeness = 0.2; t_hierarchy = "
	    "\"nowhere.csv\";", 17, "cannot open");
}

static void
test_duplicate_lookup_rows(void **state)
{
	struct policy *p = NULL;

	(void)state;
	write_file("city.csv", "a,x\nb,y\na,z\n");
	if (load_variant("", "", &p) != SK_ECONFIG)
		fail_msg("a map listing a value twice was accepted");
	assert_non_null(strstr(err.message, "line 3: a value is listed twice"));
	setup_tables(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_policy, setup_tables),
		cmocka_unit_test_setup(test_policy_from_the_text_main_checked,
		    setup_tables),
		cmocka_unit_test_setup(test_errors_name_the_line, setup_tables),
		cmocka_unit_test_setup(test_t_hierarchy_loads_its_levels,
		    setup_tables),
		cmocka_unit_test_setup(test_duplicate_lookup_rows, setup_tables),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
