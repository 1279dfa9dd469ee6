/*
 * proto.c: the receipt's codec (see proto.h).
 */
#include <string.h>
#include <time.h>

#include "json.h"
#include "jsonr.h"
#include "proto.h"
#include "sk.h"

int
proto_receipt_format(const struct proto_receipt *r, char *out, size_t cap)
{
	struct json j;
	int n;

	json_begin(&j, out, cap);
	json_str(&j, "id", r->id);
	json_str(&j, "municipality", r->municipality);
	json_str(&j, "dataset", r->dataset);
	json_str(&j, "filename", r->filename != NULL ? r->filename : "");
	json_u64(&j, "size", r->size);
	json_str(&j, "sha256", r->sha256);
	if (r->has_rows)
		json_u64(&j, "rows", r->rows);
	json_str(&j, "received", r->received);
	if (r->replaces[0] != '\0')
		json_str(&j, "replaces", r->replaces);
	if ((n = json_end(&j)) < 0)
		return SK_ETOOBIG;
	return n;
}

int
proto_receipt_parse(const char *text, size_t len, struct proto_receipt *r)
{
	struct jsonr doc = { text, len };
	int e;

	memset(r, 0, sizeof(*r));
	if (jsonr_valid(text, len) != 0 ||
	    jsonr_get_string(doc, "id", r->id, sizeof(r->id)) != 0 ||
	    !sk_hexid_valid(r->id, PROTO_ID_MAX - 1) ||
	    jsonr_get_string(doc, "municipality", r->municipality,
	    sizeof(r->municipality)) != 0 ||
	    jsonr_get_string(doc, "dataset", r->dataset,
	    sizeof(r->dataset)) != 0 ||
	    jsonr_get_u64(doc, "size", &r->size) != 0 ||
	    jsonr_get_string(doc, "sha256", r->sha256,
	    sizeof(r->sha256)) != 0 || strlen(r->sha256) != 64 ||
	    !sk_hexid_valid(r->sha256, 64) ||
	    jsonr_get_string(doc, "received", r->received,
	    sizeof(r->received)) != 0)
		return SK_EFORMAT;
	r->has_rows = jsonr_get_u64(doc, "rows", &r->rows) == 0;
	e = jsonr_get_string(doc, "replaces", r->replaces, sizeof(r->replaces));
	if (e == SK_ENOTFOUND)
		r->replaces[0] = '\0';
	else if (e != 0 || !sk_hexid_valid(r->replaces, PROTO_ID_MAX - 1))
		return SK_EFORMAT;
	return 0;
}

int
proto_receipt_expired(const struct proto_receipt *r, unsigned days,
    int64_t now)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(r->received, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	return days > 0 && now >= (int64_t)t + (int64_t)days * 86400;
}

/* The states a job's outcome can be in, as the city reads them. */
static const char *const status_states[] = { "accepted", "rejected",
	"failed", "released", "withdrawn", "expired", "replaced", "disposed" };

/* Why it was rejected or failed: codes, never text. */
static const char *const status_reasons[] = { "columns_mismatch",
	"encoding", "csv_format", "empty", "my_number_found", "value_refused",
	"k_not_reachable", "signature_invalid", "envelope_invalid",
	"operators_rejected", "other" };

static int
in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

int
proto_status_state(const char *s)
{
	return in_list(s, status_states, SK_ARRAY_LEN(status_states));
}

int
proto_status_reason(const char *s)
{
	return in_list(s, status_reasons, SK_ARRAY_LEN(status_reasons));
}

int
proto_status_needs_reason(const char *state)
{
	return strcmp(state, "rejected") == 0 || strcmp(state, "failed") == 0;
}

int
proto_day(const char *s, int64_t *t)
{
	struct tm tm;
	const char *end;
	char back[16];
	time_t v;
	int i;

	if (strlen(s) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return 0;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0' ||
	    (v = timegm(&tm)) == (time_t)-1 || gmtime_r(&v, &tm) == NULL ||
	    strftime(back, sizeof(back), "%Y-%m-%d", &tm) != 10 ||
	    strcmp(back, s) != 0)
		return 0;		/* 2026-02-30 is no day */
	*t = (int64_t)v;
	return 1;
}

int
proto_witness_valid(const char *s)
{
	size_t i, n;

	if (strncmp(s, "seq=", 4) != 0)
		return 0;
	s += 4;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
		;
	if (n == 0 || n > 20 || strncmp(s + n, " mac=", 5) != 0)
		return 0;
	s += n + 5;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static const char *const pkg_files[] = { PROTO_PKG_DATAPACKAGE,
	PROTO_PKG_CODEBOOK, PROTO_PKG_MANIFEST, PROTO_PKG_SIGNATURE };

int
proto_package_file(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pkg_files) / sizeof(pkg_files[0]); i++)
		if (strcmp(name, pkg_files[i]) == 0)
			return 1;
	return 0;
}

int
proto_package_valid(const char *text, size_t len)
{
	struct jsonr doc = { text, len }, v;
	size_t i;

	if (len == 0 || len > PROTO_PACKAGE_MAX || jsonr_valid(text, len) != 0)
		return 0;
	for (i = 0; i < sizeof(pkg_files) / sizeof(pkg_files[0]); i++)
		if (jsonr_member(doc, pkg_files[i], &v) != 0 || v.n < 2 ||
		    v.p[0] != '"')
			return 0;
	return 1;
}
