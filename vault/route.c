/*
 * route.c: where each upload went and what became of every copy, from the
 * three hosts' audit logs: the disposal report a municipality is owed
 * (R45, contractor measures 2-21) and the inspection of what is held now
 * (R25).
 *
 *   disposal-report --municipality CODE [--from DAY] [--to DAY]
 *       [--signed FILE] --logs ...
 *   inspect-data --logs ...
 *
 * Per upload, the copies are: the receiver's sealed copy; the vault's
 * sealed source; the release made from it in the vault and at the sender
 * (anonymized information); the backups written while the source was held
 * (a sealed copy each, until the backup itself is disposed of); and what
 * recipients downloaded, which leaves the appliance and is theirs to
 * dispose of under their contract. A copy's disposal is the log's own
 * record (the key overwritten, key_destroyed=1). Nothing from the data is
 * printed: ids, times, sizes, reasons.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "daemon.h"
#include "envelope.h"
#include "log.h"
#include "logbook.h"
#include "route.h"
#include "sk.h"
#include "util.h"
#include "vaultd.h"

struct copy {
	enum host host;			/* which host holds it (H_OTHER: out) */
	const char *where;		/* Japanese / English */
	int64_t made;
	const struct entry *gone;	/* its disposal, or NULL */
	int outside;			/* left the appliance */
	char note[160];
};

struct route {
	const struct entry *stored;
	struct copy c[16];
	size_t n;
	char release_id[40];
};

static void
copy_add(struct route *r, enum host h, const char *where, int64_t made,
    const struct entry *gone, int outside, const char *note)
{
	if (r->n == SK_ARRAY_LEN(r->c))
		return;
	r->c[r->n].host = h;
	r->c[r->n].where = where;
	r->c[r->n].made = made;
	r->c[r->n].gone = gone;
	r->c[r->n].outside = outside;
	snprintf(r->c[r->n].note, sizeof(r->c[0].note), "%s",
	    note != NULL ? note : "");
	r->n++;
}

/* The copies of one upload, from its receiver's upload.stored. */
static void
route_of(const struct book *b, const struct entry *st, struct route *r)
{
	const struct entry *e, *rcv, *src, *made, *pub, *vrel;
	int64_t src_gone;
	char note[160];
	size_t i;

	memset(r, 0, sizeof(*r));
	r->stored = st;
	copy_add(r, H_RECEIVER, "受信サーバの封かん保存 / receiver's sealed copy", st->t,
	    logbook_find(b, H_RECEIVER, "upload.disposed", st->object), 0,
	    NULL);
	rcv = logbook_find(b, H_VAULT, "job.received", st->object);
	if (rcv == NULL)
		return;
	src = logbook_find_kind(b, H_VAULT, "object.disposed", st->object,
	    "source");
	copy_add(r, H_VAULT, "保管庫の封かん原本 / vault's sealed source", rcv->t, src, 0,
	    NULL);
	src_gone = src != NULL ? src->t : INT64_MAX;
	if ((made = logbook_find(b, H_VAULT, "release.made", st->object)) !=
	    NULL) {
		vrel = logbook_find_kind(b, H_VAULT, "object.disposed",
		    st->object, "release");
		copy_add(r, H_VAULT, "保管庫の匿名加工情報 / vault's release (anonymized)",
		    made->t, vrel, 0, NULL);
	}
	if ((pub = logbook_find(b, H_VAULT, "release.published",
	    st->object)) != NULL &&
	    logbook_detail(pub->detail, "release", r->release_id,
	    sizeof(r->release_id)) == 0) {
		e = logbook_find(b, H_SENDER, "release.published",
		    r->release_id);
		copy_add(r, H_SENDER, "送信サーバの匿名加工情報 / sender's release "
		    "(anonymized)", e != NULL ? e->t : pub->t,
		    logbook_find(b, H_SENDER, "release.disposed",
		    r->release_id), 0, NULL);
		for (i = 0; i < b->n; i++) {
			e = &b->e[i];
			if (e->host != H_SENDER || strcmp(e->object,
			    r->release_id) != 0 ||
			    (strcmp(e->event, "download.completed") != 0 &&
			    strcmp(e->event, "release.delivered") != 0) ||
			    (strcmp(e->event, "download.completed") == 0 &&
			    strstr(e->detail, "complete=1") == NULL))
				continue;
			snprintf(note, sizeof(note), "%s", e->actor);
			copy_add(r, H_OTHER, "提供先への提供 / provided to a recipient "
			    "(anonymized)", e->t, NULL, 1, note);
		}
	}
	/* Backups written while the vault held the source. */
	for (i = 0; i < b->n; i++) {
		e = &b->e[i];
		if (e->host != H_VAULT || strcmp(e->event, "backup.written") !=
		    0 || e->t < rcv->t || e->t > src_gone)
			continue;
		snprintf(note, sizeof(note), "%s", e->object);
		copy_add(r, H_VAULT, "バックアップ内の封かん複製 / sealed copy in a "
		    "backup", e->t, logbook_find(b, H_VAULT, "backup.disposed",
		    e->object), 0, note);
	}
}

