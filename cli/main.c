/* main.c -- the pxeimagesfs binary: git-style subcommand dispatch.
 *
 * Only cli/ prints to stdout or exits. Exit statuses are per subcommand and
 * documented in their help; 2 always means "could not do what was asked".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"resolve", cmd_resolve, "show which drives hold the images and the resulting view"},
    {"config", cmd_config, "validate a configuration file (config check)"},
    {"mount", cmd_mount, "mount the stable view of the images and serve it"},
    {"status", cmd_status, "show the live state of a running view"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: pxeimagesfs [--version] [--help] <command> [<args>]\n\n"
	             "A stable view of PXE boot images (RemoteInstall\\SMSImages\\SMSPKG)\n"
	             "across whichever drives hold them.\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	}
	fprintf(out,
	        "\n'pxeimagesfs <command> --help' describes a command.\n"
	        "Configuration: -c FILE, else $%s, else %s.\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("pxeimagesfs %s\n", PXE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(name, commands[i].name)) {
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "pxeimagesfs: '%s' is not a command; see 'pxeimagesfs --help'\n", name);
	return 2;
}
