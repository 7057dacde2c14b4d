/* SPDX-License-Identifier: ISC */
/*
 * datagram.c: one UDP socket of a listener (transport = udp), on its
 * acceptor's worker.  There is no connection and no bufferevent: a
 * persistent EV_READ event on the socket, and on each wakeup batches of
 * up to DATAGRAM_BATCH datagrams read with one recvmmsg(), answered by
 * the service's datagram() (a pure function) and sent with one
 * sendmmsg().  A worker's sockets share one scratch area (struct
 * datagram_area: the buffers, sized for the largest max_datagram among
 * them and grown when a larger one starts, and the message headers):
 * one batch is read, answered and sent before the next is read, so one
 * area serves them all, and nothing is allocated per datagram.
 *
 * Each reply leaves from the address its datagram was sent to: the
 * socket asks for the destination (IP_PKTINFO, IPV6_RECVPKTINFO: see
 * net_bind_datagram) and the reply carries the same control message back,
 * so that a wildcard socket answering a client of 127.0.0.2 answers from
 * 127.0.0.2 (and a dual-stack one gets IP_PKTINFO for IPv4-mapped peers).
 *
 * Never answered (the classic reflection loops between two UDP services):
 * a datagram from source port 0 or from the ports of echo, discard,
 * daytime, chargen and time, nor one from a port that one of synackd's
 * own UDP listeners uses (the main thread hands each worker the set at
 * start and at each reload that changes it: datagram_area_set_ports).
 * chargen and daytime, whose answer may be larger than the datagram,
 * answer each source (an IPv4 address, an IPv6 /64) at most udp_rate
 * times a second (ratelimit.c: a bounded table per worker, in which each
 * socket has its own buckets).  A datagram longer than max_datagram is
 * read as max_datagram + 1 bytes (MSG_TRUNC tells the rest) and dropped.
 *
 * The counters are the acceptor's (struct datagram_stats, stat.h: this
 * worker writes, the main thread reads and sums them per listener).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include <event2/event.h>

#include "clock.h"
#include "conf.h"
#include "datagram.h"
#include "log.h"
#include "ratelimit.h"
#include "service.h"
#include "stats.h"

#define DATAGRAM_ROUNDS 8 /* batches a wakeup reads at most: the loop's other events get a turn */
#define DATAGRAM_MIN_TRUESIZE 256 /* receive buffer bytes a queued datagram takes, at least */
#define DATAGRAM_OUT_MIN 512      /* room for an answer: chargen's 512, a daytime line */

/* IPv4 or IPv6 packet info, and SO_RXQ_OVFL's counter */
#define DATAGRAM_CONTROL                                                                           \
	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +          \
	    CMSG_SPACE(sizeof(uint32_t)))

struct datagram_slot {
	struct sockaddr_storage peer;
	union {
		char buf[DATAGRAM_CONTROL];
		struct cmsghdr align;
	} control;
	struct iovec iov;
};

struct datagram_area {
	size_t inmax;  /* each slot's room to read: the largest max_datagram + 1 */
	size_t outmax; /* each answer's room */
	char *in;      /* DATAGRAM_BATCH * inmax */
	char *out;     /* DATAGRAM_BATCH * outmax */
	struct datagram_slot rx[DATAGRAM_BATCH], tx[DATAGRAM_BATCH];
	struct mmsghdr rmsg[DATAGRAM_BATCH], smsg[DATAGRAM_BATCH];
	size_t armed;            /* the read length rmsg is set up for; 0: not set up */
	unsigned used;           /* rmsg headers the last recvmmsg() wrote to */
	struct rate_table *rate; /* udp_rate's, once a socket needs it */
	uint32_t next_scope;     /* the next socket's number in it */
	uint16_t *own;           /* the ports of synackd's UDP listeners, sorted */
	size_t nown;
};

struct datagram {
	struct datagram_area *area;       /* its worker's, which outlives it */
	const struct listener_conf *conf; /* the acceptor's, which outlives this */
	const char *addrstr;
	int fd;
	struct event *ev;
	size_t inmax;                 /* max_datagram + 1: one byte more tells a longer datagram */
	int limited;                  /* the service answers more than it reads: udp_rate applies */
	uint32_t scope;               /* its buckets in the area's rate table */
	uint32_t seq;                 /* datagrams answered: chargen's line and length */
	uint32_t ovfl;                /* SO_RXQ_OVFL's last value: the kernel's drops so far */
	struct datagram_stats *stats; /* the acceptor's */
	struct log_limit drop_log;
};

