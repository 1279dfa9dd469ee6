/*
 * config_show.c: `show-config`, the configuration a program runs with,
 * every default filled in (as `sshd -T` prints sshd's): one setting per
 * line, named by its path in the file ("limits.read_timeout",
 * "datasets.health.retention_days"), then its value. Empty: "". Lists:
 * their items, separated by spaces. Dates: as the file writes them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"

static const char *
text(const char *s)
{
	return s[0] != '\0' ? s : "\"\"";
}

static const char *
yes(int b)
{
	return b ? "true" : "false";
}

static void
put(FILE *f, const char *prefix, const char *name, const char *value)
{
	fprintf(f, "%s%s %s\n", prefix, name, text(value));
}

static void
put_u(FILE *f, const char *prefix, const char *name, uint64_t v)
{
	fprintf(f, "%s%s %" PRIu64 "\n", prefix, name, v);
}

static void
put_nets(FILE *f, const char *prefix, const char *name,
    const struct netaddr *n, size_t count)
{
	char a[64];
	size_t i;

	fprintf(f, "%s%s", prefix, name);
	for (i = 0; i < count; i++) {
		netaddr_str(&n[i], a, sizeof(a));
		fprintf(f, " %s", a);
	}
	fprintf(f, "%s\n", count == 0 ? " \"\"" : "");
}

/* A single-address list (servers) without the host prefix. */
static void
put_servers(FILE *f, const char *prefix, const char *name,
    const struct netaddr *n, size_t count)
{
	char a[64], *slash;
	size_t i;

	fprintf(f, "%s%s", prefix, name);
	for (i = 0; i < count; i++) {
		netaddr_str(&n[i], a, sizeof(a));
		if ((slash = strchr(a, '/')) != NULL)
			*slash = '\0';
		fprintf(f, " %s", a);
	}
	fprintf(f, "%s\n", count == 0 ? " \"\"" : "");
}

static void
put_ids(FILE *f, const char *prefix, const char *name,
    const char (*ids)[CONFIG_ID_MAX], size_t count)
{
	size_t i;

	fprintf(f, "%s%s", prefix, name);
	for (i = 0; i < count; i++)
		fprintf(f, " %s", ids[i]);
	fprintf(f, "%s\n", count == 0 ? " \"\"" : "");
}

