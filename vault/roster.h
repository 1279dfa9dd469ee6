/*
 * roster.h: the operators' roster as each version of it was in force
 * (issue 16, R42). The daemon keeps every version of the roster it starts
 * with in data_dir/roster/, a file named by the version's SHA-256, and
 * records each change in the audit log (roster.changed, with the new and
 * the previous digest), so that form 7 (特定個人情報事務取扱者名簿) prints
 * the roster of any past period, not only today's.
 *
 * A version holds, per operator: id, name, scope (取扱う特定個人情報の範
 * 囲), the roster's dates and the SHA-256 of the public key. Staff, not
 * residents: no personal data of the data the vault handles.
 */
#ifndef VAULT_ROSTER_H
#define VAULT_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ROSTER_DIR "roster"

struct vault;

struct roster_entry {
	char id[CONFIG_ID_MAX];
	char name[CONFIG_NAME_MAX];
	char scope[CONFIG_NAME_MAX];
	int64_t valid_from, valid_until;	/* as struct config_operator */
	char key_sha256[65];
};

/* The daemon, at start-up: keeps the roster in force and records it when
 * it is new or changed. 0, or an error (logged). */
int roster_record(struct vault *v);

/* Reads the version named by its digest (hex) from data_dir/roster/ into a
 * new array; 0, or an error (missing, unreadable, or not that digest). */
int roster_read(struct vault *v, const char *sha256, struct roster_entry **out,
    size_t *n);

#endif
