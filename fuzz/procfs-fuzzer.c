/* SPDX-License-Identifier: ISC */
/*
 * procfs-fuzzer.c: procfs_netstat_value() and procfs_stat_parse(), the
 * parsers of /proc/net/netstat and /proc/self/stat.
 *
 * The first byte picks what the rest is.  Raw, it is the file's text,
 * copied into a buffer of exactly its size so that AddressSanitizer
 * catches a read past the end; whatever the parsers make of it must be
 * consistent with the text.  Built, it describes a file that is written
 * here the way the kernel writes it (groups of names with their values; a
 * stat line with a comm of any bytes), and every value must come back
 * exactly; with the text then cut short anywhere, the parsers must only
 * not misbehave.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

#define GROUPS_MAX 4
#define NAMES_MAX 12
#define TEXT_MAX 4096

/* What the input says, byte by byte; zeros once it runs out. */
struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t
take8(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t
take64(struct input *in)
{
	uint64_t v = 0;
	uint8_t len = take8(in) % 9; /* small numbers too, and 0 */

	for (uint8_t i = 0; i < len; i++)
		v = v << 8 | take8(in);
	return v;
}

/* A NUL-terminated copy of exactly len + 1 bytes. */
static char *
text_copy(const char *s, size_t len)
{
	char *t = malloc(len + 1);

	if (t == NULL)
		abort();
	memcpy(t, s, len);
	t[len] = '\0';
	return t;
}

static void
check_lookup(const char *text, const char *group, const char *name)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;
	int r = procfs_netstat_value(text, group, name, &v);
	char g[64];

	FUZZ_CHECK(r == 0 || r == -1, "returned %d", r);
	if (r == -1) {
		FUZZ_CHECK(v == 0x5a5a5a5a5a5a5a5aULL, "failed but wrote %" PRIu64, v);
		return;
	}
	/* found: the group's lines and the name are in the text */
	snprintf(g, sizeof g, "%s:", group);
	FUZZ_CHECK(strstr(text, g) != NULL, "%s %s found without \"%s\"", group, name, g);
	FUZZ_CHECK(name[0] != '\0' && strstr(text, name) != NULL, "%s %s found without the name",
	    group, name);
}

static void
raw_netstat(const char *text)
{
	static const char *const pairs[][2] = {
		{ "TcpExt", "ListenOverflows" },
		{ "TcpExt", "ListenDrops" },
		{ "TcpExt", "SyncookiesSent" },
		{ "TcpExt", "TCPReqQFullDrop" },
		{ "IpExt", "InOctets" },
		{ "TcpExt", "" },
		{ "", "ListenDrops" },
	};
	char group[32], name[32];
	const char *colon, *sp;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		check_lookup(text, pairs[i][0], pairs[i][1]);
	/* and the text's own first group and name, whatever they are */
	colon = strchr(text, ':');
	if (colon == NULL || (size_t)(colon - text) >= sizeof group)
		return;
	memcpy(group, text, (size_t)(colon - text));
	group[colon - text] = '\0';
	sp = colon + 1 + strspn(colon + 1, " ");
	snprintf(name, sizeof name, "%.*s", (int)strcspn(sp, " \n"), sp);
	check_lookup(text, group, name);
}

/* /proc/net/netstat as the kernel writes it, from the input; every name must be found. */
static void
built_netstat(struct input *in)
{
	static const char *const group_names[] = { "TcpExt", "IpExt", "TcpExtX", "MPTcpExt", "Tcp",
		"Ext" };
	char text[TEXT_MAX], names[GROUPS_MAX][NAMES_MAX][16];
	uint64_t values[GROUPS_MAX][NAMES_MAX];
	int ngroups = take8(in) % GROUPS_MAX + 1, nnames[GROUPS_MAX];
	const char *groups[GROUPS_MAX];
	size_t len = 0, cut;
	char *copy;

	for (int g = 0; g < ngroups; g++) {
		/* distinct groups: the kernel never repeats one */
		groups[g] = group_names[take8(in) % (sizeof group_names / sizeof *group_names)];
		for (int h = 0; h < g; h++)
			if (strcmp(groups[h], groups[g]) == 0)
				return;
		nnames[g] = take8(in) % NAMES_MAX + 1;
		for (int i = 0; i < nnames[g]; i++) {
			/*
			 * few names, so that they repeat: in other groups, where
			 * they are others; in the same, where the first counts
			 */
			snprintf(names[g][i], sizeof names[g][i], "N%u", (unsigned)(take8(in) % 8));
			values[g][i] = take64(in);
		}
		len += (size_t)snprintf(text + len, sizeof text - len, "%s:", groups[g]);
		for (int i = 0; i < nnames[g]; i++)
			len += (size_t)snprintf(text + len, sizeof text - len, " %s", names[g][i]);
		len += (size_t)snprintf(text + len, sizeof text - len, "\n%s:", groups[g]);
		for (int i = 0; i < nnames[g]; i++)
			len += (size_t)snprintf(
			    text + len, sizeof text - len, " %" PRIu64, values[g][i]);
		len += (size_t)snprintf(text + len, sizeof text - len, "\n");
		FUZZ_CHECK(len < sizeof text, "text too long: %zu", len);
	}

	copy = text_copy(text, len);
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < nnames[g]; i++) {
			uint64_t v = 0, want = values[g][i];

			/* a name twice in a group: its first value */
			for (int j = 0; j < i; j++)
				if (strcmp(names[g][j], names[g][i]) == 0) {
					want = values[g][j];
					break;
				}
			FUZZ_CHECK(procfs_netstat_value(copy, groups[g], names[g][i], &v) == 0,
			    "%s %s not found in:\n%s", groups[g], names[g][i], copy);
			FUZZ_CHECK(v == want, "%s %s: %" PRIu64 ", want %" PRIu64 " in:\n%s",
			    groups[g], names[g][i], v, want, copy);
		}
	/* a name of no group, and a group that is not there */
	check_lookup(copy, groups[0], "Zz");
	check_lookup(copy, "Nowhere", names[0][0]);
	free(copy);

	/* cut short anywhere: no crash, no read past the end */
	cut = len > 0 ? take8(in) * len / 256 : 0;
	copy = text_copy(text, cut);
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < nnames[g]; i++)
			check_lookup(copy, groups[g], names[g][i]);
	free(copy);
}

