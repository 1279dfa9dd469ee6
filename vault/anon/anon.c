/*
 * anon.c: the anonymization engine (see anon.h).
 *
 * Pass 1 reads the CSV once. Each released cell becomes the id of its output
 * value in that column's dictionary; an action runs once per distinct input
 * value (memoised), and each new output value is scanned once. The ids of
 * the quasi-identifier cells form the row's equivalence class.
 * Pass 2 works on the ids only: suppress the rows of classes below k (or l),
 * check the limit, refuse values the scan flagged, shuffle, write.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "action.h"
#include "anon.h"
#include "csv.h"
#include "dict.h"
#include "json.h"
#include "model.h"
#include "search.h"
#include "sk.h"
#include "util.h"

#define NO_ID UINT32_MAX
#define REJECTS_LISTED 10

struct outcol {
	const struct policy_column *pc;
	size_t in_idx;			/* its field in the input */
	struct dict *memo;		/* input values seen (not for keep) */
	uint32_t *memo_out;		/* memo id -> output id or NO_ID */
	size_t memo_cap;
	struct dict *out;		/* output values */
	uint8_t *flagged;		/* output id -> the scan refused it */
	const char **flag_why;
	size_t out_cap;
	/* A searched built-in generalization: its levels, built from the
	 * values read (each output value's labels above it). */
	uint32_t *rep_memo;		/* out id -> memo id + 1 that made it */
	size_t rep_cap;
	struct dict *labels;
	uint32_t *gen, *leaves;		/* [lv * nout + out id] */
};

struct job {
	const struct policy *p;
	struct anon_result *res;
	uint8_t key[32];		/* pseudonymization key, this job only */
	struct csv_reader *rd;
	size_t ninput;
	struct outcol *cols;
	size_t ncols;
	size_t qi[CSV_FIELDS_MAX], nqi;	/* output columns that are QIs */
	long sens;			/* output column for l-diversity or -1 */
	uint32_t *cells;		/* rows x ncols output ids */
	uint32_t *row_class;
	uint32_t *row_line;
	size_t nrows, rows_cap;
	struct dict *classes;		/* QI id tuples */
	uint32_t *class_size, *class_distinct;
	uint64_t *class_seen;		/* sensitive ids < 64 seen, per class */
	size_t class_cap;
	struct dict *pairs;		/* (class, sensitive id >= 64) seen */
	uint64_t rejected_lines[REJECTS_LISTED];
	const char *rejected_why[REJECTS_LISTED];
	int star_joins;			/* starred rows join a released class */
	struct model model;		/* entropy/recursive l, t-closeness */
	double *global;			/* sensitive id -> share of all rows */
	uint32_t *t_gen;		/* t_hierarchy: model.t_gen */
	uint8_t *class_ok;		/* the model's verdict per class, or
					 * NULL when distinct counts do */
	struct search_result sr;	/* the chosen levels and their loss */
	struct search_local local;	/* recoding = "local": the rounds */
	uint8_t *class_round;		/* ... and each final class's round */
	double metric_value[SEARCH_NMETRICS];	/* the release's, by metric */
	int metrics_done;
	/* population counts (policy population): the journalist risk */
	int pop_done;
	uint64_t pop_people, pop_unique_rows, pop_risk_rows;
	double journalist_max, journalist_avg;
	int scored;			/* sr holds the release's loss */
	/* The privacy model could not be met (issue 20): the classes stand
	 * as they were found, for a report of the failure, and the
	 * quasi-identifier that drives it (NULL: none stands out). */
	int model_failed;
	const char *fail_column;
};

