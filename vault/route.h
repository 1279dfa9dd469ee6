/*
 * route.h: each upload's copies and their disposal, from the three audit
 * logs: the disposal report owed to a municipality (R45) and the
 * inspection of what is held now (R25).
 */
#ifndef VAULT_ROUTE_H
#define VAULT_ROUTE_H

struct vault;

/* `disposal-report --municipality CODE [--from DAY] [--to DAY] --logs
 * ...`: 0 when every copy is disposed of, 1 when some are held, -1 for a
 * wrong call. */
int console_disposal_report(struct vault *v, int argc, char **argv);

/* `inspect-data --logs ...`: what is held now, per upload, and its route. */
int console_inspect_data(struct vault *v, int argc, char **argv);

/* `damage-scope --from WHEN --to WHEN --logs ...`: what each host held or
 * passed in an incident's window (R26). */
int console_damage_scope(struct vault *v, int argc, char **argv);

#endif
