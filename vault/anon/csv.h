/*
 * csv.h: streaming RFC 4180 CSV reading and writing, in UTF-8 or CP932.
 *
 * The reader decodes its input to UTF-8 block by block and hands out one
 * record at a time; memory is bounded by CSV_RECORD_MAX whatever the file
 * size. Quoted fields may hold delimiters, doubled quotes and line breaks;
 * records end in CRLF or LF; a UTF-8 byte order mark is skipped. Every
 * error names the line where the record starts.
 */
#ifndef VAULT_CSV_H
#define VAULT_CSV_H

#include <stddef.h>
#include <stdint.h>

#define CSV_RECORD_MAX (1u << 20)	/* bytes of one record, decoded */
#define CSV_FIELDS_MAX 4096

enum csv_encoding { CSV_UTF8, CSV_CP932 };

struct csv_reader;

/* Reads from fd (not closed by the reader). Returns 0 or SK_ENOMEM. */
int csv_reader_new(int fd, enum csv_encoding enc, char delim,
    struct csv_reader **out);

/* Reads from len bytes at mem, which must stay until the reader is freed
 * (an envelope's plaintext, opened in memory). */
int csv_reader_new_mem(const uint8_t *mem, size_t len, enum csv_encoding enc,
    char delim, struct csv_reader **out);

/*
 * Reads the next record. Returns 1 with *fields pointing to *n
 * NUL-terminated fields (valid until the next call) and lens[] their
 * lengths, 0 at the end, or SK_EFORMAT / SK_ETOOBIG / SK_ESYS with
 * csv_reader_error() saying what and where.
 */
int csv_read(struct csv_reader *r, char ***fields, uint32_t **lens, size_t *n);

/* The line on which the last record returned (or failed) started. */
uint64_t csv_reader_line(const struct csv_reader *r);

/* The last error's message, e.g. "line 7: unterminated quoted field". */
const char *csv_reader_error(const struct csv_reader *r);

/* SHA-256 of the raw input bytes read so far (all of them at the end). */
void csv_reader_digest(struct csv_reader *r, uint8_t out[32]);

/* Wipes the buffers (they held plaintext) and frees. */
void csv_reader_free(struct csv_reader *r);

struct csv_writer;

/* Writes to fd, converting to enc, ending records with CRLF if crlf. */
int csv_writer_new(int fd, enum csv_encoding enc, char delim, int crlf,
    struct csv_writer **out);

/*
 * From now on a field that a spreadsheet would run as a formula (its first
 * byte =, +, -, @, TAB or CR) is written with a leading ', so that it
 * shows as text; so is one that starts with ' already, so that the guard
 * itself is never ambiguous.
 */
void csv_writer_guard_formulas(struct csv_writer *w, int on);

/*
 * Writes one record, quoting fields that need it. SK_EFORMAT if a value
 * cannot be represented in the output encoding; SK_ESYS on write errors.
 */
int csv_write(struct csv_writer *w, const char *const *fields,
    const uint32_t *lens, size_t n);

/* Flushes; returns 0 or the first error. out gets the output's SHA-256. */
int csv_writer_finish(struct csv_writer *w, uint8_t out[32]);

void csv_writer_free(struct csv_writer *w);

#endif
