/*
 * test_audit.c: the chained audit log (R15, R50): every edit, deletion,
 * reordering or truncation is detected; a failed write fails closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "audit_schema.h"
#include "sk.h"

static int fail_fdatasync;

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

int
__wrap_fdatasync(int fd)
{
	if (fail_fdatasync) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

/* The clock, for the monthly rotation: 0 reads the real one. */
static time_t fake_now;

time_t __real_time(time_t *t);
time_t __wrap_time(time_t *t);

time_t
__wrap_time(time_t *t)
{
	if (fake_now == 0)
		return __real_time(t);
	if (t != NULL)
		*t = fake_now;
	return fake_now;
}

static char dir[64], logp[128], key0[160], statep[160];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sekisho-test-audit.XXXXXX");
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

/* A fresh log with n entries. */
static void
fresh_log(const char *name, int n)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "upload.stored", .actor =
	    "muni:131156", .has_size = 1, .sha256 = "ab\"c" };
	char obj[32];
	int i;

	snprintf(logp, sizeof(logp), "%s/%s.log", dir, name);
	snprintf(key0, sizeof(key0), "%s.key0", logp);
	snprintf(statep, sizeof(statep), "%s.state", logp);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	for (i = 0; i < n; i++) {
		snprintf(obj, sizeof(obj), "obj%d", i);
		ev.object = obj;
		ev.size = (uint64_t)i * 1000;
		assert_int_equal(audit_append(a, &ev), 0);
	}
	audit_close(a);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf = malloc(1 << 16);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void
