/* SPDX-License-Identifier: ISC */
/*
 * procfs.c: the host's TCP counters (/proc/net/netstat) and sysctls, and
 * this process's start time, CPU, memory and descriptors (/proc/self),
 * as the metrics show them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "procfs.h"

#define PROCFS_MAX 65536 /* bytes read of a /proc file: /proc/net/netstat is ~4 KiB */

/* Read a whole (small) /proc file into buf, NUL-terminated. */
static int
procfs_read(const char *path, char *buf, size_t size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, size - 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "read %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	return 0;
}

static long
procfs_sysctl(const char *path)
{
	char buf[64], err[128];

	if (procfs_read(path, buf, sizeof buf, err, sizeof err) == -1)
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * /proc/net/netstat comes in pairs of lines, "Group: name name ..." then
 * "Group: value value ...".  Finds name in group; -1 if it is not there.
 */
int
procfs_netstat_value(const char *text, const char *group, const char *name, uint64_t *v)
{
	size_t glen = strlen(group), nlen = strlen(name);
	const char *names = text, *values, *end;

	while (names != NULL && *names != '\0') {
		if ((values = strchr(names, '\n')) == NULL)
			return -1;
		values++;
		end = strchr(values, '\n');
		if (strncmp(names, group, glen) == 0 && names[glen] == ':' &&
		    strncmp(values, group, glen) == 0 && values[glen] == ':') {
			const char *np = names + glen + 1, *vp = values + glen + 1;

			for (;;) {
				size_t len;
				char *next;

				np += strspn(np, " ");
				vp += strspn(vp, " ");
				len = strcspn(np, " \n");
				if (len == 0 || (end != NULL && vp >= end))
					return -1;
				errno = 0;
				unsigned long long x = strtoull(vp, &next, 10);
				if (next == vp || errno != 0)
					return -1;
				if (len == nlen && strncmp(np, name, nlen) == 0) {
					*v = x;
					return 0;
				}
				np += len;
				vp = next;
			}
		}
		names = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

/* net.ipv4.tcp_fastopen of this network namespace (bit 0x2 serves it); -1 if unknown */
long
procfs_tcp_fastopen(void)
{
	return procfs_sysctl("/proc/sys/net/ipv4/tcp_fastopen");
}

int
procfs_host_tcp(struct host_tcp *h, char *err, size_t errlen)
{
	static __thread char buf[PROCFS_MAX];
	struct {
		const char *name;
		uint64_t *v;
	} keys[] = {
		{ "ListenOverflows", &h->listen_overflows },
		{ "ListenDrops", &h->listen_drops },
		{ "SyncookiesSent", &h->syncookies_sent },
		{ "TCPReqQFullDrop", &h->req_q_full_drop },
		{ "TCPFastOpenPassive", &h->fastopen_passive },
		{ "TCPFastOpenPassiveFail", &h->fastopen_passive_fail },
		{ "TCPFastOpenListenOverflow", &h->fastopen_listen_overflow },
		{ "TCPFastOpenCookieReqd", &h->fastopen_cookie_reqd },
	};

	memset(h, 0, sizeof *h);
	h->somaxconn = procfs_sysctl("/proc/sys/net/core/somaxconn");
	h->max_syn_backlog = procfs_sysctl("/proc/sys/net/ipv4/tcp_max_syn_backlog");
	h->syncookies = procfs_sysctl("/proc/sys/net/ipv4/tcp_syncookies");
	h->tcp_fastopen = procfs_tcp_fastopen();
	if (procfs_read("/proc/net/netstat", buf, sizeof buf, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (procfs_netstat_value(buf, "TcpExt", keys[i].name, keys[i].v) == -1) {
			snprintf(err, errlen, "/proc/net/netstat: no TcpExt %s", keys[i].name);
			return -1;
		}
	return 0;
}

/*
 * /proc/self/stat: "pid (comm) state ppid ...": the fields are counted
 * from after the last ')', since comm may hold spaces and parentheses.
 * utime and stime are fields 14 and 15, starttime 22, vsize 23 and rss
 * 24 (in pages).
 */
int
procfs_stat_parse(
    const char *text, long ticks_per_s, long page_size, uint64_t boot_time, struct proc_self *p)
{
	const char *s = strrchr(text, ')');
	unsigned long long f[25];
	char *next;

	/* ") S ": the state, field 3, one character between spaces */
	if (s == NULL || ticks_per_s <= 0 || s[1] != ' ' || s[2] == '\0')
		return -1;
	s += 3;
	for (int i = 4; i <= 24; i++) {
		errno = 0;
		f[i] = strtoull(s, &next, 10);
		if (next == s || errno != 0)
			return -1;
		s = next;
	}
	p->cpu_seconds = (double)(f[14] + f[15]) / (double)ticks_per_s;
	p->start_time = (double)boot_time + (double)f[22] / (double)ticks_per_s;
	p->virtual_bytes = f[23];
	p->resident_bytes = f[24] * (uint64_t)page_size;
	return 0;
}

static long
procfs_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	/* one thread reads this directory stream: readdir_r is deprecated for that */
	// cppcheck-suppress readdirCalled
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* not the directory's own descriptor */
}

/* The boot time, in seconds since the epoch: "btime" in /proc/stat. */
static uint64_t
procfs_boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	uint64_t boot = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "btime ", 6) == 0) {
			boot = strtoull(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return boot;
}

int
procfs_self(struct proc_self *p, char *err, size_t errlen)
{
	static uint64_t boot;
	char buf[1024];
	struct rlimit rl;

	memset(p, 0, sizeof *p);
	if (boot == 0)
		boot = procfs_boot_time();
	if (procfs_read("/proc/self/stat", buf, sizeof buf, err, errlen) == -1)
		return -1;
	if (procfs_stat_parse(buf, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot, p) == -1) {
		snprintf(err, errlen, "/proc/self/stat: cannot parse it");
		return -1;
	}
	p->open_fds = procfs_count_fds();
	p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    ? (long)rl.rlim_cur
	    : -1;
	return 0;
}
