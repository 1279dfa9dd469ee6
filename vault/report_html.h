/*
 * report_html.h: a release's report as a page an operator would rather
 * look at (issue 20): one self-contained HTML file, no script, no font or
 * file from elsewhere (its Content-Security-Policy forbids every fetch),
 * with inline SVG charts of the class sizes, the suppression per
 * quasi-identifier and the information loss per column, and the same
 * figures as `release show`, in Japanese and English.
 */
#ifndef VAULT_REPORT_HTML_H
#define VAULT_REPORT_HTML_H

#include <stddef.h>

/* The page for the report JSON of job_id, into a new string (*out, the
 * caller's to free). Returns 0, SK_EFORMAT for a report that is not JSON,
 * or SK_ENOMEM. */
int report_html(const char *json, size_t len, const char *job_id,
    char **out);

#endif
