/*
 * inspect.c: `sekisho-ROLE -c CONF inspect [--key KEY0]`, the compliance
 * evidence of a live host in one command (issue 16, item 7): every check
 * that proves a requirement here, as a table "R-id | control | check |
 * result". Run as root: it reads the kernel's ruleset and the running
 * daemon's /proc entries, and changes nothing. Exit status 0 when every
 * check passed (a skipped one says why), 1 with a warning, 2 with a
 * failure.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "daemon.h"
#include "health.h"
#include "inspect.h"
#include "proc.h"
#include "sk.h"

enum { R_PASS, R_SKIP, R_WARN, R_FAIL };

static const char *const result_names[] = { "PASS", "SKIPPED", "WARNING",
	"FAIL" };

struct table {
	int worst;
	unsigned n;
};

static void
row(struct table *t, const char *rid, const char *control, int result,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
row(struct table *t, const char *rid, const char *control, int result,
    const char *fmt, ...)
{
	char check[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(check, sizeof(check), fmt, ap);
	va_end(ap);
	printf("| %-9s | %-44s | %s | %s |\n", rid, control, check,
	    result_names[result]);
	if (result > t->worst)
		t->worst = result;
	t->n++;
}

/* ---- the program's own imports (the construction checks) ---- */

/*
 * The names of the undefined dynamic symbols of an ELF64 file that are in
 * want (NULL-terminated), comma separated into out. -1 if the file is not
 * a readable ELF64 of this machine's byte order.
 */
static int
imports_of(const char *path, const char *const *want, char *out, size_t cap)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	Elf64_Sym sym;
	struct stat st;
	char *str = NULL, *name;
	size_t i, k, w, o = 0, strsz = 0, nsyms;
	int fd, r = -1;

	out[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) != 0 || pread(fd, &eh, sizeof(eh), 0) !=
	    (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
	    eh.e_shnum > 4096 || eh.e_shoff > (uint64_t)st.st_size ||
	    (uint64_t)st.st_size - eh.e_shoff < (uint64_t)eh.e_shnum *
	    sizeof(Elf64_Shdr))
		goto out;
	if ((sh = calloc(eh.e_shnum, sizeof(*sh))) == NULL ||
	    pread(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff) !=
	    (ssize_t)(eh.e_shnum * sizeof(*sh)))
		goto out;
	for (i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh.e_shnum ||
		    sh[i].sh_entsize != sizeof(Elf64_Sym))
			continue;
		strsz = sh[sh[i].sh_link].sh_size;
		if (strsz == 0 || strsz > (16u << 20) ||
		    sh[sh[i].sh_link].sh_offset > (uint64_t)st.st_size ||
		    (uint64_t)st.st_size - sh[sh[i].sh_link].sh_offset < strsz ||
		    sh[i].sh_offset > (uint64_t)st.st_size ||
		    (uint64_t)st.st_size - sh[i].sh_offset < sh[i].sh_size)
			goto out;
		if ((str = malloc(strsz + 1)) == NULL ||
		    pread(fd, str, strsz, (off_t)sh[sh[i].sh_link].sh_offset) !=
		    (ssize_t)strsz)
			goto out;
		str[strsz] = '\0';
		nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
		for (k = 0; k < nsyms; k++) {
			if (pread(fd, &sym, sizeof(sym), (off_t)(sh[i].sh_offset +
			    k * sizeof(sym))) != (ssize_t)sizeof(sym))
				goto out;
			if (sym.st_shndx != SHN_UNDEF || sym.st_name >= strsz)
				continue;
			name = str + sym.st_name;
			for (w = 0; want[w] != NULL; w++)
				if (strcmp(name, want[w]) == 0)
					o += (size_t)snprintf(out + o, o < cap ?
					    cap - o : 0, "%s%s", o ? "," : "",
					    name);
		}
		r = 0;
		break;
	}
out:
	free(str);
	free(sh);
	close(fd);
	return r;
}

