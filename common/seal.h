/*
 * seal.h: sealed storage. Every stored object is encrypted with its own
 * random key (AES-256-GCM in fixed-size chunks) and that key is wrapped by
 * the host's master key.
 *
 * Object file layout (all integers big-endian):
 *
 *   0   magic "SKSEAL\0\1"                       8
 *   8   chunk size in bytes (u32)                 4
 *   12  master key id (first 8 bytes of its SHA-256) 8
 *   20  nonce prefix (random)                     7
 *   27  wrap IV                                  12
 *   39  object key, encrypted under the master key 32
 *   71  wrap tag                                 16
 *   87  zero                                      9
 *   96  chunks: ciphertext (chunk size, the last 0..chunk size) + tag (16)
 *   end metadata ciphertext (L) + tag (16) + L (u32)
 *
 * Chunk i's nonce is prefix || i (u32) || flag, where flag is 1 on the final
 * data chunk and 0 otherwise (2 for the metadata record); the 96-byte header
 * is the associated data of every chunk. Reordered, truncated, extended or
 * altered files fail authentication. Disposal overwrites the header, which
 * destroys the only copy of the wrapped object key, then unlinks the file.
 */
#ifndef SK_SEAL_H
#define SK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32
#define SEAL_HEADER_LEN 96
#define SEAL_CHUNK_DEFAULT 65536
#define SEAL_META_MAX 4096

struct seal_master {
	uint8_t key[SEAL_KEY_LEN];
	uint8_t key_id[8];
};

/* Loads a 32-byte master key file (owner-only, no symlink). */
int seal_master_load(const char *path, struct seal_master *out);

/* Creates a new random master key file with mode 0600; fails if it exists. */
int seal_master_create(const char *path);

/* Wipes the key from memory. */
void seal_master_wipe(struct seal_master *m);

/*
 * What one process hands another so that it can write an object that the
 * first created (privilege separation: the store creates, the net process
 * seals the bytes as they arrive). It holds the object's own key, never the
 * master key: wipe it after use.
 */
struct seal_handoff {
	uint32_t chunk_size;
	uint8_t header[SEAL_HEADER_LEN];
	uint8_t key[SEAL_KEY_LEN];
};

/*
 * Creates the temporary file tmpname in dirfd (O_EXCL, mode 0600), makes a
 * fresh object key, wraps it under m and writes the header. Returns the
 * write descriptor in *fd (the caller's to close) and what a writer needs
 * in *h. chunk_size 0 means SEAL_CHUNK_DEFAULT.
 */
int seal_object_create(const struct seal_master *m, int dirfd,
    const char *tmpname, size_t chunk_size, struct seal_handoff *h, int *fd);

/*
 * Moves a finished temporary file into place without replacing (SK_EEXIST)
 * and fsyncs both folders.
 */
int seal_commit(int tmpdirfd, const char *tmpname, int dstdirfd,
    const char *name);

/*
 * Opens a sealed object and unwraps its key with m: the read descriptor in
 * *fd (the caller's) and the object key in key (wipe it after use).
 * SK_EAUTH if the header was altered or sealed under another master key.
 */
int seal_object_open(const struct seal_master *m, int dirfd, const char *name,
    uint8_t key[SEAL_KEY_LEN], int *fd);

struct seal_writer;

/*
 * Creates the temporary file tmpname in dirfd (O_EXCL, mode 0600) and starts
 * a sealed object there. chunk_size 0 means SEAL_CHUNK_DEFAULT.
 */
int seal_writer_open(const struct seal_master *m, int dirfd,
    const char *tmpname, size_t chunk_size, struct seal_writer **out);

/*
 * A writer on a descriptor from seal_object_create (possibly made in another
 * process). It owns fd on success; on failure fd is still the caller's. It
 * never unlinks anything: the creator removes or commits the file.
 */
int seal_writer_attach(int fd, const struct seal_handoff *h,
    struct seal_writer **out);

/*
 * Moves encryption and writing to a thread of the writer's own, so that the
 * caller's thread only copies into one of three bufsize-byte buffers (memory:
 * 3 * bufsize). May be called before the first write or between two
 * writes (what was written so far is sealed already or waits in the chunk
 * buffer, and the thread goes on from there). Errors of that thread surface
 * from a later seal_writer_write or from seal_writer_finish.
 */
