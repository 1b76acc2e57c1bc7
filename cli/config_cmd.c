/* config_cmd.c -- `pxeimagesfs config check`: validate a configuration file.
 *
 * Prints "configuration OK" or every error as file:line: message (exit 2).
 * Also holds the config loading shared by the other subcommands.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"

#define ERRBUF_SIZE (64 * 1024)

struct pxe_config *cli_load_config(const char *path)
{
	struct pxe_config *cfg = NULL;
	char canon[PATH_MAX];
	char *err = calloc(1, ERRBUF_SIZE);

	if (!err) {
		fprintf(stderr, "pxeimagesfs: out of memory\n");
		return NULL;
	}
	path = path ? path : cfg_default_path();
	/* absolute, so the daemon can read it again on SIGHUP whatever its cwd */
	if (realpath(path, canon)) {
		path = canon;
	}
	if (cfg_load_file(path, &cfg, err, ERRBUF_SIZE) < 0) {
		fprintf(stderr, "%s", err);
		if (err[0] && err[strlen(err) - 1] != '\n') {
			fputc('\n', stderr);
		}
		fprintf(stderr,
		        "%s: configuration has errors; fix them and run "
		        "'pxeimagesfs config check -c %s'\n",
		        path, path);
	}
	free(err);
	return cfg;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return 1;
		}
	}
	return 0;
}

static void check_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs config check [-c FILE]\n\n"
	        "Validate a configuration file and report every error as file:line: message.\n"
	        "  -c, --config FILE  the file to check (default: $%s, else %s)\n\n"
	        "exit status: 0 the configuration is valid, 2 it has errors or cannot be read\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

/* How each drive is identified, or what is missing when there is none. */
static void print_drives(const struct pxe_config *cfg)
{
	const char *hint = cfg_no_drive_hint(cfg);

	for (size_t i = 0; i < cfg->n_drives; i++) {
		const struct cfg_drive *d = &cfg->drives[i];
		printf("drive %s: configured by", d->name);
		if (d->path) {
			printf(" path %s%s", d->path, d->uuid || d->label ? " and" : "");
		}
		if (d->uuid) {
			printf(" uuid %s%s", d->uuid, d->label ? " and" : "");
		}
		if (d->label) {
			printf(" label %s", d->label);
		}
		printf(", priority %d%s%s\n", d->priority, d->read_only ? ", read-only" : "",
		       d->inode_numbers == CFG_INO_DRIVE ? ", inode numbers from the drive" : "");
		if (cfg_drive_ids_differ(cfg, d)) {
			fprintf(
			    stderr,
			    "%s:%d: warning: drive %s keeps path inode numbers, so with samba = "
			    "ctdb an entry renamed through one node gets another file id on the "
			    "others: if %s is the store every node shares, set 'inode numbers = "
			    "drive' in its section, with the same drive name on every node\n",
			    cfg->file, d->line, d->name, d->name);
		}
	}
	if (cfg->discover) {
		printf("discover = yes: every mounted local filesystem%s that holds %s is a drive "
		       "too (see 'pxeimagesfs resolve')\n",
		       cfg->discover_network ? " or network filesystem" : "", cfg->images_path);
	}
	if (cfg->boot_tree) {
		printf(
		    "boot tree = yes: %s/%.*s merges that folder of every drive of the view (the "
		    "TFTP and HTTP root; README \"Serving PXE clients\")\n",
		    cfg->mountpoint, (int)strcspn(cfg->images_path, "/"), cfg->images_path);
	}
	if (hint) {
		printf("%s\n", hint);
	}
}

/* config_check_samba -- the same testparm check of the generated [share] block as
 * `export` makes; frees CFG. Returns the exit status. */
static int config_check_samba(struct pxe_config *cfg)
{
	char *err = calloc(1, ERRBUF_SIZE);
	int rc = err ? samba_check_config(cfg, NULL, err, ERRBUF_SIZE) : -1;

	if (rc < 0) {
		fprintf(stderr, "%s", err && err[0] ? err : "pxeimagesfs: out of memory\n");
		fprintf(stderr,
		        "%s: configuration has errors; fix them and run "
		        "'pxeimagesfs config check -c %s'\n",
		        cfg->file, cfg->file);
	} else {
		if (rc > 0) {
			fprintf(stderr, "%s\n", err);
		}
		print_drives(cfg);
		printf("configuration OK\n");
	}
	free(err);
	cfg_free(cfg);
	return rc < 0 ? 2 : 0;
}

static int config_check(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *path = NULL;
	struct pxe_config *cfg = NULL;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c') {
			path = optarg;
		} else if (c == 'h') {
			check_usage(stdout);
			return 0;
		} else {
			check_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs config check: unexpected argument '%s'\n",
		        argv[optind]);
		return 2;
	}
	cfg = cli_load_config(path);
	if (!cfg) {
		return 2;
	}
	return config_check_samba(cfg);
}

int cmd_config(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "check")) {
		return config_check(argc - 1, argv + 1);
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		check_usage(stdout);
		return 0;
	}
	fprintf(stderr, "usage: pxeimagesfs config check [-c FILE]\n");
	return 2;
}