static int __attribute__((format(printf, 2, 3)))
job_fail(struct job *jb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(jb->res->error, sizeof(jb->res->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* Grows an array of elem-byte items to hold index i. */
static int
ensure(void **arr, size_t *cap, size_t i, size_t elem)
{
	size_t n = *cap ? *cap : 1024;
	void *p;

	if (i < *cap)
		return 0;
	while (n <= i)
		n *= 2;
	if ((p = reallocarray(*arr, n, elem)) == NULL)
		return SK_ENOMEM;
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*arr = p;
	*cap = n;
	return 0;
}

/* Maps the header (or the policy order) to input fields. */
static int
map_columns(struct job *jb)
{
	const struct policy *p = jb->p;
	char **f;
	uint32_t *lens;
	size_t n = p->ncols, i, j, o = 0;
	size_t in_of[CSV_FIELDS_MAX];
	int r;

	if (p->header) {
		if ((r = csv_read(jb->rd, &f, &lens, &n)) != 1)
			return job_fail(jb, "no header row: %s",
			    r == 0 ? "the file is empty" :
			    csv_reader_error(jb->rd));
		for (j = 0; j < p->ncols; j++)
			in_of[j] = SIZE_MAX;
		for (i = 0; i < n; i++) {
			for (j = 0; j < p->ncols; j++)
				if (strcmp(f[i], p->cols[j].name) == 0)
					break;
			/* A new column could be an identifier: refuse. */
			if (j == p->ncols)
				return job_fail(jb, "input column %zu is not "
				    "named in the policy", i + 1);
			if (in_of[j] != SIZE_MAX)
				return job_fail(jb, "column \"%s\" appears twice",
				    p->cols[j].name);
			in_of[j] = i;
		}
		for (j = 0; j < p->ncols; j++)
			if (in_of[j] == SIZE_MAX)
				return job_fail(jb, "column \"%s\" of the policy "
				    "is missing from the input",
				    p->cols[j].name);
	} else
		for (j = 0; j < p->ncols; j++)
			in_of[j] = j;
	jb->ninput = n;
	if ((jb->cols = calloc(p->ncols, sizeof(*jb->cols))) == NULL)
		return SK_ENOMEM;
	jb->sens = -1;
	for (j = 0; j < p->ncols; j++) {
		if (p->cols[j].action == ACT_DROP)
			continue;
		jb->cols[o].pc = &p->cols[j];
		jb->cols[o].in_idx = in_of[j];
		if ((r = dict_new(&jb->cols[o].out)) != 0 ||
		    (p->cols[j].action != ACT_KEEP &&
		    (r = dict_new(&jb->cols[o].memo)) != 0))
			return r;
		if (p->cols[j].role == COL_QUASI)
			jb->qi[jb->nqi++] = o;
		if (p->cols[j].role == COL_SENSITIVE && (p->l > 1 ||
		    p->t > 0))
			jb->sens = (long)o;
		o++;
	}
	jb->ncols = o;
	if (o == 0)
		return job_fail(jb, "the policy releases no column");
	return 0;
}

/* Interns an output value, scanning it the first time it is seen. */
static int
intern_out(struct job *jb, struct outcol *c, const char *v, uint32_t len,
    uint32_t *oid)
{
	int added, r;

	if ((r = dict_intern(c->out, v, len, oid, &added)) != 0)
		return r;
	if (!added)
		return 0;
	if ((r = ensure((void **)&c->flagged, &c->out_cap, *oid, 1)) != 0)
		return r;
	c->flag_why = reallocarray(c->flag_why, c->out_cap,
	    sizeof(*c->flag_why));
	if (c->flag_why == NULL)
		return SK_ENOMEM;
	v = dict_key(c->out, *oid, &len);	/* NUL-terminated copy */
	c->flag_why[*oid] = action_scan(jb->p, v, len);
	c->flagged[*oid] = c->flag_why[*oid] != NULL;
	return 0;
}

/* The output id of one cell; NO_ID with *why if the value is refused. */
static int
cell(struct job *jb, struct outcol *c, const char *v, uint32_t len,
    uint32_t *oid, const char **why)
{
	char out[ACTION_OUT_MAX];
	uint32_t mid;
	int added, r, n;

	if (c->pc->action == ACT_KEEP) {
		if (len >= ACTION_OUT_MAX) {
			*why = "a value longer than 511 bytes";
			*oid = NO_ID;
			return 0;
		}
		return intern_out(jb, c, v, len, oid);
	}
	if ((r = dict_intern(c->memo, v, len, &mid, &added)) != 0)
		return r;
	if ((r = ensure((void **)&c->memo_out, &c->memo_cap, mid,
	    sizeof(*c->memo_out))) != 0)
		return r;
	if (!added) {
		*oid = c->memo_out[mid];
		*why = "invalid value";
		return 0;
	}
	n = action_apply(c->pc, jb->key, v, len, out, why);
	if (n < 0) {
		if (n != SK_EFORMAT && n != SK_ETOOBIG)
			return n;
		c->memo_out[mid] = *oid = NO_ID;
		return 0;
	}
	if ((r = intern_out(jb, c, out, (uint32_t)n, oid)) != 0)
		return r;
	c->memo_out[mid] = *oid;
	if (c->pc->nsteps > 0) {
		if ((r = ensure((void **)&c->rep_memo, &c->rep_cap, *oid,
		    sizeof(*c->rep_memo))) != 0)
			return r;
		if (c->rep_memo[*oid] == 0)
			c->rep_memo[*oid] = mid + 1;
	}
	sk_wipe(out, sizeof(out));
	return 0;
}

static int
reject(struct job *jb, uint64_t line, const char *why)
{
	if (!jb->p->reject_bad_rows)
		return job_fail(jb, "line %llu: %s (on_error = \"fail\")",
		    (unsigned long long)line, why);
	if (jb->res->rows_rejected < REJECTS_LISTED) {
		jb->rejected_lines[jb->res->rows_rejected] = line;
		jb->rejected_why[jb->res->rows_rejected] = why;
	}
	jb->res->rows_rejected++;
	return 0;
}

/* Puts the row's QI tuple in its class, and counts l-diversity. */
static int
classify(struct job *jb, size_t row, const uint32_t *ids)
{
	uint32_t tuple[CSV_FIELDS_MAX], cid, pair[2], pid;
	size_t i;
	int added, r;

	for (i = 0; i < jb->nqi; i++)
		tuple[i] = ids[jb->qi[i]];
	if ((r = dict_intern(jb->classes, tuple,
	    (uint32_t)(jb->nqi * sizeof(uint32_t)), &cid, &added)) != 0)
		return r;
	if ((r = ensure((void **)&jb->class_size, &jb->class_cap, cid,
	    sizeof(uint32_t))) != 0)
		return r;
	if (added) {
		size_t cap = jb->class_cap;

		jb->class_distinct = reallocarray(jb->class_distinct, cap,
		    sizeof(uint32_t));
		jb->class_seen = reallocarray(jb->class_seen, cap,
		    sizeof(uint64_t));
		if (jb->class_distinct == NULL || jb->class_seen == NULL)
			return SK_ENOMEM;
		jb->class_distinct[cid] = 0;
		jb->class_seen[cid] = 0;
	}
	jb->class_size[cid]++;
	jb->row_class[row] = cid;
	if (jb->sens < 0)
		return 0;
	/* Distinct sensitive values per class: a bitmask for the first 64
	 * values (most sensitive columns have few), a set beyond. */
	pair[0] = cid;
	pair[1] = ids[jb->sens];
	if (pair[1] < 64) {
		if ((jb->class_seen[cid] & (UINT64_C(1) << pair[1])) == 0) {
			jb->class_seen[cid] |= UINT64_C(1) << pair[1];
			jb->class_distinct[cid]++;
		}
		return 0;
	}
	if ((r = dict_intern(jb->pairs, pair, sizeof(pair), &pid,
	    &added)) != 0)
		return r;
	if (added)
		jb->class_distinct[cid]++;
	return 0;
}

/*
 * The feeder: a thread that reads, decodes and parses records into one of
 * two batches while the job's thread transforms the other. A batch holds
 * copies of its records' fields (BATCH_BYTES at most, wiped when freed).
 */
#define BATCH_ROWS 4096
#define BATCH_BYTES (CSV_RECORD_MAX + CSV_FIELDS_MAX + (2u << 20))

struct batch {
	char *data;
	size_t used, data_used;		/* bytes now, bytes ever (to wipe) */
	char **fields;
	uint32_t *lens;
	size_t nfields, fields_cap;
	uint32_t rec_first[BATCH_ROWS], rec_n[BATCH_ROWS];
	uint64_t rec_line[BATCH_ROWS];
	size_t nrec;
	int full;
	int status;			/* 0: more to come; 1: end; <0: error */
};

struct feeder {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct csv_reader *rd;
	struct batch b[2];
	int stop;
};

static int
batch_add(struct batch *b, char **f, const uint32_t *lens, size_t n,
    uint64_t line)
{
	size_t i, need = 0;
	void *p;

	for (i = 0; i < n; i++)
		need += lens[i] + 1;
	if (b->nrec == BATCH_ROWS || b->used + need > BATCH_BYTES)
		return 1;		/* full: the record goes in the next */
	if (b->nfields + n > b->fields_cap) {
		size_t cap = (b->nfields + n) * 2;

		if ((p = reallocarray(b->fields, cap, sizeof(*b->fields))) == NULL)
			return SK_ENOMEM;
		b->fields = p;
		if ((p = reallocarray(b->lens, cap, sizeof(*b->lens))) == NULL)
			return SK_ENOMEM;
		b->lens = p;
		b->fields_cap = cap;
	}
	b->rec_first[b->nrec] = (uint32_t)b->nfields;
	b->rec_n[b->nrec] = (uint32_t)n;
	b->rec_line[b->nrec++] = line;
	for (i = 0; i < n; i++) {
		memcpy(b->data + b->used, f[i], lens[i] + 1);
		b->fields[b->nfields] = b->data + b->used;
		b->lens[b->nfields++] = lens[i];
		b->used += lens[i] + 1;
	}
	if (b->used > b->data_used)
		b->data_used = b->used;
	return 0;
}

/* Waits for batch i to be empty (or the job to stop). */
static int
feeder_wait_empty(struct feeder *fd, struct batch *b)
{
	int stop;

	pthread_mutex_lock(&fd->lock);
	while (b->full && !fd->stop)
		pthread_cond_wait(&fd->cond, &fd->lock);
	stop = fd->stop;
	pthread_mutex_unlock(&fd->lock);
	b->used = b->nfields = b->nrec = 0;
	return stop;
}

static void
feeder_hand_over(struct feeder *fd, struct batch *b, int status)
{
	pthread_mutex_lock(&fd->lock);
	b->status = status;
	b->full = 1;
	pthread_cond_broadcast(&fd->cond);
	pthread_mutex_unlock(&fd->lock);
}

static void *
feeder_main(void *arg)
{
	struct feeder *fd = arg;
	char **f;
	uint32_t *lens;
	size_t n;
	int i = 0, r, e;

	if (feeder_wait_empty(fd, &fd->b[0]))
		return NULL;
	for (;;) {
		r = csv_read(fd->rd, &f, &lens, &n);
		if (r == 1 && (e = batch_add(&fd->b[i], f, lens, n,
		    csv_reader_line(fd->rd))) == 0)
			continue;
		if (r == 1 && e < 0)
			r = e;
		feeder_hand_over(fd, &fd->b[i], r == 1 ? 0 : r == 0 ? 1 : r);
		if (r != 1)
			return NULL;
		i ^= 1;
		if (feeder_wait_empty(fd, &fd->b[i]))
			return NULL;
		/* The record that did not fit starts the new batch. */
		if ((e = batch_add(&fd->b[i], f, lens, n,
		    csv_reader_line(fd->rd))) != 0) {
			feeder_hand_over(fd, &fd->b[i], e < 0 ? e : SK_ETOOBIG);
			return NULL;
		}
	}
}

static int
feeder_start(struct feeder *fd, struct csv_reader *rd)
{
	int i;

	memset(fd, 0, sizeof(*fd));
	fd->rd = rd;
	for (i = 0; i < 2; i++)
		if ((fd->b[i].data = malloc(BATCH_BYTES)) == NULL)
			return SK_ENOMEM;
	pthread_mutex_init(&fd->lock, NULL);
	pthread_cond_init(&fd->cond, NULL);
	if (pthread_create(&fd->thread, NULL, feeder_main, fd) != 0) {
		pthread_mutex_destroy(&fd->lock);
		pthread_cond_destroy(&fd->cond);
		return SK_ESYS;
	}
	return 0;
}

/* Takes batch i once the feeder has filled it. */
static struct batch *
feeder_take(struct feeder *fd, int i)
{
	pthread_mutex_lock(&fd->lock);
	while (!fd->b[i].full)
		pthread_cond_wait(&fd->cond, &fd->lock);
	pthread_mutex_unlock(&fd->lock);
	return &fd->b[i];
}

static void
feeder_give_back(struct feeder *fd, struct batch *b)
{
	pthread_mutex_lock(&fd->lock);
	b->full = 0;
	pthread_cond_broadcast(&fd->cond);
	pthread_mutex_unlock(&fd->lock);
}

static void
feeder_stop(struct feeder *fd)
{
	int i;

	pthread_mutex_lock(&fd->lock);
	fd->stop = 1;
	pthread_cond_broadcast(&fd->cond);
	pthread_mutex_unlock(&fd->lock);
	pthread_join(fd->thread, NULL);
	pthread_mutex_destroy(&fd->lock);
	pthread_cond_destroy(&fd->cond);
	for (i = 0; i < 2; i++) {
		if (fd->b[i].data != NULL)
			sk_wipe(fd->b[i].data, fd->b[i].data_used);
		free(fd->b[i].data);
		free(fd->b[i].fields);
		free(fd->b[i].lens);
	}
}

/* Transforms, encodes and classifies one record. */
static int
take_row(struct job *jb, char **f, const uint32_t *lens, size_t n,
    uint64_t line, size_t *cap_cells, size_t *cap_lines)
{
	uint32_t *ids;
	const char *why;
	size_t j;
	int r;

	if (++jb->res->rows_in % 4096 == 0)
		atomic_store_explicit(&jb->res->rows_read, jb->res->rows_in,
		    memory_order_relaxed);
	if (n != jb->ninput)
		return reject(jb, line, "wrong number of fields");
	if ((r = ensure((void **)&jb->cells, cap_cells,
	    (jb->nrows + 1) * jb->ncols, sizeof(uint32_t))) != 0 ||
	    (r = ensure((void **)&jb->row_line, cap_lines, jb->nrows,
	    sizeof(uint32_t))) != 0 ||
	    (r = ensure((void **)&jb->row_class, &jb->rows_cap,
	    jb->nrows, sizeof(uint32_t))) != 0)
		return job_fail(jb, "out of memory");
	/* R29: every input column, the dropped ones too. */
	for (j = 0; jb->p->forbid_my_numbers && j < n; j++)
		if (action_has_mynumber(f[j], lens[j]))
			return job_fail(jb, "line %llu, input column %zu: %s",
			    (unsigned long long)line, j + 1,
			    ANON_MY_NUMBER_FORBIDDEN);
	ids = jb->cells + jb->nrows * jb->ncols;
	for (j = 0; j < jb->ncols; j++) {
		struct outcol *c = &jb->cols[j];

		if ((r = cell(jb, c, f[c->in_idx], lens[c->in_idx], &ids[j],
		    &why)) != 0)
			return job_fail(jb, "out of memory");
		if (ids[j] == NO_ID) {
			if (reject(jb, line, why) != 0)
				return job_fail(jb, "line %llu, column "
				    "\"%.64s\": %s (on_error = \"fail\")",
				    (unsigned long long)line, c->pc->name, why);
			return 0;
		}
	}
	jb->row_line[jb->nrows] = (uint32_t)line;
	if (classify(jb, jb->nrows, ids) != 0)
		return job_fail(jb, "out of memory");
	jb->nrows++;
	return 0;
}

static int
read_rows(struct job *jb)
{
	struct feeder fd;
	struct batch *b;
	size_t cap_cells = 0, cap_lines = 0, k;
	int i = 0, status, r = 0;

	if (feeder_start(&fd, jb->rd) != 0)
		return job_fail(jb, "cannot start reading");
	do {
		b = feeder_take(&fd, i);
		status = b->status;
		for (k = 0; r == 0 && k < b->nrec; k++)
			r = take_row(jb, b->fields + b->rec_first[k],
			    b->lens + b->rec_first[k], b->rec_n[k],
			    b->rec_line[k], &cap_cells, &cap_lines);
		feeder_give_back(&fd, b);
		i ^= 1;
	} while (r == 0 && status == 0);
	feeder_stop(&fd);
	if (r != 0)
		return -1;
	if (status < 0)
		return job_fail(jb, "%s", csv_reader_error(jb->rd)[0] ?
		    csv_reader_error(jb->rd) : sk_strerror(status));
	csv_reader_digest(jb->rd, jb->res->in_sha256);
	return 0;
}

static int
keeps(const struct job *jb, uint32_t cid)
{
	return jb->class_size[cid] >= jb->p->k &&
	    (jb->sens < 0 || jb->class_distinct[cid] >= jb->p->l) &&
	    (jb->class_ok == NULL || jb->class_ok[cid]);
}

/* A (class, sensitive value) pair and its rows, for model_verdicts. */
struct vpair {
	uint32_t cid, sens;
	uint64_t rows;
};

static int
vpair_cmp(const void *a, const void *b)
{
	const struct vpair *x = a, *y = b;

	return x->cid < y->cid ? -1 : x->cid > y->cid;
}

/*
 * The (class, sensitive value) pairs of the rows, each with its rows: a
 * dictionary of 8-byte keys and counts by pair id.
 */
static int
sens_pairs(const struct job *jb, struct dict **out, uint64_t **counts)
{
	struct dict *pairs;
	uint64_t *cnt = NULL;
	size_t i, cap = 0;
	uint32_t pair[2], pid;
	int added, r;

	if ((r = dict_new(&pairs)) != 0)
		return r;
	for (i = 0; i < jb->nrows; i++) {
		pair[0] = jb->row_class[i];
		pair[1] = jb->cells[i * jb->ncols + (size_t)jb->sens];
		if ((r = dict_intern(pairs, pair, sizeof(pair), &pid,
		    &added)) != 0 || (r = ensure((void **)&cnt, &cap, pid,
		    sizeof(*cnt))) != 0) {
			dict_free(pairs);
			free(cnt);
			return r;
		}
		cnt[pid]++;
	}
	*out = pairs;
	*counts = cnt;
	return 0;
}

/* Each sensitive value's share of all the rows read (t-closeness). */
static int
model_global(struct job *jb)
{
	uint32_t nsens = dict_count(jb->cols[jb->sens].out);
	uint64_t *gc;
	size_t i;
	double *g;

	if ((gc = calloc(nsens + 1, sizeof(*gc))) == NULL ||
	    (g = realloc(jb->global, (nsens + 1) * sizeof(*g))) == NULL) {
		free(gc);
		return SK_ENOMEM;
	}
	jb->global = g;
	for (i = 0; i < jb->nrows; i++)
		gc[jb->cells[i * jb->ncols + (size_t)jb->sens]]++;
	for (i = 0; i < nsens; i++)
		g[i] = jb->nrows ? (double)gc[i] / (double)jb->nrows : 0;
	jb->model.global = g;
	free(gc);
	return 0;
}

/*
 * t_hierarchy: each released sensitive value's label at every level of
 * the hierarchy, for the hierarchical ground distance. A value the
 * hierarchy lacks fails the job (the value is not named: it is data).
 */
static int
model_tree(struct job *jb)
{
	const struct policy_column *h = &jb->p->t_hier;
	const struct dict *out;
	uint32_t nsens, rows, id, row, len;
	const char *key;
	unsigned lv;

	if (jb->p->t <= 0 || h->from == NULL || jb->sens < 0)
		return 0;
	out = jb->cols[jb->sens].out;
	nsens = dict_count(out);
	rows = dict_count(h->from);
	if ((jb->t_gen = calloc((size_t)nsens * h->nlevels + 1,
	    sizeof(*jb->t_gen))) == NULL)
		return job_fail(jb, "out of memory");
	for (id = 0; id < nsens; id++) {
		key = dict_key(out, id, &len);
		if (dict_find(h->from, key, len, &row) != 0)
			return job_fail(jb, "column \"%s\": a released value "
			    "is not in t_hierarchy (%u values there)",
			    jb->cols[jb->sens].pc->name, rows);
		for (lv = 0; lv < h->nlevels; lv++)
			jb->t_gen[(size_t)lv * nsens + id] =
			    h->gen[(size_t)lv * rows + row];
	}
	jb->model.t_gen = jb->t_gen;
	jb->model.t_nvalues = nsens;
	jb->model.t_nlabels = dict_count(h->labels);
	jb->model.t_height = h->nlevels - 1;
	return 0;
}

/*
 * Entropy or recursive l-diversity, t-closeness: each class judged on
 * its sensitive values' counts (model.c), against the whole file's
 * distribution for t. Run after the classes are final.
 */
static int
model_verdicts(struct job *jb)
{
	struct dict *pairs = NULL;
	struct vpair *v = NULL;
	uint32_t ncl = dict_count(jb->classes), pair[2], len, *ids = NULL;
	uint64_t *rows = NULL, *cnt = NULL;
	size_t i, j, n;
	int r;

	free(jb->class_ok);
	jb->class_ok = NULL;
	if (!model_needs_counts(&jb->model))
		return 0;
	if ((r = model_global(jb)) != 0 ||
	    (r = sens_pairs(jb, &pairs, &rows)) != 0)
		return r;
	r = SK_ENOMEM;
	n = dict_count(pairs);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		memcpy(pair, dict_key(pairs, (uint32_t)i, &len), sizeof(pair));
		v[i] = (struct vpair){ pair[0], pair[1], rows[i] };
	}
	qsort(v, n, sizeof(*v), vpair_cmp);
	if ((jb->class_ok = calloc(ncl + 1, 1)) == NULL ||
	    (ids = calloc(n + 1, sizeof(*ids))) == NULL ||
	    (cnt = calloc(n + 1, sizeof(*cnt))) == NULL)
		goto out;
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && v[j].cid == v[i].cid; j++) {
			ids[j - i] = v[j].sens;
			cnt[j - i] = v[j].rows;
		}
		jb->class_ok[v[i].cid] = (uint8_t)model_class_ok(&jb->model,
		    ids, cnt, j - i, jb->class_size[v[i].cid]);
	}
	r = 0;
out:
	dict_free(pairs);
	free(rows);
	free(v);
	free(ids);
	free(cnt);
	return r;
}

