/*
 * test_sandbox.c: the privilege drop's checks (R17) with the identity
 * system calls faked (-Wl,--wrap), so that every refusal path is reached
 * without root: a missing user, a user that is root, a failing setresuid,
 * root regained after the drop, capabilities left over; and the order of
 * the calls when all goes well. Also the spec each role's sandbox gets.
 * The real kernel sandbox is tested in tests/integration/test_sandbox.sh.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <cmocka.h>

#include "sandbox.h"

/* The fake kernel's state for one test. */
static struct {
	uid_t euid;
	int user_exists;
	uid_t user_uid;
	gid_t user_gid;
	int setresuid_fails;
	int root_regained;		/* setuid(0) succeeds after the drop */
	int caps_left;
	uid_t uid;			/* what setresuid set */
	gid_t gid;
	char order[16];			/* 'G'roups, g'i'd, 'u'id */
	size_t norder;
} k;

static struct passwd pw;

uid_t __wrap_geteuid(void);
struct passwd *__wrap_getpwnam(const char *name);
int __wrap_setgroups(size_t n, const gid_t *list);
int __wrap_setresgid(gid_t r, gid_t e, gid_t s);
int __wrap_setresuid(uid_t r, uid_t e, uid_t s);
int __wrap_setuid(uid_t u);
int __wrap_setgid(gid_t g);
int __wrap_getresuid(uid_t *r, uid_t *e, uid_t *s);
int __wrap_getresgid(gid_t *r, gid_t *e, gid_t *s);
int __wrap_getgroups(int n, gid_t *list);
long __wrap_syscall(long nr, ...);

uid_t
__wrap_geteuid(void)
{
	return k.euid;
}

struct passwd *
__wrap_getpwnam(const char *name)
{
	if (!k.user_exists)
		return NULL;
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = (char *)(uintptr_t)name;
	pw.pw_uid = k.user_uid;
	pw.pw_gid = k.user_gid;
	return &pw;
}

int
__wrap_setgroups(size_t n, const gid_t *list)
{
	assert_int_equal(n, 1);
	assert_int_equal(list[0], k.user_gid);
	k.order[k.norder++] = 'G';
	return 0;
}

int
__wrap_setresgid(gid_t r, gid_t e, gid_t s)
{
	assert_true(r == e && e == s);
	k.gid = r;
	k.order[k.norder++] = 'g';
	return 0;
}

int
__wrap_setresuid(uid_t r, uid_t e, uid_t s)
{
	assert_true(r == e && e == s);
	if (k.setresuid_fails) {
		errno = EPERM;
		return -1;
	}
	k.uid = r;
	k.euid = r;
	k.order[k.norder++] = 'u';
	return 0;
}

int
__wrap_setuid(uid_t u)
{
	if (k.root_regained) {
		k.uid = k.euid = u;
		return 0;
	}
	errno = EPERM;
	return -1;
}

int
__wrap_setgid(gid_t g)
{
	(void)g;
	errno = EPERM;
	return -1;
}

int
__wrap_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
	*r = *e = *s = k.uid;
	return 0;
}

int
__wrap_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
	*r = *e = *s = k.gid;
	return 0;
}

int
__wrap_getgroups(int n, gid_t *list)
{
	assert_true(n >= 1);
	list[0] = k.gid;
	return 1;
}

/* Only capget goes through syscall() in the drop. */
long
__wrap_syscall(long nr, ...)
{
	struct __user_cap_data_struct *d;
	va_list ap;

	assert_int_equal(nr, SYS_capget);
	va_start(ap, nr);
	(void)va_arg(ap, void *);
	d = va_arg(ap, struct __user_cap_data_struct *);
	va_end(ap);
	d[0].effective = d[0].permitted = k.caps_left ? 1u << 12 : 0;
	d[1].effective = d[1].permitted = 0;
	return 0;
}

static int
reset(void **state)
{
	(void)state;
	memset(&k, 0, sizeof(k));
	k.euid = 0;
	k.user_exists = 1;
	k.user_uid = 990;
	k.user_gid = 985;
	return 0;
}

static int
drop(struct sandbox_layers *l, char *why, size_t cap)
{
	memset(l, 0, sizeof(*l));
	why[0] = '\0';
	return sandbox_drop("sekisho-receiver", l, why, cap);
}

static void
test_r17_drop_in_order_and_for_good(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	assert_int_equal(drop(&l, why, sizeof(why)), 0);
	assert_true(l.dropped);
	assert_int_equal(l.uid, 990);
	assert_int_equal(l.gid, 985);
	/* Groups first, then the group, then the user: after setresuid
	 * the others could no longer be changed. */
	assert_memory_equal(k.order, "Ggu", 3);
	assert_int_equal(k.norder, 3);
}

