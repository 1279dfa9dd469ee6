/*
 * store.c: the receiver's store process (privilege separation, R17).
 *
 * What it does: holds the master key, the key that derives object ids, the
 * audit log and the data folder; answers the net process's requests one at
 * a time (receiver.h lists them): creates each upload's temporary file and
 * hands net that file's descriptor and its own object key, checks the
 * finished file against the receipt it made, records and commits it; lists,
 * opens and hands over pending uploads to the vault, and disposes of them
 * (R13). Every decision is written to the audit log first (R50).
 *
 * What it may touch: its channel to net, the data folder and the audit log.
 *
 * What it must never do: open a socket, or trust net: a request that is
 * malformed, or one that net should never make (an upload its own checks
 * refuse, an audit event that is not net's), ends this process and with it
 * the receiver, which the service manager restarts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "json.h"
#include "jsonr.h"
#include "log.h"
#include "proto.h"
#include "receiver.h"
#include "sk.h"
#include "util.h"

#define PENDING_LIST_MAX 1000	/* receipts in one listing */
#define SWEEP_MS (60 * 1000)	/* pending uploads past their retention */
#define UPLOAD_ID_BYTES 16

struct store_upload {
	uint64_t token;			/* 0: a free slot */
	char tmpname[48];
	const struct config_municipality *muni;
	const struct config_dataset *dataset;
	uint64_t length;
	char replaces[PROTO_ID_MAX];	/* the receipt it corrects, or "" */
	int finished;			/* the receipt below is being sealed */
	char id[PROTO_ID_MAX];
	char sha256_hex[65];
	char receipt[SEAL_META_MAX];
	size_t receipt_len;
	int has_rows;			/* the receipt's count of CSV records */
	uint64_t rows;
};

struct store {
	const struct local_config *local;
	struct site_config *site;
	int chan;
	struct seal_master master;
	uint8_t id_key[32];		/* derives object ids; from the master */
	struct audit_log *audit;
	int objects_fd;			/* data_dir/objects: pending uploads */
	int tmp_fd;			/* data_dir/tmp: writes in progress */
	int handed_fd;			/* data_dir/handed: receipts of what
					 * the vault took (sealed, no data) */
	int status_fd;			/* data_dir/status: what the vault
					 * said became of them (codes only) */
	struct store_upload *uploads;	/* one per upload in flight */
	size_t nuploads;
	uint64_t next_token;
	uint64_t generation;		/* uploads stored since the start */
	uint64_t listed_generation;	/* ... at the last recorded listing */
	struct daemon_crl_watch crl[2];	/* the listeners' CRLs on disk */
	struct daemon_cred_watch cred;	/* the host's pair on disk */
};

/* The events net may record: what it refuses, and what it sent. */
static const char *const net_events[] = {
	"tls.refused", "access.refused", "request.refused", "upload.refused",
	"upload.failed", "upload.truncated", "upload.suspended",
	"upload.resumed", "fetch.refused", "upload.fetched",
	"upload.fetch_broken", "ack.refused", "status.refused",
};

/* A refusal of the store's own: recorded, then answered. */
static void
refuse(struct store *st, uint32_t type, uint32_t status, const char *event,
    const char *actor, const char *object, const char *reason)
{
	char detail[RECEIVER_REASON_MAX + 16];

	snprintf(detail, sizeof(detail), "status=%u %s", status, reason);
	log_warnx("%s: %u: %s", actor, status, reason);
	if (!audit_broken(st->audit))
		daemon_store_audit(st->audit, event, actor, object, 0, 0, NULL, detail);
	proc_reply_status(st->chan, type, status, reason);
}

/* ---- audit entries of net's ---- */

static void
on_audit(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	daemon_store_on_audit(st->chan, st->audit, req, net_events,
	    SK_ARRAY_LEN(net_events));
}

static void
on_audit_state(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	daemon_store_on_audit_state(st->chan, st->audit, req);
}

/* ---- uploads ---- */

static struct store_upload *
upload_find(struct store *st, const struct proc_msg *req, uint64_t token)
{
	size_t i;

	for (i = 0; token != 0 && i < st->nuploads; i++)
		if (st->uploads[i].token == token)
			return &st->uploads[i];
	proc_malformed(req, "an upload token the store never gave");
}

/* The slot is free again; its temporary file goes unless committed. */
static void
upload_drop(struct store *st, struct store_upload *u, int remove_tmp)
{
	if (remove_tmp)
		unlinkat(st->tmp_fd, u->tmpname, 0);
	sk_wipe(u, sizeof(*u));
}

static void
actor_of(const struct store_upload *u, char *out, size_t cap)
{
	snprintf(out, cap, "muni:%s", u->muni->id);
}

/*
 * Space for this upload above the reserve, and above what the uploads in
 * progress still need (R56): each holds its announced length, less what
 * its temporary file already takes on the disk. So uploads that fit
 * together are all taken, and one that would make the others run out of
 * space is refused at once instead of breaking all of them.
 */
static int
disk_has_room(struct store *st, uint64_t length)
{
	uint64_t avail, held = 0, used;
	struct stat sb;
	size_t i;

	if (util_disk_free(st->local->data_dir, &avail) != 0)
		return 0;
	for (i = 0; i < st->nuploads; i++) {
		if (st->uploads[i].token == 0 || st->uploads[i].finished)
			continue;
		used = fstatat(st->tmp_fd, st->uploads[i].tmpname, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
		if (used < st->uploads[i].length)
			held += st->uploads[i].length - used;
	}
	return avail >= st->local->disk_reserve &&
	    avail - st->local->disk_reserve >= held &&
	    avail - st->local->disk_reserve - held >= length;
}

static struct store_upload *
upload_slot(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nuploads; i++)
		if (st->uploads[i].token == 0)
			return &st->uploads[i];
	return NULL;
}

/* The receipt (our own JSON, authenticated by the seal) and the size. */
static int
read_receipt(struct store *st, int dirfd, const char *id, char *out,
    size_t cap, uint64_t *size)
{
	struct seal_reader *rd;
	size_t len = 0;
	int e;

	if ((e = seal_reader_open(&st->master, dirfd, id, &rd)) != 0)
		return e;
	e = seal_reader_meta(rd, (uint8_t *)out, cap - 1, &len);
	if (size != NULL)
		*size = seal_reader_size(rd);
	seal_reader_free(rd);
	if (e != 0)
		return e;
	out[len] = '\0';
	return 0;
}

/*
 * R12: the upload a correction names must be one this municipality made
 * to this dataset, still pending here or handed over to the vault (whose
 * receipt is kept). 1, or 0 with why.
 */
