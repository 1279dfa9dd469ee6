/*
 * csv.c: streaming RFC 4180 reader and writer (see csv.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cp932.h"
#include "csv.h"
#include "sk.h"
#include "util.h"

#define CSV_BLOCK (1u << 20)		/* raw bytes read at a time */

struct csv_reader {
	int fd;				/* or -1: reading mem */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	enum csv_encoding enc;
	char delim;
	uint8_t *raw;			/* undecoded input */
	size_t raw_len;
	uint8_t *buf;			/* decoded UTF-8 */
	size_t buf_len, buf_pos;
	int eof;			/* the file is read to its end */
	int bom_checked;
	uint64_t line;			/* line of buf[buf_pos] */
	uint64_t rec_line;		/* line where the record started */
	char *rec;			/* the record's fields, NUL-terminated */
	size_t rec_len;
	uint32_t *offs, *lens;
	char **fields;
	size_t nfields;
	char err[192];
	EVP_MD_CTX *md;
	size_t raw_used, buf_used, rec_used;	/* high-water marks, to wipe */
	uint8_t special[256];		/* bytes that end an unquoted run */
	uint8_t special_q[256];		/* ... and a quoted run */
};

static int __attribute__((format(printf, 3, 4)))
rfail(struct csv_reader *r, int code, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "line %llu: %s",
	    (unsigned long long)r->rec_line, msg);
	return code;
}

int
csv_reader_new(int fd, enum csv_encoding enc, char delim,
    struct csv_reader **out)
{
	struct csv_reader *r;

	if (enc == CSV_CP932 && cp932_init() != 0)
		return SK_EINTERNAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SK_ENOMEM;
	r->fd = fd;
	r->enc = enc;
	r->delim = delim;
	r->line = 1;
	r->special[(uint8_t)delim] = r->special['"'] = r->special['\r'] =
	    r->special['\n'] = r->special[0] = 1;
	r->special_q['"'] = r->special_q['\n'] = r->special_q[0] = 1;
	r->raw = malloc(CSV_BLOCK);
	r->buf = malloc(3 * (size_t)CSV_BLOCK);
	r->rec = malloc(CSV_RECORD_MAX + CSV_FIELDS_MAX);
	r->offs = calloc(CSV_FIELDS_MAX, sizeof(*r->offs));
	r->lens = calloc(CSV_FIELDS_MAX, sizeof(*r->lens));
	r->fields = calloc(CSV_FIELDS_MAX, sizeof(*r->fields));
	r->md = EVP_MD_CTX_new();
	if (r->raw == NULL || r->buf == NULL || r->rec == NULL ||
	    r->offs == NULL || r->lens == NULL || r->fields == NULL ||
	    r->md == NULL || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1) {
		csv_reader_free(r);
		return SK_ENOMEM;
	}
	*out = r;
	return 0;
}

int
csv_reader_new_mem(const uint8_t *mem, size_t len, enum csv_encoding enc,
    char delim, struct csv_reader **out)
{
	int r;

	if ((r = csv_reader_new(-1, enc, delim, out)) != 0)
		return r;
	(*out)->mem = mem;
	(*out)->mem_len = len;
	return 0;
}

/* Length of the longest prefix of complete, valid UTF-8 (without NUL). */
static size_t
utf8_prefix(const uint8_t *p, size_t len, int final, size_t *bad_at)
{
	size_t i = 0, need, k;
	uint32_t cp;

	*bad_at = SIZE_MAX;
	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] == 0) {
				*bad_at = i;
				return i;
			}
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			need = 1;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			need = 2;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			need = 3;
		else {
			*bad_at = i;
			return i;
		}
		if (i + need >= len && !final) {
			for (k = 1; i + k < len; k++)
				if ((p[i + k] & 0xc0) != 0x80) {
					*bad_at = i;
					return i;
				}
			return i;	/* completed by the next block */
		}
		if (i + need >= len) {
			*bad_at = i;
			return i;
		}
		cp = p[i] & (0x3f >> need);
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				*bad_at = i;
				return i;
			}
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
			*bad_at = i;
			return i;
		}
		i += need + 1;
	}
	return i;
}

