/* SPDX-License-Identifier: ISC */
/*
 * log.h: leveled logging to stderr, syslog or a file.
 *
 * log_warn() appends strerror(errno); the others log the message as given.
 * Every function preserves errno so callers can log and then report.
 */
#ifndef SYNACK_LOG_H
#define SYNACK_LOG_H

#include <stddef.h>
#include <time.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

int log_open(const char *dest, const char *ident, char *err, size_t errlen);
int log_reopen(char *err, size_t errlen);
void log_close(void);
void log_set_level(int level);
int log_enabled(int level);
int log_level_parse(const char *s);
void log_route_libevent(void);

/* At most one message a second for something that can happen in floods. */
struct log_limit {
	time_t last;
	unsigned long suppressed;
};
int log_limit_pass(struct log_limit *, unsigned long *suppressed);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
