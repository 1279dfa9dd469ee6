/*
 * audit_schema.c: the audit events and their fields (see audit_schema.h).
 *
 * One row per event, sorted by name (a unit test checks the order and
 * every row's words; the integration suites check the logs the daemons
 * really write against it). Adding an event means adding its row here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_schema.h"
#include "json.h"

/* What every summarized refusal carries (server.c's refusal_write and
 * srv_error; the store's refuse()): the status, the interval and count
 * for a peer not yet known, and the reason in prose. */
#define REFUSAL "status:n first:t last:t count:n listener:s ..."
#define START "version:s openssl:s site:h leftovers_removed:n"
/* A record of the backup register (backup.c): what was written or read,
 * a note without spaces (a review's result), a signature that failed. */
#define BACKUP "path:s files:n jobs:n result:s signature:s ..."

static const struct audit_schema table[] = {
	{ "access.refused", "receiver,sender", REFUSAL,
	  "a peer's certificate or source network was refused" },
	{ "ack.failed", "receiver", REFUSAL,
	  "the vault's acknowledgement could not be completed" },
	{ "ack.refused", "receiver", REFUSAL,
	  "an acknowledgement was refused" },
	{ "audit.break", "all", "...",
	  "the log went on after an earlier log was removed or replaced" },
	{ "audit.resumed", "all",
	  "unwritable_since:t entries_not_written:n error:s ...",
	  "the log could be written again; how long it could not" },
	{ "audit.rotated", "all", "segment:s entries:n sha256:h",
	  "the log rolled into a read-only segment" },
	{ "audit.segment_disposed", "all",
	  "segment:s entries:n through:n mac:h retention_days:n",
	  "a segment past the retention was removed" },
	{ "backup.disposed", "vault", BACKUP,
	  "an old backup was disposed of" },
	{ "backup.escrowed", "vault", BACKUP,
	  "the master key was escrowed to the backup officer" },
	{ "backup.record_invalid", "vault", BACKUP,
	  "a backup register record could not be read" },
	{ "backup.restored", "vault", BACKUP,
	  "a backup was restored into this store" },
	{ "backup.written", "vault", BACKUP,
	  "a sealed backup of the store was written" },
	{ "certificate.loaded", "all",
	  "serial:s not_after:t generation:n",
	  "a renewed host certificate and key were checked and taken" },
	{ "certificate.refused", "all", "reason:s ...",
	  "a changed host certificate or key was refused" },
	{ "console.record_invalid", "vault", "...",
	  "a console use record could not be read" },
	{ "console.used", "vault",
	  "command:s preview_rows:n form:n from:s to:s signed:n ...",
	  "an operator viewed a report, a preview or a ledger (R30)" },
	{ "correction.refused", "vault", "replaces:h ...",
	  "a correction named an upload it cannot replace" },
	{ "crl.loaded", "all", "crl:s listener:s generation:n",
	  "a new CRL was checked and taken" },
	{ "crl.refused", "all", "crl:s listener:s reason:s ...",
	  "a changed CRL was refused; the one in use stays" },
	{ "download.alert", "sender",
	  "window:s bytes:n files:n warn_bytes:n warn_files:n",
	  "a recipient passed a download threshold (R16)" },
	{ "download.completed", "sender", "range:s sent:n complete:n",
	  "a recipient downloaded (part of) a release" },
	{ "download.head", "sender", "",
	  "a recipient asked for a release's size and digest" },
	{ "download.incomplete", "sender", "range:s sent:n complete:n",
	  "a download was cut before its end" },
	{ "download.refused", "sender", REFUSAL,
	  "a download was refused" },
	{ "fetch.failed", "vault", "...",
	  "the vault could not fetch an upload" },
	{ "fetch.refused", "receiver", REFUSAL,
	  "a fetch by the vault was refused" },
	{ "firewall.apply", "all", "role:s sha256:h ...",
	  "the generated ruleset was loaded" },
	{ "firewall.drift", "all", "role:s lines:n first:s ...",
	  "the live ruleset is not the generated one (R54)" },
	{ "firewall.lockdown", "all",
	  "discovered:s reporter:s role:s sha256:h reason:s ...",
	  "the host was cut off after an incident (R26)" },
	{ "firewall.unlock", "all", "role:s sha256:h ...",
	  "the lockdown was lifted" },
	{ "job.corrects", "vault", "replaces:h ...",
	  "an upload corrects an earlier one" },
	{ "job.expired", "vault", "...",
	  "a job was not decided within its dataset's retention" },
	{ "job.received", "vault", "@dataset:s",
	  "the vault took an upload as a job" },
	{ "job.replaced", "vault", "by:h state_was:s withdrawal:s",
	  "a job was replaced by a correction" },
	{ "job.state", "vault", "state:s dataset:s reason:s ...",
	  "a job changed state" },
	{ "object.dispose_failed", "vault", "@kind:s error:s ...",
	  "a copy could not be disposed of; it is tried again" },
	{ "object.disposed", "vault",
	  "@kind:s reason:s key_destroyed:n file_bytes:n",
	  "a source or release copy was disposed of (R20)" },
	{ "package.refused", "sender", REFUSAL,
	  "a release package from the vault was refused" },
	{ "pending.listed", "receiver", "",
	  "the vault listed uploads waiting for it" },
	{ "policy.changed", "vault", "dataset:s previous:h",
	  "a dataset's policy changed on disk and was taken (sha256: new)" },
	{ "policy.refused", "vault", "dataset:s line:n ...",
	  "a changed policy did not load; the one in use stays" },
	{ "publish.refused", "sender", REFUSAL,
	  "a publication by the vault was refused" },
	{ "push.cancelled", "sender", "reason:s attempts:n",
	  "a push was cancelled (withdrawal or expiry)" },
	{ "push.failed", "sender",
	  "status:n attempts:n next_in:n why:s ...",
	  "a push to a recipient's endpoint failed; when it is tried again" },
	{ "receiver.start", "receiver", START, "the receiver started" },
	{ "receiver.stop", "receiver", "", "the receiver stopped" },
	{ "release.approved", "vault", "operators:l approvals:n ...",
	  "the operators approved a release (R19)" },
	{ "release.checked", "vault", "...",
	  "the checker recounted a release and it holds" },
	{ "release.delivered", "sender", "status:n attempts:n ms:n",
	  "a release was pushed to a recipient's endpoint" },
	{ "release.dispose_failed", "sender", "...",
	  "a release could not be disposed of; it is tried again" },
	{ "release.disposed", "sender",
	  "reason:s key_destroyed:n file_bytes:n downloads_cut:n ...",
	  "a release was disposed of (withdrawal or expiry, R33)" },
	{ "release.failed_report", "vault", "...",
	  "a job failed its privacy model; the report says why" },
	{ "release.listed", "sender", "",
	  "a recipient listed its releases" },
	{ "release.made", "vault",
	  "report_sha256:h rows:n recipients:l datapackage_sha256:h "
	  "codebook_sha256:h ...",
	  "the engine made a release and its report" },
	{ "release.package", "sender", "release:h",
	  "a release's signed package was stored" },
	{ "release.package_read", "sender", "file:s",
	  "a recipient read a file of a release's package" },
	{ "release.published", "vault,sender",
	  "release:h rows:n recipients:l manifest_sha256:h not_in_force:l "
	  "dataset:s recipient_count:n expires:n envelope:n ...",
	  "a release was published (vault) and taken (sender)" },
	{ "release.refused", "vault", "...",
	  "the checker or the sender refused a release" },
	{ "release.rejected", "vault", "operators:l ...",
	  "an operator rejected a release" },
	{ "release.signed", "vault",
	  "command:s operator:s time:n signed_sha256:h signature:s ...",
	  "an operator's signed decision was recorded" },
	{ "release.withdrawal_approved", "vault", "operators:l",
	  "the operators approved a withdrawal" },
	{ "release.withdrawn", "vault", "",
	  "a release was withdrawn from the sender" },
	{ "request.failed", "receiver,sender", REFUSAL,
	  "a request could not be served" },
	{ "request.refused", "receiver,sender", REFUSAL,
	  "a malformed or forbidden request was refused" },
	{ "review.signed", "vault", BACKUP,
	  "the monthly review was signed (R43)" },
	{ "roster.changed", "vault", "operators:l previous:s",
	  "the operators' roster changed (R42)" },
	{ "roster.refused", "vault", "line:n ...",
	  "a changed site file or operator's key did not load; the roster "
	  "in use stays" },
	{ "sender.start", "sender", START, "the sender started" },
	{ "sender.stop", "sender", "", "the sender stopped" },
	{ "status.recorded", "receiver",
	  "state:s reason:s line:n vault_disposed:s sender_disposed:s",
	  "the vault reported an upload's status" },
	{ "status.refused", "receiver", REFUSAL,
	  "a status report or query was refused" },
	{ "tls.refused", "receiver,sender", REFUSAL,
	  "a TLS handshake was refused" },
	{ "upload.acknowledged", "vault", "",
	  "the vault acknowledged an upload it holds" },
	{ "upload.disposed", "receiver",
	  "reason:s by:h retention_days:n key_destroyed:n file_bytes:n",
	  "an upload was disposed of at the receiver" },
	{ "upload.failed", "receiver", REFUSAL,
	  "an upload could not be stored" },
	{ "upload.fetch_broken", "receiver", "range:s sent:n",
	  "the vault's fetch was cut" },
	{ "upload.fetched", "receiver", "range:s sent:n",
	  "the vault fetched an upload" },
	{ "upload.handed_over", "receiver", "",
	  "an upload was handed over to the vault" },
	{ "upload.opened", "vault", "...",
	  "a sealed upload was opened for its job" },
	{ "upload.refused", "receiver", REFUSAL,
	  "an upload was refused" },
	{ "upload.refused_my_number", "vault", "...",
	  "an upload carried My Numbers its dataset may not (R29)" },
	{ "upload.repeat", "receiver", "",
	  "the same file was uploaded again" },
	{ "upload.resumed", "receiver", "from:n",
	  "a cut upload was resumed" },
	{ "upload.stored", "receiver", "@dataset:s replaces:h rows:n",
	  "an upload was stored and its receipt given" },
	{ "upload.suspended", "receiver", "held:n",
	  "a cut upload is held for resumption" },
	{ "upload.truncated", "receiver", "held:n ...",
	  "an upload was cut off; nothing kept" },
	{ "vault.start", "vault", START, "the vault started" },
	{ "vault.stop", "vault", "", "the vault stopped" },
	{ "witness.receiver", "vault", "seq:n mac:h",
	  "the receiver's chain head, seen by the vault (R47)" },
	{ "witness.vault", "sender", "seq:n mac:h",
	  "the vault's chain head, seen by the sender (R47)" },
};

