/*
 * ledger.h: the council's ledgers, forms 7 to 10, from the three hosts'
 * audit logs and the site's registers (R40, R44, R31).
 */
#ifndef VAULT_LEDGER_H
#define VAULT_LEDGER_H

struct vault;

/* `ledger --form N [--from DAY] [--to DAY] --logs DIR...`: the form as
 * CSV on stdout; -1 for a wrong call (usage). */
int console_ledger(struct vault *v, int argc, char **argv);

#endif
