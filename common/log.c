/*
 * log.c: stderr and syslog logging with printf-checked entry points.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_progname = "sekisho";
static int log_syslog;
static enum log_level log_threshold = LOG_LEVEL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *progname, int use_syslog, enum log_level level)
{
	log_progname = progname;
	log_syslog = use_syslog;
	log_threshold = level;
	/* LOG_NDELAY: open the socket now, before any sandbox is entered. */
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
log_vemit(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024], stamp[32];
	struct tm tm;
	time_t now;

	if (level > log_threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s %s: %s: %s: %s\n", stamp, log_progname,
	    names[level], func, msg);
	if (log_syslog)
		syslog(prio[level], "%s: %s", func, msg);
	pthread_mutex_unlock(&log_lock);
}

void
log_emit(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, func, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, func, fmt, ap);
	va_end(ap);
	exit(1);
}
