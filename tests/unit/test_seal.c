/*
 * test_seal.c: sealed storage (R13, R21): round trips at chunk edges, and
 * every kind of tampering detected; failing fdatasync and renameat2 leave
 * nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "seal.h"
#include "sk.h"

/* Fault injection: fail the Nth call (1-based); 0 = never. */
static int fail_fdatasync_at, fdatasync_calls;
static int fail_rename;

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __real_renameat2(int, const char *, int, const char *, unsigned);
int __wrap_renameat2(int, const char *, int, const char *, unsigned);

int
__wrap_fdatasync(int fd)
{
	if (fail_fdatasync_at != 0 && ++fdatasync_calls == fail_fdatasync_at) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

int
__wrap_renameat2(int a, const char *b, int c, const char *d, unsigned flags)
{
	if (fail_rename) {
		errno = EIO;
		return -1;
	}
	return __real_renameat2(a, b, c, d, flags);
}

static char dir[64];
static int dirfd_;
static struct seal_master master;

static int
setup(void **state)
{
	char keypath[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sekisho-test-seal.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(keypath, sizeof(keypath), "%s/master.key", dir);
	if (seal_master_create(keypath) != 0 ||
	    seal_master_load(keypath, &master) != 0)
		return -1;
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
	return dirfd_ == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(dirfd_);
	seal_master_wipe(&master);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint8_t *
pattern(size_t len)
{
	uint8_t *p = malloc(len + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + i / 251);
	return p;
}

/* Writes len bytes in uneven pieces and commits as name. */
static void
store(const char *name, const uint8_t *data, size_t len, size_t chunk)
{
	struct seal_writer *w;
	size_t off = 0, piece = 1;

	assert_int_equal(seal_writer_open(&master, dirfd_, "t.tmp", chunk, &w),
	    0);
	while (off < len) {
		size_t n = piece < len - off ? piece : len - off;

		assert_int_equal(seal_writer_write(w, data + off, n), 0);
		off += n;
		piece = piece * 3 + 1;
	}
	assert_int_equal(seal_writer_size(w), len);
	assert_int_equal(seal_writer_finish(w, "meta", 4), 0);
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, name), 0);
	seal_writer_free(w);
}

/* Reads the whole object; returns the read error or 0. */
static int
load(const char *name, uint8_t **out, size_t *len)
{
	struct seal_reader *r;
	uint8_t *buf;
	size_t got, total = 0, cap;
	int e;

	if ((e = seal_reader_open(&master, dirfd_, name, &r)) != 0)
		return e;
	cap = (size_t)seal_reader_size(r) + 1;
	buf = malloc(cap);
	assert_non_null(buf);
	do {
		e = seal_reader_read(r, buf + total, 7777 < cap - total ? 7777 :
		    cap - total, &got);
		total += got;
	} while (e == 0 && got > 0);
	seal_reader_free(r);
	if (e != 0) {
		free(buf);
		return e;
	}
	*out = buf;
	*len = total;
	return 0;
}

static void
test_round_trip_at_chunk_edges(void **state)
{
	static const size_t chunk = 64;
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 128, 129, 1000 };
	uint8_t *data = pattern(1000), *back;
	size_t i, len;

	(void)state;
	for (i = 0; i < SK_ARRAY_LEN(sizes); i++) {
		store("obj", data, sizes[i], chunk);
		assert_int_equal(load("obj", &back, &len), 0);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(back, data, len);
		free(back);
		assert_int_equal(unlinkat(dirfd_, "obj", 0), 0);
	}
	free(data);
}