static void
check_construction(struct table *t, enum config_role role)
{
	static const char *const recv[] = { "connect", "connectat",
		"SSL_connect", "nftnl_batch_begin", "mnl_socket_open", NULL };
	static const char *const send[] = { "connect", "connectat",
		"SSL_connect", "nftnl_batch_begin", "mnl_socket_open", NULL };
	static const char *const vault[] = { "bind", "listen", "accept",
		"accept4", "SSL_accept", "nftnl_batch_begin",
		"mnl_socket_open", NULL };
	const char *const *want = role == ROLE_RECEIVER ? recv :
	    role == ROLE_SENDER ? send : vault;
	char self[PATH_MAX], found[512], list[256];
	size_t i, o = 0;

	for (i = 0; want[i] != NULL; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? " " : "", want[i]);
	if (proc_self_path(self, sizeof(self)) != 0 ||
	    imports_of(self, want, found, sizeof(found)) != 0) {
		row(t, role == ROLE_VAULT ? "R05 R17" : role == ROLE_RECEIVER ?
		    "R02 R17" : "R03 R17", "the program holds only its role's "
		    "code", R_FAIL, "its symbols cannot be read");
		return;
	}
	row(t, role == ROLE_VAULT ? "R05 R17" : role == ROLE_RECEIVER ?
	    "R02 R17" : "R03 R17", "the program holds only its role's code",
	    found[0] ? R_FAIL : R_PASS, "%s imports none of: %s%s%s", self,
	    list, found[0] ? "; it DOES import " : "", found);
}

/* ---- the running daemon's processes ---- */

/* Does /proc/PID run this role's program on this configuration? The part
 * ("run", "net", "store", ...) in part. */
static int
daemon_process(pid_t pid, const char *program, const char *conf_real,
    char *part, size_t partcap)
{
	char path[64], cmd[4096], cwd[PATH_MAX], conf[PATH_MAX * 2];
	char real[PATH_MAX], *argv[8];
	const char *base;
	ssize_t n;
	int fd, argc = 0, i;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	for (i = 0; i < n && argc < 8; i += (int)strlen(cmd + i) + 1)
		argv[argc++] = cmd + i;
	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (argc < 4 || strcmp(base, program) != 0 ||
	    strcmp(argv[1], "-c") != 0 || (strcmp(argv[3], "run") != 0 &&
	    strcmp(argv[3], "proc") != 0))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	if (argv[2][0] == '/')
		snprintf(conf, sizeof(conf), "%s", argv[2]);
	else if ((n = readlink(path, cwd, sizeof(cwd) - 1)) > 0) {
		cwd[n] = '\0';
		snprintf(conf, sizeof(conf), "%s/%s", cwd, argv[2]);
	} else
		return 0;
	if (realpath(conf, real) == NULL || strcmp(real, conf_real) != 0)
		return 0;
	snprintf(part, partcap, "%s", strcmp(argv[3], "run") == 0 ? "parent" :
	    argc > 4 ? argv[4] : "?");
	return 1;
}

