/*
 * test_log.c: log lines under journald carry their priority (issue 21:
 * `journalctl -p err` must find a failed start), and elsewhere a time
 * stamp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static char path[64];

/* Runs the logging with stderr on a fresh file; returns what it wrote. */
static char *
capture(int as_journal, const char *progname)
{
	static char buf[4096];
	char js[64];
	struct stat st;
	int saved, fd;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/tmp/sekisho-test-log.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	if (as_journal)
		setenv("JOURNAL_STREAM", js, 1);
	else
		setenv("JOURNAL_STREAM", "1:2", 1);	/* another stream */
	log_init(progname, 0, LOG_LEVEL_INFO);
	log_errorx("cannot start: %s", "no key");
	log_warnx("a warning");
	log_info("an info");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	unlink(path);
	return buf;
}

static void
test_journal_lines_carry_their_priority(void **state)
{
	char *out;

	(void)state;
	/* For journald: the priority and the message, nothing else (it
	 * adds the time and the program); no C function name. */
	out = capture(1, "sekisho-test");
	assert_int_equal(strncmp(out, "<3>cannot start: no key\n", 24), 0);
	assert_non_null(strstr(out, "\n<4>a warning\n"));
	assert_non_null(strstr(out, "\n<6>an info\n"));
	assert_null(strstr(out, "sekisho-test"));
	assert_null(strstr(out, "capture"));
	out = capture(0, "sekisho-test");
	assert_null(strstr(out, "<3>"));
	assert_int_equal(strncmp(out, "20", 2), 0);	/* 20YY-...: a stamp */
	assert_non_null(strstr(out, " sekisho-test: error: cannot start: "
	    "no key\n"));
	assert_null(strstr(out, "capture"));
}

/* A daemon's part (net, store) is the one thing journald cannot know. */
static void
test_journal_lines_name_the_daemons_part(void **state)
{
	char *out;

	(void)state;
	out = capture(1, "sekisho-test/net");
	assert_int_equal(strncmp(out, "<3>[net] cannot start: no key\n", 30), 0);
	assert_non_null(strstr(out, "\n<6>[net] an info\n"));
	assert_null(strstr(out, "sekisho-test"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_lines_carry_their_priority),
		cmocka_unit_test(test_journal_lines_name_the_daemons_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