/*
 * The ports of the services that answer anything, answering which loops:
 * 0, 7 (echo), 9 (discard), 13 (daytime), 19 (chargen), 37 (time), one
 * bit each.  Tested on every datagram: a mask, not a loop.
 */
#define DATAGRAM_BAD_PORTS                                                                         \
	((1ull << 0) | (1ull << 7) | (1ull << 9) | (1ull << 13) | (1ull << 19) | (1ull << 37))

/* Whether port is one of own[n], sorted. */
static int
datagram_own_port(uint16_t port, const uint16_t *own, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (own[mid] == port)
			return 1;
		if (own[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * Why a datagram from sa is never answered (DGRAM_DROP_BAD_SOURCE, or
 * DGRAM_DROP_OWN_PORT: from one of own[nown], sorted), or -1: it may be.
 */
int
datagram_source_drop(const struct sockaddr *sa, const uint16_t *own, size_t nown)
{
	uint16_t port;

	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return DGRAM_DROP_BAD_SOURCE;
	if (port < 64 && (DATAGRAM_BAD_PORTS >> port) & 1)
		return DGRAM_DROP_BAD_SOURCE;
	if (datagram_own_port(port, own, nown))
		return DGRAM_DROP_OWN_PORT;
	return -1;
}

struct datagram_area *
datagram_area_new(void)
{
	return calloc(1, sizeof(struct datagram_area));
}

/* The ports of synackd's UDP listeners now (malloc()ed, sorted): the area keeps them. */
void
datagram_area_set_ports(struct datagram_area *area, uint16_t *ports, size_t n)
{
	free(area->own);
	area->own = ports;
	area->nown = n;
}

/*
 * Room for a socket of max_datagram (and udp_rate's table if it needs
 * one): the buffers only grow, to the largest of the worker's sockets.
 */
static int
datagram_area_fit(struct datagram_area *area, long max_datagram, int limited)
{
	size_t inmax = (size_t)max_datagram + 1;
	size_t outmax =
	    (size_t)max_datagram > DATAGRAM_OUT_MIN ? (size_t)max_datagram : DATAGRAM_OUT_MIN;
	char *p;

	if (limited && area->rate == NULL && (area->rate = calloc(1, sizeof *area->rate)) == NULL)
		return -1;
	if (inmax > area->inmax) {
		if ((p = realloc(area->in, DATAGRAM_BATCH * inmax)) == NULL)
			return -1;
		area->in = p;
		area->inmax = inmax;
		area->armed = 0;
	}
	if (outmax > area->outmax) {
		if ((p = realloc(area->out, DATAGRAM_BATCH * outmax)) == NULL)
			return -1;
		area->out = p;
		area->outmax = outmax;
	}
	return 0;
}

/* After the worker's loop, and after every socket of it is freed. */
void
datagram_area_free(struct datagram_area *area)
{
	if (area == NULL)
		return;
	free(area->in);
	free(area->out);
	free(area->rate);
	free(area->own);
	free(area);
}

/*
 * The reply's control message, into tx's msg_control (of msg_controllen
 * bytes): the received destination as the source, and nothing else.
 * Without one (none came) tx gets none.
 */
static void
datagram_reply_control(struct msghdr *rx, struct msghdr *tx)
{
	struct cmsghdr *c, *out = CMSG_FIRSTHDR(tx);

	for (c = CMSG_FIRSTHDR(rx); c != NULL && out != NULL; c = CMSG_NXTHDR(rx, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(out), &pi, sizeof pi);
			tx->msg_controllen = CMSG_SPACE(sizeof pi);
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			/* the interface stays: a link-local address means nothing without it */
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(out), &pi, sizeof pi);
			tx->msg_controllen = CMSG_SPACE(sizeof pi);
			return;
		}
	}
	tx->msg_control = NULL;
	tx->msg_controllen = 0;
}

/*
 * The kernel's drops on the socket so far (SO_MEMINFO), where counting
 * starts: a socket handed over by a reload (a successor on the same
 * sockets) or by a service manager has a count already, which the first
 * SO_RXQ_OVFL would otherwise add again.  0 if it cannot be read.
 */
static uint32_t
datagram_drops_so_far(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof mem;

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == -1 ||
	    len <= SK_MEMINFO_DROPS * sizeof mem[0])
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

/* SO_RXQ_OVFL: the kernel's count of datagrams it dropped on this socket so far. */
static void
datagram_overflow(struct datagram *d, struct msghdr *rx)
{
	struct cmsghdr *c;
	uint32_t v;

	for (c = CMSG_FIRSTHDR(rx); c != NULL; c = CMSG_NXTHDR(rx, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&v, CMSG_DATA(c), sizeof v);
			stat_add(&d->stats->kernel_drops, (uint32_t)(v - d->ovfl));
			d->ovfl = v;
		}
}

static const char *const datagram_drop_text[DGRAM_DROPS] = {
	[DGRAM_DROP_BAD_SOURCE] =
	    "from port 0 or a port of echo, discard, daytime, chargen or time",
	[DGRAM_DROP_OWN_PORT] = "from the port of one of synackd's own UDP listeners",
	[DGRAM_DROP_RATE] = "over udp_rate for its source",
	[DGRAM_DROP_TRUNCATED] = "longer than max_datagram",
	[DGRAM_DROP_SEND_ERROR] = "its answer could not be sent",
};

static void
datagram_drop(struct datagram *d, int reason, const char *why, size_t len)
{
	unsigned long suppressed;

	stat_add(&d->stats->dropped[reason], 1);
	if (log_limit_pass(&d->drop_log, &suppressed))
		log_info("listener %s: dropped a datagram of %zu bytes on %s: %s (%lu more "
			 "dropped in the last second)",
		    d->conf->name, len, d->addrstr, why, suppressed);
}

/* Send the n answers prepared; a failed one is counted and skipped. */
static void
datagram_send(struct datagram *d, unsigned n)
{
	struct mmsghdr *smsg = d->area->smsg;
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(d->fd, smsg + done, n - done, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			/* the first of them failed: skip it, try the rest */
			datagram_drop(d, DGRAM_DROP_SEND_ERROR, strerror(errno),
			    smsg[done].msg_hdr.msg_iov->iov_len);
			done++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			stat_add(&d->stats->out, 1);
			stat_add(&d->stats->bytes_out, smsg[done + (unsigned)i].msg_len);
		}
		done += (unsigned)r;
	}
}