static int
cmp_event(const void *key, const void *row)
{
	return strcmp(key, ((const struct audit_schema *)row)->event);
}

const struct audit_schema *
audit_schema_find(const char *event)
{
	return bsearch(event, table, sizeof(table) / sizeof(table[0]),
	    sizeof(table[0]), cmp_event);
}

const struct audit_schema *
audit_schema_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

/* ---- the words of a detail ---- */

struct word {
	const char *p;
	size_t len;		/* the whole word */
	size_t klen;		/* the name's length, 0 for a plain word */
};

/* The next word at *s; 0 at the end. */
static int
next_word(const char **s, struct word *w)
{
	const char *p = *s, *e, *eq;
	size_t i;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	for (e = p; *e != '\0' && *e != ' '; e++)
		;
	w->p = p;
	w->len = (size_t)(e - p);
	w->klen = 0;
	/* A name: a lower-case letter, then letters, digits and '_'. */
	if ((eq = memchr(p, '=', w->len)) != NULL && eq > p && *p >= 'a' &&
	    *p <= 'z') {
		for (i = 1; p + i < eq && ((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'); i++)
			;
		if (p + i == eq && i < 64)
			w->klen = i;
	}
	*s = e;
	return 1;
}

/*
 * Notes a name=value word's name in seen (" a b c ", cap bytes): 1 if it
 * was there already, 0 if it is noted now, -1 if there is no room.
 */
static int
name_seen(char *seen, size_t cap, const struct word *w)
{
	char key[68];

	key[0] = ' ';
	memcpy(key + 1, w->p, w->klen);
	key[w->klen + 1] = ' ';
	key[w->klen + 2] = '\0';
	if (strstr(seen, key) != NULL)
		return 1;
	if (strlen(seen) + w->klen + 2 >= cap)
		return -1;
	strcat(seen, key + 1);
	return 0;
}

/* The type the schema gives name (of len bytes), or 0 if it has none;
 * positional: the type of its "@name" word instead, whose name goes to
 * posname. */
static char
spec_type(const char *spec, const char *name, size_t len, int positional,
    char *posname, size_t poscap)
{
	const char *s = spec;
	struct word w;
	const char *colon;
	size_t nl;

	while (next_word(&s, &w)) {
		if ((colon = memchr(w.p, ':', w.len)) == NULL)
			continue;
		if ((w.p[0] == '@') != (positional != 0))
			continue;
		nl = (size_t)(colon - w.p) - (positional ? 1 : 0);
		if (positional) {
			if (posname != NULL && nl < poscap) {
				memcpy(posname, w.p + 1, nl);
				posname[nl] = '\0';
			}
			return colon[1];
		}
		if (nl == len && memcmp(w.p, name, len) == 0)
			return colon[1];
	}
	return 0;
}

static int
all_of(const char *v, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (v[i] == '\0' || strchr(set, v[i]) == NULL)
			return 0;
	return 1;
}

/* Whether value (len bytes) has type t. */
static int
has_type(char t, const char *v, size_t len)
{
	static const char digits[] = "0123456789";

	switch (t) {
	case 'n':
		return len > 0 && len <= 19 && all_of(v, len, digits);
	case 'h':
		return len > 0 && all_of(v, len, "0123456789abcdef");
	case 't':
		/* 2026-12-04T09:00:00Z */
		return len == 20 && all_of(v, 4, digits) && v[4] == '-' &&
		    all_of(v + 5, 2, digits) && v[7] == '-' &&
		    all_of(v + 8, 2, digits) && v[10] == 'T' &&
		    all_of(v + 11, 2, digits) && v[13] == ':' &&
		    all_of(v + 14, 2, digits) && v[16] == ':' &&
		    all_of(v + 17, 2, digits) && v[19] == 'Z';
	case 's':
	case 'l':
		return 1;
	}
	return 0;
}

/* The types: the letter, the table's word, the phrase of a message. */
static const struct {
	char t;
	const char *word, *phrase;
} types[] = {
	{ 'n', "number", "a number" },
	{ 's', "token", "a token" },
	{ 'l', "list", "a list" },
	{ 'h', "hex", "lower-case hex" },
	{ 't', "time", "a UTC time" },
};

static const char *
type_name(char t)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].t == t)
			return types[i].phrase;
	return "a token";
}

