/*
 * text.c: text that grows (text.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void
text_add(struct text *t, const char *fmt, ...)
{
	size_t want, max = t->max != 0 ? t->max : TEXT_MAX;
	va_list ap;
	char *np;
	int n;

	if (t->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p != NULL ? t->p + t->len : NULL,
		    t->p != NULL ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->err = 1;
			return;
		}
		if (t->p != NULL && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		want = t->len + (size_t)n + 1;
		if (want > max) {
			t->err = 1;
			return;
		}
		want = want < 4096 ? 4096 : want * 2;
		if ((np = realloc(t->p, want)) == NULL) {
			t->err = 1;
			return;
		}
		t->p = np;
		t->cap = want;
	}
}

char *
text_take(struct text *t)
{
	char *p;

	if (t->err) {
		free(t->p);
		t->p = NULL;
		return NULL;
	}
	if (t->p == NULL && (t->p = calloc(1, 1)) == NULL)
		return NULL;
	p = t->p;
	t->p = NULL;
	return p;
}