/* Answer one batch; returns how many datagrams it read (-1: nothing queued, or an error). */
/*
 * Set the receive headers up for reads of up to inmax bytes.  Of a header
 * recvmmsg() rewrites only the lengths of the name and the control data
 * (and the flags, which it does not read): after a batch only the headers
 * it used need those two again, not the whole array of 32.  (After a
 * failed call the first is reset too, whatever the kernel did with it.)
 */
static void
datagram_arm(struct datagram_area *area, size_t inmax)
{
	if (area->armed == inmax) {
		for (unsigned i = 0; i < area->used; i++) {
			area->rmsg[i].msg_hdr.msg_namelen = sizeof area->rx[i].peer;
			area->rmsg[i].msg_hdr.msg_controllen = sizeof area->rx[i].control.buf;
		}
		return;
	}
	for (unsigned i = 0; i < DATAGRAM_BATCH; i++) {
		area->rx[i].iov = (struct iovec){ area->in + i * area->inmax, inmax };
		area->rmsg[i].msg_hdr = (struct msghdr){ .msg_name = &area->rx[i].peer,
			.msg_namelen = sizeof area->rx[i].peer,
			.msg_iov = &area->rx[i].iov,
			.msg_iovlen = 1,
			.msg_control = area->rx[i].control.buf,
			.msg_controllen = sizeof area->rx[i].control.buf };
	}
	area->armed = inmax;
}

