/* SPDX-License-Identifier: ISC */
/*
 * activation.c: listening sockets handed over by a service manager
 * (socket activation).  The protocol: LISTEN_PID is the process the
 * sockets are meant for, LISTEN_FDS how many there are, from descriptor
 * 3 on, and LISTEN_FDNAMES (optional) their names, separated by colons.
 * The variables are read once and removed, so that nothing started later
 * takes them for its own.
 *
 * Only a descriptor that was open when main() began is inherited
 * (activation_probe, main's first call): a LISTEN_FDS that counts more
 * than were passed must not make synackd take, or close, a descriptor it
 * opened itself on one of those numbers.  A slot that was not open is
 * reported and never touched; one that is open but unusable (neither a
 * listening stream socket nor a bound, unconnected UDP socket) is closed
 * when loaded, before synackd opens anything, with a warning later.
 *
 * A listener adopts the inherited socket named like it (a systemd
 * socket unit's FileDescriptorName=), else the one bound to its address
 * and port, or unix path (a listener on port 0 matches by name only).
 * Only a socket of the listener's family and transport is adopted: a
 * stream socket (ListenStream=) by a tcp listener, a datagram socket
 * (ListenDatagram=) by a udp one; a socket that has a listener's name or
 * address but the other transport is named in its warning.  The sockets
 * left once every listener is open are closed, with a warning
 * (activation_finish).  The parsing and the matching are pure, for the
 * unit tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "activation.h"
#include "conf.h"
#include "log.h"
#include "net.h"

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
 * LISTEN_PID is unset or names another process, -1 (and err) when a
 * variable is not a number in range.  *ours: LISTEN_PID is `self`, even
 * when LISTEN_FDS then is no count (the sockets are meant for this
 * process, but how many there are is not known).
 */
int
activation_count(const char *pid, const char *fds, long self, int *ours, char *err, size_t errlen)
{
	long p, n;

	*ours = 0;
	if (pid == NULL || fds == NULL)
		return 0;
	if (activation_number(pid, 0x7fffffffL, &p) == -1 || p == 0) {
		snprintf(err, errlen, "LISTEN_PID=\"%s\" is not a process id", pid);
		return -1;
	}
	if (p != self)
		return 0;
	*ours = 1;
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

/*
 * Is fd a listening stream socket, or a bound and unconnected UDP socket?
 * Its type and address in *f if so, else why not.
 */
static int
activation_check(int fd, struct activation_fd *f)
{
	struct sockaddr_storage peer;
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
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM)) {
		snprintf(f->why, sizeof f->why, "not a stream or datagram socket");
		return -1;
	}
	f->type = type;
	len = sizeof listening;
	if (type == SOCK_STREAM &&
	    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 || !listening)) {
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
	    (f->addr.ss.ss_family != AF_UNIX || type == SOCK_DGRAM)) {
		snprintf(f->why, sizeof f->why, "%saddress family %d",
		    type == SOCK_DGRAM ? "datagram socket of " : "", f->addr.ss.ss_family);
		return -1;
	}
	if (type == SOCK_DGRAM) {
		/* a connected one would take datagrams from its peer only */
		len = sizeof peer;
		if (net_addr_port(&f->addr) == 0 ||
		    getpeername(fd, (struct sockaddr *)&peer, &len) == 0) {
			snprintf(f->why, sizeof f->why, "a datagram socket %s",
			    net_addr_port(&f->addr) == 0 ? "never bound" : "connected to a peer");
			return -1;
		}
	}
	len = sizeof reuse;
	if (f->addr.ss.ss_family != AF_UNIX &&
	    getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuse, &len) == 0)
		f->reuseport = reuse != 0;
	return 0;
}

/* "fd 4", or "fds 4-9": descriptors first to last, for a message. */
static void
activation_range(int first, int last, char *buf, size_t size)
{
	if (first == last)
		snprintf(buf, size, "fd %d", first);
	else
		snprintf(buf, size, "fds %d-%d", first, last);
}