static uint64_t
count_lf(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t n = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static int
decode_block(struct csv_reader *r)
{
	size_t used = 0, bad = SIZE_MAX;
	long n;

	if (r->enc == CSV_UTF8) {
		used = utf8_prefix(r->raw, r->raw_len, r->eof, &bad);
		memcpy(r->buf, r->raw, used);
		n = (long)used;
	} else {
		n = cp932_to_utf8(r->raw, r->raw_len, r->eof, r->buf, &used,
		    &bad);
		if (n < 0)
			used = 0;
	}
	if (bad != SIZE_MAX) {
		r->rec_line = r->line + count_lf(r->raw, bad);
		return rfail(r, SK_EFORMAT, "bytes that are not valid %s",
		    r->enc == CSV_UTF8 ? "UTF-8 (or a NUL byte)" : "CP932");
	}
	memmove(r->raw, r->raw + used, r->raw_len - used);
	r->raw_len -= used;
	r->buf_len = (size_t)n;
	if (r->buf_len > r->buf_used)
		r->buf_used = r->buf_len;
	r->buf_pos = 0;
	return 0;
}

/* A block from memory, as read(2) would give it. */
static ssize_t
mem_read(struct csv_reader *r)
{
	size_t n = r->mem_len - r->mem_pos;

	if (n > CSV_BLOCK - r->raw_len)
		n = CSV_BLOCK - r->raw_len;
	memcpy(r->raw + r->raw_len, r->mem + r->mem_pos, n);
	r->mem_pos += n;
	return (ssize_t)n;
}

/* Refills the decoded buffer. Returns 1 with data, 0 at the end, <0. */
static int
fill(struct csv_reader *r)
{
	ssize_t n;
	int e;

	while (r->buf_pos == r->buf_len) {
		if (r->eof && r->raw_len == 0)
			return 0;
		if (!r->eof) {
			n = r->fd >= 0 ? read(r->fd, r->raw + r->raw_len,
			    CSV_BLOCK - r->raw_len) : mem_read(r);
			if (n == -1 && errno == EINTR)
				continue;
			if (n < 0)
				return rfail(r, SK_ESYS, "read error: %s",
				    strerror(errno));
			if (n == 0)
				r->eof = 1;
			else if (EVP_DigestUpdate(r->md, r->raw + r->raw_len,
			    (size_t)n) != 1)
				return SK_ECRYPTO;
			r->raw_len += (size_t)n;
			if (r->raw_len > r->raw_used)
				r->raw_used = r->raw_len;
		}
		if ((e = decode_block(r)) != 0)
			return e;
		if (!r->bom_checked && (r->buf_len >= 3 || r->eof)) {
			r->bom_checked = 1;
			if (r->buf_len >= 3 && memcmp(r->buf, "\xef\xbb\xbf",
			    3) == 0)
				r->buf_pos = 3;
		}
		if (r->eof && r->raw_len > 0 && r->buf_len == 0)
			return rfail(r, SK_EFORMAT, "the file ends inside a "
			    "character");
	}
	return 1;
}

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, ST_CR };

static int
end_field(struct csv_reader *r)
{
	if (r->nfields == CSV_FIELDS_MAX)
		return rfail(r, SK_ETOOBIG, "more than %u fields",
		    CSV_FIELDS_MAX);
	r->lens[r->nfields] = (uint32_t)(r->rec_len - r->offs[r->nfields]);
	r->rec[r->rec_len++] = '\0';
	r->nfields++;
	r->offs[r->nfields < CSV_FIELDS_MAX ? r->nfields : 0] =
	    (uint32_t)r->rec_len;
	return 0;
}

static int
finish_record(struct csv_reader *r, char ***fields, uint32_t **lens,
    size_t *n)
{
	size_t i;

	if (r->rec_len > r->rec_used)
		r->rec_used = r->rec_len;
	for (i = 0; i < r->nfields; i++)
		r->fields[i] = r->rec + r->offs[i];
	*fields = r->fields;
	*lens = r->lens;
	*n = r->nfields;
	return 1;
}

/* One byte of the state machine; returns 1 when the record ended. */
static int
step(struct csv_reader *r, int *state, uint8_t c)
{
	int e;

	if (r->rec_len + 1 >= CSV_RECORD_MAX)
		return rfail(r, SK_ETOOBIG, "record longer than %u bytes",
		    CSV_RECORD_MAX);
	if (c == 0)
		return rfail(r, SK_EFORMAT, "a NUL byte");
	switch (*state) {
	case ST_CR:
		if (c != '\n')
			return rfail(r, SK_EFORMAT, "carriage return without "
			    "a line feed");
		return 1;
	case ST_QUOTED:
		if (c == '"')
			*state = ST_QUOTE;
		else {
			if (c == '\n')
				r->line++;
			r->rec[r->rec_len++] = (char)c;
		}
		return 0;
	case ST_QUOTE:
		if (c == '"') {
			r->rec[r->rec_len++] = '"';
			*state = ST_QUOTED;
			return 0;
		}
		if (c != (uint8_t)r->delim && c != '\r' && c != '\n')
			return rfail(r, SK_EFORMAT, "text after a closing "
			    "quote in field %zu", r->nfields + 1);
		break;
	case ST_START:
		if (c == '"') {
			*state = ST_QUOTED;
			return 0;
		}
		break;
	}
	/* ST_START, ST_UNQUOTED and a closed quote share the rest. */
	if (c == (uint8_t)r->delim) {
		if ((e = end_field(r)) != 0)
			return e;
		*state = ST_START;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		if ((e = end_field(r)) != 0)
			return e;
		r->line++;
		if (c == '\n')
			return 1;
		*state = ST_CR;
		return 0;
	}
	if (*state == ST_QUOTE)
		return rfail(r, SK_EFORMAT, "text after a closing quote");
	if (c == '"')
		return rfail(r, SK_EFORMAT, "a quote inside unquoted field "
		    "%zu", r->nfields + 1);
	r->rec[r->rec_len++] = (char)c;
	*state = ST_UNQUOTED;
	return 0;
}

