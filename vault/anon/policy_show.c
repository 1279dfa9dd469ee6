/*
 * policy_show.c: a policy as the engine runs it, for `show-config` (issue
 * 15): every setting with its default filled in, one per line, named by
 * its path in the policy file under the dataset's prefix, as
 * common/config_show.c prints the site.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "policy.h"
#include "search.h"

static const char *
yes(int b)
{
	return b ? "true" : "false";
}

static const char *
text(const char *s)
{
	return s[0] != '\0' ? s : "\"\"";
}

static const char *
encoding(enum csv_encoding e)
{
	return e == CSV_CP932 ? "cp932" : "utf-8";
}

/* A searched column's levels: widths, keeps or granularities. */
static void
show_steps(FILE *f, const char *pre, const struct policy_column *c)
{
	const char *name = c->action == ACT_TRUNCATE ? "keeps" :
	    c->action == ACT_DATE ? "granularities" : "widths";
	unsigned i;

	fprintf(f, "%s%s", pre, name);
	for (i = 0; i < c->nsteps; i++)
		if (c->action == ACT_DATE)
			fprintf(f, " %s", c->steps[i] != 0 ? "month" : "year");
		else
			fprintf(f, " %g", c->steps[i]);
	fprintf(f, "\n");
}

static void
show_column(FILE *f, const char *prefix, const struct policy_column *c)
{
	char pre[600];

	snprintf(pre, sizeof(pre), "%scolumns.%s.", prefix, c->name);
	fprintf(f, "%srole %s\n", pre, policy_role_name(c->role));
	fprintf(f, "%saction %s\n", pre, policy_action_name(c->action));
	switch (c->action) {
	case ACT_TRUNCATE:
	case ACT_BAND:
	case ACT_AGE_BAND:
	case ACT_DATE:
		if (c->action == ACT_AGE_BAND)
			fprintf(f, "%sreference_date %04d-%02d-%02d\n", pre,
			    c->ref_y, c->ref_m, c->ref_d);
		fprintf(f, "%ssearch %s\n", pre, yes(c->search));
		if (c->search) {
			show_steps(f, pre, c);
			fprintf(f, "%smin_level %u\n%smax_level %u\n", pre,
			    c->min_level, pre, c->max_level);
		} else if (c->action == ACT_TRUNCATE)
			fprintf(f, "%skeep %u\n", pre, c->keep);
		else if (c->action == ACT_DATE)
			fprintf(f, "%sgranularity %s\n", pre, c->month ?
			    "month" : "year");
		else
			fprintf(f, "%swidth %g\n", pre, c->width);
		if (c->has_top)
			fprintf(f, "%stop %g\n", pre, c->top);
		if (c->has_bottom)
			fprintf(f, "%sbottom %g\n", pre, c->bottom);
		break;
	case ACT_MAP:
		fprintf(f, "%sfile %s\n", pre, text(c->file));
		if (c->has_default)
			fprintf(f, "%sdefault %s\n", pre,
			    text(c->default_value));
		break;
	case ACT_HIERARCHY:
		fprintf(f, "%sfile %s\n%slevels %u\n%ssearch %s\n", pre,
		    text(c->file), pre, c->nlevels, pre, yes(c->search));
		if (c->search)
			fprintf(f, "%smin_level %u\n%smax_level %u\n", pre,
			    c->min_level, pre, c->max_level);
		else
			fprintf(f, "%slevel %u\n", pre, c->level);
		break;
	default:
		break;
	}
}

void
policy_show(FILE *f, const char *prefix, const struct policy *p)
{
	static const char *const l_models[] = { [MODEL_L_DISTINCT] =
		"distinct", [MODEL_L_ENTROPY] = "entropy",
		[MODEL_L_RECURSIVE] = "recursive" };
	size_t i;

	fprintf(f, "%sfile %s\n%ssha256 %s\n", prefix, p->file, prefix,
	    p->digest);
	fprintf(f, "%sinput.encoding %s\n%sinput.delimiter \"%c\"\n"
	    "%sinput.header %s\n%sinput.on_error %s\n", prefix,
	    encoding(p->in_enc), prefix, p->delim, prefix, yes(p->header),
	    prefix, p->reject_bad_rows ? "reject" : "fail");
	for (i = 0; i < p->ncols; i++)
		show_column(f, prefix, &p->cols[i]);
	fprintf(f, "%sprivacy.k %u\n%sprivacy.max_suppression %g\n", prefix,
	    p->k, prefix, p->max_suppression);
	if (p->max_group_suppression > 0)
		fprintf(f, "%sprivacy.max_group_suppression %g\n", prefix,
		    p->max_group_suppression);
	fprintf(f, "%sprivacy.suppressed %s\n", prefix, p->star ? "star" :
	    "delete");
	fprintf(f, "%sprivacy.l_diversity %u\n", prefix, p->l);
	if (p->l > 0)
		fprintf(f, "%sprivacy.l_model %s\n", prefix,
		    l_models[p->l_model]);
	if (p->l_model == MODEL_L_RECURSIVE)
		fprintf(f, "%sprivacy.c %g\n", prefix, p->c);
	fprintf(f, "%sprivacy.t_closeness %g\n", prefix, p->t);
	if (p->t > 0)
		fprintf(f, "%sprivacy.t_hierarchy %s\n", prefix,
		    p->t_hier.from != NULL ? text(p->t_hier.file) :
		    "\"\" (equal distance)");
	if (p->search)
		fprintf(f, "%sprivacy.metric %s\n%sprivacy.recoding %s\n",
		    prefix, search_metric_name((enum search_metric)p->metric),
		    prefix, p->local == RECODE_CELLS ? "cells" : p->local ==
		    RECODE_LOCAL ? "local" : "global");
	fprintf(f, "%sprivacy.risk_threshold %g\n", prefix, p->risk_threshold);
	fprintf(f, "%sprivacy.population %s\n", prefix, text(p->pop_file));
	fprintf(f, "%soutput.encoding %s\n%soutput.shuffle %s\n"
	    "%soutput.guard_formulas %s\n%soutput.line_end %s\n", prefix,
	    encoding(p->out_enc), prefix, yes(p->shuffle), prefix,
	    yes(p->guard_formulas), prefix, p->crlf ? "crlf" : "lf");
	for (i = 0; i < p->npatterns; i++)
		fprintf(f, "%sscan.patterns %s\n", prefix, p->patterns[i].name);
}
