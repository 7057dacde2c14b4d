/* SPDX-License-Identifier: ISC */
/*
 * test-mailbox.c: the pipe mailbox between threads: messages from other
 * threads arrive on the loop's thread in the order each thread posted
 * them, none lost; a full pipe makes the writer wait rather than drop;
 * what is left when the loop is gone is taken in order.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "mailbox.h"

#define WRITERS 2
#define PER_WRITER 150000
#define WAIT_SECONDS 60 /* for all of them: a lost message fails, not hangs */

struct msg {
	int writer;
	unsigned seq;
};

static struct msg msgs[WRITERS][PER_WRITER];

struct test {
	struct event_base *base;
	struct mailbox *mb;
	struct event *timer;   /* WAIT_SECONDS */
	unsigned got[WRITERS]; /* the next seq expected from each writer */
	unsigned total;
	int bad; /* a message out of order: its details in why */
	char why[128];
};

static void
test_received(void *msg, void *arg)
{
	struct test *t = arg;
	struct msg *m = msg;

	if (!t->bad && m->seq != t->got[m->writer]) {
		t->bad = 1;
		snprintf(t->why, sizeof t->why, "writer %d: message %u where %u was next",
		    m->writer, m->seq, t->got[m->writer]);
	}
	t->got[m->writer] = m->seq + 1;
	if (++t->total == WRITERS * PER_WRITER)
		event_base_loopbreak(t->base);
}

struct writer {
	struct test *t;
	int id;
	int failed;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	for (unsigned i = 0; i < PER_WRITER; i++) {
		msgs[w->id][i] = (struct msg){ .writer = w->id, .seq = i };
		if (mailbox_post(w->t->mb, &msgs[w->id][i]) == -1)
			w->failed++;
	}
	return NULL;
}

static void
test_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct test *t = arg;

	event_base_loopbreak(t->base);
}

/* A loop with the mailbox on it, which gives up after WAIT_SECONDS. */
static void
loop_new(struct test *t, mailbox_fn *fn)
{
	struct timeval tv = { WAIT_SECONDS, 0 };
	char err[256];

	assert_non_null(t->base = event_base_new());
	assert_non_null(t->timer = evtimer_new(t->base, test_timeout, t));
	assert_int_equal(evtimer_add(t->timer, &tv), 0);
	if ((t->mb = mailbox_new(fn, t, err, sizeof err)) == NULL ||
	    mailbox_start(t->mb, t->base, err, sizeof err) == -1)
		fail_msg("mailbox: %s", err);
}

static void
loop_free(struct test *t)
{
	event_free(t->timer);
	mailbox_free(t->mb);
	event_base_free(t->base);
}

/* Two threads post while this one runs the loop. */
static void
test_threads_in_order(void **state)
{
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	struct test t = { 0 };

	loop_new(&t, test_received);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .t = &t, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	assert_int_equal(event_base_dispatch(t.base), 0);
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failed, 0);
	}
	if (t.bad)
		fail_msg("%s", t.why);
	assert_int_equal(t.total, WRITERS * PER_WRITER);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(t.got[i], PER_WRITER);
	assert_null(mailbox_take(t.mb));
	loop_free(&t);
}

struct blocked {
	struct mailbox *mb;
	void *msg;
	int returned; /* (atomic) */
	int r;
};

static void *
blocked_main(void *arg)
{
	struct blocked *b = arg;

	b->r = mailbox_post(b->mb, b->msg);
	__atomic_store_n(&b->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_full_received(void *msg, void *arg)
{
	struct test *t = arg;

	if (!t->bad && msg != &msgs[0][t->total]) {
		t->bad = 1;
		snprintf(t->why, sizeof t->why, "message %u: not the one posted in that place",
		    t->total);
	}
	if (++t->total == t->got[0])
		event_base_loopbreak(t->base);
}

/*
 * A full pipe: the writer waits, nothing is dropped.  The pipe is filled
 * to its size (a new pipe's, F_GETPIPE_SZ) before the loop runs; one
 * more post from another thread must not return until the loop reads.
 * (Its not returning is checked for 200 ms: a post that dropped or
 * failed would return at once.)  Then everything arrives, in order.
 */
static void
test_full_pipe_waits(void **state)
{
	struct test t = { 0 };
	struct blocked b = { 0 };
	unsigned fit;
	pthread_t th;
	int p[2], size;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	size = fcntl(p[0], F_GETPIPE_SZ);
	close(p[0]);
	close(p[1]);
	assert_true(size > 0);
	fit = (unsigned)size / sizeof(void *);
	assert_true(fit < PER_WRITER);
	t.got[0] = fit + 1; /* the messages to wait for */

	loop_new(&t, test_full_received);
	for (unsigned i = 0; i < fit; i++)
		assert_int_equal(mailbox_post(t.mb, &msgs[0][i]), 0);
	b = (struct blocked){ .mb = t.mb, .msg = &msgs[0][fit] };
	assert_int_equal(pthread_create(&th, NULL, blocked_main, &b), 0);
	for (int ms = 0; ms < 200; ms++) {
		assert_int_equal(__atomic_load_n(&b.returned, __ATOMIC_ACQUIRE), 0);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	assert_int_equal(event_base_dispatch(t.base), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(b.r, 0);
	if (t.bad)
		fail_msg("%s", t.why);
	assert_int_equal(t.total, fit + 1);
	loop_free(&t);
}

static void
test_never_called(void *msg, void *arg)
{
	fail_msg("a message handled with no loop running");
}

/* Teardown: what was posted once the loop was gone is taken in order. */
static void
test_take_leftovers(void **state)
{
	static int m[3];
	struct mailbox *mb;
	char err[256];

	if ((mb = mailbox_new(test_never_called, NULL, err, sizeof err)) == NULL)
		fail_msg("mailbox_new: %s", err);
	assert_null(mailbox_take(mb));
	for (int i = 0; i < 3; i++)
		assert_int_equal(mailbox_post(mb, &m[i]), 0);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(mailbox_take(mb), &m[i]);
	assert_null(mailbox_take(mb));
	mailbox_free(mb);
	assert_null(mailbox_take(NULL));
	mailbox_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_in_order),
		cmocka_unit_test(test_full_pipe_waits),
		cmocka_unit_test(test_take_leftovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
