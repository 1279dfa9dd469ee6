/*
 * config.h: the site configuration (one file, the same on every host) and
 * the small local configuration of each host. Both are libconfig files.
 *
 * Loading validates everything; an error names file, line and what is wrong
 * in struct config_error. Relative paths are taken relative to the file that
 * names them. site.c reads the site file into this model, local.c a host's
 * local file; both, and the vault's policies, read through config_read.h.
 */
#ifndef SK_CONFIG_H
#define SK_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <libconfig.h>

#include "config_read.h"
#include "netaddr.h"

#define CONFIG_ID_MAX 64	/* dataset, recipient, operator ids */
#define CONFIG_IDENTITY_MAX 256	/* certificate identity (SAN URI or CN) */
#define CONFIG_NAME_MAX 256	/* human-readable names */
#define CONFIG_COLUMNS_MAX 64	/* a dataset's expected header columns */
#define CONFIG_NETWORKS_MAX 64	/* networks per peer */
#define CONFIG_DATASETS_MAX 64	/* datasets a municipality may upload */
#define CONFIG_PEERS_MAX 4096	/* municipalities, recipients, operators */

struct config_listener {
	char address[64];	/* the address to bind */
	uint16_t port;
	char interface[32];	/* the interface it faces (for the firewall) */
	int interface_line;	/* where it is set in the site file, or 0 */
	char ca_file[PATH_MAX];	/* CA of the peers accepted here */
	char crl_file[PATH_MAX]; /* optional CRL; empty when none */
	/* The receiver's external listener only: also TLS 1.2 (ECDHE and
	 * AEAD ciphers), for municipalities on Windows before 11/Server
	 * 2022, whose own TLS stack has no 1.3 (issue 18). Default off. */
	int tls12;
};

#define CONFIG_SERVICES_MAX 4

struct config_host {
	char identity[CONFIG_IDENTITY_MAX];
	char address[64];	/* vault: the address it connects from */
	char sender_address[64]; /* vault: ... to the sender, if another */
	/* vault: the interfaces of its links to the receiver and to the
	 * sender, for its output rules ("": any) */
	char interface[32];
	char sender_interface[32];
	int interface_line, sender_interface_line;	/* or 0: not set */
	struct config_listener external;
	struct config_listener internal;
	/* The receiver's and the sender's time, name and log servers: the
	 * only egress besides the role's own (UDP 123; UDP and TCP 53; UDP
	 * 514). The vault has none (R05, R06). */
	struct netaddr ntp[CONFIG_SERVICES_MAX], dns[CONFIG_SERVICES_MAX];
	struct netaddr syslog[CONFIG_SERVICES_MAX];
	size_t nntp, ndns, nsyslog;
};

struct config_municipality {
	char id[7];		/* 6-digit local government code */
	char name[CONFIG_NAME_MAX];
	char identity[CONFIG_IDENTITY_MAX];
	struct netaddr networks[CONFIG_NETWORKS_MAX];
	size_t nnetworks;
	char datasets[CONFIG_DATASETS_MAX][CONFIG_ID_MAX];
	size_t ndatasets;
};

/* Download accounting on the sender (R16), per recipient, over a sliding
 * window. Zero means no threshold. */
struct config_downloads {
	unsigned window;		/* seconds */
	uint64_t warn_bytes, warn_files;	/* alert when reached */
	uint64_t limit_bytes, limit_files;	/* refuse (429) beyond */
};

struct config_recipient {
	char id[CONFIG_ID_MAX];
	char name[CONFIG_NAME_MAX];
	char identity[CONFIG_IDENTITY_MAX];
	struct netaddr networks[CONFIG_NETWORKS_MAX];
	size_t nnetworks;
	int envelope;		/* releases sealed to its certificate (CMS) */
	char certificate[PATH_MAX];	/* its certificate, for the vault */
	struct config_downloads downloads;	/* the site's, overridden */
	/* delivery = "push": the sender PUTs each release to the
	 * recipient's own endpoint and opens no listener for it */
	int push;
	char endpoint[512];		/* https://ADDRESS:PORT/PATH/ */
	char push_address[64];		/* ... its parts: an IP literal */
	uint16_t push_port;
	char push_path[384];		/* starts and ends with / */
	char endpoint_ca[PATH_MAX];	/* signs the endpoint's certificate */
	char endpoint_crl[PATH_MAX];	/* that CA's CRL, or "": none */
	char endpoint_name[256];	/* the DNS name it must carry */
	/* The register (R28): the contract a release is given under. A
	 * release goes only to a recipient whose contract is in force. */
	char contract[CONFIG_NAME_MAX];	/* 契約番号 */
	char purpose[CONFIG_NAME_MAX];	/* 利用目的 */
	char legal_basis[CONFIG_NAME_MAX];	/* 提供の根拠 */
	time_t valid_from;	/* inclusive, 00:00 UTC; 0: not given */
	time_t valid_until;	/* exclusive; 0: not given */
};