static const char *
reason_of(const struct entry *gone, char *buf, size_t cap)
{
	char why[64] = "", kd[8] = "";

	if (gone == NULL)
		return "";
	logbook_detail(gone->detail, "reason", why, sizeof(why));
	logbook_detail(gone->detail, "key_destroyed", kd, sizeof(kd));
	if (strcmp(gone->event, "backup.disposed") == 0)
		snprintf(buf, cap, "backup disposed of (key overwritten)");
	else
		snprintf(buf, cap, "%s%s", why[0] ? why : gone->event,
		    strcmp(kd, "1") == 0 ? ", key overwritten" : "");
	return buf;
}

/* Prints a route; returns how many copies inside the appliance remain. */
static unsigned
route_print(const struct route *r, FILE *fp)
{
	char made[32], gone[32], why[96], ds[CONFIG_ID_MAX];
	unsigned held = 0;
	size_t i;

	logbook_jst(r->stored->t, 1, made, sizeof(made));
	logbook_word(r->stored->detail, ds, sizeof(ds));
	fprintf(fp, "受付 / upload %s  %s  dataset %.64s  %" PRIu64
	    " bytes\n", r->stored->object, made, ds, r->stored->size);
	for (i = 0; i < r->n; i++) {
		logbook_jst(r->c[i].made, 1, made, sizeof(made));
		if (r->c[i].gone != NULL)
			logbook_jst(r->c[i].gone->t, 1, gone, sizeof(gone));
		fprintf(fp, "  - %s\n      from %s; ", r->c[i].where, made);
		if (r->c[i].outside)
			fprintf(fp, "outside the appliance (%s): the "
			    "recipient disposes of it under its contract\n",
			    r->c[i].note);
		else if (r->c[i].gone != NULL)
			fprintf(fp, "廃棄 / disposed of %s (%s)%s%s\n", gone,
			    reason_of(r->c[i].gone, why, sizeof(why)),
			    r->c[i].note[0] ? "; " : "", r->c[i].note);
		else {
			fprintf(fp, "保管中 / HELD%s%s\n", r->c[i].note[0] ?
			    ": " : "", r->c[i].note);
			held++;
		}
	}
	return held;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM", JST. */
static int
parse_when(const char *s, int64_t *out)
{
	char day[11];
	int hh, mm;

	if (strlen(s) == 10)
		return logbook_day(s, out);
	if (strlen(s) != 16 || s[10] != 'T' || sscanf(s + 11, "%2d:%2d", &hh,
	    &mm) != 2 || hh > 23 || mm > 59)
		return SK_EFORMAT;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (logbook_day(day, out) != 0)
		return SK_EFORMAT;
	*out += hh * 3600 + mm * 60;
	return 0;
}

/* `--logs ...` loaded at once (the callers free the book on a wrong call). */
static int
load_logs(struct book *b, int argc, char **argv, int *i)
{
	int first = *i + 1, n = logbook_arg_list(argc, argv, i);

	logbook_load_args(b, argv + first, n);
	return n;
}

/*
 * The report signed by the vault's signing pair, the text inside (CMS,
 * DER): the municipality keeps the file and reads and checks it with
 * `openssl cms -verify -inform DER -in FILE -CAfile internal-ca.crt`.
 * Written to a new file (an existing one is not replaced).
 */
static void
write_signed(struct vault *v, const char *path, const char *text, size_t len)
{
	uint8_t *der = NULL;
	size_t dlen = 0;
	int fd, e;

	vault_load_signing(v);
	if (v->sign_key == NULL)
		fatalx("%s: no signing: { certificate; key; }: the report cannot "
		    "be signed", v->local.file);
	if ((e = envelope_sign(text, len, v->sign_cert, v->sign_key, 0, &der,
	    &dlen)) != 0)
		fatalx("the report cannot be signed: %s", sk_strerror(e));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		fatalx("%s: %s (the signed report goes to a new file)", path,
		    strerror(errno));
	if (util_write_all(fd, der, dlen) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0) {
		unlink(path);
		fatalx("%s: cannot be written", path);
	}
	free(der);
	fprintf(stderr, "signed report (CMS, DER) written to %s; check it with "
	    "openssl cms -verify -inform DER -in %s -CAfile internal-ca.crt\n",
	    path, path);
}

int
console_disposal_report(struct vault *v, int argc, char **argv)
{
	const struct config_municipality *m;
	const char *muni = NULL, *signed_path = NULL;
	struct book b = { 0 };
	struct route r;
	char a[32], z[32], now_s[32], *text = NULL;
	int64_t from = 0, to = INT64_MAX;
	unsigned held = 0, uploads = 0;
	size_t k, tlen = 0;
	int i, logs = 0;
	FILE *out;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--municipality") == 0 && i + 1 < argc)
			muni = argv[++i];
		else if (strcmp(argv[i], "--signed") == 0 && i + 1 < argc)
			signed_path = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (logbook_day(argv[++i], &from) != 0)
				fatalx("--from %s: a date written YYYY-MM-DD",
				    argv[i]);
		} else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
			if (logbook_day(argv[++i], &to) != 0)
				fatalx("--to %s: a date written YYYY-MM-DD",
				    argv[i]);
			to += 86400;
		} else if (strcmp(argv[i], "--logs") == 0 && logs == 0)
			logs = load_logs(&b, argc, argv, &i);
		else {
			logbook_free(&b);
			return -1;
		}
	}
	if (muni == NULL || logs == 0) {
		logbook_free(&b);
		return -1;
	}
	if ((m = site_find_municipality(v->site, muni)) == NULL)
		fatalx("municipality %s is not in the site file", muni);
	logbook_sort(&b);
	logbook_jst(from > 0 ? from : 0, 0, a, sizeof(a));
	logbook_jst(to != INT64_MAX ? to - 1 : 0, 0, z, sizeof(z));
	logbook_jst((int64_t)time(NULL), 1, now_s, sizeof(now_s));
	/* Made in memory: what is printed is what is signed. */
	if ((out = open_memstream(&text, &tlen)) == NULL)
		fatalx("out of memory");
	fprintf(out, "廃棄報告書 / Disposal report\n"
	    "宛先 / to: %s %s\n作成 / made: %s (JST) by the vault of %s\n"
	    "期間 / uploads received: %s .. %s\n\n", m->id, m->name, now_s,
	    v->site->name, from > 0 ? a : "(first)", to != INT64_MAX ? z :
	    "(last)");
	for (k = 0; k < b.n; k++) {
		const struct entry *st = &b.e[k];

		if (st->host != H_RECEIVER || strcmp(st->event,
		    "upload.stored") != 0 || strcmp(st->actor + (strncmp(
		    st->actor, "muni:", 5) == 0 ? 5 : 0), muni) != 0 ||
		    st->t < from || st->t >= to)
			continue;
		route_of(&b, st, &r);
		held += route_print(&r, out);
		uploads++;
	}
	fprintf(out, "\n%u upload(s); %s\n", uploads, uploads == 0 ?
	    "nothing was received in the period" : held == 0 ?
	    "すべての複製は廃棄済みです / every copy inside the appliance has "
	    "been disposed of" : "保管中の複製があります / copies are still "
	    "held (marked HELD)");
	if (b.logs[H_RECEIVER] == 0 || b.logs[H_VAULT] == 0 ||
	    b.logs[H_SENDER] == 0)
		fprintf(out, "注意 / note: the logs given lack a host's log "
		    "(receiver %u, vault %u, sender %u): this report cannot "
		    "vouch for it\n", b.logs[H_RECEIVER], b.logs[H_VAULT],
		    b.logs[H_SENDER]);
	logbook_free(&b);
	if (fclose(out) != 0 || text == NULL)
		fatalx("out of memory");
	if (fwrite(text, 1, tlen, stdout) != tlen || fflush(stdout) != 0)
		fatalx("the report cannot be printed");
	if (signed_path != NULL)
		write_signed(v, signed_path, text, tlen);
	free(text);
	snprintf(a, sizeof(a), "%.16s%s", muni, signed_path != NULL ?
	    " signed=1" : "");
	console_note(v, "disposal-report", NULL, a);
	return held == 0 ? 0 : 1;
}