static int
replaceable(struct store *st, const char *id,
    const struct config_municipality *muni, const struct config_dataset *ds,
    char *why, size_t whycap)
{
	char receipt[SEAL_META_MAX];
	struct proto_receipt rc;
	int r;

	r = read_receipt(st, st->objects_fd, id, receipt, sizeof(receipt),
	    NULL);
	if (r == SK_ENOTFOUND || r == SK_ESYS)
		r = read_receipt(st, st->handed_fd, id, receipt,
		    sizeof(receipt), NULL);
	if (r != 0 || proto_receipt_parse(receipt, strlen(receipt), &rc) != 0 ||
	    strcmp(rc.municipality, muni->id) != 0 ||
	    strcmp(rc.dataset, ds->id) != 0) {
		/* The same answer whether it does not exist or is another's. */
		snprintf(why, whycap, PROTO_H_REPLACES " names no earlier "
		    "upload of this municipality to this dataset");
		return 0;
	}
	return 1;
}

static void
on_upload_begin(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char muni_id[CONFIG_ID_MAX], ds_id[CONFIG_ID_MAX], actor[96], rnd[8];
	char hex[17], replaces[PROTO_ID_MAX], why[160];
	const struct config_municipality *muni;
	const struct config_dataset *ds;
	struct seal_handoff h;
	struct store_upload *u;
	struct proc_msg rep;
	uint64_t length;
	int fd, r;

	proc_get_str(req, muni_id, sizeof(muni_id));
	proc_get_str(req, ds_id, sizeof(ds_id));
	proc_get_u64(req, &length);
	proc_get_str(req, replaces, sizeof(replaces));
	proc_expect_end(req);
	/* net has checked all of this: a mismatch means net is not ours. */
	if ((muni = site_find_municipality(st->site, muni_id)) == NULL ||
	    (ds = site_find_dataset(st->site, ds_id)) == NULL ||
	    !site_municipality_allows(muni, ds->id) || length > ds->max_bytes)
		proc_malformed(req, "an upload that net's own checks refuse");
	snprintf(actor, sizeof(actor), "muni:%s", muni->id);
	if (replaces[0] != '\0' && (!sk_hexid_valid(replaces,
	    sizeof(replaces) - 1)))
		proc_malformed(req, "a Sekisho-Replaces net never checked");
	if (replaces[0] != '\0' && !replaceable(st, replaces, muni, ds, why,
	    sizeof(why))) {
		refuse(st, RMSG_UPLOAD_BEGIN, 409, "upload.refused", actor,
		    NULL, why);
		return;
	}
	if (!disk_has_room(st, length)) {
		refuse(st, RMSG_UPLOAD_BEGIN, 507, "upload.refused", actor,
		    NULL, "not enough free disk space above the configured "
		    "reserve");
		return;
	}
	if ((u = upload_slot(st)) == NULL) {
		refuse(st, RMSG_UPLOAD_BEGIN, 503, "upload.refused", actor,
		    NULL, "too many uploads in progress; try again shortly");
		return;
	}
	if (util_random(rnd, sizeof(rnd)) != 0)
		fatalx("no randomness");
	sk_hex((uint8_t *)rnd, sizeof(rnd), hex);
	snprintf(u->tmpname, sizeof(u->tmpname), "up-%s.tmp", hex);
	if ((r = seal_object_create(&st->master, st->tmp_fd, u->tmpname, 0,
	    &h, &fd)) != 0) {
		log_errorx("cannot create %s: %s", u->tmpname, sk_strerror(r));
		sk_wipe(u, sizeof(*u));
		refuse(st, RMSG_UPLOAD_BEGIN, 500, "upload.failed", actor, NULL,
		    "could not start storing");
		return;
	}
	u->token = ++st->next_token;
	u->muni = muni;
	u->dataset = ds;
	u->length = length;
	snprintf(u->replaces, sizeof(u->replaces), "%s", replaces);
	proc_reply_begin(&rep, RMSG_UPLOAD_BEGIN, 0, "");
	proc_put_u64(&rep, u->token);
	proc_put_u32(&rep, h.chunk_size);
	proc_put_fixed(&rep, h.header, sizeof(h.header));
	proc_put_fixed(&rep, h.key, sizeof(h.key));
	sk_wipe(&h, sizeof(h));
	proc_reply_send(st->chan, &rep, fd);
	close(fd);
}

/* A keyed hash of municipality, dataset, file name and content: the same
 * file sent again finds the same object, and nothing the client chose
 * names a file. */
static void
upload_make_id(struct store *st, struct store_upload *u, const char *filename,
    const uint8_t sha256[32])
{
	const char *muni = u->muni->id, *ds = u->dataset->id;
	uint8_t mac[32];
	/* Each name with its terminating NUL, so boundaries are unambiguous. */
	struct iovec parts[4] = {
		{ .iov_base = (void *)(uintptr_t)muni, .iov_len = strlen(muni) + 1 },
		{ .iov_base = (void *)(uintptr_t)ds, .iov_len = strlen(ds) + 1 },
		{ .iov_base = (void *)(uintptr_t)filename,
		  .iov_len = strlen(filename) + 1 },
		{ .iov_base = (void *)(uintptr_t)sha256, .iov_len = 32 },
	};

	if (util_hmac_sha256(st->id_key, sizeof(st->id_key), parts, 4,
	    mac) != 0)
		fatalx("HMAC-SHA-256 failed");
	sk_hex(mac, UPLOAD_ID_BYTES, u->id);
}

static int
upload_make_receipt(struct store_upload *u, const char *filename,
    int has_rows, uint64_t rows)
{
	struct proto_receipt r = { .filename = filename, .size = u->length,
		.has_rows = has_rows, .rows = rows };
	int n;

	if (sk_time_format((int64_t)time(NULL), r.received,
	    sizeof(r.received)) != 0)
		return SK_EINTERNAL;
	snprintf(r.id, sizeof(r.id), "%s", u->id);
	snprintf(r.municipality, sizeof(r.municipality), "%s", u->muni->id);
	snprintf(r.dataset, sizeof(r.dataset), "%s", u->dataset->id);
	snprintf(r.sha256, sizeof(r.sha256), "%s", u->sha256_hex);
	snprintf(r.replaces, sizeof(r.replaces), "%s", u->replaces);
	if ((n = proto_receipt_format(&r, u->receipt, sizeof(u->receipt))) < 0)
		return n;
	u->receipt_len = (size_t)n;
	return 0;
}