spew(const char *path, const char *buf, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

static uint64_t
verify(const char *state_path)
{
	struct audit_verify_result res;
	int r = audit_verify(logp, key0, state_path, &res);

	return r == 0 ? 0 : res.bad_line;
}

static void
test_good_log_verifies(void **state)
{
	struct audit_verify_result res;
	struct stat st;
	size_t len;
	char *text;

	(void)state;
	fresh_log("good", 5);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.entries, 5);
	text = slurp(logp, &len);
	assert_int_equal(strncmp(text, "{\"seq\":1,\"time\":\"", 17), 0);
	assert_non_null(strstr(text, "\"sha256\":\"ab\\\"c\""));
	free(text);
	/* The first key is the auditor's: owner-only. */
	assert_int_equal(stat(key0, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
}

/*
 * Issue 16: an entry's detail carries its words as named fields too
 * ("fields"), typed by its event's schema (audit_schema.c): a count as a
 * number, a list as an array, the first word named where the schema
 * names it; a value of the wrong type stays a string, and so does every
 * value of an event the schema does not know; words that are not fields
 * are "text"; a detail without any field has no "fields". The entries
 * verify; verify counts the ones off their schema and says why.
 */
static void
test_detail_words_become_named_fields(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "upload.stored", .actor = "muni:1",
	    .detail = "checkup rows=301 replaces=U1 rows=9 by=\"op\" 2 x= s=7" };
	struct audit_verify_result res;
	size_t len;
	char *text, *l2, *l3, *l4;

	(void)state;
	snprintf(logp, sizeof(logp), "%s/fields.log", dir);
	snprintf(key0, sizeof(key0), "%s.key0", logp);
	snprintf(statep, sizeof(statep), "%s.state", logp);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	ev.event = "release.rejected";
	ev.detail = "rejected by op1: too coarse";
	assert_int_equal(audit_append(a, &ev), 0);
	ev.event = "release.approved";
	ev.detail = "operators=op1,op2 approvals=2 of 2";
	assert_int_equal(audit_append(a, &ev), 0);
	ev.event = "made.up";
	ev.detail = "rows=12 to=x";
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	text = slurp(logp, &len);
	l2 = strchr(text, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	l4 = strchr(l3, '\n') + 1;
	/* the dataset named; the first of a repeated name; a quote escaped;
	 * an empty value; U1 is not hex and stays a string */
	assert_non_null(strstr(text, "\"fields\":{\"dataset\":\"checkup\","
	    "\"rows\":301,\"replaces\":\"U1\",\"by\":\"\\\"op\\\"\","
	    "\"x\":\"\",\"s\":\"7\",\"text\":\"2\"}"));
	assert_true(strstr(text, "\"fields\"") < l2);
	assert_true(strstr(l2, "\"fields\"") >= l3);	/* none in line 2 */
	assert_non_null(strstr(l3, "\"fields\":{\"operators\":[\"op1\","
	    "\"op2\"],\"approvals\":2,\"text\":\"of 2\"}"));
	assert_non_null(strstr(l4, "\"fields\":{\"rows\":\"12\","
	    "\"to\":\"x\"}"));
	free(text);
	assert_int_equal(verify(statep), 0);
	/* Lines 1 (replaces, by, s and x are not upload.stored's or not
	 * hex) and 4 (no such event) are off; 2 and 3 follow theirs. */
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.off_schema, 2);
	assert_int_equal(res.first_off_schema, 1);
	assert_non_null(strstr(res.off_schema_why, "'replaces'"));
}

/*
 * The schema's table: sorted (it is searched), each row's words well
 * formed, and the check says what is wrong with a detail in each way a
 * detail can be wrong.
 */
static void
test_schema_table_and_check(void **state)
{
	const struct audit_schema *t;
	char why[200];
	const char *p, *c;
	size_t n, i, wl;

	(void)state;
	t = audit_schema_table(&n);
	assert_true(n > 50);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(t[i - 1].event, t[i].event) >= 0)
			fail_msg("%s is out of order", t[i].event);
		assert_ptr_equal(audit_schema_find(t[i].event), &t[i]);
		assert_true(t[i].about[0] != '\0' && t[i].host[0] != '\0');
		for (p = t[i].fields; *p != '\0'; p += wl) {
			while (*p == ' ')
				p++;
			wl = strcspn(p, " ");
			if (wl == 3 && strncmp(p, "...", 3) == 0)
				continue;
			c = memchr(p, ':', wl);
			if (c == NULL || c == p || (size_t)(c - p) + 2 != wl ||
			    strchr("nslht", c[1]) == NULL)
				fail_msg("%s: bad word '%.*s'", t[i].event,
				    (int)wl, p);
		}
	}
	assert_null(audit_schema_find("no.such"));
	assert_int_equal(audit_schema_check("upload.stored",
	    "health rows=20001 replaces=0a1b", why, sizeof(why)), 0);
	assert_int_equal(audit_schema_check("upload.stored", NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(audit_schema_check("upload.stored",
	    "health rows=many", why, sizeof(why)), -1);
	assert_string_equal(why, "field 'rows' is not a number: 'many'");
	assert_int_equal(audit_schema_check("upload.stored",
	    "health colour=red", why, sizeof(why)), -1);
	assert_string_equal(why, "field 'colour' is not in the schema of "
	    "upload.stored");
	assert_int_equal(audit_schema_check("upload.stored",
	    "health rows=1 rows=2", why, sizeof(why)), -1);
	assert_string_equal(why, "field 'rows' is repeated");
	assert_int_equal(audit_schema_check("upload.stored",
	    "health rows=1 and more", why, sizeof(why)), -1);
	assert_string_equal(why, "word 'and' is neither a field nor allowed "
	    "as free text");
	assert_int_equal(audit_schema_check("crl.loaded",
	    "crl=municipalities generation=2", why, sizeof(why)), 0);
	assert_int_equal(audit_schema_check("tls.refused",
	    "first=2026-12-04T09:00:00Z last=2026-12-04 count=3 "
	    "listener=external no certificate", why, sizeof(why)), -1);
	assert_string_equal(why, "field 'last' is not a UTC time: "
	    "'2026-12-04'");
	assert_int_equal(audit_schema_check("no.such", "", why, sizeof(why)),
	    -1);
	assert_string_equal(why, "event 'no.such' is not in the schema");
}

/* Changing any single byte of the log is detected. */
static void
test_every_byte_edit_detected(void **state)
{
	size_t len, i;
	char *orig, *copy;

	(void)state;
	fresh_log("edit", 3);
	orig = slurp(logp, &len);
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		memcpy(copy, orig, len);
		copy[i] = copy[i] == 'x' ? 'y' : 'x';
		spew(logp, copy, len);
		if (verify(NULL) == 0)
			fail_msg("changing byte %zu went unnoticed", i);
	}
	spew(logp, orig, len);
	assert_int_equal(verify(statep), 0);
	free(orig);
	free(copy);
}