static void
raw_stat(const char *text, long ticks)
{
	struct proc_self p;
	int r;

	memset(&p, 0, sizeof p);
	r = procfs_stat_parse(text, ticks, 4096, 1700000000, &p);
	FUZZ_CHECK(r == 0 || r == -1, "returned %d", r);
	if (r == 0) {
		FUZZ_CHECK(ticks > 0, "parsed with %ld ticks per second", ticks);
		FUZZ_CHECK(strchr(text, ')') != NULL, "parsed without a ')'");
		FUZZ_CHECK(p.cpu_seconds >= 0, "cpu_seconds %f", p.cpu_seconds);
	}
}

/* "PID (COMM) S f4 ... f24 [more]" with any comm: the fields must come back. */
static void
built_stat(struct input *in)
{
	static const char states[] = "RSDZTtXIWP";
	char text[TEXT_MAX], comm[64];
	unsigned long long f[25];
	size_t len, commlen = take8(in) % sizeof comm, cut;
	long ticks = take8(in) % 250 + 1, page = 1L << (take8(in) % 17);
	struct proc_self p;
	char *copy;

	for (size_t i = 0; i < commlen; i++) {
		comm[i] = (char)take8(in);
		if (comm[i] == '\0')
			comm[i] = ')';
	}
	comm[commlen] = '\0';
	len = (size_t)snprintf(text, sizeof text, "%u (%s) %c", (unsigned)take8(in), comm,
	    states[take8(in) % (sizeof states - 1)]);
	for (int i = 4; i <= 24; i++) {
		f[i] = take64(in);
		/* tpgid and nice as a daemon has them: signed */
		if ((i == 8 || i == 19) && (take8(in) & 1))
			len += (size_t)snprintf(
			    text + len, sizeof text - len, " -%llu", f[i] % 1000 + 1);
		else
			len += (size_t)snprintf(text + len, sizeof text - len, " %llu", f[i]);
	}
	for (int i = 25, more = take8(in) % 30; i < 25 + more; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, " %u", (unsigned)take8(in));
	len += (size_t)snprintf(text + len, sizeof text - len, "\n");
	FUZZ_CHECK(len < sizeof text, "text too long: %zu", len);

	copy = text_copy(text, len);
	memset(&p, 0, sizeof p);
	FUZZ_CHECK(procfs_stat_parse(copy, ticks, page, 1700000000, &p) == 0, "refused:\n%s", copy);
	FUZZ_CHECK(p.cpu_seconds == (double)(f[14] + f[15]) / (double)ticks, "cpu_seconds %f",
	    p.cpu_seconds);
	FUZZ_CHECK(p.start_time == (double)1700000000 + (double)f[22] / (double)ticks,
	    "start_time %f", p.start_time);
	FUZZ_CHECK(p.virtual_bytes == f[23], "virtual_bytes %" PRIu64, p.virtual_bytes);
	FUZZ_CHECK(p.resident_bytes == f[24] * (uint64_t)page, "resident_bytes %" PRIu64,
	    p.resident_bytes);
	free(copy);

	cut = take8(in) * len / 256;
	copy = text_copy(text, cut);
	raw_stat(copy, ticks);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data + 1, size > 0 ? size - 1 : 0 };
	char *text;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		text = text_copy((const char *)in.p, in.n);
		raw_netstat(text);
		free(text);
		break;
	case 1:
		built_netstat(&in);
		break;
	case 2:
		if (in.n < 1)
			return 0;
		text = text_copy((const char *)in.p + 1, in.n - 1);
		raw_stat(text, (long)(in.p[0] % 4)); /* 0 ticks per second: refused */
		free(text);
		break;
	default:
		built_stat(&in);
		break;
	}
	return 0;
}
