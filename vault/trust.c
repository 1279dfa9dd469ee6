/*
 * trust.c: what main loads as root before its sandbox: every dataset's
 * policy, the operators' public keys, the recipients' certificates, the
 * municipalities' CA and CRL (also as bytes, for the engines) and the
 * envelope pair; and the policies again when they change on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "approve.h"
#include "engine.h"
#include "envelope.h"
#include "log.h"
#include "sk.h"
#include "policy.h"
#include "roster.h"
#include "sandbox.h"
#include "util.h"
#include "vaultd.h"

/* A whole file into memory (at most ENGINE_PEM_MAX); secret: a key. */
static int
read_file(const char *path, int secret, uint8_t **out, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd, e = 0;

	*out = NULL;
	*len = 0;
	if (secret ? util_open_secret(path, &fd) != 0 :
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return SK_ESYS;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size > ENGINE_PEM_MAX ||
	    (*out = malloc((size_t)st.st_size)) == NULL)
		e = SK_ETOOBIG;
	else if ((n = read(fd, *out, (size_t)st.st_size)) != st.st_size)
		e = SK_ESYS;
	close(fd);
	if (e != 0) {
		if (*out != NULL)
			sk_wipe(*out, (size_t)st.st_size);
		free(*out);
		*out = NULL;
		return e;
	}
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * The envelope pair: what municipalities encrypt to, kept apart from the
 * TLS pair (a TLS key can then be renewed, or lost, on its own). Needed
 * when a dataset takes envelopes; checked here to match, so that a wrong
 * key is a start-up error, not a rejected upload.
 */
static void
load_envelope_pair(struct vault *v)
{
	X509 *x;
	EVP_PKEY *k;
	size_t i;

	for (i = 0; i < v->site->ndatasets; i++)
		if (v->site->datasets[i].envelope)
			break;
	if (i == v->site->ndatasets)
		return;
	if (v->local.envelope_key[0] == '\0')
		fatalx("%s: dataset %s takes envelopes (envelope = true), so "
		    "this file needs envelope: { certificate = ...; key = ...; "
		    "}, a pair of its own apart from the TLS key (sekisho-pki "
		    "host vault makes it)", v->local.file,
		    v->site->datasets[i].id);
	if (read_file(v->local.envelope_certificate, 0, &v->env_cert,
	    &v->env_certlen) != 0)
		fatalx("%s: cannot read the envelope certificate %s",
		    v->local.file, v->local.envelope_certificate);
	if (read_file(v->local.envelope_key, 1, &v->env_key,
	    &v->env_keylen) != 0)
		fatalx("%s: cannot read the envelope key %s (it must be a "
		    "file of its owner alone)", v->local.file,
		    v->local.envelope_key);
	if (envelope_pair_pem(v->env_cert, v->env_certlen, v->env_key,
	    v->env_keylen, &x, &k) != 0)
		fatalx("%s: the envelope key %s does not load or does not "
		    "match its certificate %s", v->local.file,
		    v->local.envelope_key, v->local.envelope_certificate);
	X509_free(x);
	EVP_PKEY_free(k);
}

/*
 * The signing pair: what each release's manifest is signed with (CMS), so
 * that a recipient can check a release with openssl alone. Optional; a
 * vault without one publishes releases without their package, and says so.
 */
void
vault_load_signing(struct vault *v)
{
	char why[512];
	FILE *fp;
	int fd;

	if (v->local.signing_key[0] == '\0') {
		log_warnx("%s: no signing: { certificate; key; }: releases go "
		    "without a codebook and a signed manifest", v->local.file);
		return;
	}
	if ((v->sign_cert = envelope_read_cert(v->local.signing_certificate,
	    why, sizeof(why))) == NULL)
		fatalx("%s: signing: %s", v->local.file, why);
	if (util_open_secret(v->local.signing_key, &fd) != 0 ||
	    (fp = fdopen(fd, "r")) == NULL)
		fatalx("%s: cannot read the signing key %s (it must be a "
		    "regular file that only its owner may read)",
		    v->local.file, v->local.signing_key);
	v->sign_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (v->sign_key == NULL || X509_check_private_key(v->sign_cert,
	    v->sign_key) != 1)
		fatalx("%s: the signing key %s does not load or does not match "
		    "its certificate %s", v->local.file, v->local.signing_key,
		    v->local.signing_certificate);
	ERR_clear_error();
}

void
vault_load_trust(struct vault *v)
{
	const struct config_listener *muni = &v->site->receiver.external;
	char why[512];
	size_t i;

	if (approval_keys_load(v->site, &v->op_keys, why, sizeof(why)) != 0)
		fatalx("%s", why);
	if ((v->recip_certs = calloc(v->site->nrecipients + 1,
	    sizeof(*v->recip_certs))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < v->site->nrecipients; i++)
		if (v->site->recipients[i].certificate[0] != '\0' &&
		    (v->recip_certs[i] = envelope_read_cert(
		    v->site->recipients[i].certificate, why, sizeof(why))) ==
		    NULL)
			fatalx("recipient %s: %s", v->site->recipients[i].id, why);
	if ((v->muni_store = envelope_muni_store(muni->ca_file,
	    muni->crl_file)) == NULL)
		fatalx("cannot load the municipalities' CA %s or its CRL",
		    muni->ca_file);
	if (read_file(muni->ca_file, 0, &v->muni_ca, &v->muni_calen) != 0 ||
	    (muni->crl_file[0] != '\0' && read_file(muni->crl_file, 0,
	    &v->muni_crl, &v->muni_crllen) != 0))
		fatalx("cannot read the municipalities' CA %s or its CRL",
		    muni->ca_file);
	load_envelope_pair(v);
	vault_load_signing(v);
}

void
vault_free_trust(struct vault *v)
{
	size_t i;

	approval_keys_free(v->op_keys, v->site->noperators);
	for (i = 0; v->recip_certs != NULL && i < v->site->nrecipients; i++)
		X509_free(v->recip_certs[i]);
	free(v->recip_certs);
	X509_STORE_free(v->muni_store);
	X509_free(v->sign_cert);
	EVP_PKEY_free(v->sign_key);
	if (v->env_key != NULL)
		sk_wipe(v->env_key, v->env_keylen);
	free(v->env_key);
	free(v->env_cert);
	free(v->muni_ca);
	free(v->muni_crl);
	v->env_key = v->env_cert = v->muni_ca = v->muni_crl = NULL;
	v->op_keys = NULL;
	v->recip_certs = NULL;
	v->muni_store = NULL;
}

/* Each file a policy reads: the policy and the tables it names. */
static size_t
policy_files(const struct policy *p, const char **out, size_t cap)
{
	size_t n = 0, i;

	if (n < cap)
		out[n++] = p->file;
	for (i = 0; i < p->ncols; i++)
		if (p->cols[i].file[0] != '\0' && n < cap)
			out[n++] = p->cols[i].file;
	if (p->t_hier.file[0] != '\0' && n < cap)
		out[n++] = p->t_hier.file;
	if (p->pop_file[0] != '\0' && n < cap)
		out[n++] = p->pop_file;
	return n;
}

/* A digest of what files are now (path, inode, size, times, or the error
 * of stat): equal while nothing was written, moved or replaced. */
static void
files_stamp(const char *const *files, size_t n, uint8_t out[32])
{
	char line[PATH_MAX + 160];
	struct stat st;
	EVP_MD_CTX *md;
	unsigned len = 0;
	size_t i;

	memset(out, 0, 32);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("out of memory");
	for (i = 0; i < n; i++) {
		if (stat(files[i], &st) != 0)
			snprintf(line, sizeof(line), "%s error %d\n", files[i],
			    errno);
		else
			snprintf(line, sizeof(line), "%s %llu %llu %lld %lld.%09ld "
			    "%lld.%09ld\n", files[i],
			    (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino,
			    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			    st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
			    st.st_ctim.tv_nsec);
		EVP_DigestUpdate(md, line, strlen(line));
	}
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
}

/* The stamp of the files a policy reads (p NULL: of path alone). */
static void
policy_stamp(const struct policy *p, const char *path, uint8_t out[32])
{
	const char *files[64];
	size_t n;

	n = p != NULL ? policy_files(p, files, SK_ARRAY_LEN(files)) : 0;
	if (n == 0) {
		files[0] = path;
		n = 1;
	}
	files_stamp(files, n, out);
}

/* A refusal is said once for what is on disk now (its stamp), not at
 * every look: 1 the first time, which notes it. */
static int
first_refusal(uint8_t said[32], const uint8_t now[32])
{
	if (memcmp(said, now, 32) == 0)
		return 0;
	memcpy(said, now, 32);
	return 1;
}

void
vault_load_policies(struct vault *v)
{
	struct config_error err;
	const char *files[64];
	size_t i, n, k;

	if ((v->policies = calloc(v->site->ndatasets + 1,
	    sizeof(*v->policies))) == NULL ||
	    (v->policy_seen = calloc(v->site->ndatasets + 1,
	    sizeof(*v->policy_seen))) == NULL ||
	    (v->policy_refused = calloc(v->site->ndatasets + 1,
	    sizeof(*v->policy_refused))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < v->site->ndatasets; i++) {
		if (v->site->datasets[i].policy[0] == '\0')
			continue;
		memset(&err, 0, sizeof(err));
		if (policy_load(v->site->datasets[i].policy, &v->policies[i],
		    &err) != 0 && err.line == 0)
			/* The file itself: say which line of the site names
			 * it. */
			fatalx("%s:%d: dataset %s: policy %s: %s",
			    v->site->file, v->site->datasets[i].policy_line,
			    v->site->datasets[i].id, err.file, err.message);
		else if (v->policies[i] == NULL)
			fatalx("%s:%d: %s", err.file, err.line, err.message);
		policy_stamp(v->policies[i], NULL, v->policy_seen[i]);
		/* Main may read the tables' folders again after its
		 * sandbox closes (the policy's own are the site's). */
		n = policy_files(v->policies[i], files, SK_ARRAY_LEN(files));
		for (k = 1; k < n; k++)
			sandbox_read_also(files[k], "policy table");
		log_info("dataset %s: policy %s, digest %s",
		    v->site->datasets[i].id, v->site->datasets[i].policy,
		    v->policies[i]->digest);
	}
}

/* One dataset's policy, if what it was read from changed. */
static void
policy_refresh_one(struct vault *v, size_t i)
{
	const struct config_dataset *ds = &v->site->datasets[i];
	struct config_error err;
	struct policy *np = NULL, *old = v->policies[i];
	uint8_t now[32];
	char detail[512];

	policy_stamp(old, ds->policy, now);
	if (memcmp(now, v->policy_seen[i], 32) == 0)
		return;
	memset(&err, 0, sizeof(err));
	if (policy_load(ds->policy, &np, &err) != 0) {
		policy_free(np);
		if (!first_refusal(v->policy_refused[i], now))
			return;
		log_errorx("%s:%d: %s; dataset %s keeps the policy in use "
		    "(sha256 %s)", err.file, err.line, err.message, ds->id,
		    old->digest);
		snprintf(detail, sizeof(detail), "dataset=%s line=%d %.400s",
		    ds->id, err.line, err.message);
		(void)vault_audit(v, "policy.refused", NULL, 0, 0, NULL,
		    detail);
		return;
	}
	policy_stamp(np, NULL, v->policy_seen[i]);
	snprintf(detail, sizeof(detail), "dataset=%s previous=%s", ds->id,
	    old->digest);
	if (vault_audit(v, "policy.changed", NULL, 0, 0, np->digest,
	    detail) != 0) {
		/* Not recorded: not taken (R54); tried again at the next
		 * look. */
		memset(v->policy_seen[i], 0, 32);
		policy_free(np);
		return;
	}
	log_info("dataset %s: policy %s changed on disk: checked (sha256 %s, "
	    "was %s); the next jobs use it", ds->id, ds->policy, np->digest,
	    old->digest);
	v->policies[i] = np;
	policy_free(old);
}

void
vault_policies_refresh(struct vault *v, int ds)
{
	size_t i;

	/* Taken once it can be recorded (R50, R54). */
	if (audit_broken(v->audit))
		return;
	for (i = 0; i < v->site->ndatasets; i++)
		if (v->policies[i] != NULL && (ds < 0 || (size_t)ds == i))
			policy_refresh_one(v, i);
}

int
vault_show_policies(struct vault *v, FILE *f)
{
	char prefix[300];
	size_t i;

	vault_load_policies(v);
	for (i = 0; i < v->site->ndatasets; i++) {
		if (v->policies[i] == NULL)
			continue;
		snprintf(prefix, sizeof(prefix), "datasets.%s.policy.",
		    v->site->datasets[i].id);
		policy_show(f, prefix, v->policies[i]);
	}
	vault_free_policies(v);
	return fflush(f) == 0 && !ferror(f) ? 0 : 1;
}

void
vault_free_policies(struct vault *v)
{
	size_t i;

	for (i = 0; v->policies != NULL && i < v->site->ndatasets; i++)
		policy_free(v->policies[i]);
	free(v->policies);
	free(v->policy_seen);
	free(v->policy_refused);
	v->policies = NULL;
	v->policy_seen = v->policy_refused = NULL;
}

/* ---- the roster (issue 15) ---- */

/* The stamp of the site file and of the operators' public keys. */
static void
roster_stamp(const struct vault *v, const struct site_config *site,
    uint8_t out[32])
{
	const char *files[CONFIG_PEERS_MAX + 1];
	size_t n = 0, i;

	files[n++] = v->local.site_file;
	for (i = 0; i < site->noperators && n < SK_ARRAY_LEN(files); i++)
		files[n++] = site->operators[i].public_key;
	files_stamp(files, n, out);
}

void
vault_roster_watch(struct vault *v)
{
	size_t i;

	roster_stamp(v, v->site, v->roster_seen);
	sandbox_read_also(v->local.site_file, "site file");
	for (i = 0; i < v->site->noperators; i++)
		sandbox_read_also(v->site->operators[i].public_key,
		    "operator's key");
}

/* Says once, for what is on disk now, why the roster is not taken. */
static void
roster_refuse(struct vault *v, const uint8_t now[32], const char *why,
    int line)
{
	char detail[640];

	if (!first_refusal(v->roster_refused, now))
		return;
	log_errorx("%s; the roster in use stays (%zu operators)", why,
	    v->site->noperators);
	snprintf(detail, sizeof(detail), "line=%d %.500s", line, why);
	(void)vault_audit(v, "roster.refused", NULL, 0, 0, NULL, detail);
}

void
vault_roster_refresh(struct vault *v)
{
	struct config_operator *ops;
	struct site_config *ns = NULL;
	struct config_error err;
	EVP_PKEY **keys = NULL;
	uint8_t now[32];
	char why[600];
	size_t n;

	/* Taken once it can be recorded (R50, R54). */
	if (audit_broken(v->audit))
		return;
	roster_stamp(v, v->site, now);
	if (memcmp(now, v->roster_seen, 32) == 0)
		return;
	memset(&err, 0, sizeof(err));
	if (site_config_load(v->local.site_file, &ns, &err) != 0) {
		snprintf(why, sizeof(why), "%.300s:%d: %.280s", err.file, err.line,
		    err.message);
		roster_refuse(v, now, why, err.line);
		return;
	}
	if (approval_keys_load(ns, &keys, why, sizeof(why)) != 0) {
		roster_refuse(v, now, why, 0);
		site_config_free(ns);
		return;
	}
	/* The operators and their keys only: the rest of the site (the
	 * datasets, recipients, addresses) is taken at a restart. */
	roster_stamp(v, ns, v->roster_seen);
	ops = v->site->operators;
	n = v->site->noperators;
	v->site->operators = ns->operators;
	v->site->noperators = ns->noperators;
	ns->operators = ops;
	approval_keys_free(v->op_keys, n);
	v->op_keys = keys;
	log_info("the site file changed on disk (sha256 %s): its roster is "
	    "in use (%zu operators); any other change is taken at a restart",
	    ns->digest, v->site->noperators);
	site_config_free(ns);
	(void)roster_record(v);
}
