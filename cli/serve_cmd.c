/* serve_cmd.c -- `pxeimagesfs export --tftp[=SERVER]` / `--http[=nginx]`: the configuration of
 * a TFTP or HTTP server rooted at the view, printed or installed (serve_export, export/).
 *
 * Parses the options, runs serve_export once per server asked for, prints the texts on stdout
 * and the report lines (stdout when it worked, stderr when it failed). Report lines starting
 * with "warning: " make the exit status 1. Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"

#define REPORT_SIZE (64 * 1024)

enum { OPT_TFTP = 256, OPT_HTTP, OPT_ROOT, OPT_LISTEN, OPT_UNIT, OPT_WRITE, OPT_DESTDIR };

static void serve_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pxeimagesfs export --tftp[=tftpd-hpa|dnsmasq] | --http[=nginx] [-c FILE]\n"
	    "                          [--root DIR] [--listen [ADDR][:PORT]] [--unit UNIT]\n"
	    "                          [--write [--dry-run] [--destdir DIR]]\n\n"
	    "The configuration of a TFTP or HTTP server that serves PXE clients from the view\n"
	    "(needs 'boot tree = yes'): the server's own file, a systemd drop-in that starts it\n"
	    "after the view's unit and stops it with it, and for tftpd-hpa the map file that\n"
	    "turns '\\' into '/'. Printed on stdout, each file after a '# ==> PATH <==' line.\n"
	    "  --tftp[=SERVER]    tftpd-hpa (default: /etc/default/tftpd-hpa) or dnsmasq\n"
	    "                     (/etc/dnsmasq.d/pxeimagesfs-tftp.conf)\n"
	    "  --http[=nginx]     an nginx server block (/etc/nginx/conf.d/pxeimagesfs.conf)\n"
	    "  -c, --config FILE  configuration (default: $%s, else %s)\n"
	    "  --root DIR         serve DIR (inside the view) instead of "
	    "<mountpoint>/RemoteInstall\n"
	    "  --listen ADDR:PORT tftpd-hpa: TFTP_ADDRESS (default :69); nginx: listen (default\n"
	    "                     8080); IPv6 in [], e.g. [::1]:8080\n"
	    "  --unit UNIT        the view's systemd unit (default pxeimagesfs.service, or\n"
	    "                     pxeimagesfs@NAME.service for /etc/pxeimagesfs/NAME.conf)\n"
	    "  --write            install the files (a file not written by pxeimagesfs is kept\n"
	    "                     as FILE.pxeimagesfs-bak.STAMP; needs the view mounted)\n"
	    "  -n, --dry-run      with --write: say what would change; change nothing\n"
	    "  --destdir DIR      with --write: install below DIR instead of /\n\n"
	    "A root that is one of the view's drives, inside one or above one, is refused.\n"
	    "exit status: 0 done, 1 done with warnings, 2 failed (nothing was written)\n",
	    CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

/* cli_serve_wanted -- argv holds --tftp or --http (before any "--"). */
int cli_serve_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!strncmp(argv[i], "--tftp", 6) || !strncmp(argv[i], "--http", 6)) {
			return 1;
		}
	}
	return 0;
}

struct serve_args {
	struct serve_opts o;
	const char *config;
	int tftp; /* -1: not asked; else an enum serve_server */
	int http;
};

static int server_arg(const char *opt, const char *v, bool http, int *out)
{
	if (!v || (!http && !strcmp(v, "tftpd-hpa"))) {
		*out = http ? SERVE_NGINX : SERVE_TFTPD_HPA;
	} else if (!http && !strcmp(v, "dnsmasq")) {
		*out = SERVE_DNSMASQ;
	} else if (http && !strcmp(v, "nginx")) {
		*out = SERVE_NGINX;
	} else {
		fprintf(stderr, "pxeimagesfs export: %s=%s: the server is %s\n", opt, v,
		        http ? "nginx" : "tftpd-hpa or dnsmasq");
		return -1;
	}
	return 0;
}