/* A row's fields as the table shows them: "`rows` (number), ...". */
static void
print_fields(FILE *fp, const char *spec)
{
	const char *s = spec, *colon;
	struct word w;
	size_t i;
	int n = 0, at;

	while (next_word(&s, &w)) {
		fprintf(fp, "%s", n++ ? ", " : "");
		if ((colon = memchr(w.p, ':', w.len)) == NULL) {
			fprintf(fp, "free text");
			continue;
		}
		at = w.p[0] == '@';
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (types[i].t == colon[1])
				fprintf(fp, "`%.*s` (%s%s)",
				    (int)(colon - w.p - at), w.p + at,
				    at ? "first word, " : "", types[i].word);
	}
	if (n == 0)
		fprintf(fp, "none");
}

int
audit_schema_print(FILE *fp)
{
	size_t i;

	fprintf(fp, "| event | written by | what it records | fields |\n"
	    "|---|---|---|---|\n");
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		fprintf(fp, "| `%s` | %s | %s | ", table[i].event,
		    table[i].host, table[i].about);
		print_fields(fp, table[i].fields);
		fprintf(fp, " |\n");
	}
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

int
audit_schema_check(const char *event, const char *detail, char *why,
    size_t whycap)
{
	const struct audit_schema *sc = audit_schema_find(event);
	char seen[1024] = " ";
	const char *s = detail;
	struct word w;
	int first = 1;
	char t;

	if (sc == NULL) {
		snprintf(why, whycap, "event '%.60s' is not in the schema",
		    event);
		return -1;
	}
	if (detail == NULL)
		return 0;
	while (next_word(&s, &w)) {
		if (w.klen == 0) {
			t = spec_type(sc->fields, NULL, 0, 1, NULL, 0);
			if (first && t != 0 && has_type(t, w.p, w.len)) {
				first = 0;
				continue;
			}
			first = 0;
			if (strstr(sc->fields, "...") == NULL) {
				snprintf(why, whycap, "word '%.*s' is neither "
				    "a field nor allowed as free text",
				    (int)(w.len > 60 ? 60 : w.len), w.p);
				return -1;
			}
			continue;
		}
		first = 0;
		t = spec_type(sc->fields, w.p, w.klen, 0, NULL, 0);
		if (t == 0) {
			snprintf(why, whycap, "field '%.*s' is not in the "
			    "schema of %s", (int)w.klen, w.p, event);
			return -1;
		}
		if (!has_type(t, w.p + w.klen + 1, w.len - w.klen - 1)) {
			snprintf(why, whycap, "field '%.*s' is not %s: '%.*s'",
			    (int)w.klen, w.p, type_name(t),
			    (int)(w.len - w.klen - 1 > 60 ? 60 :
			    w.len - w.klen - 1), w.p + w.klen + 1);
			return -1;
		}
		if (name_seen(seen, sizeof(seen), &w) == 1) {
			snprintf(why, whycap, "field '%.*s' is repeated",
			    (int)w.klen, w.p);
			return -1;
		}
	}
	return 0;
}