static void
test_delete_reorder_truncate(void **state)
{
	size_t len;
	char *text, *l2, *l3, buf[1 << 16];

	(void)state;
	fresh_log("order", 4);
	text = slurp(logp, &len);
	l2 = strchr(text, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	/* Line 2 deleted: line 2 now carries seq 3. */
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(l2 - text), text, l3);
	spew(logp, buf, strlen(buf));
	assert_int_equal(verify(NULL), 2);
	/* Lines 2 and 3 swapped. */
	{
		char *l4 = strchr(l3, '\n') + 1;

		snprintf(buf, sizeof(buf), "%.*s%.*s%.*s%s", (int)(l2 - text),
		    text, (int)(l4 - l3), l3, (int)(l3 - l2), l2, l4);
		spew(logp, buf, strlen(buf));
		assert_int_equal(verify(NULL), 2);
	}
	/* The last entry removed: only the state can tell. */
	{
		char *last = text + len - 1;

		while (last[-1] != '\n')
			last--;
		spew(logp, text, (size_t)(last - text));
		assert_int_equal(verify(NULL), 0);
		assert_int_equal(verify(statep), 4);
	}
	/* A cut-off last line. */
	spew(logp, text, len - 5);
	assert_int_equal(verify(NULL), 4);
	/* An entry appended that was not written by the chain. */
	snprintf(buf, sizeof(buf), "%s%.*s", text, (int)(l3 - l2), l2);
	spew(logp, buf, strlen(buf));
	assert_int_equal(verify(NULL), 5);
	free(text);
}

static void
test_wrong_key_fails(void **state)
{
	struct audit_verify_result res;
	char other[160];

	(void)state;
	fresh_log("k1", 2);
	snprintf(other, sizeof(other), "%s", key0);
	fresh_log("k2", 2);
	assert_int_equal(audit_verify(logp, other, NULL, &res), SK_EAUTH);
	assert_int_equal(res.bad_line, 1);
}

static void
test_reopen_continues_chain(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "receiver.start" };

	(void)state;
	fresh_log("reopen", 3);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(verify(statep), 0);
}

/* A crash after the append and before the state update is recovered. */
static void
test_crash_between_append_and_state(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };
	size_t len;
	char *saved;

	(void)state;
	fresh_log("crash", 2);
	saved = slurp(statep, &len);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	spew(statep, saved, len);	/* the state update "never happened" */
	free(saved);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(verify(statep), 0);
}

/*
 * A log verified while its daemon appends: the state read first may be one
 * entry behind what the log then holds. That verifies; a log cut below its
 * state, or a state whose mac is not the log's, still fails.
 */
static void
test_verify_while_appending(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };
	char older[200], *saved;
	size_t len;

	(void)state;
	fresh_log("live", 3);
	saved = slurp(statep, &len);
	snprintf(older, sizeof(older), "%s.older", statep);
	spew(older, saved, len);	/* the state as the verifier read it */
	free(saved);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);	/* then an append */
	audit_close(a);
	assert_int_equal(verify(older), 0);
	assert_int_equal(verify(statep), 0);
	/* The newer state against a log without its last entry: removed. */
	saved = slurp(logp, &len);
	spew(logp, saved, (size_t)(strrchr(saved, '{') - saved));
	free(saved);
	assert_int_equal(verify(statep), 4);
	/* The older state still matches the first three entries. */
	assert_int_equal(verify(older), 0);
	unlink(older);
}

