/* SPDX-License-Identifier: ISC */
/*
 * mailbox.c: a pipe that carries pointers from any thread to one event
 * loop.  A pointer is shorter than PIPE_BUF, so writers never interleave
 * and a read returns whole pointers, in the order they were written.
 *
 * The pipe is made before the loop it is watched on (mailbox_new, then
 * mailbox_start): its address can be handed to those who will post to
 * it before the loop exists, as the daemon does before it detaches.
 * Posting blocks while the pipe is full: a message is never dropped, and
 * the writer waits for the loop to catch up.  Once the loop has ended,
 * mailbox_take() empties the pipe, so that the owner can free what was
 * posted too late to be handled.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mailbox.h"

#define MAILBOX_BATCH 64 /* pointers taken by one read */

struct mailbox {
	int fd[2];
	struct event *ev;
	mailbox_fn *fn;
	void *arg;
};

struct mailbox *
mailbox_new(mailbox_fn *fn, void *arg, char *err, size_t errlen)
{
	struct mailbox *mb;

	if ((mb = calloc(1, sizeof *mb)) == NULL) {
		snprintf(err, errlen, "mailbox: out of memory");
		return NULL;
	}
	if (pipe2(mb->fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe2: %s", strerror(errno));
		free(mb);
		return NULL;
	}
	mb->fn = fn;
	mb->arg = arg;
	return mb;
}

static void
mailbox_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	void *msgs[MAILBOX_BATCH];
	ssize_t n = read(fd, msgs, sizeof msgs);

	for (ssize_t i = 0; i < n / (ssize_t)sizeof msgs[0]; i++)
		mb->fn(msgs[i], mb->arg);
}

/* Watch it on base: from now on, its loop handles what arrives. */
int
mailbox_start(struct mailbox *mb, struct event_base *base, char *err, size_t errlen)
{
	mb->ev = event_new(base, mb->fd[0], EV_READ | EV_PERSIST, mailbox_read_cb, mb);
	if (mb->ev == NULL || event_add(mb->ev, NULL) == -1) {
		snprintf(err, errlen, "event_add: cannot watch the mailbox's pipe");
		return -1;
	}
	return 0;
}

/*
 * From any thread.  -1 only when the pipe is broken (errno says why):
 * the message was not posted, and is still the caller's.
 */
int
mailbox_post(struct mailbox *mb, void *msg)
{
	ssize_t n;

	do
		n = write(mb->fd[1], &msg, sizeof msg);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof msg ? 0 : -1;
}

/*
 * The next message left in the pipe, or NULL when there is none: for
 * the owner's teardown, after its loop is gone.  Never waits.
 */
void *
mailbox_take(struct mailbox *mb)
{
	void *msg;

	if (mb == NULL)
		return NULL;
	fcntl(mb->fd[0], F_SETFL, O_NONBLOCK);
	if (read(mb->fd[0], &msg, sizeof msg) != (ssize_t)sizeof msg)
		return NULL;
	return msg;
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	if (mb->ev != NULL)
		event_free(mb->ev);
	close(mb->fd[0]);
	close(mb->fd[1]);
	free(mb);
}
