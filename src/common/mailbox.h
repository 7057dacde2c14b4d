/* SPDX-License-Identifier: ISC */
/*
 * mailbox.h: one thread's inbox, posted to from any thread.  A message
 * is a pointer (never NULL) to whatever the owner's message type is: the
 * mailbox never looks inside it, and its owner frees it (or not) when
 * handled.
 */
#ifndef SYNACK_MAILBOX_H
#define SYNACK_MAILBOX_H

#include <stddef.h>

struct event_base;
struct mailbox;

/* Called on the loop's thread for each message, in the order posted. */
typedef void mailbox_fn(void *msg, void *arg);

struct mailbox *mailbox_new(mailbox_fn *fn, void *arg, char *err, size_t errlen);
int mailbox_start(struct mailbox *, struct event_base *, char *err, size_t errlen);
int mailbox_post(struct mailbox *, void *msg);
void *mailbox_take(struct mailbox *);
void mailbox_free(struct mailbox *);

#endif
