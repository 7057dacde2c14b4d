/* SPDX-License-Identifier: ISC */
/*
 * timewait.c: with --close fin the client closes first, and each closed
 * connection leaves a TIME_WAIT socket on this host for a minute, holding
 * its (source address, port, destination) tuple.  A few thousand
 * connections a second use up the ephemeral ports of one source address
 * within seconds, and connect() then fails with EADDRNOTAVAIL.  The main
 * thread reads the kernel's count at the start and every second, and says
 * so once, before that happens.
 *
 * The counts are the network namespace's (every socket, not just ours):
 * "tw" in /proc/net/sockstat, the range in
 * /proc/sys/net/ipv4/ip_local_port_range.  The parsers are pure functions
 * of the files' text, as in procfs.c.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define SOCKSTAT_PATH "/proc/net/sockstat"
#define PORT_RANGE_PATH "/proc/sys/net/ipv4/ip_local_port_range"

/* "TCP: inuse 5 orphan 0 tw 273 alloc 12 mem 2904": the tw count. */
int
timewait_parse_sockstat(const char *text, uint64_t *tw)
{
	const char *line = text, *p;
	char *end;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, "TCP: ", 5) == 0) {
			for (p = line + 5; *p != '\0' && *p != '\n'; p++) {
				if (strncmp(p, " tw ", 4) != 0)
					continue;
				*tw = strtoull(p + 4, &end, 10);
				return end == p + 4 ? -1 : 0;
			}
			return -1;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return -1;
}

/* "32768\t60999\n": the number of ports in the range. */
int
timewait_parse_port_range(const char *text, uint64_t *ports)
{
	unsigned long lo, hi;
	char *end;

	errno = 0;
	lo = strtoul(text, &end, 10);
	if (end == text || (*end != ' ' && *end != '\t'))
		return -1;
	text = end;
	hi = strtoul(text, &end, 10);
	if (end == text || errno != 0 || hi < lo || hi > 65535)
		return -1;
	*ports = hi - lo + 1;
	return 0;
}

/*
 * Whether tw TIME_WAIT sockets are too many for `ports` ephemeral ports on
 * each of `sources` source addresses: more than 80% of them.
 */
int
timewait_too_many(uint64_t tw, uint64_t ports, size_t sources)
{
	uint64_t cap = ports * (sources > 0 ? sources : 1);

	return cap > 0 && tw * 5 > cap * 4;
}

static int
read_small_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/*
 * With --close fin: look at the host's TIME_WAIT sockets, and once a run,
 * when they approach the ports there are, say so in msg and return 1.
 */
int
timewait_check(struct run *r, char *msg, size_t size)
{
	char text[4096];
	uint64_t tw, ports;
	size_t sources = r->opt.srcaddrs.n;

	if (r->opt.close != CLOSE_FIN || r->tw_warned || r->opt.target.ss.ss_family == AF_UNIX)
		return 0;
	if (read_small_file(SOCKSTAT_PATH, text, sizeof text) == -1 ||
	    timewait_parse_sockstat(text, &tw) == -1 ||
	    read_small_file(PORT_RANGE_PATH, text, sizeof text) == -1 ||
	    timewait_parse_port_range(text, &ports) == -1)
		return 0; /* no /proc: nothing to say */
	if (!timewait_too_many(tw, ports, sources))
		return 0;
	r->tw_warned = 1;
	snprintf(msg, size,
	    "TIME_WAIT sockets: %" PRIu64 " of %" PRIu64 " ephemeral ports%s: connections "
	    "will soon fail with addrnotavail; use --close rst or more source addresses (-b)",
	    tw, ports * (sources > 1 ? sources : 1), sources > 1 ? " (all source addresses)" : "");
	return 1;
}
