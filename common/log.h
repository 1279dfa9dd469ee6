/*
 * log.h: the daemons' log. Lines go to stderr, and to syslog when enabled.
 *
 * Every function is printf-checked and prefixes the calling function's name.
 * Callers log object ids, sizes and digests, never personal data.
 */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG };

/* Sets the program name, whether to use syslog, and the lowest level shown. */
void log_init(const char *progname, int use_syslog, enum log_level level);

void log_emit(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_fatal(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define log_warnx(...) log_emit(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_errorx(...) log_emit(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define log_info(...) log_emit(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define fatalx(...) log_fatal(__func__, __VA_ARGS__)

#endif