int
audit_schema_fields(const char *event, const char *detail, char *buf,
    size_t cap)
{
	const struct audit_schema *sc = audit_schema_find(event);
	char text[2048], seen[1024] = " ", key[66], posname[64];
	size_t tl = 0;
	const char *s = detail;
	struct word w;
	int fields = 0, first = 1;
	struct json j;
	char t;

	json_begin(&j, buf, cap);
	while (next_word(&s, &w)) {
		if (w.klen == 0) {
			t = sc == NULL ? 0 : spec_type(sc->fields, NULL, 0, 1,
			    posname, sizeof(posname));
			if (first && t != 0 && has_type(t, w.p, w.len)) {
				json_strn(&j, posname, w.p, w.len);
				fields++;
			} else if (tl + w.len + 2 < sizeof(text)) {
				if (tl > 0)
					text[tl++] = ' ';
				memcpy(text + tl, w.p, w.len);
				tl += w.len;
			}
			first = 0;
			continue;
		}
		first = 0;
		/* The first of a repeated name counts. */
		if (name_seen(seen, sizeof(seen), &w) != 0)
			continue;
		memcpy(key, w.p, w.klen);
		key[w.klen] = '\0';
		t = sc == NULL ? 's' : spec_type(sc->fields, w.p, w.klen, 0,
		    NULL, 0);
		if (t == 0 || !has_type(t, w.p + w.klen + 1,
		    w.len - w.klen - 1))
			t = 's';
		if (t == 'n')
			json_u64(&j, key, strtoull(w.p + w.klen + 1, NULL, 10));
		else if (t == 'l')
			json_list(&j, key, w.p + w.klen + 1, w.len - w.klen - 1);
		else
			json_strn(&j, key, w.p + w.klen + 1,
			    w.len - w.klen - 1);
		fields++;
	}
	text[tl] = '\0';
	if (tl > 0)
		json_str(&j, "text", text);
	return fields > 0 && json_end(&j) > 0 ? 0 : -1;
}
