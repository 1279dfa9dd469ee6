/*
 * inspect.h: `sekisho-ROLE -c CONF inspect [--key KEY0]`: every check that
 * proves a requirement on this live host, as a table (issue 16, item 7).
 */
#ifndef SK_INSPECT_H
#define SK_INSPECT_H

#include "config.h"

/* Prints the table; 0 all passed, 1 a warning, 2 a failure, -1 for a wrong
 * call. */
int daemon_inspect(const struct local_config *local,
    const struct site_config *site, int argc, char **argv);

#endif
