/*
 * util.h: careful file and system helpers for the edge code.
 */
#ifndef SK_UTIL_H
#define SK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Opens a secret (key) file read-only with O_NOFOLLOW. Refuses it with
 * SK_EPERM unless it is a regular file owned by the effective user (by
 * any user, for root) and not readable or writable by group or others.
 * Returns 0 with *fd set.
 */
int util_open_secret(const char *path, int *fd);

/* Reads exactly len bytes of a secret file into buf (see util_open_secret). */
int util_read_secret(const char *path, uint8_t *buf, size_t len);

/* write(2) until done, retrying on EINTR. Returns 0 or SK_ESYS/SK_ENOSPACE. */
int util_write_all(int fd, const void *buf, size_t len);

/* A small file name of dirfd (not a symlink), read whole into a buffer
 * to free, NUL-ended, its length in *len; NULL when it is missing,
 * unreadable or longer than max bytes. */
char *util_read_at(int dirfd, const char *name, size_t max, size_t *len);

/* A small file name of dirfd written whole or not at all: a temporary
 * name beside it, synced, renamed over it, the folder synced. 0, or an
 * error (the temporary file is gone again). */
int util_write_at(int dirfd, const char *name, const void *buf, size_t len);

/* The SHA-256 of n bytes, as 64 lowercase hex digits. */
void util_sha256_hex(const void *p, size_t n, char hex[65]);

/* pread(2) exactly len bytes at off. SK_ETRUNCATED at end of file. */
int util_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* fsync(2) of a directory by path. */
int util_fsync_dir_path(const char *path);

/* Fills buf with cryptographically strong random bytes. */
int util_random(void *buf, size_t len);

/* Creates a directory (mode) if missing; an existing one must be a dir. */
int util_mkdir(const char *path, unsigned mode);

/* Returns the bytes available to unprivileged users on the path's disk. */
int util_disk_free(const char *path, uint64_t *out);

struct iovec;

/*
 * HMAC-SHA-256 over the concatenation of n buffers. Returns 0 or
 * SK_ECRYPTO.
 */
/* The SHA-256 of a file's bytes, from a descriptor (its offset kept),
 * as 64 hex digits. */
int util_fd_sha256_hex(int fd, char hex[65]);

int util_hmac_sha256(const uint8_t *key, size_t keylen,
    const struct iovec *parts, int n, uint8_t out[32]);

/*
 * `PROGRAM --version` and `PROGRAM --help` (or -h): the answer on stdout,
 * and 1 (the caller exits 0); 0 for any other call.
 */
int util_cli_info(int argc, char **argv, const char *program,
    const char *version, void (*print_usage)(FILE *fp));

/* Monotonic time in milliseconds. */
uint64_t util_now_ms(void);

#endif
