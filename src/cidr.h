/* SPDX-License-Identifier: ISC */
/*
 * cidr.h: lists of IPv4 and IPv6 networks (ADDR[/PREFIX], ...), parsed
 * from text and matched against a peer's address: who may send a PROXY
 * header (proxy_from).  Pure functions, no state.
 */
#ifndef SYNACK_CIDR_H
#define SYNACK_CIDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t bits;     /* the prefix length: 0 to 32, or 0 to 128 */
	uint8_t addr[16]; /* IPv4: the first 4; no bit set past the prefix */
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

/* the longest IPv6 text, "/128" and a NUL */
#define CIDR_STRLEN (INET6_ADDRSTRLEN + 4)

int cidr_list_parse(struct cidr_list *, const char *s, char *err, size_t errlen);
int cidr_list_match(const struct cidr_list *, const struct sockaddr *);
int cidr_list_copy(struct cidr_list *dst, const struct cidr_list *src);
void cidr_list_free(struct cidr_list *);
const char *cidr_format(const struct cidr *, char *buf, size_t size);

#endif
