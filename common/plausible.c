/*
 * plausible.c: encoding and header checks of an upload as it streams in
 * (see plausible.h).
 *
 * UTF-8 is checked exactly (no overlong forms, no surrogates, nothing past
 * U+10FFFF); CP932 by its byte structure (a lead byte 0x81-0x9F or
 * 0xE0-0xFC followed by a trail byte 0x40-0x7E or 0x80-0xFC; 0xA1-0xDF
 * alone are half-width katakana). Neither '"', ',' nor LF occurs inside a
 * character of either, so the header row is split byte-wise.
 */
#include <stdio.h>
#include <string.h>

#include "plausible.h"

#define HIGH_BITS UINT64_C(0x8080808080808080)

void
plausible_init(struct plausible *p, enum plausible_enc enc,
    const struct plausible_header *want)
{
	memset(p, 0, sizeof(*p));
	p->enc = enc;
	p->want = want;
}

static void
refuse(struct plausible *p, uint64_t line, const char *why,
    const char *why_ja)
{
	if (p->bad)
		return;
	p->bad = 1;
	p->bad_line = line;
	snprintf(p->why, sizeof(p->why), "%s", why);
	snprintf(p->why_ja, sizeof(p->why_ja), "%s", why_ja);
}

static void
bad_encoding(struct plausible *p, uint64_t line)
{
	char en[192], ja[256];

	if (p->enc == PLAUSIBLE_UTF8) {
		snprintf(en, sizeof(en), "line %llu is not valid UTF-8 (was the "
		    "file saved in CP932?); nothing was kept",
		    (unsigned long long)line);
		snprintf(ja, sizeof(ja), "%llu 行目が UTF-8 として正しくありません"
		    "（CP932 で保存したファイルではありませんか）。受け付けていません。",
		    (unsigned long long)line);
	} else {
		snprintf(en, sizeof(en), "line %llu is not valid CP932 "
		    "(Shift_JIS; was the file saved in UTF-8?); nothing was kept",
		    (unsigned long long)line);
		snprintf(ja, sizeof(ja), "%llu 行目が CP932（シフトJIS）として正しく"
		    "ありません（UTF-8 で保存したファイルではありませんか）。受け付けて"
		    "いません。", (unsigned long long)line);
	}
	refuse(p, line, en, ja);
}

/* The LFs in b[0..n): the line numbers of what follows. */
static uint64_t
count_lines(const uint8_t *b, size_t n)
{
	const uint8_t *end = b + n, *nl;
	uint64_t k = 0;

	while (b < end && (nl = memchr(b, '\n', (size_t)(end - b))) != NULL) {
		k++;
		b = nl + 1;
	}
	return k;
}

/* Where in b[0..n) the encoding first fails, or n. */
static size_t
scan(struct plausible *p, const uint8_t *b, size_t n)
{
	size_t i = 0;
	uint64_t w;
	uint8_t c;

	while (i < n) {
		/* Eight ASCII bytes at a time, between characters. */
		if (p->need == 0 && n - i >= 8) {
			memcpy(&w, b + i, 8);
			if ((w & HIGH_BITS) == 0) {
				i += 8;
				continue;
			}
		}
		c = b[i];
		/* Whole characters at once while they are all here: the
		 * common run of a Japanese file, ASCII and UTF-8's three
		 * bytes of U+1000..U+CFFF and U+E000..U+FFFF (CP932's two
		 * below). */
		if (p->need == 0 && p->enc == PLAUSIBLE_UTF8) {
			size_t j = i;

			while (j + 3 <= n) {
				c = b[j];
				if (c < 0x80)
					j++;
				else if (c >= 0xE1 && c <= 0xEF && c != 0xED &&
				    (b[j + 1] & 0xC0) == 0x80 &&
				    (b[j + 2] & 0xC0) == 0x80)
					j += 3;
				else
					break;
			}
			if (j > i) {
				i = j;
				continue;
			}
			c = b[i];
		}
		if (p->need == 0 && c >= 0x80 && n - i >= 2 &&
		    p->enc == PLAUSIBLE_CP932 && ((c >= 0x81 && c <= 0x9F) ||
		    (c >= 0xE0 && c <= 0xFC)) && b[i + 1] >= 0x40 &&
		    b[i + 1] != 0x7F && b[i + 1] <= 0xFC) {
			i += 2;
			continue;
		}
		if (p->enc == PLAUSIBLE_CP932) {
			if (p->need) {
				if (c < 0x40 || c == 0x7F || c > 0xFC)
					return i;
				p->need = 0;
			} else if ((c >= 0x81 && c <= 0x9F) ||
			    (c >= 0xE0 && c <= 0xFC))
				p->need = 1;
			else if (c >= 0x80 && !(c >= 0xA1 && c <= 0xDF))
				return i;
		} else if (p->need) {
			if (c < p->lo || c > p->hi)
				return i;
			p->need--;
			p->lo = 0x80;
			p->hi = 0xBF;
		} else if (c >= 0x80) {
			p->lo = 0x80;
			p->hi = 0xBF;
			if (c >= 0xC2 && c <= 0xDF)
				p->need = 1;
			else if (c >= 0xE0 && c <= 0xEF) {
				p->need = 2;
				if (c == 0xE0)
					p->lo = 0xA0;
				else if (c == 0xED)
					p->hi = 0x9F;
			} else if (c >= 0xF0 && c <= 0xF4) {
				p->need = 3;
				if (c == 0xF0)
					p->lo = 0x90;
				else if (c == 0xF4)
					p->hi = 0x8F;
			} else
				return i;
		}
		i++;
	}
	return n;
}

