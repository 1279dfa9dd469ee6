/*
 * nfc.c: NFC as UAX #15 defines it: full canonical decomposition,
 * canonical ordering by combining class, canonical composition. The data
 * (nfc_data.h) is generated from Unicode's by gen_nfc.py; Hangul syllables
 * are computed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"
#include "sk.h"

struct nfc_decomp {
	uint32_t cp, a, b;		/* cp -> a b (b = 0: a alone) */
};

struct nfc_ccc {
	uint32_t cp, ccc;
};

struct nfc_comp {
	uint32_t a, b, cp;		/* a b -> cp, sorted by a, b */
};

#include "nfc_data.h"

#define S_BASE 0xac00
#define L_BASE 0x1100
#define V_BASE 0x1161
#define T_BASE 0x11a7
#define L_COUNT 19
#define V_COUNT 21
#define T_COUNT 28
#define N_COUNT (V_COUNT * T_COUNT)
#define S_COUNT (L_COUNT * N_COUNT)

struct buf {
	uint32_t cp[NFC_MAX_CHARS];
	uint8_t cc[NFC_MAX_CHARS];
	size_t n;
};

static int
cmp_decomp(const void *k, const void *e)
{
	uint32_t a = *(const uint32_t *)k, b = ((const struct nfc_decomp *)e)->cp;

	return a < b ? -1 : a > b;
}

static int
cmp_ccc(const void *k, const void *e)
{
	uint32_t a = *(const uint32_t *)k, b = ((const struct nfc_ccc *)e)->cp;

	return a < b ? -1 : a > b;
}

static int
cmp_comp(const void *k, const void *e)
{
	const uint32_t *p = k;
	const struct nfc_comp *c = e;

	if (p[0] != c->a)
		return p[0] < c->a ? -1 : 1;
	return p[1] < c->b ? -1 : p[1] > c->b;
}

static unsigned
ccc_of(uint32_t cp)
{
	const struct nfc_ccc *e;

	if (cp < 0x300)
		return 0;
	e = bsearch(&cp, nfc_ccc, SK_ARRAY_LEN(nfc_ccc), sizeof(nfc_ccc[0]),
	    cmp_ccc);
	return e != NULL ? e->ccc : 0;
}

static int
push(struct buf *b, uint32_t cp)
{
	if (b->n == NFC_MAX_CHARS)
		return SK_ETOOBIG;
	b->cp[b->n] = cp;
	b->cc[b->n] = (uint8_t)ccc_of(cp);
	b->n++;
	return 0;
}

/* Full canonical decomposition of one code point (depth: Unicode's
 * decompositions nest at most a few levels). */
static int
decompose(struct buf *b, uint32_t cp, int depth)
{
	const struct nfc_decomp *d;
	uint32_t s, t;
	int r;

	if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
		s = cp - S_BASE;
		t = s % T_COUNT;
		if ((r = push(b, L_BASE + s / N_COUNT)) != 0 ||
		    (r = push(b, V_BASE + (s % N_COUNT) / T_COUNT)) != 0)
			return r;
		return t != 0 ? push(b, T_BASE + t) : 0;
	}
	if (cp < 0xc0 || depth > 8 || (d = bsearch(&cp, nfc_decomp,
	    SK_ARRAY_LEN(nfc_decomp), sizeof(nfc_decomp[0]),
	    cmp_decomp)) == NULL)
		return push(b, cp);
	if ((r = decompose(b, d->a, depth + 1)) != 0)
		return r;
	return d->b != 0 ? decompose(b, d->b, depth + 1) : 0;
}

/* Marks of a higher class move after lower ones; a starter (0) stays. */
static void
reorder(struct buf *b)
{
	size_t i, j;
	uint32_t cp;
	uint8_t cc;

	for (i = 1; i < b->n; i++)
		for (j = i; j > 0 && b->cc[j] != 0 && b->cc[j - 1] > b->cc[j];
		    j--) {
			cp = b->cp[j];
			b->cp[j] = b->cp[j - 1];
			b->cp[j - 1] = cp;
			cc = b->cc[j];
			b->cc[j] = b->cc[j - 1];
			b->cc[j - 1] = cc;
		}
}

/* The primary composite of a b, or 0. */
static uint32_t
compose_pair(uint32_t a, uint32_t b)
{
	const struct nfc_comp *c;
	uint32_t key[2] = { a, b };

	if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE &&
	    b < V_BASE + V_COUNT)
		return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) *
		    T_COUNT;
	if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 &&
	    b > T_BASE && b < T_BASE + T_COUNT)
		return a + (b - T_BASE);
	c = bsearch(key, nfc_comp, SK_ARRAY_LEN(nfc_comp), sizeof(nfc_comp[0]),
	    cmp_comp);
	return c != NULL ? c->cp : 0;
}

static void
compose(struct buf *b)
{
	size_t starter = 0, out = 1, i;
	unsigned last;
	uint32_t c;

	if (b->n == 0)
		return;
	last = b->cc[0] != 0 ? 256 : 0;
	for (i = 1; i < b->n; i++) {
		c = compose_pair(b->cp[starter], b->cp[i]);
		if (c != 0 && (last < b->cc[i] || last == 0) && b->cc[starter] ==
		    0) {
			b->cp[starter] = c;
			continue;
		}
		if (b->cc[i] == 0)
			starter = out;
		last = b->cc[i];
		b->cp[out] = b->cp[i];
		b->cc[out] = b->cc[i];
		out++;
	}
	b->n = out;
}

static int
put_utf8(uint32_t cp, char *out, size_t cap, size_t *o)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (cap - *o <= n)
		return SK_ETOOBIG;
	memcpy(out + *o, u, n);
	*o += n;
	return 0;
}

int
sk_nfc(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i, n, k, o = 0;
	struct buf *b;
	uint32_t cp;
	int r = 0;

	if (cap == 0)
		return SK_ETOOBIG;
	if (!sk_utf8_printable(s, len))
		return SK_EFORMAT;
	if ((b = malloc(sizeof(*b))) == NULL)
		return SK_ENOMEM;
	b->n = 0;
	for (i = 0; r == 0 && i < len; i += n + 1) {
		n = p[i] < 0x80 ? 0 : p[i] < 0xe0 ? 1 : p[i] < 0xf0 ? 2 : 3;
		cp = n == 0 ? p[i] : p[i] & (0x3f >> n);
		for (k = 1; k <= n; k++)
			cp = cp << 6 | (p[i + k] & 0x3f);
		r = decompose(b, cp, 0);
	}
	if (r == 0) {
		reorder(b);
		compose(b);
		for (i = 0; r == 0 && i < b->n; i++)
			r = put_utf8(b->cp[i], out, cap, &o);
	}
	out[r == 0 ? o : 0] = '\0';
	free(b);
	return r;
}

const char *
sk_nfc_unicode_version(void)
{
	return NFC_UNICODE_VERSION;
}
