/* check_cmd.c -- `pxeimagesfs check`: the share as an SMB client sees it, a monitoring plugin.
 *
 * Prints one line `SMB OK|WARNING|CRITICAL|UNKNOWN - message | perfdata`, then one line per
 * difference, or the same facts as JSON. Exit 0 OK, 1 warning, 2 critical, 3 unknown (bad
 * arguments, configuration errors, a prerequisite it cannot reach), as the Monitoring
 * Plugins guidelines say. -w/-c set thresholds on the response time and the free space. The
 * SMB work is check_run() in export/; this file talks and applies the thresholds.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "cli.h"
#include "export.h"

static void check_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs check [--config FILE] [--user USER --password-file FILE | --guest]\n"
	        "                         [--deep] [--json] [--timeout SECONDS] [--mountpoint DIR]\n"
	        "                         [-w time=S,free=P%%] [-c time=S,free=P%%]\n"
	        "                         [smb://HOST[:PORT]/SHARE[/FOLDER]]\n\n"
	        "Connect to the share with libsmbclient, list it and compare it with the view\n"
	        "(names ignoring case, sizes; --deep also SHA-256), and name what is wrong:\n"
	        "share not defined, path missing or stale, share empty, access denied, wrong\n"
	        "credentials, server not reachable, protocol mismatch, content differs.\n"
	        "      --config FILE         configuration (default: $%s, else %s);\n"
	        "                            -c FILE still works when FILE has no '='\n"
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
	        "  -w, --warning LIMITS      WARNING when the check takes over time=SECONDS, or\n"
	        "                            the view's free space (its primary drive) is under\n"
	        "                            free=PERCENT%%; e.g. -w time=2,free=20%%\n"
	        "  -c, --critical LIMITS     the same, for CRITICAL; e.g. -c time=10,free=5%%\n"
	        "FOLDER: compare that folder of the share with the view's images folder (e.g.\n"
	        "an old server's smb://oldsrv/REMINST/SMSImages/SMSPKG).\n"
	        "URL: default smb://127.0.0.1:PORT/NAME (samba = private, [share] port and\n"
	        "name), else smb://localhost[:PORT]/NAME with the system smbd's first\n"
	        "'smb ports' entry (testparm).\n\n"
	        "exit status: 0 OK, 1 warning (a few differences; share and view both\n"
	        "             empty; a warning limit passed), 2 critical, 3 unknown (bad\n"
	        "             arguments, configuration errors, libsmbclient unusable)\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

/* Thresholds of -w/-c: < 0 is unset. */
struct limits {
	double time_s;
	double free_pct;
};

struct check_args {
	const char *config;
	bool json;
	struct check_opts o;
	struct limits warn;
	struct limits crit;
};

/* unknown -- the plugin's UNKNOWN: one status line on stdout, exit status 3. */
static int unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int unknown(const char *fmt, ...)
{
	va_list ap;

	fputs("SMB UNKNOWN - ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\n", stdout);
	return CHECK_UNKNOWN;
}

/* parse_limit -- one "time=SECONDS" or "free=PERCENT%" into L; -1 with a message. */
static int parse_limit(const char *s, size_t n, struct limits *l, char *err, size_t len)
{
	char buf[64];
	char *end = NULL;
	double v = 0;
	bool time = n > 5 && strncmp(s, "time=", 5) == 0;
	bool free_ = n > 5 && strncmp(s, "free=", 5) == 0;

	snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), s);
	if (!time && !free_) {
		snprintf(err, len, "'%s': want time=SECONDS or free=PERCENT%%", buf);
		return -1;
	}
	v = strtod(buf + 5, &end);
	if (end == buf + 5 || !isfinite(v) || v < 0 || (free_ && (strcmp(end, "%") || v > 100)) ||
	    (time && *end)) {
		snprintf(err, len, "'%s': want time=SECONDS (e.g. time=2.5) or free=PERCENT%% (0..100)",
		         buf);
		return -1;
	}
	*(time ? &l->time_s : &l->free_pct) = v;
	return 0;
}

