/*
 * test-mailbox.c: the pipe mailbox between threads: messages from other
 * threads arrive on the loop's thread in the order each thread posted
 * them, none lost; a full pipe makes the writer wait rather than drop;
 * what is left when the loop is gone is taken in order.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "mailbox.h"

/*
 * More pointers than a pipe holds (64 KiB by default, 8192 pointers; at
 * most 1 MiB unless an administrator raised /proc/sys/fs/pipe-max-size):
 * the writers must wait for the reader at least once.
 */
#define WRITERS 2
#define PER_WRITER 150000

struct msg {
	int writer;
	unsigned seq;
};

static struct msg msgs[WRITERS][PER_WRITER];

struct test {
	struct event_base *base;
	struct mailbox *mb;
	unsigned got[WRITERS]; /* the next seq expected from each writer */
	unsigned total;
	int writers_done;  /* (atomic) */
	int done_at_first; /* writers_done when the first message arrived */
	int bad;           /* a message out of order: its details in why */
	char why[128];
};

static void
test_received(void *msg, void *arg)
{
	struct test *t = arg;
	struct msg *m = msg;

	if (t->total == 0)
		t->done_at_first = __atomic_load_n(&t->writers_done, __ATOMIC_ACQUIRE);
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
	__atomic_add_fetch(&w->t->writers_done, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

/*
 * Two threads post while this one runs the loop, which only starts after
 * them: each writer fills the pipe and waits until the loop reads.
 */
static void
test_threads_in_order(void **state)
{
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	struct test t = { 0 };
	char err[256];

	assert_non_null(t.base = event_base_new());
	if ((t.mb = mailbox_new(test_received, &t, err, sizeof err)) == NULL ||
	    mailbox_start(t.mb, t.base, err, sizeof err) == -1)
		fail_msg("mailbox: %s", err);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .t = &t, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	assert_int_equal(event_base_dispatch(t.base), 0);
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failed, 0);
		assert_int_equal(t.got[i], PER_WRITER);
	}
	if (t.bad)
		fail_msg("%s", t.why);
	assert_int_equal(t.total, WRITERS * PER_WRITER);
	/* no writer could have posted everything before the loop read */
	assert_int_equal(t.done_at_first, 0);
	assert_null(mailbox_take(t.mb));
	mailbox_free(t.mb);
	event_base_free(t.base);
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
		cmocka_unit_test(test_take_leftovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
