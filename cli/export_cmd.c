/* export_cmd.c -- `pxeimagesfs export`: share the view through the system smbd (samba = system).
 *
 * Parses the options, calls samba_export() and prints its report, one line
 * each: on stdout when it worked, on stderr when it failed (then nothing was
 * changed). Report lines starting with "warning: " make the exit status 1.
 * Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"

#define REPORT_SIZE (256 * 1024)

enum { OPT_REPAIR = 256, OPT_REMOVE, OPT_NO_RELOAD };

static void export_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs export [-c FILE] [--dry-run] [--repair] [--remove] [--no-reload]\n"
	        "       pxeimagesfs export --tftp[=SERVER] | --http[=nginx] ... (see "
	        "'export --tftp --help')\n\n"
	        "Share the view through the system smbd ([share] samba = system): write the\n"
	        "include file, make one marked 'include =' line the last line of smb.conf,\n"
	        "check the result with testparm and reload smbd. Every other definition of the\n"
	        "share (smb.conf, files it includes, registry) is reported as file:line.\n"
	        "  -c, --config FILE  configuration (default: $%s, else %s)\n"
	        "  -n, --dry-run      say what would be done; change nothing\n"
	        "      --repair       comment out the other definitions (after a backup of each\n"
	        "                     file); registry shares are deleted, their settings saved\n"
	        "      --remove       undo the export: take our include line out of smb.conf and\n"
	        "                     delete the include file\n"
	        "      --no-reload    do not ask smbd to reload its configuration\n\n"
	        "exit status: 0 done, 1 done with warnings (other definitions left in place,\n"
	        "             smbd not reloaded), 2 failed (nothing was changed)\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

static int count_warnings(const char *report)
{
	int n = 0;

	for (const char *p = report; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		n += strncmp(p, "warning: ", 9) == 0;
	}
	return n;
}

/* export_parse -- the options into O and *PATH; returns -1 (done, *rc set) or 0. */
static int export_parse(int argc, char **argv, struct samba_export_opts *o, const char **path,
                        int *rc)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"repair", no_argument, NULL, OPT_REPAIR},
	                                     {"remove", no_argument, NULL, OPT_REMOVE},
	                                     {"no-reload", no_argument, NULL, OPT_NO_RELOAD},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		if (c == 'c') {
			*path = optarg;
		} else if (c == 'n') {
			o->dry_run = true;
		} else if (c == OPT_REPAIR) {
			o->repair = true;
		} else if (c == OPT_REMOVE) {
			o->remove = true;
		} else if (c == OPT_NO_RELOAD) {
			o->no_reload = true;
		} else {
			export_usage(c == 'h' ? stdout : stderr);
			*rc = c == 'h' ? 0 : 2;
			return -1;
		}
	}
	*rc = 2;
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs export: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->repair && o->remove) {
		fprintf(stderr, "pxeimagesfs export: --repair and --remove do not go together: "
		                "run 'export --repair' to fix the share, 'export --remove' to undo "
		                "the export\n");
		return -1;
	}
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct samba_export_opts o = {0};
	struct pxe_config *cfg = NULL;
	const char *path = NULL;
	char *report = NULL;
	int rc = 2;

	if (cli_serve_wanted(argc, argv)) {
		return cmd_export_serve(argc, argv);
	}
	if (export_parse(argc, argv, &o, &path, &rc) < 0) {
		return rc;
	}
	rc = 2;
	cfg = cli_load_config(path);
	if (!cfg) {
		goto out;
	}
	report = calloc(1, REPORT_SIZE);
	if (!report) {
		fprintf(stderr, "pxeimagesfs export: out of memory\n");
		goto out;
	}
	if (samba_export(cfg, cfg->mountpoint, &o, report, REPORT_SIZE) < 0) {
		fputs(report, stderr);
		goto out;
	}
	fputs(report, stdout);
	rc = count_warnings(report) > 0 ? 1 : 0;
out:
	free(report);
	cfg_free(cfg);
	return rc;
}
