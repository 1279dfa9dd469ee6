/*
 * text.h: text that grows, for the documents the vault writes (the
 * codebook, the HTML report). Bounded: past max bytes (TEXT_MAX when 0)
 * or when memory runs out it stops growing and text_take() returns NULL.
 */
#ifndef VAULT_TEXT_H
#define VAULT_TEXT_H

#include <stddef.h>

#define TEXT_MAX (1u << 20)

struct text {
	char *p;
	size_t len, cap;
	size_t max;		/* 0: TEXT_MAX */
	int err;
};

void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text, NUL-terminated, the caller's to free; NULL after an error. */
char *text_take(struct text *t);

#endif
