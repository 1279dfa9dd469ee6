/*
 * seal.c: chunked AES-256-GCM objects with per-object keys (see seal.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "seal.h"
#include "sk.h"
#include "util.h"

#define SEAL_MAGIC "SKSEAL\0\1"
#define SEAL_TAG_LEN 16
#define SEAL_CHUNK_MAX (1u << 24)
#define SEAL_FLAG_MIDDLE 0
#define SEAL_FLAG_FINAL 1
#define SEAL_FLAG_META 2
#define SEAL_WRITEBACK_BYTES (8u << 20)	/* start writeback every 8 MiB */

/* Buffers handed from the producer to the sealing thread (see
 * seal_writer_async). The producer fills slot (tail + count) % N. */
#define SEAL_ASYNC_BUFS 3
struct seal_async {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *buf[SEAL_ASYNC_BUFS];
	size_t len[SEAL_ASYNC_BUFS];
	size_t bufsize;
	unsigned tail, count;
	int done;		/* no more buffers will come */
	int error;		/* first error of the sealing thread */
};

struct seal_writer {
	struct seal_async *async;
	int fd;
	int tmpdirfd;
	char tmpname[256];
	int committed;
	int finished;
	int failed;		/* a chunk could not be sealed or written:
				 * its buffer is spent, nothing more goes */
	size_t chunk_size;
	uint8_t header[SEAL_HEADER_LEN];
	uint8_t key[SEAL_KEY_LEN];
	uint32_t index;
	uint8_t *plain;		/* one chunk of plaintext being collected,
				 * sealed in place: chunk_size + tag */
	size_t plain_len;
	uint8_t *cipher;	/* chunk_size + tag, for whole chunks sealed
				 * straight from the caller's data; made at
				 * the first such chunk */
	int streaming;		/* the length is known: see seal_writer_expect */
	uint64_t expect;	/* plaintext bytes in all, when streaming */
	uint64_t streamed;	/* of them encrypted and written */
	size_t chunk_left;	/* bytes still to come in the open chunk */
	int chunk_open;
	uint64_t size;
	uint64_t file_off;
	uint64_t synced_off;
	EVP_CIPHER_CTX *ctx;
};

struct seal_reader {
	int fd;
	size_t chunk_size;
	uint8_t header[SEAL_HEADER_LEN];
	uint8_t key[SEAL_KEY_LEN];
	uint64_t data_len;	/* bytes of chunk records */
	uint64_t nchunks;
	uint64_t size;		/* plaintext bytes */
	uint32_t meta_len;
	uint64_t pos;		/* plaintext read position */
	uint8_t *plain;		/* the decrypted current chunk */
	uint8_t *cipher;
	uint64_t cur_chunk;	/* index held in plain, or UINT64_MAX */
	size_t cur_len;
	EVP_CIPHER_CTX *ctx;
};

/* AES-256-GCM in one call; used for chunks, metadata and key wrapping. */
static int
gcm(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t iv[12],
    const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[SEAL_TAG_LEN])
{
	int n;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return SK_EINVAL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1)
		return SK_ECRYPTO;
	if (aadlen > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return SK_ECRYPTO;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		return SK_ECRYPTO;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
	    tag) != 1)
		return SK_ECRYPTO;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
		return enc ? SK_ECRYPTO : SK_EAUTH;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	    tag) != 1)
		return SK_ECRYPTO;
	return 0;
}

static void
chunk_nonce(const uint8_t *header, uint32_t index, uint8_t flag,
    uint8_t nonce[12])
{
	memcpy(nonce, header + 20, 7);
	sk_put_be32(nonce + 7, index);
	nonce[11] = flag;
}

int
seal_master_load(const char *path, struct seal_master *out)
{
	uint8_t md[32];
	unsigned mdlen = 0;
	int r;

	if ((r = util_read_secret(path, out->key, SEAL_KEY_LEN)) != 0)
		return r;
	if (!EVP_Digest(out->key, SEAL_KEY_LEN, md, &mdlen, EVP_sha256(),
	    NULL)) {
		seal_master_wipe(out);
		return SK_ECRYPTO;
	}
	memcpy(out->key_id, md, sizeof(out->key_id));
	return 0;
}

