/* SPDX-License-Identifier: ISC */
/*
 * synackd.c: main.  Options, configuration, listeners, run, shut down.
 *
 * The order matters: everything that can fail for a reason the operator
 * must see (a bad option, a bad file, a port in use) happens while stderr
 * is still the terminal, before the log moves elsewhere.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activation.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "synackd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: synackd [-c FILE] [-d] [-t] [-h] [-V]\n"
	    "  -c, --config FILE  configuration file (default: %s)\n"
	    "  -d, --daemon       detach from the terminal (also: daemon = yes)\n"
	    "  -t, --test         check the configuration and exit\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n",
	    SYNACKD_CONFIG);
}

/* path made absolute against the current directory, symlinks left as they are */
static char *
absolute_path(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return strdup(path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) == -1)
		abs = NULL;
	free(cwd);
	return abs;
}

/*
 * Start in the order that keeps errors visible and leaves nothing behind:
 * pidfile lock (a second instance stops here), bind every listener,
 * detach, log, drop privileges, pid, event loop, "ready".
 */
static int
start(struct config *conf, struct activation *act, int detach)
{
	char err[ERRLEN], *pidpath = NULL;
	int pidfd = -1, ready = -1, rc = EXIT_OSERR;
	struct server *s = NULL;

	if (conf->pidfile[0] != '\0') {
		if ((pidpath = strdup(conf->pidfile)) == NULL) {
			fprintf(stderr, "synackd: out of memory\n");
			config_free(conf);
			activation_finish(act);
			return EXIT_OSERR;
		}
		if ((pidfd = pidfile_open(pidpath, err, sizeof err)) == -1) {
			fprintf(stderr, "synackd: %s\n", err);
			free(pidpath);
			config_free(conf);
			activation_finish(act);
			return EXIT_OSERR;
		}
	}
	server_fit_descriptors(conf);
	if ((s = server_new(conf, act, err, sizeof err)) == NULL) {
		fprintf(stderr, "synackd: %s\n", err);
		config_free(conf);
		goto out;
	}
	if (detach && (ready = daemon_detach(err, sizeof err)) == -1) {
		fprintf(stderr, "synackd: %s\n", err);
		goto out;
	}
	if (log_open(conf->log, "synackd", err, sizeof err) == -1) {
		fprintf(stderr, "synackd: log: %s\n", err);
		goto out;
	}
	if (conf->user[0] != '\0' &&
	    privileges_drop(conf->user, conf->group, err, sizeof err) == -1)
		goto fail;
	/* the pid is known once detached; written before anything is announced */
	if (pidfd != -1 && pidfile_write(pidfd, pidpath, err, sizeof err) == -1)
		goto fail;
	if (server_start(s, err, sizeof err) == -1)
		goto fail;
	daemon_ready(ready);
	/* detached, stderr is /dev/null now: syslog is the one place left */
	if (ready != -1 && strcmp(conf->log, "stderr") == 0)
		log_open("syslog", "synackd", err, sizeof err);
	ready = -1;
	rc = server_run(s) == 0 ? 0 : EXIT_OSERR;
	goto out;
fail:
	log_error("%s", err);
	if (strcmp(conf->log, "stderr") != 0)
		fprintf(stderr, "synackd: %s\n", err);
out:
	server_free(s);
	log_close();
	pidfile_close(pidfd, pidpath);
	free(pidpath);
	/* only now: the waiting parent must find nothing of a failed start */
	daemon_fail(ready, rc);
	return rc;
}

/*
 * -t says what a start would say of the open-file limit when even the
 * hard limit is too low: it runs where the service will (ExecStartPre),
 * and the start runs anyway, so this is a warning, not a refusal.
 */
static void
test_descriptors(const struct config *conf)
{
	char why[160], msg[ERRLEN];
	long need = config_descriptors(conf, why, sizeof why);
	int r = nofile_fit(need, why, 0, msg, sizeof msg);

	if (r == 2 || r == -1)
		fprintf(stderr, "synackd: warning: %s\n", msg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = SYNACKD_CONFIG;
	struct activation_probe probe;
	struct activation *act;
	char *abspath;
	struct config *conf;
	char err[ERRLEN];
	int ch, test = 0, detach = 0;

	/*
	 * First of all, before anything can open a descriptor: which of the
	 * slots LISTEN_FDS names were open, i.e. inherited.
	 */
	activation_probe(&probe);
	while ((ch = getopt_long(argc, argv, "c:dthV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("synackd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "synackd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	/*
	 * Sockets from the service manager, and the unusable ones closed,
	 * before anything else opens a descriptor; -t serves none.
	 */
	act = NULL;
	if (!test) {
		act = activation_load(&probe, err, sizeof err);
		if (err[0] != '\0')
			fprintf(stderr, "synackd: socket activation: %s\n", err);
	}
	if ((conf = config_load(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "synackd: %s\n", err);
		activation_finish(act);
		return EXIT_CONFIG;
	}
	/*
	 * Messages name the file as given; a reload after detaching (which
	 * changes to /) needs the absolute path.  Symlinks are not resolved:
	 * each reload opens the path anew, so a deploy that swaps a symlink
	 * (or a ConfigMap mount) is followed.
	 */
	if ((abspath = absolute_path(path)) == NULL) {
		fprintf(stderr, "synackd: %s: %s\n", path, strerror(errno));
		config_free(conf);
		activation_finish(act);
		return EXIT_OSERR;
	}
	free(conf->path);
	conf->path = abspath;
	if (test) {
		test_descriptors(conf);
		printf("configuration OK\n");
		config_free(conf);
		activation_finish(act);
		return 0;
	}
	/* a client that goes away mid-write must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);
	log_set_level(conf->log_level);
	log_route_libevent();
	return start(conf, act, detach || conf->daemon);
}