/* Whether column j of a suppressed row is written as * (star mode). */
static int
starred_cell(const struct job *jb, size_t j)
{
	enum col_role r = jb->cols[j].pc->role;

	return r == COL_QUASI || (r == COL_SENSITIVE &&
	    jb->res->star_sensitive);
}

/*
 * suppressed = "star": the suppressed rows are released with every
 * quasi-identifier *, as one class. If that class (with a released class
 * already all * in its quasi-identifiers, if any) has fewer than k rows
 * or l sensitive values, their sensitive values are * too, so that the
 * class tells nothing about the few people in it.
 */
static int
star_class(struct job *jb)
{
	struct dict *seen = NULL;
	uint64_t rows = 0;
	uint32_t id, joined = UINT32_MAX, distinct = 0, len;
	size_t i, q;
	int added, r;

	for (i = 0; i < dict_count(jb->classes); i++) {
		const char *key = dict_key(jb->classes, (uint32_t)i, &len);

		if (!keeps(jb, (uint32_t)i))
			continue;
		for (q = 0; q < jb->nqi; q++) {
			const char *v;
			uint32_t vl;

			memcpy(&id, key + q * sizeof(id), sizeof(id));
			v = dict_key(jb->cols[jb->qi[q]].out, id, &vl);
			if (vl != 1 || v[0] != '*')
				break;
		}
		if (q == jb->nqi)
			joined = (uint32_t)i;
	}
	if ((r = dict_new(&seen)) != 0)
		return r;
	for (i = 0; i < jb->nrows; i++) {
		uint32_t cid = jb->row_class[i];

		if (keeps(jb, cid) && cid != joined)
			continue;
		if (!keeps(jb, cid))
			jb->res->rows_starred++;
		rows++;
		if (jb->sens >= 0) {
			id = jb->cells[i * jb->ncols + (size_t)jb->sens];
			if ((r = dict_intern(seen, &id, sizeof(id), &id,
			    &added)) != 0)
				break;
			distinct += (uint32_t)added;
		}
	}
	dict_free(seen);
	jb->star_joins = joined != UINT32_MAX;
	jb->res->star_sensitive = jb->res->rows_starred > 0 &&
	    (rows < jb->p->k || (jb->sens >= 0 && distinct < jb->p->l));
	return r;
}

/*
 * Which quasi-identifier drives the suppression (issue 20: a failed job
 * says which column to generalize): for each, the rows that classes
 * smaller than k would still hold if that column were left out. The one
 * whose removal saves the most is named, with its count; -1 if none
 * helps or memory runs out. Names and counts only, never a value.
 */
static int
driving_qi(struct job *jb, uint64_t *without)
{
	uint32_t tuple[CSV_FIELDS_MAX], cid, *size = NULL, *cls = NULL, *p;
	uint64_t best = UINT64_MAX, small;
	size_t q, i, k, n, cap = 0;
	struct dict *d = NULL;
	int added, pick = -1;

	if (jb->nqi < 2 || (cls = calloc(jb->nrows + 1, sizeof(*cls))) == NULL)
		goto out;
	for (q = 0; q < jb->nqi; q++) {
		if (dict_new(&d) != 0)
			goto out;
		for (i = 0; i < jb->nrows; i++) {
			for (k = 0, n = 0; k < jb->nqi; k++)
				if (k != q)
					tuple[n++] = jb->cells[i * jb->ncols +
					    jb->qi[k]];
			if (dict_intern(d, tuple, (uint32_t)(n *
			    sizeof(uint32_t)), &cid, &added) != 0)
				goto out;
			if (cid >= cap) {
				size_t nc = cap ? cap * 2 : 1024;

				while (nc <= cid)
					nc *= 2;
				if ((p = reallocarray(size, nc,
				    sizeof(*size))) == NULL)
					goto out;
				memset(p + cap, 0, (nc - cap) * sizeof(*p));
				size = p;
				cap = nc;
			}
			if (added)
				size[cid] = 0;
			size[cid]++;
			cls[i] = cid;
		}
		for (i = 0, small = 0; i < jb->nrows; i++)
			small += size[cls[i]] < jb->p->k;
		if (small < best) {
			best = small;
			pick = (int)q;
		}
		dict_free(d);
		d = NULL;
	}
	*without = best;
	/* A column whose absence would leave as many rows in small classes
	 * drives nothing: none stands out. */
	for (i = 0, small = 0; pick >= 0 && i < jb->nrows; i++)
		small += jb->class_size[jb->row_class[i]] < jb->p->k;
	if (pick >= 0 && best >= small)
		pick = -1;
out:
	dict_free(d);
	free(size);
	free(cls);
	return pick;
}

/* The rows each part of the model suppresses, as the classes stand. */
static void
suppression_counts(struct job *jb)
{
	struct anon_result *res = jb->res;
	uint32_t cid;
	size_t i;

	res->rows_suppressed_k = res->rows_suppressed_l = 0;
	for (i = 0; i < jb->nrows; i++) {
		cid = jb->row_class[i];
		if (jb->class_size[cid] < jb->p->k)
			res->rows_suppressed_k++;
		else if (!keeps(jb, cid))
			res->rows_suppressed_l++;
	}
}