static void
status_field(pid_t pid, const char *key, char *out, size_t cap)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	FILE *fp;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			snprintf(out, cap, "%s", line + kl + 1 + strspn(line +
			    kl + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	fclose(fp);
}

static void
check_processes(struct table *t, const struct local_config *local)
{
	char program[32], real[PATH_MAX], part[32], uid[64], nnp[16], sec[16];
	char seen[1024];
	struct dirent *de;
	unsigned n = 0, bad = 0;
	size_t o = 0;
	DIR *d;
	pid_t pid;

	snprintf(program, sizeof(program), "sekisho-%s",
	    config_role_name(local->role));
	if (realpath(local->file, real) == NULL || (d = opendir("/proc")) ==
	    NULL) {
		row(t, "R17", "each process of the daemon is sandboxed", R_FAIL,
		    "cannot look at /proc");
		return;
	}
	seen[0] = '\0';
	while ((de = readdir(d)) != NULL) {
		if ((pid = (pid_t)atoi(de->d_name)) <= 0 ||
		    !daemon_process(pid, program, real, part, sizeof(part)))
			continue;
		status_field(pid, "Uid", uid, sizeof(uid));
		status_field(pid, "NoNewPrivs", nnp, sizeof(nnp));
		status_field(pid, "Seccomp", sec, sizeof(sec));
		n++;
		/* No process keeps root; each has no_new_privs; each but the
		 * vault's spawner (which starts programs that enter their
		 * own) has a seccomp filter. */
		if (strtol(uid, NULL, 10) == 0 || strcmp(nnp, "1") != 0 ||
		    (strcmp(sec, "2") != 0 && strcmp(part, "spawner") != 0))
			bad++;
		o += (size_t)snprintf(seen + o, o < sizeof(seen) ? sizeof(seen) -
		    o : 0, "%s%s uid %ld%s%s", o ? "; " : "", part,
		    strtol(uid, NULL, 10), strcmp(nnp, "1") == 0 ?
		    " no_new_privs" : " NO no_new_privs", strcmp(sec, "2") == 0 ?
		    " seccomp" : " no seccomp");
		if (o >= sizeof(seen))
			o = sizeof(seen) - 1;
	}
	closedir(d);
	if (n == 0)
		row(t, "R17", "each process of the daemon is sandboxed", R_WARN,
		    "the daemon does not run on %s", local->file);
	else
		row(t, "R17", "each process of the daemon is sandboxed",
		    bad > 0 ? R_FAIL : R_PASS, "%u process(es): %s", n, seen);
}

/* ---- what is stored ---- */

static void
check_sealed(const struct local_config *local, const char *sub,
    unsigned *files, unsigned *plain)
{
	char path[PATH_MAX], magic[8];
	struct dirent *de;
	DIR *d;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", local->data_dir, sub) >=
	    (int)sizeof(path) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp") != NULL)
			continue;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1)
			continue;
		(*files)++;
		if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
		    memcmp(magic, "SKSEAL\0\1", 8) != 0)
			(*plain)++;
		close(fd);
	}
	closedir(d);
}

/* The site digest the daemon's last start recorded, from its audit log. */
/*
 * R33: nothing is held past its period. The receiver's pending uploads
 * against the longest retention_days of its datasets, the sender's
 * releases against the longest release days; an hour's grace for the
 * sweep, which runs every minute. A stored file's time is its receipt or
 * its publication. (The vault's sources go with their job's decision.)
 */
static void
check_retention(struct table *t, const struct local_config *local,
    const struct site_config *site)
{
	const int receiver = local->role == ROLE_RECEIVER;
	uint64_t count = 0, late = 0;
	unsigned longest = 0, days;
	int64_t oldest = 0;
	size_t i;

	if (local->role == ROLE_VAULT)
		return;
	for (i = 0; i < site->ndatasets; i++) {
		days = receiver ? site->datasets[i].retention_days :
		    site->datasets[i].release_days;
		if (receiver && days == 0) {
			row(t, "R33", "nothing is held past its retention",
			    R_WARN, "dataset %s has no retention period "
			    "(retention_days = 0): its uploads may wait for "
			    "ever", site->datasets[i].id);
			return;
		}
		if (days > longest)
			longest = days;
	}
	if (health_files_before(local->data_dir, "objects", (int64_t)time(NULL) -
	    (int64_t)longest * 86400 - 3600, &count, &oldest, &late) != 0) {
		row(t, "R33", "nothing is held past its retention", R_FAIL,
		    "%s/objects cannot be read: %s", local->data_dir,
		    strerror(errno));
		return;
	}
	row(t, "R33", "nothing is held past its retention", late > 0 ? R_FAIL :
	    R_PASS, "%" PRIu64 " %s held, %" PRIu64 " older than the longest "
	    "%s (%u days)%s", count, receiver ? "upload(s)" : "release(s)",
	    late, receiver ? "retention" : "release period", longest,
	    late > 0 ? ": the disposal sweep is not running" : "");
}

