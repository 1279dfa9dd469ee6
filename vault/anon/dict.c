/*
 * dict.c: open-addressing hash table over an append-only key arena.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "sk.h"
#include "util.h"

struct dict {
	uint64_t seed;
	uint32_t *slots;	/* id + 1, 0 = empty */
	uint32_t *hashes;	/* low 32 bits of each slot's hash */
	size_t nslots;		/* a power of two */
	uint32_t count;
	uint64_t *offs;		/* id -> offset of its key in the arena */
	uint32_t *lens;
	size_t offs_cap;
	char *arena;
	size_t arena_len, arena_cap;
};

uint64_t
dict_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static uint64_t
hash(uint64_t seed, const uint8_t *p, uint32_t len)
{
	uint64_t h = seed ^ ((uint64_t)len * UINT64_C(0x9e3779b97f4a7c15)), w;

	/* One multiply per word; the final mix spreads the bits. */
	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h = h << 29 | h >> 35;
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	return dict_mix(h ^ w ^ ((uint64_t)len << 56));
}

int
dict_new(struct dict **out)
{
	struct dict *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return SK_ENOMEM;
	d->nslots = 64;
	d->slots = calloc(d->nslots, sizeof(*d->slots));
	d->hashes = calloc(d->nslots, sizeof(*d->hashes));
	if (d->slots == NULL || d->hashes == NULL ||
	    util_random(&d->seed, sizeof(d->seed)) != 0) {
		dict_free(d);
		return SK_ENOMEM;
	}
	*out = d;
	return 0;
}

static int
key_equal(const struct dict *d, uint32_t id, const void *key, uint32_t len)
{
	return d->lens[id] == len && memcmp(d->arena + d->offs[id], key,
	    len) == 0;
}

static long
lookup(const struct dict *d, uint64_t h, const void *key, uint32_t len)
{
	size_t mask = d->nslots - 1, i = (size_t)h & mask;
	uint32_t s;

	while ((s = d->slots[i]) != 0) {
		if (d->hashes[i] == (uint32_t)h && key_equal(d, s - 1, key, len))
			return (long)i;
		i = (i + 1) & mask;
	}
	return -1 - (long)i;	/* the empty slot where it would go */
}

static int
grow_slots(struct dict *d)
{
	size_t n = d->nslots * 2, i, j;
	uint32_t *slots = calloc(n, sizeof(*slots));
	uint32_t *hashes = calloc(n, sizeof(*hashes));
	uint64_t h;

	if (slots == NULL || hashes == NULL) {
		free(slots);
		free(hashes);
		return SK_ENOMEM;
	}
	for (i = 0; i < d->nslots; i++) {
		if (d->slots[i] == 0)
			continue;
		h = hash(d->seed, (const uint8_t *)d->arena +
		    d->offs[d->slots[i] - 1], d->lens[d->slots[i] - 1]);
		for (j = (size_t)h & (n - 1); slots[j] != 0; j = (j + 1) & (n - 1))
			;
		slots[j] = d->slots[i];
		hashes[j] = (uint32_t)h;
	}
	free(d->slots);
	free(d->hashes);
	d->slots = slots;
	d->hashes = hashes;
	d->nslots = n;
	return 0;
}

/* Appends the key to the arena; wipes the old arena when it moves. */
static int
store_key(struct dict *d, const void *key, uint32_t len)
{
	size_t need = d->arena_len + len + 1, cap;
	char *arena;
	void *p;

	if (d->count == d->offs_cap) {
		cap = d->offs_cap ? d->offs_cap * 2 : 64;
		if ((p = reallocarray(d->offs, cap, sizeof(*d->offs))) == NULL)
			return SK_ENOMEM;
		d->offs = p;
		if ((p = reallocarray(d->lens, cap, sizeof(*d->lens))) == NULL)
			return SK_ENOMEM;
		d->lens = p;
		d->offs_cap = cap;
	}
	if (need > d->arena_cap) {
		cap = d->arena_cap ? d->arena_cap : 4096;
		while (cap < need)
			cap *= 2;
		if ((arena = malloc(cap)) == NULL)
			return SK_ENOMEM;
		if (d->arena != NULL) {
			memcpy(arena, d->arena, d->arena_len);
			sk_wipe(d->arena, d->arena_cap);
			free(d->arena);
		}
		d->arena = arena;
		d->arena_cap = cap;
	}
	memcpy(d->arena + d->arena_len, key, len);
	d->arena[d->arena_len + len] = '\0';
	d->offs[d->count] = d->arena_len;
	d->lens[d->count] = len;
	d->arena_len = need;
	return 0;
}

int
dict_intern(struct dict *d, const void *key, uint32_t len, uint32_t *id,
    int *added)
{
	uint64_t h = hash(d->seed, key, len);
	long at = lookup(d, h, key, len);
	size_t slot;
	int r;

	if (at >= 0) {
		*id = d->slots[at] - 1;
		*added = 0;
		return 0;
	}
	if (d->count >= DICT_MAX_IDS)
		return SK_ETOOBIG;
	if ((r = store_key(d, key, len)) != 0)
		return r;
	if ((size_t)(d->count + 1) * 4 > d->nslots * 3) {
		if ((r = grow_slots(d)) != 0)
			return r;
		at = lookup(d, h, key, len);
	}
	slot = (size_t)(-1 - at);
	d->slots[slot] = d->count + 1;
	d->hashes[slot] = (uint32_t)h;
	*id = d->count++;
	*added = 1;
	return 0;
}

int
dict_find(const struct dict *d, const void *key, uint32_t len, uint32_t *id)
{
	long at = lookup(d, hash(d->seed, key, len), key, len);

	if (at < 0)
		return SK_ENOTFOUND;
	*id = d->slots[at] - 1;
	return 0;
}

const char *
dict_key(const struct dict *d, uint32_t id, uint32_t *len)
{
	*len = d->lens[id];
	return d->arena + d->offs[id];
}

uint32_t
dict_count(const struct dict *d)
{
	return d->count;
}

size_t
dict_bytes(const struct dict *d)
{
	return d->arena_cap + d->nslots * 8 + d->offs_cap * 12;
}

void
dict_free(struct dict *d)
{
	if (d == NULL)
		return;
	if (d->arena != NULL)
		sk_wipe(d->arena, d->arena_cap);
	free(d->arena);
	free(d->slots);
	free(d->hashes);
	free(d->offs);
	free(d->lens);
	free(d);
}