/* parse_limits -- "time=S,free=P%" (either or both) into L. */
static int parse_limits(const char *spec, struct limits *l, char *err, size_t len)
{
	for (const char *p = spec; *p;) {
		size_t n = strcspn(p, ",");
		if (parse_limit(p, n, l, err, len) < 0) {
			return -1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static int parse_timeout(const char *s, int *ms)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 3600) {
		return -1;
	}
	*ms = (int)v * 1000;
	return 0;
}

/* option_c -- -c LIMITS (the plugin convention), or the older -c FILE (no '='). */
static int option_c(struct check_args *a, const char *arg, char *err, size_t len)
{
	if (!strchr(arg, '=')) {
		a->config = arg;
		return 0;
	}
	return parse_limits(arg, &a->crit, err, len);
}

static const struct option check_longopts[] = {{"config", required_argument, NULL, 'C'},
                                               {"user", required_argument, NULL, 'u'},
                                               {"password-file", required_argument, NULL, 'p'},
                                               {"guest", no_argument, NULL, 'g'},
                                               {"deep", no_argument, NULL, 'd'},
                                               {"json", no_argument, NULL, 'j'},
                                               {"timeout", required_argument, NULL, 't'},
                                               {"mountpoint", required_argument, NULL, 'm'},
                                               {"warning", required_argument, NULL, 'w'},
                                               {"critical", required_argument, NULL, 'c'},
                                               {"help", no_argument, NULL, 'h'},
                                               {NULL, 0, NULL, 0}};

/* check_option -- option C (getopt_long's answer, its argument in optarg) into A.
 * Returns -1 to go on, else the exit status. */
static int check_option(int c, char **argv, struct check_args *a)
{
	char err[256] = "";

	switch (c) {
	case 'C':
		a->config = optarg;
		break;
	case 'c':
		if (option_c(a, optarg, err, sizeof(err)) < 0) {
			return unknown("-c: %s", err);
		}
		break;
	case 'w':
		if (parse_limits(optarg, &a->warn, err, sizeof(err)) < 0) {
			return unknown("-w: %s", err);
		}
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
			return unknown("--timeout: want 1..3600 seconds, not '%s'", optarg);
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
		return unknown("bad option '%s' (see pxeimagesfs check --help)", argv[optind - 1]);
	}
	return -1;
}

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct check_args *a)
{
	int c = 0;
	int rc = -1;

	optind = 1;
	opterr = 0;
	a->warn = a->crit = (struct limits){-1, -1};
	while ((c = getopt_long(argc, argv, "c:u:p:gdjt:m:w:h", check_longopts, NULL)) != -1) {
		rc = check_option(c, argv, a);
		if (rc >= 0) {
			return rc;
		}
	}
	if (optind < argc) {
		a->o.url = argv[optind++];
	}
	if (optind < argc) {
		return unknown("unexpected argument '%s'", argv[optind]);
	}
	return -1;
}

/* The credentials make sense together (else the reason in ERR); warns about a password
 * file others can read. */