int
seal_master_create(const char *path)
{
	uint8_t key[SEAL_KEY_LEN];
	int fd, r;

	if ((r = util_random(key, sizeof(key))) != 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		sk_wipe(key, sizeof(key));
		return errno == EEXIST ? SK_EEXIST : SK_ESYS;
	}
	r = util_write_all(fd, key, sizeof(key));
	sk_wipe(key, sizeof(key));
	if (r == 0 && fsync(fd) == -1)
		r = SK_ESYS;
	close(fd);
	if (r != 0)
		unlink(path);
	return r;
}

void
seal_master_wipe(struct seal_master *m)
{
	sk_wipe(m, sizeof(*m));
}

/* A fresh object key and the header that carries it, wrapped under m. */
static int
make_header(const struct seal_master *m, size_t chunk_size,
    struct seal_handoff *h)
{
	uint8_t iv[12], tag[SEAL_TAG_LEN];
	EVP_CIPHER_CTX *ctx;
	int r;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SK_ENOMEM;
	memset(h, 0, sizeof(*h));
	h->chunk_size = (uint32_t)chunk_size;
	memcpy(h->header, SEAL_MAGIC, 8);
	sk_put_be32(h->header + 8, (uint32_t)chunk_size);
	memcpy(h->header + 12, m->key_id, 8);
	if ((r = util_random(h->header + 20, 7)) != 0 ||
	    (r = util_random(h->key, sizeof(h->key))) != 0 ||
	    (r = util_random(iv, sizeof(iv))) != 0)
		goto out;
	memcpy(h->header + 27, iv, sizeof(iv));
	/* The wrap is bound to the header fields before it. */
	if ((r = gcm(ctx, 1, m->key, iv, h->header, 27, h->key, SEAL_KEY_LEN,
	    h->header + 39, tag)) != 0)
		goto out;
	memcpy(h->header + 71, tag, sizeof(tag));
out:
	EVP_CIPHER_CTX_free(ctx);
	if (r != 0)
		sk_wipe(h, sizeof(*h));
	return r;
}

/* The chunk size a header declares, checked. */
static int
header_chunk_size(const uint8_t *header, size_t *out)
{
	uint32_t cs;

	if (memcmp(header, SEAL_MAGIC, 8) != 0)
		return SK_EFORMAT;
	cs = sk_get_be32(header + 8);
	if (cs == 0 || cs > SEAL_CHUNK_MAX)
		return SK_EFORMAT;
	*out = cs;
	return 0;
}

int
seal_object_create(const struct seal_master *m, int dirfd,
    const char *tmpname, size_t chunk_size, struct seal_handoff *h, int *fd)
{
	int r, f;

	if (chunk_size == 0)
		chunk_size = SEAL_CHUNK_DEFAULT;
	if (chunk_size > SEAL_CHUNK_MAX || strlen(tmpname) >= 256)
		return SK_EINVAL;
	if ((r = make_header(m, chunk_size, h)) != 0)
		return r;
	f = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (f == -1) {
		sk_wipe(h, sizeof(*h));
		return errno == EEXIST ? SK_EEXIST : SK_ESYS;
	}
	if ((r = util_write_all(f, h->header, sizeof(h->header))) != 0) {
		close(f);
		unlinkat(dirfd, tmpname, 0);
		sk_wipe(h, sizeof(*h));
		return r;
	}
	*fd = f;
	return 0;
}

int
seal_writer_attach(int fd, const struct seal_handoff *h,
    struct seal_writer **out)
{
	struct seal_writer *w;
	size_t cs;
	int r;