static void
test_truncated_log_refused_on_open(void **state)
{
	struct audit_log *a;
	size_t len;
	char *text, *last;

	(void)state;
	fresh_log("trunc", 3);
	text = slurp(logp, &len);
	last = text + len - 1;
	while (last[-1] != '\n')
		last--;
	spew(logp, text, (size_t)(last - text));
	assert_int_equal(audit_open(logp, key0, &a), SK_EAUTH);
	/* A log whose state file is gone is refused too. */
	spew(logp, text, len);
	assert_int_equal(unlink(statep), 0);
	assert_int_equal(audit_open(logp, key0, &a), SK_EAUTH);
	free(text);
}

static void
test_failed_write_fails_closed(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };

	(void)state;
	fresh_log("closed", 1);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_false(audit_broken(a));
	fail_fdatasync = 1;
	assert_int_not_equal(audit_append(a, &ev), 0);
	fail_fdatasync = 0;
	assert_true(audit_broken(a));
	/* Broken stays broken: no silent gap in the record. */
	assert_int_not_equal(audit_append(a, &ev), 0);
	audit_close(a);
}

static void
test_oversized_entry_refused(void **state)
{
	struct audit_log *a;
	char big[AUDIT_LINE_MAX];
	struct audit_event ev = { .event = "x", .detail = big };

	(void)state;
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fresh_log("big", 0);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), SK_ETOOBIG);
	audit_close(a);
}

/*
 * R50: a log that could not be written is tried again; the first entry
 * that goes in records the gap (since when, the error, the entries not
 * written), and the chain still verifies, with the gap counted.
 */
static void
test_failed_write_resumes_with_a_gap_entry(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };
	struct audit_verify_result res;
	struct audit_health h;
	size_t len;
	char *text;

	(void)state;
	fresh_log("resume", 1);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	fail_fdatasync = 1;
	assert_int_not_equal(audit_append(a, &ev), 0);
	assert_int_not_equal(audit_append(a, &ev), 0);
	audit_health(a, &h);
	assert_true(h.broken);
	assert_int_equal(h.error, EIO);
	assert_int_equal(h.lost, 2);
	fail_fdatasync = 0;
	usleep(1100 * 1000);
	assert_false(audit_broken(a));
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	text = slurp(logp, &len);
	assert_non_null(strstr(text, "\"event\":\"audit.resumed\""));
	assert_non_null(strstr(text, "entries_not_written=2 error="));
	free(text);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.entries, 3);
	assert_int_equal(res.gaps, 1);
	assert_int_equal(res.breaks, 0);
}

/* The reserve is disk held past the log's end, not part of it. */
static void
test_reserve_is_held_past_the_end(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };
	struct stat st;

	(void)state;
	fresh_log("reserve", 0);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_reserve(a, 1 << 20);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(stat(logp, &st), 0);
	assert_true(st.st_size < 4096);
	assert_true((uint64_t)st.st_blocks * 512 >= 1 << 20);
	assert_int_equal(verify(statep), 0);
}

static const uint8_t mkey[32] = { 1, 2, 3 };

static int
open_marked(struct audit_log **a)
{
	char marker[200];

	snprintf(marker, sizeof(marker), "%s.chain", logp);
	return audit_open_marked(logp, key0, marker, mkey, a);
}

/*
 * Item 13 of issue 14: a log and state removed together (key0 left) are
 * not begun again silently, nor is a log replaced by a fresh chain: the
 * chain records the break and audit_verify counts it.
 */
static void
test_removed_log_is_recorded_as_a_break(void **state)
{
	struct audit_log *a;
	struct audit_event ev = { .event = "x" };
	struct audit_verify_result res;
	char marker[200];
	size_t len;
	char *text;

	(void)state;
	fresh_log("break", 0);
	snprintf(marker, sizeof(marker), "%s.chain", logp);
	unlink(marker);
	assert_int_equal(open_marked(&a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	/* A plain restart: no break. */
	assert_int_equal(open_marked(&a), 0);
	audit_close(a);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.breaks, 0);
	/* The log and its state removed: the new chain begins with a break. */
	assert_int_equal(unlink(logp), 0);
	assert_int_equal(unlink(statep), 0);
	assert_int_equal(open_marked(&a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	text = slurp(logp, &len);
	assert_int_equal(strncmp(text, "{\"seq\":1,", 9), 0);
	assert_non_null(strstr(text, "\"event\":\"audit.break\""));
	free(text);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.breaks, 1);
	assert_int_equal(res.first_break, 1);
	/* Replaced by a fresh chain made without the marker: a break too,
	 * recorded once. */
	assert_int_equal(unlink(logp), 0);
	assert_int_equal(unlink(statep), 0);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(open_marked(&a), 0);
	audit_close(a);
	assert_int_equal(open_marked(&a), 0);
	audit_close(a);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.breaks, 1);
	assert_int_equal(res.first_break, 2);
	/* A forged marker does not verify: a break. */
	spew(marker, "SKCHAIN1 forged marker of the wrong length", 42);
	assert_int_equal(open_marked(&a), 0);
	audit_close(a);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.breaks, 2);
}

