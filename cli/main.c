/* main.c -- the pxeimagesfs binary: git-style subcommand dispatch.
 *
 * Only cli/ prints to stdout or exits. Exit statuses are per subcommand and
 * documented in their help; 2 always means "could not do what was asked".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <libsmbclient.h>

#include "cli.h"
#include "fs.h"

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
    {"export", cmd_export, "add the share to the system smbd (samba = system)"},
    {"check", cmd_check, "check the share from the client side (libsmbclient)"},
    {"passwd", cmd_passwd, "add a user to the private smbd (samba = private)"},
    {"demo", cmd_demo, "run the embedded demo: KB 947683 played live over SMB"},
    {"migrate", cmd_migrate, "copy or move the images from one drive to another"},
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

/* mount.fuse3 (an fstab line "none /srv/pxeimages fuse.pxeimagesfs config=FILE,...") runs
 * "pxeimagesfs SOURCE MOUNTPOINT -o OPTIONS": turn that into "mount -c FILE -o REST MOUNTPOINT". */
static int mount_helper(int argc, char **argv)
{
	static char opts[4096];
	static char config[4096];
	char *nargv[8] = {"mount"};
	int n = 1;
	char *save = NULL;

	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-o") != 0) {
			fprintf(stderr, "pxeimagesfs: unexpected '%s' (fstab form: pxeimagesfs SOURCE "
			                "MOUNTPOINT -o OPTIONS)\n", argv[i]);
			return 2;
		}
		for (char *o = strtok_r(argv[i + 1], ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			if (strncmp(o, "config=", 7) == 0) {
				snprintf(config, sizeof(config), "%s", o + 7);
			} else {
				size_t used = strlen(opts);
				snprintf(opts + used, sizeof(opts) - used, "%s%s", used ? "," : "", o);
			}
		}
	}
	if (config[0]) {
		nargv[n++] = "-c";
		nargv[n++] = config;
	}
	if (opts[0]) {
		nargv[n++] = "-o";
		nargv[n++] = opts;
	}
	nargv[n++] = argv[2];
	nargv[n] = NULL;
	return cmd_mount(n, nargv);
}

static void version(void)
{
	char pt[256];

	printf("pxeimagesfs %s (libfuse %s, libsmbclient %s)\n%s\n%s\n", PXE_VERSION,
	       fuse_pkgversion(), smbc_version(), fs_passthrough_info(pt, sizeof(pt)),
	       fs_transport_info());
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
		version();
		return 0;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(name, commands[i].name)) {
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	if (argc >= 3 && name[0] != '-' && argv[2][0] == '/') {
		return mount_helper(argc, argv);
	}
	fprintf(stderr, "pxeimagesfs: '%s' is not a command; see 'pxeimagesfs --help'\n", name);
	return 2;
}
