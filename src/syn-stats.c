/* SPDX-License-Identifier: ISC */
/*
 * syn-stats.c: a save_syn acceptor's record of its clients' SYNs, and
 * those records added up when /metrics or /stats is read.
 *
 * The acceptor's worker writes its record; the main thread reads it.
 * The plain counters could be relaxed atomics as listener_stats are, but
 * a kept SYN is some sixty bytes and the MSS table grows a slot at a time
 * (a value, then its count): read while being written, either could show
 * half of one SYN and half of another.  So each record has a mutex of its
 * own: taken once per accept, by one writer, contended only by a reader
 * of /metrics or /stats (a copy of a few kilobytes), and only on
 * listeners with save_syn.
 */
#include "config.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "syn-stats.h"

struct syn_stats {
	pthread_mutex_t lock;
	struct syn_counts c;
};

struct syn_stats *
syn_stats_new(void)
{
	struct syn_stats *st;

	if ((st = calloc(1, sizeof *st)) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

void
syn_stats_free(struct syn_stats *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Count n SYNs of this MSS in a table of at most slots values; the rest are "other". */
static void
syn_mss_add(struct syn_counts *c, uint32_t mss, uint64_t n, int slots)
{
	for (int i = 0; i < c->nmss; i++)
		if (c->mss[i].mss == mss) {
			c->mss[i].n += n;
			return;
		}
	if (c->nmss < slots) {
		c->mss[c->nmss].mss = mss;
		c->mss[c->nmss].n = n;
		c->nmss++;
		return;
	}
	c->mss_other += n;
}

static void
syn_seen_add(struct syn_counts *c, const struct syn_seen *s)
{
	c->last[c->next] = *s;
	c->next = (c->next + 1) % SYN_LAST;
	if (c->nlast < SYN_LAST)
		c->nlast++;
}

/*
 * The accepted client's SYN, if the kernel saved it: read (the kernel
 * hands it over once, and frees it), parsed and counted.  field gets its
 * fields for the connect line, or "" when there are none.
 */
void
syn_stats_take(struct syn_stats *st, int fd, const struct sockaddr *sa, socklen_t salen,
    char *field, size_t fieldlen)
{
	uint8_t buf[SYN_SAVED_MAX];
	socklen_t len = sizeof buf;
	struct syn_seen s;
	struct timespec ts;
	enum syn_error err;
	int ok;

	field[0] = '\0';
	/* none saved (len 0): the SYN came before save_syn was set, on a reload */
	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, &len) == -1 || len == 0) {
		if (len != 0)
			log_debug(
			    "getsockopt TCP_SAVED_SYN on an accepted socket: %s", strerror(errno));
		pthread_mutex_lock(&st->lock);
		st->c.unread++;
		pthread_mutex_unlock(&st->lock);
		return;
	}
	memset(&s, 0, sizeof s);
	ok = syn_parse(buf, len, &s.info, &err) == 0;
	if (ok) {
		memcpy(&s.peer, sa, salen < sizeof s.peer ? salen : sizeof s.peer);
		s.peerlen = salen < sizeof s.peer ? salen : sizeof s.peer;
		clock_gettime(CLOCK_REALTIME, &ts);
		s.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		syn_format(&s.info, field, fieldlen);
	}
	pthread_mutex_lock(&st->lock);
	if (!ok) {
		st->c.invalid[err]++;
	} else {
		st->c.saved++;
		if (s.info.options & SYN_OPT_MSS)
			syn_mss_add(&st->c, s.info.mss, 1, SYN_MSS_SLOTS);
		else
			st->c.mss_none++;
		st->c.options[s.info.options]++;
		syn_seen_add(&st->c, &s);
	}
	pthread_mutex_unlock(&st->lock);
}

static int
syn_seen_older(const void *a, const void *b)
{
	const struct syn_seen *x = a, *y = b;

	return (x->time_ms > y->time_ms) - (x->time_ms < y->time_ms);
}

/*
 * sum += c: the counts added, the MSS tables merged, the newest SYN_LAST
 * SYNs of both kept, oldest first (so a sum shows them in time order).
 */
void
syn_counts_add(struct syn_counts *sum, const struct syn_counts *c)
{
	struct syn_seen all[2 * SYN_LAST];
	unsigned n = 0, keep;

	sum->saved += c->saved;
	sum->unread += c->unread;
	for (int i = 0; i < SYN_ERRORS; i++)
		sum->invalid[i] += c->invalid[i];
	for (int i = 0; i < c->nmss; i++)
		syn_mss_add(sum, c->mss[i].mss, c->mss[i].n, SYN_MSS_MERGED);
	sum->mss_other += c->mss_other;
	sum->mss_none += c->mss_none;
	for (int i = 0; i < SYN_OPT_SETS; i++)
		sum->options[i] += c->options[i];
	for (unsigned i = 0; i < sum->nlast; i++)
		all[n++] = sum->last[i];
	for (unsigned i = 0; i < c->nlast; i++)
		all[n++] = c->last[i];
	qsort(all, n, sizeof all[0], syn_seen_older);
	/* oldest first from index 0: the next SYN kept replaces the oldest */
	keep = n < SYN_LAST ? n : SYN_LAST;
	memcpy(sum->last, all + (n - keep), keep * sizeof all[0]);
	sum->nlast = keep;
	sum->next = keep % SYN_LAST;
}

/* sum += what the acceptor's record holds now. */
void
syn_stats_add(struct syn_counts *sum, struct syn_stats *st)
{
	pthread_mutex_lock(&st->lock);
	syn_counts_add(sum, &st->c);
	pthread_mutex_unlock(&st->lock);
}

static int
syn_mss_more(const void *a, const void *b)
{
	const struct syn_mss_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return (x->mss > y->mss) - (x->mss < y->mss);
}

/* For showing: the MSS values most counted first, SYN_MSS_SHOWN of them, the rest "other". */
void
syn_counts_top(struct syn_counts *c)
{
	qsort(c->mss, (size_t)c->nmss, sizeof c->mss[0], syn_mss_more);
	for (int i = SYN_MSS_SHOWN; i < c->nmss; i++)
		c->mss_other += c->mss[i].n;
	if (c->nmss > SYN_MSS_SHOWN)
		c->nmss = SYN_MSS_SHOWN;
}

/* Whether anything was counted. */
int
syn_counts_any(const struct syn_counts *c)
{
	uint64_t n = c->saved + c->unread;

	for (int i = 0; i < SYN_ERRORS; i++)
		n += c->invalid[i];
	return n > 0;
}
