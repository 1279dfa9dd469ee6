/*
 * review.h: the manager's monthly review of the three audit logs (R43).
 */
#ifndef VAULT_REVIEW_H
#define VAULT_REVIEW_H

struct vault;

/* `review --month YYYY-MM --logs DIR... [--out FILE [--sign --operator OP
 * --key KEY]]`: 0 with no anomaly, 1 with some, -1 for a wrong call. */
int console_review(struct vault *v, int argc, char **argv);

#endif
