/* SPDX-License-Identifier: ISC */
/*
 * datagram.c: one UDP socket of a listener (transport = udp), on its
 * acceptor's worker.  There is no connection and no bufferevent: a
 * persistent EV_READ event on the socket, and on each wakeup batches of
 * up to DATAGRAM_BATCH datagrams read with one recvmmsg(), answered by
 * the service's datagram() (a pure function) and sent with one
 * sendmmsg().  The buffers are allocated once, when the socket starts:
 * nothing is allocated per datagram.
 *
 * Each reply leaves from the address its datagram was sent to: the
 * socket asks for the destination (IP_PKTINFO, IPV6_RECVPKTINFO: see
 * net_bind_datagram) and the reply carries the same control message back,
 * so that a wildcard socket answering a client of 127.0.0.2 answers from
 * 127.0.0.2 (and a dual-stack one gets IP_PKTINFO for IPv4-mapped peers).
 *
 * Never answered (the classic reflection loops between two UDP services):
 * a datagram from source port 0 or from the ports of echo, discard,
 * daytime, chargen and time.  chargen and daytime, whose answer may be
 * larger than the datagram, answer each source (an IPv4 address, an IPv6
 * /64) at most udp_rate times a second (ratelimit.c: a bounded table per
 * socket).  A datagram longer than max_datagram is read
 * as max_datagram + 1 bytes (MSG_TRUNC tells the rest) and dropped.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "conf.h"
#include "datagram.h"
#include "log.h"
#include "ratelimit.h"
#include "service.h"

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

struct datagram {
	const struct listener_conf *conf; /* the acceptor's, which outlives this */
	const char *addrstr;
	int fd;
	struct event *ev;
	size_t inmax;  /* max_datagram + 1: one byte more tells a longer datagram */
	size_t outmax; /* what an answer may fill */
	char *in;      /* DATAGRAM_BATCH * inmax */
	char *out;     /* DATAGRAM_BATCH * outmax */
	struct datagram_slot rx[DATAGRAM_BATCH], tx[DATAGRAM_BATCH];
	struct mmsghdr rmsg[DATAGRAM_BATCH], smsg[DATAGRAM_BATCH];
	struct rate_table *rate; /* udp_rate: for the services that answer more than they read */
	uint32_t seq;            /* datagrams answered: chargen's line and length */
	uint32_t ovfl;           /* SO_RXQ_OVFL's last value: the kernel's drops so far */
	struct datagram_stats stats;
	struct log_limit drop_log;
};

/* The ports of the services that answer anything: answering them loops. */
static const int datagram_bad_ports[] = { 0, 7, 9, 13, 19, 37 };

int
datagram_source_ok(const struct sockaddr *sa)
{
	int port;

	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return 0;
	for (size_t i = 0; i < sizeof datagram_bad_ports / sizeof datagram_bad_ports[0]; i++)
		if (port == datagram_bad_ports[i])
			return 0;
	return 1;
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

/* SO_RXQ_OVFL: the kernel's count of datagrams it dropped on this socket so far. */
static void
datagram_overflow(struct datagram *d, struct msghdr *rx)
{
	struct cmsghdr *c;
	uint32_t v;

	for (c = CMSG_FIRSTHDR(rx); c != NULL; c = CMSG_NXTHDR(rx, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&v, CMSG_DATA(c), sizeof v);
			d->stats.rxq_overflow += (uint32_t)(v - d->ovfl);
			d->ovfl = v;
		}
}

static void
datagram_drop(struct datagram *d, uint64_t *counter, const char *why, size_t len)
{
	unsigned long suppressed;

	(*counter)++;
	if (log_limit_pass(&d->drop_log, &suppressed))
		log_info("listener %s: dropped a datagram of %zu bytes on %s: %s (%lu more "
			 "dropped in the last second)",
		    d->conf->name, len, d->addrstr, why, suppressed);
}

/* Send the n answers prepared; a failed one is counted and skipped. */
static void
datagram_send(struct datagram *d, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(d->fd, d->smsg + done, n - done, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			/* the first of them failed: skip it, try the rest */
			datagram_drop(d, &d->stats.drop_send, strerror(errno),
			    d->smsg[done].msg_hdr.msg_iov->iov_len);
			done++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			d->stats.out++;
			d->stats.bytes_out += d->smsg[done + (unsigned)i].msg_len;
		}
		done += (unsigned)r;
	}
}