/* Decides suppression and checks every released value was cleared. */
static int
suppress(struct job *jb, uint32_t **order)
{
	struct anon_result *res = jb->res;
	uint64_t limit, kept = 0, smallest = UINT64_MAX;
	size_t i, j, o = 0;
	uint32_t cid, id;

	suppression_counts(jb);
	limit = (uint64_t)(jb->p->max_suppression * (double)jb->nrows);
	if (res->rows_suppressed_k + res->rows_suppressed_l > limit) {
		char cause[160] = "";
		uint64_t without = 0;
		int q = driving_qi(jb, &without);

		jb->model_failed = 1;
		jb->fail_column = q >= 0 ? jb->cols[jb->qi[q]].pc->name : NULL;
		if (q >= 0)
			snprintf(cause, sizeof(cause), "\"%.64s\" drives it "
			    "(without it: %llu); generalize it further",
			    jb->cols[jb->qi[q]].pc->name,
			    (unsigned long long)without);
		return job_fail(jb, "k-anonymity (k=%u%s): %llu of %zu rows "
		    "would be suppressed, more than max_suppression allows "
		    "(%llu); %s", jb->p->k, jb->sens >= 0 ?
		    " with l-diversity" : "",
		    (unsigned long long)(res->rows_suppressed_k +
		    res->rows_suppressed_l), jb->nrows,
		    (unsigned long long)limit, q >= 0 ? cause :
		    "generalize the quasi-identifiers further");
	}
	if ((*order = calloc(jb->nrows + 1, sizeof(**order))) == NULL)
		return job_fail(jb, "out of memory");
	if (jb->p->star && star_class(jb) != 0)
		return job_fail(jb, "out of memory");
	for (i = 0; i < jb->nrows; i++) {
		int starred = !keeps(jb, jb->row_class[i]);

		if (starred && !jb->p->star)
			continue;
		for (j = 0; j < jb->ncols; j++) {
			id = jb->cells[i * jb->ncols + j];
			if (starred && starred_cell(jb, j))
				continue;	/* written as * */
			if (jb->cols[j].flagged[id])
				return job_fail(jb, "line %u, column \"%s\": a "
				    "value that looks like %s would be "
				    "released; nothing was written",
				    jb->row_line[i], jb->cols[j].pc->name,
				    jb->cols[j].flag_why[id]);
		}
		(*order)[o++] = (uint32_t)i;
	}
	res->rows_out = o;
	if (o == res->rows_starred)
		return job_fail(jb, "no rows left to release");
	for (i = 0; i < dict_count(jb->classes); i++)
		if (keeps(jb, (uint32_t)i)) {
			kept++;
			if (jb->class_size[i] < smallest)
				smallest = jb->class_size[i];
		}
	res->classes = kept;
	res->smallest_class = smallest;
	/* Records whose class makes their risk (1 / size) exceed the
	 * threshold: none when k >= 1 / threshold. */
	for (i = 0; i < jb->nrows; i++) {
		cid = jb->row_class[i];
		if (keeps(jb, cid) && 1.0 / (double)jb->class_size[cid] >
		    jb->p->risk_threshold)
			res->rows_at_risk++;
	}
	res->risk_max = 1.0 / (double)smallest;
	res->risk_avg = (double)kept / (double)(o - res->rows_starred);
	/* The starred rows are one class more, unless a released class
	 * already has every quasi-identifier at *. */
	if (res->rows_starred > 0 && !jb->star_joins)
		res->classes++;
	return 0;
}

/*
 * The search's view of the job: a dimension per quasi-identifier and the
 * distinct tuples of their values with their row counts. A searched
 * column's values are its hierarchy's rows (level 0); any other column is
 * one fixed level whose values are the ones it releases, each standing
 * for as many hierarchy rows as it generalizes (a hierarchy at a fixed
 * level) or for one (any other action).
 */
struct lattice {
	struct search_problem sp;
	struct search_dim dim[SEARCH_MAX_DIMS];
	uint32_t *own[2 * SEARCH_MAX_DIMS];	/* gen and leaves made here */
	uint32_t *from_of[SEARCH_MAX_DIMS];	/* searched: out id -> row */
	uint32_t *tuples, *sens;
	uint32_t *cid;				/* tuple -> class */
	uint64_t *count;
	uint8_t *keep;				/* tuple released */
};

static void
lattice_free(struct lattice *lt)
{
	size_t i;

	for (i = 0; i < SK_ARRAY_LEN(lt->own); i++)
		free(lt->own[i]);
	for (i = 0; i < SK_ARRAY_LEN(lt->from_of); i++)
		free(lt->from_of[i]);
	free(lt->tuples);
	free(lt->sens);
	free(lt->cid);
	free(lt->count);
	free(lt->keep);
}

/*
 * The levels of a searched built-in generalization over the values it
 * released at level 0: each value's label at every level, from an input
 * that produced it, and how many level-0 values each label covers (the
 * domain is the values seen). The levels must nest.
 */
static int
build_levels(struct job *jb, struct outcol *c)
{
	const struct policy_column *pc = c->pc;
	uint32_t n = dict_count(c->out), o, len, id, nl, *up = NULL, *cnt;
	char out[ACTION_OUT_MAX];
	const char *v, *why;
	unsigned lv;
	int r, added, k;

	if ((r = dict_new(&c->labels)) != 0)
		return r;
	c->gen = calloc((size_t)n * pc->nlevels + 1, sizeof(*c->gen));
	c->leaves = calloc((size_t)n * pc->nlevels + 1, sizeof(*c->leaves));
	if (c->gen == NULL || c->leaves == NULL)
		return SK_ENOMEM;
	for (o = 0; o < n; o++)
		for (lv = 0; lv < pc->nlevels; lv++) {
			if (lv == 0) {
				v = dict_key(c->out, o, &len);
				k = (int)len;
			} else {
				v = dict_key(c->memo, c->rep_memo[o] - 1, &len);
				k = action_apply_level(pc, lv, v, len, out, &why);
				if (k < 0)
					return k;
				v = out;
			}
			r = dict_intern(c->labels, v, (uint32_t)k, &id, &added);
			sk_wipe(out, sizeof(out));
			if (r != 0)
				return r;
			c->gen[(size_t)lv * n + o] = id;
		}
	nl = dict_count(c->labels);
	if ((cnt = calloc(nl + 1, sizeof(*cnt))) == NULL ||
	    (up = malloc(((size_t)nl + 1) * sizeof(*up))) == NULL) {
		free(cnt);
		return SK_ENOMEM;
	}
	for (lv = 0, r = 0; r == 0 && lv < pc->nlevels; lv++) {
		const uint32_t *g = c->gen + (size_t)lv * n;

		memset(cnt, 0, ((size_t)nl + 1) * sizeof(*cnt));
		for (o = 0; o < n; o++)
			cnt[g[o]]++;
		for (o = 0; o < n; o++)
			c->leaves[(size_t)lv * n + o] = cnt[g[o]];
		if (lv == 0)
			continue;
		memset(up, 0xff, ((size_t)nl + 1) * sizeof(*up));
		for (o = 0; o < n; o++) {
			id = c->gen[(size_t)(lv - 1) * n + o];
			if (up[id] == UINT32_MAX)
				up[id] = g[o];
			else if (up[id] != g[o])
				r = SK_EFORMAT;
		}
		if (r != 0)
			job_fail(jb, "column \"%s\": level %u does not nest in "
			    "level %u (a band of one level spans two of the "
			    "next: check top and bottom against the widths)",
			    pc->name, lv - 1, lv);
	}
	free(cnt);
	free(up);
	return r;
}

static int
lattice_dim(struct job *jb, struct lattice *lt, size_t i)
{
	const struct outcol *c = &jb->cols[jb->qi[i]];
	const struct policy_column *pc = c->pc;
	struct search_dim *d = &lt->dim[i];
	uint32_t nout = dict_count(c->out), o, rows, id, len, *cnt;
	const char *key;

	if (pc->search && pc->nsteps > 0) {
		*d = (struct search_dim){ .nvalues = nout,
		    .nlevels = pc->nlevels, .min_level = pc->min_level,
		    .max_level = pc->max_level, .gen = c->gen,
		    .leaves = c->leaves, .domain = nout };
		if ((lt->from_of[i] = calloc(nout + 1, sizeof(uint32_t))) ==
		    NULL)
			return SK_ENOMEM;
		for (o = 0; o < nout; o++)
			lt->from_of[i][o] = o;
		return 0;
	}
	if (pc->search) {
		rows = dict_count(pc->from);
		*d = (struct search_dim){ .nvalues = rows,
		    .nlevels = pc->nlevels, .min_level = pc->min_level,
		    .max_level = pc->max_level, .gen = pc->gen,
		    .leaves = pc->leaves, .domain = rows };
		if ((lt->from_of[i] = calloc(nout + 1, sizeof(uint32_t))) ==
		    NULL)
			return SK_ENOMEM;
		for (o = 0; o < nout; o++) {
			key = dict_key(c->out, o, &len);
			if (dict_find(pc->from, key, len, &id) != 0)
				return SK_EINTERNAL;
			lt->from_of[i][o] = id;
		}
		return 0;
	}
	lt->own[2 * i] = malloc(((size_t)nout + 1) * sizeof(uint32_t));
	lt->own[2 * i + 1] = malloc(((size_t)nout + 1) * sizeof(uint32_t));
	if (lt->own[2 * i] == NULL || lt->own[2 * i + 1] == NULL)
		return SK_ENOMEM;
	*d = (struct search_dim){ .nvalues = nout, .nlevels = 1,
	    .gen = lt->own[2 * i], .leaves = lt->own[2 * i + 1],
	    .domain = nout };
	for (o = 0; o < nout; o++) {
		lt->own[2 * i][o] = o;
		lt->own[2 * i + 1][o] = 1;
	}
	if (pc->action != ACT_HIERARCHY)
		return 0;
	/* A fixed level: each label stands for the rows under it. */
	rows = dict_count(pc->from);
	d->domain = rows;
	if ((cnt = calloc(dict_count(pc->to) + 1, sizeof(*cnt))) == NULL)
		return SK_ENOMEM;
	for (id = 0; id < rows; id++)
		cnt[pc->to_id[id]]++;
	for (o = 0; o < nout; o++) {
		key = dict_key(c->out, o, &len);
		if (dict_find(pc->to, key, len, &id) != 0) {
			free(cnt);
			return SK_EINTERNAL;
		}
		lt->own[2 * i + 1][o] = cnt[id];
	}
	free(cnt);
	return 0;
}

/* The tuple of class cid, with searched columns as hierarchy rows. */
static void
lattice_tuple(const struct job *jb, const struct lattice *lt, uint32_t cid,
    uint32_t *out)
{
	uint32_t len, id;
	const char *key = dict_key(jb->classes, cid, &len);
	size_t i;

	/* Dictionary keys are bytes, not aligned for uint32_t. */
	for (i = 0; i < jb->nqi; i++) {
		memcpy(&id, key + i * sizeof(id), sizeof(id));
		out[i] = lt->from_of[i] != NULL ? lt->from_of[i][id] : id;
	}
}

/*
 * Builds the lattice. by_sensitive: one tuple per (class, sensitive value)
 * for the search's l-diversity; else one per class, with whether the
 * engine releases it.
 */
static int
lattice_build(struct job *jb, struct lattice *lt, int by_sensitive)
{
	struct dict *pairs = NULL;
	uint32_t ncl = dict_count(jb->classes), pair[2], len;
	uint64_t *prows = NULL;
	size_t i, n;
	int r;

	memset(lt, 0, sizeof(*lt));
	if (jb->nqi == 0 || jb->nqi > SEARCH_MAX_DIMS)
		return SK_ETOOBIG;
	for (i = 0; i < jb->nqi; i++)
		if ((r = lattice_dim(jb, lt, i)) != 0)
			return r;
	n = ncl;
	if (by_sensitive) {
		if ((r = sens_pairs(jb, &pairs, &prows)) != 0)
			return r;
		n = dict_count(pairs);
	}
	lt->tuples = malloc((n + 1) * jb->nqi * sizeof(uint32_t));
	lt->count = calloc(n + 1, sizeof(uint64_t));
	lt->sens = calloc(n + 1, sizeof(uint32_t));
	lt->keep = calloc(n + 1, 1);
	lt->cid = calloc(n + 1, sizeof(uint32_t));
	if (lt->tuples == NULL || lt->count == NULL || lt->sens == NULL ||
	    lt->keep == NULL || lt->cid == NULL) {
		r = SK_ENOMEM;
		goto out;
	}
	if (by_sensitive) {
		for (i = 0; i < n; i++) {
			lt->count[i] = prows[i];
			memcpy(pair, dict_key(pairs, (uint32_t)i, &len),
			    sizeof(pair));
			lattice_tuple(jb, lt, pair[0], lt->tuples + i * jb->nqi);
			lt->sens[i] = pair[1];
			lt->cid[i] = pair[0];
		}
	} else
		for (i = 0; i < n; i++) {
			lattice_tuple(jb, lt, (uint32_t)i,
			    lt->tuples + i * jb->nqi);
			lt->count[i] = jb->class_size[i];
			lt->keep[i] = (uint8_t)keeps(jb, (uint32_t)i);
			lt->cid[i] = (uint32_t)i;
		}
	lt->sp = (struct search_problem){ .metric =
	    (enum search_metric)jb->p->metric, .ndims = jb->nqi, .dims = lt->dim,
	    .ntuples = n, .tuples = lt->tuples, .count = lt->count,
	    .sens = by_sensitive ? lt->sens : NULL, .k = jb->p->k,
	    .l = jb->p->l, .max_suppression = jb->p->max_suppression,
	    .max_group_suppression = jb->p->max_group_suppression,
	    .model = model_needs_counts(&jb->model) ? &jb->model : NULL };
	if (util_random(&lt->sp.seed, sizeof(lt->sp.seed)) != 0)
		r = SK_ECRYPTO;
	else
		r = 0;
out:
	dict_free(pairs);
	free(prows);
	return r;
}

