/*
 * test_anon.c: the engine and the checker of vault/anon/ together (R06,
 * R07): a release holds k and drops what the policy drops, and the
 * checker agrees; a k the data cannot reach fails with the reason and no
 * release; the checker refuses a release changed after the engine; and a
 * job's pseudonyms cannot be linked to another job's.
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

#include "anon.h"
#include "check.h"
#include "policy.h"
#include "sk.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sekisho-test-anon.XXXXXX");
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

/* A policy with k (and suppression allowed up to max_suppression). */
static struct policy *
load(unsigned k, const char *max_suppression)
{
	struct config_error err;
	struct policy *p = NULL;
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/p-%u.conf", dir, k);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp,
	    "input: { encoding = \"utf-8\"; delimiter = \",\"; header = true; };\n"
	    "columns = (\n"
	    "  { name = \"id\"; role = \"identifier\"; action = \"drop\"; },\n"
	    "  { name = \"name\"; role = \"identifier\"; action = \"pseudonymize\"; },\n"
	    "  { name = \"age\"; role = \"quasi\"; action = \"band\"; width = 10; },\n"
	    "  { name = \"sex\"; role = \"quasi\"; action = \"keep\"; },\n"
	    "  { name = \"diag\"; role = \"sensitive\"; action = \"keep\"; }\n"
	    ");\n"
	    "privacy: { k = %u; max_suppression = %s; };\n"
	    "output: { encoding = \"utf-8\"; shuffle = true; };\n", k,
	    max_suppression);
	fclose(fp);
	memset(&err, 0, sizeof(err));
	assert_int_equal(policy_load(path, &p, &err), 0);
	return p;
}

/* 40 rows: ages 20-59 in four bands of ten, two sexes: classes of 5. */
static char *
input(void)
{
	size_t cap = 8192, o;
	char *buf = malloc(cap);
	int i;

	assert_non_null(buf);
	o = (size_t)snprintf(buf, cap, "id,name,age,sex,diag\n");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%d,person%d,%d,%c,d%d\n",
		    1000 + i, i, 20 + i, i % 2 ? 'F' : 'M', i % 3);
	return buf;
}

