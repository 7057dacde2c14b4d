/*
 * log.c: where every message of the programs goes.
 *
 * One destination at a time: stderr (the default, also before the
 * configuration is read), syslog, or a file opened for appending that
 * SIGUSR1 reopens after rotation.  Lines carry a timestamp and the level
 * except on syslog, which adds its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG, LOG_DEST_FILE };

static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_level = LOG_LEVEL_INFO;
static FILE *log_file;
static char *log_path;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const int log_syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

static FILE *
log_fopen(const char *path, char *err, size_t errlen)
{
	int fd;
	FILE *f;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "a")) == NULL) {
		snprintf(err, errlen, "fdopen %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/*
 * Switch to a destination: "stderr", "syslog" or an absolute path.  On
 * failure the previous destination stays in use.
 */
int
log_open(const char *dest, const char *ident, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *path = NULL;

	if (strcmp(dest, "syslog") != 0 && strcmp(dest, "stderr") != 0) {
		if ((f = log_fopen(dest, err, errlen)) == NULL)
			return -1;
		if ((path = strdup(dest)) == NULL) {
			snprintf(err, errlen, "strdup: %s", strerror(errno));
			fclose(f);
			return -1;
		}
	}
	log_close();
	if (f != NULL) {
		log_dest = LOG_DEST_FILE;
		log_file = f;
		log_path = path;
	} else if (strcmp(dest, "syslog") == 0) {
		log_dest = LOG_DEST_SYSLOG;
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	return 0;
}

/* Reopen the log file after logrotate moved it; a no-op for the others. */
int
log_reopen(char *err, size_t errlen)
{
	FILE *f;

	if (log_dest != LOG_DEST_FILE)
		return 0;
	if ((f = log_fopen(log_path, err, errlen)) == NULL)
		return -1;
	fclose(log_file);
	log_file = f;
	return 0;
}

void
log_close(void)
{
	if (log_dest == LOG_DEST_FILE) {
		fclose(log_file);
		log_file = NULL;
		free(log_path);
		log_path = NULL;
	} else if (log_dest == LOG_DEST_SYSLOG)
		closelog();
	log_dest = LOG_DEST_STDERR;
}

void
log_set_level(int level)
{
	log_level = level;
}

static void
log_vwrite(int level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	FILE *out;
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(log_syslog_prio[level], "%s: %s%s", log_names[level], msg, suffix);
		errno = saved;
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	out = log_dest == LOG_DEST_FILE ? log_file : stderr;
	fprintf(out, "%s.%03ld %s: %s%s\n", stamp, (long)tv.tv_usec / 1000, log_names[level], msg,
	    suffix);
	errno = saved;
}

#define LOG_FN(fn, level)                                                                          \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(level, "", fmt, ap);                                                    \
		va_end(ap);                                                                        \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warnx, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof suffix, ": %s", strerror(errno));
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, suffix, fmt, ap);
	va_end(ap);
}

/*
 * Whether a rate-limited message may be logged now; if so, *suppressed is
 * how many were held back since the last one, for the message to say.
 */
int
log_limit_pass(struct log_limit *l, unsigned long *suppressed)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (l->last != 0 && now.tv_sec - l->last < 1) {
		l->suppressed++;
		return 0;
	}
	l->last = now.tv_sec > 0 ? now.tv_sec : 1;
	*suppressed = l->suppressed;
	l->suppressed = 0;
	return 1;
}

static void
log_libevent(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warnx("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}

/* libevent's own warnings would otherwise go straight to stderr. */
void
log_route_libevent(void)
{
	event_set_log_callback(log_libevent);
}