/* Answer one batch; returns how many datagrams it read (-1: nothing queued, or an error). */
static int
datagram_batch(struct datagram *d)
{
	struct datagram_ctx ctx = { .now = time(NULL) };
	uint64_t now_ms = clock_ns() / 1000000;
	struct source_key key;
	unsigned nout = 0;
	int n;

	for (unsigned i = 0; i < DATAGRAM_BATCH; i++) {
		struct msghdr *m = &d->rmsg[i].msg_hdr;

		d->rx[i].iov = (struct iovec){ d->in + i * d->inmax, d->inmax };
		*m = (struct msghdr){ .msg_name = &d->rx[i].peer,
			.msg_namelen = sizeof d->rx[i].peer,
			.msg_iov = &d->rx[i].iov,
			.msg_iovlen = 1,
			.msg_control = d->rx[i].control.buf,
			.msg_controllen = sizeof d->rx[i].control.buf };
	}
	do
		n = recvmmsg(d->fd, d->rmsg, DATAGRAM_BATCH, MSG_DONTWAIT, NULL);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("listener %s: recvmmsg %s", d->conf->name, d->addrstr);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &d->rmsg[i].msg_hdr, *s;
		size_t len = d->rmsg[i].msg_len;
		char *out = d->out + nout * d->outmax;
		ssize_t alen;

		datagram_overflow(d, m);
		d->stats.in++;
		d->stats.bytes_in += len;
		if ((m->msg_flags & MSG_TRUNC) || len > (size_t)d->conf->max_datagram) {
			datagram_drop(d, &d->stats.drop_truncated, "longer than max_datagram", len);
			continue;
		}
		if (!datagram_source_ok((struct sockaddr *)&d->rx[i].peer)) {
			datagram_drop(d, &d->stats.drop_source,
			    "from port 0 or a port of echo, discard, daytime, chargen or time",
			    len);
			continue;
		}
		if (d->rate != NULL && source_key((struct sockaddr *)&d->rx[i].peer, &key) == 0 &&
		    !rate_allow(d->rate, &key, now_ms, d->conf->udp_rate)) {
			datagram_drop(d, &d->stats.drop_rate, "over udp_rate for its source", len);
			continue;
		}
		ctx.seq = d->seq;
		alen = d->conf->service->datagram(d->rx[i].iov.iov_base, len, out, d->outmax, &ctx);
		if (alen < 0)
			continue;
		d->seq++;
		s = &d->smsg[nout].msg_hdr;
		d->tx[nout].iov = (struct iovec){ out, (size_t)alen };
		*s = (struct msghdr){ .msg_name = &d->rx[i].peer,
			.msg_namelen = m->msg_namelen,
			.msg_iov = &d->tx[nout].iov,
			.msg_iovlen = 1,
			.msg_control = d->tx[nout].control.buf,
			.msg_controllen = sizeof d->tx[nout].control.buf };
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
datagram_new(struct event_base *base, int fd, const struct listener_conf *lc, const char *addrstr)
{
	struct datagram *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->conf = lc;
	d->addrstr = addrstr;
	d->fd = fd;
	d->inmax = (size_t)lc->max_datagram + 1;
	d->outmax = (size_t)lc->max_datagram > DATAGRAM_OUT_MIN ? (size_t)lc->max_datagram
								: DATAGRAM_OUT_MIN;
	/* those that speak first answer whatever came: an answer larger than the datagram */
	if ((lc->service->speaks_first && (d->rate = calloc(1, sizeof *d->rate)) == NULL) ||
	    (d->in = malloc(DATAGRAM_BATCH * d->inmax)) == NULL ||
	    (d->out = malloc(DATAGRAM_BATCH * d->outmax)) == NULL ||
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
	free(d->rate);
	free(d->in);
	free(d->out);
	free(d);
}
