/* SPDX-License-Identifier: ISC */
/*
 * proxy.h: the PROXY protocol header (versions 1 and 2) that a load
 * balancer sends before the client's own bytes, parsed without any state
 * of its own: the caller hands it everything received so far.
 */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX 107 /* the longest version 1 line, CRLF included */
#define PROXY_V2_HEAD 16 /* signature, version and command, family, length */
/*
 * A version 2 header's length field may say up to 65535, but what follows
 * the addresses is only TLVs (ALPN, authority, unique ID, CRC, padding):
 * more than this is refused, so that a connection in the header stage
 * holds at most PROXY_MAX bytes.
 */
#define PROXY_V2_MAX_PAYLOAD 2048
#define PROXY_MAX (PROXY_V2_HEAD + PROXY_V2_MAX_PAYLOAD)

enum proxy_status { PROXY_NEED_MORE, PROXY_DONE, PROXY_ERROR };

enum proxy_kind {
	PROXY_ADDRESSES, /* src and dst are the client's and the proxy's */
	PROXY_LOCAL,     /* v2 LOCAL: the proxy's own connection (a health check) */
	PROXY_UNKNOWN,   /* v1 UNKNOWN, or v2 with no TCP address: keep the peer */
};

struct proxy_result {
	size_t len; /* bytes of the header, once done */
	int version;
	enum proxy_kind kind;
	struct sockaddr_storage src, dst; /* with PROXY_ADDRESSES */
	const char *error;                /* why, with PROXY_ERROR */
};

enum proxy_status proxy_parse(const unsigned char *buf, size_t len, struct proxy_result *out);

#endif