struct config_operator {
	char id[CONFIG_ID_MAX];
	char name[CONFIG_NAME_MAX];
	char public_key[PATH_MAX];
	time_t valid_from;	/* inclusive, 00:00 UTC */
	time_t valid_until;	/* exclusive, 00:00 UTC of the day after */
	char scope[CONFIG_NAME_MAX];	/* 取扱う特定個人情報の範囲 */
};

struct config_dataset {
	char id[CONFIG_ID_MAX];
	/* The register: why it is obtained and used, and who handles it. */
	char purpose[CONFIG_NAME_MAX];	/* 入手目的・利用目的 */
	char department[CONFIG_NAME_MAX];	/* 取扱部署 */
	/* R29: may its uploads carry My Numbers (個人番号)? When not, an
	 * upload that does is refused and its copy disposed of at once. */
	int my_numbers;		/* default 1: may, as the policy drops them */
	int my_numbers_line;	/* where it is said, 0: not said */
	uint64_t max_bytes;	/* largest accepted upload */
	unsigned retention_days;	/* undecided uploads, from receipt; 0: none */
	unsigned keep_source_days;	/* the vault's source after decision */
	int envelope;		/* uploads must be CMS enveloped */
	/* Checked by the receiver as the upload streams in (issue 18): its
	 * encoding, and the header row's columns (UTF-8 here) when given. */
	int check_encoding;	/* "encoding" or "columns" is set */
	int cp932;		/* encoding = "cp932" (else UTF-8) */
	char columns[CONFIG_COLUMNS_MAX][CONFIG_NAME_MAX];
	size_t ncolumns;
	int signed_by_muni;	/* ... and signed by the municipality inside */
	char policy[PATH_MAX];	/* the vault's processing policy; optional */
	int policy_line;	/* the site file's line that names it */
	/* The release: for whom, for how long, on how many approvals. */
	char recipients[CONFIG_DATASETS_MAX][CONFIG_ID_MAX];
	size_t nrecipients;
	unsigned release_days;	/* until the release expires */
	unsigned approvals;	/* distinct operators needed (R41) */
	unsigned max_downloads;	/* per recipient; 0: no limit */
	int approvals_line;	/* where approvals is set, for errors */
};

struct config_management {
	struct netaddr networks[CONFIG_NETWORKS_MAX];	/* admins' networks */
	size_t nnetworks;				/* 0: no SSH at all */
	uint16_t port;
	char interface[32];	/* SSH on this interface only ("": any) */
	int interface_line;
	int icmp_echo;		/* ping from those networks (default off) */
};

#define CONFIG_WARNINGS_MAX 16

struct site_config {
	char file[PATH_MAX];
	char digest[65];	/* sha-256 of the file as read (R54) */
	char name[CONFIG_NAME_MAX];
	/* The vault tells the receiver what became of each upload, for the
	 * city to read (issue 18); site.status_reports, default true. */
	int status_reports;
	struct config_host receiver, vault, sender;
	struct config_management management;
	struct config_downloads downloads;	/* defaults for recipients */
	struct config_municipality *municipalities;
	size_t nmunicipalities;
	struct config_recipient *recipients;
	size_t nrecipients;
	struct config_operator *operators;
	size_t noperators;
	struct config_dataset *datasets;
	size_t ndatasets;
	/* What is allowed but likely a mistake (check-config prints them,
	 * the daemons log them at start): "file:line: message". */
	char warnings[CONFIG_WARNINGS_MAX][320];
	size_t nwarnings;
};

enum config_role { ROLE_RECEIVER, ROLE_VAULT, ROLE_SENDER };