/*
 * main()'s first call: what the variables say, and which of the slots
 * they name are open, before anything (libevent, the log, the
 * configuration) could open a descriptor on one of those numbers.  With
 * our LISTEN_PID but no count, every slot is probed, for
 * activation_refuse().  Nothing is changed yet: `synackd -t` ignores it.
 */
void
activation_probe(struct activation_probe *p)
{
	memset(p, 0, sizeof *p);
	p->n = activation_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), (long)getpid(),
	    &p->ours, p->err, sizeof p->err);
	if (p->n > 0)
		p->nslots = p->n;
	else if (p->n == -1 && p->ours)
		p->nslots = ACTIVATION_FDS_MAX;
	for (int i = 0; i < p->nslots; i++)
		p->open[i] = fcntl(ACTIVATION_FD_START + i, F_GETFD) != -1;
}

/*
 * LISTEN_PID names this process but LISTEN_FDS is no count.  Guessing
 * how many to adopt could serve on a descriptor nobody meant for it, and
 * holding them unused for the process's life would keep sockets on which
 * connections queue that nobody accepts.  A service manager passes its
 * sockets from fd 3 on, one after the other, so the listening sockets
 * found there, in slots open at start, are closed; the first descriptor
 * that is not one ends the run and is left as it is, like any other
 * descriptor synackd inherits (synackd execs nothing, so nothing leaks
 * into a child).  err says what was done.
 */
static void
activation_refuse(const struct activation_probe *p, char *err, size_t errlen)
{
	struct activation_fd f;
	char fds[32];
	int i;

	for (i = 0; i < p->nslots && p->open[i]; i++) {
		if (activation_check(ACTIVATION_FD_START + i, &f) == -1)
			break;
		close(ACTIVATION_FD_START + i);
	}
	if (i == 0) {
		snprintf(err, errlen, "%s: no socket adopted; no listening socket found at fd %d",
		    p->err, ACTIVATION_FD_START);
		return;
	}
	activation_range(ACTIVATION_FD_START, ACTIVATION_FD_START + i - 1, fds, sizeof fds);
	snprintf(err, errlen,
	    "%s: no socket adopted; the listening sockets passed from fd %d on closed: %s", p->err,
	    ACTIVATION_FD_START, fds);
}

/*
 * The sockets the environment passes to this process, from what
 * activation_probe() found: each checked, and made non-blocking and
 * close-on-exec; an unusable one is closed now, a slot that was not open
 * is left alone.  The variables are removed.  NULL when there are none;
 * err, when not empty, is a warning for stderr (variables refused, or
 * no memory: then the passed descriptors are closed, not kept unused).
 */
