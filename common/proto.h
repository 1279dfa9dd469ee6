/*
 * proto.h: the contract between Sekisho's hosts, in one place: the paths
 * of the internal and external endpoints, the Sekisho-* header names, and
 * the receipt, written by the receiver and read by the vault with the
 * same codec. Both ends include this file; neither types a name by hand.
 *
 *   municipality -> receiver   PUT  /v1/uploads/{dataset}/{filename}
 *   vault -> receiver          GET  /v1/pending[?wait=N]
 *                              GET|HEAD /v1/pending/{id}
 *                              DELETE /v1/pending/{id}, Sekisho-Sha256
 *   vault -> sender            PUT  /v1/releases/{id}, Sekisho-Dataset,
 *                                   Sekisho-Recipients, Sekisho-Expires,
 *                                   Sekisho-Max-Downloads, Sekisho-Filename
 *                              DELETE /v1/releases/{id}, GET /v1/releases
 *   recipient -> sender        GET|HEAD /v1/releases[/{id}]
 */
#ifndef SK_PROTO_H
#define SK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PROTO_UPLOADS "/v1/uploads"
#define PROTO_PENDING "/v1/pending"
#define PROTO_RELEASES "/v1/releases"
#define PROTO_WAIT_MAX 60		/* seconds of a long-poll */

#define PROTO_H_SHA256 "Sekisho-Sha256"
#define PROTO_H_DATASET "Sekisho-Dataset"
#define PROTO_H_RECIPIENTS "Sekisho-Recipients"
#define PROTO_H_EXPIRES "Sekisho-Expires"
#define PROTO_H_MAX_DOWNLOADS "Sekisho-Max-Downloads"
#define PROTO_H_FILENAME "Sekisho-Filename"
/* R47: the vault's audit chain head at a publication, "seq=N mac=HEX",
 * recorded in the sender's log (witness.vault). */
#define PROTO_H_WITNESS "Sekisho-Witness"

/*
 * The researcher's package of a release (issue 20, vault/codebook.h): the
 * vault PUTs it after the release, to PROTO_RELEASES/ID/PROTO_PACKAGE, as
 * one JSON object whose members are these files (strings; the signature in
 * base64); a recipient of the release GETs each at PROTO_RELEASES/ID/NAME.
 */
#define PROTO_PACKAGE "package"
/* On the release's PUT: "1" when its package follows (the sender then
 * pushes the release only with it). */
#define PROTO_H_PACKAGE "Sekisho-Package"
#define PROTO_PKG_DATAPACKAGE "datapackage.json"
#define PROTO_PKG_CODEBOOK "codebook.md"
#define PROTO_PKG_MANIFEST "manifest"
#define PROTO_PKG_SIGNATURE "manifest.p7s"
#define PROTO_PACKAGE_MAX (4u << 20)

/* 1 if name is one of the package's files. */
int proto_package_file(const char *name);

/* 1 if text is a package: one JSON object with every file a string. */
int proto_package_valid(const char *text, size_t len);

/* 1 if s is "seq=N mac=HEX" with N decimal and HEX 64 lowercase digits. */
int proto_witness_valid(const char *s);
/* municipality -> receiver, on an upload: the receipt id of an earlier
 * upload of the same municipality and dataset that this one corrects. */
#define PROTO_H_REPLACES "Sekisho-Replaces"

/*
 * vault -> receiver: PUT /v1/status/{id} with Sekisho-State and, where it
 * applies, Sekisho-Reason and Sekisho-Line, no body: what became of an
 * upload the vault took, in a closed vocabulary (issue 18). The receiver
 * checks every field, stamps its own time, and keeps at most
 * PROTO_STATUS_MAX of them per upload; the city reads them with
 * GET /v1/uploads/{id}.
 */
#define PROTO_STATUS "/v1/status"
#define PROTO_H_STATE "Sekisho-State"
#define PROTO_H_REASON "Sekisho-Reason"
#define PROTO_H_LINE "Sekisho-Line"
#define PROTO_STATUS_MAX 8
/* With "disposed" only: the days (YYYY-MM-DD, UTC) the vault's copies and
 * the sender's went (R45). A day, not a time, and never before the
 * receipt nor after today: at most log2(days kept) bits each. */
#define PROTO_H_GONE_VAULT "Sekisho-Disposed-Vault"
#define PROTO_H_GONE_SENDER "Sekisho-Disposed-Sender"

/* Is s a day written YYYY-MM-DD? Its midnight (UTC) in *t. */
int proto_day(const char *s, int64_t *t);

/* Is s a state, a reason code of the vocabulary? Does the state need a
 * reason? */
int proto_status_state(const char *s);
int proto_status_reason(const char *s);
int proto_status_needs_reason(const char *state);

#define PROTO_ID_MAX 65			/* an upload id: hex */
#define PROTO_RECEIPT_MAX 1024

/*
 * The receipt of an upload: ids, sizes, digests and times, and the file
 * name the municipality chose (kept sealed with the upload; the vault does
 * not read it back). JSON: {"id","municipality","dataset","filename",
 * "size","sha256"[,"rows"],"received"}.
 */
struct proto_receipt {
	char id[PROTO_ID_MAX];
	char municipality[CONFIG_ID_MAX];
	char dataset[CONFIG_ID_MAX];
	const char *filename;		/* formatting only */
	uint64_t size;
	char sha256[65];
	int has_rows;
	uint64_t rows;
	char received[32];		/* RFC 3339, UTC */
	char replaces[PROTO_ID_MAX];	/* the receipt it corrects, or "" */
};

/*
 * R20: has an upload waited past its dataset's retention_days (0: no
 * limit) at `now`? 1 or 0; -1 if the receipt's time cannot be read.
 */
int proto_receipt_expired(const struct proto_receipt *r, unsigned days,
    int64_t now);

/* Writes the receipt's JSON into out; its length, or SK_ETOOBIG. */
int proto_receipt_format(const struct proto_receipt *r, char *out,
    size_t cap);

/* Reads a receipt: every field but the file name, each checked (the id
 * and the digest hex of their lengths). 0 or SK_EFORMAT. */
int proto_receipt_parse(const char *text, size_t len,
    struct proto_receipt *r);

#endif