/*
 * Releases a searched column at its chosen level: new output values. With
 * local recoding (lr set), each row at its round's level instead
 * (row_round[row]; a row no round released takes the last round's).
 */
static int
relevel(struct job *jb, const struct lattice *lt, size_t i, unsigned level,
    const struct search_local *lr, const uint8_t *row_round)
{
	struct outcol *c = &jb->cols[jb->qi[i]];
	const struct policy_column *pc = c->pc;
	struct dict *old = c->out;
	uint32_t nold = dict_count(old), o, *to, len, nr = 1, x;
	/* The labels: the hierarchy file's, or the ones built from the
	 * values (build_levels), which the new values must outlive. */
	const struct dict *labels = pc->nsteps > 0 ? c->labels : pc->labels;
	const uint32_t *gen = pc->nsteps > 0 ? c->gen : pc->gen;
	uint32_t rows = pc->nsteps > 0 ? nold : dict_count(pc->from);
	const char *v;
	size_t row;
	int r;

	if (lr != NULL)
		nr = lr->rounds;
	if ((to = calloc((size_t)nold * nr + 1, sizeof(*to))) == NULL)
		return SK_ENOMEM;
	free(c->flagged);
	free(c->flag_why);
	c->flagged = NULL;
	c->flag_why = NULL;
	c->out_cap = 0;
	if ((r = dict_new(&c->out)) != 0) {
		c->out = old;
		free(to);
		return r;
	}
	for (o = 0; o < nold && r == 0; o++)
		for (x = 0; x < nr && r == 0; x++) {
			unsigned lv = lr != NULL ? lr->level[x][i] : level;

			v = dict_key(labels, gen[(size_t)lv * rows +
			    lt->from_of[i][o]], &len);
			r = intern_out(jb, c, v, len, &to[(size_t)o * nr + x]);
		}
	for (row = 0; r == 0 && row < jb->nrows; row++) {
		uint32_t *id = &jb->cells[row * jb->ncols + jb->qi[i]];

		x = lr == NULL ? 0 : row_round[row] < nr ? row_round[row] :
		    nr - 1;
		*id = to[(size_t)*id * nr + x];
	}
	dict_free(old);
	free(to);
	return r;
}

/* The classes again, after the search changed the released values. */
static int
reclassify(struct job *jb)
{
	size_t i;
	int r;

	dict_free(jb->classes);
	dict_free(jb->pairs);
	jb->classes = jb->pairs = NULL;
	memset(jb->class_size, 0, jb->class_cap * sizeof(uint32_t));
	if ((r = dict_new(&jb->classes)) != 0 ||
	    (r = dict_new(&jb->pairs)) != 0)
		return r;
	for (i = 0; i < jb->nrows; i++)
		if ((r = classify(jb, i, jb->cells + i * jb->ncols)) != 0)
			return r;
	return 0;
}

/*
 * Releases the searched columns at the levels chosen (jb->sr.level, or
 * each row at its round's with local recoding), and counts the classes
 * and the model's verdicts again.
 */
static int
release_levels(struct job *jb, const struct lattice *lt,
    const struct search_local *lr, const uint8_t *row_round)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < jb->nqi; i++)
		if (jb->cols[jb->qi[i]].pc->search)
			r = relevel(jb, lt, i, jb->sr.level[i], lr, row_round);
	if (r == 0)
		r = reclassify(jb);
	if (r == 0 && jb->sens >= 0)
		r = model_verdicts(jb);
	return r;
}

static void suppression_counts(struct job *jb);

/*
 * After a search that found nothing: the searched columns at the levels in
 * jb->sr.level, the classes again, the rows they suppress and the column
 * that drives it, for the report of the failure. 0, or an error (the
 * failure is then reported without them).
 */
static int
highest_levels(struct job *jb, const struct lattice *lt)
{
	uint64_t without;
	int r, q;

	if ((r = release_levels(jb, lt, NULL, NULL)) != 0)
		return r;
	suppression_counts(jb);
	q = driving_qi(jb, &without);
	jb->fail_column = q >= 0 ? jb->cols[jb->qi[q]].pc->name : NULL;
	return 0;
}

/*
 * The rounds of local recoding for the report: [{"rows": N, "levels":
 * {column: level, ...}}, ...], the searched columns only; NULL if it
 * does not fit.
 */
static char *
local_rounds(const struct job *jb)
{
	const struct search_local *lr = &jb->local;
	size_t cap = 256 + (size_t)lr->rounds * (jb->nqi * 300 + 64), len = 1;
	char *buf = malloc(cap), *lv = malloc(jb->nqi * 300 + 64);
	struct json o, l;
	unsigned x;
	size_t d;
	int n;

	if (buf == NULL || lv == NULL)
		goto fail;
	buf[0] = '[';
	for (x = 0; x < lr->rounds; x++) {
		json_begin(&l, lv, jb->nqi * 300 + 64);
		for (d = 0; d < jb->nqi; d++)
			if (jb->cols[jb->qi[d]].pc->search)
				json_u64(&l, jb->cols[jb->qi[d]].pc->name,
				    lr->level[x][d]);
		if (json_end(&l) < 0)
			goto fail;
		if (x > 0)
			buf[len++] = ',';
		json_begin(&o, buf + len, cap - len - 2);
		json_u64(&o, "rows", lr->rows[x]);
		json_raw(&o, "levels", lv);
		if ((n = json_end(&o)) < 0)
			goto fail;
		len += (size_t)n;
	}
	buf[len++] = ']';
	buf[len] = '\0';
	free(lv);
	return buf;
fail:
	free(buf);
	free(lv);
	return NULL;
}

/*
 * Local recoding: the rounds of search_local, each row released at its
 * round's levels, the classes again, and the loss of what is released.
 */
static int
local_levels(struct job *jb, struct lattice *lt)
{
	struct search_local *lr = &jb->local;
	uint32_t ncl = dict_count(jb->classes), *rep = NULL;
	uint8_t *class_round = NULL, *row_round = NULL, *keep = NULL;
	unsigned *lv = NULL, x;
	uint64_t limit;
	size_t i, t, d, n = lt->sp.ntuples;
	int r = SK_ENOMEM;

	lr->round_of = malloc(n + 1);
	class_round = malloc((size_t)ncl + 1);
	rep = malloc(((size_t)ncl + 1) * sizeof(*rep));
	row_round = malloc(jb->nrows + 1);
	keep = malloc(n + 1);
	lv = malloc((n + 1) * jb->nqi * sizeof(*lv));
	if (lr->round_of == NULL || class_round == NULL || rep == NULL ||
	    row_round == NULL || keep == NULL || lv == NULL)
		goto out;
	lr->cells = jb->p->local == RECODE_CELLS;
	if ((r = search_local(&lt->sp, lr)) != 0)
		goto out;
	if (lr->rounds == 0) {
		r = job_fail(jb, "no combination of levels meets k=%u%s, even "
		    "with %s", jb->p->k, jb->sens >= 0 ? " with l-diversity" :
		    "", lr->cells ? "cell suppression" : "local recoding");
		goto out;
	}
	/* Every row of a level-0 class shares its round. */
	memset(class_round, SEARCH_UNRELEASED, (size_t)ncl + 1);
	for (t = 0; t < n; t++)
		class_round[lt->cid[t]] = lr->round_of[t];
	for (i = jb->nrows; i-- > 0;) {
		row_round[i] = class_round[jb->row_class[i]];
		rep[jb->row_class[i]] = (uint32_t)i;
	}
	r = release_levels(jb, lt, lr, row_round);
	if (r == 0 && (jb->class_round = malloc((size_t)dict_count(
	    jb->classes) + 1)) == NULL)
		r = SK_ENOMEM;
	if (r != 0) {
		r = job_fail(jb, "the search failed: %s", sk_strerror(r));
		goto out;
	}
	/* A final class's round: its rows', the first where two merged. */
	memset(jb->class_round, 0xff, (size_t)dict_count(jb->classes) + 1);
	for (i = 0; i < jb->nrows; i++) {
		x = row_round[i] < lr->rounds ? row_round[i] : lr->rounds - 1;
		if (x < jb->class_round[jb->row_class[i]])
			jb->class_round[jb->row_class[i]] = (uint8_t)x;
	}
	/* The release's loss, each tuple at its round's levels, released
	 * as the engine will release it. */
	for (t = 0; t < n; t++) {
		x = lr->round_of[t] < lr->rounds ? lr->round_of[t] :
		    lr->rounds - 1;
		for (d = 0; d < jb->nqi; d++)
			lv[t * jb->nqi + d] = lr->level[x][d];
		keep[t] = (uint8_t)keeps(jb, jb->row_class[rep[lt->cid[t]]]);
	}
	if ((r = search_eval_mixed(&lt->sp, lv, keep, &jb->sr)) != 0) {
		r = job_fail(jb, "the search failed: %s", sk_strerror(r));
		goto out;
	}
	for (d = 0; d < jb->nqi; d++)
		jb->sr.level[d] = lr->level[0][d];
	jb->sr.nodes = lr->nodes;
	jb->sr.checked = lr->checked;
	jb->scored = 1;
	limit = (uint64_t)floor(jb->p->max_suppression * (double)jb->nrows);
	if (jb->sr.suppressed > limit) {
		jb->model_failed = 1;
		r = job_fail(jb, "%s in %u rounds still suppresses %llu of %zu "
		    "rows, more than max_suppression allows (%llu)", lr->cells ?
		    "cell suppression" : "local recoding", lr->rounds, (unsigned long long)jb->sr.suppressed,
		    jb->nrows, (unsigned long long)limit);
		goto out;
	}
	r = 0;
out:
	free(lr->round_of);
	lr->round_of = NULL;
	free(class_round);
	free(rep);
	free(row_round);
	free(keep);
	free(lv);
	/* job_fail's -1 has said why already */
	return r == 0 || r == -1 ? r : job_fail(jb, "local recoding failed: "
	    "%s", sk_strerror(r));
}

