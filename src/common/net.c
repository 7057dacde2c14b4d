/* SPDX-License-Identifier: ISC */
/*
 * net.c: address parsing and formatting, and the hand-made listening
 * socket: socket(), options, bind(), listen(), getsockname().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"

#define UNIX_PREFIX "unix:"

static int
net_addr_parse_unix(struct net_addr *a, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;
	size_t n = strlen(path);

	if (n == 0 || path[0] != '/') {
		snprintf(err, errlen, "unix socket path must be absolute: \"%s\"", path);
		return -1;
	}
	if (n >= sizeof sun->sun_path) {
		snprintf(err, errlen, "unix socket path longer than %zu bytes: \"%s\"",
		    sizeof sun->sun_path - 1, path);
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

/*
 * Parse a listen or connect address: "*", "0.0.0.0", "::", a numeric IPv4
 * or IPv6 address (brackets allowed) or "unix:/path"; the port applies to
 * the IP forms.  No name resolution: a daemon's addresses are numeric.
 */
int
net_addr_parse(struct net_addr *a, const char *host, int port, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n;

	memset(a, 0, sizeof *a);
	if (strncmp(host, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return net_addr_parse_unix(a, host + strlen(UNIX_PREFIX), err, errlen);
	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "port %d out of range 0-65535", port);
		return -1;
	}
	if (strcmp(host, "*") == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof *sin6;
		a->dual = 1;
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof *sin;
		return 0;
	}
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
	} else if (n < sizeof buf)
		memcpy(buf, host, n + 1);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof *sin6;
		return 0;
	}
	snprintf(
	    err, errlen, "\"%s\" is not a numeric IPv4 or IPv6 address, \"*\" or unix:/path", host);
	return -1;
}

/* "HOST:PORT", "[V6]:PORT" or "unix:/path", as given on a command line. */
int
net_addr_parse_hostport(struct net_addr *a, const char *s, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon;
	long port;

	if (strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return net_addr_parse(a, s, 0, err, errlen);
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0') {
		snprintf(err, errlen, "\"%s\" is not HOST:PORT, [IPV6]:PORT or unix:/path", s);
		return -1;
	}
	if ((size_t)(colon - s) >= sizeof host) {
		snprintf(err, errlen, "\"%s\": address too long", s);
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (strchr(host, ':') != NULL && host[0] != '[') {
		snprintf(err, errlen, "\"%s\": put an IPv6 address in brackets, [ADDR]:PORT", s);
		return -1;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535) {
		snprintf(err, errlen, "\"%s\": port \"%s\" is not a number from 0 to 65535", s,
		    colon + 1);
		return -1;
	}
	return net_addr_parse(a, host, (int)port, err, errlen);
}

int
net_addr_port(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return -1;
}

int
net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->ss.ss_family == b->ss.ss_family && a->len == b->len && a->dual == b->dual &&
	    memcmp(&a->ss, &b->ss, a->len) == 0;
}

static int
net_addr_is_any(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return 0;
}

/*
 * Would binding both addresses collide?  Same unix path; or the same port
 * with equal addresses, or with a wildcard covering the other address.
 * Port 0 never collides: the kernel picks distinct ports.
 */
int
net_addr_overlap(const struct net_addr *a, const struct net_addr *b)
{
	const struct sockaddr_un *ua, *ub;
	int pa = net_addr_port(a);

	if (a->ss.ss_family == AF_UNIX || b->ss.ss_family == AF_UNIX) {
		if (a->ss.ss_family != b->ss.ss_family)
			return 0;
		ua = (const struct sockaddr_un *)&a->ss;
		ub = (const struct sockaddr_un *)&b->ss;
		return strcmp(ua->sun_path, ub->sun_path) == 0;
	}
	if (pa == 0 || pa != net_addr_port(b))
		return 0;
	if (a->dual || b->dual)
		return 1;
	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	return net_addr_is_any(a) || net_addr_is_any(b) || net_addr_equal(a, b);
}

/* "127.0.0.1:7007", "[::1]:7007" or "unix:/path". */
const char *
net_addr_format(const struct sockaddr *sa, socklen_t salen, char *buf, size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	char host[INET6_ADDRSTRLEN];
	size_t plen;

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		plen = salen > offsetof(struct sockaddr_un, sun_path)
		    ? salen - offsetof(struct sockaddr_un, sun_path)
		    : 0;
		if (plen > sizeof sun->sun_path)
			plen = sizeof sun->sun_path;
		/* an unnamed peer (every client of a unix listener) has no path */
		if (plen == 0 || sun->sun_path[0] == '\0')
			snprintf(buf, size, "unix:");
		else
			snprintf(buf, size, "unix:%.*s", (int)strnlen(sun->sun_path, plen),
			    sun->sun_path);
		break;
	default:
		snprintf(buf, size, "(family %d)", sa->sa_family);
		break;
	}
	return buf;
}

