/*
 * codebook.h: the researcher's package that goes with every release
 * (issue 20): what each column is and what was done to it, the privacy
 * model and its figures, the terms of use, and a manifest of the files with
 * their SHA-256 that the vault signs (CMS), so that a recipient can prove
 * with openssl alone that the file is the one the operators approved.
 *
 * Everything here comes from the policy, the engine's report (checked by
 * the checker before anyone approved), the site's registers and the job:
 * names, counts, digests and dates, never a value of the data.
 */
#ifndef VAULT_CODEBOOK_H
#define VAULT_CODEBOOK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "job.h"
#include "policy.h"
#include "proto.h"

/* The package's files, as the sender serves them under the release. */
#define CODEBOOK_JSON PROTO_PKG_DATAPACKAGE
#define CODEBOOK_MD PROTO_PKG_CODEBOOK
#define CODEBOOK_MANIFEST PROTO_PKG_MANIFEST
#define CODEBOOK_SIGNATURE PROTO_PKG_SIGNATURE
#define CODEBOOK_MAX (1u << 20)		/* each file, at most */

/* What the release is, as the vault accepts it (the checker's verdict
 * given, before any operator signs). */
struct codebook_release {
	const struct job *job;		/* with its release id */
	const struct config_dataset *dataset;
	const struct config_recipient *const *to;	/* it is made for */
	size_t nto;
	uint64_t size;			/* of the table */
	int cms;			/* it goes as a CMS envelope */
	int64_t created;		/* accepted */
};

struct codebook {
	char *json;			/* datapackage.json */
	char *md;			/* codebook.md */
	char *manifest;			/* "SHA-256  name" lines */
	uint8_t *sig;			/* CMS SignedData (DER), detached */
	size_t siglen;
};

/* The release file's name as the recipient gets it: DATASET-ID16.csv,
 * with .cms when it is an envelope. */
void codebook_filename(const char *dataset, const char *release_id, int cms,
    char *out, size_t cap);

/*
 * Writes the codebook in both forms (json, md) for a release the vault
 * accepts; the operators sign their digests, and publication sends them
 * as they are. 0, or an error with why.
 */
int codebook_make(const struct policy *p, const char *report,
    const struct codebook_release *r, struct codebook *out, char *why,
    size_t whycap);

/*
 * At publication: the manifest of the release file as it goes (filename,
 * sha256: after sealing, for an envelope) and of the two codebook files in
 * cb, and its signature by key (whose certificate cert goes in it).
 */
int codebook_sign(struct codebook *cb, const char *filename,
    const char *sha256, X509 *cert, EVP_PKEY *key, char *why, size_t whycap);

/* The package as one JSON object (the files as strings, the signature in
 * base64), for the sender: a string to free, or NULL. */
char *codebook_bundle(const struct codebook *cb);

void codebook_free(struct codebook *cb);

#endif