static void
started_digest(const char *log, const char *role, char *out, size_t cap)
{
	char line[4096], want[64], *p;
	FILE *fp;

	out[0] = '\0';
	snprintf(want, sizeof(want), "\"event\":\"%s.start\"", role);
	if ((fp = fopen(log, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, want) != NULL && (p = strstr(line, " site=")) !=
		    NULL)
			snprintf(out, cap, "%.64s", p + 6);
	fclose(fp);
}

int
daemon_inspect(const struct local_config *local,
    const struct site_config *site, int argc, char **argv)
{
	const char *role = config_role_name(local->role), *key0 = NULL;
	struct audit_verify_result res;
	struct table t = { 0 };
	unsigned errors = 0, warnings = 0, files = 0, plain = 0;
	char digest[80], key0_beside[PATH_MAX + 8], state[PATH_MAX + 8];
	char now[32];
	int r, i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			key0 = argv[++i];
		else
			return -1;
	sk_time_format((int64_t)time(NULL), now, sizeof(now));
	printf("点検 / inspection of the %s host, %s\n\n"
	    "| R-id      | control                                      | "
	    "check | result |\n|---|---|---|---|\n", role, now);
	r = daemon_firewall_verify(local);
	row(&t, "R18 R54", "the firewall is the generated ruleset",
	    r == 0 ? R_PASS : R_FAIL, "sekisho-firewall -c %s --role %s "
	    "verify%s", local->site_file, role, r < 0 ? ": cannot be run" :
	    r == 0 ? "" : ": it differs");
	check_processes(&t, local);
	check_construction(&t, local->role);
	daemon_check_credentials_counted(local, site,
	    local->expiry_warn_days, &errors, &warnings);
	row(&t, "R34 R55", "certificates and CRLs are valid", errors > 0 ?
	    R_FAIL : warnings > 0 ? R_WARN : R_PASS, "check-config's checks: "
	    "%u error(s), %u ending within %u days", errors, warnings,
	    local->expiry_warn_days);
	started_digest(local->audit_log, role, digest, sizeof(digest));
	row(&t, "R54", "the configuration is the one the daemon started "
	    "with", digest[0] == '\0' ? R_WARN : strcmp(digest, site->digest) ==
	    0 ? R_PASS : R_WARN, "site digest %.16s..., at the last start "
	    "%.16s...%s", site->digest, digest[0] ? digest : "(none)",
	    digest[0] && strcmp(digest, site->digest) != 0 ?
	    ": CHANGED since (a restart takes it; who changed it?)" : "");
	snprintf(key0_beside, sizeof(key0_beside), "%s", local->audit_key);
	snprintf(state, sizeof(state), "%s.state", local->audit_log);
	if (key0 != NULL) {
		memset(&res, 0, sizeof(res));
		r = audit_verify(local->audit_log, key0, access(state, R_OK) ==
		    0 ? state : NULL, &res);
		row(&t, "R15 R50", "the audit log is intact", r == 0 &&
		    res.breaks == 0 ? R_PASS : R_FAIL, "audit verify with the "
		    "auditor's first key: %s", r == 0 && res.breaks == 0 ?
		    "every entry verifies, it ends where its state says" :
		    r == 0 ? "a break is recorded" : res.reason);
		if (r == 0)
			row(&t, "R15", "every entry has its event's fields "
			    "(docs/audit-events.md)", res.off_schema > 0 ?
			    R_WARN : R_PASS, res.off_schema > 0 ? "%llu "
			    "entr(ies) off their event's schema, the first at "
			    "line %llu: %s" : "%llu entries off their event's "
			    "schema", (unsigned long long)res.off_schema,
			    (unsigned long long)res.first_off_schema,
			    res.off_schema_why);
	} else
		row(&t, "R15 R50", "the audit log is intact", R_SKIP,
		    "give the auditor's first key: inspect --key KEY0");
	row(&t, "R15", "the first key is with the auditor, not the host",
	    access(key0_beside, F_OK) == 0 ? R_WARN : R_PASS, "%s %s",
	    key0_beside, access(key0_beside, F_OK) == 0 ? "is still on this "
	    "host (admin guide: move it to the auditor)" : "is not here");
	if (local->role == ROLE_VAULT) {
		check_sealed(local, "sources", &files, &plain);
		check_sealed(local, "releases", &files, &plain);
	} else
		check_sealed(local, "objects", &files, &plain);
	row(&t, "R21", "stored data is sealed at rest", plain > 0 ? R_FAIL :
	    R_PASS, "%u stored object(s), %u not sealed", files, plain);
	check_retention(&t, local, site);
	printf("\n%u check(s); result: %s\n", t.n, t.worst == R_FAIL ?
	    "不合格あり / FAILED" : t.worst == R_WARN ?
	    "要確認 / warnings" : "合格 / passed");
	return t.worst == R_FAIL ? 2 : t.worst == R_WARN ? 1 : 0;
}
