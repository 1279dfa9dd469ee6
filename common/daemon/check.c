/*
 * check.c: what `check-config` checks beyond the files' syntax: every
 * certificate, key, CA and CRL that `run` loads for this role (issue 15).
 * Each finding names the setting that points at the file, and the file;
 * errors fail the check, warnings (within `warn_days` of an end) do not.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon.h"
#include "sk.h"
#include "tls.h"

struct check {
	const char *conf;		/* the file whose setting names it */
	unsigned warn_days;
	unsigned errors, warnings;
};

static void
finding(struct check *ck, int error, const char *setting, const char *file,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
finding(struct check *ck, int error, const char *setting, const char *file,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: '%s' (%s): %s\n", ck->conf, error ? "error" :
	    "warning", setting, file, msg);
	if (error)
		ck->errors++;
	else
		ck->warnings++;
}

/* Days from now to t (negative: past). */
static int
days_to(const ASN1_TIME *t)
{
	int days = 0, secs = 0;

	if (ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
		return -100000;
	return days - (days < 0 || secs < 0 ? 1 : 0) + (days >= 0 && secs < 0 ?
	    1 : 0);
}

static void
check_dates(struct check *ck, const char *setting, const char *file,
    const char *what, X509 *x)
{
	int end = days_to(X509_get0_notAfter(x));

	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		finding(ck, 1, setting, file, "%s is not valid yet", what);
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		finding(ck, 1, setting, file, "%s has expired", what);
	else if (end < (int)ck->warn_days)
		finding(ck, 0, setting, file, "%s expires in %d days", what, end);
}

static STACK_OF(X509) *
read_certs(struct check *ck, const char *setting, const char *file)
{
	STACK_OF(X509) *v;
	int e;

	if ((v = tls_read_certs(file, &e)) == NULL && e == SK_ESYS)
		finding(ck, 1, setting, file, "cannot open: %s", strerror(errno));
	else if (v == NULL)
		finding(ck, 1, setting, file, "%s", e == SK_EFORMAT ?
		    "holds no PEM certificate" : "out of memory");
	return v;
}

/* A CA file: certificates, each in date. */
static STACK_OF(X509) *
check_ca(struct check *ck, const char *setting, const char *file)
{
	STACK_OF(X509) *v = read_certs(ck, setting, file);
	int i;

	for (i = 0; v != NULL && i < sk_X509_num(v); i++)
		check_dates(ck, setting, file, "a CA certificate",
		    sk_X509_value(v, i));
	return v;
}

static void
check_crl(struct check *ck, const char *setting, const char *file)
{
	const ASN1_TIME *next;
	X509_CRL *crl;
	FILE *fp;
	int d, n = 0;

	if (file[0] == '\0')
		return;
	if ((fp = fopen(file, "re")) == NULL) {
		finding(ck, 1, setting, file, "cannot open: %s", strerror(errno));
		return;
	}
	while ((crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL)) != NULL) {
		n++;
		next = X509_CRL_get0_nextUpdate(crl);
		if (next != NULL && X509_cmp_current_time(next) < 0)
			finding(ck, 1, setting, file, "the CRL's next update has "
			    "passed: every certificate of its CA is refused "
			    "until a new CRL is installed (sekisho-pki crl)");
		else if (next != NULL && (d = days_to(next)) < (int)ck->warn_days)
			finding(ck, 0, setting, file, "the CRL's next update is "
			    "in %d days: write and install a new one before "
			    "(sekisho-pki crl)", d);
		X509_CRL_free(crl);
	}
	fclose(fp);
	ERR_clear_error();
	if (n == 0)
		finding(ck, 1, setting, file, "holds no PEM CRL");
}

