/* check_cmd.c -- `pxeimagesfs check`: the share as an SMB client sees it, Nagios style.
 *
 * Prints one line `SMB OK|WARNING|CRITICAL - message | perfdata`, then one line per
 * difference, or the same facts as JSON. Exit 0 OK, 1 warning, 2 critical (also for bad
 * arguments or config). The work is check_run() in export/; this file only talks.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export.h"

static void check_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs check [-c FILE] [--user USER --password-file FILE | --guest]\n"
	        "                         [--deep] [--json] [--timeout SECONDS]\n"
	        "                         [--mountpoint DIR] [smb://HOST[:PORT]/SHARE]\n\n"
	        "Connect to the share with libsmbclient, list it and compare it with the view\n"
	        "(names ignoring case, sizes; --deep also SHA-256), and name what is wrong:\n"
	        "share not defined, path missing or stale, share empty, access denied, wrong\n"
	        "credentials, server not reachable, protocol mismatch, content differs.\n"
	        "  -c, --config FILE         configuration (default: $%s, else %s)\n"
	        "  -u, --user [DOMAIN\\]USER  log on as USER; never falls back to guest, and the\n"
	        "                            session must be keyed by the password (signed), so\n"
	        "                            a wrong password the server maps to guest fails\n"
	        "  -p, --password-file FILE  the password: the first line of FILE\n"
	        "  -g, --guest               connect as guest (anonymous); the default without\n"
	        "                            --user\n"
	        "  -d, --deep                also compare the SHA-256 of every file\n"
	        "  -j, --json                print the result as JSON\n"
	        "  -t, --timeout SECONDS     per connection attempt (default 5)\n"
	        "  -m, --mountpoint DIR      the view to compare with (default: the config's)\n"
	        "URL: default smb://127.0.0.1:PORT/NAME (samba = private, [share] port and\n"
	        "name), else smb://localhost/NAME.\n\n"
	        "exit status: 0 OK, 1 warning (a few differences; share and view both\n"
	        "             empty), 2 critical, or bad arguments\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

struct check_args {
	const char *config;
	bool json;
	struct check_opts o;
};

static int parse_timeout(const char *s, int *ms)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 3600) {
		fprintf(stderr, "pxeimagesfs check: --timeout: want 1..3600 seconds, not '%s'\n",
		        s);
		return -1;
	}
	*ms = (int)v * 1000;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"user", required_argument, NULL, 'u'},
	                                     {"password-file", required_argument, NULL, 'p'},
	                                     {"guest", no_argument, NULL, 'g'},
	                                     {"deep", no_argument, NULL, 'd'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"mountpoint", required_argument, NULL, 'm'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:u:p:gdjt:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'u':
			a->o.user = optarg;
			break;
		case 'p':
			a->o.password_file = optarg;
			break;
		case 'g':
			a->o.guest = true;
			break;
		case 'd':
			a->o.deep = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 't':
			if (parse_timeout(optarg, &a->o.timeout_ms) < 0) {
				return 2;
			}
			break;
		case 'm':
			a->o.mountpoint = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		a->o.url = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs check: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return -1;
}

/* The credentials make sense together; warns about a password file others can read. */
static int check_credentials(struct check_opts *o)
{
	struct stat st;

	if (o->user && o->guest) {
		fprintf(stderr, "pxeimagesfs check: --user and --guest exclude each other\n");
		return -1;
	}
	if (o->user && !o->password_file) {
		fprintf(stderr,
		        "pxeimagesfs check: --user needs --password-file (never prompts)\n");
		return -1;
	}
	if (!o->user && o->password_file) {
		fprintf(stderr, "pxeimagesfs check: --password-file needs --user\n");
		return -1;
	}
	o->guest = !o->user;
	if (o->password_file && stat(o->password_file, &st) == 0 && (st.st_mode & S_IROTH)) {
		fprintf(stderr,
		        "pxeimagesfs check: warning: password file %s is readable by every user "
		        "(chmod 600 it)\n",
		        o->password_file);
	}
	return 0;
}

/* The URL check_run() uses when none is given (export/check.c), for the output. */
static void default_url(const struct pxe_config *cfg, char *out, size_t len)
{
	if (cfg->share.samba == CFG_SAMBA_PRIVATE) {
		snprintf(out, len, "smb://127.0.0.1:%d/%s", cfg->share.port, cfg->share.name);
	} else {
		snprintf(out, len, "smb://localhost/%s", cfg->share.name);
	}
}

static void print_human(const struct check_result *res)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL"};

	printf("SMB %s - %s | files_remote=%zu files_local=%zu differences=%zu\n",
	       names[res->status], res->message, res->files_remote, res->files_local,
	       res->differences);
	if (res->details) {
		fputs(res->details, stdout);
	}
}

int cmd_check(int argc, char **argv)
{
	struct check_args a = {0};
	struct check_result res = {0};
	struct pxe_config *cfg = NULL;
	char url[600];
	char *json = NULL;
	int rc = parse(argc, argv, &a);

	if (rc >= 0) {
		return rc;
	}
	rc = 2;
	if (check_credentials(&a.o) < 0) {
		goto out;
	}
	cfg = cli_load_config(a.config);
	if (!cfg) {
		goto out;
	}
	if (!a.o.url) {
		default_url(cfg, url, sizeof(url));
		a.o.url = url;
	}
	check_run(cfg, &a.o, &res);
	if (a.json) {
		json = check_result_json(&res, &a.o);
		if (!json) {
			fprintf(stderr, "pxeimagesfs check: out of memory\n");
			goto out;
		}
		printf("%s\n", json);
	} else {
		print_human(&res);
	}
	rc = (int)res.status;
out:
	free(json);
	check_result_fini(&res);
	cfg_free(cfg);
	return rc;
}
