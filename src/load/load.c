/* SPDX-License-Identifier: ISC */
/*
 * load.c: synack-load's main: `merge`, or the options and one run.
 *
 * Everything else is the library (src/load/include.am): options.c reads
 * the command line, run.c runs the load, merge.c combines reports.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load.h"

int
main(int argc, char **argv)
{
	static struct run run;
	char err[LOAD_ERRLEN];

	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return merge_main(argc - 1, argv + 1);
	switch (options_parse(&run.opt, argc, argv, err, sizeof err)) {
	case 1:
		return LOAD_EXIT_OK;
	case -1:
		fprintf(stderr, "synack-load: %s\n", err);
		fprintf(stderr, "Try 'synack-load --help' for the options.\n");
		return LOAD_EXIT_USAGE;
	}
	return run_main(&run);
}