/* How many segments a rotation left beside logp. */
static int
segments_beside(void)
{
	char cmd[512], line[64];
	FILE *fp;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^%s\\.[0-9]\\{12\\}-[0-9]\\{12\\}$'",
	    dir, strrchr(logp, '/') + 1);
	if ((fp = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL)
			n = atoi(line);
		pclose(fp);
	}
	return n;
}

/* R47 (issue 16): the log rolls into segments; the chain goes on across
 * them, a reopen continues it, verify reads them all; a segment removed
 * or cut is caught. */
static void
test_rotation_keeps_one_chain_across_segments(void **state)
{
	struct audit_event ev = { .event = "upload.stored", .actor = "x" };
	struct audit_verify_result res;
	struct audit_log *a;
	char seg[256], cmd[600];
	int i;

	(void)state;
	snprintf(logp, sizeof(logp), "%s/rot.log", dir);
	snprintf(key0, sizeof(key0), "%s.key0", logp);
	snprintf(statep, sizeof(statep), "%s.state", logp);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_rotation(a, 1000, 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_true(segments_beside() >= 3);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	/* 40 entries and one audit.rotated per segment. */
	assert_int_equal(res.entries, 40 + res.segments);
	assert_true(res.segments >= 3);
	/* Reopened, the chain goes on in the current file. */
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_rotation(a, 1000, 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	/* The second segment removed: the chain is broken. */
	snprintf(cmd, sizeof(cmd), "ls %s/rot.log.0* | sed -n 2p", dir);
	{
		FILE *fp = popen(cmd, "r");

		assert_non_null(fp);
		assert_non_null(fgets(seg, sizeof(seg), fp));
		pclose(fp);
		seg[strcspn(seg, "\n")] = '\0';
	}
	snprintf(cmd, sizeof(cmd), "mv %s %s.away", seg, seg);
	assert_int_equal(system(cmd), 0);
	assert_int_not_equal(audit_verify(logp, key0, statep, &res), 0);
	snprintf(cmd, sizeof(cmd), "mv %s.away %s", seg, seg);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
}

/* A crash between moving the log aside and its new file's first entry:
 * the empty log goes on from the newest segment. */
static void
test_rotation_cut_short_continues(void **state)
{
	struct audit_event ev = { .event = "upload.stored", .actor = "x" };
	struct audit_verify_result res;
	struct audit_log *a;
	char cmd[600];

	(void)state;
	fresh_log("cut", 5);
	snprintf(cmd, sizeof(cmd), "mv %s %s.000000000001-000000000005 && "
	    ": > %s", logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.entries, 6);
	assert_int_equal(res.segments, 1);
}

/* Retention: old segments go, each after an entry that says so, and the
 * chain still verifies from there; without that entry it does not. */
static void
test_retention_disposes_segments_on_record(void **state)
{
	struct audit_event ev = { .event = "upload.stored", .actor = "x" };
	struct audit_verify_result res;
	struct audit_log *a;
	size_t len;
	char *text, cmd[600];
	int i, before;

	(void)state;
	snprintf(logp, sizeof(logp), "%s/ret.log", dir);
	snprintf(key0, sizeof(key0), "%s.key0", logp);
	snprintf(statep, sizeof(statep), "%s.state", logp);
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_rotation(a, 800, 0);
	for (i = 0; i < 30; i++)
		assert_int_equal(audit_append(a, &ev), 0);
	before = segments_beside();
	assert_true(before >= 2);
	audit_dispose_segments_before(a, (int64_t)time(NULL) + 10);
	audit_close(a);
	assert_int_equal(segments_beside(), 0);
	text = slurp(logp, &len);
	assert_non_null(strstr(text, "\"event\":\"audit.segment_disposed\""));
	assert_non_null(strstr(text, " through="));
	free(text);
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.segments, 0);
	/* The records removed too: the missing start is caught. */
	snprintf(cmd, sizeof(cmd), "grep -v audit.segment_disposed %s > %s.x "
	    "&& mv %s.x %s", logp, logp, logp, logp);
	assert_int_equal(system(cmd), 0);
	assert_int_not_equal(audit_verify(logp, key0, NULL, &res), 0);
}

/* R47 (issue 16): with rotate_monthly, the first entry of a month in
 * Japan's time (00:00 JST is 15:00 UTC the day before) moves the log
 * aside first; the rest of that month stays in the log, a reopen keeps
 * counting from the log's last entry, and the chain verifies across. */
static void
test_rotation_by_month_in_japan_time(void **state)
{
	struct audit_event ev = { .event = "test.event", .actor = "system" };
	struct audit_verify_result res;
	struct audit_log *a;
	int i;

	(void)state;
	snprintf(logp, sizeof(logp), "%s/mon.log", dir);
	snprintf(key0, sizeof(key0), "%s.key0", logp);
	snprintf(statep, sizeof(statep), "%s.state", logp);
	fake_now = 1793458740;		/* 2026-10-31T14:59:00Z: Oct 31 23:59 JST */
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_monthly(a, 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(audit_append(a, &ev), 0);
	assert_int_equal(segments_beside(), 0);
	fake_now += 60;			/* Nov 1 00:00 JST */
	assert_int_equal(audit_append(a, &ev), 0);
	assert_int_equal(segments_beside(), 1);
	fake_now += 86400;		/* the same month: no new segment */
	assert_int_equal(audit_append(a, &ev), 0);
	assert_int_equal(segments_beside(), 1);
	audit_close(a);
	fake_now = 1796083200;		/* 2026-12-01T00:00:00Z: Dec 1 09:00 JST */
	assert_int_equal(audit_open(logp, key0, &a), 0);
	audit_set_monthly(a, 1);
	assert_int_equal(audit_append(a, &ev), 0);
	assert_int_equal(segments_beside(), 2);
	audit_close(a);
	fake_now = 0;
	assert_int_equal(audit_verify(logp, key0, statep, &res), 0);
	assert_int_equal(res.segments, 2);
	/* 6 entries and one audit.rotated per segment. */
	assert_int_equal(res.entries, 6 + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_log_verifies),
		cmocka_unit_test(test_detail_words_become_named_fields),
		cmocka_unit_test(test_schema_table_and_check),
		cmocka_unit_test(test_rotation_keeps_one_chain_across_segments),
		cmocka_unit_test(test_rotation_by_month_in_japan_time),
		cmocka_unit_test(test_rotation_cut_short_continues),
		cmocka_unit_test(test_retention_disposes_segments_on_record),
		cmocka_unit_test(test_every_byte_edit_detected),
		cmocka_unit_test(test_delete_reorder_truncate),
		cmocka_unit_test(test_wrong_key_fails),
		cmocka_unit_test(test_reopen_continues_chain),
		cmocka_unit_test(test_crash_between_append_and_state),
		cmocka_unit_test(test_verify_while_appending),
		cmocka_unit_test(test_truncated_log_refused_on_open),
		cmocka_unit_test(test_failed_write_fails_closed),
		cmocka_unit_test(test_oversized_entry_refused),
		cmocka_unit_test(test_failed_write_resumes_with_a_gap_entry),
		cmocka_unit_test(test_reserve_is_held_past_the_end),
		cmocka_unit_test(test_removed_log_is_recorded_as_a_break),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