struct activation *
activation_load(const struct activation_probe *p, char *err, size_t errlen)
{
	const char *fdnames = getenv("LISTEN_FDNAMES");
	char *names = NULL, name[ACTIVATION_NAME_MAX];
	struct activation *act = NULL;
	int oom = 0;

	err[0] = '\0';
	if (p->n > 0 && fdnames != NULL && (names = strdup(fdnames)) == NULL)
		oom = 1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (p->n == -1) {
		if (p->ours)
			activation_refuse(p, err, errlen);
		else
			snprintf(err, errlen, "%s; ignored, descriptors left as they are", p->err);
		goto out;
	}
	if (p->n == 0)
		goto out;
	if (oom || (act = calloc(1, sizeof *act)) == NULL ||
	    (act->fds = calloc((size_t)p->n, sizeof *act->fds)) == NULL) {
		free(act);
		act = NULL;
		for (int i = 0; i < p->n; i++)
			if (p->open[i])
				close(ACTIVATION_FD_START + i);
		snprintf(err, errlen, "out of memory; the descriptors passed are closed unused");
		goto out;
	}
	act->n = p->n;
	for (int i = 0; i < p->n; i++) {
		struct activation_fd *f = &act->fds[i];
		int fd = ACTIVATION_FD_START + i, fl;

		f->fd = fd;
		snprintf(
		    f->name, sizeof f->name, "%s", activation_name(names, i, name, sizeof name));
		if (!p->open[i]) {
			f->state = ACTIVATION_MISSING;
			continue;
		}
		if (activation_check(fd, f) == -1) {
			f->state = ACTIVATION_BAD;
		} else if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			snprintf(f->why, sizeof f->why, "fcntl: %s", strerror(errno));
			f->state = ACTIVATION_BAD;
		}
		/* now, while no descriptor of synackd's own can have this number */
		if (f->state == ACTIVATION_BAD)
			close(fd);
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

/* The socket type a listener of transport t serves on. */
int
activation_type(int transport)
{
	return transport == TRANSPORT_UDP ? SOCK_DGRAM : SOCK_STREAM;
}

/*
 * The inherited socket for listener lc, now the listener's: by name
 * first, else by address, and only of lc's transport.  NULL when none
 * fits; a socket that has lc's name or address but the other transport
 * keeps lc's name in f->other, for activation_finish's warning.
 */
struct activation_fd *
activation_take(struct activation *act, const struct listener_conf *lc)
{
	struct activation_fd *f;
	int fits;

	if (act == NULL)
		return NULL;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < act->n; i++) {
			f = &act->fds[i];
			if (f->state != ACTIVATION_FREE)
				continue;
			fits = pass == 0 ? strcmp(f->name, lc->name) == 0 &&
				activation_family_ok(&lc->addr, &f->addr)
					 : activation_addr_match(&lc->addr, &f->addr);
			if (!fits)
				continue;
			if (f->type != activation_type(lc->transport)) {
				snprintf(f->other, sizeof f->other, "%s", lc->name);
				continue;
			}
			f->state = ACTIVATION_ADOPTED;
			return f;
		}
	return NULL;
}

/*
 * Once every listener is open: close the sockets no listener adopted, and
 * say what became of each descriptor that was not adopted (the log is
 * open by now); free the list.  A run of slots that were not open is one
 * line: LISTEN_FDS may count thousands.
 */
void
activation_finish(struct activation *act)
{
	char addr[NET_ADDRSTRLEN], fds[32];
	int i = 0, j;

	if (act == NULL)
		return;
	while (i < act->n) {
		struct activation_fd *f = &act->fds[i];

		switch (f->state) {
		case ACTIVATION_MISSING:
			for (j = i; j + 1 < act->n && act->fds[j + 1].state == ACTIVATION_MISSING;)
				j++;
			activation_range(f->fd, act->fds[j].fd, fds, sizeof fds);
			log_warnx(
			    "inherited %s: not open when synackd started (LISTEN_FDS=%d counts "
			    "more than were passed); left alone",
			    fds, act->n);
			i = j;
			break;
		case ACTIVATION_BAD: /* closed when loaded */
			log_warnx("inherited fd %d%s%s%s refused: %s; closed", f->fd,
			    f->name[0] != '\0' ? " (name " : "", f->name,
			    f->name[0] != '\0' ? ")" : "", f->why);
			break;
		case ACTIVATION_FREE:
			close(f->fd); /* before the warning says so */
			if (f->other[0] != '\0')
				log_warnx("inherited socket fd %d (%s%s%s%s) matches no listener: "
					  "listener %s has its name or address but transport = "
					  "%s, and a %s socket serves only transport = %s; closed",
				    f->fd, net_addr_str(&f->addr, addr, sizeof addr),
				    f->type == SOCK_DGRAM ? " udp" : "",
				    f->name[0] != '\0' ? ", name " : "", f->name, f->other,
				    f->type == SOCK_DGRAM ? "tcp" : "udp",
				    f->type == SOCK_DGRAM ? "datagram" : "stream",
				    f->type == SOCK_DGRAM ? "udp" : "tcp");
			else
				log_warnx("inherited socket fd %d (%s%s%s%s) matches no listener; "
					  "closed",
				    f->fd, net_addr_str(&f->addr, addr, sizeof addr),
				    f->type == SOCK_DGRAM ? " udp" : "",
				    f->name[0] != '\0' ? ", name " : "", f->name);
			break;
		case ACTIVATION_ADOPTED:
			break;
		}
		i++;
	}
	free(act->fds);
	free(act);
}
