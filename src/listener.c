/*
 * listener.c: a listener as configured, on the main thread: its sockets,
 * made by hand (net_listen), one per worker so that the kernel spreads
 * the handshakes over the workers (SO_REUSEPORT), or a single one on one
 * worker for a service whose clients share state (chat) and for unix
 * sockets; the acceptor that runs each socket on its worker; and what a
 * reload changes.
 *
 * With port 0, the first socket's bind picks the port and the others bind
 * that port.  The listener never touches its acceptors' libevent objects:
 * it posts commands to their workers, which report back when they let go
 * of an acceptor (listener_acceptor_done).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "synackd.h"

/* How many sockets: one per worker, unless they cannot be spread. */
static int
listener_count(const struct server *s, const struct listener_conf *lc)
{
	if (lc->service->one_loop || lc->addr.ss.ss_family == AF_UNIX)
		return 1;
	return s->nworkers;
}

/*
 * Open n listening sockets on lc's address, all on one port: the first
 * bind may pick it (port 0), the others take the same.  More than one
 * needs SO_REUSEPORT, whatever `reuseport` says; with `reuseport = no` a
 * socket without it is bound first, so that a port some other process
 * listens on (with SO_REUSEPORT too: a second synackd) is refused as it
 * would be with one worker, rather than silently shared.  All or none.
 */
static int
listener_open(const struct listener_conf *lc, int n, int *fds, struct net_addr *bound, char *err,
    size_t errlen)
{
	struct net_listen_opts o = {
		.backlog = lc->backlog,
		.reuseport = lc->reuseport || n > 1,
		.keepalive = lc->keepalive,
		.nodelay = 1,
		.defer_accept = lc->defer_accept,
	};
	struct net_listen_opts probe = o;
	struct net_addr addr;
	int fd;

	*bound = lc->addr;
	if (n > 1 && !lc->reuseport && net_addr_port(&lc->addr) != 0) {
		probe.reuseport = 0;
		addr = *bound;
		if ((fd = net_listen(&addr, &probe, err, errlen)) == -1)
			return -1;
		close(fd);
	}
	for (int i = 0; i < n; i++) {
		addr = *bound;
		if ((fds[i] = net_listen(&addr, &o, err, errlen)) == -1) {
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
		if (i == 0)
			*bound = addr; /* the real port */
	}
	return 0;
}

/*
 * Stop taking new connections now, on the main thread, before the workers
 * are told to close the sockets: a unix listener's socket file goes, and
 * each TCP socket drops new SYNs (net_drop_syns), so that once a reload
 * or a shutdown is logged no new client reaches a socket on its way out,
 * however long its worker takes to act.  The sockets are the workers'
 * from here on: the listener forgets them.
 */
void
listener_stop_accepting(struct listener *l)
{
	char err[ERRLEN];

	if (l->addr.ss.ss_family == AF_UNIX && l->nacceptors > 0 && !l->unlinked)
		unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path);
	l->unlinked = 1;
	for (int i = 0; i < l->nacceptors; i++) {
		if (l->fds[i] != -1 && l->addr.ss.ss_family != AF_UNIX &&
		    net_drop_syns(l->fds[i], err, sizeof err) == -1)
			log_warnx("listener %s: %s", l->conf->name, err);
		l->fds[i] = -1;
	}
}

/* Open the sockets; nothing is accepted until listener_start(). */
struct listener *
listener_new(struct server *s, const struct listener_conf *lc, char *err, size_t errlen)
{
	static unsigned next_one; /* spreads one-loop listeners over the workers */
	int n = listener_count(s, lc);
	struct net_addr bound;
	struct listener *l;

	if ((l = calloc(1, sizeof *l)) == NULL || (l->conf = listener_conf_dup(lc)) == NULL ||
	    (l->acceptors = calloc((size_t)n, sizeof *l->acceptors)) == NULL ||
	    (l->fds = calloc((size_t)n, sizeof *l->fds)) == NULL) {
		snprintf(err, errlen, "listener %s: out of memory", lc->name);
		goto fail;
	}
	l->server = s;
	if (listener_open(lc, n, l->fds, &bound, err, errlen) == -1)
		goto fail;
	l->addr = bound;
	net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
	l->nacceptors = n;
	for (int i = 0; i < n; i++) {
		struct worker *w =
		    s->workers[n == 1 ? next_one % (unsigned)s->nworkers : (unsigned)i];

		if ((l->acceptors[i] = acceptor_new(l, w, l->fds[i], &bound, lc)) == NULL) {
			snprintf(err, errlen, "listener %s: out of memory", lc->name);
			for (int j = i; j < n; j++) {
				close(l->fds[j]);
				l->fds[j] = -1;
			}
			listener_free(l);
			return NULL;
		}
	}
	if (n == 1)
		next_one++;
	return l;
fail:
	if (l != NULL) {
		listener_conf_free(l->conf);
		free(l->acceptors);
		free(l->fds);
		free(l);
	}
	return NULL;
}

