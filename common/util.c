/*
 * util.c: careful file and system helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <libconfig.h>

#include "log.h"
#include "sk.h"
#include "util.h"

int
util_open_secret(const char *path, int *fd)
{
	struct stat st;
	int f;

	if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return SK_ESYS;
	if (fstat(f, &st) == -1) {
		close(f);
		return SK_ESYS;
	}
	/* Only its owner may read it. Root, which reads the keys before it
	 * drops to the service user, accepts the service user's files. */
	if (!S_ISREG(st.st_mode) || (st.st_uid != geteuid() &&
	    geteuid() != 0) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		close(f);
		errno = EPERM;
		return SK_EPERM;
	}
	*fd = f;
	return 0;
}

int
util_read_secret(const char *path, uint8_t *buf, size_t len)
{
	struct stat st;
	int fd, r;

	if ((r = util_open_secret(path, &fd)) != 0)
		return r;
	if (fstat(fd, &st) == -1 || (size_t)st.st_size != len) {
		close(fd);
		return SK_EFORMAT;
	}
	r = util_pread_full(fd, buf, len, 0);
	close(fd);
	return r;
}

int
util_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == ENOSPC || errno == EDQUOT ?
			    SK_ENOSPACE : SK_ESYS;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return SK_ESYS;
		if (n == 0)
			return SK_ETRUNCATED;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_fsync_dir_path(const char *path)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return SK_ESYS;
	if (fsync(fd) == -1)
		r = SK_ESYS;
	close(fd);
	return r;
}

int
util_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return SK_ECRYPTO;
	return 0;
}

int
util_mkdir(const char *path, unsigned mode)
{
	struct stat st;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	if (errno != EEXIST)
		return SK_ESYS;
	if (lstat(path, &st) == -1)
		return SK_ESYS;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return SK_ESYS;
	}
	return 0;
}

int
util_disk_free(const char *path, uint64_t *out)
{
	struct statvfs sv;

	if (statvfs(path, &sv) == -1)
		return SK_ESYS;
	*out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
util_hmac_sha256(const uint8_t *key, size_t keylen, const struct iovec *parts,
    int n, uint8_t out[32])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int i, ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) == 1;
	for (i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, parts[i].iov_base,
		    parts[i].iov_len) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &outl, 32) == 1 && outl == 32;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : SK_ECRYPTO;
}

int
util_cli_info(int argc, char **argv, const char *program, const char *version,
    void (*print_usage)(FILE *fp))
{
	if (argc != 2)
		return 0;
	if (strcmp(argv[1], "--version") == 0) {
		/* The libraries that matter to an auditor: OpenSSL as it
		 * runs, libconfig as built against, the C library. */
		printf("%s %s\n%s\nlibconfig %d.%d.%d\nglibc %s\n", program,
		    version, OpenSSL_version(OPENSSL_VERSION),
		    LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR,
		    LIBCONFIG_VER_REVISION, gnu_get_libc_version());
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(stdout);
		return 1;
	}
	return 0;
}

int
util_fd_sha256_hex(int fd, char hex[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t buf[65536], md[32];
	uint64_t off = 0;
	ssize_t n;
	int e = 0;

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return SK_ECRYPTO;
	}
	while ((n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		if (EVP_DigestUpdate(c, buf, (size_t)n) != 1) {
			e = SK_ECRYPTO;
			break;
		}
		off += (uint64_t)n;
	}
	if (e == 0 && n < 0)
		e = SK_ESYS;
	if (e == 0 && EVP_DigestFinal_ex(c, md, NULL) != 1)
		e = SK_ECRYPTO;
	EVP_MD_CTX_free(c);
	if (e == 0)
		sk_hex(md, sizeof(md), hex);
	return e;
}

char *
util_read_at(int dirfd, const char *name, size_t max, size_t *len)
{
	char *buf;
	size_t got = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return NULL;
	if (max > SIZE_MAX - 2 || (buf = malloc(max + 2)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got <= max && ((n = read(fd, buf + got, max + 1 - got)) > 0 ||
	    (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	if (n < 0 || got > max) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

int
util_write_at(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, e = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.t", name) >= sizeof(tmp))
		return SK_ETOOBIG;
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return SK_ESYS;
	if (util_write_all(fd, buf, len) != 0 || fdatasync(fd) != 0)
		e = SK_ESYS;
	if (close(fd) != 0)
		e = SK_ESYS;
	if (e == 0 && (renameat(dirfd, tmp, dirfd, name) != 0 ||
	    fsync(dirfd) != 0))
		e = SK_ESYS;
	if (e != 0)
		unlinkat(dirfd, tmp, 0);
	return e;
}

void
util_sha256_hex(const void *p, size_t n, char hex[65])
{
	uint8_t d[32];
	unsigned dl = 0;

	if (EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
		fatalx("SHA-256 failed");
	sk_hex(d, 32, hex);
}
