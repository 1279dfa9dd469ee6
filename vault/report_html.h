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

/*
 * The report's figures beyond the first table, each as a label in Japanese
 * and English and its value, for `release show` and the page alike:
 * t-closeness, the journalist risk against the policy's population, the
 * marketer risk, every loss metric, and the rounds of local recoding
 * with each round's rows and levels. Only what the report holds.
 */
typedef void (*report_emit_fn)(void *arg, const char *ja, const char *en,
    const char *value);
void report_more(const char *json, size_t len, report_emit_fn emit,
    void *arg);

#endif
