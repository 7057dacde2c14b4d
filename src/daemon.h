/* SPDX-License-Identifier: ISC */
/*
 * daemon.h: daemon.c's interface: what makes a process a daemon (detach,
 * readiness, the pidfile, privileges, the open-file limit) and its exit
 * codes.
 */
#ifndef SYNACK_DAEMON_H
#define SYNACK_DAEMON_H

#include <stddef.h>

/* Exit codes, as in sysexits(3). */
#define EXIT_USAGE 64
#define EXIT_OSERR 71
#define EXIT_CONFIG 78

int daemon_detach(char *err, size_t errlen);
int daemon_fail(int fd, int code);
void daemon_ready(int fd);
int pidfile_open(const char *path, char *err, size_t errlen);
int pidfile_write(int fd, const char *path, char *err, size_t errlen);
void pidfile_close(int fd, const char *path);
int privileges_drop(const char *user, const char *group, char *err, size_t errlen);
int nofile_fit(long need, const char *why, int apply, char *msg, size_t msglen);

#endif