/*
 * Copies a run of ordinary bytes at once (most of any CSV file). Returns 1
 * if it consumed something; the state machine handles the byte after it.
 */
static int
skip_run(struct csv_reader *r, int *state)
{
	const uint8_t *p = r->buf + r->buf_pos, *q = p;
	const uint8_t *end = r->buf + r->buf_len;
	const uint8_t *table;
	size_t n;

	if (*state == ST_QUOTED)
		table = r->special_q;
	else if (*state == ST_START || *state == ST_UNQUOTED)
		table = r->special;
	else
		return 0;
	/* Never look further than the record can still grow, so a huge
	 * line costs linear time, and the state machine reports it. */
	if (r->rec_len + 2 >= CSV_RECORD_MAX)
		return 0;
	if ((size_t)(end - p) > CSV_RECORD_MAX - r->rec_len - 2)
		end = p + (CSV_RECORD_MAX - r->rec_len - 2);
	while (q < end && !table[*q])
		q++;
	n = (size_t)(q - p);
	if (n == 0)
		return 0;
	memcpy(r->rec + r->rec_len, p, n);
	r->rec_len += n;
	r->buf_pos += n;
	if (*state == ST_START)
		*state = ST_UNQUOTED;
	return 1;
}

int
csv_read(struct csv_reader *r, char ***fields, uint32_t **lens, size_t *n)
{
	int state, e;

	for (;;) {
		r->nfields = 0;
		r->rec_len = 0;
		r->offs[0] = 0;
		r->rec_line = r->line;
		state = ST_START;
		for (;;) {
			if (r->buf_pos == r->buf_len) {
				if ((e = fill(r)) < 0)
					return e;
				if (e == 0)
					break;
			}
			if (skip_run(r, &state))
				continue;
			e = step(r, &state, r->buf[r->buf_pos++]);
			if (e < 0)
				return e;
			if (e == 1)
				break;
		}
		if (r->buf_pos == r->buf_len && r->eof && r->raw_len == 0 &&
		    e == 0) {
			/* The end of the file. */
			if (state == ST_QUOTED)
				return rfail(r, SK_EFORMAT, "unterminated "
				    "quoted field");
			if (state == ST_START && r->nfields == 0)
				return 0;
			if (state != ST_CR && (e = end_field(r)) != 0)
				return e;
			return finish_record(r, fields, lens, n);
		}
		/* An empty line is no record (trailing blank lines). */
		if (r->nfields == 1 && r->lens[0] == 0 && state != ST_QUOTE)
			continue;
		return finish_record(r, fields, lens, n);
	}
}

uint64_t
csv_reader_line(const struct csv_reader *r)
{
	return r->rec_line;
}

const char *
csv_reader_error(const struct csv_reader *r)
{
	return r->err;
}

void
csv_reader_digest(struct csv_reader *r, uint8_t out[32])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned n = 0;

	memset(out, 0, 32);
	if (copy != NULL && EVP_MD_CTX_copy_ex(copy, r->md) == 1)
		EVP_DigestFinal_ex(copy, out, &n);
	EVP_MD_CTX_free(copy);
}

void
csv_reader_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	/* Only what was ever filled can hold plaintext. A record that
	 * failed midway may have gone past rec_used: wipe its length too. */
	if (r->rec_len > r->rec_used)
		r->rec_used = r->rec_len;
	if (r->raw != NULL)
		sk_wipe(r->raw, r->raw_used);
	if (r->buf != NULL)
		sk_wipe(r->buf, r->buf_used);
	if (r->rec != NULL)
		sk_wipe(r->rec, r->rec_used);
	free(r->raw);
	free(r->buf);
	free(r->rec);
	free(r->offs);
	free(r->lens);
	free(r->fields);
	EVP_MD_CTX_free(r->md);
	free(r);
}

struct csv_writer {
	int fd;
	enum csv_encoding enc;
	char delim;
	int crlf;
	uint8_t *rec;		/* one record, UTF-8 */
	size_t rec_cap;
	uint8_t *out;		/* encoded bytes waiting to be written */
	size_t out_len;
	EVP_MD_CTX *md;
	int error;
	size_t rec_used, out_used;	/* high-water marks, to wipe */
	uint8_t special[256];		/* bytes that need quoting */
	int guard;			/* formulas written as text */
};