struct local_config {
	char file[PATH_MAX];
	enum config_role role;
	char user[33];			/* the service user it runs as */
	char site_file[PATH_MAX];
	char data_dir[PATH_MAX];
	char certificate[PATH_MAX];
	char key[PATH_MAX];
	char master_key[PATH_MAX];
	/* vault: the certificate municipalities encrypt envelopes to, and
	 * its key, apart from the TLS pair ("" when no dataset needs one) */
	char envelope_certificate[PATH_MAX];
	char envelope_key[PATH_MAX];
	/* vault: the pair that signs each release's manifest (CMS), a third
	 * one ("" when the site gives none: releases go unsigned) */
	char signing_certificate[PATH_MAX];
	char signing_key[PATH_MAX];
	char audit_log[PATH_MAX];
	char audit_key[PATH_MAX];	/* the chain's first key (auditor's) */
	uint64_t audit_reserve;		/* bytes held for the log (audit.reserve) */
	uint64_t audit_rotate_bytes;	/* audit.rotate_bytes; 0: never */
	int audit_rotate_monthly;	/* audit.rotate_monthly: at each month */
	unsigned audit_retention_days;	/* audit.retention_days; 0: keep all */
	int require_firewall;
	int use_syslog;
	int log_level;			/* enum log_level */
	unsigned max_connections;	/* concurrent connections served */
	unsigned read_timeout;		/* seconds without any byte */
	unsigned handshake_timeout;	/* seconds from accept to request head */
	unsigned max_unauthenticated;	/* connections not yet authorized */
	unsigned max_unauthenticated_per_source;	/* ... from one address */
	unsigned poll_interval;		/* vault: seconds between polls */
	unsigned min_rate;		/* bytes per second, body transfer */
	unsigned min_rate_grace;	/* seconds before min_rate applies */
	uint64_t disk_reserve;		/* bytes kept free on the data disk */
	unsigned refusal_interval;	/* seconds a refusal summary covers */
	unsigned push_retry;		/* seconds before a failed push is
					 * tried again, doubled up to 64x */
	unsigned resume_seconds;	/* receiver: a cut upload is held this
					 * long for resuming; 0: never */
	unsigned resume_uploads;	/* receiver: cut uploads kept at once */
	unsigned expiry_warn_days;	/* a CRL or certificate ending within
					 * this many days is warned of */
};

/* limits.expiry_warn_days's default: check-config, status, the log. */
#define CHECK_WARN_DAYS 30

#define LOCAL_AUDIT_RESERVE (UINT64_C(32) << 20)

/* Loads and validates a site file. The caller frees with site_config_free. */
int site_config_load(const char *path, struct site_config **out,
    struct config_error *err);

/* The same from text in memory; name is used in error messages. */
int site_config_load_string(const char *text, const char *name,
    struct site_config **out, struct config_error *err);

void site_config_free(struct site_config *site);

/* Loads and validates a host's local file into *out. */
int local_config_load(const char *path, struct local_config *out,
    struct config_error *err);

const struct config_municipality *site_find_municipality_by_identity(
    const struct site_config *site, const char *identity);
const struct config_recipient *site_find_recipient_by_identity(
    const struct site_config *site, const char *identity);
/* Recipients that take releases pushed to their endpoint; all: no
 * recipient pulls, so the sender opens no external listener. */
size_t site_push_recipients(const struct site_config *site);

const struct config_recipient *site_find_recipient(
    const struct site_config *site, const char *id);
/*
 * R27: the receiver's or the sender's part of the site file at path, as
 * text (the caller frees): without the roster, the policies and the
 * registers' texts, and without the recipients (the receiver's part) or the
 * municipalities (the sender's). It is checked to load as a site file.
 */
int site_part(const char *path, enum config_role role, char **out,
    struct config_error *err);

/* R28: 1 if the recipient's contract is in force at now (a recipient
 * without contract dates is always). */
int site_recipient_in_force(const struct config_recipient *rc, time_t now);
const struct config_municipality *site_find_municipality(
    const struct site_config *site, const char *id);
const struct config_dataset *site_find_dataset(const struct site_config *site,
    const char *id);
/*
 * The vault's check (R41): every dataset's approvals can be given by the
 * roster's operators who are, or will be, valid; else SK_ECONFIG with the
 * site file's line. (The receiver and the sender keep no roster.)
 */
int site_check_approvals(const struct site_config *site,
    struct config_error *err);

/* Returns 1 if the municipality may upload the dataset. */
int site_municipality_allows(const struct config_municipality *muni,
    const char *dataset);

const char *config_role_name(enum config_role role);

/* `show-config`: the local configuration and the site (either may be
 * NULL) with every default filled in, one "path value" line per setting
 * (config_show.c). 0, or -1 if f could not be written. */
int config_show(FILE *f, const struct local_config *local,
    const struct site_config *site);

#endif