int seal_writer_async(struct seal_writer *w, size_t bufsize);

/*
 * Waits until the sealing thread has sealed and written all that was given
 * to it, then ends the thread: the writer goes on in the caller's thread
 * from the same point (a resumable upload that was cut keeps its writer
 * without a thread, issue 18). The thread's error, if it had one; the
 * writer is spent then. Without a thread, 0 (or the writer's error).
 */
int seal_writer_settle(struct seal_writer *w);

/*
 * Says, before the first write, how many plaintext bytes will come in all.
 * Each chunk is then encrypted and written as its bytes arrive, with no
 * chunk buffer (a slow upload holds no 64 KiB of its own); the file is the
 * same. More than total is SK_ETOOBIG, finishing with less SK_ETRUNCATED.
 */
int seal_writer_expect(struct seal_writer *w, uint64_t total);

/* Encrypts and appends plaintext. SK_ENOSPACE when the disk is full. */
int seal_writer_write(struct seal_writer *w, const void *buf, size_t len);

/* The same, but once seal_writer_expect was called (and without a sealing
 * thread) buf is encrypted where it is: it holds ciphertext afterwards. */
int seal_writer_write_inplace(struct seal_writer *w, void *buf, size_t len);

/*
 * Writes the final chunk and the sealed metadata record (at most
 * SEAL_META_MAX bytes), then fsyncs the file.
 */
int seal_writer_finish(struct seal_writer *w, const void *meta,
    size_t metalen);

/*
 * Renames the finished temporary file to name in dstdirfd without replacing
 * an existing file, then fsyncs both directories. SK_EEXIST if name exists
 * (the temporary file is left for seal_writer_free to remove).
 */
int seal_writer_commit(struct seal_writer *w, int tmpdirfd, int dstdirfd,
    const char *name);

/* Plaintext bytes written so far. */
uint64_t seal_writer_size(const struct seal_writer *w);

/* Removes the temporary file unless committed, wipes keys, frees. */
void seal_writer_free(struct seal_writer *w);

struct seal_reader;

/* Opens a sealed object and unwraps its key. SK_EAUTH if tampered. */
int seal_reader_open(const struct seal_master *m, int dirfd, const char *name,
    struct seal_reader **out);

/*
 * A reader on a descriptor from seal_object_open with its object key (from
 * another process, say): it owns fd on success; on failure fd is still the
 * caller's. Every chunk is authenticated under key with the file's header,
 * so a header or key that do not belong together fail with SK_EAUTH.
 */
int seal_reader_attach(int fd, const uint8_t key[SEAL_KEY_LEN],
    struct seal_reader **out);

/* The plaintext size, derived from the file size. */
uint64_t seal_reader_size(const struct seal_reader *r);

/* Decrypts the metadata record into buf. */
int seal_reader_meta(struct seal_reader *r, uint8_t *buf, size_t cap,
    size_t *len);

/* Moves the read position to a plaintext offset (<= size). */
int seal_reader_seek(struct seal_reader *r, uint64_t offset);

/*
 * Reads up to cap bytes of plaintext; *got == 0 at the end. Every byte
 * returned has been authenticated; SK_EAUTH on any tampering.
 */
int seal_reader_read(struct seal_reader *r, uint8_t *buf, size_t cap,
    size_t *got);

/*
 * The same without a copy: *p points at up to max authenticated bytes in
 * the reader's own buffer, valid until the next call; *n == 0 at the end.
 */
int seal_reader_peek(struct seal_reader *r, const uint8_t **p, size_t max,
    size_t *n);

void seal_reader_free(struct seal_reader *r);

struct seal_disposal {
	uint64_t file_bytes;	/* size of the file disposed of */
	int key_destroyed;	/* the wrapped key was overwritten and synced */
};

/*
 * Crypto-shreds an object: overwrites its header (the wrapped key) with
 * random bytes, syncs, unlinks it and syncs the directory.
 */
int seal_dispose(int dirfd, const char *name, struct seal_disposal *out);

/* Removes every regular file in dirfd (leftovers of interrupted writes). */
int seal_cleanup_dir(int dirfd, unsigned *removed);

#endif
