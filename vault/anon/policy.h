/*
 * policy.h: a dataset's anonymization policy, read from its libconfig file.
 *
 *   input:   { encoding = "cp932"; delimiter = ","; header = true;
 *              on_error = "fail"; };          # or "reject": count and skip
 *   columns = ( { name = "氏名"; role = "identifier"; action = "drop"; }, ... );
 *   privacy: { k = 5; max_suppression = 0.05; l_diversity = 2; };
 *   output:  { encoding = "utf-8"; shuffle = true; line_end = "lf";
 *              guard_formulas = true; };
 *   scan:    { patterns = ( { name = "phone"; regex = "0[0-9]{1,4}-..." } ); };
 *
 * Roles: identifier (drop or pseudonymize only), quasi, sensitive, other.
 * Actions and their settings:
 *   drop, keep, pseudonymize
 *   truncate  keep = N                    first N characters
 *   band      width [, top] [, bottom]    numbers into bands, top/bottom coded
 *   date      granularity = "year" | "month"
 *   age_band  reference_date = "YYYY-MM-DD", width [, top]
 *   map       file = "lookup.csv" [, default = "..."]   two columns: from,to
 *   hierarchy file = "h.csv", level = N   ';'-separated generalization rows
 *             or search = true [, min_level, max_level]: the level of
 *             least information loss that meets the privacy model
 * age_band, band (widths = [1, 5, 10]), truncate (keeps = [5, 3, 1]) and
 * date (granularities = ["month", "year"]) take search = true with their
 * levels listed (each nesting in the next), and "*" above them.
 * privacy.metric = "loss" (ARX's default quality model), "discernibility",
 * "precision" or "nonuniform_entropy" scores the search (search.h).
 */
#ifndef VAULT_POLICY_H
#define VAULT_POLICY_H

#include <regex.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "csv.h"

enum col_role { COL_IDENTIFIER, COL_QUASI, COL_SENSITIVE, COL_OTHER };

enum col_action { ACT_DROP, ACT_KEEP, ACT_PSEUDONYMIZE, ACT_TRUNCATE,
	ACT_BAND, ACT_DATE, ACT_AGE_BAND, ACT_MAP, ACT_HIERARCHY };

struct dict;

struct policy_column {
	char name[256];
	char description[512];		/* for the codebook; may be "" */
	char description_en[512];
	enum col_role role;
	enum col_action action;
	unsigned keep;			/* truncate */
	double width, top, bottom;	/* band, age_band */
	int has_top, has_bottom;
	int month;			/* date: year-month instead of year */
	int ref_y, ref_m, ref_d;	/* age_band */
	char file[PATH_MAX];		/* map, hierarchy: the table's path */
	struct dict *from;		/* map, hierarchy: the original values */
	struct dict *to;		/* ... and what each becomes */
	uint32_t *to_id;		/* from id -> to id */
	int has_default;
	char default_value[256];
	/* hierarchy: every level, for the search and the loss */
	unsigned nlevels;		/* columns of the hierarchy */
	unsigned level;			/* the fixed one (unless search) */
	int search;			/* the search picks the level */
	unsigned min_level, max_level;	/* ... between these */
	/* age_band, band, truncate, date: the searched levels' widths,
	 * keeps or granularities (1 month, 0 year); a last level "*" */
	double steps[8];
	unsigned nsteps;
	struct dict *labels;		/* every label of every level */
	uint32_t *gen;			/* [lv * rows + from id]: label id */
	uint32_t *leaves;		/* [lv * rows + from id]: rows under it */
};

enum { RECODE_GLOBAL, RECODE_LOCAL, RECODE_CELLS };

struct policy_pattern {
	char name[64];
	regex_t re;
};

struct policy {
	char file[PATH_MAX];
	char digest[65];		/* sha-256 of the policy file */
	enum csv_encoding in_enc, out_enc;
	char delim;
	int header;
	int reject_bad_rows;		/* on_error = "reject" */
	struct policy_column *cols;
	size_t ncols;
	unsigned k;
	double max_suppression;
	double max_group_suppression;	/* per value of a QI; 0: no limit */
	int metric;			/* enum search_metric: the search's */
	double risk_threshold;		/* records above this risk, reported */
	int star;			/* suppressed = "star": rows kept, QIs * */
	unsigned l;			/* 0: no l-diversity */
	int l_model;			/* enum model_l: distinct, entropy, ... */
	double c;			/* recursive (c,l)-diversity */
	double t;			/* t-closeness; 0: none */
	/* t_hierarchy: hierarchical ground distance for t (from, labels,
	 * gen and nlevels set), else equal distance (from NULL) */
	struct policy_column t_hier;
	/* population = "file.csv": counts of the population the file is a
	 * sample of, per combination of quasi-identifier values, for the
	 * journalist risk and population uniqueness (npop == 0: none) */
	char pop_file[PATH_MAX];
	size_t pop_ncols, npop;
	char (*pop_name)[256];		/* pop_ncols column names */
	struct dict **pop_values;	/* per column: its values */
	uint32_t *pop_ids;		/* npop x pop_ncols value ids */
	uint64_t *pop_count;		/* npop */
	int search;			/* a column's level is searched */
	int local;			/* recoding: RECODE_LOCAL, _CELLS */
	int shuffle;
	int guard_formulas;		/* a leading = + - @ ' TAB CR: text */
	int crlf;
	struct policy_pattern *patterns;
	size_t npatterns;
	/* R29, set by the vault from the dataset, not by the policy file:
	 * a My Number in any input column fails the job. */
	int forbid_my_numbers;
	/* The file's text as it was read (digest is its SHA-256): what the
	 * vault hands its engines, so that they run what it checked. */
	char *text;
	size_t textlen;
};

/* Loads and checks a policy. Errors name file, line and the problem. */
int policy_load(const char *path, struct policy **out,
    struct config_error *err);

/* The same from text that was read from path (len bytes, NUL-terminated:
 * the tables it names are still read, beside path). */
int policy_load_text(const char *path, const char *text, size_t len,
    struct policy **out, struct config_error *err);

void policy_free(struct policy *p);

/* The policy as it runs, every default filled in, one setting per line
 * under prefix ("datasets.ID.policy."), for `show-config`. */
void policy_show(FILE *f, const char *prefix, const struct policy *p);

const char *policy_action_name(enum col_action a);
const char *policy_role_name(enum col_role r);

#endif
