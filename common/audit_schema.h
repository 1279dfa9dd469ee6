/*
 * audit_schema.h: the fields each audit event may carry, by name and
 * type (issue 16). An entry's `detail` stays the text it always was (the
 * ledgers and old logs read it); `fields` is written from it by the
 * event's schema: a number as a JSON number, a list as an array, each
 * name the schema gives. `audit verify` reports every entry whose detail
 * does not follow its event's schema, and `audit events` prints the
 * table for an auditor (docs/audit-events.md is that output).
 *
 * A schema is one line of words:
 *   name:T    a `name=value` word of type T (below), in any order
 *   @name:T   the detail's first word, when it has no '=' (a dataset id)
 *   ...       free words after them (a reason in prose) go to "text"
 * Types: n a decimal count, size or id number (at most 19 digits); s a
 * token; l a comma-separated list of tokens; h lower-case hex (a digest
 * or MAC); t a UTC time as the log writes it (2026-12-04T09:00:00Z).
 * Every field is optional; none is repeated.
 */
#ifndef SK_AUDIT_SCHEMA_H
#define SK_AUDIT_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

struct audit_schema {
	const char *event;	/* "upload.stored" */
	const char *host;	/* who writes it: "receiver", "vault,sender" */
	const char *fields;	/* the words above */
	const char *about;	/* what it records, in a line */
};

/* The event's schema, or NULL for an event the table does not know. */
const struct audit_schema *audit_schema_find(const char *event);

/* The table, sorted by event, for tests. */
const struct audit_schema *audit_schema_table(size_t *n);

/* The table as Markdown (`audit events`, docs/audit-events.md): 0, or -1
 * if it could not be written. */
int audit_schema_print(FILE *fp);

/*
 * Checks a detail against its event's schema: 0, or -1 with the first
 * deviation in why ("unknown event", "field 'rows' is not a number: x",
 * "field 'zz' is not in the schema"). A NULL detail is always fine.
 */
int audit_schema_check(const char *event, const char *detail, char *why,
    size_t whycap);

/*
 * The detail as a JSON object of typed fields, into buf: the schema's
 * types where the value has that type, a string otherwise (a deviation
 * loses nothing; verify reports it); for an event outside the table,
 * every value a string. 0, or -1 if there is no field or it does not fit.
 */
int audit_schema_fields(const char *event, const char *detail, char *buf,
    size_t cap);

#endif
