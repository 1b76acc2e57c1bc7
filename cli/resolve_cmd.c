/* resolve_cmd.c -- `pxeimagesfs resolve`: what was found on each drive, and the view.
 *
 * Prints a table of candidates with the reason for every decision, then the
 * view (mode, primary, roots in order), or the same facts as JSON. Reads the
 * live system through the resolver; changes nothing.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resolver.h"

static void resolve_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs resolve [-c FILE] [--json]\n\n"
	        "Examine every candidate drive (mount point, uuid/label, images path) and\n"
	        "print what was found, why each drive was taken or skipped, and the view.\n"
	        "  -c, --config FILE  configuration (default: $%s, else %s)\n"
	        "  -j, --json         print JSON (schema 1, see README) instead of a table\n\n"
	        "exit status: 0 a drive holds the images, 1 none does (degraded),\n"
	        "             2 configuration error or the system could not be read\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

/* Where the drive is, or how it is identified when it is not found. */
static void drive_where(const struct drive *d, char *buf, size_t len)
{
	if (d->mount_path) {
		snprintf(buf, len, "%s", d->mount_path);
	} else if (d->want_path) {
		snprintf(buf, len, "%s", d->want_path);
	} else if (d->want_uuid) {
		snprintf(buf, len, "uuid=%s", d->want_uuid);
	} else {
		snprintf(buf, len, "label=%s", d->want_label ? d->want_label : "?");
	}
}

static void drive_images(const struct drive *d, char *buf, size_t len)
{
	if (!d->holds_images) {
		snprintf(buf, len, "-");
	} else {
		snprintf(buf, len, "%zu pkg%s", d->n_packages, d->n_packages == 1 ? "" : "s");
	}
}

static int width(int w, const char *s)
{
	int l = (int)strlen(s);
	return l > w ? l : w;
}

static void print_table(const struct resolver_view *v)
{
	char where[4096];
	char imgs[32];
	int wn = 5;
	int ww = 4;

	for (size_t i = 0; i < v->n_drives; i++) {
		drive_where(&v->drives[i], where, sizeof(where));
		wn = width(wn, v->drives[i].name);
		ww = width(ww, where);
	}
	printf("%-4s  %-*s  %-*s  %-7s  %-3s  %-8s  %s\n", "RANK", wn, "DRIVE", ww, "PATH", "STATE",
	       "RW", "IMAGES", "REASON");
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		drive_where(d, where, sizeof(where));
		drive_images(d, imgs, sizeof(imgs));
		printf("%-4zu  %-*s  %-*s  %-7s  %-3s  %-8s  %s", i + 1, wn, d->name, ww, where,
		       drive_state_name(d->state),
		       d->state != DRIVE_ONLINE ? "-"
		       : d->read_only           ? "ro"
		                                : "rw",
		       imgs, d->reason);
		if (d->origin[0]) {
			printf("%s%s", d->reason[0] ? "; " : "", d->origin);
		}
		printf("\n");
	}
}

/* Discovery: the mounts it did not take, and why. */
static void print_left_out(const struct resolver_view *v)
{
	printf("\nleft out by discovery: %zu system or pseudo filesystem%s (/proc, /sys, /dev, "
	       "/run, ...)%s\n",
	       v->n_left_system, v->n_left_system == 1 ? "" : "s", v->n_left_out ? ", and:" : "");
	for (size_t i = 0; i < v->n_left_out; i++) {
		printf("  %s  %s\n", v->left_out[i].target, v->left_out[i].why);
	}
}

static void print_view(const struct resolver_view *v)
{
	printf("\nview:\n  mode      %s\n  images    %s\n", cfg_mode_name(v->mode), v->images_path);
	if (v->primary >= 0) {
		printf("  primary   %s (%s)\n", v->drives[v->primary].name, v->primary_reason);
	} else {
		printf("  primary   %s\n", v->primary_reason);
	}
	if (v->n_roots == 0) {
		printf("  roots     none: no online drive holds the images; the images folder is "
		       "absent from the view\n");
	}
	for (size_t r = 0; r < v->n_roots; r++) {
		const struct drive *d = &v->drives[v->roots[r]];
		printf("  %-8s  %zu. %s  %s  (%s)\n", r == 0 ? "roots" : "", r + 1, d->name,
		       d->images_dir, d->read_only ? "read-only" : "read-write");
	}
}

