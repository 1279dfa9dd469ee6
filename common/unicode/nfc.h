/*
 * nfc.h: Unicode Normalization Form C, for the file names municipalities
 * send (R56). A name typed on one system as "が" (U+304C) and on another as
 * "か" + U+3099 (as macOS stores it) is one name: the receiver keeps the
 * NFC form, so one name is one upload.
 */
#ifndef SK_NFC_H
#define SK_NFC_H

#include <stddef.h>

/* The longest input in code points (a file name is at most 255 bytes). */
#define NFC_MAX_CHARS 1024

/*
 * Writes the NFC form of s (valid UTF-8, as sk_utf8_printable checks) to
 * out, NUL-terminated. 0, SK_EFORMAT for input that is not valid UTF-8, or
 * SK_ETOOBIG when it does not fit in out or NFC_MAX_CHARS.
 */
int sk_nfc(const char *s, char *out, size_t cap);

/* The Unicode version of the tables ("14.0.0"). */
const char *sk_nfc_unicode_version(void);

#endif
