/* SPDX-License-Identifier: ISC */
/*
 * sources.h: sources.c's interface: clients counted per source address
 * (an IPv4 address or an IPv6 /64), for max_clients_per_source.
 */
#ifndef SYNACK_SOURCES_H
#define SYNACK_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct source_key {
	uint8_t family; /* AF_INET: addr[0..3]; AF_INET6: addr[0..7], the /64 */
	uint8_t addr[8];
};
struct sources;

int source_key(const struct sockaddr *, struct source_key *);
const char *source_key_str(const struct source_key *, char *buf, size_t size);
struct sources *sources_new(void);
void sources_free(struct sources *);
unsigned sources_count(const struct sources *, const struct source_key *);
int sources_add(struct sources *, const struct source_key *);
void sources_remove(struct sources *, const struct source_key *);
size_t sources_size(const struct sources *);

#endif
