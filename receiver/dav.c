/*
 * dav.c: the little of WebDAV that WinSCP, rclone and Windows' redirector
 * ask before they PUT (issue 18, item 7), in the net process.
 *
 *   OPTIONS   DAV class 1, and the methods there are.
 *   PROPFIND  /v1/uploads/ is a collection of the datasets this city may
 *             upload to; each dataset, a collection of the city's own
 *             uploads to it (the latest of each file name: its size, time,
 *             receipt id and state). Depth 0 or 1; infinity is refused as
 *             RFC 4918 allows (propfind-finite-depth).
 *   MKCOL     on a dataset: 405, it exists (RFC 4918 9.3.1), which is what
 *             clients that make the folder before a PUT accept; elsewhere
 *             403.
 *
 * A request body is read within DAV_BODY_MAX and ignored: no XML is parsed
 * here, and every answer carries the same few live properties, which a
 * client that asked for others takes as "not there". Nothing else of WebDAV
 * is spoken (no MOVE, DELETE, PROPPATCH or locks): an upload is a PUT.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "nfc.h"
#include "proto.h"
#include "receiver.h"
#include "sk.h"
#include "tls.h"
#include "util.h"

#define DAV_BODY_MAX (64u << 10)	/* a PROPFIND's XML, read and dropped */
#define DAV_ANSWER_MAX (4u << 20)	/* DAV_LIST_MAX entries of the longest
					 * names, every byte escaped, fit */
#define DAV_SEGS 6			/* path segments read; 4 are ours */

