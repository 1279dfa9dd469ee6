/*
 * site.c: the site file, the same on every host: the hosts, the CAs, the
 * municipalities, the recipients, the operators and the datasets, each
 * checked as it is read, every error with file, line and a plain message
 * (see config.h). Its digest is logged at start-up (R54).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/evp.h>

#include "config.h"
#include "log.h"
#include "sk.h"

/* Ids of datasets, recipients and operators: letters, digits, . _ - */
static int
valid_id(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		    s[i] == '-'))
			return 0;
	return 1;
}

/*
 * A local government code (全国地方公共団体コード) is five digits and a
 * check digit: the last digit of 11 minus the weighted sum (6,5,4,3,2) mod 11.
 */
static int
valid_lg_code(const char *s)
{
	static const int weight[5] = { 6, 5, 4, 3, 2 };
	int i, sum = 0;

	if (strlen(s) != 6)
		return 0;
	for (i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	for (i = 0; i < 5; i++)
		sum += (s[i] - '0') * weight[i];
	return (11 - sum % 11) % 10 == s[5] - '0';
}

/*
 * An interface name as the kernel takes it (at most 15 bytes) and as the
 * firewall writes it into a rule: letters, digits, '.', '_' and '-'.
 */
static int
load_ifname(struct config_ctx *cx, const config_setting_t *g,
    const char *name, char *out, size_t cap, int *line)
{
	const config_setting_t *s;
	const char *p;
	int r;

	if ((r = config_string(cx, g, name, out, cap, 0)) != 0)
		return r;
	*line = (s = config_member(cx, g, name)) != NULL ?
	    config_setting_source_line(s) : 0;
	for (p = out; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			break;
	if (*p != '\0' || strlen(out) > 15)
		return config_fail(cx, config_member(cx, g, name), "'%s' must "
		    "be an interface name (at most 15 letters, digits, '.', "
		    "'_' or '-')", name);
	return 0;
}

static int
load_listener(struct config_ctx *cx, const config_setting_t *host,
    const char *name, const char *default_ca, const char *default_crl,
    struct config_listener *l)
{
	const config_setting_t *g;
	struct netaddr na;
	unsigned port;
	int r;

	if ((g = config_group(cx, host, name, &r)) == NULL)
		return r;
	if ((r = config_string(cx, g, "address", l->address, sizeof(l->address),
	    1)) != 0)
		return r;
	if (netaddr_parse(l->address, &na) != 0 ||
	    na.prefixlen != (na.family == AF_INET ? 32u : 128u))
		return config_fail(cx, config_member(cx, g, "address"),
		    "'address' must be an IPv4 or IPv6 address");
	if ((r = config_unsigned(cx, g, "port", 1, 65535, 0, &port)) != 0)
		return r;
	if (port == 0)
		return config_fail(cx, g, "missing setting 'port'");
	l->port = (uint16_t)port;
	if ((r = load_ifname(cx, g, "interface", l->interface,
	    sizeof(l->interface), &l->interface_line)) != 0)
		return r;
	if ((r = config_path(cx, g, "ca", l->ca_file, sizeof(l->ca_file), 0)) != 0 ||
	    (r = config_bool(cx, g, "tls12", 0, &l->tls12)) != 0)
		return r;
	if (l->ca_file[0] == '\0')
		snprintf(l->ca_file, sizeof(l->ca_file), "%s", default_ca);
	if ((r = config_path(cx, g, "crl", l->crl_file, sizeof(l->crl_file),
	    0)) != 0)
		return r;
	if (l->crl_file[0] == '\0')
		snprintf(l->crl_file, sizeof(l->crl_file), "%s", default_crl);
	return 0;
}

struct site_cas {
	char muni[PATH_MAX], muni_crl[PATH_MAX];
	char recip[PATH_MAX], recip_crl[PATH_MAX];
	char internal[PATH_MAX], internal_crl[PATH_MAX];
};

static int
load_cas(struct config_ctx *cx, const config_setting_t *root, struct site_cas *ca)
{
	const config_setting_t *g;
	int r;

	if ((g = config_group(cx, root, "ca", &r)) == NULL)
		return r;
	if ((r = config_path(cx, g, "municipalities", ca->muni, PATH_MAX, 1)) ||
	    (r = config_path(cx, g, "municipalities_crl", ca->muni_crl, PATH_MAX,
	    0)) ||
	    (r = config_path(cx, g, "recipients", ca->recip, PATH_MAX, 1)) ||
	    (r = config_path(cx, g, "recipients_crl", ca->recip_crl, PATH_MAX,
	    0)) ||
	    (r = config_path(cx, g, "internal", ca->internal, PATH_MAX, 1)) ||
	    (r = config_path(cx, g, "internal_crl", ca->internal_crl, PATH_MAX, 0)))
		return r;
	/* One CA for both sides would let a recipient reach the receiver. */
	if (strcmp(ca->muni, ca->recip) == 0 ||
	    strcmp(ca->muni, ca->internal) == 0 ||
	    strcmp(ca->recip, ca->internal) == 0)
		return config_fail(cx, g, "the municipalities, recipients and "
		    "internal CAs must be three different files");
	return 0;
}

/* An optional list of a host's servers: plain addresses. */
static int
load_servers(struct config_ctx *cx, const config_setting_t *g,
    const char *name, struct netaddr *out, size_t *n)
{
	const config_setting_t *list = config_member(cx, g, name);
	const char *v;
	int i, len;

	*n = 0;
	if (list == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return config_fail(cx, list, "'%s' must be a list of addresses",
		    name);
	len = config_setting_length(list);
	if (len > CONFIG_SERVICES_MAX)
		return config_fail(cx, list, "'%s' has more than %d servers",
		    name, CONFIG_SERVICES_MAX);
	for (i = 0; i < len; i++) {
		v = config_setting_get_string_elem(list, i);
		if (v == NULL || netaddr_parse(v, &out[i]) != 0 ||
		    out[i].prefixlen != (out[i].family == AF_INET ? 32 : 128))
			return config_fail(cx, list, "%s server %d is not an "
			    "IPv4 or IPv6 address", name, i + 1);
	}
	*n = (size_t)len;
	return 0;
}

static int
load_host_servers(struct config_ctx *cx, const config_setting_t *g,
    struct config_host *h)
{
	int r;

	if ((r = load_servers(cx, g, "ntp", h->ntp, &h->nntp)) != 0 ||
	    (r = load_servers(cx, g, "dns", h->dns, &h->ndns)) != 0)
		return r;
	return load_servers(cx, g, "syslog", h->syslog, &h->nsyslog);
}

static int
load_hosts(struct config_ctx *cx, const config_setting_t *root,
    const struct site_cas *ca, struct site_config *site)
{
	const config_setting_t *hosts, *g;
	struct netaddr na;
	int r;

	if ((hosts = config_group(cx, root, "hosts", &r)) == NULL)
		return r;
	if ((g = config_group(cx, hosts, "receiver", &r)) == NULL ||
	    (r = config_string(cx, g, "identity", site->receiver.identity,
	    CONFIG_IDENTITY_MAX, 1)) ||
	    (r = load_listener(cx, g, "external", ca->muni, ca->muni_crl,
	    &site->receiver.external)) ||
	    (r = load_listener(cx, g, "internal", ca->internal,
	    ca->internal_crl, &site->receiver.internal)) ||
	    (r = load_host_servers(cx, g, &site->receiver)))
		return r;
	if (site->receiver.internal.tls12)
		return config_fail(cx, config_member(cx, g, "internal"),
		    "tls12 is for the municipalities' listener only: between "
		    "the hosts it is TLS 1.3");
	if ((g = config_group(cx, hosts, "sender", &r)) == NULL ||
	    (r = config_string(cx, g, "identity", site->sender.identity,
	    CONFIG_IDENTITY_MAX, 1)) ||
	    (r = load_listener(cx, g, "external", ca->recip, ca->recip_crl,
	    &site->sender.external)) ||
	    (r = load_listener(cx, g, "internal", ca->internal,
	    ca->internal_crl, &site->sender.internal)) ||
	    (r = load_host_servers(cx, g, &site->sender)))
		return r;
	if (site->sender.internal.tls12 || site->sender.external.tls12)
		return config_fail(cx, g, "tls12 is for the receiver's "
		    "municipalities' listener only: the sender speaks TLS 1.3");
	if ((g = config_group(cx, hosts, "vault", &r)) == NULL ||
	    (r = config_string(cx, g, "identity", site->vault.identity,
	    CONFIG_IDENTITY_MAX, 1)) ||
	    (r = config_string(cx, g, "address", site->vault.address,
	    sizeof(site->vault.address), 1)))
		return r;
	if (netaddr_parse(site->vault.address, &na) != 0)
		return config_fail(cx, config_member(cx, g, "address"),
		    "'address' must be an IPv4 or IPv6 address");
	if (config_member(cx, g, "ntp") != NULL ||
	    config_member(cx, g, "dns") != NULL ||
	    config_member(cx, g, "syslog") != NULL)
		return config_fail(cx, g, "the vault reaches the receiver's "
		    "and the sender's internal listeners only (R06): no ntp, "
		    "dns or syslog servers; it keeps its own clock, and its "
		    "logs are read at its console");
	/* A vault with a link of its own to each server has two addresses. */
	if ((r = config_string(cx, g, "sender_address",
	    site->vault.sender_address, sizeof(site->vault.sender_address),
	    0)) != 0)
		return r;
	if (site->vault.sender_address[0] == '\0')
		memcpy(site->vault.sender_address, site->vault.address,
		    sizeof(site->vault.address));
	else if (netaddr_parse(site->vault.sender_address, &na) != 0)
		return config_fail(cx, config_member(cx, g,
		    "sender_address"), "'sender_address' must be an IPv4 or "
		    "IPv6 address");
	/* Its links' interfaces, for its output rules (R05, R06). */
	if ((r = load_ifname(cx, g, "interface", site->vault.interface,
	    sizeof(site->vault.interface), &site->vault.interface_line)) != 0 ||
	    (r = load_ifname(cx, g, "sender_interface",
	    site->vault.sender_interface, sizeof(site->vault.sender_interface),
	    &site->vault.sender_interface_line)) != 0)
		return r;
	if (site->vault.sender_interface[0] == '\0') {
		memcpy(site->vault.sender_interface, site->vault.interface,
		    sizeof(site->vault.interface));
		site->vault.sender_interface_line = site->vault.interface_line;
	}
	return 0;
}

static int
load_networks(struct config_ctx *cx, const config_setting_t *peer,
    struct netaddr *nets, size_t *count)
{
	const config_setting_t *list = config_member(cx, peer,
	    "networks");
	const char *v;
	int i, n;

	if (list == NULL)
		return config_fail(cx, peer, "missing setting 'networks'");
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return config_fail(cx, list, "'networks' must be a list of "
		    "\"address/prefix\" strings");
	n = config_setting_length(list);
	if (n < 1 || n > CONFIG_NETWORKS_MAX)
		return config_fail(cx, list, "'networks' must have 1 to %d entries",
		    CONFIG_NETWORKS_MAX);
	for (i = 0; i < n; i++) {
		v = config_setting_get_string_elem(list, i);
		if (v == NULL || netaddr_parse(v, &nets[i]) != 0)
			return config_fail(cx, list, "network %d is not an address "
			    "or address/prefix with zero host bits", i + 1);
	}
	*count = (size_t)n;
	return 0;
}

/* release: { recipients = [ ... ]; days = 30; approvals = 2;
 *           max_downloads = 0; }; checked against the recipients later. */
static int
load_release(struct config_ctx *cx, const config_setting_t *e,
    struct config_dataset *d)
{
	const config_setting_t *g = config_member(cx, e, "release"),
	    *list, *it, *g2;
	int r;

	d->release_days = 30;
	d->approvals = 2;
	d->approvals_line = config_setting_source_line(e);
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return config_fail(cx, g, "'release' must be a group");
	if ((r = config_unsigned(cx, g, "days", 1, 3650, 30,
	    &d->release_days)) ||
	    (r = config_unsigned(cx, g, "approvals", 0, 16, 2,
	    &d->approvals)) ||
	    (r = config_unsigned(cx, g, "max_downloads", 0, 1000000, 0,
	    &d->max_downloads)))
		return r;
	d->approvals_line = (g2 = config_member(cx, g, "approvals")) !=
	    NULL ? config_setting_source_line(g2) :
	    config_setting_source_line(g);
	/* R41: two distinct persons, always. */
	if (d->approvals < 2)
		return config_fail(cx, config_member(cx, g,
		    "approvals"), "'approvals' is %u: one operator could "
		    "publish alone; at least 2 distinct operators must sign "
		    "(R41)", d->approvals);
	if ((list = config_member(cx, g, "recipients")) == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return config_fail(cx, list, "'recipients' must be a list of "
		    "recipient ids");
	for (d->nrecipients = 0; (it = config_setting_get_elem(list,
	    (unsigned)d->nrecipients)) != NULL; d->nrecipients++) {
		if (d->nrecipients == CONFIG_DATASETS_MAX ||
		    config_setting_type(it) != CONFIG_TYPE_STRING ||
		    strlen(config_setting_get_string(it)) >= CONFIG_ID_MAX)
			return config_fail(cx, it, "'recipients' must be a list "
			    "of recipient ids");
		strcpy(d->recipients[d->nrecipients],
		    config_setting_get_string(it));
	}
	return 0;
}

/* Every recipient a dataset releases to is defined. */
static int
check_release_recipients(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *list = config_member(cx, root,
	    "datasets");
	size_t i, j, k;

	for (i = 0; i < site->ndatasets; i++)
		for (j = 0; j < site->datasets[i].nrecipients; j++) {
			for (k = 0; k < site->nrecipients; k++)
				if (strcmp(site->recipients[k].id,
				    site->datasets[i].recipients[j]) == 0)
					break;
			if (k == site->nrecipients)
				return config_fail(cx, list != NULL ?
				    config_setting_get_elem(list, (unsigned)i) :
				    root, "dataset '%s' releases to recipient "
				    "'%s', which is not defined",
				    site->datasets[i].id,
				    site->datasets[i].recipients[j]);
		}
	return 0;
}

static int load_plausibility(struct config_ctx *cx,
    const config_setting_t *e, struct config_dataset *d);

static int
load_datasets(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *list, *e;
	struct config_dataset *d;
	size_t i, j, n;
	int r;

	if ((list = config_list(cx, root, "datasets", 1, &r)) == NULL)
		return r;
	n = (size_t)config_setting_length(list);
	if ((site->datasets = calloc(n + 1, sizeof(*d))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		d = &site->datasets[i];
		if (!config_setting_is_group(e))
			return config_fail(cx, e, "each dataset must be a group");
		if ((r = config_string(cx, e, "id", d->id, sizeof(d->id), 1)) != 0)
			return r;
		if (!valid_id(d->id))
			return config_fail(cx, e, "dataset id '%s' may hold only "
			    "letters, digits, '.', '_' and '-'", d->id);
		for (j = 0; j < i; j++)
			if (strcmp(site->datasets[j].id, d->id) == 0)
				return config_fail(cx, e, "dataset '%s' is defined "
				    "twice", d->id);
		if ((r = config_uint64(cx, e, "max_bytes", 1, UINT64_C(1) << 40,
		    UINT64_C(1) << 30, &d->max_bytes)) ||
		    (r = config_unsigned(cx, e, "retention_days", 0, 36500, 30,
		    &d->retention_days)) ||
		    (r = config_unsigned(cx, e, "keep_source_days", 0, 3650, 0,
		    &d->keep_source_days)))
			return r;
		if ((r = config_bool(cx, e, "my_numbers", 1, &d->my_numbers)))
			return r;
		d->my_numbers_line = config_member(cx, e, "my_numbers") !=
		    NULL ? config_setting_source_line(config_member(cx, e,
		    "my_numbers")) : 0;
		if ((r = config_string(cx, e, "purpose", d->purpose,
		    sizeof(d->purpose), 0)) ||
		    (r = config_string(cx, e, "department", d->department,
		    sizeof(d->department), 0)))
			return r;
		if ((r = config_bool(cx, e, "envelope", 0, &d->envelope)) ||
		    (r = config_bool(cx, e, "signed", 0, &d->signed_by_muni)) ||
		    (r = config_path(cx, e, "policy", d->policy, sizeof(d->policy),
		    0)) ||
		    (r = load_release(cx, e, d)))
			return r;
		if ((r = load_plausibility(cx, e, d)) != 0)
			return r;
		d->policy_line = config_member(cx, e, "policy") != NULL ?
		    config_setting_source_line(config_member(cx, e, "policy")) :
		    0;
		if (d->signed_by_muni && !d->envelope)
			return config_fail(cx, e, "dataset '%s': signed = true "
			    "needs envelope = true (signed, then enveloped)",
			    d->id);
		site->ndatasets++;
	}
	return 0;
}

/*
 * What the receiver checks of a plain dataset's uploads before it gives a
 * receipt (issue 18): encoding = "utf-8" | "cp932", and columns = [ ... ],
 * the header row as the cities' files have it (written here in UTF-8).
 */
static int
load_plausibility(struct config_ctx *cx, const config_setting_t *e,
    struct config_dataset *d)
{
	const config_setting_t *list = config_member(cx, e, "columns");
	char enc[16] = "";
	const char *v;
	int i, n, r;

	if ((r = config_string(cx, e, "encoding", enc, sizeof(enc), 0)) != 0)
		return r;
	if (enc[0] != '\0' && strcmp(enc, "utf-8") != 0 &&
	    strcmp(enc, "cp932") != 0)
		return config_fail(cx, config_member(cx, e, "encoding"),
		    "dataset '%s': encoding must be \"utf-8\" or \"cp932\"",
		    d->id);
	d->cp932 = strcmp(enc, "cp932") == 0;
	d->check_encoding = enc[0] != '\0' || list != NULL;
	if (d->check_encoding && d->envelope)
		return config_fail(cx, list != NULL ? list :
		    config_member(cx, e, "encoding"), "dataset '%s': the "
		    "receiver holds only ciphertext of a sealed dataset "
		    "(envelope = true) and cannot check its encoding or "
		    "columns; the vault does", d->id);
	if (list == NULL)
		return 0;
	n = config_setting_length(list);
	if ((!config_setting_is_array(list) && !config_setting_is_list(list)) ||
	    n < 1 || n > CONFIG_COLUMNS_MAX)
		return config_fail(cx, list, "dataset '%s': columns must list 1 "
		    "to %d column names", d->id, CONFIG_COLUMNS_MAX);
	for (i = 0; i < n; i++) {
		v = config_setting_get_string_elem(list, i);
		if (v == NULL || v[0] == '\0' || strlen(v) >= CONFIG_NAME_MAX ||
		    strpbrk(v, ",\"\r\n") != NULL)
			return config_fail(cx, list, "dataset '%s': column %d "
			    "must be a name of 1 to %d bytes without a comma, a "
			    "quote or a line break", d->id, i + 1,
			    CONFIG_NAME_MAX - 1);
		snprintf(d->columns[i], sizeof(d->columns[i]), "%s", v);
	}
	d->ncolumns = (size_t)n;
	return 0;
}

static int
load_dataset_refs(struct config_ctx *cx, const config_setting_t *e,
    const struct site_config *site, struct config_municipality *m)
{
	const config_setting_t *list = config_member(cx, e, "datasets");
	const char *v;
	int i, n;

	if (list == NULL)
		return config_fail(cx, e, "missing setting 'datasets'");
	n = config_setting_length(list);
	if ((!config_setting_is_array(list) && !config_setting_is_list(list)) ||
	    n > CONFIG_DATASETS_MAX)
		return config_fail(cx, list, "'datasets' must be a list of at most "
		    "%d dataset ids", CONFIG_DATASETS_MAX);
	for (i = 0; i < n; i++) {
		v = config_setting_get_string_elem(list, i);
		if (v == NULL || site_find_dataset(site, v) == NULL)
			return config_fail(cx, list, "dataset %d of municipality %s "
			    "is not defined in 'datasets'", i + 1, m->id);
		snprintf(m->datasets[i], CONFIG_ID_MAX, "%s", v);
	}
	m->ndatasets = (size_t)n;
	return 0;
}

/* Identities are unique across municipalities and recipients. */
static int
identity_taken(const struct site_config *site, const char *identity)
{
	size_t i;

	for (i = 0; i < site->nmunicipalities; i++)
		if (strcmp(site->municipalities[i].identity, identity) == 0)
			return 1;
	for (i = 0; i < site->nrecipients; i++)
		if (strcmp(site->recipients[i].identity, identity) == 0)
			return 1;
	return 0;
}

/* Records a warning for check-config and the start-up log. */
static void
site_warn(struct config_ctx *cx, const config_setting_t *at,
    struct site_config *site, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
site_warn(struct config_ctx *cx, const config_setting_t *at,
    struct site_config *site, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (site->nwarnings == CONFIG_WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(site->warnings[site->nwarnings++], sizeof(site->warnings[0]),
	    "%s:%d: warning: %s", cx->name, config_setting_source_line(at), msg);
}

/* Do two networks share an address? */
static int
nets_overlap(const struct netaddr *a, const struct netaddr *b)
{
	unsigned bits = a->prefixlen < b->prefixlen ? a->prefixlen :
	    b->prefixlen, i;

	if (a->family != b->family)
		return 0;
	for (i = 0; i < bits; i++)
		if (((a->addr[i / 8] ^ b->addr[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

/*
 * A city's networks decide who may upload as it (R01): one that admits
 * every address, or one that overlaps another city's, is allowed (a
 * shared data centre) but said.
 */
static void
warn_networks(struct config_ctx *cx, const config_setting_t *e,
    struct site_config *site, const struct config_municipality *m)
{
	char a[64], b[64];
	size_t i, j, k;

	for (i = 0; i < m->nnetworks; i++) {
		netaddr_str(&m->networks[i], a, sizeof(a));
		if (m->networks[i].prefixlen == 0)
			site_warn(cx, e, site, "municipality %s: network %s "
			    "admits every address", m->id, a);
		for (j = 0; j < site->nmunicipalities; j++)
			for (k = 0; k < site->municipalities[j].nnetworks; k++)
				if (nets_overlap(&m->networks[i],
				    &site->municipalities[j].networks[k])) {
					netaddr_str(&site->municipalities[j].
					    networks[k], b, sizeof(b));
					site_warn(cx, e, site, "municipality "
					    "%s: network %s overlaps %s of "
					    "municipality %s", m->id, a, b,
					    site->municipalities[j].id);
				}
	}
}

static int
load_municipalities(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *list, *e;
	struct config_municipality *m;
	char code[16];
	size_t i, n;
	int r;

	if ((list = config_list(cx, root, "municipalities", 1, &r)) == NULL)
		return r;
	n = (size_t)config_setting_length(list);
	if ((site->municipalities = calloc(n + 1, sizeof(*m))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		m = &site->municipalities[i];
		if (!config_setting_is_group(e))
			return config_fail(cx, e, "each municipality must be a group");
		if ((r = config_string(cx, e, "id", code, sizeof(code), 1)))
			return r;
		if (!valid_lg_code(code))
			return config_fail(cx, e, "municipality id '%s' is not a "
			    "6-digit local government code with a valid check "
			    "digit", code);
		memcpy(m->id, code, sizeof(m->id));
		if (site_find_municipality(site, m->id) != NULL)
			return config_fail(cx, e, "municipality '%s' is defined "
			    "twice", m->id);
		if ((r = config_string(cx, e, "name", m->name, sizeof(m->name), 0)) ||
		    (r = config_string(cx, e, "identity", m->identity,
		    sizeof(m->identity), 1)))
			return r;
		if (identity_taken(site, m->identity))
			return config_fail(cx, e, "identity '%s' is used twice",
			    m->identity);
		if ((r = load_networks(cx, e, m->networks, &m->nnetworks)) ||
		    (r = load_dataset_refs(cx, e, site, m)))
			return r;
		warn_networks(cx, e, site, m);
		site->nmunicipalities++;
	}
	return 0;
}

/*
 * downloads: { window = 86400; warn_bytes = ...; warn_files = ...;
 *              limit_bytes = ...; limit_files = ...; };
 * Settings left out keep what d holds (the site's, for a recipient).
 */
static int
load_downloads(struct config_ctx *cx, const config_setting_t *parent,
    struct config_downloads *d)
{
	const config_setting_t *g = config_member(cx, parent,
	    "downloads");
	const uint64_t max = UINT64_C(1) << 50;
	int r;

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return config_fail(cx, g, "'downloads' must be a group");
	if ((r = config_unsigned(cx, g, "window", 60, 31 * 86400, d->window,
	    &d->window)) ||
	    (r = config_uint64(cx, g, "warn_bytes", 0, max, d->warn_bytes,
	    &d->warn_bytes)) ||
	    (r = config_uint64(cx, g, "warn_files", 0, max, d->warn_files,
	    &d->warn_files)) ||
	    (r = config_uint64(cx, g, "limit_bytes", 0, max, d->limit_bytes,
	    &d->limit_bytes)) ||
	    (r = config_uint64(cx, g, "limit_files", 0, max, d->limit_files,
	    &d->limit_files)))
		return r;
	if ((d->limit_bytes != 0 && d->warn_bytes > d->limit_bytes) ||
	    (d->limit_files != 0 && d->warn_files > d->limit_files))
		return config_fail(cx, g, "a warning threshold is above its "
		    "limit");
	return 0;
}

/*
 * A push recipient's endpoint: https://ADDRESS:PORT/PATH/ with an IP
 * literal (IPv6 in brackets), so that the firewall can name it and no
 * name is looked up in the DMZ; the server certificate's DNS name is
 * endpoint_name.
 */
static int
parse_endpoint(struct config_recipient *p)
{
	const char *s = p->endpoint, *h, *e, *colon, *slash;
	struct netaddr na;
	char port[8], *end;
	unsigned long v;
	size_t n;

	if (strncmp(s, "https://", 8) != 0)
		return SK_EFORMAT;
	h = s + 8;
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL || e[1] != ':')
			return SK_EFORMAT;
		n = (size_t)(e - h - 1);
		h++;
		colon = e + 1;
	} else {
		if ((colon = strchr(h, ':')) == NULL)
			return SK_EFORMAT;
		n = (size_t)(colon - h);
	}
	if (n == 0 || n >= sizeof(p->push_address))
		return SK_EFORMAT;
	memcpy(p->push_address, h, n);
	p->push_address[n] = '\0';
	if (netaddr_parse(p->push_address, &na) != 0 ||
	    na.prefixlen != (na.family == AF_INET ? 32u : 128u))
		return SK_EFORMAT;
	if ((slash = strchr(colon, '/')) == NULL ||
	    (size_t)(slash - colon - 1) >= sizeof(port) || slash == colon + 1)
		return SK_EFORMAT;
	memcpy(port, colon + 1, (size_t)(slash - colon - 1));
	port[slash - colon - 1] = '\0';
	v = strtoul(port, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535 || port[0] == '0')
		return SK_EFORMAT;
	p->push_port = (uint16_t)v;
	n = strlen(slash);
	if (n >= sizeof(p->push_path) || slash[n - 1] != '/' ||
	    strpbrk(slash, " \t\r\n?#%\"\\") != NULL)
		return SK_EFORMAT;
	memcpy(p->push_path, slash, n + 1);
	return 0;
}

size_t
site_push_recipients(const struct site_config *site)
{
	size_t i, n = 0;

	for (i = 0; i < site->nrecipients; i++)
		n += site->recipients[i].push != 0;
	return n;
}

static int
load_delivery(struct config_ctx *cx, const config_setting_t *e,
    struct config_recipient *p)
{
	char mode[16];
	int r;

	if ((r = config_string(cx, e, "delivery", mode, sizeof(mode), 0)) != 0)
		return r;
	if (mode[0] != '\0' && strcmp(mode, "pull") != 0 &&
	    strcmp(mode, "push") != 0)
		return config_fail(cx, config_member(cx, e, "delivery"),
		    "'delivery' must be \"pull\" (the recipient downloads) "
		    "or \"push\" (the sender delivers to its endpoint)");
	p->push = strcmp(mode, "push") == 0;
	if ((r = config_string(cx, e, "endpoint", p->endpoint,
	    sizeof(p->endpoint), p->push)) != 0 ||
	    (r = config_path(cx, e, "endpoint_ca", p->endpoint_ca,
	    sizeof(p->endpoint_ca), p->push)) != 0 ||
	    (r = config_path(cx, e, "endpoint_crl", p->endpoint_crl,
	    sizeof(p->endpoint_crl), 0)) != 0 ||
	    (r = config_string(cx, e, "endpoint_name", p->endpoint_name,
	    sizeof(p->endpoint_name), p->push)) != 0)
		return r;
	if (!p->push) {
		if (p->endpoint[0] != '\0' || p->endpoint_ca[0] != '\0' ||
		    p->endpoint_crl[0] != '\0' || p->endpoint_name[0] != '\0')
			return config_fail(cx, e, "recipient '%s': 'endpoint', "
			    "'endpoint_ca', 'endpoint_crl' and 'endpoint_name' "
			    "are for delivery = \"push\"", p->id);
		return 0;
	}
	if (parse_endpoint(p) != 0)
		return config_fail(cx, config_member(cx, e, "endpoint"),
		    "recipient '%s': 'endpoint' must be https://ADDRESS:PORT/"
		    "PATH/ with an IP address (IPv6 in brackets) and a path "
		    "that ends in /", p->id);
	if (strpbrk(p->endpoint_name, " \t\r\n/") != NULL)
		return config_fail(cx, config_member(cx, e, "endpoint_name"),
		    "recipient '%s': 'endpoint_name' is the DNS name in the "
		    "endpoint's certificate", p->id);
	return 0;
}

static int parse_date(const char *s, time_t *out);

/* The recipient's register entry (R28): contract, purpose, legal basis,
 * and the dates it is in force, both or neither. */
static int
load_contract(struct config_ctx *cx, const config_setting_t *e,
    struct config_recipient *p)
{
	char from[32] = "", until[32] = "";
	int r;

	if ((r = config_string(cx, e, "contract", p->contract,
	    sizeof(p->contract), 0)) ||
	    (r = config_string(cx, e, "purpose", p->purpose,
	    sizeof(p->purpose), 0)) ||
	    (r = config_string(cx, e, "legal_basis", p->legal_basis,
	    sizeof(p->legal_basis), 0)) ||
	    (r = config_string(cx, e, "valid_from", from, sizeof(from), 0)) ||
	    (r = config_string(cx, e, "valid_until", until, sizeof(until), 0)))
		return r;
	if ((from[0] == '\0') != (until[0] == '\0'))
		return config_fail(cx, e, "recipient '%s': give both "
		    "'valid_from' and 'valid_until' (the contract's dates), "
		    "or neither", p->id);
	if (from[0] == '\0')
		return 0;
	if (parse_date(from, &p->valid_from) != 0 ||
	    parse_date(until, &p->valid_until) != 0)
		return config_fail(cx, e, "recipient '%s': 'valid_from' and "
		    "'valid_until' must be dates written YYYY-MM-DD", p->id);
	p->valid_until += 86400;
	if (p->valid_until <= p->valid_from)
		return config_fail(cx, e, "recipient '%s': 'valid_until' is "
		    "before 'valid_from'", p->id);
	return 0;
}

int
site_recipient_in_force(const struct config_recipient *rc, time_t now)
{
	return rc->valid_until == 0 || (now >= rc->valid_from &&
	    now < rc->valid_until);
}

static int
load_recipients(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *list, *e;
	struct config_recipient *p;
	size_t i, n;
	int r;

	if ((list = config_list(cx, root, "recipients", 0, &r)) == NULL && r != 0)
		return r;
	n = list != NULL ? (size_t)config_setting_length(list) : 0;
	if ((site->recipients = calloc(n + 1, sizeof(*p))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		p = &site->recipients[i];
		if (!config_setting_is_group(e))
			return config_fail(cx, e, "each recipient must be a group");
		if ((r = config_string(cx, e, "id", p->id, sizeof(p->id), 1)) ||
		    (r = config_string(cx, e, "name", p->name, sizeof(p->name), 0)) ||
		    (r = config_string(cx, e, "identity", p->identity,
		    sizeof(p->identity), 1)))
			return r;
		if (!valid_id(p->id))
			return config_fail(cx, e, "recipient id '%s' may hold only "
			    "letters, digits, '.', '_' and '-'", p->id);
		if (site_find_recipient(site, p->id) != NULL)
			return config_fail(cx, e, "recipient '%s' is defined "
			    "twice", p->id);
		if (identity_taken(site, p->identity))
			return config_fail(cx, e, "identity '%s' is used twice",
			    p->identity);
		if ((r = load_networks(cx, e, p->networks, &p->nnetworks)) != 0)
			return r;
		p->downloads = site->downloads;
		if ((r = config_bool(cx, e, "envelope", 0, &p->envelope)) ||
		    (r = config_path(cx, e, "certificate", p->certificate,
		    sizeof(p->certificate), 0)) ||
		    (r = load_downloads(cx, e, &p->downloads)) ||
		    (r = load_delivery(cx, e, p)))
			return r;
		if (p->envelope && p->certificate[0] == '\0')
			return config_fail(cx, e, "recipient '%s' has envelope = "
			    "true but no 'certificate' to seal to", p->id);
		if ((r = load_contract(cx, e, p)) != 0)
			return r;
		site->nrecipients++;
	}
	return 0;
}

/* Parses "YYYY-MM-DD" as 00:00 UTC of that day. */
static int
parse_date(const char *s, time_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != 10)
		return SK_EFORMAT;
	*out = timegm(&tm);
	return 0;
}

static int
load_operators(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *list, *e;
	struct config_operator *o;
	char from[32], until[32];
	size_t i, j, n;
	int r;

	if ((list = config_list(cx, root, "operators", 0, &r)) == NULL && r != 0)
		return r;
	n = list != NULL ? (size_t)config_setting_length(list) : 0;
	if ((site->operators = calloc(n + 1, sizeof(*o))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		o = &site->operators[i];
		if (!config_setting_is_group(e))
			return config_fail(cx, e, "each operator must be a group");
		if ((r = config_string(cx, e, "id", o->id, sizeof(o->id), 1)) ||
		    (r = config_string(cx, e, "name", o->name, sizeof(o->name), 0)) ||
		    (r = config_path(cx, e, "public_key", o->public_key,
		    sizeof(o->public_key), 1)) ||
		    (r = config_string(cx, e, "valid_from", from, sizeof(from), 1)) ||
		    (r = config_string(cx, e, "valid_until", until, sizeof(until), 1)) ||
		    (r = config_string(cx, e, "scope", o->scope, sizeof(o->scope),
		    0)))
			return r;
		if (!valid_id(o->id))
			return config_fail(cx, e, "operator id '%s' may hold only "
			    "letters, digits, '.', '_' and '-'", o->id);
		for (j = 0; j < i; j++)
			if (strcmp(site->operators[j].id, o->id) == 0)
				return config_fail(cx, e, "operator '%s' is listed "
				    "twice", o->id);
		if (parse_date(from, &o->valid_from) != 0 ||
		    parse_date(until, &o->valid_until) != 0)
			return config_fail(cx, e, "'valid_from' and 'valid_until' "
			    "must be dates written YYYY-MM-DD");
		o->valid_until += 86400;
		if (o->valid_until <= o->valid_from)
			return config_fail(cx, e, "'valid_until' is before "
			    "'valid_from'");
		site->noperators++;
	}
	return 0;
}

/* Optional: SSH to every host from the administrators' networks. */
static int
load_management(struct config_ctx *cx, const config_setting_t *root,
    struct site_config *site)
{
	const config_setting_t *g = config_member(cx, root,
	    "management");
	unsigned port;
	int r;

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return config_fail(cx, g, "'management' must be a group");
	if ((r = load_networks(cx, g, site->management.networks,
	    &site->management.nnetworks)) != 0 ||
	    (r = config_unsigned(cx, g, "ssh_port", 1, 65535, 22, &port)) != 0 ||
	    (r = load_ifname(cx, g, "interface", site->management.interface,
	    sizeof(site->management.interface),
	    &site->management.interface_line)) != 0 ||
	    (r = config_bool(cx, g, "icmp_echo", 0,
	    &site->management.icmp_echo)) != 0)
		return r;
	site->management.port = (uint16_t)port;
	return 0;
}

static int
site_parse(config_t *cfg, struct config_ctx *cx, void *arg)
{
	struct site_config *site = arg;
	const config_setting_t *root = config_root_setting(cfg), *g;
	struct site_cas ca;
	int r;

	if ((g = config_group(cx, root, "site", &r)) == NULL ||
	    (r = config_string(cx, g, "name", site->name, sizeof(site->name), 1)) ||
	    (r = config_bool(cx, g, "status_reports", 1, &site->status_reports)))
		return r;
	memset(&ca, 0, sizeof(ca));
	site->downloads.window = 86400;
	if ((r = load_cas(cx, root, &ca)) ||
	    (r = load_hosts(cx, root, &ca, site)) ||
	    (r = load_management(cx, root, site)) ||
	    (r = load_datasets(cx, root, site)) ||
	    (r = load_municipalities(cx, root, site)) ||
	    (r = load_downloads(cx, root, &site->downloads)) ||
	    (r = load_recipients(cx, root, site)) ||
	    (r = check_release_recipients(cx, root, site)) ||
	    (r = load_operators(cx, root, site)))
		return r;
	return 0;
}

/* Parses text (NUL-terminated) into a fresh site configuration. */
static int
site_load_text(const char *text, size_t len, struct config_ctx *cx,
    struct site_config **out)
{
	struct site_config *site;
	int r;

	if ((site = calloc(1, sizeof(*site))) == NULL)
		return SK_ENOMEM;
	snprintf(site->file, sizeof(site->file), "%s", cx->name);
	if ((r = config_parse_text(cx, text, len, site->digest, site_parse,
	    site)) != 0) {
		site_config_free(site);
		return r;
	}
	*out = site;
	return 0;
}

int
site_config_load(const char *path, struct site_config **out,
    struct config_error *err)
{
	struct config_ctx cx = { .name = path, .err = err };
	char *text;
	size_t len;
	int r;

	config_ctx_dir(&cx, path);
	if ((r = config_read_text(&cx, path, &text, &len)) != 0)
		return r;
	r = site_load_text(text, len, &cx, out);
	free(text);
	return r;
}

int
site_config_load_string(const char *text, const char *name,
    struct site_config **out, struct config_error *err)
{
	struct config_ctx cx = { .name = name, .err = err };

	config_ctx_dir(&cx, name);
	return site_load_text(text, strlen(text), &cx, out);
}

void
site_config_free(struct site_config *site)
{
	if (site == NULL)
		return;
	free(site->municipalities);
	free(site->recipients);
	free(site->operators);
	free(site->datasets);
	free(site);
}

const struct config_municipality *
site_find_municipality_by_identity(const struct site_config *site,
    const char *identity)
{
	size_t i;

	for (i = 0; i < site->nmunicipalities; i++)
		if (strcmp(site->municipalities[i].identity, identity) == 0)
			return &site->municipalities[i];
	return NULL;
}

const struct config_recipient *
site_find_recipient_by_identity(const struct site_config *site,
    const char *identity)
{
	size_t i;

	for (i = 0; i < site->nrecipients; i++)
		if (strcmp(site->recipients[i].identity, identity) == 0)
			return &site->recipients[i];
	return NULL;
}

const struct config_recipient *
site_find_recipient(const struct site_config *site, const char *id)
{
	size_t i;

	for (i = 0; i < site->nrecipients; i++)
		if (strcmp(site->recipients[i].id, id) == 0)
			return &site->recipients[i];
	return NULL;
}

const struct config_municipality *
site_find_municipality(const struct site_config *site, const char *id)
{
	size_t i;

	for (i = 0; i < site->nmunicipalities; i++)
		if (strcmp(site->municipalities[i].id, id) == 0)
			return &site->municipalities[i];
	return NULL;
}

const struct config_dataset *
site_find_dataset(const struct site_config *site, const char *id)
{
	size_t i;

	for (i = 0; i < site->ndatasets; i++)
		if (strcmp(site->datasets[i].id, id) == 0)
			return &site->datasets[i];
	return NULL;
}

int
site_municipality_allows(const struct config_municipality *muni,
    const char *dataset)
{
	size_t i;

	for (i = 0; i < muni->ndatasets; i++)
		if (strcmp(muni->datasets[i], dataset) == 0)
			return 1;
	return 0;
}

const char *
config_role_name(enum config_role role)
{
	switch (role) {
	case ROLE_RECEIVER:
		return "receiver";
	case ROLE_VAULT:
		return "vault";
	case ROLE_SENDER:
		return "sender";
	}
	return "?";
}

int
site_check_approvals(const struct site_config *site, struct config_error *err)
{
	time_t now = time(NULL);
	unsigned n = 0;
	size_t i;

	for (i = 0; i < site->noperators; i++)
		if (site->operators[i].valid_until > now)
			n++;
	for (i = 0; i < site->ndatasets; i++) {
		if (site->datasets[i].approvals <= n)
			continue;
		snprintf(err->file, sizeof(err->file), "%s", site->file);
		err->line = site->datasets[i].approvals_line;
		snprintf(err->message, sizeof(err->message), "dataset '%s' "
		    "needs %u approvals, but the roster has %u operator(s) "
		    "still valid: nothing of it could ever be published (R41)",
		    site->datasets[i].id, site->datasets[i].approvals, n);
		return SK_ECONFIG;
	}
	return 0;
}

/* ---- a DMZ host's part of the site file (R27) ---- */

static void
remove_member(config_setting_t *g, const char *name)
{
	if (config_setting_get_member(g, name) != NULL)
		config_setting_remove(g, name);
}

int
site_part(const char *path, enum config_role role, char **out,
    struct config_error *err)
{
	static const char *const ds_vault_only[] = { "policy", "purpose",
		"department", "my_numbers" };
	struct config_ctx cx = { .name = path, .err = err };
	config_setting_t *root, *list, *e;
	struct site_config *full = NULL, *part = NULL;
	char *text = NULL, *body = NULL;
	size_t len, blen = 0, i, k;
	config_t cfg;
	FILE *mem;
	int r;

	*out = NULL;
	if (role != ROLE_RECEIVER && role != ROLE_SENDER)
		return SK_EINVAL;
	config_ctx_dir(&cx, path);
	/* The whole file must load first: a part of a broken site is not
	 * written. */
	if ((r = site_config_load(path, &full, err)) != 0)
		return r;
	if ((r = config_read_text(&cx, path, &text, &len)) != 0)
		goto out;
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		config_destroy(&cfg);
		r = SK_ECONFIG;
		goto out;
	}
	root = config_root_setting(&cfg);
	/* Neither host keeps the roster; the policies and the registers'
	 * texts are the vault's. */
	remove_member(root, "operators");
	if ((list = config_setting_get_member(root, "datasets")) != NULL)
		for (i = 0; (e = config_setting_get_elem(list,
		    (unsigned)i)) != NULL; i++) {
			for (k = 0; k < SK_ARRAY_LEN(ds_vault_only); k++)
				remove_member(e, ds_vault_only[k]);
			if (role == ROLE_RECEIVER)
				remove_member(e, "release");
		}
	if (role == ROLE_RECEIVER) {
		/* Nothing of the recipients. */
		remove_member(root, "recipients");
		remove_member(root, "downloads");
	} else {
		/* Nothing of the municipalities. */
		remove_member(root, "municipalities");
		config_setting_add(root, "municipalities", CONFIG_TYPE_LIST);
	}
	if ((mem = open_memstream(&body, &blen)) == NULL) {
		config_destroy(&cfg);
		r = SK_ENOMEM;
		goto out;
	}
	fprintf(mem, "# The %s's part of the site \"%s\" (R27): what this "
	    "host needs, and\n# nothing of the %s. Written by sekisho-vault "
	    "site-part from the site file\n# with digest %s.\n",
	    config_role_name(role), full->name, role == ROLE_RECEIVER ?
	    "recipients, operators or policies" :
	    "municipalities, operators or policies", full->digest);
	config_write(&cfg, mem);
	config_destroy(&cfg);
	if (fclose(mem) != 0) {
		r = SK_ENOMEM;
		goto out;
	}
	/* The part must load as a site file of its own. */
	cx.name = path;
	if ((r = site_config_load_string(body, path, &part, err)) != 0)
		goto out;
	*out = body;
	body = NULL;
out:
	free(body);
	free(text);
	site_config_free(part);
	site_config_free(full);
	return r;
}