/* A day as YYYY-MM-DD; until: the last day (the model keeps the next). */
static void
put_day(FILE *f, const char *prefix, const char *name, time_t t, int until)
{
	char day[16] = "";
	struct tm tm;

	if (until && t != 0)
		t -= 86400;
	if (t != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	put(f, prefix, name, day);
}

static void
show_local(FILE *f, const struct local_config *l)
{
	const char *level = l->log_level == LOG_LEVEL_DEBUG ? "debug" :
	    l->log_level == LOG_LEVEL_WARN ? "warning" : "info";

	fprintf(f, "# local %s\n", l->file);
	put(f, "", "role", config_role_name(l->role));
	put(f, "", "user", l->user);
	put(f, "", "site", l->site_file);
	put(f, "", "data_dir", l->data_dir);
	put(f, "", "certificate", l->certificate);
	put(f, "", "key", l->key);
	put(f, "", "master_key", l->master_key);
	put(f, "", "require_firewall", yes(l->require_firewall));
	if (l->role == ROLE_VAULT) {
		put(f, "envelope.", "certificate", l->envelope_certificate);
		put(f, "envelope.", "key", l->envelope_key);
		put(f, "signing.", "certificate", l->signing_certificate);
		put(f, "signing.", "key", l->signing_key);
	}
	put(f, "audit.", "log", l->audit_log);
	put(f, "audit.", "key", l->audit_key);
	put_u(f, "audit.", "reserve", l->audit_reserve);
	put_u(f, "audit.", "rotate_bytes", l->audit_rotate_bytes);
	put(f, "audit.", "rotate_monthly", yes(l->audit_rotate_monthly));
	put_u(f, "audit.", "retention_days", l->audit_retention_days);
	put(f, "log.", "syslog", yes(l->use_syslog));
	put(f, "log.", "level", level);
	put_u(f, "limits.", "max_connections", l->max_connections);
	put_u(f, "limits.", "read_timeout", l->read_timeout);
	put_u(f, "limits.", "handshake_timeout", l->handshake_timeout);
	put_u(f, "limits.", "max_unauthenticated", l->max_unauthenticated);
	put_u(f, "limits.", "max_unauthenticated_per_source",
	    l->max_unauthenticated_per_source);
	put_u(f, "limits.", "poll_interval", l->poll_interval);
	put_u(f, "limits.", "min_rate", l->min_rate);
	put_u(f, "limits.", "min_rate_grace", l->min_rate_grace);
	put_u(f, "limits.", "disk_reserve", l->disk_reserve);
	put_u(f, "limits.", "refusal_interval", l->refusal_interval);
	put_u(f, "limits.", "push_retry", l->push_retry);
	put_u(f, "limits.", "resume_seconds", l->resume_seconds);
	put_u(f, "limits.", "resume_uploads", l->resume_uploads);
	put_u(f, "limits.", "expiry_warn_days", l->expiry_warn_days);
}

static void
show_listener(FILE *f, const char *prefix, const struct config_listener *l)
{
	put(f, prefix, "address", l->address);
	put_u(f, prefix, "port", l->port);
	put(f, prefix, "interface", l->interface);
	put(f, prefix, "ca", l->ca_file);
	put(f, prefix, "crl", l->crl_file);
	put(f, prefix, "tls12", yes(l->tls12));
}

static void
show_host(FILE *f, const char *name, const struct config_host *h)
{
	char p[64];

	snprintf(p, sizeof(p), "hosts.%s.", name);
	put(f, p, "identity", h->identity);
	if (strcmp(name, "vault") == 0) {
		put(f, p, "address", h->address);
		put(f, p, "sender_address", h->sender_address);
		put(f, p, "interface", h->interface);
		put(f, p, "sender_interface", h->sender_interface);
		return;
	}
	snprintf(p, sizeof(p), "hosts.%s.external.", name);
	show_listener(f, p, &h->external);
	snprintf(p, sizeof(p), "hosts.%s.internal.", name);
	show_listener(f, p, &h->internal);
	snprintf(p, sizeof(p), "hosts.%s.", name);
	put_servers(f, p, "ntp", h->ntp, h->nntp);
	put_servers(f, p, "dns", h->dns, h->ndns);
	put_servers(f, p, "syslog", h->syslog, h->nsyslog);
}

static void
show_downloads(FILE *f, const char *prefix, const struct config_downloads *d)
{
	put_u(f, prefix, "window", d->window);
	put_u(f, prefix, "warn_bytes", d->warn_bytes);
	put_u(f, prefix, "warn_files", d->warn_files);
	put_u(f, prefix, "limit_bytes", d->limit_bytes);
	put_u(f, prefix, "limit_files", d->limit_files);
}

static void
show_dataset(FILE *f, const struct config_dataset *d)
{
	char p[CONFIG_ID_MAX + 32];
	size_t i;

	snprintf(p, sizeof(p), "datasets.%s.", d->id);
	put(f, p, "purpose", d->purpose);
	put(f, p, "department", d->department);
	put(f, p, "my_numbers", yes(d->my_numbers));
	put_u(f, p, "max_bytes", d->max_bytes);
	put_u(f, p, "retention_days", d->retention_days);
	put_u(f, p, "keep_source_days", d->keep_source_days);
	put(f, p, "envelope", yes(d->envelope));
	put(f, p, "signed", yes(d->signed_by_muni));
	put(f, p, "encoding", !d->check_encoding ? "" : d->cp932 ? "cp932" :
	    "utf-8");
	fprintf(f, "%scolumns", p);
	for (i = 0; i < d->ncolumns; i++)
		fprintf(f, " %s", d->columns[i]);
	fprintf(f, "%s\n", d->ncolumns == 0 ? " \"\"" : "");
	put(f, p, "policy", d->policy);
	snprintf(p, sizeof(p), "datasets.%s.release.", d->id);
	put_ids(f, p, "recipients", d->recipients, d->nrecipients);
	put_u(f, p, "days", d->release_days);
	put_u(f, p, "approvals", d->approvals);
	put_u(f, p, "max_downloads", d->max_downloads);
}

static void
show_recipient(FILE *f, const struct config_recipient *r)
{
	char p[CONFIG_ID_MAX + 32];

	snprintf(p, sizeof(p), "recipients.%s.", r->id);
	put(f, p, "name", r->name);
	put(f, p, "identity", r->identity);
	put_nets(f, p, "networks", r->networks, r->nnetworks);
	put(f, p, "envelope", yes(r->envelope));
	put(f, p, "certificate", r->certificate);
	put(f, p, "delivery", r->push ? "push" : "pull");
	if (r->push) {
		put(f, p, "endpoint", r->endpoint);
		put(f, p, "endpoint_ca", r->endpoint_ca);
		put(f, p, "endpoint_crl", r->endpoint_crl);
		put(f, p, "endpoint_name", r->endpoint_name);
	}
	put(f, p, "contract", r->contract);
	put(f, p, "purpose", r->purpose);
	put(f, p, "legal_basis", r->legal_basis);
	put_day(f, p, "valid_from", r->valid_from, 0);
	put_day(f, p, "valid_until", r->valid_until, 1);
	snprintf(p, sizeof(p), "recipients.%s.downloads.", r->id);
	show_downloads(f, p, &r->downloads);
}

static void
show_site(FILE *f, const struct site_config *s)
{
	char p[CONFIG_ID_MAX + 32];
	size_t i;

	fprintf(f, "# site %s sha256 %s\n", s->file, s->digest);
	put(f, "site.", "name", s->name);
	put(f, "site.", "status_reports", yes(s->status_reports));
	show_host(f, "receiver", &s->receiver);
	show_host(f, "vault", &s->vault);
	show_host(f, "sender", &s->sender);
	put_nets(f, "management.", "networks", s->management.networks,
	    s->management.nnetworks);
	if (s->management.nnetworks == 0)
		fprintf(f, "# no management networks: no host admits SSH\n");
	else {
		put_u(f, "management.", "ssh_port", s->management.port);
		put(f, "management.", "interface", s->management.interface);
		put(f, "management.", "icmp_echo",
		    yes(s->management.icmp_echo));
	}
	show_downloads(f, "downloads.", &s->downloads);
	for (i = 0; i < s->ndatasets; i++)
		show_dataset(f, &s->datasets[i]);
	for (i = 0; i < s->nmunicipalities; i++) {
		snprintf(p, sizeof(p), "municipalities.%s.",
		    s->municipalities[i].id);
		put(f, p, "name", s->municipalities[i].name);
		put(f, p, "identity", s->municipalities[i].identity);
		put_nets(f, p, "networks", s->municipalities[i].networks,
		    s->municipalities[i].nnetworks);
		put_ids(f, p, "datasets", s->municipalities[i].datasets,
		    s->municipalities[i].ndatasets);
	}
	for (i = 0; i < s->nrecipients; i++)
		show_recipient(f, &s->recipients[i]);
	for (i = 0; i < s->noperators; i++) {
		snprintf(p, sizeof(p), "operators.%s.", s->operators[i].id);
		put(f, p, "name", s->operators[i].name);
		put(f, p, "public_key", s->operators[i].public_key);
		put_day(f, p, "valid_from", s->operators[i].valid_from, 0);
		put_day(f, p, "valid_until", s->operators[i].valid_until, 1);
		put(f, p, "scope", s->operators[i].scope);
	}
}

int
config_show(FILE *f, const struct local_config *local,
    const struct site_config *site)
{
	if (local != NULL)
		show_local(f, local);
	if (site != NULL)
		show_site(f, site);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
