/*
 * activation.c: listening sockets handed over by a service manager
 * (socket activation).  The protocol: LISTEN_PID is the process the
 * sockets are meant for, LISTEN_FDS how many there are, from descriptor
 * 3 on, and LISTEN_FDNAMES (optional) their names, separated by colons.
 * The variables are read once and removed, so that nothing started later
 * takes them for its own.
 *
 * A listener adopts the inherited socket named like it (a systemd
 * socket unit's FileDescriptorName=), else the one bound to its address
 * and port, or unix path (a listener on port 0 matches by name only).
 * Only a listening stream socket of the listener's family is adopted;
 * whatever is left once every listener is open is closed, with a warning
 * (activation_finish).  The parsing is pure, for the unit tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "synackd.h"

static int
activation_number(const char *s, long max, long *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v > max)
		return -1;
	return 0;
}

/*
 * How many descriptors the environment passes to process `self`: 0 when
 * LISTEN_PID is unset or names another process, -1 (and err) when the
 * variables are not numbers.
 */
int
activation_count(const char *pid, const char *fds, long self, char *err, size_t errlen)
{
	long p, n;

	if (pid == NULL || fds == NULL)
		return 0;
	if (activation_number(pid, 0x7fffffffL, &p) == -1 || p == 0) {
		snprintf(err, errlen, "LISTEN_PID=\"%s\" is not a process id", pid);
		return -1;
	}
	if (p != self)
		return 0;
	if (activation_number(fds, ACTIVATION_FDS_MAX, &n) == -1) {
		snprintf(err, errlen, "LISTEN_FDS=\"%s\" is not a number from 0 to %d", fds,
		    ACTIVATION_FDS_MAX);
		return -1;
	}
	return (int)n;
}

/*
 * The i-th of n colon-separated names (NULL list: none), copied into buf;
 * a missing or empty entry is "".  Returns buf.
 */
const char *
activation_name(const char *names, int i, char *buf, size_t size)
{
	const char *p = names, *end;
	size_t len;

	buf[0] = '\0';
	if (p == NULL)
		return buf;
	for (; i > 0; i--) {
		if ((p = strchr(p, ':')) == NULL)
			return buf;
		p++;
	}
	end = strchr(p, ':');
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

/* Is fd a listening stream socket?  Its address in *a if so, else why not. */
static int
activation_check(int fd, struct activation_fd *f)
{
	struct stat st;
	int type = 0, listening = 0, reuse = 0;
	socklen_t len = sizeof type;

	if (fstat(fd, &st) == -1) {
		snprintf(f->why, sizeof f->why, "not open: %s", strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(f->why, sizeof f->why, "not a socket (%s)",
		    S_ISFIFO(st.st_mode)      ? "a pipe"
			: S_ISREG(st.st_mode) ? "a file"
					      : "other");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || type != SOCK_STREAM) {
		snprintf(f->why, sizeof f->why, "not a stream socket");
		return -1;
	}
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 || !listening) {
		snprintf(f->why, sizeof f->why,
		    "not a listening socket (connected, or never listen()ed)");
		return -1;
	}
	f->addr.len = sizeof f->addr.ss;
	if (getsockname(fd, (struct sockaddr *)&f->addr.ss, &f->addr.len) == -1) {
		snprintf(f->why, sizeof f->why, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (f->addr.ss.ss_family != AF_INET && f->addr.ss.ss_family != AF_INET6 &&
	    f->addr.ss.ss_family != AF_UNIX) {
		snprintf(f->why, sizeof f->why, "address family %d", f->addr.ss.ss_family);
		return -1;
	}
	len = sizeof reuse;
	if (f->addr.ss.ss_family != AF_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuse, &len) == 0)
		f->reuseport = reuse != 0;
	return 0;
}

/*
 * The sockets the environment passes to this process, checked, made
 * non-blocking and close-on-exec; the variables are removed.  NULL when
 * there are none (err empty) or on an error (err set).
 */
struct activation *
activation_load(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	char *names = NULL, name[ACTIVATION_NAME_MAX];
	struct activation *act = NULL;
	int n;

	err[0] = '\0';
	n = activation_count(pid, fds, (long)getpid(), err, errlen);
	if (fdnames != NULL && (names = strdup(fdnames)) == NULL) {
		snprintf(err, errlen, "out of memory");
		n = -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n <= 0)
		goto out;
	if ((act = calloc(1, sizeof *act)) == NULL ||
	    (act->fds = calloc((size_t)n, sizeof *act->fds)) == NULL) {
		free(act);
		act = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	act->n = n;
	for (int i = 0; i < n; i++) {
		struct activation_fd *f = &act->fds[i];
		int fd = ACTIVATION_FD_START + i, fl;

		f->fd = fd;
		snprintf(
		    f->name, sizeof f->name, "%s", activation_name(names, i, name, sizeof name));
		if (activation_check(fd, f) == -1) {
			f->state = ACTIVATION_BAD;
			continue;
		}
		if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			snprintf(f->why, sizeof f->why, "fcntl: %s", strerror(errno));
			f->state = ACTIVATION_BAD;
		}
	}
out:
	free(names);
	return act;
}

static int
activation_same_host(const struct net_addr *want, const struct net_addr *got)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&want->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&got->ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&want->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&got->ss;

	if (want->dual) /* "*": the wildcard of either family */
		return (got->ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr)) ||
		    (got->ss.ss_family == AF_INET && b4->sin_addr.s_addr == htonl(INADDR_ANY));
	if (want->ss.ss_family != got->ss.ss_family)
		return 0;
	if (want->ss.ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof a6->sin6_addr) == 0;
}