static int
object_known(struct store *st, const char *id)
{
	return faccessat(st->objects_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    faccessat(st->handed_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The object exists already: answer 200 with its original receipt. */
static void
upload_repeat(struct store *st, uint32_t type, struct store_upload *u)
{
	char receipt[SEAL_META_MAX], actor[96];
	struct proc_msg rep;
	int r;

	actor_of(u, actor, sizeof(actor));
	/* Pending, or handed over to the vault already (its receipt kept). */
	r = read_receipt(st, st->objects_fd, u->id, receipt, sizeof(receipt),
	    NULL);
	if (r == SK_ENOTFOUND || r == SK_ESYS)
		r = read_receipt(st, st->handed_fd, u->id, receipt,
		    sizeof(receipt), NULL);
	if (r != 0) {
		log_errorx("object %s: stored copy unreadable: %s", u->id,
		    sk_strerror(r));
		refuse(st, type, 500, "upload.failed", actor, u->id,
		    "stored copy unreadable");
	} else if (daemon_store_audit(st->audit, "upload.repeat", actor, u->id, 1, u->length,
	    u->sha256_hex, NULL) != 0)
		proc_reply_status(st->chan, type, 503, "the audit log cannot be written");
	else {
		log_info("object %s: repeated upload (%s, %" PRIu64 " bytes), "
		    "same receipt", u->id, actor, u->length);
		proc_reply_begin(&rep, type, 200, "");
		proc_put_str(&rep, receipt);
		proc_reply_send(st->chan, &rep, -1);
	}
	upload_drop(st, u, 1);
}

static void
on_upload_finish(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char filename[256], actor[96];
	uint8_t sha256[32];
	uint32_t has_rows = 0;
	uint64_t token = 0, rows = 0;
	struct store_upload *u;
	struct proc_msg rep;

	proc_get_u64(req, &token);
	proc_get_str(req, filename, sizeof(filename));
	proc_get_fixed(req, sha256, sizeof(sha256));
	proc_get_u32(req, &has_rows);
	proc_get_u64(req, &rows);
	proc_expect_end(req);
	u = upload_find(st, req, token);
	if (u->finished || !sk_filename_valid(filename))
		proc_malformed(req, "a file name or an upload net never checked");
	sk_hex(sha256, 32, u->sha256_hex);
	upload_make_id(st, u, filename, sha256);
	if (strcmp(u->id, u->replaces) == 0) {
		actor_of(u, actor, sizeof(actor));
		upload_drop(st, u, 1);
		refuse(st, RMSG_UPLOAD_FINISH, 409, "upload.refused", actor,
		    NULL, "a correction must differ from the upload it "
		    "replaces");
		return;
	}
	if (object_known(st, u->id)) {
		upload_repeat(st, RMSG_UPLOAD_FINISH, u);
		return;
	}
	if (upload_make_receipt(u, filename, !u->dataset->envelope &&
	    has_rows, rows) != 0) {
		actor_of(u, actor, sizeof(actor));
		upload_drop(st, u, 1);
		refuse(st, RMSG_UPLOAD_FINISH, 500, "upload.failed", actor, NULL,
		    "could not store");
		return;
	}
	u->finished = 1;
	u->has_rows = !u->dataset->envelope && has_rows;
	u->rows = rows;
	proc_reply_begin(&rep, RMSG_UPLOAD_FINISH, 0, "");
	proc_put_str(&rep, u->receipt);
	proc_reply_send(st->chan, &rep, -1);
}

/* What net sealed is what the store said: its size and its receipt,
 * authenticated under the object key the store made. */
static int
upload_verify(struct store *st, const struct store_upload *u)
{
	struct seal_reader *rd;
	uint8_t meta[SEAL_META_MAX];
	size_t len = 0;
	int e;

	if ((e = seal_reader_open(&st->master, st->tmp_fd, u->tmpname,
	    &rd)) != 0)
		return e;
	if ((e = seal_reader_meta(rd, meta, sizeof(meta), &len)) == 0 &&
	    (seal_reader_size(rd) != u->length || len != u->receipt_len ||
	    memcmp(meta, u->receipt, len) != 0))
		e = SK_EAUTH;
	seal_reader_free(rd);
	return e;
}

/* A correction is stored: the upload it replaces, if the vault has not
 * taken it yet, is disposed of here, on record; else the vault stops or
 * withdraws it when it takes the correction. */
static void
replace_pending(struct store *st, const struct store_upload *u,
    const char *actor)
{
	struct seal_disposal disp = { 0 };
	char detail[160];
	int e;

	if (faccessat(st->objects_fd, u->replaces, F_OK,
	    AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if ((e = seal_dispose(st->objects_fd, u->replaces, &disp)) != 0) {
		log_errorx("object %s: replaced by %s, but cannot be disposed "
		    "of: %s", u->replaces, u->id, sk_strerror(e));
		return;
	}
	snprintf(detail, sizeof(detail), "reason=replaced by=%s "
	    "key_destroyed=%d file_bytes=%" PRIu64, u->id, disp.key_destroyed,
	    disp.file_bytes);
	daemon_store_audit(st->audit, "upload.disposed", actor, u->replaces, 0,
	    0, NULL, detail);
	log_info("object %s: replaced by %s before the vault took it; "
	    "disposed of", u->replaces, u->id);
}

static void
on_upload_commit(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char actor[96], detail[CONFIG_ID_MAX + PROTO_ID_MAX + 48];
	char rows[32] = "";
	struct store_upload *u;
	struct proc_msg rep;
	uint64_t token = 0;
	int r;

	proc_get_u64(req, &token);
	proc_expect_end(req);
	u = upload_find(st, req, token);
	if (!u->finished)
		proc_malformed(req, "a commit before the receipt");
	actor_of(u, actor, sizeof(actor));
	if ((r = upload_verify(st, u)) != 0) {
		log_errorx("%s: the sealed upload does not match its receipt: "
		    "%s", u->tmpname, sk_strerror(r));
		upload_drop(st, u, 1);
		refuse(st, RMSG_UPLOAD_COMMIT, 500, "upload.failed", actor,
		    NULL, "could not store");
		return;
	}
	/* Audit first: a stored object that the log does not know is worse
	 * than a refused upload the client will retry (R50). */
	/* The receipt's record count beside the bytes (issue 16); none for
	 * an envelope, whose rows only the vault sees. */
	if (u->has_rows)
		snprintf(rows, sizeof(rows), " rows=%" PRIu64, u->rows);
	if (u->replaces[0] != '\0')
		snprintf(detail, sizeof(detail), "%s replaces=%s%s",
		    u->dataset->id, u->replaces, rows);
	else
		snprintf(detail, sizeof(detail), "%s%s", u->dataset->id, rows);
	if (daemon_store_audit(st->audit, "upload.stored", actor, u->id, 1, u->length,
	    u->sha256_hex, detail) != 0) {
		upload_drop(st, u, 1);
		proc_reply_status(st->chan, RMSG_UPLOAD_COMMIT, 503,
		    "the audit log cannot be written");
		return;
	}
	/* Not while the same id was handed over: it would come back to the
	 * vault as new. */
	r = faccessat(st->handed_fd, u->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ?
	    SK_EEXIST : seal_commit(st->tmp_fd, u->tmpname, st->objects_fd,
	    u->id);
	if (r == SK_EEXIST) {
		upload_repeat(st, RMSG_UPLOAD_COMMIT, u);
		return;
	}
	if (r != 0) {
		log_errorx("object %s: commit failed: %s", u->id,
		    strerror(errno));
		upload_drop(st, u, faccessat(st->tmp_fd, u->tmpname, F_OK,
		    AT_SYMLINK_NOFOLLOW) == 0);
		refuse(st, RMSG_UPLOAD_COMMIT, 500, "upload.failed", actor,
		    NULL, "could not store");
		return;
	}
	log_info("object %s: stored (%s, dataset %s, %" PRIu64 " bytes, "
	    "sha256 %s)", u->id, actor, u->dataset->id, u->length,
	    u->sha256_hex);
	if (u->replaces[0] != '\0')
		replace_pending(st, u, actor);
	st->generation++;
	proc_reply_begin(&rep, RMSG_UPLOAD_COMMIT, 201, "");
	proc_put_str(&rep, u->receipt);
	proc_reply_send(st->chan, &rep, -1);
	upload_drop(st, u, 0);
}

static void
on_pending_gen(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	struct proc_msg rep;

	proc_expect_end(req);
	proc_reply_begin(&rep, RMSG_PENDING_GEN, 0, "");
	proc_put_u64(&rep, st->generation);
	proc_reply_send(st->chan, &rep, -1);
}

static void
on_upload_abort(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	uint64_t token = 0;

	proc_get_u64(req, &token);
	proc_expect_end(req);
	upload_drop(st, upload_find(st, req, token), 1);
	proc_reply_status(st->chan, RMSG_UPLOAD_ABORT, 0, "");
}

/* ---- the vault's side: pending uploads ---- */

/* Object ids are the receiver's own: lowercase hex. */
static int
id_valid(const char *id)
{
	return sk_hexid_valid(id, 64);
}

/* The digest in a receipt we wrote ourselves (proto.h's codec). */
static int
receipt_sha(const char *receipt, char *out, size_t cap)
{
	struct proto_receipt r;

	if (proto_receipt_parse(receipt, strlen(receipt), &r) != 0)
		return SK_EFORMAT;
	return snprintf(out, cap, "%s", r.sha256) >= (int)cap ? SK_ETOOBIG : 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **dir_ids(int dirfd, size_t *n);

/* The pending ids, sorted; *n of them (the caller frees). */
static char **
pending_ids(struct store *st, size_t *n)
{
	return dir_ids(st->objects_fd, n);
}

/* The object ids in a folder, sorted; *n of them (the caller frees). */
static char **
dir_ids(int dirfd, size_t *n)
{
	char **ids = NULL, **p;
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!id_valid(de->d_name))
			continue;
		if ((p = reallocarray(ids, *n + 1, sizeof(*p))) == NULL)
			break;
		ids = p;
		if ((ids[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(ids, *n, sizeof(*ids), cmp_names);
	return ids;
}

static void
on_pending_list(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char **ids, receipt[SEAL_META_MAX], *buf;
	size_t n = 0, i, o, cap, shown = 0;
	struct proc_msg rep;

	proc_expect_end(req);
	ids = pending_ids(st, &n);
	cap = 256 + (n < PENDING_LIST_MAX ? n : PENDING_LIST_MAX) *
	    (SEAL_META_MAX + 1);
	if ((buf = malloc(cap)) == NULL) {
		proc_reply_status(st->chan, RMSG_PENDING_LIST, 500, "out of memory");
		goto out;
	}
	o = (size_t)snprintf(buf, cap, "{\"pending\":[");
	for (i = 0; i < n && shown < PENDING_LIST_MAX; i++) {
		if (read_receipt(st, st->objects_fd, ids[i], receipt,
		    sizeof(receipt), NULL) != 0)
			continue;	/* gone meanwhile */
		o += (size_t)snprintf(buf + o, cap - o, "%s%s",
		    shown++ ? "," : "", receipt);
	}
	o += (size_t)snprintf(buf + o, cap - o, "],\"more\":%s", i < n ?
	    "true" : "false");
	/* A listing is recorded when it shows something the last recorded
	 * one could not (the vault polls every few seconds: 8,640 empty
	 * listings a day said nothing). */
	if (shown > 0 && st->generation != st->listed_generation) {
		daemon_store_audit(st->audit, "pending.listed", "vault", NULL,
		    1, shown, NULL, NULL);
		st->listed_generation = st->generation;
	}
	/* R47: the chain's head, for the vault to witness. */
	{
		char mac[65];
		uint64_t seq;

		audit_head(st->audit, &seq, mac);
		snprintf(buf + o, cap - o, ",\"head\":{\"seq\":%" PRIu64
		    ",\"mac\":\"%s\"}}", seq, mac);
	}
	proc_reply_begin(&rep, RMSG_PENDING_LIST, 200, "");
	proc_put_str(&rep, buf);
	proc_reply_send(st->chan, &rep, -1);
	free(buf);
out:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/*
 * R20: a pending upload that the vault has not taken within its dataset's
 * retention_days of its receipt is disposed of, on record, like everything
 * else that outlives its purpose. Run every minute.
 */
static void
sweep(void *arg)
{
	struct store *st = arg;
	struct seal_disposal disp;
	const struct config_dataset *ds;
	char **ids, receipt[SEAL_META_MAX], detail[160];
	int64_t now = (int64_t)time(NULL);
	struct proto_receipt rc;
	size_t n = 0, i;
	int e;

	/* Daily: a CRL or the host's certificate near its end. */
	daemon_store_warn_ends(st->crl, 2, &st->cred,
	    st->local->expiry_warn_days);
	if (audit_broken(st->audit))
		return;		/* nothing is disposed of without a record */
	ids = pending_ids(st, &n);
	for (i = 0; i < n; i++) {
		if (read_receipt(st, st->objects_fd, ids[i], receipt,
		    sizeof(receipt), NULL) != 0 ||
		    proto_receipt_parse(receipt, strlen(receipt), &rc) != 0 ||
		    (ds = site_find_dataset(st->site, rc.dataset)) == NULL ||
		    proto_receipt_expired(&rc, ds->retention_days, now) != 1)
			continue;
		memset(&disp, 0, sizeof(disp));
		if ((e = seal_dispose(st->objects_fd, ids[i], &disp)) != 0) {
			log_errorx("object %s: past its retention, but cannot be "
			    "disposed of: %s; trying again", ids[i],
			    sk_strerror(e));
			continue;
		}
		snprintf(detail, sizeof(detail), "reason=expired "
		    "retention_days=%u key_destroyed=%d file_bytes=%" PRIu64,
		    ds->retention_days, disp.key_destroyed, disp.file_bytes);
		daemon_store_audit(st->audit, "upload.disposed", "system",
		    ids[i], 1, rc.size, rc.sha256, detail);
		log_info("object %s: not taken within %u days; disposed of",
		    ids[i], ds->retention_days);
		st->generation++;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static void
on_pending_open(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char id[80], receipt[SEAL_META_MAX], sha[65];
	uint8_t key[SEAL_KEY_LEN];
	struct proc_msg rep;
	uint64_t size = 0;
	int fd;

	proc_get_str(req, id, sizeof(id));
	proc_expect_end(req);
	if (!id_valid(id))
		proc_malformed(req, "an object id net never checked");
	if (read_receipt(st, st->objects_fd, id, receipt, sizeof(receipt),
	    &size) != 0 || receipt_sha(receipt, sha, sizeof(sha)) != 0 ||
	    seal_object_open(&st->master, st->objects_fd, id, key, &fd) != 0) {
		refuse(st, RMSG_PENDING_OPEN, 404, "fetch.refused", "vault", id,
		    "no such pending upload");
		return;
	}
	proc_reply_begin(&rep, RMSG_PENDING_OPEN, 0, "");
	proc_put_u64(&rep, size);
	proc_put_str(&rep, sha);
	proc_put_fixed(&rep, key, sizeof(key));
	sk_wipe(key, sizeof(key));
	proc_reply_send(st->chan, &rep, fd);
	close(fd);
}

/* Keeps the receipt as a sealed object without data in handed/. */
static int
keep_receipt(struct store *st, const char *id, const char *receipt)
{
	struct seal_writer *w;
	char tmp[300];
	int e;

	snprintf(tmp, sizeof(tmp), "handed.%s", id);
	if ((e = seal_writer_open(&st->master, st->tmp_fd, tmp, 0, &w)) != 0)
		return e;
	if ((e = seal_writer_finish(w, receipt, strlen(receipt))) == 0)
		e = seal_writer_commit(w, st->tmp_fd, st->handed_fd, id);
	seal_writer_free(w);
	return e;
}

/* Disposes of the pending copy and records it (R13). */
static int
dispose(struct store *st, const char *id, const char *sha, uint64_t size,
    const char *actor)
{
	struct seal_disposal disp = { 0 };
	char detail[96];
	int e;

	if ((e = seal_dispose(st->objects_fd, id, &disp)) != 0)
		return e;
	snprintf(detail, sizeof(detail), "reason=handed_over key_destroyed=%d "
	    "file_bytes=%" PRIu64, disp.key_destroyed, disp.file_bytes);
	return daemon_store_audit(st->audit, "upload.disposed", actor, id, 1, size, sha,
	    detail);
}

static void
ack_reply(struct store *st, uint32_t status, const char *body)
{
	struct proc_msg rep;

	proc_reply_begin(&rep, RMSG_PENDING_ACK, status, "");
	proc_put_str(&rep, body);
	proc_reply_send(st->chan, &rep, -1);
}

/* Taken already? Then an acknowledgement with the same digest is a retry
 * and gets the same answer. */
static void
ack_again(struct store *st, const char *id, const char *theirs)
{
	char receipt[SEAL_META_MAX], sha[65], body[160];

	if (read_receipt(st, st->handed_fd, id, receipt, sizeof(receipt),
	    NULL) == 0 && receipt_sha(receipt, sha, sizeof(sha)) == 0 &&
	    strcmp(sha, theirs) == 0) {
		snprintf(body, sizeof(body), "{\"id\":\"%s\",\"acknowledged\":"
		    "true,\"again\":true}", id);
		ack_reply(st, 200, body);
	} else
		refuse(st, RMSG_PENDING_ACK, 404, "ack.refused", "vault", id,
		    "no such pending upload");
}

static void
on_pending_ack(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char id[80], theirs[80], receipt[SEAL_META_MAX], sha[65], body[160];
	uint64_t size = 0;
	int e;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, theirs, sizeof(theirs));
	proc_expect_end(req);
	if (!id_valid(id) || strlen(theirs) != 64)
		proc_malformed(req, "an acknowledgement net never checked");
	if (read_receipt(st, st->objects_fd, id, receipt, sizeof(receipt),
	    &size) != 0) {
		ack_again(st, id, theirs);
		return;
	}
	if (receipt_sha(receipt, sha, sizeof(sha)) != 0 ||
	    strcmp(sha, theirs) != 0) {
		refuse(st, RMSG_PENDING_ACK, 409, "ack.refused", "vault", id,
		    "Sekisho-Sha256 differs from the upload's: nothing was "
		    "disposed of");
		return;
	}
	/* The receipt first, then the record, then the copy goes: a crash
	 * in between is finished at the next start (store_recover). */
	if ((e = keep_receipt(st, id, receipt)) != 0 ||
	    (e = daemon_store_audit(st->audit, "upload.handed_over", "vault", id, 1, size,
	    sha, NULL)) != 0 || (e = dispose(st, id, sha, size, "vault")) != 0) {
		log_errorx("object %s: hand-over failed: %s", id,
		    sk_strerror(e));
		refuse(st, RMSG_PENDING_ACK, 500, "ack.failed", "vault", id,
		    "the hand-over could not be completed; retry");
		return;
	}
	log_info("object %s: handed over to the vault and disposed of", id);
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"acknowledged\":true}",
	    id);
	ack_reply(st, 200, body);
}

/* Finishes hand-overs a crash interrupted; returns how many. */
static unsigned
store_recover(struct store *st)
{
	char receipt[SEAL_META_MAX], sha[65];
	struct dirent *de;
	uint64_t size = 0;
	unsigned n = 0;
	DIR *d;
	int fd;

	if ((fd = dup(st->handed_fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!id_valid(de->d_name) || faccessat(st->objects_fd,
		    de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (read_receipt(st, st->objects_fd, de->d_name, receipt,
		    sizeof(receipt), &size) != 0 ||
		    receipt_sha(receipt, sha, sizeof(sha)) != 0)
			sha[0] = '\0';
		if (dispose(st, de->d_name, sha[0] ? sha : NULL, size,
		    "system") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---- the loop ---- */

/* ---- what became of an upload (issue 18) ---- */

/* data_dir/status/ID: one line per report, "state reason line time",
 * every word from the vocabulary or a number. */
static int
status_read(struct store *st, const char *id, char *buf, size_t cap,
    size_t *nlines)
{
	ssize_t n;
	size_t i;
	int fd;

	*nlines = 0;
	buf[0] = '\0';
	if ((fd = openat(st->status_fd, id, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : SK_ESYS;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return SK_ESYS;
	buf[n] = '\0';
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] == '\n')
			(*nlines)++;
	return 0;
}

/* The state of the last line of a status file's text, into out (left as
 * it is for none). */
static void
status_last(const char *buf, char *out, size_t cap)
{
	const char *p;
	size_t k;

	if (buf[0] == '\0')
		return;
	for (p = buf + strlen(buf) - 1; p > buf && p[-1] != '\n'; p--)
		;
	for (k = 0; k + 1 < cap && p[k] != ' ' && p[k] != '\0'; k++)
		out[k] = p[k];
	out[k] = '\0';
}

static void
on_status_put(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char id[80], state[32], reason[32], receipt[SEAL_META_MAX];
	char buf[2048], last[32], line[160], stamp[32], tmp[96], detail[192];
	char gone[2][16];
	struct proto_receipt rc;
	uint64_t lineno = 0;
	int64_t day = 0;
	size_t n, k;
	int fd, ok;

	proc_get_str(req, id, sizeof(id));
	proc_get_str(req, state, sizeof(state));
	proc_get_str(req, reason, sizeof(reason));
	proc_get_u64(req, &lineno);
	proc_get_str(req, gone[0], sizeof(gone[0]));
	proc_get_str(req, gone[1], sizeof(gone[1]));
	proc_expect_end(req);
	if (!id_valid(id) || !proto_status_state(state) ||
	    (reason[0] != '\0' && !proto_status_reason(reason)) ||
	    proto_status_needs_reason(state) != (reason[0] != '\0') ||
	    (gone[0][0] != '\0' && !proto_day(gone[0], &day)) ||
	    (gone[1][0] != '\0' && !proto_day(gone[1], &day)) ||
	    ((gone[0][0] != '\0' || gone[1][0] != '\0') &&
	    strcmp(state, "disposed") != 0))
		proc_malformed(req, "a status net never checked");
	if (!st->site->status_reports) {
		refuse(st, RMSG_STATUS_PUT, 404, "status.refused", "vault", id,
		    "status reports are off at this site");
		return;
	}
	if (read_receipt(st, st->handed_fd, id, receipt, sizeof(receipt),
	    NULL) != 0 || proto_receipt_parse(receipt, strlen(receipt),
	    &rc) != 0) {
		refuse(st, RMSG_STATUS_PUT, 404, "status.refused", "vault", id,
		    "no upload was handed over with this id");
		return;
	}
	/* A line number is one of the upload's lines: no more bits than
	 * that can ride on it. */
	if (lineno > 0 && rc.has_rows && lineno > rc.rows) {
		refuse(st, RMSG_STATUS_PUT, 400, "status.refused", "vault", id,
		    "Sekisho-Line is not a line of this upload");
		return;
	}
	/* A disposal day lies between the receipt's day and today (a day of
	 * clock skew allowed): no more bits than that can ride on it. */
	for (k = 0; k < 2; k++)
		if (gone[k][0] != '\0' && (!proto_day(gone[k], &day) ||
		    strncmp(gone[k], rc.received, 10) < 0 ||
		    day > (int64_t)time(NULL) + 86400)) {
			refuse(st, RMSG_STATUS_PUT, 400, "status.refused",
			    "vault", id, "a disposal day before the receipt "
			    "or after today");
			return;
		}
	if (status_read(st, id, buf, sizeof(buf), &n) != 0) {
		refuse(st, RMSG_STATUS_PUT, 500, "status.refused", "vault", id,
		    "the status cannot be read");
		return;
	}
	/* The same state again is the same report (a retry). */
	last[0] = '\0';
	status_last(buf, last, sizeof(last));
	if (strcmp(last, state) == 0) {
		proc_reply_status(st->chan, RMSG_STATUS_PUT, 200, "");
		return;
	}
	if (n >= PROTO_STATUS_MAX) {
		refuse(st, RMSG_STATUS_PUT, 409, "status.refused", "vault", id,
		    "this upload has all the status reports it may have");
		return;
	}
	if (sk_time_format((int64_t)time(NULL), stamp, sizeof(stamp)) != 0)
		fatalx("the clock cannot be read");
	snprintf(line, sizeof(line), "%s %s %" PRIu64 " %s %s %s\n", state,
	    reason[0] ? reason : "-", lineno, stamp, gone[0][0] ? gone[0] :
	    "-", gone[1][0] ? gone[1] : "-");
	if (strlen(buf) + strlen(line) >= sizeof(buf))
		fatalx("a status file beyond its bound");
	strcat(buf, line);
	snprintf(detail, sizeof(detail), "state=%s reason=%s line=%" PRIu64
	    "%s%s%s%s", state, reason[0] ? reason : "-", lineno,
	    gone[0][0] ? " vault_disposed=" : "", gone[0], gone[1][0] ?
	    " sender_disposed=" : "", gone[1]);
	if (daemon_store_audit(st->audit, "status.recorded", "vault", id, 0, 0,
	    NULL, detail) != 0) {
		proc_reply_status(st->chan, RMSG_STATUS_PUT, 503,
		    "the audit log cannot be written");
		return;
	}
	snprintf(tmp, sizeof(tmp), ".%s.t", id);
	fd = openat(st->status_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd != -1 && util_write_all(fd, buf, strlen(buf)) == 0 &&
	    fsync(fd) == 0;
	if (fd != -1 && close(fd) != 0)
		ok = 0;
	if (!ok || renameat(st->status_fd, tmp, st->status_fd, id) != 0 ||
	    fsync(st->status_fd) != 0) {
		unlinkat(st->status_fd, tmp, 0);
		refuse(st, RMSG_STATUS_PUT, 500, "status.refused", "vault", id,
		    "the status cannot be stored");
		return;
	}
	proc_reply_status(st->chan, RMSG_STATUS_PUT, 200, "");
}

/* Appends one event of the city's answer to the array in arr; hosts, for
 * "disposed", the day each host's copies went ("-": none, or not said). */
static void
status_event(char *arr, size_t cap, const char *state, const char *reason,
    uint64_t line, const char *at, const char *const hosts[3])
{
	static const char *const names[3] = { "receiver", "vault", "sender" };
	char ev[384], h[160];
	struct json j, jh;
	size_t o = strlen(arr), k;

	json_begin(&j, ev, sizeof(ev));
	json_str(&j, "state", state);
	if (reason != NULL && strcmp(reason, "-") != 0)
		json_str(&j, "reason", reason);
	if (line > 0)
		json_u64(&j, "line", line);
	if (at != NULL)
		json_str(&j, "at", at);
	if (hosts != NULL) {
		json_begin(&jh, h, sizeof(h));
		for (k = 0; k < 3; k++)
			if (hosts[k] != NULL && strcmp(hosts[k], "-") != 0)
				json_str(&jh, names[k], hosts[k]);
		if (json_end(&jh) > 0)
			json_raw(&j, "disposed", h);
	}
	if (json_end(&j) > 0)
		snprintf(arr + o, cap - o, "%s%s", o > 1 ? "," : "", ev);
}

static void
on_status_get(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char muni[CONFIG_ID_MAX], id[80], receipt[SEAL_META_MAX], buf[2048];
	char body[8192], arr[4096], stamp[32], w[6][40], *save = NULL, *ln;
	char handed_day[16];
	struct proto_receipt rc;
	struct proc_msg rep;
	struct stat sb;
	struct json j;
	size_t n;
	int pending, r;

	proc_get_str(req, muni, sizeof(muni));
	proc_get_str(req, id, sizeof(id));
	proc_expect_end(req);
	if (!st->site->status_reports) {
		proc_reply_status(st->chan, RMSG_STATUS_GET, 404, "status "
		    "reports are off at this site");
		return;
	}
	pending = read_receipt(st, st->objects_fd, id, receipt,
	    sizeof(receipt), NULL) == 0;
	r = pending ? 0 : read_receipt(st, st->handed_fd, id, receipt,
	    sizeof(receipt), NULL);
	/* Another city's upload is answered like one that is not there. */
	if (!id_valid(id) || r != 0 || proto_receipt_parse(receipt,
	    strlen(receipt), &rc) != 0 || strcmp(rc.municipality, muni) != 0) {
		proc_reply_status(st->chan, RMSG_STATUS_GET, 404, "no upload "
		    "of this municipality has this id");
		return;
	}
	snprintf(arr, sizeof(arr), "[");
	status_event(arr, sizeof(arr) - 1, "received", NULL, 0, rc.received,
	    NULL);
	if (!pending) {
		stamp[0] = '\0';
		if (fstatat(st->handed_fd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			sk_time_format((int64_t)sb.st_mtime, stamp,
			    sizeof(stamp));
		status_event(arr, sizeof(arr) - 1, "handed_over", NULL, 0,
		    stamp[0] ? stamp : NULL, NULL);
		/* The receiver's copy went at the hand-over (its day). */
		snprintf(handed_day, sizeof(handed_day), "%.10s",
		    stamp[0] ? stamp : "-");
		if (status_read(st, id, buf, sizeof(buf), &n) == 0)
			for (ln = strtok_r(buf, "\n", &save); ln != NULL;
			    ln = strtok_r(NULL, "\n", &save)) {
				const char *hosts[3] = { handed_day, w[4], w[5] };
				int got;

				strcpy(w[4], "-");
				strcpy(w[5], "-");
				got = sscanf(ln, "%39s %39s %39s %39s %39s %39s",
				    w[0], w[1], w[2], w[3], w[4], w[5]);
				if (got == 4 || got == 6)
					status_event(arr, sizeof(arr) - 1, w[0],
					    w[1], strtoull(w[2], NULL, 10), w[3],
					    strcmp(w[0], "disposed") == 0 ?
					    hosts : NULL);
			}
	}
	strcat(arr, "]");
	json_begin(&j, body, sizeof(body));
	json_raw(&j, "receipt", receipt);
	json_raw(&j, "status", arr);
	if (json_end(&j) < 0) {
		proc_reply_status(st->chan, RMSG_STATUS_GET, 500, "the status "
		    "does not fit");
		return;
	}
	proc_reply_begin(&rep, RMSG_STATUS_GET, 200, "");
	proc_put_str(&rep, body);
	proc_reply_send(st->chan, &rep, -1);
}

#define STATUS_LIST_MAX 500	/* uploads in one answer */

/* GET /v1/uploads?since=DAY for the city: its uploads received since
 * then, pending and handed over, each with its last state. */
static void
on_status_list(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char muni[CONFIG_ID_MAX], since[32], receipt[SEAL_META_MAX], ev[320];
	char state[16], buf[2048], **ids;
	struct proto_receipt rc;
	struct proc_msg rep;
	struct json j;
	size_t n, i, k, o, cap, count = 0;
	int pass, dirfd, more = 0;
	char *out;

	proc_get_str(req, muni, sizeof(muni));
	proc_get_str(req, since, sizeof(since));
	proc_expect_end(req);
	if (!st->site->status_reports) {
		proc_reply_status(st->chan, RMSG_STATUS_LIST, 404, "status "
		    "reports are off at this site");
		return;
	}
	cap = 64 + STATUS_LIST_MAX * sizeof(ev);
	if ((out = malloc(cap)) == NULL) {
		proc_reply_status(st->chan, RMSG_STATUS_LIST, 500,
		    "out of memory");
		return;
	}
	o = (size_t)snprintf(out, cap, "{\"uploads\":[");
	for (pass = 0; pass < 2; pass++) {
		dirfd = pass == 0 ? st->objects_fd : st->handed_fd;
		ids = dir_ids(dirfd, &n);
		for (i = 0; i < n; i++) {
			if (count < STATUS_LIST_MAX &&
			    read_receipt(st, dirfd, ids[i], receipt,
			    sizeof(receipt), NULL) == 0 &&
			    proto_receipt_parse(receipt, strlen(receipt),
			    &rc) == 0 && strcmp(rc.municipality, muni) == 0 &&
			    strcmp(rc.received, since) >= 0) {
				snprintf(state, sizeof(state), "%s", pass == 0 ?
				    "received" : "handed_over");
				if (pass == 1 && status_read(st, ids[i], buf,
				    sizeof(buf), &k) == 0)
					status_last(buf, state, sizeof(state));
				json_begin(&j, ev, sizeof(ev));
				json_str(&j, "id", rc.id);
				json_str(&j, "dataset", rc.dataset);
				json_u64(&j, "size", rc.size);
				json_str(&j, "received", rc.received);
				json_str(&j, "state", state);
				if (json_end(&j) > 0) {
					o += (size_t)snprintf(out + o, cap - o,
					    "%s%s", count ? "," : "", ev);
					count++;
				}
			} else if (count >= STATUS_LIST_MAX)
				more = 1;
			free(ids[i]);
		}
		free(ids);
	}
	snprintf(out + o, cap - o, "],\"more\":%s}", more ? "true" : "false");
	proc_reply_begin(&rep, RMSG_STATUS_LIST, 200, "");
	proc_put_str(&rep, out);
	proc_reply_send(st->chan, &rep, -1);
	free(out);
}

/* ---- the uploads as WebDAV shows them (issue 18, item 7) ---- */

struct dav_entry {
	char filename[256];
	char id[PROTO_ID_MAX];
	uint64_t size;
	char received[32];
	char state[16];
};

static int
cmp_dav_newest(const void *a, const void *b)
{
	const struct dav_entry *x = a, *y = b;
	int c = strcmp(y->received, x->received);

	return c != 0 ? c : strcmp(x->filename, y->filename);
}

/* The receipt of id in dirfd as an entry, if it is muni's to dataset (and
 * named name, unless that is ""); 0 when it is. */
static int
dav_entry_of(struct store *st, int dirfd, const char *id, const char *muni,
    const char *dataset, const char *name, struct dav_entry *e)
{
	char receipt[SEAL_META_MAX], buf[2048];
	struct proto_receipt rc;
	struct jsonr doc;
	size_t k;

	if (read_receipt(st, dirfd, id, receipt, sizeof(receipt), NULL) != 0 ||
	    proto_receipt_parse(receipt, strlen(receipt), &rc) != 0 ||
	    strcmp(rc.municipality, muni) != 0 ||
	    strcmp(rc.dataset, dataset) != 0)
		return -1;
	doc.p = receipt;
	doc.n = strlen(receipt);
	if (jsonr_get_string(doc, "filename", e->filename,
	    sizeof(e->filename)) != 0 ||
	    (name[0] != '\0' && strcmp(e->filename, name) != 0))
		return -1;
	snprintf(e->id, sizeof(e->id), "%s", rc.id);
	e->size = rc.size;
	snprintf(e->received, sizeof(e->received), "%s", rc.received);
	snprintf(e->state, sizeof(e->state), "%s", dirfd == st->objects_fd ?
	    "received" : "handed_over");
	/* What the vault reported, where the site lets it report. */
	if (dirfd == st->handed_fd && st->site->status_reports &&
	    status_read(st, id, buf, sizeof(buf), &k) == 0)
		status_last(buf, e->state, sizeof(e->state));
	return 0;
}

/* A city's uploads to a dataset as PROPFIND lists them: the latest of each
 * file name, newest first, at most DAV_LIST_MAX. */
static void
on_dav_list(void *arg, struct proc_msg *req)
{
	struct store *st = arg;
	char muni[CONFIG_ID_MAX], dataset[CONFIG_ID_MAX], name[256], **ids;
	struct dav_entry *list = NULL, *p, e;
	struct proc_msg rep;
	size_t n, i, k, count = 0, cap = 0;
	int pass, dirfd;

	proc_get_str(req, muni, sizeof(muni));
	proc_get_str(req, dataset, sizeof(dataset));
	proc_get_str(req, name, sizeof(name));
	proc_expect_end(req);
	for (pass = 0; pass < 2; pass++) {
		dirfd = pass == 0 ? st->objects_fd : st->handed_fd;
		ids = dir_ids(dirfd, &n);
		for (i = 0; i < n; free(ids[i]), i++) {
			if (dav_entry_of(st, dirfd, ids[i], muni, dataset, name,
			    &e) != 0)
				continue;
			for (k = 0; k < count; k++)
				if (strcmp(list[k].filename, e.filename) == 0)
					break;
			if (k < count) {	/* the same name: the newer */
				if (strcmp(e.received, list[k].received) > 0)
					list[k] = e;
				continue;
			}
			if (count == cap) {
				cap = cap ? cap * 2 : 64;
				if ((p = reallocarray(list, cap,
				    sizeof(*list))) == NULL) {
					cap = count;
					continue;
				}
				list = p;
			}
			list[count++] = e;
		}
		free(ids);
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_dav_newest);
	if (count > DAV_LIST_MAX)
		count = DAV_LIST_MAX;
	proc_reply_begin(&rep, RMSG_DAV_LIST, 200, "");
	proc_put_u32(&rep, (uint32_t)count);
	for (i = 0; i < count; i++) {
		proc_put_str(&rep, list[i].filename);
		proc_put_str(&rep, list[i].id);
		proc_put_u64(&rep, list[i].size);
		proc_put_str(&rep, list[i].received);
		proc_put_str(&rep, list[i].state);
	}
	proc_reply_send(st->chan, &rep, -1);
	free(list);
}

static void
on_crl(void *arg, struct proc_msg *req)
{
	struct store *st = arg;

	daemon_store_on_crl(st->chan, st->audit, st->crl, 2, req);
	daemon_store_warn_ends(st->crl, 2, &st->cred,
	    st->local->expiry_warn_days);
}

static void
on_cred(void *arg, struct proc_msg *req)
{
	struct store *st = arg;

	daemon_store_on_cred(st->chan, st->audit, &st->cred, req);
	daemon_store_warn_ends(st->crl, 2, &st->cred,
	    st->local->expiry_warn_days);
}

static const struct daemon_handler handlers[] = {
	{ DAEMON_MSG_CRL, on_crl },
	{ DAEMON_MSG_CRED, on_cred },
	{ RMSG_STATUS_PUT, on_status_put },
	{ RMSG_STATUS_GET, on_status_get },
	{ RMSG_STATUS_LIST, on_status_list },
	{ RMSG_DAV_LIST, on_dav_list },
	{ RMSG_AUDIT, on_audit },
	{ RMSG_AUDIT_STATE, on_audit_state },
	{ RMSG_UPLOAD_BEGIN, on_upload_begin },
	{ RMSG_UPLOAD_FINISH, on_upload_finish },
	{ RMSG_UPLOAD_COMMIT, on_upload_commit },
	{ RMSG_UPLOAD_ABORT, on_upload_abort },
	{ RMSG_PENDING_LIST, on_pending_list },
	{ RMSG_PENDING_OPEN, on_pending_open },
	{ RMSG_PENDING_ACK, on_pending_ack },
	{ RMSG_PENDING_GEN, on_pending_gen },
};

static void
store_open(struct store *st)
{
	static const char label[] = "sekisho-receiver-object-id";
	struct iovec part = { .iov_base = (void *)(uintptr_t)label,
		.iov_len = sizeof(label) - 1 };
	unsigned removed = 0;

	daemon_open_storage("sekisho-receiver", RECEIVER_VERSION, st->local,
	    st->site, &st->master, &st->tmp_fd, &removed, &st->audit);
	if (util_hmac_sha256(st->master.key, SEAL_KEY_LEN, &part, 1,
	    st->id_key) != 0)
		fatalx("cannot derive the object id key");
	st->objects_fd = daemon_open_dir(st->local->data_dir, "objects");
	st->handed_fd = daemon_open_dir(st->local->data_dir, "handed");
	st->status_fd = daemon_open_dir(st->local->data_dir, "status");
	if ((removed = store_recover(st)) > 0)
		log_info("%u interrupted hand-over(s) finished", removed);
	/* Every upload in flight has a slot, and so has every cut one kept
	 * for resuming; more are refused with 503. */
	st->nuploads = st->local->max_connections +
	    st->local->resume_uploads + 8;
	if ((st->uploads = calloc(st->nuploads, sizeof(*st->uploads))) == NULL)
		fatalx("out of memory");
}

int
store_main(const struct local_config *local, struct site_config *site,
    int chan)
{
	static struct store st;
	struct sandbox_layers layers = { 0 };
	struct audit_event ev = { .event = "receiver.stop", .actor = "system" };
	size_t i;

	st.local = local;
	st.site = site;
	st.chan = chan;
	daemon_store_begin(local, &layers);
	store_open(&st);
	st.listed_generation = UINT64_MAX;	/* the first is recorded */
	daemon_crl_watch_init(&st.crl[0], "external",
	    site->receiver.external.ca_file, site->receiver.external.crl_file);
	daemon_crl_watch_init(&st.crl[1], "internal",
	    site->receiver.internal.ca_file, site->receiver.internal.crl_file);
	daemon_cred_watch_init(&st.cred, local->certificate, local->key,
	    site->receiver.internal.ca_file);
	daemon_sandbox(local, site, SANDBOX_STORE, &layers);
	sweep(&st);
	daemon_store_serve(st.chan, handlers, SK_ARRAY_LEN(handlers), &st,
	    SWEEP_MS, sweep);
	for (i = 0; i < st.nuploads; i++)
		if (st.uploads[i].token != 0)
			upload_drop(&st, &st.uploads[i], 1);
	audit_append(st.audit, &ev);
	audit_close(st.audit);
	seal_master_wipe(&st.master);
	sk_wipe(st.id_key, sizeof(st.id_key));
	daemon_cred_watch_free(&st.cred);
	free(st.uploads);
	log_info("stopped");
	return 0;
}