/* The answer as it is written; failed once it would pass DAV_ANSWER_MAX. */
struct dav_buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
buf_add(struct dav_buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > DAV_ANSWER_MAX || (p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct dav_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Text as XML character data. */
static void
buf_xml(struct dav_buf *b, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *esc = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
		    *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : *s == '\'' ?
		    "&apos;" : NULL;

		if (esc == NULL)
			continue;
		buf_add(b, run, (size_t)(s - run));
		buf_str(b, esc);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
}

/* A path segment percent-encoded (sk_pct_append). */
static void
buf_segment(struct dav_buf *b, const char *s)
{
	char e[3 * 255 + 1] = "";

	if (strlen(s) > 255 || sk_pct_append(e, sizeof(e), s) != 0) {
		b->failed = 1;
		return;
	}
	buf_str(b, e);
}

/* RFC 3339 (a receipt's time) as the HTTP date getlastmodified takes. */
static void
http_date(const char *rfc3339, char *out, size_t cap)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	out[0] = '\0';
	if ((end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0' || (t = timegm(&tm)) == (time_t)-1 ||
	    gmtime_r(&t, &tm) == NULL)
		return;
	snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One collection's response: /v1/uploads/ or a dataset's. */
static void
put_collection(struct dav_buf *b, const char *dataset)
{
	buf_str(b, "<D:response><D:href>" PROTO_UPLOADS "/");
	if (dataset != NULL) {
		buf_segment(b, dataset);
		buf_str(b, "/");
	}
	buf_str(b, "</D:href><D:propstat><D:prop><D:resourcetype>"
	    "<D:collection/></D:resourcetype><D:displayname>");
	buf_xml(b, dataset != NULL ? dataset : "uploads");
	buf_str(b, "</D:displayname></D:prop><D:status>HTTP/1.1 200 OK"
	    "</D:status></D:propstat></D:response>\n");
}

/* An upload as the store listed it. */
struct dav_file {
	char filename[256];
	char id[PROTO_ID_MAX];
	uint64_t size;
	char received[32];
	char state[32];
};

static void
put_file(struct dav_buf *b, const char *dataset, const struct dav_file *f)
{
	char date[40], size[24];

	http_date(f->received, date, sizeof(date));
	snprintf(size, sizeof(size), "%llu", (unsigned long long)f->size);
	buf_str(b, "<D:response><D:href>" PROTO_UPLOADS "/");
	buf_segment(b, dataset);
	buf_str(b, "/");
	buf_segment(b, f->filename);
	buf_str(b, "</D:href><D:propstat><D:prop><D:resourcetype/>"
	    "<D:displayname>");
	buf_xml(b, f->filename);
	buf_str(b, "</D:displayname><D:getcontentlength>");
	buf_str(b, size);
	buf_str(b, "</D:getcontentlength><D:getlastmodified>");
	buf_str(b, date);
	buf_str(b, "</D:getlastmodified><S:receipt>");
	buf_str(b, f->id);
	buf_str(b, "</S:receipt><S:state>");
	buf_str(b, f->state);
	buf_str(b, "</S:state></D:prop><D:status>HTTP/1.1 200 OK</D:status>"
	    "</D:propstat></D:response>\n");
}

/* Is s a state the store may give? (Its own two, or the vault's.) */
static int
state_known(const char *s)
{
	return strcmp(s, "received") == 0 || strcmp(s, "handed_over") == 0 ||
	    proto_status_state(s);
}

/* The city's uploads to dataset (named name, or all) into b; how many. A
 * reply the store should never give ends this process. */
static size_t
put_files(struct srv_conn *c, struct dav_buf *b, const char *dataset,
    const char *name)
{
	struct proc_msg req;
	struct proc_reply rep;
	struct dav_file f;
	uint32_t n = 0, i;

	proc_msg_init(&req, RMSG_DAV_LIST);
	proc_put_str(&req, MUNI(c)->id);
	proc_put_str(&req, dataset);
	proc_put_str(&req, name);
	net_call(RCV(c), &req, -1, &rep);
	if (rep.status != 200)
		proc_malformed(&rep.msg, "a refused upload listing");
	proc_get_u32(&rep.msg, &n);
	if (n > DAV_LIST_MAX)
		proc_malformed(&rep.msg, "an upload listing over its bound");
	for (i = 0; i < n; i++) {
		proc_get_str(&rep.msg, f.filename, sizeof(f.filename));
		proc_get_str(&rep.msg, f.id, sizeof(f.id));
		proc_get_u64(&rep.msg, &f.size);
		proc_get_str(&rep.msg, f.received, sizeof(f.received));
		proc_get_str(&rep.msg, f.state, sizeof(f.state));
		if (!sk_filename_valid(f.filename) ||
		    !sk_hexid_valid(f.id, PROTO_ID_MAX - 1) ||
		    !state_known(f.state) ||
		    (name[0] != '\0' && strcmp(name, f.filename) != 0))
			proc_malformed(&rep.msg, "an upload listing entry");
		put_file(b, dataset, &f);
	}
	net_reply_end(&rep);
	return n;
}

/* Reads a request body within DAV_BODY_MAX and drops it; 0, or -1 when
 * answered (or the peer left). */
static int
drop_body(struct srv_conn *c)
{
	uint8_t sink[4096];
	uint64_t left;
	size_t early = c->head_len - c->req.head_len, got;

	if (c->req.has_transfer_encoding) {
		srv_error(c, 501, "request.refused", "Transfer-Encoding is not "
		    "supported; send Content-Length", NULL);
		return -1;
	}
	left = c->req.has_content_length ? c->req.content_length : 0;
	if (left > DAV_BODY_MAX) {
		srv_error(c, 413, "request.refused", "a WebDAV request body is "
		    "at most 64 KiB", NULL);
		return -1;
	}
	if (early > left) {
		srv_error(c, 400, "request.refused", "more bytes than "
		    "Content-Length", NULL);
		return -1;
	}
	left -= early;
	while (left > 0) {
		if (tls_read(c->ssl, sink, left < sizeof(sink) ? (size_t)left :
		    sizeof(sink), &got) != 0 || got == 0)
			return -1;
		left -= got;
	}
	return 0;
}

/*
 * The target as segments below /v1/uploads: 0 for the root, 1 with a
 * dataset, 2 with a file name; -1 when it is not a path of ours (answered
 * 404 or 400). One trailing slash is a collection's and is allowed.
 */
static int
dav_path(struct srv_conn *c, char segs[][256])
{
	char path[HTTP_LINE_MAX + 1];
	size_t len = strlen(c->req.target), n = 0, i;
	int r;

	if (len >= sizeof(path) || strchr(c->req.target, '?') != NULL) {
		srv_error(c, 400, "request.refused", "a WebDAV path takes no "
		    "query", NULL);
		return -1;
	}
	memcpy(path, c->req.target, len + 1);
	if (len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	r = http_split_path(path, segs, DAV_SEGS, &n);
	for (i = 0; r == 0 && i < n; i++)
		if (strcmp(segs[i], ".") == 0 || strcmp(segs[i], "..") == 0)
			r = SK_EFORMAT;
	if (r == SK_EFORMAT || r == SK_ETOOBIG) {
		srv_error(c, 400, "request.refused", "malformed path", NULL);
		return -1;
	}
	if (r != 0 || n < 2 || n > 4 || strcmp(segs[0], "v1") != 0 ||
	    strcmp(segs[1], "uploads") != 0) {
		srv_error(c, 404, "request.refused", "WebDAV is spoken on "
		    PROTO_UPLOADS "/ only", NULL);
		return -1;
	}
	return (int)n - 2;
}

/* The dataset of segs[2], if this city may upload to it (else 404). */
static const struct config_dataset *
dav_dataset(struct srv_conn *c, const char *id)
{
	const struct config_dataset *d = site_find_dataset(RCV(c)->site, id);

	if (d == NULL || !site_municipality_allows(MUNI(c), d->id)) {
		srv_error(c, 404, "request.refused", "no dataset this "
		    "municipality may upload to has this name", NULL);
		return NULL;
	}
	return d;
}

static void
dav_propfind(struct srv_conn *c, char segs[][256], int depth_of_path)
{
	const struct site_config *site = RCV(c)->site;
	const struct config_dataset *d = NULL;
	struct dav_buf b = { 0 };
	char depth[16], name[512];
	size_t i;

	if (http_header(&c->req, "depth", depth, sizeof(depth)) != 0 ||
	    (strcmp(depth, "0") != 0 && strcmp(depth, "1") != 0)) {
		static const char finite[] = "<?xml version=\"1.0\" encoding="
		    "\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\">"
		    "<D:propfind-finite-depth/></D:error>\n";

		log_info("peer %s (%s): PROPFIND without Depth 0 or 1 refused",
		    c->peer_str, c->actor);
		srv_respond(c, 403, "application/xml; charset=utf-8", finite,
		    sizeof(finite) - 1, NULL);
		return;
	}
	if (depth_of_path > 0 && (d = dav_dataset(c, segs[2])) == NULL)
		return;
	name[0] = '\0';
	if (depth_of_path == 2 && (sk_nfc(segs[3], name, sizeof(name)) != 0 ||
	    !sk_filename_valid(name))) {
		srv_error(c, 404, "request.refused", "no upload has this name",
		    NULL);
		return;
	}
	buf_str(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<D:multistatus xmlns:D=\"DAV:\" xmlns:S=\"urn:sekisho:\">\n");
	if (depth_of_path == 0) {
		put_collection(&b, NULL);
		for (i = 0; depth[0] == '1' && i < site->ndatasets; i++)
			if (site_municipality_allows(MUNI(c),
			    site->datasets[i].id))
				put_collection(&b, site->datasets[i].id);
	} else if (depth_of_path == 1) {
		put_collection(&b, d->id);
		if (depth[0] == '1')
			put_files(c, &b, d->id, "");
	} else if (put_files(c, &b, d->id, name) == 0) {
		free(b.p);
		srv_error(c, 404, "request.refused", "this municipality has no "
		    "upload of this name to this dataset", NULL);
		return;
	}
	buf_str(&b, "</D:multistatus>\n");
	if (b.failed)
		srv_error(c, 500, "request.failed", "the listing does not fit",
		    NULL);
	else
		srv_respond(c, 207, "application/xml; charset=utf-8", b.p,
		    b.len, NULL);
	free(b.p);
}

#define DAV_ALLOW "Allow: OPTIONS, PROPFIND, PUT, GET\r\n"

int
dav_handle(struct srv_conn *c)
{
	char segs[DAV_SEGS][256];
	int n, mkcol = c->req.method == HTTP_OTHER &&
	    strcmp(c->req.method_text, "MKCOL") == 0;

	if (c->req.method != HTTP_OPTIONS && c->req.method != HTTP_PROPFIND &&
	    !mkcol)
		return 0;
	if (drop_body(c) != 0 || (n = dav_path(c, segs)) < 0)
		return 1;
	if (c->req.method == HTTP_OPTIONS)
		srv_respond(c, 200, "text/plain; charset=utf-8", "", 0,
		    "DAV: 1\r\n" DAV_ALLOW "MS-Author-Via: DAV\r\n");
	else if (c->req.method == HTTP_PROPFIND)
		dav_propfind(c, segs, n);
	else if (n == 1 && dav_dataset(c, segs[2]) != NULL)
		srv_error(c, 405, "request.refused", "this dataset's folder "
		    "exists already; upload into it with PUT", DAV_ALLOW);
	else if (n != 1)
		srv_error(c, 403, "request.refused", "folders are the site's "
		    "datasets; none can be made", NULL);
	return 1;
}