static int serve_opt(struct serve_args *a, int c)
{
	switch (c) {
	case 'c':
		a->config = optarg;
		return 0;
	case 'n':
		a->o.dry_run = true;
		return 0;
	case OPT_TFTP:
		return server_arg("--tftp", optarg, false, &a->tftp);
	case OPT_HTTP:
		return server_arg("--http", optarg, true, &a->http);
	case OPT_ROOT:
		a->o.root = optarg;
		return 0;
	case OPT_LISTEN:
		a->o.listen = optarg;
		return 0;
	case OPT_UNIT:
		a->o.unit = optarg;
		return 0;
	case OPT_WRITE:
		a->o.write = true;
		return 0;
	case OPT_DESTDIR:
		a->o.destdir = optarg;
		return 0;
	default:
		return -1;
	}
}

/* serve_parse -- returns -1 (done, *rc set) or 0. */
static int serve_parse(int argc, char **argv, struct serve_args *a, int *rc)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"tftp", optional_argument, NULL, OPT_TFTP},
	                                     {"http", optional_argument, NULL, OPT_HTTP},
	                                     {"root", required_argument, NULL, OPT_ROOT},
	                                     {"listen", required_argument, NULL, OPT_LISTEN},
	                                     {"unit", required_argument, NULL, OPT_UNIT},
	                                     {"write", no_argument, NULL, OPT_WRITE},
	                                     {"destdir", required_argument, NULL, OPT_DESTDIR},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c = 0;

	*rc = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		if (c == 'h' || serve_opt(a, c) < 0) {
			serve_usage(c == 'h' ? stdout : stderr);
			*rc = c == 'h' ? 0 : 2;
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs export: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (a->tftp >= 0 && a->http >= 0 && (a->o.listen || a->o.root)) {
		fprintf(stderr, "pxeimagesfs export: --listen and --root go with one server: run "
		                "'export --tftp ...' and 'export --http ...' apart\n");
		return -1;
	}
	if ((a->o.dry_run || a->o.destdir) && !a->o.write) {
		fprintf(stderr,
		        "pxeimagesfs export: --dry-run and --destdir go with --write (without "
		        "it nothing is written: the files are printed)\n");
		return -1;
	}
	return 0;
}

static int count_warnings(const char *report)
{
	int n = 0;

	for (const char *p = report; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		n += strncmp(p, "warning: ", 9) == 0;
	}
	return n;
}

/* serve_one -- one server; 0, 1 (warnings) or 2. */
static int serve_one(const struct pxe_config *cfg, struct serve_opts *o, int server, bool sep)
{
	char *report = calloc(1, REPORT_SIZE);
	char *text = NULL;
	int rc = 2;

	if (!report) {
		fprintf(stderr, "pxeimagesfs export: out of memory\n");
		return 2;
	}
	o->server = (enum serve_server)server;
	if (serve_export(cfg, o, &text, report, REPORT_SIZE) < 0) {
		fputs(report, stderr);
		goto out;
	}
	if (text) {
		printf("%s%s", sep ? "\n" : "", text);
	}
	/* with the texts on stdout, the report goes to stderr: stdout stays the files */
	fputs(report, o->write ? stdout : stderr);
	rc = count_warnings(report) > 0 ? 1 : 0;
out:
	free(text);
	free(report);
	return rc;
}

int cmd_export_serve(int argc, char **argv)
{
	struct serve_args a = {.tftp = -1, .http = -1};
	struct pxe_config *cfg = NULL;
	int rc = 2;

	if (serve_parse(argc, argv, &a, &rc) < 0) {
		return rc;
	}
	cfg = cli_load_config(a.config);
	if (!cfg) {
		return 2;
	}
	rc = a.tftp >= 0 ? serve_one(cfg, &a.o, a.tftp, false) : 0;
	if (rc < 2 && a.http >= 0) {
		int r2 = serve_one(cfg, &a.o, a.http, a.tftp >= 0);
		rc = r2 > rc ? r2 : rc;
	}
	cfg_free(cfg);
	return rc;
}
