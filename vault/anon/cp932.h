/*
 * cp932.h: CP932 (Windows-31J, the "Shift_JIS" of Japanese municipal
 * systems) to UTF-8 and back, through lookup tables that are built once from
 * the C library's own converter (iconv) when first needed.
 */
#ifndef VAULT_CP932_H
#define VAULT_CP932_H

#include <stddef.h>
#include <stdint.h>

/* Builds the tables (thread-safe, once). Returns 0 or SK_EINTERNAL. */
int cp932_init(void);

/*
 * Converts CP932 to UTF-8. in may end in the middle of a two-byte
 * character: *used tells how many input bytes were converted, and the
 * caller passes the rest again with more input (at final, a lone lead byte
 * is an error). out needs 3 bytes per input byte at most (half: 1 -> 3).
 * Returns the bytes written, or SK_EFORMAT with *bad_at set to the offset
 * of the first byte that is not valid CP932.
 */
long cp932_to_utf8(const uint8_t *in, size_t len, int final, uint8_t *out,
    size_t *used, size_t *bad_at);

/*
 * Converts UTF-8 to CP932 (out needs len bytes at most). Returns the bytes
 * written, or SK_EFORMAT with *bad_at set where the input is invalid UTF-8
 * or holds a character CP932 cannot represent.
 */
long cp932_from_utf8(const uint8_t *in, size_t len, uint8_t *out,
    size_t *bad_at);

#endif