static const char *const host_ja[] = { "受信サーバ / receiver",
	"保管庫 / vault", "送信サーバ / sender", "提供先 / recipients" };

/*
 * R26: what each host held or passed in an incident's window: every copy
 * that existed at some time in [from, to), by host, and the copies made in
 * it (the transfers).
 */
int
console_damage_scope(struct vault *v, int argc, char **argv)
{
	struct book b = { 0 };
	struct route *routes = NULL, *p;
	const struct copy *c;
	char a[32], z[32], made[32];
	int64_t from = -1, to = -1;
	size_t nr = 0, k, i;
	unsigned held[H_OTHER + 1] = { 0 }, passed[H_OTHER + 1] = { 0 };
	int h, logs = 0, ai;

	for (ai = 0; ai < argc; ai++) {
		if (strcmp(argv[ai], "--from") == 0 && ai + 1 < argc) {
			if (parse_when(argv[++ai], &from) != 0)
				fatalx("--from %s: YYYY-MM-DD or "
				    "YYYY-MM-DDTHH:MM (JST)", argv[ai]);
		} else if (strcmp(argv[ai], "--to") == 0 && ai + 1 < argc) {
			if (parse_when(argv[++ai], &to) != 0)
				fatalx("--to %s: YYYY-MM-DD or "
				    "YYYY-MM-DDTHH:MM (JST)", argv[ai]);
			if (strlen(argv[ai]) == 10)
				to += 86400;	/* the whole day */
		} else if (strcmp(argv[ai], "--logs") == 0 && logs == 0)
			logs = load_logs(&b, argc, argv, &ai);
		else {
			logbook_free(&b);
			return -1;
		}
	}
	if (logs == 0 || from < 0 || to < 0) {
		logbook_free(&b);
		return -1;
	}
	if (to <= from)
		fatalx("--to is not after --from");
	logbook_sort(&b);
	for (k = 0; k < b.n; k++) {
		if (b.e[k].host != H_RECEIVER ||
		    strcmp(b.e[k].event, "upload.stored") != 0 ||
		    b.e[k].t >= to)
			continue;
		if ((p = reallocarray(routes, nr + 1, sizeof(*routes))) ==
		    NULL)
			fatalx("out of memory");
		routes = p;
		route_of(&b, &b.e[k], &routes[nr++]);
	}
	logbook_jst(from, 1, a, sizeof(a));
	logbook_jst(to, 1, z, sizeof(z));
	printf("被害範囲 / Damage scope (R26): %s .. %s (JST), site %s\n"
	    "what each host held or passed in the window (ids, times and "
	    "sizes only)\n", a, z, v->site->name);
	for (h = 0; h <= H_OTHER; h++) {
		printf("\n%s\n", host_ja[h]);
		for (k = 0; k < nr; k++)
			for (i = 0; i < routes[k].n; i++) {
				c = &routes[k].c[i];
				if ((int)c->host != h || c->made >= to ||
				    (c->gone != NULL && c->gone->t < from) ||
				    (c->outside && c->made < from))
					continue;
				logbook_jst(c->made, 1, made, sizeof(made));
				printf("  upload %s %-8s %s: %s since %s%s\n",
				    routes[k].stored->object,
				    routes[k].stored->actor, c->outside ?
				    "provided" : c->made >= from ? "made" :
				    "held", c->where, made, c->gone != NULL &&
				    c->gone->t < to ? " (disposed of in the "
				    "window)" : "");
				if (c->made >= from)
					passed[h]++;
				else
					held[h]++;
			}
		printf("  => %u held from before, %u made or passed in the "
		    "window\n", held[h], passed[h]);
	}
	if (b.logs[H_RECEIVER] == 0 || b.logs[H_VAULT] == 0 ||
	    b.logs[H_SENDER] == 0)
		printf("\n注意 / note: a host's log is missing (receiver %u, "
		    "vault %u, sender %u): its part is not covered\n",
		    b.logs[H_RECEIVER], b.logs[H_VAULT], b.logs[H_SENDER]);
	free(routes);
	logbook_free(&b);
	return 0;
}

