/*
 * approve.h: operators' signatures on releases (R41). An approval, a
 * rejection or a withdrawal is an Ed25519 or ECDSA P-256 signature, made
 * with the operator's private key at the vault's console, over the release
 * id, its dataset, the SHA-256 of the release, of its report and of its
 * codebook's two files, the recipients it goes to, whether it goes sealed,
 * the time and the action. The vault verifies every signature against the operator's public
 * key in the site's roster, within the roster's validity dates, each time
 * it counts them.
 */
#ifndef VAULT_APPROVE_H
#define VAULT_APPROVE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "config.h"
#include "job.h"

#define APPROVAL_REASON_MAX 120
#define APPROVAL_MSG_MAX 6144	/* the signed text, recipients and all */

/* The signed text of an action on a job by an operator at time t (unix
 * seconds, as recorded beside the signature). */
int approval_message(const struct job *j, const char *action,
    const char *operator_id, int64_t t, const char *reason, char *out,
    size_t cap);

/* Reads an operator's private key (PEM, owner-only; Ed25519 or ECDSA
 * P-256) into *out, which the caller frees with EVP_PKEY_free. */
int approval_load_key(const char *keyfile, EVP_PKEY **out, char *why,
    size_t whycap);

/* Signs msg with the key; the signature goes to sig_b64 as base64. */
int approval_sign(EVP_PKEY *key, const char *msg, char *sig_b64, size_t cap,
    char *why, size_t whycap);

/* Reads every operator's public key on the roster, in the roster's order,
 * into a new array (free it with approval_keys_free). */
int approval_keys_load(const struct site_config *site, EVP_PKEY ***out,
    char *why, size_t whycap);
void approval_keys_free(EVP_PKEY **keys, size_t n);

/* Verifies a signature by op, whose public key is k, valid at time now. */
int approval_verify(const struct config_operator *op, EVP_PKEY *k,
    const char *msg, const char *sig_b64, int64_t now, char *why,
    size_t whycap);

/* Appends "action operator time signature reason" to jobs/ID.approvals. */
int approval_record(int jobs_fd, const char *id, const char *action,
    const char *operator_id, int64_t t, const char *sig_b64,
    const char *reason);

/*
 * Counts the distinct operators whose signature for action on j verifies
 * now (keys: from approval_keys_load) (the same operator twice counts once). ops gets their ids, comma
 * separated; bad counts signatures that fail; reason gets the first valid
 * signer's reason (for a rejection).
 */
int approval_count(int jobs_fd, const struct site_config *site,
    EVP_PKEY *const *keys, const struct job *j, const char *action, int64_t now, unsigned *count,
    unsigned *bad, char *ops, size_t opscap, char *reason, size_t rcap);

const struct config_operator *site_find_operator(
    const struct site_config *site, const char *id);

#endif