void
csv_writer_guard_formulas(struct csv_writer *w, int on)
{
	w->guard = on;
}

/* Would a spreadsheet take this value for a formula (or the guard)? */
static int
formula_like(const char *v, uint32_t len)
{
	return len > 0 && (v[0] == '=' || v[0] == '+' || v[0] == '-' ||
	    v[0] == '@' || v[0] == '\t' || v[0] == '\r' || v[0] == '\'');
}

#define CSV_OUT_BUF (1u << 20)

int
csv_writer_new(int fd, enum csv_encoding enc, char delim, int crlf,
    struct csv_writer **out)
{
	struct csv_writer *w;

	if (enc == CSV_CP932 && cp932_init() != 0)
		return SK_EINTERNAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SK_ENOMEM;
	w->fd = fd;
	w->enc = enc;
	w->delim = delim;
	w->crlf = crlf;
	w->special[(uint8_t)delim] = w->special['"'] = w->special['\r'] =
	    w->special['\n'] = 1;
	w->rec_cap = 2 * (size_t)CSV_RECORD_MAX + 2 * CSV_FIELDS_MAX + 2;
	w->rec = malloc(w->rec_cap);
	w->out = malloc(CSV_OUT_BUF + w->rec_cap);
	w->md = EVP_MD_CTX_new();
	if (w->rec == NULL || w->out == NULL || w->md == NULL ||
	    EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
		csv_writer_free(w);
		return SK_ENOMEM;
	}
	*out = w;
	return 0;
}

static int
writer_flush(struct csv_writer *w)
{
	int e;

	if (w->out_len == 0)
		return 0;
	if (EVP_DigestUpdate(w->md, w->out, w->out_len) != 1)
		return SK_ECRYPTO;
	if ((e = util_write_all(w->fd, w->out, w->out_len)) != 0)
		return e;
	w->out_len = 0;
	return 0;
}

int
csv_write(struct csv_writer *w, const char *const *fields,
    const uint32_t *lens, size_t n)
{
	size_t i, j, len = 0, bad;
	long m;
	int quote, e, guard;

	if (w->error != 0)
		return w->error;
	for (i = 0; i < n; i++) {
		/* Room for the delimiter, the guard, two quotes, every byte
		 * doubled, and the line end after the last field. */
		if (lens[i] > CSV_RECORD_MAX || len + 2 * (size_t)lens[i] + 6 >
		    w->rec_cap)
			return SK_ETOOBIG;
		if (i > 0)
			w->rec[len++] = (uint8_t)w->delim;
		guard = w->guard && formula_like(fields[i], lens[i]);
		for (j = 0, quote = 0; j < lens[i] && !quote; j++)
			quote = w->special[(uint8_t)fields[i][j]];
		if (!quote) {
			if (guard)
				w->rec[len++] = '\'';
			memcpy(w->rec + len, fields[i], lens[i]);
			len += lens[i];
			continue;
		}
		w->rec[len++] = '"';
		if (guard)
			w->rec[len++] = '\'';
		for (j = 0; j < lens[i]; j++) {
			if (fields[i][j] == '"')
				w->rec[len++] = '"';
			w->rec[len++] = (uint8_t)fields[i][j];
		}
		w->rec[len++] = '"';
	}
	if (w->crlf)
		w->rec[len++] = '\r';
	w->rec[len++] = '\n';
	if (len > w->rec_used)
		w->rec_used = len;
	if (w->enc == CSV_UTF8) {
		memcpy(w->out + w->out_len, w->rec, len);
		w->out_len += len;
	} else {
		m = cp932_from_utf8(w->rec, len, w->out + w->out_len, &bad);
		if (m < 0)
			return SK_EFORMAT;	/* not representable in CP932 */
		w->out_len += (size_t)m;
	}
	if (w->out_len > w->out_used)
		w->out_used = w->out_len;
	if (w->out_len >= CSV_OUT_BUF && (e = writer_flush(w)) != 0)
		return w->error = e;
	return 0;
}

int
csv_writer_finish(struct csv_writer *w, uint8_t out[32])
{
	unsigned n = 0;
	int e;

	if (w->error != 0)
		return w->error;
	if ((e = writer_flush(w)) != 0)
		return w->error = e;
	if (EVP_DigestFinal_ex(w->md, out, &n) != 1)
		return SK_ECRYPTO;
	return 0;
}

void
csv_writer_free(struct csv_writer *w)
{
	if (w == NULL)
		return;
	if (w->rec != NULL)
		sk_wipe(w->rec, w->rec_used);
	if (w->out != NULL)
		sk_wipe(w->out, w->out_used);
	free(w->rec);
	free(w->out);
	EVP_MD_CTX_free(w->md);
	free(w);
}