static int check_credentials(struct check_opts *o, char *err, size_t len)
{
	struct stat st;

	if (o->user && o->guest) {
		snprintf(err, len, "--user and --guest exclude each other");
		return -1;
	}
	if (o->user && !o->password_file) {
		snprintf(err, len, "--user needs --password-file (never prompts)");
		return -1;
	}
	if (!o->user && o->password_file) {
		snprintf(err, len, "--password-file needs --user");
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

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* view_free_pct -- free space in the view's images folder (statfs reports the primary
 * drive), in percent of the space an unprivileged user could have; -1 when unknown. */
static double view_free_pct(const struct pxe_config *cfg, const char *mountpoint)
{
	char path[PATH_MAX];
	struct statvfs sv;
	double total = 0;

	if (samba_share_path(cfg, mountpoint, path, sizeof(path)) < 0 || statvfs(path, &sv) < 0) {
		return -1;
	}
	total = (double)(sv.f_blocks - (sv.f_bfree - sv.f_bavail));
	return total > 0 ? 100.0 * (double)sv.f_bavail / total : -1;
}

/* apply_limit -- raise RES to ST with a reason when VALUE passes LIMIT (ABOVE: a maximum). */
static void apply_limit(struct check_result *res, enum check_status st, const char *what,
                        double value, double limit, bool above, const char *unit)
{
	size_t n = strlen(res->message);

	if (limit < 0 || value < 0 || (above ? value <= limit : value >= limit) ||
	    res->status >= st) {
		return;
	}
	res->status = st;
	snprintf(res->message + n, sizeof(res->message) - n, "; %s %.1f%s is %s the %s limit %g%s",
	         what, value, unit, above ? "above" : "under",
	         st == CHECK_CRITICAL ? "critical" : "warning", limit, unit);
}

static void apply_limits(struct check_result *res, const struct check_args *a)
{
	if (res->status == CHECK_UNKNOWN) {
		return;
	}
	apply_limit(res, CHECK_CRITICAL, "response time", res->time_s, a->crit.time_s, true, " s");
	apply_limit(res, CHECK_CRITICAL, "free space", res->free_pct, a->crit.free_pct, false, "%");
	apply_limit(res, CHECK_WARNING, "response time", res->time_s, a->warn.time_s, true, " s");
	apply_limit(res, CHECK_WARNING, "free space", res->free_pct, a->warn.free_pct, false, "%");
}

/* perf_limit -- a threshold in perfdata: the number, or empty when unset. */
static const char *perf_limit(double v, char *buf, size_t len)
{
	if (v < 0) {
		return "";
	}
	snprintf(buf, len, "%g", v);
	return buf;
}

static void print_human(const struct check_result *res, const struct check_args *a)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	char w[32];
	char c[32];

	printf("SMB %s - %s | time=%.3fs;%s;%s;0", names[res->status], res->message,
	       res->time_s < 0 ? 0 : res->time_s, perf_limit(a->warn.time_s, w, sizeof(w)),
	       perf_limit(a->crit.time_s, c, sizeof(c)));
	if (res->free_pct >= 0) {
		printf(" free=%.1f%%;%s;%s;0;100", res->free_pct,
		       perf_limit(a->warn.free_pct, w, sizeof(w)),
		       perf_limit(a->crit.free_pct, c, sizeof(c)));
	}
	printf(" files_remote=%zu files_local=%zu differences=%zu\n", res->files_remote,
	       res->files_local, res->differences);
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
	char err[256] = "";
	char *json = NULL;
	double t0 = 0;
	int rc = parse(argc, argv, &a);

	if (rc >= 0) {
		return rc;
	}
	if (check_credentials(&a.o, err, sizeof(err)) < 0) {
		return unknown("%s", err);
	}
	cfg = cli_load_config(a.config);
	if (!cfg) {
		return unknown("the configuration has errors (above); run 'pxeimagesfs config check'");
	}
	if (!a.o.url) {
		check_default_url(cfg, url, sizeof(url));
		a.o.url = url;
	}
	t0 = now_s();
	check_run(cfg, &a.o, &res);
	res.time_s = now_s() - t0;
	res.free_pct = view_free_pct(cfg, a.o.mountpoint ? a.o.mountpoint : cfg->mountpoint);
	apply_limits(&res, &a);
	rc = (int)res.status;
	if (a.json) {
		json = check_result_json(&res, &a.o);
		if (!json) {
			rc = unknown("out of memory");
			goto out;
		}
		printf("%s\n", json);
	} else {
		print_human(&res, &a);
	}
out:
	free(json);
	check_result_fini(&res);
	cfg_free(cfg);
	return rc;
}