/* print_boot_root -- with 'boot tree = yes': the folder TFTP and HTTP servers are rooted at. */
static void print_boot_root(const struct resolver_view *v, const struct pxe_config *cfg)
{
	if (cfg->boot_tree) {
		printf("  boot root %s/%s  (boot tree = yes: each root's %s merged; the TFTP and "
		       "HTTP root, 'pxeimagesfs export --tftp/--http')\n",
		       cfg->mountpoint, v->view_path, v->view_path);
	}
}

static void print_resolution(const struct resolver_view *v, const struct pxe_config *cfg)
{
	printf("config: %s\n", cfg->file);
	if (v->no_drive[0]) {
		printf("%s\n", v->no_drive);
	}
	if (v->discovery) {
		printf("discover = yes: every mounted local filesystem%s is a candidate%s\n",
		       cfg->discover_network ? " (network filesystems included)" : "",
		       cfg->n_drives ? ", besides the [drive:*] sections" : "");
	}
	if (v->n_drives == 0) {
		printf("no candidate drives\n");
	} else {
		printf("\n");
		print_table(v);
	}
	if (v->discovery) {
		print_left_out(v);
	}
	print_view(v);
	print_boot_root(v, cfg);
}

/* view_json -- resolver_view_json plus what only the configuration knows: "boot_tree", the
 * folder each drive's view merges ("view_dir", in "drives" and "view"."roots"; the images folder
 * unless boot tree = yes) and "boot_root", the TFTP/HTTP root in the view (null without boot
 * tree). Returns malloc'd text or NULL. */
static char *view_json(const struct resolver_view *v, const struct pxe_config *cfg)
{
	json_object *top = resolver_view_json_object(v, cfg->file);
	json_object *drives = NULL;
	json_object *view = NULL;
	json_object *roots = NULL;
	char root[8192];
	char *text = NULL;

	if (!top || !json_object_object_get_ex(top, "drives", &drives) ||
	    !json_object_object_get_ex(top, "view", &view) ||
	    !json_object_object_get_ex(view, "roots", &roots)) {
		json_object_put(top);
		return NULL;
	}
	for (size_t i = 0; i < v->n_drives && i < json_object_array_length(drives); i++) {
		const char *d = v->drives[i].view_dir;
		json_object_object_add(json_object_array_get_idx(drives, i), "view_dir",
		                       d ? json_object_new_string(d) : NULL);
	}
	for (size_t r = 0; r < v->n_roots && r < json_object_array_length(roots); r++) {
		const char *d = v->drives[v->roots[r]].view_dir;
		json_object_object_add(json_object_array_get_idx(roots, r), "view_dir",
		                       d ? json_object_new_string(d) : NULL);
	}
	snprintf(root, sizeof(root), "%s/%s", cfg->mountpoint, v->view_path);
	json_object_object_add(top, "boot_tree", json_object_new_boolean(cfg->boot_tree));
	json_object_object_add(top, "boot_root",
	                       cfg->boot_tree ? json_object_new_string(root) : NULL);
	text = strdup(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
	                                                      JSON_C_TO_STRING_SPACED |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return text;
}

int cmd_resolve(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *path = NULL;
	struct pxe_config *cfg = NULL;
	struct resolver_view *view = NULL;
	char *json = NULL;
	int json_out = 0;
	int rc = 2;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		if (c == 'c') {
			path = optarg;
		} else if (c == 'j') {
			json_out = 1;
		} else if (c == 'h') {
			resolve_usage(stdout);
			return 0;
		} else {
			resolve_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs resolve: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	cfg = cli_load_config(path);
	if (!cfg) {
		goto out;
	}
	c = resolver_resolve(cfg, rsv_sys_real(), &view);
	if (c < 0) {
		fprintf(stderr, "pxeimagesfs resolve: cannot read the mount table: %s\n",
		        strerror(-c));
		goto out;
	}
	if (json_out) {
		json = view_json(view, cfg);
		if (!json) {
			fprintf(stderr, "pxeimagesfs resolve: out of memory\n");
			goto out;
		}
		printf("%s\n", json);
	} else {
		print_resolution(view, cfg);
	}
	rc = resolver_view_has_images(view) ? 0 : 1;
out:
	free(json);
	resolver_view_free(view);
	cfg_free(cfg);
	return rc;
}
