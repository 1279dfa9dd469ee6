/*
 * test_action.c: every column action at its edges, and the release scan
 * (R07: identifiers never leave; My Numbers are caught wherever they hide).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "action.h"
#include "dict.h"
#include "policy.h"
#include "sk.h"

static const uint8_t key[32] = { 1, 2, 3 };
static char out[ACTION_OUT_MAX];

static const char *
apply(const struct policy_column *c, const char *in)
{
	const char *why;
	int n = action_apply(c, key, in, (uint32_t)strlen(in), out, &why);

	if (n < 0)
		return NULL;
	assert_int_equal((size_t)n, strlen(out));
	return out;
}

static void
test_band_edges(void **state)
{
	struct policy_column c = { .action = ACT_BAND, .width = 5, .top = 90,
		.has_top = 1, .bottom = 20, .has_bottom = 1 };

	(void)state;
	assert_string_equal(apply(&c, "89.99"), "85-89");
	assert_string_equal(apply(&c, "90"), "90+");
	assert_string_equal(apply(&c, "108"), "90+");
	assert_string_equal(apply(&c, "20"), "20-24");
	assert_string_equal(apply(&c, "19.5"), "<20");
	assert_string_equal(apply(&c, "-3"), "<20");
	/* Heights: fractions fall in the band of their whole part. */
	c.top = 200;
	assert_string_equal(apply(&c, "171"), "170-174");
	assert_string_equal(apply(&c, "174.9"), "170-174");
	assert_string_equal(apply(&c, "175"), "175-179");
	assert_string_equal(apply(&c, "１７１"), "170-174");	/* full width */
	assert_string_equal(apply(&c, ""), "");			/* missing */
	assert_null(apply(&c, "abc"));
	assert_null(apply(&c, "1e3"));
	assert_null(apply(&c, "0x10"));
	assert_null(apply(&c, "nan"));
	assert_null(apply(&c, "17 1"));
	/* A top that is not on a band edge clamps the last band. */
	c.width = 10;
	c.top = 95;
	assert_string_equal(apply(&c, "92"), "90-94");
	/* Fractional widths use half-open intervals. */
	c.width = 0.5;
	c.has_top = c.has_bottom = 0;
	assert_string_equal(apply(&c, "1.7"), "[1.5,2)");
}

static void
test_age_band_and_leap_days(void **state)
{
	struct policy_column c = { .action = ACT_AGE_BAND, .width = 5,
		.top = 90, .has_top = 1, .ref_y = 2026, .ref_m = 4, .ref_d = 1 };

	(void)state;
	assert_string_equal(apply(&c, "1980-04-01"), "45-49");	/* 46 today */
	assert_string_equal(apply(&c, "1981-04-01"), "45-49");	/* 45 today */
	assert_string_equal(apply(&c, "1981-04-02"), "40-44");	/* 44 still */
	assert_string_equal(apply(&c, "19810402"), "40-44");
	assert_string_equal(apply(&c, "1981/04/02"), "40-44");
	assert_string_equal(apply(&c, "1918-01-01"), "90+");	/* 108 */
	assert_string_equal(apply(&c, "2026-04-01"), "0-4");
	assert_null(apply(&c, "2026-04-02"));			/* not yet born */
	assert_null(apply(&c, "1981-02-29"));			/* no such day */
	assert_null(apply(&c, "1981-13-01"));
	assert_null(apply(&c, "昭和56年4月2日"));
	/* Born on 29 February: a year older on 1 March in common years.
	 * A band one year wide is written as that year alone. */
	c.width = 1;
	c.has_top = 0;
	c.ref_y = 2025;
	c.ref_m = 2;
	c.ref_d = 28;
	assert_string_equal(apply(&c, "2000-02-29"), "24");
	c.ref_m = 3;
	c.ref_d = 1;
	assert_string_equal(apply(&c, "2000-02-29"), "25");
	c.ref_y = 2024;
	c.ref_m = 2;
	c.ref_d = 29;
	assert_string_equal(apply(&c, "2000-02-29"), "24");
}

static void
test_date_truncate_keep(void **state)
{
	struct policy_column d = { .action = ACT_DATE };
	struct policy_column t = { .action = ACT_TRUNCATE, .keep = 3 };
	struct policy_column k = { .action = ACT_KEEP };

	(void)state;
	assert_string_equal(apply(&d, "2024-02-29"), "2024");
	d.month = 1;
	assert_string_equal(apply(&d, "2024/02/29"), "2024-02");
	assert_null(apply(&d, "2023-02-29"));
	assert_null(apply(&d, "2023-2-3x"));
	/* Characters, not bytes: a postal code and a Japanese name. */
	assert_string_equal(apply(&t, "164-0001"), "164");
	assert_string_equal(apply(&t, "中野区中央"), "中野区");
	assert_string_equal(apply(&t, "ab"), "ab");
	assert_string_equal(apply(&k, "as is"), "as is");
}

