/* SPDX-License-Identifier: ISC */
/*
 * procfs.h: what /proc says of the host's TCP and of this process.  The
 * parsers are pure functions of the file's text; the readers do the I/O.
 */
#ifndef SYNACK_PROCFS_H
#define SYNACK_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* TcpExt counters of this network namespace, and the sysctls that bound the queues */
struct host_tcp {
	uint64_t listen_overflows;      /* a completed handshake found the accept queue full */
	uint64_t listen_drops;          /* any drop at a listener, overflows included */
	uint64_t syncookies_sent;       /* SYN queue full: answered with a cookie */
	uint64_t req_q_full_drop;       /* SYN queue full, no cookies: the SYN dropped */
	uint64_t fastopen_passive;      /* TCP Fast Open: SYNs with data accepted */
	uint64_t fastopen_passive_fail; /* ... a Fast Open connection that failed */
	uint64_t
	    fastopen_listen_overflow;  /* ... the listener's TFO queue full: a plain handshake */
	uint64_t fastopen_cookie_reqd; /* ... SYNs that asked for a cookie */
	long somaxconn;                /* net.core.somaxconn, -1 if unknown */
	long max_syn_backlog;          /* net.ipv4.tcp_max_syn_backlog, -1 if unknown */
	long syncookies;               /* net.ipv4.tcp_syncookies, -1 if unknown */
	long tcp_fastopen;             /* net.ipv4.tcp_fastopen, -1 if unknown */
};

struct proc_self {
	double start_time;  /* seconds since the epoch */
	double cpu_seconds; /* user and system */
	uint64_t resident_bytes;
	uint64_t virtual_bytes;
	long open_fds;
	long max_fds;
};

int procfs_netstat_value(const char *text, const char *group, const char *name, uint64_t *v);
int procfs_stat_parse(
    const char *text, long ticks_per_s, long page_size, uint64_t boot_time, struct proc_self *);
int procfs_host_tcp(struct host_tcp *, char *err, size_t errlen);
long procfs_tcp_fastopen(void);
int procfs_self(struct proc_self *, char *err, size_t errlen);

#endif