/*
 * The release's value under every metric the search knows (issue 19), so
 * that the report can be compared with another tool's whichever it
 * scores by; a metric that cannot be counted is left out (NaN).
 */
static void
every_metric(struct job *jb, const struct lattice *lt, const unsigned *levels,
    const uint8_t *keep)
{
	struct search_problem sp = lt->sp;
	struct search_result r;
	int m;

	for (m = 0; m < SEARCH_NMETRICS; m++) {
		sp.metric = (enum search_metric)m;
		jb->metric_value[m] = search_eval(&sp, levels, keep, &r) == 0 ?
		    r.score : NAN;
	}
	jb->metrics_done = 1;
}

/* Finds the levels of least loss and releases the columns at them. */
static int
search_levels(struct job *jb)
{
	struct lattice lt;
	struct search_result top;
	unsigned levels[SEARCH_MAX_DIMS];
	size_t i;
	int r;

	if (jb->nrows == 0)
		return job_fail(jb, "no rows left to release");
	if (model_needs_counts(&jb->model) && model_global(jb) != 0)
		return job_fail(jb, "out of memory");
	for (i = 0; i < jb->nqi; i++)
		if (jb->cols[jb->qi[i]].pc->nsteps > 0 &&
		    (r = build_levels(jb, &jb->cols[jb->qi[i]])) != 0)
			return r == SK_EFORMAT ? -1 : job_fail(jb, "cannot "
			    "build the levels of column \"%s\": %s",
			    jb->cols[jb->qi[i]].pc->name, sk_strerror(r));
	if ((r = lattice_build(jb, &lt, jb->sens >= 0)) != 0) {
		lattice_free(&lt);
		return job_fail(jb, "cannot prepare the search: %s",
		    r == SK_ETOOBIG ? "more than 128 quasi-identifiers" :
		    sk_strerror(r));
	}
	if (jb->p->local) {
		r = local_levels(jb, &lt);
		lattice_free(&lt);
		return r;
	}
	r = search_run(&lt.sp, &jb->sr);
	if (r == SK_ETOOBIG) {
		lattice_free(&lt);
		return job_fail(jb, "the search would have more than %u "
		    "combinations of levels to try; fix the level of some "
		    "columns or narrow them with min_level and max_level",
		    SEARCH_MAX_NODES);
	}
	if (r == 0 && !jb->sr.found) {
		for (i = 0; i < jb->nqi; i++)
			levels[i] = lt.dim[i].max_level;
		r = search_eval(&lt.sp, levels, NULL, &top);
		if (r == 0) {
			/* The report of the failure shows the classes at the
			 * highest levels, the best the policy allows. */
			for (i = 0; i < jb->nqi; i++)
				jb->sr.level[i] = levels[i];
			if (highest_levels(jb, &lt) == 0)
				jb->model_failed = 1;
			lattice_free(&lt);
			return job_fail(jb, "no combination of levels meets "
			    "k=%u%s within max_suppression%s: even the highest "
			    "levels suppress %llu of %zu rows", jb->p->k,
			    jb->sens >= 0 ? " with l-diversity" : "",
			    jb->p->max_group_suppression > 0 ?
			    " and max_group_suppression" : "",
			    (unsigned long long)top.suppressed, jb->nrows);
		}
	}
	if (r == 0)
		every_metric(jb, &lt, jb->sr.level, NULL);
	if (r == 0)
		r = release_levels(jb, &lt, NULL, NULL);
	lattice_free(&lt);
	if (r != 0)
		return job_fail(jb, "the search failed: %s", sk_strerror(r));
	jb->scored = 1;
	return 0;
}

/* The information loss of a release at fixed levels, for the report. */
static void
score_fixed(struct job *jb)
{
	struct lattice lt;
	unsigned levels[SEARCH_MAX_DIMS] = { 0 };

	if (jb->nrows > 0 && lattice_build(jb, &lt, 0) == 0 &&
	    search_eval(&lt.sp, levels, lt.keep, &jb->sr) == 0) {
		jb->scored = 1;
		every_metric(jb, &lt, levels, lt.keep);
	}
	lattice_free(&lt);
}

/* Fisher-Yates with a CSPRNG: row order must reveal nothing. */
/*
 * A population value of quasi-identifier i as the release shows it at
 * level lv: through the hierarchy or map the column applies (the
 * population lists the values those take), else as it is. Returns 0 with
 * the output id, 1 if no released value is it.
 */
static int
pop_out_id(const struct job *jb, size_t i, const char *v, uint32_t len,
    unsigned lv, uint32_t *out)
{
	const struct policy_column *pc = jb->cols[jb->qi[i]].pc;
	uint32_t row;

	if (pc->search || pc->action == ACT_HIERARCHY ||
	    pc->action == ACT_MAP) {
		if (dict_find(pc->from, v, len, &row) != 0)
			return 1;
		v = pc->search ? dict_key(pc->labels, pc->gen[(size_t)lv *
		    dict_count(pc->from) + row], &len) :
		    dict_key(pc->to, pc->to_id[row], &len);
	}
	return dict_find(jb->cols[jb->qi[i]].out, v, len, out) != 0;
}

/*
 * The journalist's risk (issue 19): an attacker who does not know whether
 * someone is in the file matches them against the population, so a
 * released class of f rows that stands for F people carries 1 / F each.
 * Counts F per released class from the policy's population table, each
 * of its rows generalized as the release is (per round with local
 * recoding), and from them the released rows' highest and average risk
 * and the rows above the risk threshold, and the file's rows that are
 * unique in the population at the release's levels (population
 * uniqueness: what the suppression had to remove).
 */
static int
population_risk(struct job *jb)
{
	const struct policy *p = jb->p;
	size_t i, c, rr, nr = p->local ? jb->local.rounds : 1;
	uint32_t tuple[SEARCH_MAX_DIMS], cid, ncl = dict_count(jb->classes);
	size_t col[SEARCH_MAX_DIMS];
	uint64_t *people, rows = 0;
	double sum = 0;
	unsigned x;

	if (p->npop == 0)
		return 0;
	if (jb->nqi > SEARCH_MAX_DIMS)
		return job_fail(jb, "population: too many quasi-identifiers");
	for (i = 0; i < jb->nqi; i++) {
		const struct policy_column *pc = jb->cols[jb->qi[i]].pc;

		for (c = 0; c < p->pop_ncols &&
		    strcmp(p->pop_name[c], pc->name) != 0; c++)
			;
		if (c == p->pop_ncols)
			return job_fail(jb, "population %s has no column \"%s\"",
			    p->pop_file, pc->name);
		if (pc->search && pc->nsteps > 0)
			return job_fail(jb, "population: column \"%s\" is a "
			    "searched built-in generalization; give it a "
			    "hierarchy file to count the population by",
			    pc->name);
		col[i] = c;
	}
	if (p->pop_ncols != jb->nqi)
		return job_fail(jb, "population %s has columns that are not "
		    "released quasi-identifiers", p->pop_file);
	if ((people = calloc((size_t)ncl + 1, sizeof(*people))) == NULL)
		return job_fail(jb, "out of memory");
	for (rr = 0; rr < p->npop; rr++)
		for (x = 0; x < nr; x++) {
			for (i = 0; i < jb->nqi; i++) {
				uint32_t len;
				const char *v = dict_key(p->pop_values[col[i]],
				    p->pop_ids[rr * p->pop_ncols + col[i]], &len);
				unsigned lv = p->local ? jb->local.level[x][i] :
				    jb->sr.level[i];

				if (pop_out_id(jb, i, v, len, lv, &tuple[i]) != 0)
					break;
			}
			if (i < jb->nqi || dict_find(jb->classes, tuple,
			    (uint32_t)(jb->nqi * sizeof(uint32_t)), &cid) != 0)
				continue;
			if (p->local && jb->class_round[cid] != x)
				continue;
			people[cid] += p->pop_count[rr];
		}
	jb->journalist_max = 0;
	for (cid = 0; cid < ncl; cid++) {
		uint64_t f = jb->class_size[cid];

		if (people[cid] < f) {
			uint64_t have = people[cid];

			free(people);
			return job_fail(jb, "population %s counts fewer people "
			    "(%llu) than the file has rows (%llu) in a class: it "
			    "must count everyone the file is drawn from",
			    p->pop_file, (unsigned long long)have,
			    (unsigned long long)f);
		}
		/* the file's rows alone in the population at these levels:
		 * a class under k, suppressed, unless it is released */
		if (people[cid] == 1)
			jb->pop_unique_rows += f;
		if (!keeps(jb, cid))
			continue;
		rows += f;
		sum += (double)f / (double)people[cid];
		if (1.0 / (double)people[cid] > jb->journalist_max)
			jb->journalist_max = 1.0 / (double)people[cid];
		if (1.0 / (double)people[cid] > p->risk_threshold)
			jb->pop_risk_rows += f;
	}
	for (rr = 0; rr < p->npop; rr++)
		jb->pop_people += p->pop_count[rr];
	jb->journalist_avg = rows > 0 ? sum / (double)rows : 0;
	jb->pop_done = 1;
	free(people);
	return 0;
}