/* map and hierarchy: a table of from -> to; unlisted values fail unless
 * the map has a default. */
static void
test_lookup_tables(void **state)
{
	struct policy_column c = { .action = ACT_MAP };
	uint32_t from, to;
	int added;

	(void)state;
	assert_int_equal(dict_new(&c.from), 0);
	assert_int_equal(dict_new(&c.to), 0);
	c.to_id = calloc(4, sizeof(*c.to_id));
	assert_non_null(c.to_id);
	assert_int_equal(dict_intern(c.from, "中野区中央", strlen("中野区中央"),
	    &from, &added), 0);
	assert_int_equal(dict_intern(c.to, "中野区", strlen("中野区"), &to,
	    &added), 0);
	c.to_id[from] = to;
	assert_string_equal(apply(&c, "中野区中央"), "中野区");
	assert_null(apply(&c, "新宿区"));
	assert_null(apply(&c, ""));	/* empty is a value a map must list */
	c.has_default = 1;
	strcpy(c.default_value, "その他");
	assert_string_equal(apply(&c, "新宿区"), "その他");
	c.action = ACT_HIERARCHY;	/* a hierarchy has no default */
	assert_null(apply(&c, "新宿区"));
	assert_string_equal(apply(&c, "中野区中央"), "中野区");
	dict_free(c.from);
	dict_free(c.to);
	free(c.to_id);
}

static void
test_pseudonyms(void **state)
{
	struct policy_column c = { .action = ACT_PSEUDONYMIZE };
	char first[ACTION_OUT_MAX];
	uint8_t other[32] = { 9 };
	const char *why;

	(void)state;
	strcpy(first, apply(&c, "000123"));
	assert_int_equal(strlen(first), 18);
	assert_int_equal(strspn(first, "abcdefghijklmnopqrstuvwxyz"), 18);
	assert_string_equal(apply(&c, "000123"), first);	/* stable in a job */
	assert_string_not_equal(apply(&c, "000124"), first);
	/* Another job's key gives another pseudonym: no link survives. */
	action_apply(&c, other, "000123", 6, out, &why);
	assert_string_not_equal(out, first);
}

static void
test_mynumber_check_digit(void **state)
{
	/* 12345678901 + check digit: computed by the rule in the ordinance. */
	uint8_t d[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 0 };
	int check, valid = 0;

	(void)state;
	for (check = 0; check < 10; check++) {
		d[11] = (uint8_t)check;
		valid += action_mynumber_valid(d);
	}
	assert_int_equal(valid, 1);	/* exactly one check digit fits */
	d[11] = 8;
	assert_true(action_mynumber_valid(d));
}

static void
test_scan_finds_hidden_numbers(void **state)
{
	struct policy_pattern pat;
	struct policy p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_string_equal(action_scan(&p, "123456789018", 12), "My Number");
	assert_string_equal(action_scan(&p, "note: 1234-5678-9018 ok", 23),
	    "My Number");
	assert_string_equal(action_scan(&p, "1234 5678 9018", 14), "My Number");
	/* Full-width digits and a full-width hyphen. */
	assert_non_null(action_scan(&p, "１２３４－５６７８－９０１８",
	    strlen("１２３４－５６７８－９０１８")));
	assert_null(action_scan(&p, "123456789017", 12));	/* bad check */
	assert_null(action_scan(&p, "1234567890180", 13));	/* 13 digits */
	assert_null(action_scan(&p, "12345678901", 11));
	assert_null(action_scan(&p, "2026-04-01", 10));
	assert_null(action_scan(&p, "1234--5678-9018", 15));
	assert_null(action_scan(&p, "qzkwhdtrgpxmslabcv", 18));
	/* A pattern from the policy, such as a phone number. */
	memset(&pat, 0, sizeof(pat));
	strcpy(pat.name, "phone");
	assert_int_equal(regcomp(&pat.re, "0[0-9]{1,4}-[0-9]{1,4}-[0-9]{4}",
	    REG_EXTENDED | REG_NOSUB), 0);
	p.patterns = &pat;
	p.npatterns = 1;
	assert_string_equal(action_scan(&p, "tel 03-1234-5678", 16), "phone");
	assert_null(action_scan(&p, "no number here", 14));
	regfree(&pat.re);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_band_edges),
		cmocka_unit_test(test_age_band_and_leap_days),
		cmocka_unit_test(test_date_truncate_keep),
		cmocka_unit_test(test_lookup_tables),
		cmocka_unit_test(test_pseudonyms),
		cmocka_unit_test(test_mynumber_check_digit),
		cmocka_unit_test(test_scan_finds_hidden_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