const char *
net_addr_str(const struct net_addr *a, char *buf, size_t size)
{
	return net_addr_format((const struct sockaddr *)&a->ss, a->len, buf, size);
}

/* Close fd (if any) after a failure: errno stays the failure's. */
static int
net_drop(int fd)
{
	int saved = errno;

	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

static int
net_fail(int fd, char *err, size_t errlen, const char *call, const struct net_addr *a)
{
	char addr[NET_ADDRSTRLEN];
	int saved = errno;

	snprintf(
	    err, errlen, "%s %s: %s", call, net_addr_str(a, addr, sizeof addr), strerror(saved));
	errno = saved;
	return net_drop(fd);
}

/*
 * Set an int socket option: -1 on failure, with err naming the call, the
 * option (`what`, as it is spelt in C) and the socket's address, and
 * errno kept.
 */
int
net_setopt(int fd, int level, int name, int value, const char *what, const struct net_addr *a,
    char *err, size_t errlen)
{
	char addr[NET_ADDRSTRLEN];
	int saved;

	if (setsockopt(fd, level, name, &value, sizeof value) == 0)
		return 0;
	saved = errno;
	snprintf(err, errlen, "setsockopt %s %s: %s", what, net_addr_str(a, addr, sizeof addr),
	    strerror(saved));
	errno = saved;
	return -1;
}

/* A listening socket's options, before bind: net_listen's. */
static int
net_listen_setopts(int fd, int family, const struct net_addr *a, const struct net_listen_opts *o,
    char *err, size_t errlen)
{
	if (net_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", a, err, errlen) == -1 ||
	    (o->reuseport &&
		net_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", a, err, errlen) == -1))
		return -1;
	/* "::" and specific IPv6 addresses are IPv6 only; "*" takes both */
	if (family == AF_INET6 &&
	    net_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, a->dual ? 0 : 1, "IPV6_V6ONLY", a, err,
		errlen) == -1)
		return -1;
	/* accepted sockets inherit these on Linux: one call, not one per client */
	if ((o->keepalive &&
		net_setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", a, err, errlen) ==
		    -1) ||
	    (o->nodelay &&
		net_setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", a, err, errlen) == -1) ||
	    (o->defer_accept > 0 &&
		net_setopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, o->defer_accept, "TCP_DEFER_ACCEPT",
		    a, err, errlen) == -1))
		return -1;
	/* the listening socket's own: the queue of Fast Open SYNs not yet accepted */
	if (o->fastopen > 0 &&
	    net_setopt(
		fd, IPPROTO_TCP, TCP_FASTOPEN, o->fastopen, "TCP_FASTOPEN", a, err, errlen) == -1)
		return -1;
	/* before listen(): no SYN arrives unsaved */
	if (o->save_syn &&
	    net_setopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, 1, "TCP_SAVE_SYN", a, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * A unix socket file left by a process that died refuses connections:
 * remove it.  A live listener, or a file that is not a socket, stays and
 * bind() reports it.
 */
static void
net_unlink_stale(const struct net_addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	struct stat st;
	int fd;

	if (lstat(sun->sun_path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 && errno == ECONNREFUSED)
		unlink(sun->sun_path);
	close(fd);
}

/*
 * A non-blocking, close-on-exec socket of type for a's family: "*" on a
 * host without IPv6 falls back to IPv4's any address (a is changed).
 */
static int
net_socket(struct net_addr *a, int type)
{
	int fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1 && a->dual && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
		int port = net_addr_port(a);
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		memset(a, 0, sizeof *a);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof *sin;
		fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	return fd;
}

/* The address a socket is bound to, into a: the port the kernel chose for port 0. */
static int
net_bound(int fd, struct net_addr *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return net_fail(fd, err, errlen, "getsockname", a);
	memcpy(&a->ss, &ss, len);
	a->len = len;
	return fd;
}

/*
 * Make a listening socket by hand and return it, non-blocking and
 * close-on-exec.  The address is updated with what was bound, so a port 0
 * comes back as the port the kernel chose.
 */
int
net_listen(struct net_addr *a, const struct net_listen_opts *o, char *err, size_t errlen)
{
	int fd, family;

	if ((fd = net_socket(a, SOCK_STREAM)) == -1)
		return net_fail(fd, err, errlen, "socket", a);
	family = a->ss.ss_family;

	if (family != AF_UNIX) {
		if (net_listen_setopts(fd, family, a, o, err, errlen) == -1)
			return net_drop(fd);
	} else
		net_unlink_stale(a);

	if (bind(fd, (struct sockaddr *)&a->ss, a->len) == -1)
		return net_fail(fd, err, errlen, "bind", a);
	if (family != AF_UNIX && net_bound(fd, a, err, errlen) == -1)
		return -1;
	if (listen(fd, o->backlog) == -1) {
		int saved = errno;

		if (family == AF_UNIX)
			unlink(((struct sockaddr_un *)&a->ss)->sun_path);
		errno = saved;
		return net_fail(fd, err, errlen, "listen", a);
	}
	return fd;
}

/*
 * A UDP socket by hand, bound like net_listen's (no listen(): a datagram
 * socket has no queue of connections), with what the datagram loop reads
 * beside each datagram: its destination address (IP_PKTINFO, and
 * IPV6_RECVPKTINFO on IPv6, which a dual-stack socket needs for IPv4
 * peers too), so that a wildcard socket answers from the address the
 * client wrote to; and the kernel's count of datagrams dropped for a full
 * receive buffer (SO_RXQ_OVFL); o->rcvbuf sizes that buffer.  a gets the
 * real port, as net_listen's.  Of o only reuseport and rcvbuf apply.
 */
int
net_bind_datagram(struct net_addr *a, const struct net_listen_opts *o, char *err, size_t errlen)
{
	int fd;

	if ((fd = net_socket(a, SOCK_DGRAM)) == -1)
		return net_fail(fd, err, errlen, "socket", a);
	if ((o->reuseport &&
		net_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", a, err, errlen) ==
		    -1) ||
	    (a->ss.ss_family == AF_INET6 &&
		net_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, a->dual ? 0 : 1, "IPV6_V6ONLY", a, err,
		    errlen) == -1) ||
	    net_datagram_opts(fd, a, o->rcvbuf, err, errlen) == -1)
		return net_drop(fd);
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) == -1)
		return net_fail(fd, err, errlen, "bind", a);
	return net_bound(fd, a, err, errlen);
}

/*
 * The options a UDP socket on a (a->dual: dual-stack) needs, whether
 * synackd opened it or a service manager passed it bound: the kernel's
 * drop count with each read (SO_RXQ_OVFL) and each datagram's
 * destination, so that the answer leaves from it (IP_PKTINFO,
 * IPV6_RECVPKTINFO); and rcvbuf bytes of receive buffer unless 0 (a
 * passed socket then keeps the manager's ReceiveBuffer=).
 */
int
net_datagram_opts(int fd, const struct net_addr *a, int rcvbuf, char *err, size_t errlen)
{
	int family = a->ss.ss_family;

	if ((rcvbuf > 0 && net_rcvbuf(fd, a, rcvbuf, err, errlen) == -1) ||
	    net_setopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL", a, err, errlen) == -1 ||
	    (family == AF_INET6 &&
		net_setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO", a, err,
		    errlen) == -1))
		return -1;
	/* on a dual-stack socket IPv4 peers come with IP_PKTINFO too */
	if ((family == AF_INET || a->dual) &&
	    net_setopt(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO", a, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * Ask for a receive buffer of `bytes`.  SO_RCVBUF is capped by
 * net.core.rmem_max; SO_RCVBUFFORCE is not, and works with CAP_NET_ADMIN,
 * so it is tried first.  The kernel doubles the request for its own
 * bookkeeping: getsockopt(SO_RCVBUF) tells what was granted.
 */
int
net_rcvbuf(int fd, const struct net_addr *a, int bytes, char *err, size_t errlen)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0)
		return 0;
	return net_setopt(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF", a, err, errlen);
}

/* A sysctl of the network stack (path under /proc/sys/net), or -1 if it cannot be read. */
int
net_sysctl(const char *path)
{
	char full[128];
	FILE *f;
	int v = -1;

	snprintf(full, sizeof full, "/proc/sys/net/%s", path);
	if ((f = fopen(full, "re")) == NULL)
		return -1;
	/* NOLINTNEXTLINE(cert-err34-c): the kernel writes an int there */
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The kernel's cap on every listen() backlog, or -1 if it cannot be read. */
int
net_somaxconn(void)
{
	return net_sysctl("core/somaxconn");
}

/*
 * From now on a listening TCP socket drops every new connection at its
 * SYN (those clients retry in a second, and then find the port closed),
 * while segments with ACK set pass: handshakes under way complete, and
 * the children that inherit the filter keep their traffic.  This lets a
 * socket on its way out be drained before it is closed, where closing it
 * at once would reset what the kernel had queued.  The TCP header is at
 * offset 0.
 */
int
net_drop_syns(int fd, char *err, size_t errlen)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),           /* the flags */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 1, 0), /* ACK: keep */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 1, 0), /* SYN: drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == -1) {
		snprintf(err, errlen, "setsockopt SO_ATTACH_FILTER: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Take net_drop_syns()'s filter off again: for a socket another process
 * (the service manager) keeps open after this one closes it, so that it
 * still takes the connections that come later.
 */
void
net_allow_syns(int fd)
{
	int unused = 0;

	(void)setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
}
