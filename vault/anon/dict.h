/*
 * dict.h: interns byte strings and gives each distinct one a dense id
 * (0, 1, 2, ...). The vault's compact row encoding, its equivalence
 * classes and its lookup tables are all built on it.
 *
 * Keys live in one arena; memory grows with the distinct keys, never with
 * how often they occur. The hash is seeded at random per table, so crafted
 * input cannot force collisions it knows in advance.
 */
#ifndef VAULT_DICT_H
#define VAULT_DICT_H

#include <stddef.h>
#include <stdint.h>

#define DICT_MAX_IDS 0x7fffffffu

struct dict;

int dict_new(struct dict **out);

/* Finds or adds key; *id gets its id, *added whether it was new. */
int dict_intern(struct dict *d, const void *key, uint32_t len, uint32_t *id,
    int *added);

/* Finds key. Returns 0 with *id, or SK_ENOTFOUND. */
int dict_find(const struct dict *d, const void *key, uint32_t len,
    uint32_t *id);

/* The key of an id, NUL-terminated; *len gets its length. */
const char *dict_key(const struct dict *d, uint32_t id, uint32_t *len);

uint32_t dict_count(const struct dict *d);

/* Bytes held, for the job's memory report. */
size_t dict_bytes(const struct dict *d);

/* Spreads the bits of a 64-bit word (the tables' hash finalizer). */
uint64_t dict_mix(uint64_t h);

/* Wipes the keys (they may be personal data) and frees. */
void dict_free(struct dict *d);

#endif
