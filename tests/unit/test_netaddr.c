/*
 * test_netaddr.c: CIDR parsing and matching (R01 source networks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "netaddr.h"
#include "sk.h"

static struct sockaddr_storage
v4(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
v6(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
	return ss;
}

static int
contains(const char *net, struct sockaddr_storage ss)
{
	struct netaddr na;

	assert_int_equal(netaddr_parse(net, &na), 0);
	return netaddr_contains(&na, (struct sockaddr *)&ss);
}

static void
test_parse(void **state)
{
	struct netaddr na;

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.0/24", &na), 0);
	assert_int_equal(na.family, AF_INET);
	assert_int_equal(na.prefixlen, 24);
	assert_int_equal(netaddr_parse("192.0.2.7", &na), 0);
	assert_int_equal(na.prefixlen, 32);
	assert_int_equal(netaddr_parse("2001:db8::/32", &na), 0);
	assert_int_equal(na.prefixlen, 32);
	assert_int_equal(netaddr_parse("0.0.0.0/0", &na), 0);
	assert_int_equal(netaddr_parse("192.0.2.1/24", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("192.0.2.0/33", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("2001:db8::/129", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("192.0.2.0/", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("192.0.2.0/-1", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("192.0.2.0/24x", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("example.org", &na), SK_EFORMAT);
	assert_int_equal(netaddr_parse("", &na), SK_EFORMAT);
}

static void
test_contains(void **state)
{
	(void)state;
	assert_true(contains("192.0.2.0/24", v4("192.0.2.255")));
	assert_false(contains("192.0.2.0/24", v4("192.0.3.0")));
	assert_true(contains("192.0.2.128/25", v4("192.0.2.200")));
	assert_false(contains("192.0.2.128/25", v4("192.0.2.127")));
	assert_true(contains("192.0.2.9", v4("192.0.2.9")));
	assert_false(contains("192.0.2.9", v4("192.0.2.8")));
	assert_true(contains("0.0.0.0/0", v4("198.51.100.1")));
	assert_true(contains("2001:db8::/32", v6("2001:db8:1::1")));
	assert_false(contains("2001:db8::/32", v6("2001:db9::1")));
	/* Families never mix, except IPv4 peers on a dual-stack socket. */
	assert_false(contains("2001:db8::/32", v4("192.0.2.1")));
	assert_false(contains("192.0.2.0/24", v6("2001:db8::1")));
	assert_true(contains("192.0.2.0/24", v6("::ffff:192.0.2.1")));
	assert_false(contains("192.0.2.0/24", v6("::ffff:192.0.3.1")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
