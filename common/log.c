/*
 * log.c: stderr and syslog logging with printf-checked entry points.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_progname = "sekisho";
static int log_syslog = -1;		/* a datagram socket, or -1 */
static const struct sockaddr_un log_dev = { .sun_family = AF_UNIX,
	.sun_path = "/dev/log" };
static enum log_level log_threshold = LOG_LEVEL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_journal;		/* stderr is journald's stream */

/*
 * Under systemd, stderr is a stream to journald, named by JOURNAL_STREAM
 * ("device:inode"). Each line then starts with its priority ("<3>" for
 * an error, sd-daemon's prefix), so that `journalctl -p err` finds the
 * errors, and without a time stamp, which journald adds.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, int use_syslog, enum log_level level)
{
	log_progname = progname;
	log_threshold = level;
	log_journal = stderr_is_journal();
	/* strftime() reads /etc/localtime the first time: now, before any
	 * sandbox, not after (a net process has no open(2) at all). */
	tzset();
	if (!use_syslog || log_syslog != -1)
		return;
	/* Our own client, made now, before the sandbox, and never
	 * connected: each line is a sendto(2) to /dev/log. glibc's syslog()
	 * connects, and reconnects after an error, and the receiver must
	 * have no connect(2) at all (R02). Lines always go to stderr too. */
	log_syslog = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* RFC 3164 as local syslog daemons take it: <PRI>TAG[PID]: MSG. */
static void
log_to_syslog(int prio, const char *func, const char *msg)
{
	char line[1200];
	int n;

	n = snprintf(line, sizeof(line), "<%d>%s[%ld]: %s%s%s",
	    LOG_DAEMON | prio, log_progname, (long)getpid(),
	    func != NULL ? func : "", func != NULL ? ": " : "", msg);
	if (n > 0)
		(void)sendto(log_syslog, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (const struct sockaddr *)&log_dev, sizeof(log_dev));
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
	/* The C function's name is for developers: debug lines only. */
	if (level != LOG_LEVEL_DEBUG)
		func = NULL;
	pthread_mutex_lock(&log_lock);
	if (log_journal) {
		/* journald adds the time and the program; the part of a
		 * daemon ("net", "store") stays, as journald cannot know it. */
		const char *part = strchr(log_progname, '/');

		fprintf(stderr, "<%d>%s%s%s%s%s%s\n", prio[level],
		    part != NULL ? "[" : "", part != NULL ? part + 1 : "",
		    part != NULL ? "] " : "", func != NULL ? func : "",
		    func != NULL ? ": " : "", msg);
	} else
		fprintf(stderr, "%s %s: %s: %s%s%s\n", stamp, log_progname,
		    names[level], func != NULL ? func : "",
		    func != NULL ? ": " : "", msg);
	if (log_syslog != -1)
		log_to_syslog(prio[level], func, msg);
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
