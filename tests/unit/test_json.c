/*
 * test_json.c: the bounded JSON writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "sk.h"

static void
test_escaping(void **state)
{
	char buf[256];
	struct json j;
	int n;

	(void)state;
	json_begin(&j, buf, sizeof(buf));
	json_str(&j, "a", "q\"b\\s\n\x01");
	json_u64(&j, "n", UINT64_MAX);
	json_bool(&j, "t", 1);
	json_strn(&j, "u", "\xe5\x81\xa5x", 3);
	n = json_end(&j);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "{\"a\":\"q\\\"b\\\\s\\u000a\\u0001\","
	    "\"n\":18446744073709551615,\"t\":true,\"u\":\"\xe5\x81\xa5\"}");
}

static void
test_overflow_is_sticky(void **state)
{
	char buf[16];
	struct json j;
	size_t cap;

	(void)state;
	/* {"k":"v"} is 9 bytes: fits in 10, not in 9. */
	for (cap = 0; cap <= sizeof(buf); cap++) {
		json_begin(&j, buf, cap);
		json_str(&j, "k", "v");
		if (cap >= 10)
			assert_int_equal(json_end(&j), 9);
		else
			assert_int_equal(json_end(&j), SK_ETOOBIG);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_overflow_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
