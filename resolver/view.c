/* view.c -- the resolver's result: freeing, comparing and JSON.
 *
 * A view is immutable after resolver_resolve() returns it; nothing here
 * changes one. JSON is produced with json-c; its schema (version 1) is
 * documented in README.md and only ever grows.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"

const char *drive_state_name(enum drive_state state)
{
	return state == DRIVE_ONLINE        ? "online"
	       : state == DRIVE_UNAVAILABLE ? "unavailable"
	                                    : "offline";
}

static void drive_fini(struct drive *d)
{
	free(d->name);
	free(d->want_path);
	free(d->want_uuid);
	free(d->want_label);
	free(d->mount_path);
	free(d->source);
	free(d->fstype);
	free(d->uuid);
	free(d->label);
	free(d->images_dir);
	free(d->images_spelling);
	free(d->view_dir);
	free(d->view_spelling);
}

void resolver_view_free(struct resolver_view *view)
{
	if (!view) {
		return;
	}
	for (size_t i = 0; i < view->n_drives; i++) {
		drive_fini(&view->drives[i]);
	}
	free(view->drives);
	for (size_t i = 0; i < view->n_left_out; i++) {
		free(view->left_out[i].target);
	}
	free(view->left_out);
	free(view->roots);
	free(view->images_path);
	free(view->view_path);
	free(view);
}

bool resolver_view_has_images(const struct resolver_view *view)
{
	return view && view->n_roots > 0;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool drive_same(const struct drive *a, const struct drive *b)
{
	return str_same(a->name, b->name) && a->state == b->state && a->dev == b->dev &&
	       str_same(a->mount_path, b->mount_path) && str_same(a->images_dir, b->images_dir) &&
	       str_same(a->view_dir, b->view_dir) && a->read_only == b->read_only &&
	       a->in_view == b->in_view && a->primary == b->primary &&
	       a->holds_images == b->holds_images && a->ino_drive == b->ino_drive;
}

bool resolver_view_same(const struct resolver_view *a, const struct resolver_view *b)
{
	if (!a || !b || a->mode != b->mode || a->n_drives != b->n_drives ||
	    a->n_roots != b->n_roots || a->primary != b->primary ||
	    !str_same(a->images_path, b->images_path) || !str_same(a->view_path, b->view_path) ||
	    strcmp(a->no_drive, b->no_drive) != 0) {
		return false; /* the no-drive hint too: the status and STATUS= show it */
	}
	for (size_t i = 0; i < a->n_drives; i++) {
		if (!drive_same(&a->drives[i], &b->drives[i])) {
			return false;
		}
	}
	for (size_t r = 0; r < a->n_roots; r++) {
		if (a->roots[r] != b->roots[r]) {
			return false;
		}
	}
	return true;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *drive_json(const struct drive *d, size_t rank)
{
	json_object *o = json_object_new_object();
	json_object *id = json_object_new_object();

	json_object_object_add(id, "path", jstr(d->want_path));
	json_object_object_add(id, "uuid", jstr(d->want_uuid));
	json_object_object_add(id, "label", jstr(d->want_label));
	json_object_object_add(id, "read_only", json_object_new_boolean(d->want_read_only));
	json_object_object_add(o, "name", jstr(d->name));
	json_object_object_add(o, "rank", json_object_new_int64((int64_t)rank));
	json_object_object_add(o, "priority", json_object_new_int(d->priority));
	json_object_object_add(o, "configured", json_object_new_boolean(d->configured));
	json_object_object_add(o, "identity", id);
	json_object_object_add(o, "state", jstr(drive_state_name(d->state)));
	json_object_object_add(o, "mount_path", jstr(d->mount_path));
	json_object_object_add(o, "source", jstr(d->source));
	json_object_object_add(o, "fstype", jstr(d->fstype));
	json_object_object_add(o, "uuid", jstr(d->uuid));
	json_object_object_add(o, "label", jstr(d->label));
	json_object_object_add(o, "read_only", json_object_new_boolean(d->read_only));
	json_object_object_add(o, "holds_images", json_object_new_boolean(d->holds_images));
	json_object_object_add(o, "images_dir", jstr(d->images_dir));
	json_object_object_add(o, "images_spelling", jstr(d->images_spelling));
	json_object_object_add(o, "packages", json_object_new_int64((int64_t)d->n_packages));
	json_object_object_add(o, "in_view", json_object_new_boolean(d->in_view));
	json_object_object_add(o, "primary", json_object_new_boolean(d->primary));
	json_object_object_add(o, "reason", jstr(d->reason));
	json_object_object_add(o, "origin", jstr(d->origin));
	return o;
}

static json_object *summary_json(const struct resolver_view *v)
{
	json_object *o = json_object_new_object();
	json_object *roots = json_object_new_array();

	for (size_t r = 0; r < v->n_roots; r++) {
		const struct drive *d = &v->drives[v->roots[r]];
		json_object *root = json_object_new_object();
		json_object_object_add(root, "drive", jstr(d->name));
		json_object_object_add(root, "images_dir", jstr(d->images_dir));
		json_object_object_add(root, "read_only", json_object_new_boolean(d->read_only));
		json_object_array_add(roots, root);
	}
	json_object_object_add(o, "holds_images", json_object_new_boolean(v->n_roots > 0));
	json_object_object_add(o, "primary",
	                       v->primary >= 0 ? jstr(v->drives[v->primary].name) : NULL);
	json_object_object_add(o, "primary_reason", jstr(v->primary_reason));
	json_object_object_add(o, "roots", roots);
	return o;
}

/* {"system": N, "mounts": [{"mount_path", "why"}]}: the mounts discovery did not take. */
static json_object *left_out_json(const struct resolver_view *v)
{
	json_object *o = json_object_new_object();
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < v->n_left_out; i++) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "mount_path", jstr(v->left_out[i].target));
		json_object_object_add(m, "why", jstr(v->left_out[i].why));
		json_object_array_add(a, m);
	}
	json_object_object_add(o, "system", json_object_new_int64((int64_t)v->n_left_system));
	json_object_object_add(o, "mounts", a);
	return o;
}

struct json_object *resolver_view_json_object(const struct resolver_view *v,
                                              const char *config_file)
{
	json_object *top = json_object_new_object();
	json_object *drives = json_object_new_array();

	json_object_object_add(top, "schema", json_object_new_int(1));
	json_object_object_add(top, "config", jstr(config_file));
	json_object_object_add(top, "mode", jstr(cfg_mode_name(v->mode)));
	json_object_object_add(top, "images_path", jstr(v->images_path));
	json_object_object_add(top, "discovery", json_object_new_boolean(v->discovery));
	for (size_t i = 0; i < v->n_drives; i++) {
		json_object_array_add(drives, drive_json(&v->drives[i], i + 1));
	}
	json_object_object_add(top, "drives", drives);
	json_object_object_add(top, "no_drive", v->no_drive[0] ? jstr(v->no_drive) : NULL);
	if (v->discovery) {
		json_object_object_add(top, "left_out", left_out_json(v));
	}
	json_object_object_add(top, "view", summary_json(v));
	return top;
}

char *resolver_view_json(const struct resolver_view *v, const char *config_file, bool pretty)
{
	json_object *top = resolver_view_json_object(v, config_file);
	char *text = strdup(json_object_to_json_string_ext(
	    top,
	    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN) |
	        JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return text;
}