/* Could a listener on `want` use a socket on `got`: same family? */
int
activation_family_ok(const struct net_addr *want, const struct net_addr *got)
{
	if (want->ss.ss_family == AF_UNIX || got->ss.ss_family == AF_UNIX)
		return want->ss.ss_family == got->ss.ss_family;
	if (want->dual)
		return 1;
	return want->ss.ss_family == got->ss.ss_family;
}

/* Is `got` the very address `want` names?  Port 0 names none. */
int
activation_addr_match(const struct net_addr *want, const struct net_addr *got)
{
	if (want->ss.ss_family == AF_UNIX || got->ss.ss_family == AF_UNIX)
		return want->ss.ss_family == got->ss.ss_family &&
		    strncmp(((const struct sockaddr_un *)&want->ss)->sun_path,
			((const struct sockaddr_un *)&got->ss)->sun_path,
			sizeof((const struct sockaddr_un *)0)->sun_path) == 0;
	if (net_addr_port(want) <= 0 || net_addr_port(want) != net_addr_port(got))
		return 0;
	return activation_same_host(want, got);
}

/*
 * The inherited socket for listener lc, now the listener's: by name
 * first, else by address.  NULL when none fits.
 */
struct activation_fd *
activation_take(struct activation *act, const struct listener_conf *lc)
{
	struct activation_fd *f;

	if (act == NULL)
		return NULL;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < act->n; i++) {
			f = &act->fds[i];
			if (f->state != ACTIVATION_FREE)
				continue;
			if (pass == 0 ? strcmp(f->name, lc->name) == 0 &&
				    activation_family_ok(&lc->addr, &f->addr)
				      : activation_addr_match(&lc->addr, &f->addr)) {
				f->state = ACTIVATION_ADOPTED;
				return f;
			}
		}
	return NULL;
}

/* Close, with a warning each, what no listener adopted; free the list. */
void
activation_finish(struct activation *act)
{
	char addr[NET_ADDRSTRLEN];

	if (act == NULL)
		return;
	for (int i = 0; i < act->n; i++) {
		struct activation_fd *f = &act->fds[i];

		if (f->state != ACTIVATION_ADOPTED)
			close(f->fd); /* before the warning says so */
		if (f->state == ACTIVATION_BAD)
			log_warnx("inherited fd %d%s%s%s refused: %s; closed", f->fd,
			    f->name[0] != '\0' ? " (name " : "", f->name,
			    f->name[0] != '\0' ? ")" : "", f->why);
		else if (f->state == ACTIVATION_FREE)
			log_warnx("inherited socket fd %d (%s%s%s) matches no listener; closed",
			    f->fd, net_addr_str(&f->addr, addr, sizeof addr),
			    f->name[0] != '\0' ? ", name " : "", f->name);
	}
	free(act->fds);
	free(act);
}