	if ((r = header_chunk_size(h->header, &cs)) != 0)
		return r;
	if (cs != h->chunk_size)
		return SK_EFORMAT;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SK_ENOMEM;
	w->fd = -1;
	w->tmpdirfd = -1;
	w->chunk_size = cs;
	if ((w->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		seal_writer_free(w);
		return SK_ENOMEM;
	}
	memcpy(w->header, h->header, sizeof(w->header));
	memcpy(w->key, h->key, sizeof(w->key));
	w->fd = fd;
	w->file_off = sizeof(w->header);
	*out = w;
	return 0;
}

int
seal_writer_open(const struct seal_master *m, int dirfd, const char *tmpname,
    size_t chunk_size, struct seal_writer **out)
{
	struct seal_handoff h;
	struct seal_writer *w;
	int r, fd;

	if ((r = seal_object_create(m, dirfd, tmpname, chunk_size, &h,
	    &fd)) != 0)
		return r;
	r = seal_writer_attach(fd, &h, &w);
	sk_wipe(&h, sizeof(h));
	if (r != 0) {
		close(fd);
		unlinkat(dirfd, tmpname, 0);
		return r;
	}
	w->tmpdirfd = dirfd;
	snprintf(w->tmpname, sizeof(w->tmpname), "%s", tmpname);
	*out = w;
	return 0;
}

/* Dirty pages keep flowing to the disk, so that the final fsync is short. */
static void
writer_wrote(struct seal_writer *w, size_t n)
{
	w->file_off += n;
	if (w->file_off - w->synced_off >= SEAL_WRITEBACK_BYTES) {
		sync_file_range(w->fd, (off_t)w->synced_off,
		    (off_t)(w->file_off - w->synced_off), SYNC_FILE_RANGE_WRITE);
		w->synced_off = w->file_off;
	}
}

/* Seals one chunk of plaintext from src (the chunk buffer, sealed in
 * place, or the caller's data when a whole chunk is available there) and
 * writes it. */
static int
writer_seal_chunk(struct seal_writer *w, const uint8_t *src, size_t len,
    uint8_t flag)
{
	uint8_t nonce[12], *out = w->plain;
	int r;

	if (w->index == UINT32_MAX)
		return SK_ETOOBIG;
	if (src != w->plain) {
		if (w->cipher == NULL &&
		    (w->cipher = malloc(w->chunk_size + SEAL_TAG_LEN)) == NULL)
			return SK_ENOMEM;
		out = w->cipher;
	}
	chunk_nonce(w->header, w->index, flag, nonce);
	if ((r = gcm(w->ctx, 1, w->key, nonce, w->header, sizeof(w->header),
	    src, len, out, out + len)) != 0)
		return r;
	if ((r = util_write_all(w->fd, out, len + SEAL_TAG_LEN)) != 0)
		return r;
	w->index++;
	writer_wrote(w, len + SEAL_TAG_LEN);
	return 0;
}

static int
writer_flush_chunk(struct seal_writer *w, uint8_t flag)
{
	int r;

	/* An empty object's one chunk has had no buffer yet. */
	if (w->plain == NULL && (w->plain = malloc(w->chunk_size +
	    SEAL_TAG_LEN)) == NULL)
		return w->failed = SK_ENOMEM;
	r = writer_seal_chunk(w, w->plain, w->plain_len, flag);

	w->plain_len = 0;
	if (r != 0)
		w->failed = r;
	return r;
}

static int
writer_append(struct seal_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;
	int r;

	while (len > 0) {
		/* A full chunk is flushed only once more data follows it, so
		 * the last chunk can carry the final flag. */
		if (w->plain_len == w->chunk_size &&
		    (r = writer_flush_chunk(w, SEAL_FLAG_MIDDLE)) != 0)
			return r;
		/* More than a whole chunk at hand: seal it in place. */
		if (w->plain_len == 0 && len > w->chunk_size) {
			if ((r = writer_seal_chunk(w, p, w->chunk_size,
			    SEAL_FLAG_MIDDLE)) != 0)
				return r;
			p += w->chunk_size;
			len -= w->chunk_size;
			continue;
		}
		if (w->plain == NULL && (w->plain = malloc(w->chunk_size +
		    SEAL_TAG_LEN)) == NULL)
			return SK_ENOMEM;
		n = w->chunk_size - w->plain_len;
		if (n > len)
			n = len;
		memcpy(w->plain + w->plain_len, p, n);
		w->plain_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Streaming: the whole length is known, so each chunk's nonce (which says
 * whether it is the last) is known when its first byte comes, and its bytes
 * are encrypted where they are and written as they arrive. The file is the
 * same as the buffered path makes; no chunk buffer is held.
 */
static int
stream_open(struct seal_writer *w)
{
	uint64_t left = w->expect - w->streamed;
	uint8_t nonce[12];
	int n;

	if (w->index == UINT32_MAX)
		return SK_ETOOBIG;
	chunk_nonce(w->header, w->index, left <= w->chunk_size ?
	    SEAL_FLAG_FINAL : SEAL_FLAG_MIDDLE, nonce);
	if (EVP_EncryptInit_ex(w->ctx, EVP_aes_256_gcm(), NULL, w->key,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(w->ctx, NULL, &n, w->header,
	    (int)sizeof(w->header)) != 1)
		return SK_ECRYPTO;
	w->chunk_left = left < w->chunk_size ? (size_t)left : w->chunk_size;
	w->chunk_open = 1;
	return 0;
}

static int
stream_close(struct seal_writer *w)
{
	uint8_t tag[SEAL_TAG_LEN];
	int n, r;

	if (EVP_EncryptFinal_ex(w->ctx, tag, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(w->ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	    tag) != 1)
		return SK_ECRYPTO;
	if ((r = util_write_all(w->fd, tag, sizeof(tag))) != 0)
		return r;
	w->chunk_open = 0;
	w->index++;
	writer_wrote(w, sizeof(tag));
	return 0;
}

/* Encrypts p in place and writes it; len is within what was expected. */
static int
stream_append(struct seal_writer *w, uint8_t *p, size_t len)
{
	size_t n;
	int r, outl;

	while (len > 0) {
		if (!w->chunk_open && (r = stream_open(w)) != 0)
			return r;
		n = len < w->chunk_left ? len : w->chunk_left;
		if (EVP_EncryptUpdate(w->ctx, p, &outl, p, (int)n) != 1 ||
		    (size_t)outl != n)
			return SK_ECRYPTO;
		if ((r = util_write_all(w->fd, p, n)) != 0)
			return r;
		writer_wrote(w, n);
		w->streamed += n;
		w->chunk_left -= n;
		p += n;
		len -= n;
		if (w->chunk_left == 0 && (r = stream_close(w)) != 0)
			return r;
	}
	return 0;
}

/* Appends on either path; a failure leaves the writer spent. */
static int
writer_put(struct seal_writer *w, uint8_t *p, size_t len)
{
	int r;

	r = w->streaming ? stream_append(w, p, len) : writer_append(w, p, len);
	if (r != 0)
		w->failed = r;
	return r;
}

int
seal_writer_expect(struct seal_writer *w, uint64_t total)
{
	if (w->size != 0 || w->async != NULL || w->finished || w->streaming)
		return SK_EINVAL;
	w->streaming = 1;
	w->expect = total;
	return 0;
}

static void *
async_main(void *arg)
{
	struct seal_writer *w = arg;
	struct seal_async *a = w->async;
	unsigned slot;
	int r, skip;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->count == 0 && !a->done)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->count == 0)
			break;
		slot = a->tail;
		skip = a->error != 0;
		pthread_mutex_unlock(&a->lock);
		/* Not wiped per use: the slot is reused for the same object and
		 * wiped when the writer is freed. */
		r = skip ? 0 : writer_put(w, a->buf[slot], a->len[slot]);
		pthread_mutex_lock(&a->lock);
		if (r != 0 && a->error == 0)
			a->error = r;
		a->tail = (a->tail + 1) % SEAL_ASYNC_BUFS;
		a->count--;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void
async_free(struct seal_async *a)
{
	unsigned i;

	for (i = 0; i < SEAL_ASYNC_BUFS; i++) {
		if (a->buf[i] != NULL)
			sk_wipe(a->buf[i], a->bufsize);
		free(a->buf[i]);
	}
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int
seal_writer_async(struct seal_writer *w, size_t bufsize)
{
	struct seal_async *a;
	unsigned i;

	if (w->async != NULL || w->finished || bufsize == 0)
		return SK_EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SK_ENOMEM;
	a->bufsize = bufsize;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	for (i = 0; i < SEAL_ASYNC_BUFS; i++)
		if ((a->buf[i] = malloc(bufsize)) == NULL) {
			async_free(a);
			return SK_ENOMEM;
		}
	w->async = a;
	if (pthread_create(&a->thread, NULL, async_main, w) != 0) {
		w->async = NULL;
		async_free(a);
		return SK_ESYS;
	}
	return 0;
}

/* Queues the filling slot for the sealing thread; waits for a free one. */
static int
async_queue(struct seal_async *a)
{
	int r;

	pthread_mutex_lock(&a->lock);
	a->count++;
	pthread_cond_broadcast(&a->cond);
	while (a->count == SEAL_ASYNC_BUFS && a->error == 0)
		pthread_cond_wait(&a->cond, &a->lock);
	r = a->error;
	if (r == 0)
		a->len[(a->tail + a->count) % SEAL_ASYNC_BUFS] = 0;
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* Stops the sealing thread after it has sealed what was queued. */
static int
async_stop(struct seal_writer *w)
{
	struct seal_async *a = w->async;
	int r;

	pthread_mutex_lock(&a->lock);
	a->done = 1;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	r = a->error;
	w->async = NULL;
	async_free(a);
	return r;
}

static int
async_write(struct seal_writer *w, const uint8_t *p, size_t len)
{
	struct seal_async *a = w->async;
	unsigned slot;
	size_t n;
	int r;

	while (len > 0) {
		/* Only the producer touches the filling slot's length. */
		slot = (a->tail + a->count) % SEAL_ASYNC_BUFS;
		n = a->bufsize - a->len[slot];
		if (n > len)
			n = len;
		memcpy(a->buf[slot] + a->len[slot], p, n);
		a->len[slot] += n;
		p += n;
		len -= n;
		if (a->len[slot] == a->bufsize && (r = async_queue(a)) != 0)
			return r;
	}
	return 0;
}

/* What a write may do now: 0, or the error it must return. */
static int
write_allowed(const struct seal_writer *w, size_t len)
{
	if (w->finished)
		return SK_EINVAL;
	/* The sealing thread's own failures come through its error. */
	if (w->async == NULL && w->failed)
		return w->failed;
	if (w->streaming && len > w->expect - w->size)
		return SK_ETOOBIG;
	return 0;
}

int
seal_writer_write(struct seal_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t piece[4096];
	size_t n;
	int r;

	if ((r = write_allowed(w, len)) != 0)
		return r;
	/* The size is the caller's count, never the sealing thread's. */
	if (w->async != NULL)
		r = async_write(w, buf, len);
	else if (!w->streaming) {
		if ((r = writer_append(w, buf, len)) != 0)
			w->failed = r;
	} else {
		/* The caller's bytes stay as they are. */
		while (len > 0) {
			n = len < sizeof(piece) ? len : sizeof(piece);
			memcpy(piece, p, n);
			if ((r = writer_put(w, piece, n)) != 0)
				break;
			w->size += n;
			p += n;
			len -= n;
		}
		sk_wipe(piece, sizeof(piece));
		return r;
	}
	if (r == 0)
		w->size += len;
	return r;
}

int
seal_writer_write_inplace(struct seal_writer *w, void *buf, size_t len)
{
	int r;

	if (!w->streaming || w->async != NULL)
		return seal_writer_write(w, buf, len);
	if ((r = write_allowed(w, len)) != 0)
		return r;
	if ((r = writer_put(w, buf, len)) == 0)
		w->size += len;
	return r;
}

/* Queues the partly filled buffer and stops the sealing thread. */
static int
async_drain(struct seal_writer *w)
{
	struct seal_async *a = w->async;
	unsigned slot = (a->tail + a->count) % SEAL_ASYNC_BUFS;
	int r;

	if (a->len[slot] > 0) {
		pthread_mutex_lock(&a->lock);
		a->count++;	/* the last, partly filled buffer */
		pthread_mutex_unlock(&a->lock);
	}
	if ((r = async_stop(w)) != 0 && w->failed == 0)
		w->failed = r;
	return r;
}

int
seal_writer_settle(struct seal_writer *w)
{
	if (w->finished)
		return SK_EINVAL;
	if (w->async != NULL)
		return async_drain(w);
	return w->failed;
}

int
seal_writer_finish(struct seal_writer *w, const void *meta, size_t metalen)
{
	uint8_t nonce[12], *rec;
	size_t reclen;
	int r;

	if (w->finished || metalen > SEAL_META_MAX)
		return SK_EINVAL;
	if (w->async != NULL && (r = async_drain(w)) != 0)
		return r;
	if (w->failed)
		return w->failed;
	if (!w->streaming)
		r = writer_flush_chunk(w, SEAL_FLAG_FINAL);
	else if (w->streamed != w->expect || w->size != w->expect)
		r = SK_ETRUNCATED;
	else if (w->expect == 0)	/* one empty, final chunk */
		r = (r = stream_open(w)) != 0 ? r : stream_close(w);
	else
		r = w->chunk_open ? SK_EINVAL : 0;
	if (r != 0)
		return r;
	reclen = metalen + SEAL_TAG_LEN + 4;
	if ((rec = malloc(reclen)) == NULL)
		return SK_ENOMEM;
	chunk_nonce(w->header, UINT32_MAX, SEAL_FLAG_META, nonce);
	r = gcm(w->ctx, 1, w->key, nonce, w->header, sizeof(w->header), meta,
	    metalen, rec, rec + metalen);
	sk_put_be32(rec + metalen + SEAL_TAG_LEN, (uint32_t)metalen);
	if (r == 0)
		r = util_write_all(w->fd, rec, reclen);
	free(rec);
	if (r == 0 && fdatasync(w->fd) == -1)
		r = errno == ENOSPC ? SK_ENOSPACE : SK_ESYS;
	if (r == 0)
		w->finished = 1;
	return r;
}

int
seal_commit(int tmpdirfd, const char *tmpname, int dstdirfd,
    const char *name)
{
	if (renameat2(tmpdirfd, tmpname, dstdirfd, name,
	    RENAME_NOREPLACE) == -1)
		return errno == EEXIST ? SK_EEXIST : SK_ESYS;
	if (fsync(dstdirfd) == -1 || fsync(tmpdirfd) == -1)
		return SK_ESYS;
	return 0;
}

int
seal_writer_commit(struct seal_writer *w, int tmpdirfd, int dstdirfd,
    const char *name)
{
	int r;

	if (!w->finished || w->committed || w->tmpdirfd == -1)
		return SK_EINVAL;
	r = seal_commit(tmpdirfd, w->tmpname, dstdirfd, name);
	/* Renamed (even if a folder's fsync then failed): not ours to
	 * remove any more. */
	if (r == 0 || (r == SK_ESYS && faccessat(tmpdirfd, w->tmpname, F_OK,
	    AT_SYMLINK_NOFOLLOW) != 0))
		w->committed = 1;
	return r;
}

uint64_t
seal_writer_size(const struct seal_writer *w)
{
	return w->size;
}

void
seal_writer_free(struct seal_writer *w)
{
	if (w == NULL)
		return;
	if (w->async != NULL) {
		pthread_mutex_lock(&w->async->lock);
		w->async->error = SK_EINVAL;	/* discard what is queued */
		pthread_mutex_unlock(&w->async->lock);
		async_stop(w);
	}
	if (w->fd != -1) {
		close(w->fd);
		if (!w->committed && w->tmpdirfd != -1)
			unlinkat(w->tmpdirfd, w->tmpname, 0);
	}
	sk_wipe(w->key, sizeof(w->key));
	if (w->plain != NULL)
		sk_wipe(w->plain, w->chunk_size + SEAL_TAG_LEN);
	free(w->plain);
	free(w->cipher);
	EVP_CIPHER_CTX_free(w->ctx);
	free(w);
}

static int
reader_layout(struct seal_reader *r, uint64_t file_size)
{
	uint8_t lenbuf[4];
	uint64_t rec = r->chunk_size + SEAL_TAG_LEN;
	int e;

	if (file_size < SEAL_HEADER_LEN + SEAL_TAG_LEN + SEAL_TAG_LEN + 4)
		return SK_EAUTH;
	if ((e = util_pread_full(r->fd, lenbuf, 4, file_size - 4)) != 0)
		return e;
	r->meta_len = sk_get_be32(lenbuf);
	if (r->meta_len > SEAL_META_MAX || file_size < SEAL_HEADER_LEN +
	    SEAL_TAG_LEN + (uint64_t)r->meta_len + SEAL_TAG_LEN + 4)
		return SK_EAUTH;
	r->data_len = file_size - SEAL_HEADER_LEN - r->meta_len -
	    SEAL_TAG_LEN - 4;
	r->nchunks = (r->data_len + rec - 1) / rec;
	if (r->nchunks > UINT32_MAX)
		return SK_EAUTH;
	r->size = r->data_len - r->nchunks * SEAL_TAG_LEN;
	return 0;
}

int
seal_object_open(const struct seal_master *m, int dirfd, const char *name,
    uint8_t key[SEAL_KEY_LEN], int *fd)
{
	uint8_t header[SEAL_HEADER_LEN], tag[SEAL_TAG_LEN];
	EVP_CIPHER_CTX *ctx = NULL;
	size_t cs;
	int f, e;

	if ((f = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? SK_ENOTFOUND : SK_ESYS;
	if ((e = util_pread_full(f, header, SEAL_HEADER_LEN, 0)) != 0) {
		e = e == SK_ETRUNCATED ? SK_EAUTH : e;
		goto fail;
	}
	if ((e = header_chunk_size(header, &cs)) != 0)
		goto fail;
	if (memcmp(header + 12, m->key_id, 8) != 0) {
		e = SK_EAUTH;	/* sealed under another master key */
		goto fail;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		e = SK_ENOMEM;
		goto fail;
	}
	memcpy(tag, header + 71, sizeof(tag));
	if ((e = gcm(ctx, 0, m->key, header + 27, header, 27, header + 39,
	    SEAL_KEY_LEN, key, tag)) != 0)
		goto fail;
	EVP_CIPHER_CTX_free(ctx);
	*fd = f;
	return 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	sk_wipe(key, SEAL_KEY_LEN);
	close(f);
	return e;
}

int
seal_reader_attach(int fd, const uint8_t key[SEAL_KEY_LEN],
    struct seal_reader **out)
{
	struct seal_reader *r;
	struct stat st;
	int e;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SK_ENOMEM;
	r->fd = -1;
	r->cur_chunk = UINT64_MAX;
	if ((r->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		e = SK_ENOMEM;
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		e = SK_ESYS;
		goto fail;
	}
	if ((e = util_pread_full(fd, r->header, SEAL_HEADER_LEN, 0)) != 0) {
		e = e == SK_ETRUNCATED ? SK_EAUTH : e;
		goto fail;
	}
	r->fd = fd;
	if ((e = header_chunk_size(r->header, &r->chunk_size)) != 0 ||
	    (e = reader_layout(r, (uint64_t)st.st_size)) != 0)
		goto fail;
	memcpy(r->key, key, SEAL_KEY_LEN);
	if ((r->plain = malloc(r->chunk_size)) == NULL ||
	    (r->cipher = malloc(r->chunk_size + SEAL_TAG_LEN)) == NULL) {
		e = SK_ENOMEM;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	r->fd = -1;		/* the caller still owns fd on failure */
	seal_reader_free(r);
	return e;
}

int
seal_reader_open(const struct seal_master *m, int dirfd, const char *name,
    struct seal_reader **out)
{
	uint8_t key[SEAL_KEY_LEN];
	int fd, e;

	if ((e = seal_object_open(m, dirfd, name, key, &fd)) != 0)
		return e;
	e = seal_reader_attach(fd, key, out);
	sk_wipe(key, sizeof(key));
	if (e != 0)
		close(fd);
	return e;
}

uint64_t
seal_reader_size(const struct seal_reader *r)
{
	return r->size;
}

int
seal_reader_meta(struct seal_reader *r, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t nonce[12], tag[SEAL_TAG_LEN], *ct;
	uint64_t off = SEAL_HEADER_LEN + r->data_len;
	int e;

	if (r->meta_len > cap)
		return SK_ETOOBIG;
	if ((ct = malloc(r->meta_len + (size_t)SEAL_TAG_LEN)) == NULL)
		return SK_ENOMEM;
	if ((e = util_pread_full(r->fd, ct, r->meta_len + SEAL_TAG_LEN,
	    off)) == 0) {
		memcpy(tag, ct + r->meta_len, SEAL_TAG_LEN);
		chunk_nonce(r->header, UINT32_MAX, SEAL_FLAG_META, nonce);
		e = gcm(r->ctx, 0, r->key, nonce, r->header, SEAL_HEADER_LEN, ct,
		    r->meta_len, buf, tag);
	}
	free(ct);
	if (e != 0)
		return e == SK_ETRUNCATED ? SK_EAUTH : e;
	*len = r->meta_len;
	return 0;
}

/*
 * Decrypts and verifies chunk index into out (room for chunk_size bytes),
 * its length in *outlen. On failure out holds nothing: unverified
 * plaintext is wiped.
 */
static int
reader_open_chunk(struct seal_reader *r, uint64_t index, uint8_t *out,
    size_t *outlen)
{
	uint64_t rec = r->chunk_size + SEAL_TAG_LEN;
	uint64_t off = SEAL_HEADER_LEN + index * rec;
	uint8_t nonce[12], tag[SEAL_TAG_LEN];
	size_t clen;
	int e, final = index + 1 == r->nchunks;

	clen = final ? (size_t)(r->data_len - index * rec) : (size_t)rec;
	if (clen < SEAL_TAG_LEN)
		return SK_EAUTH;
	if ((e = util_pread_full(r->fd, r->cipher, clen, off)) != 0)
		return e == SK_ETRUNCATED ? SK_EAUTH : e;
	clen -= SEAL_TAG_LEN;
	memcpy(tag, r->cipher + clen, SEAL_TAG_LEN);
	chunk_nonce(r->header, (uint32_t)index,
	    final ? SEAL_FLAG_FINAL : SEAL_FLAG_MIDDLE, nonce);
	if ((e = gcm(r->ctx, 0, r->key, nonce, r->header, SEAL_HEADER_LEN,
	    r->cipher, clen, out, tag)) != 0) {
		sk_wipe(out, r->chunk_size);
		return e;
	}
	*outlen = clen;
	return 0;
}

static int
reader_load_chunk(struct seal_reader *r, uint64_t index)
{
	size_t len;
	int e;

	if ((e = reader_open_chunk(r, index, r->plain, &len)) != 0) {
		r->cur_chunk = UINT64_MAX;
		return e;
	}
	r->cur_chunk = index;
	r->cur_len = len;
	return 0;
}

int
seal_reader_seek(struct seal_reader *r, uint64_t offset)
{
	if (offset > r->size)
		return SK_EINVAL;
	r->pos = offset;
	return 0;
}

int
seal_reader_read(struct seal_reader *r, uint8_t *buf, size_t cap, size_t *got)
{
	uint64_t index;
	size_t off, n, done = 0;
	int e;

	/* An empty object still has its final chunk, which must verify. */
	if (r->size == 0 && r->cur_chunk == UINT64_MAX &&
	    (e = reader_load_chunk(r, 0)) != 0)
		return e;
	while (done < cap && r->pos < r->size) {
		index = r->pos / r->chunk_size;
		/* A whole chunk the caller has room for goes straight into its
		 * buffer: one copy fewer for a large sequential read. */
		if (index != r->cur_chunk && r->pos % r->chunk_size == 0 &&
		    cap - done >= r->chunk_size) {
			if ((e = reader_open_chunk(r, index, buf + done, &n)) != 0)
				return e;
			done += n;
			r->pos += n;
			continue;
		}
		if (index != r->cur_chunk &&
		    (e = reader_load_chunk(r, index)) != 0)
			return e;
		off = (size_t)(r->pos % r->chunk_size);
		n = r->cur_len - off;
		if (n > cap - done)
			n = cap - done;
		memcpy(buf + done, r->plain + off, n);
		done += n;
		r->pos += n;
	}
	*got = done;
	return 0;
}

int
seal_reader_peek(struct seal_reader *r, const uint8_t **p, size_t max,
    size_t *n)
{
	uint64_t index;
	size_t off;
	int e;

	*n = 0;
	if (r->size == 0 && r->cur_chunk == UINT64_MAX &&
	    (e = reader_load_chunk(r, 0)) != 0)
		return e;
	if (r->pos >= r->size)
		return 0;
	index = r->pos / r->chunk_size;
	if (index != r->cur_chunk && (e = reader_load_chunk(r, index)) != 0)
		return e;
	off = (size_t)(r->pos % r->chunk_size);
	*n = r->cur_len - off < max ? r->cur_len - off : max;
	*p = r->plain + off;
	r->pos += *n;
	return 0;
}

void
seal_reader_free(struct seal_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	sk_wipe(r->key, sizeof(r->key));
	if (r->plain != NULL)
		sk_wipe(r->plain, r->chunk_size);
	free(r->plain);
	free(r->cipher);
	EVP_CIPHER_CTX_free(r->ctx);
	free(r);
}

int
seal_dispose(int dirfd, const char *name, struct seal_disposal *out)
{
	uint8_t noise[SEAL_HEADER_LEN];
	struct stat st;
	int fd, e = 0;

	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? SK_ENOTFOUND : SK_ESYS;
	if (fstat(fd, &st) == -1)
		e = SK_ESYS;
	if (e == 0)
		e = util_random(noise, sizeof(noise));
	if (e == 0 && pwrite(fd, noise, sizeof(noise), 0) !=
	    (ssize_t)sizeof(noise))
		e = SK_ESYS;
	if (e == 0 && fdatasync(fd) == -1)
		e = SK_ESYS;
	close(fd);
	if (e != 0)
		return e;
	if (unlinkat(dirfd, name, 0) == -1 || fsync(dirfd) == -1)
		return SK_ESYS;
	out->file_bytes = (uint64_t)st.st_size;
	out->key_destroyed = 1;
	return 0;
}

int
seal_cleanup_dir(int dirfd, unsigned *removed)
{
	struct dirent *de;
	DIR *d;
	int fd, e = 0;
	unsigned n = 0;

	if ((fd = dup(dirfd)) == -1)
		return SK_ESYS;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return SK_ESYS;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG)
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == -1)
			e = SK_ESYS;
		else
			n++;
	}
	closedir(d);
	if (n > 0 && fsync(dirfd) == -1)
		e = SK_ESYS;
	*removed = n;
	return e;
}