/* Announce the listener and hand each socket to its worker. */
void
listener_start(struct listener *l)
{
	const struct listener_conf *lc = l->conf;
	int somaxconn = net_somaxconn();
	struct worker_cmd *cmd;

	log_info("listener %s: listening on %s service=%s backlog=%d", lc->name, l->addrstr,
	    lc->service->name, lc->backlog);
	if (somaxconn >= 0 && somaxconn < lc->backlog)
		log_warnx("listener %s: backlog %d is capped to %d by net.core.somaxconn", lc->name,
		    lc->backlog, somaxconn);
	for (int i = 0; i < l->nacceptors; i++) {
		if ((cmd = calloc(1, sizeof *cmd)) == NULL) {
			log_error("listener %s: out of memory", lc->name);
			continue;
		}
		cmd->type = WORKER_ADD;
		cmd->acceptor = l->acceptors[i];
		cmd->fd = -1;
		l->live++;
		worker_post(l->acceptors[i]->worker, cmd);
	}
}

static void
listener_post(struct listener *l, int i, enum worker_cmd_type type, const struct listener_conf *lc,
    int fd, const struct net_addr *addr)
{
	struct acceptor *a = l->acceptors[i];
	struct worker_cmd *cmd;

	if ((cmd = calloc(1, sizeof *cmd)) == NULL ||
	    (lc != NULL && (cmd->conf = listener_conf_dup(lc)) == NULL)) {
		log_error("listener %s: reload: out of memory", l->conf->name);
		free(cmd);
		if (fd != -1)
			close(fd);
		return;
	}
	cmd->type = type;
	cmd->acceptor = a;
	cmd->fd = fd;
	if (addr != NULL)
		cmd->addr = *addr;
	worker_post(a->worker, cmd);
}

/*
 * Apply a reloaded configuration of the same listener; the clients stay.
 * A new address (or SO_REUSEPORT, which only bind() honours) takes new
 * sockets, opened before the old ones close: if they cannot be had, the
 * old ones stay and the failure is logged.  The backlog and socket
 * options change in place.  Returns 1 when the listener must be replaced
 * instead (a new service: its clients speak the old protocol; or a
 * different number of sockets).
 */
int
listener_reconfigure(struct listener *l, const struct listener_conf *lc)
{
	struct listener_conf *old = l->conf, *nc;
	struct net_addr bound;
	char err[ERRLEN];
	int *fds;

	if (lc->service != old->service || listener_count(l->server, lc) != l->nacceptors)
		return 1;
	if ((nc = listener_conf_dup(lc)) == NULL ||
	    (fds = calloc((size_t)l->nacceptors, sizeof *fds)) == NULL) {
		log_error("listener %s: reload: out of memory; unchanged", old->name);
		listener_conf_free(nc);
		return -1;
	}
	if (!net_addr_equal(&lc->addr, &old->addr) || lc->reuseport != old->reuseport) {
		if (listener_open(lc, l->nacceptors, fds, &bound, err, sizeof err) == -1) {
			log_error("listener %s: reload: %s; still listening on %s", old->name, err,
			    l->addrstr);
			listener_conf_free(nc);
			free(fds);
			return -1;
		}
		/* the old sockets only drain now, and a unix path may be reused */
		listener_stop_accepting(l);
		for (int i = 0; i < l->nacceptors; i++) {
			listener_post(l, i, WORKER_REPLACE, lc, fds[i], &bound);
			l->fds[i] = fds[i];
		}
		l->addr = bound;
		l->unlinked = 0;
		net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
		log_info("listener %s: listening on %s service=%s backlog=%d", lc->name, l->addrstr,
		    lc->service->name, lc->backlog);
	} else {
		for (int i = 0; i < l->nacceptors; i++)
			listener_post(l, i, WORKER_RECONFIGURE, lc, -1, NULL);
		if (lc->backlog != old->backlog)
			log_info(
			    "listener %s: backlog %d -> %d", old->name, old->backlog, lc->backlog);
	}
	free(fds);
	l->conf = nc;
	listener_conf_free(old);
	return 0;
}

unsigned long
listener_active(const struct listener *l)
{
	unsigned long n = 0;

	for (int i = 0; i < l->nacceptors; i++)
		if (l->acceptors[i] != NULL)
			n += __atomic_load_n(&l->acceptors[i]->active, __ATOMIC_RELAXED);
	return n;
}

/*
 * Stop a listener that a reload removed (or replaced): it accepts no
 * more, but its established clients are served to their end with the
 * service and limits they started with.  It is freed when the last of its
 * acceptors is done.
 */
void
listener_retire(struct listener *l, const char *why)
{
	log_info("listener %s: %s, closing %s; %lu clients stay", l->conf->name, why, l->addrstr,
	    listener_active(l));
	listener_stop_accepting(l);
	l->retired = 1;
	for (int i = 0; i < l->nacceptors; i++)
		if (l->acceptors[i] != NULL)
			listener_post(l, i, WORKER_RETIRE, NULL, -1, NULL);
}

/* A worker let go of one of the acceptors (or is gone): free it. */
void
listener_acceptor_done(struct listener *l, struct acceptor *a)
{
	struct server *s = l->server;

	listener_stats_add(&l->gone, &a->stats);
	for (int i = 0; i < l->nacceptors; i++)
		if (l->acceptors[i] == a) {
			l->acceptors[i] = NULL;
			l->fds[i] = -1;
		}
	l->live--;
	acceptor_free(a);
	if (l->retired && l->live == 0 && !s->stopping) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
}

/* On the main thread, once no worker runs any of its acceptors. */
void
listener_free(struct listener *l)
{
	listener_stop_accepting(l);
	for (int i = 0; i < l->nacceptors; i++)
		acceptor_free(l->acceptors[i]);
	listener_conf_free(l->conf);
	free(l->acceptors);
	free(l->fds);
	free(l);
}
