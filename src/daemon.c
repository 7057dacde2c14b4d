/* SPDX-License-Identifier: ISC */
/*
 * daemon.c: becoming a daemon.  Detaching, the pidfile, dropping
 * privileges and the descriptor budget; no daemon state beyond what each
 * call returns.
 *
 * Detaching happens after the configuration was read and every listener
 * bound, so start-up errors still reach the terminal and the exit code,
 * and the parent exits only once the daemon says it is ready (or why it
 * is not) over a pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "nofile.h"

#define DAEMON_EXIT_WAIT_MS 10000

static void
daemon_wait_eof(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[16];

	while (poll(&pfd, 1, DAEMON_EXIT_WAIT_MS) > 0 && read(fd, buf, sizeof buf) > 0)
		;
}

/*
 * Fork twice and start a new session.  Returns in the daemon with the
 * write end of the readiness pipe; the original process waits there for
 * the daemon's exit code (0: ready) and exits with it.
 */
int
daemon_detach(char *err, size_t errlen)
{
	int pipefd[2], status;
	unsigned char code;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid > 0) {
		close(pipefd[1]);
		do
			n = read(pipefd[0], &code, 1);
		while (n == -1 && errno == EINTR);
		waitpid(pid, &status, 0);
		/*
		 * A failed daemon keeps its end open until it has exited, so
		 * the command returns only when nothing of it is left.
		 */
		if (n == 1 && code != 0)
			daemon_wait_eof(pipefd[0]);
		/* no word from the daemon: it died before it was ready */
		_exit(n == 1 ? code : EXIT_OSERR);
	}
	close(pipefd[0]);
	if (setsid() == -1) {
		snprintf(err, errlen, "setsid: %s", strerror(errno));
		return daemon_fail(pipefd[1], EXIT_OSERR);
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return daemon_fail(pipefd[1], EXIT_OSERR);
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return daemon_fail(pipefd[1], EXIT_OSERR);
	}
	return pipefd[1];
}

/*
 * Tell the waiting parent why the start failed; returns -1.  The pipe
 * stays open: its end of file, when this process is gone, releases the
 * parent.
 */
int
daemon_fail(int fd, int code)
{
	unsigned char c = (unsigned char)code;

	if (fd != -1 && write(fd, &c, 1) == -1) {
		/* the parent is gone; nobody is left to tell */
	}
	return -1;
}

/* The daemon is serving: release the parent, let go of the terminal. */
void
daemon_ready(int fd)
{
	unsigned char c = 0;
	int null;

	if (fd == -1)
		return;
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, &c, 1) == -1) {
		/* the parent is gone; the daemon runs on */
	}
	close(fd);
}

/*
 * Open and lock the pidfile.  The lock (flock, so it survives the fork
 * of detaching) is held for the life of the process: a second instance
 * with the same pidfile fails here, before it binds anything.
 */
int
pidfile_open(const char *path, char *err, size_t errlen)
{
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (saved == EWOULDBLOCK)
			snprintf(err, errlen,
			    "pidfile %s: locked by process %s: is synackd already running?", path,
			    buf[0] != '\0' ? buf : "(unknown)");
		else
			snprintf(err, errlen, "pidfile %s: flock: %s", path, strerror(saved));
		close(fd);
		return -1;
	}
	return fd;
}

int
pidfile_write(int fd, const char *path, char *err, size_t errlen)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "pidfile %s: write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove before unlocking, so no other instance sees our stale pid. */
void
pidfile_close(int fd, const char *path)
{
	if (fd == -1)
		return;
	unlink(path);
	close(fd);
}

/*
 * Become user (and group, or the user's primary group).  Run after every
 * privileged step: binding ports below 1024, opening the pidfile and the
 * log.
 */
int
privileges_drop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(
		    err, errlen, "user %s: %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	gid = pw->pw_gid;
	if (group != NULL && group[0] != '\0') {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "group %s: %s", group,
			    errno ? strerror(errno) : "no such group");
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid && getgid() == gid)
		return 0;
	if (setgroups(1, &gid) == -1) {
		snprintf(err, errlen, "setgroups %s: %s", user, strerror(errno));
		return -1;
	}
	if (setresgid(gid, gid, gid) == -1) {
		snprintf(err, errlen, "setresgid %ld: %s", (long)gid, strerror(errno));
		return -1;
	}
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "setresuid %s: %s", user, strerror(errno));
		return -1;
	}
	/* paranoia: root must be gone for good */
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "setuid %s: could regain root after dropping it", user);
		return -1;
	}
	return 0;
}

/*
 * Make room for `need` descriptors (nofile_raise).  Returns 0 when the
 * limit was already enough, 1 when it was raised and 2 when even the hard
 * limit is too low, with msg saying so for the log; -1 when the limit
 * cannot be read or set, msg naming the call.  With apply 0 (synackd -t)
 * nothing is changed and the answer is what a start would find.
 */
int
nofile_fit(long need, const char *why, int apply, char *msg, size_t msglen)
{
	struct nofile nf;

	switch (nofile_raise((rlim_t)need, apply, &nf, msg, msglen)) {
	case NOFILE_RAISED:
		snprintf(msg, msglen, "open-file limit %s from %llu to %llu for %s",
		    apply ? "raised" : "to be raised", (unsigned long long)nf.soft,
		    (unsigned long long)nf.fit, why);
		return 1;
	case NOFILE_SHORT:
		snprintf(msg, msglen,
		    "%s need %ld open files, but the limit is %llu (hard limit %llu): raise "
		    "the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn) or lower "
		    "max_clients; until then, clients beyond the limit wait in the backlog",
		    why, need, (unsigned long long)nf.fit, (unsigned long long)nf.hard);
		return 2;
	case NOFILE_ENOUGH:
		return 0;
	default:
		return -1;
	}
}