static void
test_default_chunk_large_object(void **state)
{
	size_t n = 3 * SEAL_CHUNK_DEFAULT + 17, len;
	uint8_t *data = pattern(n), *back;
	struct seal_reader *r;
	uint8_t meta[16];

	(void)state;
	store("big", data, n, 0);
	assert_int_equal(load("big", &back, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(back, data, n);
	free(back);
	assert_int_equal(seal_reader_open(&master, dirfd_, "big", &r), 0);
	assert_int_equal(seal_reader_meta(r, meta, sizeof(meta), &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(meta, "meta", 4);
	assert_int_equal(seal_reader_meta(r, meta, 3, &len), SK_ETOOBIG);
	/* Seek into the third chunk, and to the end. */
	assert_int_equal(seal_reader_seek(r, 2 * SEAL_CHUNK_DEFAULT + 5), 0);
	assert_int_equal(seal_reader_read(r, meta, 8, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(meta, data + 2 * SEAL_CHUNK_DEFAULT + 5, 8);
	assert_int_equal(seal_reader_seek(r, n), 0);
	assert_int_equal(seal_reader_read(r, meta, 8, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(seal_reader_seek(r, n + 1), SK_EINVAL);
	seal_reader_free(r);
	free(data);
	unlinkat(dirfd_, "big", 0);
}

static void
test_no_plaintext_on_disk(void **state)
{
	static const char marker[] = "SEKISHO-PLAINTEXT-MARKER-0123456789";
	uint8_t buf[8192];
	ssize_t n;
	int fd;

	(void)state;
	store("m", (const uint8_t *)marker, sizeof(marker) - 1, 0);
	fd = openat(dirfd_, "m", O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0);
	assert_null(memmem(buf, (size_t)n, "PLAINTEXT", 9));
	unlinkat(dirfd_, "m", 0);
}

static size_t
file_size(const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(dirfd_, name, &st, 0), 0);
	return (size_t)st.st_size;
}

static void
flip_byte(const char *name, size_t off)
{
	uint8_t b;
	int fd = openat(dirfd_, name, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* Any single flipped bit anywhere in the file is detected. */
static void
test_every_byte_is_authenticated(void **state)
{
	uint8_t *data = pattern(200), *back, meta[16];
	struct seal_reader *r;
	size_t off, size, len;
	int e;

	(void)state;
	store("orig", data, 200, 64);
	size = file_size("orig");
	for (off = 0; off < size; off++) {
		store("t", data, 200, 64);
		flip_byte("t", off);
		e = load("t", &back, &len);
		if (e == 0) {
			free(back);
			/* The metadata record must then be what broke. */
			assert_int_equal(seal_reader_open(&master, dirfd_, "t",
			    &r), 0);
			e = seal_reader_meta(r, meta, sizeof(meta), &len);
			seal_reader_free(r);
		}
		if (e == 0)
			fail_msg("flipping byte %zu went unnoticed", off);
		unlinkat(dirfd_, "t", 0);
	}
	unlinkat(dirfd_, "orig", 0);
	free(data);
}

/*
 * A read with room for whole chunks takes them straight into the caller's
 * buffer (the push path): the same bytes as piecewise reads, from a chunk
 * boundary or from the middle of one, and a chunk that does not verify
 * leaves none of its plaintext there.
 */
static void
test_whole_chunk_reads(void **state)
{
	uint8_t *data = pattern(200), buf[512];
	struct seal_reader *r;
	size_t len, i;

	(void)state;
	store("w", data, 200, 64);
	assert_int_equal(seal_reader_open(&master, dirfd_, "w", &r), 0);
	assert_int_equal(seal_reader_read(r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 200);
	assert_memory_equal(buf, data, 200);
	assert_int_equal(seal_reader_read(r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	/* From the middle of the first chunk: its rest, then whole ones. */
	assert_int_equal(seal_reader_seek(r, 10), 0);
	assert_int_equal(seal_reader_read(r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 190);
	assert_memory_equal(buf, data + 10, 190);
	seal_reader_free(r);

	/* The second chunk's ciphertext altered: an error, and where it
	 * would have gone the caller's own bytes or zeros, not its text. */
	flip_byte("w", SEAL_HEADER_LEN + (64 + 16) + 3);
	assert_int_equal(seal_reader_open(&master, dirfd_, "w", &r), 0);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(seal_reader_read(r, buf, sizeof(buf), &len), SK_EAUTH);
	for (i = 64; i < 128; i++)
		if (buf[i] != 0 && buf[i] != 0xaa)
			fail_msg("byte %zu of an unverified chunk was left", i);
	seal_reader_free(r);
	unlinkat(dirfd_, "w", 0);
	free(data);
}

static void
copy_range(int from, int to, off_t src, off_t dst, size_t len)
{
	uint8_t buf[256];

	assert_true(len <= sizeof(buf));
	assert_int_equal(pread(from, buf, len, src), (ssize_t)len);
	assert_int_equal(pwrite(to, buf, len, dst), (ssize_t)len);
}

static int
truncate_at(int d, const char *name, size_t len)
{
	int fd = openat(d, name, O_RDWR), r;

	assert_true(fd >= 0);
	r = ftruncate(fd, (off_t)len);
	close(fd);
	return r;
}

static void
test_truncation_and_reordering(void **state)
{
	uint8_t *data = pattern(200), *back;
	size_t size, len, rec = 64 + 16;
	int fd, fd2;

	(void)state;
	/* Dropping the trailing metadata length: refused. */
	store("t", data, 200, 64);
	size = file_size("t");
	assert_int_equal(truncate_at(dirfd_, "t", size - 1), 0);
	assert_int_not_equal(load("t", &back, &len), 0);
	unlinkat(dirfd_, "t", 0);

	/* Two whole chunks swapped: refused. */
	store("t", data, 200, 64);
	store("u", data, 200, 64);
	fd = openat(dirfd_, "t", O_RDWR);
	fd2 = openat(dirfd_, "u", O_RDONLY);
	copy_range(fd2, fd, SEAL_HEADER_LEN, SEAL_HEADER_LEN + (off_t)rec, rec);
	copy_range(fd2, fd, SEAL_HEADER_LEN + (off_t)rec, SEAL_HEADER_LEN, rec);
	close(fd);
	close(fd2);
	assert_int_equal(load("t", &back, &len), SK_EAUTH);
	unlinkat(dirfd_, "t", 0);

	/* The last chunk cut away, metadata moved up: refused. */
	fd = openat(dirfd_, "u", O_RDONLY);
	fd2 = openat(dirfd_, "t", O_RDWR | O_CREAT, 0600);
	size = file_size("u");
	copy_range(fd, fd2, 0, 0, SEAL_HEADER_LEN);
	copy_range(fd, fd2, SEAL_HEADER_LEN, SEAL_HEADER_LEN, 2 * rec);
	copy_range(fd, fd2, (off_t)size - 24, SEAL_HEADER_LEN + 2 * (off_t)rec,
	    24);
	close(fd);
	close(fd2);
	assert_int_not_equal(load("t", &back, &len), 0);
	unlinkat(dirfd_, "t", 0);
	unlinkat(dirfd_, "u", 0);
	free(data);
}

static void
test_wrong_master_key(void **state)
{
	struct seal_master other = master;
	struct seal_reader *r;

	(void)state;
	store("k", (const uint8_t *)"x", 1, 0);
	/* Same key id, wrong key: the unwrap itself fails. */
	other.key[0] ^= 1;
	assert_int_equal(seal_reader_open(&other, dirfd_, "k", &r), SK_EAUTH);
	/* Another master key altogether. */
	other.key_id[0] ^= 1;
	assert_int_equal(seal_reader_open(&other, dirfd_, "k", &r), SK_EAUTH);
	unlinkat(dirfd_, "k", 0);
}

/* Disposal destroys the key: even a hard link kept by an attacker
 * (or a backup taken after disposal) no longer opens. */
static void
test_dispose_shreds(void **state)
{
	struct seal_disposal d;
	uint8_t *back;
	size_t len;

	(void)state;
	store("d", (const uint8_t *)"secret", 6, 0);
	assert_int_equal(linkat(dirfd_, "d", dirfd_, "d.link", 0), 0);
	assert_int_equal(seal_dispose(dirfd_, "d", &d), 0);
	assert_true(d.key_destroyed);
	assert_true(d.file_bytes > SEAL_HEADER_LEN);
	assert_int_equal(faccessat(dirfd_, "d", F_OK, 0), -1);
	assert_int_not_equal(load("d.link", &back, &len), 0);
	assert_int_equal(seal_dispose(dirfd_, "d", &d), SK_ENOTFOUND);
	unlinkat(dirfd_, "d.link", 0);
}

static void
test_failing_fdatasync_keeps_nothing(void **state)
{
	struct seal_writer *w;

	(void)state;
	fdatasync_calls = 0;
	fail_fdatasync_at = 1;
	assert_int_equal(seal_writer_open(&master, dirfd_, "f.tmp", 0, &w), 0);
	assert_int_equal(seal_writer_write(w, "abc", 3), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), SK_ESYS);
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "f"), SK_EINVAL);
	seal_writer_free(w);
	fail_fdatasync_at = 0;
	assert_int_equal(faccessat(dirfd_, "f.tmp", F_OK, 0), -1);
	assert_int_equal(faccessat(dirfd_, "f", F_OK, 0), -1);
}

static void
test_failing_rename_keeps_nothing(void **state)
{
	struct seal_writer *w;

	(void)state;
	assert_int_equal(seal_writer_open(&master, dirfd_, "r.tmp", 0, &w), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), 0);
	fail_rename = 1;
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "r"), SK_ESYS);
	fail_rename = 0;
	seal_writer_free(w);
	assert_int_equal(faccessat(dirfd_, "r.tmp", F_OK, 0), -1);
	assert_int_equal(faccessat(dirfd_, "r", F_OK, 0), -1);
}

static void
test_commit_never_replaces(void **state)
{
	struct seal_writer *w;
	uint8_t *back;
	size_t len;

	(void)state;
	store("x", (const uint8_t *)"first", 5, 0);
	assert_int_equal(seal_writer_open(&master, dirfd_, "x.tmp", 0, &w), 0);
	assert_int_equal(seal_writer_write(w, "second", 6), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), 0);
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "x"), SK_EEXIST);
	seal_writer_free(w);
	assert_int_equal(load("x", &back, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(back, "first", 5);
	free(back);
	assert_int_equal(faccessat(dirfd_, "x.tmp", F_OK, 0), -1);
	unlinkat(dirfd_, "x", 0);
}

/* The threaded writer gives the same bytes, and aborts cleanly. */
static void
test_async_writer(void **state)
{
	static const size_t sizes[] = { 0, 1, 99, 100, 101, 1000, 5000 };
	uint8_t *data = pattern(5000), *back;
	struct seal_writer *w;
	size_t i, off, len, piece;

	(void)state;
	for (i = 0; i < SK_ARRAY_LEN(sizes); i++) {
		assert_int_equal(seal_writer_open(&master, dirfd_, "a.tmp", 64,
		    &w), 0);
		assert_int_equal(seal_writer_async(w, 100), 0);
		assert_int_equal(seal_writer_async(w, 100), SK_EINVAL);
		for (off = 0, piece = 7; off < sizes[i]; off += piece)
			assert_int_equal(seal_writer_write(w, data + off,
			    piece < sizes[i] - off ? piece : sizes[i] - off), 0);
		assert_int_equal(seal_writer_size(w), sizes[i]);
		assert_int_equal(seal_writer_finish(w, "m", 1), 0);
		assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "a"), 0);
		seal_writer_free(w);
		assert_int_equal(load("a", &back, &len), 0);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(back, data, len);
		free(back);
		unlinkat(dirfd_, "a", 0);
	}
	/* Freed mid-stream: the thread stops, nothing is left behind. */
	assert_int_equal(seal_writer_open(&master, dirfd_, "b.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_async(w, 100), 0);
	assert_int_equal(seal_writer_write(w, data, 5000), 0);
	seal_writer_free(w);
	assert_int_equal(faccessat(dirfd_, "b.tmp", F_OK, 0), -1);
	/* A failure after the thread's writes still fails the finish. */
	fdatasync_calls = 0;
	fail_fdatasync_at = 1;
	assert_int_equal(seal_writer_open(&master, dirfd_, "c.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_async(w, 100), 0);
	assert_int_equal(seal_writer_write(w, data, 5000), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), SK_ESYS);
	seal_writer_free(w);
	fail_fdatasync_at = 0;
	assert_int_equal(faccessat(dirfd_, "c.tmp", F_OK, 0), -1);
	free(data);
}

/*
 * Streaming (the length told first, as the receiver does with an upload's
 * Content-Length): the object reads back the same and is the same size as
 * the buffered path's, whether written in place, from a const buffer,
 * handed to a sealing thread halfway, or taken back from one; more than
 * announced, or less, fails.
 */
static void
streamed(const uint8_t *data, size_t len, int how)
{
	struct seal_writer *w;
	uint8_t *copy = malloc(len + 1);
	size_t off = 0, piece = 1;
	int settled = 0;

	assert_non_null(copy);
	memcpy(copy, data, len);
	assert_int_equal(seal_writer_open(&master, dirfd_, "s.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_expect(w, len), 0);
	assert_int_equal(seal_writer_expect(w, len), SK_EINVAL);
	while (off < len) {
		size_t n = piece < len - off ? piece : len - off;

		if (how == 2 && off >= len / 2 && off > 0)
			(void)seal_writer_async(w, 100);
		/* A thread from the start, settled two thirds in (an upload
		 * cut and kept for resuming), then the rest in place. */
		if (how == 3 && off == 0)
			assert_int_equal(seal_writer_async(w, 100), 0);
		if (how == 3 && off >= 2 * len / 3 && !settled) {
			assert_int_equal(seal_writer_settle(w), 0);
			assert_int_equal(seal_writer_size(w), off);
			settled = 1;
		}
		if (how == 1)
			assert_int_equal(seal_writer_write(w, copy + off, n), 0);
		else
			assert_int_equal(seal_writer_write_inplace(w,
			    copy + off, n), 0);
		off += n;
		piece = piece * 3 + 1;
	}
	/* In place, the caller's buffer holds ciphertext now. */
	if (how == 0 && len > 8)
		assert_memory_not_equal(copy, data, len);
	if (how == 1)
		assert_memory_equal(copy, data, len);
	assert_int_equal(seal_writer_write(w, "x", 1), SK_ETOOBIG);
	assert_int_equal(seal_writer_finish(w, "meta", 4), 0);
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "s"), 0);
	seal_writer_free(w);
	free(copy);
}

static void
test_streaming_writer(void **state)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 128, 129, 1000 };
	uint8_t *data = pattern(1000), *back;
	struct seal_writer *w;
	struct stat a, b;
	size_t i, len;
	int how;

	(void)state;
	for (i = 0; i < SK_ARRAY_LEN(sizes); i++)
		for (how = 0; how < 4; how++) {
			streamed(data, sizes[i], how);
			assert_int_equal(load("s", &back, &len), 0);
			assert_int_equal(len, sizes[i]);
			assert_memory_equal(back, data, len);
			free(back);
			store("b", data, sizes[i], 64);
			assert_int_equal(fstatat(dirfd_, "s", &a, 0), 0);
			assert_int_equal(fstatat(dirfd_, "b", &b, 0), 0);
			assert_int_equal(a.st_size, b.st_size);
			unlinkat(dirfd_, "s", 0);
			unlinkat(dirfd_, "b", 0);
		}
	/* Less than announced: no finish, nothing left behind. */
	assert_int_equal(seal_writer_open(&master, dirfd_, "t.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_expect(w, 100), 0);
	assert_int_equal(seal_writer_write(w, data, 99), 0);
	assert_int_equal(seal_writer_write(w, data, 2), SK_ETOOBIG);
	assert_int_equal(seal_writer_finish(w, NULL, 0), SK_ETRUNCATED);
	seal_writer_free(w);
	assert_int_equal(faccessat(dirfd_, "t.tmp", F_OK, 0), -1);
	/* Settling a writer without a thread changes nothing. */
	assert_int_equal(seal_writer_open(&master, dirfd_, "t.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_settle(w), 0);
	assert_int_equal(seal_writer_write(w, data, 10), 0);
	assert_int_equal(seal_writer_settle(w), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), 0);
	assert_int_equal(seal_writer_settle(w), SK_EINVAL);
	seal_writer_free(w);
	/* Announced after a write: refused. */
	assert_int_equal(seal_writer_open(&master, dirfd_, "t.tmp", 64, &w), 0);
	assert_int_equal(seal_writer_write(w, data, 1), 0);
	assert_int_equal(seal_writer_expect(w, 10), SK_EINVAL);
	/* A sealing thread may still start between two writes. */
	assert_int_equal(seal_writer_async(w, 100), 0);
	assert_int_equal(seal_writer_write(w, data + 1, 199), 0);
	assert_int_equal(seal_writer_finish(w, NULL, 0), 0);
	assert_int_equal(seal_writer_commit(w, dirfd_, dirfd_, "t"), 0);
	seal_writer_free(w);
	assert_int_equal(load("t", &back, &len), 0);
	assert_int_equal(len, 200);
	assert_memory_equal(back, data, 200);
	free(back);
	unlinkat(dirfd_, "t", 0);
	free(data);
}

static void
test_cleanup_and_limits(void **state)
{
	struct seal_writer *w;
	unsigned removed = 0;
	char meta[SEAL_META_MAX + 1];
	int sub, fd;

	(void)state;
	assert_int_equal(mkdirat(dirfd_, "tmp", 0700), 0);
	sub = openat(dirfd_, "tmp", O_RDONLY | O_DIRECTORY);
	fd = openat(sub, "a.tmp", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = openat(sub, "b.tmp", O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(seal_cleanup_dir(sub, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(faccessat(sub, "a.tmp", F_OK, 0), -1);
	close(sub);
	unlinkat(dirfd_, "tmp", AT_REMOVEDIR);
	/* Metadata over the limit is refused; at the limit accepted. */
	memset(meta, 'm', sizeof(meta));
	assert_int_equal(seal_writer_open(&master, dirfd_, "l.tmp", 0, &w), 0);
	assert_int_equal(seal_writer_finish(w, meta, SEAL_META_MAX + 1),
	    SK_EINVAL);
	assert_int_equal(seal_writer_finish(w, meta, SEAL_META_MAX), 0);
	seal_writer_free(w);
	assert_int_equal(seal_writer_open(&master, dirfd_, "l.tmp",
	    (1u << 24) + 1, &w), SK_EINVAL);
	/* A symlinked master key is refused. */
	assert_int_equal(symlinkat("master.key", dirfd_, "link.key"), 0);
	{
		char path[128];
		struct seal_master m2;

		snprintf(path, sizeof(path), "%s/link.key", dir);
		assert_int_not_equal(seal_master_load(path, &m2), 0);
		snprintf(path, sizeof(path), "%s/master.key", dir);
		assert_int_equal(chmod(path, 0640), 0);
		assert_int_equal(seal_master_load(path, &m2), SK_EPERM);
		assert_int_equal(chmod(path, 0600), 0);
	}
	unlinkat(dirfd_, "link.key", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_at_chunk_edges),
		cmocka_unit_test(test_default_chunk_large_object),
		cmocka_unit_test(test_whole_chunk_reads),
		cmocka_unit_test(test_no_plaintext_on_disk),
		cmocka_unit_test(test_every_byte_is_authenticated),
		cmocka_unit_test(test_truncation_and_reordering),
		cmocka_unit_test(test_wrong_master_key),
		cmocka_unit_test(test_dispose_shreds),
		cmocka_unit_test(test_failing_fdatasync_keeps_nothing),
		cmocka_unit_test(test_failing_rename_keeps_nothing),
		cmocka_unit_test(test_commit_never_replaces),
		cmocka_unit_test(test_async_writer),
		cmocka_unit_test(test_streaming_writer),
		cmocka_unit_test(test_cleanup_and_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