static int
datagram_batch(struct datagram *d)
{
	struct datagram_area *area = d->area;
	struct datagram_ctx ctx = { .now = time(NULL) };
	uint64_t now_ms = d->limited ? clock_ns() / 1000000 : 0; /* udp_rate's clock */
	struct source_key key;
	unsigned nout = 0;
	int n, why;

	datagram_arm(area, d->inmax);
	do
		n = recvmmsg(d->fd, area->rmsg, DATAGRAM_BATCH, MSG_DONTWAIT, NULL);
	while (n == -1 && errno == EINTR);
	area->used = n > 0 ? (unsigned)n : 1;
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("listener %s: recvmmsg %s", d->conf->name, d->addrstr);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &area->rmsg[i].msg_hdr, *s;
		const struct sockaddr *peer = (const struct sockaddr *)&area->rx[i].peer;
		size_t len = area->rmsg[i].msg_len;
		char *out = area->out + nout * area->outmax;
		ssize_t alen;

		datagram_overflow(d, m);
		stat_add(&d->stats->in, 1);
		stat_add(&d->stats->bytes_in, len);
		if ((m->msg_flags & MSG_TRUNC) || len > (size_t)d->conf->max_datagram) {
			datagram_drop(
			    d, DGRAM_DROP_TRUNCATED, datagram_drop_text[DGRAM_DROP_TRUNCATED], len);
			continue;
		}
		if ((why = datagram_source_drop(peer, area->own, area->nown)) != -1) {
			datagram_drop(d, why, datagram_drop_text[why], len);
			continue;
		}
		if (d->limited && source_key(peer, &key) == 0 &&
		    !rate_allow(area->rate, d->scope, &key, now_ms, d->conf->udp_rate)) {
			datagram_drop(d, DGRAM_DROP_RATE, datagram_drop_text[DGRAM_DROP_RATE], len);
			continue;
		}
		ctx.seq = d->seq;
		alen = d->conf->service->datagram(
		    area->rx[i].iov.iov_base, len, out, area->outmax, &ctx);
		if (alen < 0)
			continue;
		d->seq++;
		s = &area->smsg[nout].msg_hdr;
		area->tx[nout].iov = (struct iovec){ out, (size_t)alen };
		*s = (struct msghdr){ .msg_name = &area->rx[i].peer,
			.msg_namelen = m->msg_namelen,
			.msg_iov = &area->tx[nout].iov,
			.msg_iovlen = 1,
			.msg_control = area->tx[nout].control.buf,
			.msg_controllen = sizeof area->tx[nout].control.buf };
		datagram_reply_control(m, s);
		nout++;
	}
	if (nout > 0)
		datagram_send(d, nout);
	return n;
}

static void
datagram_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct datagram *d = arg;

	(void)fd;
	(void)what;
	for (int round = 0; round < DATAGRAM_ROUNDS; round++)
		if (datagram_batch(d) < DATAGRAM_BATCH)
			break;
}

struct datagram *
datagram_new(struct datagram_area *area, struct event_base *base, int fd,
    const struct listener_conf *lc, const char *addrstr, struct datagram_stats *stats)
{
	struct datagram *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->area = area;
	d->conf = lc;
	d->addrstr = addrstr;
	d->fd = fd;
	d->stats = stats;
	d->ovfl = datagram_drops_so_far(fd);
	d->inmax = (size_t)lc->max_datagram + 1;
	/* those that speak first answer whatever came: an answer larger than the datagram */
	d->limited = lc->service->speaks_first;
	d->scope = area->next_scope++;
	if (datagram_area_fit(area, lc->max_datagram, d->limited) == -1 ||
	    (d->ev = event_new(base, fd, EV_READ | EV_PERSIST, datagram_read_cb, d)) == NULL ||
	    event_add(d->ev, NULL) == -1) {
		d->fd = -1; /* the caller's still */
		datagram_free(d);
		return NULL;
	}
	return d;
}

/* A reload's new conf of the same socket (its max_datagram unchanged). */
void
datagram_set_conf(struct datagram *d, const struct listener_conf *lc, const char *addrstr)
{
	d->conf = lc;
	d->addrstr = addrstr;
}

/*
 * Answer what is queued on the socket now, before it closes: a retired
 * socket's datagrams are served.  The whole queue, which a receive buffer
 * larger than the default (a socket unit's ReceiveBuffer=) makes longer
 * than one wakeup's rounds; bounded by what the buffer can hold (no
 * datagram takes less than DATAGRAM_MIN_TRUESIZE of it), so that a flood
 * arriving meanwhile cannot keep the worker here.
 */
void
datagram_drain(struct datagram *d)
{
	int rcvbuf = 0;
	socklen_t len = sizeof rcvbuf;
	long rounds = DATAGRAM_ROUNDS;

	if (getsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 &&
	    rcvbuf / DATAGRAM_MIN_TRUESIZE / DATAGRAM_BATCH + 1 > rounds)
		rounds = rcvbuf / DATAGRAM_MIN_TRUESIZE / DATAGRAM_BATCH + 1;
	for (long round = 0; round < rounds; round++)
		if (datagram_batch(d) < DATAGRAM_BATCH)
			break;
}

void
datagram_free(struct datagram *d)
{
	if (d == NULL)
		return;
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->fd != -1)
		close(d->fd);
	if (d->limited && d->area->rate != NULL)
		rate_forget(d->area->rate, d->scope);
	free(d);
}
