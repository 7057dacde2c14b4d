/* SPDX-License-Identifier: ISC */
/*
 * log.c: where every message of the programs goes.
 *
 * One destination at a time: stderr (the default, also before the
 * configuration is read), syslog, or a file opened for appending that
 * SIGUSR1 reopens after rotation.  Lines carry a timestamp and the level
 * except on syslog, which adds its own.  Any thread may log.
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

/*
 * Workers log from their own threads while the main thread may switch or
 * reopen the destination, so a line is formatted whole and written with
 * one write() to a descriptor that never changes its number: a log file
 * is always on log_fd, and a reopen dup2()s the new file onto it.  The
 * destination and the level are read with relaxed atomics.
 */
static int log_dest = LOG_DEST_STDERR;
static int log_level = LOG_LEVEL_INFO;
static int log_fd = -1; /* the log file, once there was one */
static char *log_path;  /* main thread only */

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

/* Open path and put it on log_fd (taking that number the first time). */
static int
log_fopen(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (log_fd == -1) {
		log_fd = fd;
		return 0;
	}
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "dup3 %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
log_get_dest(void)
{
	return __atomic_load_n(&log_dest, __ATOMIC_ACQUIRE);
}

static void
log_set_dest(int dest)
{
	__atomic_store_n(&log_dest, dest, __ATOMIC_RELEASE);
}

/*
 * Switch to a destination: "stderr", "syslog" or an absolute path.  On
 * failure the previous destination stays in use.
 */
int
log_open(const char *dest, const char *ident, char *err, size_t errlen)
{
	char *path = NULL;

	if (strcmp(dest, "syslog") != 0 && strcmp(dest, "stderr") != 0) {
		if ((path = strdup(dest)) == NULL) {
			snprintf(err, errlen, "strdup: %s", strerror(errno));
			return -1;
		}
		/* while logging to the file already, writers go on to the new one */
		if (log_fopen(dest, err, errlen) == -1) {
			free(path);
			return -1;
		}
	}
	if (log_get_dest() == LOG_DEST_SYSLOG && strcmp(dest, "syslog") != 0) {
		log_set_dest(LOG_DEST_STDERR);
		closelog();
	}
	free(log_path);
	log_path = path;
	if (path != NULL)
		log_set_dest(LOG_DEST_FILE);
	else if (strcmp(dest, "syslog") == 0) {
		if (log_get_dest() != LOG_DEST_SYSLOG)
			openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_set_dest(LOG_DEST_SYSLOG);
	} else
		log_set_dest(LOG_DEST_STDERR);
	return 0;
}

/* Reopen the log file after logrotate moved it; a no-op for the others. */
int
log_reopen(char *err, size_t errlen)
{
	if (log_get_dest() != LOG_DEST_FILE)
		return 0;
	return log_fopen(log_path, err, errlen);
}

void
log_close(void)
{
	int dest = log_get_dest();

	log_set_dest(LOG_DEST_STDERR);
	if (dest == LOG_DEST_SYSLOG)
		closelog();
	if (log_fd != -1) {
		close(log_fd);
		log_fd = -1;
	}
	free(log_path);
	log_path = NULL;
}

void
log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

/* Whether a message of this level is logged: to skip the work of its arguments. */
int
log_enabled(int level)
{
	return level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

static void
log_vwrite(int level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[2048], line[2200], stamp[32];
	struct timeval tv;
	struct tm tm;
	int saved = errno, dest, n;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	dest = log_get_dest();
	if (dest == LOG_DEST_SYSLOG) {
		syslog(log_syslog_prio[level], "%s: %s%s", log_names[level], msg, suffix);
		errno = saved;
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03ld %s: %s%s\n", stamp, (long)tv.tv_usec / 1000,
	    log_names[level], msg, suffix);
	if (n >= (int)sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* one write: lines from several threads do not interleave */
	if (write(dest == LOG_DEST_FILE ? log_fd : STDERR_FILENO, line, (size_t)n) == -1) {
		/* nowhere left to say so */
	}
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
	time_t last, t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t = now.tv_sec > 0 ? now.tv_sec : 1;
	last = __atomic_load_n(&l->last, __ATOMIC_RELAXED);
	/* workers share the limit: of those that see a new second, one logs */
	if ((last != 0 && t - last < 1) ||
	    !__atomic_compare_exchange_n(
		&l->last, &last, t, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&l->suppressed, 1, __ATOMIC_RELAXED);
		return 0;
	}
	*suppressed = __atomic_exchange_n(&l->suppressed, 0, __ATOMIC_ACQ_REL);
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