/* Runs the engine into a temporary file, rewound; -1 if it failed. */
static int
run(const struct policy *p, const char *csv, struct anon_result *res,
    char **report)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/out.XXXXXX", dir);
	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	*report = NULL;
	if (anon_run_mem(p, (const uint8_t *)csv, strlen(csv), fd, res,
	    report) != 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static char *
read_all(int fd)
{
	char *buf = calloc(1, 65536);
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_true((n = read(fd, buf, 65535)) > 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return buf;
}

static void
test_release_holds_k_and_the_checker_agrees(void **state)
{
	struct policy *p = load(5, "0.0");
	struct anon_result res;
	char *csv = input(), *report, *out, why[256];
	int fd;

	(void)state;
	assert_true((fd = run(p, csv, &res, &report)) >= 0);
	assert_int_equal(res.rows_out, 40);
	assert_int_equal(res.smallest_class, 5);
	out = read_all(fd);
	assert_memory_equal(out, "name,age,sex,diag\n", 18);
	assert_null(strstr(out, "person"));	/* pseudonyms, not names */
	assert_null(strstr(out, "1000"));	/* the dropped ids */
	assert_int_equal(check_release(p, fd, report, strlen(report), why,
	    sizeof(why)), 0);
	free(out);
	free(report);
	free(csv);
	close(fd);
	policy_free(p);
}

static void
test_unreachable_k_fails_with_the_reason(void **state)
{
	struct policy *p = load(6, "0.05");
	struct anon_result res;
	char *csv = input(), *report;

	(void)state;
	assert_int_equal(run(p, csv, &res, &report), -1);
	assert_non_null(strstr(res.error, "k-anonymity (k=6)"));
	/* Nothing released, but the report of the failure (issue 20):
	 * every one of the 8 classes of 5 is under k. */
	assert_non_null(report);
	assert_non_null(strstr(report, "{\"outcome\":\"failed\",\"failure\":\"k-anonymity (k=6)"));
	assert_non_null(strstr(report, "\"classes_under_k\":8,\"rows_in_classes_under_k\":40,"));
	assert_non_null(strstr(report, "\"rows_out\":0,"));
	assert_non_null(strstr(report, "\"rows_suppressed\":40,"));
	free(report);
	free(csv);
	policy_free(p);
}

/* A failure names the quasi-identifier that drives it: here "sex" holds
 * one value per person, so every class is of one, while the age bands
 * alone would make classes of 10. */
static void
test_a_failure_reports_the_column_that_drives_it(void **state)
{
	struct policy *p = load(5, "0.05");
	struct anon_result res;
	char *csv, *report;
	size_t cap = 8192, o;
	int i;

	(void)state;
	assert_non_null(csv = malloc(cap));
	o = (size_t)snprintf(csv, cap, "id,name,age,sex,diag\n");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(csv + o, cap - o, "%d,person%d,%d,s%d,d%d\n",
		    1000 + i, i, 20 + i, i, i % 3);
	assert_int_equal(run(p, csv, &res, &report), -1);
	assert_non_null(strstr(res.error, "\"sex\" drives it (without it: 0)"));
	assert_non_null(report);
	assert_non_null(strstr(report, "\"failed_on\":\"sex\""));
	assert_non_null(strstr(report, "\"classes_under_k\":40,"));
	/* The column's values are not in the report: counts only. */
	assert_null(strstr(report, "s17"));
	free(report);
	free(csv);
	policy_free(p);
}

/* The engine's release with one row's age band changed: a class of one. */
static void
test_checker_refuses_a_release_changed_after_the_engine(void **state)
{
	struct policy *p = load(5, "0.0");
	struct anon_result res;
	char *csv = input(), *report, *out, *line, why[256], path[128];
	int fd, fd2;

	(void)state;
	assert_true((fd = run(p, csv, &res, &report)) >= 0);
	out = read_all(fd);
	/* The second line's age band becomes one no other row has. */
	assert_non_null(line = strchr(out, '\n'));
	assert_non_null(line = strchr(line + 1, ','));
	memcpy(line + 1, "90", 2);
	snprintf(path, sizeof(path), "%s/doctored.XXXXXX", dir);
	assert_true((fd2 = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(write(fd2, out, strlen(out)), (ssize_t)strlen(out));
	assert_int_equal(lseek(fd2, 0, SEEK_SET), 0);
	assert_int_not_equal(check_release(p, fd2, report, strlen(report), why,
	    sizeof(why)), 0);
	assert_non_null(strstr(why, "fewer than k = 5"));
	free(out);
	free(report);
	free(csv);
	close(fd);
	close(fd2);
	policy_free(p);
}

/* The pseudonym of one name under two jobs: two different values (R07:
 * a key per job, never kept). */
static void
test_pseudonyms_are_not_linkable_across_jobs(void **state)
{
	struct policy *p = load(5, "0.0");
	struct anon_result res;
	char *csv = input(), *report, *a, *b;
	int fd;

	(void)state;
	assert_true((fd = run(p, csv, &res, &report)) >= 0);
	a = read_all(fd);
	close(fd);
	free(report);
	assert_true((fd = run(p, csv, &res, &report)) >= 0);
	b = read_all(fd);
	close(fd);
	free(report);
	/* Shuffled, so compare the sets of the first column. */
	{
		char *s = strchr(a, '\n') + 1, *e = strchr(s, ',');

		*e = '\0';
		assert_null(strstr(b, s));
	}
	free(a);
	free(b);
	free(csv);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_holds_k_and_the_checker_agrees),
		cmocka_unit_test(test_unreachable_k_fails_with_the_reason),
		cmocka_unit_test(test_a_failure_reports_the_column_that_drives_it),
		cmocka_unit_test(
		    test_checker_refuses_a_release_changed_after_the_engine),
		cmocka_unit_test(test_pseudonyms_are_not_linkable_across_jobs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
