/* status_cmd.c -- `pxeimagesfs status`: the running view's live state.
 *
 * Reads the status file the daemon writes (<run directory>/<mount-name>.json)
 * and checks that the daemon is alive and the view mounted. Changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resolver.h"

static void status_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs status [-c FILE] [--json] [MOUNTPOINT]\n\n"
	        "Show the live state of the view mounted at MOUNTPOINT (default: the config's\n"
	        "mountpoint): drives, primary, last change, counters.\n"
	        "  -c, --config FILE  configuration (default: $%s, else %s)\n"
	        "  -j, --json         print the status file (JSON, schema 1)\n\n"
	        "exit status: 0 healthy, 1 degraded (a configured drive offline, or no\n"
	        "             images), 2 not running\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

static const char *jget_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool mounted_view(const char *mp)
{
	struct rsv_mount *m = NULL;
	size_t n = 0;
	bool found = false;

	if (rsv_sys_real()->ops->mounts(NULL, &m, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			found |= strcmp(m[i].target, mp) == 0 &&
			         !strcmp(m[i].fstype, "fuse.pxeimagesfs");
		}
	}
	rsv_mounts_free(m, n);
	return found;
}

static void print_drives(json_object *view)
{
	json_object *drives = jget(view, "drives");

	printf("drives:\n");
	for (size_t i = 0; drives && i < json_object_array_length(drives); i++) {
		json_object *d = json_object_array_get_idx(drives, i);
		const char *where = jget_str(d, "mount_path");
		printf("  %-10s %-8s %-24s %s\n", jget_str(d, "name"), jget_str(d, "state"),
		       where[0] ? where : "-", jget_str(d, "reason"));
	}
}

static void print_status(json_object *st, bool healthy)
{
	json_object *c = jget(st, "counters");
	json_object *ch = jget(st, "last_change");
	json_object *why = jget(st, "degraded_reasons");
	json_object *view = jget(st, "view");

	printf("pxeimagesfs on %s: %s (pid %s, since %s)\n", jget_str(st, "mountpoint"),
	       healthy ? "healthy" : "degraded", jget_str(st, "pid"), jget_str(st, "started"));
	printf("config: %s, mode %s, view generation %s\n", jget_str(st, "config"),
	       jget_str(st, "mode"), jget_str(st, "generation"));
	printf("primary: %s\n", jget_str(jget(view, "view"), "primary")[0]
	                            ? jget_str(jget(view, "view"), "primary")
	                            : "none (read-only)");
	printf("last change: %s, %s: %s\n", jget_str(ch, "time"), jget_str(ch, "cause"),
	       jget_str(ch, "summary"));
	print_drives(view);
	printf("counters: opens %s, reads %s, bytes read %s, bytes written %s, errors %s\n",
	       jget_str(c, "opens"), jget_str(c, "reads"), jget_str(c, "bytes_read"),
	       jget_str(c, "bytes_written"), jget_str(c, "errors"));
	json_object *pt = jget(st, "passthrough");
	if (pt) { /* absent in status files of older versions */
		bool on = json_object_get_boolean(jget(pt, "active"));
		printf("passthrough: %s%s (%s files opened in passthrough)\n", on ? "active" : "off: ",
		       on ? "" : jget_str(pt, "reason"), jget_str(c, "passthrough_opens"));
	}
	for (size_t i = 0; why && i < json_object_array_length(why); i++) {
		printf("degraded: %s\n", json_object_get_string(json_object_array_get_idx(why, i)));
	}
}

/* Exit status for the status file at PATH of mountpoint MP. */
static int show(const char *path, const char *mp, bool json)
{
	json_object *st = json_object_from_file(path);
	json_object *pid = st ? jget(st, "pid") : NULL;
	json_object *ok = st ? jget(st, "healthy") : NULL;
	int rc = 2;

	if (!st) {
		fprintf(stderr, "pxeimagesfs status: not running on %s (no status file %s)\n", mp,
		        path);
	} else if (!pid || (kill(json_object_get_int(pid), 0) < 0 && errno == ESRCH)) {
		fprintf(stderr,
		        "pxeimagesfs status: not running on %s (pid %s is gone; stale %s)\n", mp,
		        jget_str(st, "pid"), path);
	} else if (!mounted_view(mp)) {
		fprintf(stderr,
		        "pxeimagesfs status: not running: no pxeimagesfs view is mounted on %s\n",
		        mp);
	} else {
		rc = ok && json_object_get_boolean(ok) ? 0 : 1;
		if (json) {
			printf("%s\n", json_object_to_json_string_ext(
			                   st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			                           JSON_C_TO_STRING_NOSLASHESCAPE));
		} else {
			print_status(st, rc == 0);
		}
	}
	json_object_put(st);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct pxe_config *cfg = NULL;
	char mp[PATH_MAX];
	char path[2 * PATH_MAX];
	bool json = false;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else if (c == 'j') {
			json = true;
		} else {
			status_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "pxeimagesfs status: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	cfg = cli_load_config(config);
	if (!cfg) {
		return 2;
	}
	if (!realpath(optind < argc ? argv[optind] : cfg->mountpoint, mp)) {
		snprintf(mp, sizeof(mp), "%s", optind < argc ? argv[optind] : cfg->mountpoint);
	}
	c = cfg_status_path(cfg, mp, path, sizeof(path)) < 0 ? 2 : show(path, mp, json);
	cfg_free(cfg);
	return c;
}