/* The host's own pair: readable, matching, in date, issued by the CA. */
static void
check_pair(struct check *ck, const char *cert_setting, const char *cert,
    const char *key_setting, const char *keyfile, STACK_OF(X509) *ca)
{
	STACK_OF(X509) *v = read_certs(ck, cert_setting, cert);
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	EVP_PKEY *pk = NULL;
	FILE *fp;
	X509 *x;
	int i;

	if (v == NULL)
		return;
	x = sk_X509_value(v, 0);
	check_dates(ck, cert_setting, cert, "the certificate", x);
	if ((fp = fopen(keyfile, "re")) == NULL)
		finding(ck, 1, key_setting, keyfile, "cannot open: %s",
		    strerror(errno));
	else {
		pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
		if (pk == NULL)
			finding(ck, 1, key_setting, keyfile, "holds no PEM "
			    "private key (or one with a passphrase)");
		else if (X509_check_private_key(x, pk) != 1)
			finding(ck, 1, key_setting, keyfile, "does not match "
			    "the certificate %s", cert);
	}
	if (ca != NULL && (store = X509_STORE_new()) != NULL &&
	    (ctx = X509_STORE_CTX_new()) != NULL) {
		for (i = 0; i < sk_X509_num(ca); i++)
			X509_STORE_add_cert(store, sk_X509_value(ca, i));
		if (X509_STORE_CTX_init(ctx, store, x, v) == 1 &&
		    X509_verify_cert(ctx) != 1)
			finding(ck, 1, cert_setting, cert, "is not issued by the "
			    "internal CA: %s", X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	sk_X509_pop_free(v, X509_free);
}

static void
check_listener(struct check *ck, const char *name,
    const struct config_listener *l)
{
	char setting[96];
	STACK_OF(X509) *v;

	snprintf(setting, sizeof(setting), "%s CA", name);
	if ((v = check_ca(ck, setting, l->ca_file)) != NULL)
		sk_X509_pop_free(v, X509_free);
	snprintf(setting, sizeof(setting), "%s CRL", name);
	check_crl(ck, setting, l->crl_file);
}

int
daemon_check_credentials(const struct local_config *local,
    const struct site_config *site, unsigned warn_days)
{
	unsigned errors, warnings;

	return daemon_check_credentials_counted(local, site, warn_days,
	    &errors, &warnings);
}

int
daemon_check_credentials_counted(const struct local_config *local,
    const struct site_config *site, unsigned warn_days, unsigned *errors,
    unsigned *warnings)
{
	struct check ck = { .conf = local->file, .warn_days = warn_days };
	const struct config_host *h = local->role == ROLE_RECEIVER ?
	    &site->receiver : local->role == ROLE_SENDER ? &site->sender :
	    NULL;
	STACK_OF(X509) *internal;
	size_t i;

	/* The internal CA signs every host's certificate. */
	internal = check_ca(&ck, "ca.internal",
	    site->receiver.internal.ca_file);
	check_pair(&ck, "certificate", local->certificate, "key", local->key,
	    internal);
	if (h != NULL) {
		check_listener(&ck, local->role == ROLE_RECEIVER ?
		    "receiver external (municipalities)" :
		    "sender external (recipients)", &h->external);
		check_listener(&ck, "internal (the vault)", &h->internal);
		/* Each push recipient's CA: the endpoint's certificate must
		 * chain to it (R03, push mode). */
		for (i = 0; local->role == ROLE_SENDER &&
		    i < site->nrecipients; i++)
			if (site->recipients[i].push) {
				sk_X509_pop_free(check_ca(&ck,
				    "recipients.endpoint_ca",
				    site->recipients[i].endpoint_ca), X509_free);
				check_crl(&ck, "recipients.endpoint_crl",
				    site->recipients[i].endpoint_crl);
			}
	} else {
		check_crl(&ck, "receiver internal CRL",
		    site->receiver.internal.crl_file);
		check_listener(&ck, "municipalities", &site->receiver.external);
		if (local->envelope_certificate[0] != '\0')
			check_pair(&ck, "envelope.certificate",
			    local->envelope_certificate, "envelope.key",
			    local->envelope_key, internal);
		if (local->signing_certificate[0] != '\0')
			check_pair(&ck, "signing.certificate",
			    local->signing_certificate, "signing.key",
			    local->signing_key, internal);
		for (i = 0; i < site->nrecipients; i++)
			if (site->recipients[i].certificate[0] != '\0')
				sk_X509_pop_free(read_certs(&ck,
				    "recipients.certificate",
				    site->recipients[i].certificate), X509_free);
	}
	if (internal != NULL)
		sk_X509_pop_free(internal, X509_free);
	if (ck.errors > 0 || ck.warnings > 0)
		fprintf(stderr, "%s: %u error(s), %u warning(s)\n", local->file,
		    ck.errors, ck.warnings);
	*errors = ck.errors;
	*warnings = ck.warnings;
	return ck.errors > 0 ? -1 : 0;
}

/* One interface the site names for this host: does it exist here? */
static unsigned
check_ifname(const struct site_config *site, const char *setting,
    const char *name, int line)
{
	if (name[0] == '\0' || if_nametoindex(name) != 0)
		return 0;
	fprintf(stderr, "%s:%d: warning: '%s' is \"%s\": no such interface "
	    "on this host (see `ip link`): the firewall's rules that name it "
	    "match no traffic\n", site->file, line, setting, name);
	return 1;
}

unsigned
daemon_check_interfaces(const struct local_config *local,
    const struct site_config *site)
{
	const struct config_host *h = local->role == ROLE_RECEIVER ?
	    &site->receiver : &site->sender;
	const char *role = local->role == ROLE_RECEIVER ? "receiver" :
	    "sender";
	char setting[64];
	unsigned n = 0;

	if (local->role == ROLE_VAULT) {
		n += check_ifname(site, "hosts.vault.interface",
		    site->vault.interface, site->vault.interface_line);
		if (strcmp(site->vault.sender_interface,
		    site->vault.interface) != 0)
			n += check_ifname(site, "hosts.vault.sender_interface",
			    site->vault.sender_interface,
			    site->vault.sender_interface_line);
	} else {
		snprintf(setting, sizeof(setting), "hosts.%s.external.interface",
		    role);
		n += check_ifname(site, setting, h->external.interface,
		    h->external.interface_line);
		snprintf(setting, sizeof(setting), "hosts.%s.internal.interface",
		    role);
		if (strcmp(h->internal.interface, h->external.interface) != 0)
			n += check_ifname(site, setting, h->internal.interface,
			    h->internal.interface_line);
	}
	if (site->management.nnetworks > 0)
		n += check_ifname(site, "management.interface",
		    site->management.interface, site->management.interface_line);
	return n;
}