/* The header row against the dataset's columns. */
static void
check_header(struct plausible *p)
{
	const struct plausible_header *w = p->want;
	uint8_t field[PLAUSIBLE_HEAD_MAX];
	const uint8_t *s = p->head, *end = p->head + p->head_len;
	char en[192], ja[256];
	size_t k = 0, n;
	int quoted;

	if (w == NULL || w->n == 0 || p->bad)
		return;
	if (end > s && end[-1] == '\r')
		end--;
	if (p->enc == PLAUSIBLE_UTF8 && end - s >= 3 &&
	    memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	for (;;) {
		/* One field, unquoted ("" inside quotes is one "). */
		n = 0;
		quoted = s < end && *s == '"';
		if (quoted)
			s++;
		while (s < end) {
			if (quoted && *s == '"') {
				if (s + 1 < end && s[1] == '"') {
					field[n++] = '"';
					s += 2;
					continue;
				}
				quoted = 0;
				s++;
				continue;
			}
			if (!quoted && *s == ',')
				break;
			field[n++] = *s++;
		}
		if (k < w->n && (n != w->len[k] ||
		    memcmp(field, w->field[k], n) != 0)) {
			snprintf(en, sizeof(en), "column %zu of the header row "
			    "(line 1) is not \"%s\": is it this dataset's file, "
			    "in %s?", k + 1, w->name[k], p->enc ==
			    PLAUSIBLE_CP932 ? "CP932" : "UTF-8");
			snprintf(ja, sizeof(ja), "1 行目（見出し）の %zu 列目が「%s」"
			    "ではありません。このデータセットのファイルか、文字コードが "
			    "%s かを確認してください。受け付けていません。", k + 1,
			    w->name[k], p->enc == PLAUSIBLE_CP932 ? "CP932" :
			    "UTF-8");
			refuse(p, 1, en, ja);
			return;
		}
		k++;
		if (s >= end)
			break;
		s++;			/* the comma */
	}
	if (k != w->n) {
		snprintf(en, sizeof(en), "the header row (line 1) has %zu "
		    "columns; this dataset has %zu", k, w->n);
		snprintf(ja, sizeof(ja), "1 行目（見出し）の列が %zu 個です。この"
		    "データセットは %zu 列です。受け付けていません。", k, w->n);
		refuse(p, 1, en, ja);
	}
}

/* Checks the encoding of b[0..n) and counts its lines. */
static void
feed_part(struct plausible *p, const uint8_t *b, size_t n)
{
	size_t at = scan(p, b, n);

	if (at < n) {
		bad_encoding(p, p->lines + count_lines(b, at) + 1);
		return;
	}
	p->lines += count_lines(b, n);
	p->offset += n;
}

/*
 * Bytes are judged in order, so that the verdict (the first fault of the
 * file) is the same however the bytes were split: the header row's bytes
 * first, then its own check at its LF, then what follows.
 */
void
plausible_feed(struct plausible *p, const uint8_t *b, size_t n)
{
	const uint8_t *nl;
	size_t m, take, room;

	if (p->bad || n == 0)
		return;
	if (!p->head_done) {
		nl = memchr(b, '\n', n);
		m = nl != NULL ? (size_t)(nl - b) + 1 : n;
		take = nl != NULL ? m - 1 : m;
		room = sizeof(p->head) - p->head_len;
		if (take > room) {
			feed_part(p, b, room);
			refuse(p, 1, "the header row (line 1) is longer than "
			    "4096 bytes", "1 行目（見出し）が 4096 バイトを超えて"
			    "います。受け付けていません。");
			p->head_done = 1;
			return;
		}
		feed_part(p, b, m);
		if (p->bad)
			return;
		memcpy(p->head + p->head_len, b, take);
		p->head_len += take;
		if (nl != NULL) {
			p->head_done = 1;
			check_header(p);
		}
		b += m;
		n -= m;
		if (p->bad || n == 0)
			return;
	}
	feed_part(p, b, n);
}

int
plausible_end(struct plausible *p)
{
	if (!p->bad && p->offset == 0)
		refuse(p, 1, "the file is empty; nothing was kept",
		    "ファイルが空です。受け付けていません。");
	if (!p->bad && p->need != 0)
		bad_encoding(p, p->lines + 1);	/* cut inside a character */
	if (!p->bad && !p->head_done) {
		p->head_done = 1;
		check_header(p);
	}
	return p->bad ? -1 : 0;
}