int
console_inspect_data(struct vault *v, int argc, char **argv)
{
	struct book b = { 0 };
	struct route r;
	char now_s[32];
	unsigned held = 0, k_held, routes = 0;
	int i, logs = 0;
	size_t k;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--logs") == 0 && logs == 0)
			logs = load_logs(&b, argc, argv, &i);
		else {
			logbook_free(&b);
			return -1;
		}
	if (logs == 0)
		return -1;
	logbook_sort(&b);
	logbook_jst((int64_t)time(NULL), 1, now_s, sizeof(now_s));
	printf("点検報告 / Inspection: what is held now, and the route it "
	    "took (R25)\n作成 / made: %s (JST), site %s\n\n", now_s,
	    v->site->name);
	for (k = 0; k < b.n; k++) {
		const struct entry *st = &b.e[k];

		if (st->host != H_RECEIVER || strcmp(st->event,
		    "upload.stored") != 0)
			continue;
		route_of(&b, st, &r);
		/* Only what is held: a route with every copy disposed of is
		 * in the disposal reports. */
		for (i = 0, k_held = 0; i < (int)r.n; i++)
			k_held += r.c[i].gone == NULL && !r.c[i].outside;
		if (k_held == 0)
			continue;
		printf("%s  ", st->actor);
		held += route_print(&r, stdout);
		routes++;
	}
	printf("\n%u upload(s) with copies held, %u cop%s in all\n", routes,
	    held, held == 1 ? "y" : "ies");
	logbook_free(&b);
	return 0;
}
