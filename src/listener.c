/* SPDX-License-Identifier: ISC */
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

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include "activation.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "queues.h"
#include "service.h"
#include "stats.h"
#include "synackd.h"

/* How many sockets: one per worker, unless they cannot be spread. */
static int
listener_count(int nworkers, const struct listener_conf *lc)
{
	if (lc->service->one_loop || lc->addr.ss.ss_family == AF_UNIX)
		return 1;
	return nworkers;
}

/* One socket of lc's transport on *addr (which gets the real port). */
static int
listener_socket(const struct listener_conf *lc, struct net_addr *addr,
    const struct net_listen_opts *o, char *err, size_t errlen)
{
	if (lc->transport == TRANSPORT_UDP)
		return net_bind_datagram(addr, o, err, errlen);
	return net_listen(addr, o, err, errlen);
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
		.fastopen = lc->fastopen,
		.save_syn = lc->save_syn,
		.rcvbuf = (int)lc->rcvbuf,
	};
	struct net_listen_opts probe = o;
	struct net_addr addr;
	int fd;

	*bound = lc->addr;
	if (n > 1 && !lc->reuseport && net_addr_port(&lc->addr) != 0) {
		probe.reuseport = 0;
		addr = *bound;
		if ((fd = listener_socket(lc, &addr, &probe, err, errlen)) == -1)
			return -1;
		close(fd);
	}
	for (int i = 0; i < n; i++) {
		addr = *bound;
		if ((fds[i] = listener_socket(lc, &addr, &o, err, errlen)) == -1) {
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
 * Take over a socket the service manager passed (activation.c) as the
 * first of *n: it keeps its bind and its backlog (the manager's
 * Backlog=), and gets the listener's socket options (a UDP one: what the
 * datagram loop reads with each datagram).  The others are opened on its
 * address with SO_REUSEPORT, which only works when the inherited socket
 * has it too (ReusePort=): without, the listener runs on it alone, on one
 * worker (*n = 1).  All or none: on failure the ones opened here are
 * closed.
 */
static int
listener_adopt(struct listener *l, const struct listener_conf *lc, struct activation_fd *f, int *n,
    int *fds, struct net_addr *bound, char *err, size_t errlen)
{
	struct net_listen_opts o = {
		.backlog = lc->backlog,
		.reuseport = 1,
		.keepalive = lc->keepalive,
		.nodelay = 1,
		.defer_accept = lc->defer_accept,
		.fastopen = lc->fastopen,
		.save_syn = lc->save_syn,
		.rcvbuf = (int)lc->rcvbuf,
	};
	struct net_addr a;
	int v6only = 1, i = 1;
	socklen_t len = sizeof v6only;

	*bound = f->addr;
	fds[0] = f->fd;
	if (bound->ss.ss_family == AF_INET6 &&
	    getsockopt(f->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0)
		bound->dual = !v6only;
	if (lc->transport == TRANSPORT_UDP) {
		if (net_datagram_opts(f->fd, bound, (int)lc->rcvbuf, err, errlen) == -1)
			goto fail;
	} else if (bound->ss.ss_family != AF_UNIX &&
	    (net_setopt(f->fd, SOL_SOCKET, SO_KEEPALIVE, lc->keepalive, "SO_KEEPALIVE", bound, err,
		 errlen) == -1 ||
		net_setopt(f->fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", bound, err, errlen) ==
		    -1 ||
		net_setopt(f->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, lc->defer_accept,
		    "TCP_DEFER_ACCEPT", bound, err, errlen) == -1 ||
		net_setopt(f->fd, IPPROTO_TCP, TCP_SAVE_SYN, lc->save_syn, "TCP_SAVE_SYN", bound,
		    err, errlen) == -1 ||
		/* 0 leaves whatever the manager set (systemd's FastOpen=) */
		(lc->fastopen > 0 &&
		    net_setopt(f->fd, IPPROTO_TCP, TCP_FASTOPEN, lc->fastopen, "TCP_FASTOPEN",
			bound, err, errlen) == -1)))
		goto fail;
	l->inherited_fd = f->fd;
	l->inherited_elsewhere = !activation_addr_match(&lc->addr, &f->addr);
	if (*n > 1 && !f->reuseport) {
		l->inherited_alone = 1;
		*n = 1;
	}
	for (; i < *n; i++) {
		a = *bound;
		if ((fds[i] = listener_socket(lc, &a, &o, err, errlen)) == -1)
			goto fail;
	}
	return 0;
fail:
	while (i-- > 1)
		close(fds[i]);
	return -1; /* fds[0] is the caller's to close */
}

/*
 * The n sockets of `from`, each dup()ed, for a listener that takes over
 * from it (listener_successor): the same sockets, so the same port and
 * the same SO_REUSEPORT group.  All or none.
 */
static int
listener_share(
    const struct listener *from, int n, int *fds, struct net_addr *bound, char *err, size_t errlen)
{
	*bound = from->addr;
	for (int i = 0; i < n; i++)
		if (from->fds[i] == -1 ||
		    (fds[i] = fcntl(from->fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
			snprintf(err, errlen, "fcntl F_DUPFD_CLOEXEC %s: %s", from->addrstr,
			    from->fds[i] == -1 ? "socket already closed" : strerror(errno));
			while (i-- > 0)
				close(fds[i]);
			return -1;
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

	/* an inherited unix socket's file is the service manager's */
	if (l->addr.ss.ss_family == AF_UNIX && l->nacceptors > 0 && !l->unlinked &&
	    l->inherited_fd == -1)
		unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path);
	l->unlinked = 1;
	for (int i = 0; i < l->nacceptors; i++) {
		/* the filter reads TCP flags: a UDP socket drains its queue as it closes */
		if (l->fds[i] != -1 && l->addr.ss.ss_family != AF_UNIX &&
		    l->conf->transport == TRANSPORT_TCP &&
		    net_drop_syns(l->fds[i], err, sizeof err) == -1)
			log_warnx("listener %s: %s", l->conf->name, err);
		l->fds[i] = -1;
	}
}

/*
 * What a UDP socket's receive buffer holds decides when the kernel drops
 * a burst: say so when the kernel granted less than rcvbuf asked (without
 * CAP_NET_ADMIN, net.core.rmem_max caps it).  It reports twice what it
 * grants, the half it keeps for its bookkeeping included.
 */
static void
listener_check_rcvbuf(const struct listener *l)
{
	const struct listener_conf *lc = l->conf;
	int got = 0;
	socklen_t len = sizeof got;

	if (lc->transport != TRANSPORT_UDP || lc->rcvbuf == 0 || l->fds[0] == -1 ||
	    getsockopt(l->fds[0], SOL_SOCKET, SO_RCVBUF, &got, &len) == -1 || got / 2 >= lc->rcvbuf)
		return;
	log_warnx("listener %s: rcvbuf %ld is capped to %d by net.core.rmem_max (raise it, or "
		  "run with CAP_NET_ADMIN)",
	    lc->name, lc->rcvbuf, got / 2);
}

/*
 * A reload's new rcvbuf, on the sockets in place: a socket option, not
 * state of the workers' loops, so the main thread, which holds the
 * descriptors as long as the listener runs, sets it.  0 goes back to
 * the kernel's default, net.core.rmem_default: a new socket's buffer, not
 * doubled as a request is, hence the half.
 */
static void
listener_set_rcvbuf(struct listener *l, long before, const struct listener_conf *lc)
{
	int bytes = lc->rcvbuf > 0 ? (int)lc->rcvbuf : net_sysctl("core/rmem_default") / 2;
	char err[ERRLEN];

	for (int i = 0; bytes > 0 && i < l->nacceptors; i++)
		if (l->fds[i] != -1 &&
		    net_rcvbuf(l->fds[i], &l->addr, bytes, err, sizeof err) == -1)
			log_warnx("listener %s: reload: %s", lc->name, err);
	log_info("listener %s: rcvbuf %ld -> %ld", lc->name, before, lc->rcvbuf);
}

/* listener_new, or (from) a listener on the sockets of `from`. */
static struct listener *
listener_make(const struct listener_conf *lc, struct worker **workers, int nworkers,
    struct activation *act, const struct listener *from, char *err, size_t errlen)
{
	static unsigned next_one; /* spreads one-loop listeners over the workers */
	int n = from != NULL ? from->nacceptors : listener_count(nworkers, lc);
	struct activation_fd *inherited = from != NULL ? NULL : activation_take(act, lc);
	struct net_addr bound;
	struct listener *l;
	char why[ERRLEN];

	if ((l = calloc(1, sizeof *l)) == NULL || (l->conf = listener_conf_dup(lc)) == NULL ||
	    (l->acceptors = calloc((size_t)n, sizeof *l->acceptors)) == NULL ||
	    (l->fds = calloc((size_t)n, sizeof *l->fds)) == NULL) {
		snprintf(err, errlen, "listener %s: out of memory", lc->name);
		goto fail;
	}
	l->nworkers = nworkers;
	l->inherited_fd = -1;
	/* the call and the address say what failed; the name says whose it was */
	if (from != NULL) {
		l->inherited_alone = from->inherited_alone;
		if (listener_share(from, n, l->fds, &bound, why, sizeof why) == -1) {
			snprintf(err, errlen, "listener %s: %s", lc->name, why);
			goto fail;
		}
	} else if ((inherited != NULL &&
		       listener_adopt(l, lc, inherited, &n, l->fds, &bound, why, sizeof why) ==
			   -1) ||
	    (inherited == NULL && listener_open(lc, n, l->fds, &bound, why, sizeof why) == -1)) {
		snprintf(err, errlen, "listener %s: %s", lc->name, why);
		goto fail;
	}
	l->addr = bound;
	net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
	l->nacceptors = n;
	for (int i = 0; i < n; i++) {
		struct worker *w = workers[n == 1 ? next_one % (unsigned)nworkers : (unsigned)i];

		if ((l->acceptors[i] = acceptor_new(
			 l, w, w->reply, &l->wait_log, l->fds[i], &bound, lc)) == NULL) {
			snprintf(err, errlen, "listener %s: out of memory", lc->name);
			for (int j = i; j < n; j++) {
				close(l->fds[j]);
				l->fds[j] = -1;
			}
			listener_free(l);
			return NULL;
		}
	}
	if (inherited != NULL)
		l->acceptors[0]->inherited = 1;
	if (n == 1)
		next_one++;
	return l;
fail:
	if (inherited != NULL)
		close(inherited->fd); /* taken, but no listener runs on it */
	if (l != NULL) {
		listener_conf_free(l->conf);
		free(l->acceptors);
		free(l->fds);
		free(l);
	}
	return NULL;
}

/*
 * Open the sockets, each for its worker of workers[nworkers], or adopt
 * the socket act holds for this listener (act may be NULL); nothing is
 * accepted until listener_start().
 */
struct listener *
listener_new(const struct listener_conf *lc, struct worker **workers, int nworkers,
    struct activation *act, char *err, size_t errlen)
{
	return listener_make(lc, workers, nworkers, act, NULL, err, errlen);
}

/*
 * Is `want` where l is?  Its configured address; or, if that asked for
 * port 0, the same address with the port the kernel chose: a file updated
 * to pin the port it got changes nothing.
 */
int
listener_at(const struct listener *l, const struct net_addr *want)
{
	struct net_addr pinned = l->conf->addr;
	int port = net_addr_port(&l->addr);

	if (net_addr_equal(want, &pinned))
		return 1;
	if (net_addr_port(&pinned) != 0 || port <= 0)
		return 0;
	if (pinned.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&pinned.ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&pinned.ss)->sin6_port = htons((uint16_t)port);
	return net_addr_equal(want, &pinned);
}

/*
 * The listener that takes over from UDP listener l, which a reload
 * changed beyond what its sockets take in place (service, max_datagram,
 * address), made before l retires.  While the configured address stays,
 * it runs on l's very sockets (dup()ed): the port stays, and a datagram
 * sent meanwhile waits in the socket for whichever acceptor reads first,
 * where closing the socket and binding another would refuse it (and
 * without SO_REUSEPORT the bind would fail while l's socket is open).  A
 * new address gets sockets of its own, opened now, before l's close.
 * NULL (err) when they cannot be had: l stays.  Not started yet.
 */
struct listener *
listener_successor(const struct listener *l, const struct listener_conf *lc,
    struct worker **workers, int nworkers, char *err, size_t errlen)
{
	struct listener *n;

	if (!listener_at(l, &lc->addr))
		return listener_make(lc, workers, nworkers, NULL, NULL, err, errlen);
	if ((n = listener_make(lc, workers, nworkers, NULL, l, err, errlen)) != NULL &&
	    lc->rcvbuf != l->conf->rcvbuf)
		listener_set_rcvbuf(n, l->conf->rcvbuf, lc);
	return n;
}

/* What adopting a socket changed, once the log is where it belongs. */
static void
listener_log_inherited(struct listener *l)
{
	const struct listener_conf *lc = l->conf;
	char conf[NET_ADDRSTRLEN], err[ERRLEN];
	struct queue_len q;
	int rc, somaxconn = net_somaxconn(), want = lc->backlog;

	log_info("listener %s: adopted inherited socket fd %d (%s)", lc->name, l->inherited_fd,
	    l->addrstr);
	if (l->inherited_elsewhere && net_addr_port(&lc->addr) != 0)
		log_warnx(
		    "listener %s: the inherited socket is bound to %s, not to the configured %s",
		    lc->name, l->addrstr, net_addr_str(&lc->addr, conf, sizeof conf));
	if (l->inherited_alone)
		log_info("listener %s: the inherited socket has no SO_REUSEPORT: it runs on one "
			 "socket, on one worker of %d",
		    lc->name, l->nworkers);
	if (lc->transport == TRANSPORT_UDP)
		return; /* no backlog */
	rc = l->addr.ss.ss_family == AF_UNIX
	    ? queue_accept_unix(l->fds[0], &q, err, sizeof err)
	    : queue_accept(l->fds[0], l->addr.ss.ss_family, &q, err, sizeof err);
	if (somaxconn >= 0 && somaxconn < want)
		want = somaxconn;
	if (rc == 0 && q.max != (unsigned)want)
		log_info("listener %s: backlog %u is the inherited socket's (the service manager's "
			 "Backlog=), not the configured %d",
		    lc->name, q.max, lc->backlog);
}

/* Announce the listener and hand each socket to its worker. */
void
listener_start(struct listener *l)
{
	const struct listener_conf *lc = l->conf;
	int somaxconn = net_somaxconn();
	struct worker_cmd *cmd;

	if (l->inherited_fd != -1)
		listener_log_inherited(l);
	if (lc->transport == TRANSPORT_UDP)
		log_info("listener %s: listening on %s service=%s transport=udp", lc->name,
		    l->addrstr, lc->service->name);
	else
		log_info("listener %s: listening on %s service=%s backlog=%d", lc->name, l->addrstr,
		    lc->service->name, lc->backlog);
	if (lc->transport == TRANSPORT_TCP && l->inherited_fd == -1 && somaxconn >= 0 &&
	    somaxconn < lc->backlog)
		log_warnx("listener %s: backlog %d is capped to %d by net.core.somaxconn", lc->name,
		    lc->backlog, somaxconn);
	listener_check_rcvbuf(l);
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

	/*
	 * An inherited socket alone (no SO_REUSEPORT) stays alone at its
	 * address.  A UDP socket's new address or max_datagram (its buffers'
	 * size) takes a new listener: the acceptor's replace path is the
	 * stream one.
	 */
	if (lc->service != old->service || lc->transport != old->transport ||
	    (lc->transport == TRANSPORT_UDP &&
		(!listener_at(l, &lc->addr) || lc->max_datagram != old->max_datagram)) ||
	    (listener_count(l->nworkers, lc) != l->nacceptors &&
		!(l->inherited_alone && listener_at(l, &lc->addr))))
		return 1;
	if ((nc = listener_conf_dup(lc)) == NULL ||
	    (fds = calloc((size_t)l->nacceptors, sizeof *fds)) == NULL) {
		log_error("listener %s: reload: out of memory; unchanged", old->name);
		listener_conf_free(nc);
		return -1;
	}
	/* an inherited socket's SO_REUSEPORT is the service manager's: it stays */
	if (!listener_at(l, &lc->addr) ||
	    (lc->reuseport != old->reuseport && l->inherited_fd == -1)) {
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
		l->inherited_fd = -1;
		l->inherited_alone = 0;
		l->inherited_elsewhere = 0;
		net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
		log_info("listener %s: listening on %s service=%s backlog=%d", lc->name, l->addrstr,
		    lc->service->name, lc->backlog);
	} else {
		for (int i = 0; i < l->nacceptors; i++)
			listener_post(l, i, WORKER_RECONFIGURE, lc, -1, NULL);
		if (lc->backlog != old->backlog)
			log_info(
			    "listener %s: backlog %d -> %d", old->name, old->backlog, lc->backlog);
		if (lc->rcvbuf != old->rcvbuf)
			listener_set_rcvbuf(l, old->rcvbuf, lc);
	}
	free(fds);
	l->conf = nc;
	if (lc->rcvbuf != old->rcvbuf)
		listener_check_rcvbuf(l);
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
 * What /metrics and /stats show of the listener, read now: its counters
 * summed over its acceptors (and those already freed), and its sockets'
 * accept queues, or a UDP listener's receive queues.
 */
void
listener_snapshot(const struct listener *l, struct metrics_listener *ml)
{
	char err[ERRLEN];
	struct queue_len q;

	ml->name = l->conf->name;
	ml->service = l->conf->service->name;
	ml->addr = &l->addr;
	ml->address = l->addrstr;
	ml->port = net_addr_port(&l->addr);
	ml->backlog = l->conf->backlog;
	ml->workers = l->nacceptors;
	ml->stats = l->gone;
	ml->save_syn = l->conf->save_syn;
	ml->syn = l->syn_gone;
	ml->udp = l->conf->transport == TRANSPORT_UDP;
	ml->dgram = l->dgram_gone;
	for (int i = 0; i < l->nacceptors; i++)
		if (l->acceptors[i] != NULL) {
			listener_stats_add(&ml->stats, &l->acceptors[i]->stats);
			datagram_stats_add(&ml->dgram, &l->acceptors[i]->dgram_stats);
			syn_stats_add(&ml->syn, l->acceptors[i]->syn);
		}
	syn_counts_top(&ml->syn);
	ml->active = listener_active(l);
	ml->queues = 0;
	if (ml->udp) {
		/* the datagram sockets' receive queues, where TCP has its accept queues */
		if (queue_datagram(l->fds, (size_t)l->nacceptors, l->addr.ss.ss_family,
			(unsigned)ml->port, &ml->recv_queue, err, sizeof err) == 0)
			ml->have_recv_queue = 1;
		else
			log_debug("metrics: listener %s: %s", l->conf->name, err);
		return;
	}
	for (int i = 0; i < l->nacceptors && i < METRICS_SOCKETS_MAX; i++) {
		/* a datagram socket has no accept queue */
		if (l->fds[i] == -1 || l->conf->transport == TRANSPORT_UDP)
			continue;
		if (queue_accept(l->fds[i], l->addr.ss.ss_family, &q, err, sizeof err) == -1) {
			log_debug("metrics: listener %s: %s", l->conf->name, err);
			continue;
		}
		ml->queue[ml->queues].len = q.len;
		ml->queue[ml->queues].max = q.max;
		ml->queues++;
	}
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

/*
 * A worker let go of one of the acceptors (or is gone): free it.  Returns
 * 1 when the listener is retired and has no acceptor left: its owner
 * unlinks and frees it.
 */
int
listener_acceptor_done(struct listener *l, struct acceptor *a)
{
	listener_stats_add(&l->gone, &a->stats);
	datagram_stats_add(&l->dgram_gone, &a->dgram_stats);
	syn_stats_add(&l->syn_gone, a->syn);
	for (int i = 0; i < l->nacceptors; i++)
		if (l->acceptors[i] == a) {
			l->acceptors[i] = NULL;
			l->fds[i] = -1;
		}
	l->live--;
	acceptor_free(a);
	return l->retired && l->live == 0;
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