static int
shuffle(uint32_t *order, size_t n)
{
	uint64_t rnd[512];
	size_t i, k = SK_ARRAY_LEN(rnd), j;
	uint32_t t;

	for (i = n; i > 1; i--) {
		if (k == SK_ARRAY_LEN(rnd)) {
			if (RAND_bytes((uint8_t *)rnd, sizeof(rnd)) != 1)
				return SK_ECRYPTO;
			k = 0;
		}
		j = (size_t)(rnd[k++] % i);	/* bias below i / 2^64 */
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	return 0;
}

static int
write_rows(struct job *jb, int out_fd, const uint32_t *order)
{
	const char *fields[CSV_FIELDS_MAX];
	uint32_t lens[CSV_FIELDS_MAX];
	struct csv_writer *w;
	size_t i, j;
	int r;

	if ((r = csv_writer_new(out_fd, jb->p->out_enc, ',', jb->p->crlf,
	    &w)) != 0)
		return job_fail(jb, "out of memory");
	csv_writer_guard_formulas(w, jb->p->guard_formulas);
	for (j = 0; j < jb->ncols; j++) {
		fields[j] = jb->cols[j].pc->name;
		lens[j] = (uint32_t)strlen(fields[j]);
	}
	r = csv_write(w, fields, lens, jb->ncols);
	for (i = 0; r == 0 && i < jb->res->rows_out; i++) {
		const uint32_t *ids = jb->cells + (size_t)order[i] * jb->ncols;

		int starred = !keeps(jb, jb->row_class[order[i]]);

		for (j = 0; j < jb->ncols; j++) {
			if (starred && starred_cell(jb, j)) {
				fields[j] = "*";
				lens[j] = 1;
			} else
				fields[j] = dict_key(jb->cols[j].out, ids[j],
				    &lens[j]);
		}
		r = csv_write(w, fields, lens, jb->ncols);
	}
	if (r == 0)
		r = csv_writer_finish(w, jb->res->out_sha256);
	csv_writer_free(w);
	if (r == SK_EFORMAT)
		return job_fail(jb, "a released value cannot be written in "
		    "the output encoding (row %zu)", i);
	if (r != 0)
		return job_fail(jb, "cannot write the output: %s",
		    sk_strerror(r));
	return 0;
}

static size_t
job_memory(const struct job *jb)
{
	size_t m = jb->rows_cap * 8 + jb->nrows * jb->ncols * 4 +
	    jb->class_cap * 8, j;

	m += dict_bytes(jb->classes) + (jb->pairs ? dict_bytes(jb->pairs) : 0);
	for (j = 0; j < jb->ncols; j++)
		m += dict_bytes(jb->cols[j].out) + (jb->cols[j].memo ?
		    dict_bytes(jb->cols[j].memo) : 0) + jb->cols[j].memo_cap * 4;
	return m;
}

/*
 * Suppression per released value of each quasi-identifier and sensitive
 * column, largest share first: shows whom suppression removes (a value
 * whose rows go far more than the rest). A value with fewer than k rows
 * is not named: such values are counted together.
 */
#define GROUPS_LISTED 20

struct group {
	uint32_t id;
	uint64_t rows, suppressed;
};

static int
group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	/* x->sup / x->rows against y's, without division */
	unsigned __int128 l = (unsigned __int128)x->suppressed * y->rows;
	unsigned __int128 r = (unsigned __int128)y->suppressed * x->rows;

	if (l != r)
		return l > r ? -1 : 1;
	if (x->rows != y->rows)
		return x->rows > y->rows ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* One column's groups as a JSON array into buf (cap bytes); named: with
 * each value's text. */
static int
group_array(const struct job *jb, size_t j, int named, char *buf, size_t cap)
{
	const struct outcol *c = &jb->cols[j];
	size_t n = dict_count(c->out), i, t, o = 0, listed = 0, small = 0;
	uint64_t small_rows = 0, small_sup = 0;
	struct group *g;
	struct json js;
	int w, r = SK_ETOOBIG;

	if ((g = calloc(n + 1, sizeof(*g))) == NULL)
		return SK_ENOMEM;
	for (i = 0; i < n; i++)
		g[i].id = (uint32_t)i;
	for (t = 0; t < jb->nrows; t++) {
		struct group *x = &g[jb->cells[t * jb->ncols + j]];

		x->rows++;
		x->suppressed += !keeps(jb, jb->row_class[t]);
	}
	qsort(g, n, sizeof(*g), group_cmp);
	buf[o++] = '[';
	for (i = 0; i < n; i++) {
		uint32_t len;
		const char *v;

		if (g[i].rows < jb->p->k) {
			small++;
			small_rows += g[i].rows;
			small_sup += g[i].suppressed;
			continue;
		}
		if (listed == GROUPS_LISTED)
			continue;
		if (listed++ > 0)
			buf[o++] = ',';
		v = dict_key(c->out, g[i].id, &len);
		json_begin(&js, buf + o, cap - o - 2);
		if (named)
			json_strn(&js, "value", v, len);
		json_u64(&js, "rows", g[i].rows);
		json_u64(&js, "suppressed", g[i].suppressed);
		json_double(&js, "share", (double)g[i].suppressed /
		    (double)g[i].rows);
		if ((w = json_end(&js)) < 0)
			goto out;
		o += (size_t)w;
	}
	if (small > 0) {
		if (listed > 0)
			buf[o++] = ',';
		json_begin(&js, buf + o, cap - o - 2);
		json_u64(&js, "values_under_k", small);
		json_u64(&js, "rows", small_rows);
		json_u64(&js, "suppressed", small_sup);
		if ((w = json_end(&js)) < 0)
			goto out;
		o += (size_t)w;
	}
	buf[o++] = ']';
	buf[o] = '\0';
	r = 0;
out:
	free(g);
	return r;
}

static char *
group_report(const struct job *jb, int named)
{
	size_t j, cap = 64, acap = (GROUPS_LISTED + 1) *
	    (6 * ACTION_OUT_MAX + 128) + 16;
	char *buf, *arr;
	struct json js;

	for (j = 0; j < jb->ncols; j++)
		cap += acap + 6 * sizeof(jb->cols[j].pc->name);
	buf = malloc(cap);
	arr = malloc(acap);
	if (buf == NULL || arr == NULL)
		goto fail;
	json_begin(&js, buf, cap);
	for (j = 0; j < jb->ncols; j++) {
		if (jb->cols[j].pc->role != COL_QUASI &&
		    jb->cols[j].pc->role != COL_SENSITIVE)
			continue;
		if (group_array(jb, j, named, arr, acap) != 0)
			goto fail;
		json_raw(&js, jb->cols[j].pc->name, arr);
	}
	if (json_end(&js) < 0)
		goto fail;
	free(arr);
	return buf;
fail:
	free(buf);
	free(arr);
	return NULL;
}

/*
 * The class sizes of the release in buckets that double from k ([k, 2k),
 * [2k, 4k), ...), each with its classes and rows: how far above k the
 * release sits, for the operators' review. Sizes only, no values.
 */
static int
size_histogram(const struct job *jb, char *buf, size_t cap)
{
	uint64_t lo[64], classes[64] = { 0 }, rows[64] = { 0 }, k = jb->p->k;
	size_t i, b, nb = 0, o = 0;
	uint32_t n = dict_count(jb->classes);

	lo[0] = k > 0 ? k : 1;
	for (nb = 1; nb < 64 && lo[nb - 1] <= UINT64_MAX / 2; nb++)
		lo[nb] = lo[nb - 1] * 2;
	for (i = 0; i < n; i++) {
		uint64_t sz = jb->class_size[i];

		if (!keeps(jb, (uint32_t)i))
			continue;
		for (b = 0; b + 1 < nb && sz >= lo[b + 1]; b++)
			;
		classes[b]++;
		rows[b] += sz;
	}
	while (nb > 1 && classes[nb - 1] == 0)
		nb--;
	o += (size_t)snprintf(buf + o, cap - o, "[");
	for (b = 0; b < nb && o < cap; b++)
		o += (size_t)snprintf(buf + o, cap - o, "%s{\"from\":%llu,"
		    "\"to\":%llu,\"classes\":%llu,\"rows\":%llu}",
		    b ? "," : "", (unsigned long long)lo[b],
		    (unsigned long long)(b + 1 < 64 ? lo[b] * 2 - 1 : UINT64_MAX),
		    (unsigned long long)classes[b], (unsigned long long)rows[b]);
	if (o + 2 > cap)
		return SK_ETOOBIG;
	snprintf(buf + o, cap - o, "]");
	return 0;
}

/* The dimension of a quasi-identifier column, or nqi if it is none. */
static size_t
qi_of(const struct job *jb, const struct policy_column *pc)
{
	size_t i;

	for (i = 0; i < jb->nqi; i++)
		if (jb->cols[jb->qi[i]].pc == pc)
			return i;
	return jb->nqi;
}

static char *
make_report(struct job *jb)
{
	const struct anon_result *res = jb->res;
	char *groups = group_report(jb, 0);
	char *rounds = jb->p->local && jb->scored ? local_rounds(jb) : NULL;
	char *metrics;
	size_t cap = 8192 + jb->p->ncols * 512 + (groups != NULL ?
	    strlen(groups) : 0) + (rounds != NULL ? strlen(rounds) : 0), i,
	    o = 0;
	char *buf = malloc(cap), *cols = malloc(cap), hex[65], *rej;
	char hist[64 * 96];
	struct json j, c;

	rej = malloc(2048);
	if (buf == NULL || cols == NULL || rej == NULL || groups == NULL)
		goto fail;
	/* Per-column summary: names and actions, never values. */
	cols[o++] = '[';
	for (i = 0; i < jb->p->ncols; i++) {
		const struct policy_column *pc = &jb->p->cols[i];
		size_t k;
		int n;

		json_begin(&c, cols + o, cap - o - 2);
		json_str(&c, "name", pc->name);
		json_str(&c, "role", policy_role_name(pc->role));
		json_str(&c, "action", policy_action_name(pc->action));
		for (k = 0; k < jb->ncols; k++)
			if (jb->cols[k].pc == pc)
				json_u64(&c, "distinct_values_out",
				    dict_count(jb->cols[k].out));
		if (pc->action == ACT_HIERARCHY || pc->search) {
			json_u64(&c, "level", pc->search ?
			    jb->sr.level[qi_of(jb, pc)] : pc->level);
			json_bool(&c, "level_searched", pc->search);
		}
		if (jb->scored && qi_of(jb, pc) < jb->nqi) {
			char num[32];

			snprintf(num, sizeof(num), "%.12g",
			    jb->sr.loss_dim[qi_of(jb, pc)]);
			json_raw(&c, "information_loss", num);
		}
		if ((n = json_end(&c)) < 0)
			goto fail;
		o += (size_t)n;
		cols[o++] = i + 1 < jb->p->ncols ? ',' : ']';
	}
	cols[o] = '\0';
	o = (size_t)snprintf(rej, 2048, "[");
	for (i = 0; i < res->rows_rejected && i < REJECTS_LISTED; i++)
		o += (size_t)snprintf(rej + o, 2048 - o, "%s{\"line\":%llu,"
		    "\"why\":\"%s\"}", i ? "," : "",
		    (unsigned long long)jb->rejected_lines[i],
		    jb->rejected_why[i]);
	snprintf(rej + o, 2048 - o, "]");
	json_begin(&j, buf, cap);
	json_str(&j, "policy", jb->p->file);
	json_str(&j, "policy_sha256", jb->p->digest);
	sk_hex(res->in_sha256, 32, hex);
	json_str(&j, "input_sha256", hex);
	sk_hex(res->out_sha256, 32, hex);
	json_str(&j, "output_sha256", hex);
	json_u64(&j, "rows_in", res->rows_in);
	json_u64(&j, "rows_rejected", res->rows_rejected);
	json_raw(&j, "rejected_examples", rej);
	json_u64(&j, "rows_suppressed", res->rows_suppressed_k +
	    res->rows_suppressed_l);
	json_u64(&j, "rows_suppressed_k", res->rows_suppressed_k);
	json_u64(&j, "rows_suppressed_l", res->rows_suppressed_l);
	json_u64(&j, "rows_out", res->rows_out);
	json_str(&j, "suppressed_rows", jb->p->star ? "star" : "delete");
	json_str(&j, "output_encoding", jb->p->out_enc == CSV_CP932 ? "cp932" :
	    "utf-8");
	json_u64(&j, "rows_starred", res->rows_starred);
	json_bool(&j, "starred_sensitive", res->star_sensitive);
	json_u64(&j, "k", jb->p->k);
	json_u64(&j, "l_diversity", jb->p->l);
	json_str(&j, "l_model", jb->p->l_model == MODEL_L_ENTROPY ? "entropy" :
	    jb->p->l_model == MODEL_L_RECURSIVE ? "recursive" : "distinct");
	if (jb->p->l_model == MODEL_L_RECURSIVE)
		json_double(&j, "c", jb->p->c);
	json_double(&j, "t_closeness", jb->p->t);
	if (jb->p->t > 0)
		json_str(&j, "t_distance", jb->p->t_hier.from != NULL ?
		    "hierarchical" : "equal");
	json_double(&j, "max_suppression", jb->p->max_suppression);
	json_u64(&j, "equivalence_classes", res->classes);
	json_u64(&j, "smallest_class", res->smallest_class);
	json_double(&j, "risk_highest", res->risk_max);
	json_double(&j, "risk_average", res->risk_avg);
	if (size_histogram(jb, hist, sizeof(hist)) == 0)
		json_raw(&j, "class_sizes", hist);
	json_u64(&j, "rows_at_risk", res->rows_at_risk);
	json_double(&j, "risk_threshold", jb->p->risk_threshold);
	if (jb->pop_done) {
		json_u64(&j, "population_people", jb->pop_people);
		json_double(&j, "risk_journalist_highest", jb->journalist_max);
		json_double(&j, "risk_journalist_average", jb->journalist_avg);
		json_u64(&j, "rows_at_journalist_risk", jb->pop_risk_rows);
		json_u64(&j, "population_unique_rows", jb->pop_unique_rows);
	}
	json_double(&j, "risk_marketer", res->rows_out > 0 ?
	    (double)res->classes / (double)res->rows_out : 0);
	if (groups != NULL)
		json_raw(&j, "suppression_by_value", groups);
	if (jb->p->max_group_suppression > 0)
		json_double(&j, "max_group_suppression",
		    jb->p->max_group_suppression);
	if (jb->scored && jb->p->max_group_suppression > 0)
		json_double(&j, "group_suppression_worst", jb->sr.group_worst);
	if (jb->scored) {
		char num[32];

		/* Enough digits to compare with another tool's figure. */
		snprintf(num, sizeof(num), "%.15g", jb->sr.loss);
		json_str(&j, "metric", "loss");
		json_raw(&j, "information_loss", num);
		/* The metric the policy chose for the search, and its value
		 * (for the loss, the same figure). */
		snprintf(num, sizeof(num), "%.15g", jb->sr.score);
		json_str(&j, "search_metric", search_metric_name(
		    (enum search_metric)jb->p->metric));
		json_raw(&j, "search_metric_value", num);
	}
	if (jb->metrics_done && (metrics = malloc(512)) != NULL) {
		struct json mj;
		int m;

		json_begin(&mj, metrics, 512);
		for (m = 0; m < SEARCH_NMETRICS; m++)
			if (!isnan(jb->metric_value[m])) {
				char num[32];

				snprintf(num, sizeof(num), "%.15g",
				    jb->metric_value[m]);
				json_raw(&mj, search_metric_name(
				    (enum search_metric)m), num);
			}
		if (json_end(&mj) > 0)
			json_raw(&j, "metrics", metrics);
		free(metrics);
	}
	if (jb->p->search) {
		json_u64(&j, "search_lattice_nodes", jb->sr.nodes);
		json_u64(&j, "search_nodes_checked", jb->sr.checked);
		json_str(&j, "recoding", jb->p->local == RECODE_CELLS ? "cells" :
		    jb->p->local ? "local" : "global");
	}
	if (rounds != NULL)
		json_raw(&j, "local_rounds", rounds);
	json_bool(&j, "shuffled", jb->p->shuffle);
	/* A cell that would run as a spreadsheet formula starts with ' */
	json_bool(&j, "formulas_guarded", jb->p->guard_formulas);
	json_raw(&j, "columns", cols);
	if (json_end(&j) < 0)
		goto fail;
	free(cols);
	free(rej);
	free(groups);
	free(rounds);
	return buf;
fail:
	free(buf);
	free(cols);
	free(rej);
	free(groups);
	free(rounds);
	return NULL;
}

/*
 * The report of a job whose privacy model could not be met: the report as
 * the classes stand (no rows released), led by "outcome": "failed", the
 * error and "failed_on", the quasi-identifier without which the fewest
 * rows would be suppressed (null when none stands out), so that an
 * operator sees which column to generalize further.
 */
static char *
failure_report(struct job *jb)
{
	struct anon_result *res = jb->res;
	char head[1024], *body, *out;
	uint64_t small = 0, small_rows = 0, smallest = UINT64_MAX;
	uint32_t i, nc = dict_count(jb->classes);
	struct json j;
	size_t hl, bl;
	int n;

	/* The classes as found, all of them: the smallest is why. */
	for (i = 0; i < nc; i++) {
		if (jb->class_size[i] < smallest)
			smallest = jb->class_size[i];
		if (jb->class_size[i] < jb->p->k) {
			small++;
			small_rows += jb->class_size[i];
		}
	}
	res->classes = nc;
	res->smallest_class = nc > 0 ? smallest : 0;
	res->rows_out = 0;
	res->risk_max = res->risk_avg = 0;
	if ((body = make_report(jb)) == NULL || body[0] != '{')
		goto fail;
	json_begin(&j, head, sizeof(head));
	json_str(&j, "outcome", "failed");
	json_str(&j, "failure", res->error);
	if (jb->fail_column != NULL)
		json_str(&j, "failed_on", jb->fail_column);
	else
		json_raw(&j, "failed_on", "null");
	json_u64(&j, "classes_under_k", small);
	json_u64(&j, "rows_in_classes_under_k", small_rows);
	if ((n = json_end(&j)) < 2)
		goto fail;
	hl = (size_t)n - 1;		/* without its closing brace */
	bl = strlen(body);
	if ((out = malloc(hl + bl + 1)) == NULL)
		goto fail;
	memcpy(out, head, hl);
	out[hl] = ',';
	memcpy(out + hl + 1, body + 1, bl);	/* with its NUL */
	free(body);
	return out;
fail:
	free(body);
	return NULL;
}

static void
job_free(struct job *jb)
{
	size_t j;

	for (j = 0; jb->cols != NULL && j < jb->ncols; j++) {
		dict_free(jb->cols[j].memo);
		dict_free(jb->cols[j].out);
		free(jb->cols[j].memo_out);
		free(jb->cols[j].flagged);
		free(jb->cols[j].flag_why);
		free(jb->cols[j].rep_memo);
		free(jb->cols[j].gen);
		free(jb->cols[j].leaves);
		dict_free(jb->cols[j].labels);
	}
	free(jb->cols);
	free(jb->cells);
	free(jb->row_class);
	free(jb->row_line);
	free(jb->class_size);
	free(jb->class_distinct);
	free(jb->class_seen);
	dict_free(jb->classes);
	dict_free(jb->pairs);
	free(jb->class_ok);
	free(jb->global);
	free(jb->class_round);
	free(jb->t_gen);
	csv_reader_free(jb->rd);
	sk_wipe(jb->key, sizeof(jb->key));
}

static int
run(const struct policy *p, int in_fd, const uint8_t *mem, size_t memlen,
    int out_fd, struct anon_result *res, char **report, char **values)
{
	struct job jb;
	uint32_t *order = NULL;
	int r = -1;

	memset(&jb, 0, sizeof(jb));
	/* rows_read, last, may be read by another thread already. */
	memset(res, 0, offsetof(struct anon_result, rows_read));
	atomic_store_explicit(&res->rows_read, 0, memory_order_relaxed);
	jb.p = p;
	jb.res = res;
	if (util_random(jb.key, sizeof(jb.key)) != 0 ||
	    (mem != NULL ? csv_reader_new_mem(mem, memlen, p->in_enc, p->delim,
	    &jb.rd) : csv_reader_new(in_fd, p->in_enc, p->delim, &jb.rd)) != 0 ||
	    dict_new(&jb.classes) != 0 || dict_new(&jb.pairs) != 0) {
		job_fail(&jb, "cannot start the job (out of memory?)");
		goto out;
	}
	if (map_columns(&jb) != 0 || read_rows(&jb) != 0) {
		if (res->error[0] == '\0')
			job_fail(&jb, "out of memory");
		goto out;
	}
	jb.model = (struct model){ .l = p->l, .kind = (enum model_l)p->l_model,
	    .c = p->c, .t = p->t };
	if (model_tree(&jb) != 0)
		goto out;
	if (jb.sens >= 0 && !p->search && model_verdicts(&jb) != 0) {
		job_fail(&jb, "out of memory");
		goto out;
	}
	res->memory_bytes = job_memory(&jb);
	/* The key can go as soon as every value has been transformed. */
	sk_wipe(jb.key, sizeof(jb.key));
	if (p->search && search_levels(&jb) != 0)
		goto out;
	if (suppress(&jb, &order) != 0)
		goto out;
	if (p->search) {
		/* The engine's own count must agree with the search's. */
		if (res->rows_suppressed_k + res->rows_suppressed_l !=
		    jb.sr.suppressed) {
			job_fail(&jb, "internal error: the search and the "
			    "release disagree on the rows suppressed");
			goto out;
		}
	} else if (jb.nqi > 0)
		score_fixed(&jb);
	if (p->max_group_suppression > 0 && (!jb.scored ||
	    jb.sr.group_worst > p->max_group_suppression)) {
		if (!jb.scored)
			job_fail(&jb, "max_group_suppression cannot be "
			    "checked for this policy");
		else {
			jb.model_failed = 1;
			jb.fail_column = jb.cols[jb.qi[jb.sr.group_dim]].pc->name;
			job_fail(&jb, "column \"%s\": one value's rows would "
			    "be %.1f%% suppressed%s, more than "
			    "max_group_suppression allows (%.1f%%); %s",
			    jb.fail_column, 100 * jb.sr.group_worst,
			    p->local ? " even after the last round" : "",
			    100 * p->max_group_suppression, p->local ?
			    "allow coarser levels (max_level) or a smaller k" :
			    "generalize further or let the search choose the "
			    "levels");
		}
		goto out;
	}
	if (population_risk(&jb) != 0)
		goto out;
	if ((p->shuffle && shuffle(order, res->rows_out) != 0) ||
	    write_rows(&jb, out_fd, order) != 0)
		goto out;
	if ((*report = make_report(&jb)) == NULL ||
	    (values != NULL && (*values = group_report(&jb, 1)) == NULL)) {
		free(*report);
		*report = NULL;
		job_fail(&jb, "cannot build the report");
		goto out;
	}
	r = 0;
out:
	if (r != 0 && jb.model_failed)
		*report = failure_report(&jb);
	free(order);
	job_free(&jb);
	return r;
}

int
anon_run(const struct policy *p, int in_fd, int out_fd,
    struct anon_result *res, char **report)
{
	return run(p, in_fd, NULL, 0, out_fd, res, report, NULL);
}

int
anon_run_values(const struct policy *p, int in_fd, int out_fd,
    struct anon_result *res, char **report, char **values)
{
	return run(p, in_fd, NULL, 0, out_fd, res, report, values);
}

int
anon_run_mem(const struct policy *p, const uint8_t *in, size_t len,
    int out_fd, struct anon_result *res, char **report)
{
	static const uint8_t empty[1];

	return run(p, -1, in != NULL ? in : empty, len, out_fd, res, report,
	    NULL);
}