static void
test_r17_not_root_nothing_to_drop(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.euid = 1000;
	assert_int_equal(drop(&l, why, sizeof(why)), 0);
	assert_false(l.dropped);
	assert_int_equal(l.uid, 1000);
	assert_int_equal(k.norder, 0);
}

static void
test_r17_missing_user_refused(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.user_exists = 0;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not exist"));
	assert_int_equal(k.norder, 0);
}

static void
test_r17_root_as_the_user_refused(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.user_uid = 0;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "root"));
	k.user_uid = 990;
	k.user_gid = 0;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
}

static void
test_r17_failed_setresuid_refused(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.setresuid_fails = 1;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot become"));
}

static void
test_r17_root_regained_refused(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.root_regained = 1;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "regained"));
}

static void
test_r17_capabilities_left_refused(void **state)
{
	struct sandbox_layers l;
	char why[256];

	(void)state;
	k.caps_left = 1;
	assert_int_equal(drop(&l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "capabilities"));
}

/* What each role's sandbox allows: its data, the audit log's folder if
 * apart, and for the vault the two internal ports, no other. */
static void
test_spec_per_role(void **state)
{
	struct local_config local;
	struct site_config site;
	struct sandbox_spec spec;

	(void)state;
	memset(&local, 0, sizeof(local));
	memset(&site, 0, sizeof(site));
	local.role = ROLE_RECEIVER;
	local.max_connections = 64;
	snprintf(local.data_dir, sizeof(local.data_dir), "/var/lib/sekisho");
	snprintf(local.audit_log, sizeof(local.audit_log),
	    "/var/lib/sekisho/audit.log");
	site.receiver.internal.port = 9443;
	site.sender.internal.port = 9444;
	sandbox_spec_for(&local, &site, SANDBOX_STORE, &spec);
	assert_int_equal(spec.kind, SANDBOX_STORE);
	assert_int_equal(spec.nrw, 1);
	assert_string_equal(spec.rw[0], "/var/lib/sekisho");
	assert_int_equal(spec.nconnect, 0);
	assert_int_equal(spec.max_files, 64 * 4 + 64);
	/* A data_dir that is only a prefix of the log's folder name. */
	snprintf(local.audit_log, sizeof(local.audit_log),
	    "/var/lib/sekisho-audit/audit.log");
	sandbox_spec_for(&local, &site, SANDBOX_STORE, &spec);
	assert_int_equal(spec.nrw, 2);
	assert_string_equal(spec.rw[1], "/var/lib/sekisho-audit");
	/* The net process and the parent reach no folder at all. */
	sandbox_spec_for(&local, &site, SANDBOX_NET, &spec);
	assert_int_equal(spec.nrw, 0);
	assert_int_equal(spec.nconnect, 0);
	sandbox_spec_for(&local, &site, SANDBOX_PARENT, &spec);
	assert_int_equal(spec.nrw, 0);
	local.role = ROLE_VAULT;
	sandbox_spec_for(&local, &site, SANDBOX_ALONE, &spec);
	assert_int_equal(spec.nconnect, 2);
	assert_int_equal(spec.connect_ports[0], 9443);
	assert_int_equal(spec.connect_ports[1], 9444);
}

static void
test_describe_names_every_layer(void **state)
{
	struct sandbox_layers l = { .dropped = 1, .uid = 990, .gid = 985,
		.landlock_abi = 6, .landlock_net = 1, .seccomp_calls = 80 };
	char buf[320];

	(void)state;
	sandbox_describe(&l, buf, sizeof(buf));
	assert_non_null(strstr(buf, "root dropped to uid 990"));
	assert_non_null(strstr(buf, "landlock ABI 6 (files, TCP ports)"));
	assert_non_null(strstr(buf, "seccomp allow-list of 80 calls"));
	l.landlock_abi = 0;
	sandbox_describe(&l, buf, sizeof(buf));
	assert_non_null(strstr(buf, "landlock unavailable"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_r17_drop_in_order_and_for_good,
		    reset),
		cmocka_unit_test_setup(test_r17_not_root_nothing_to_drop, reset),
		cmocka_unit_test_setup(test_r17_missing_user_refused, reset),
		cmocka_unit_test_setup(test_r17_root_as_the_user_refused, reset),
		cmocka_unit_test_setup(test_r17_failed_setresuid_refused, reset),
		cmocka_unit_test_setup(test_r17_root_regained_refused, reset),
		cmocka_unit_test_setup(test_r17_capabilities_left_refused,
		    reset),
		cmocka_unit_test(test_spec_per_role),
		cmocka_unit_test(test_describe_names_every_layer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
