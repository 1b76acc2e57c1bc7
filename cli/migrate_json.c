/* migrate_json.c -- `pxeimagesfs migrate --json`: the plan, each entry's result and the
 * summary as one JSON document on stdout (json-c), and the SHA-256 in hex that the text
 * output shares.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "migrate.h"
#include "migrate_json.h"
#include "smb_dos.h"

void migrate_hex_sha(const unsigned char sum[32], char out[65])
{
	for (int i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", sum[i]);
	}
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static const char *result_name(const struct migrate_item *it, bool dry_run)
{
	if (dry_run) {
		return "planned";
	}
	if (it->action == MIGRATE_CONFLICT) {
		return "conflict";
	}
	return it->result == MIGRATE_DONE     ? "done"
	       : it->result == MIGRATE_FAILED ? "failed"
	                                      : "pending";
}

/* "2026-12-01T10:00:00.123456789Z" */
static json_object *jtime(const struct timespec *ts)
{
	struct tm tm;
	char sec[32];
	char buf[48];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%09ldZ", sec, ts->tv_nsec);
	return json_object_new_string(buf);
}

/* {"size", "mtime", "sha256"} of one copy (SHA may be NULL) */
static json_object *copy_json(const struct stat *st, const unsigned char *sha)
{
	json_object *o = json_object_new_object();
	char hex[65];

	json_object_object_add(o, "size", json_object_new_int64((int64_t)st->st_size));
	json_object_object_add(o, "mtime", jtime(&st->st_mtim));
	if (sha) {
		migrate_hex_sha(sha, hex);
	}
	json_object_object_add(o, "sha256", sha ? json_object_new_string(hex) : NULL);
	return o;
}

static json_object *item_json(const struct migrate_plan *plan, const struct migrate_item *it,
                              bool dry_run)
{
	json_object *o = json_object_new_object();
	char letters[8];

	json_object_object_add(o, "path", jstr(it->path));
	json_object_object_add(o, "target", jstr(it->target));
	json_object_object_add(o, "source", jstr(plan->sources[it->source].name));
	json_object_object_add(o, "kind", jstr(migrate_kind_name(it->kind)));
	json_object_object_add(o, "action", jstr(migrate_action_name(it->action)));
	json_object_object_add(o, "reason", jstr(it->reason));
	json_object_object_add(
	    o, "size",
	    it->kind == MIGRATE_FILE ? json_object_new_int64((int64_t)it->st.st_size) : NULL);
	json_object_object_add(o, "result", jstr(result_name(it, dry_run)));
	if (it->action == MIGRATE_CONFLICT) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "source",
		                       copy_json(&it->st, it->have_sha ? it->sha : NULL));
		json_object_object_add(
		    c, "target",
		    it->have_tst ? copy_json(&it->tst, it->have_sha ? it->tsha : NULL) : NULL);
		json_object_object_add(o, "conflict", c);
	}
	json_object_object_add(o, "backup", jstr(it->backup));
	json_object_object_add(o, "dos_attributes",
	                       it->have_dos ? jstr(smb_dos_letters(it->dos, letters)) : NULL);
	json_object_object_add(o, "dos_kept", json_object_new_boolean(it->dos_kept));
	json_object_object_add(o, "resumed_bytes", json_object_new_int64((int64_t)it->resumed));
	json_object_object_add(o, "verified", json_object_new_boolean(it->verified));
	json_object_object_add(o, "source_removed", json_object_new_boolean(it->source_removed));
	json_object_object_add(o, "error", jstr(it->error));
	return o;
}

static json_object *drive_json(const struct migrate_drive *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "drive", jstr(d->name));
	json_object_object_add(o, "images_dir", jstr(d->images_dir));
	return o;
}

static json_object *plan_head_json(const struct migrate_plan *plan, const char *config,
                                   bool dry_run)
{
	json_object *o = json_object_new_object();
	json_object *t = drive_json(&plan->target);
	json_object *srcs = json_object_new_array();
	json_object *space = json_object_new_object();

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(o, "config", jstr(config));
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "move", json_object_new_boolean(plan->move));
	json_object_object_add(o, "verify_existing",
	                       json_object_new_boolean(plan->verify_existing));
	json_object_object_add(o, "overwrite", jstr(migrate_overwrite_name(plan->overwrite)));
	json_object_object_add(o, "backup", json_object_new_boolean(plan->backup));
	json_object_object_add(o, "backup_dir", jstr(plan->backup_dir));
	json_object_object_add(t, "has_images", json_object_new_boolean(plan->target_has_images));
	json_object_object_add(o, "target", t);
	for (size_t i = 0; i < plan->n_sources; i++) {
		json_object_array_add(srcs, drive_json(&plan->sources[i]));
	}
	json_object_object_add(o, "sources", srcs);
	json_object_object_add(space, "needed", json_object_new_int64((int64_t)plan->space_needed));
	json_object_object_add(space, "available",
	                       json_object_new_int64((int64_t)plan->space_available));
	json_object_object_add(
	    space, "fits", json_object_new_boolean(plan->space_needed <= plan->space_available));
	json_object_object_add(o, "space", space);
	return o;
}

static json_object *totals_json(const struct migrate_plan *plan)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "copy", json_object_new_int64((int64_t)plan->n_copy));
	json_object_object_add(o, "mkdir", json_object_new_int64((int64_t)plan->n_mkdir));
	json_object_object_add(o, "same", json_object_new_int64((int64_t)plan->n_same));
	json_object_object_add(o, "conflicts", json_object_new_int64((int64_t)plan->n_conflict));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)plan->bytes));
	return o;
}

static json_object *summary_json(const struct migrate_summary *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "copied", json_object_new_int64((int64_t)s->copied));
	json_object_object_add(o, "dirs_created", json_object_new_int64((int64_t)s->dirs_created));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)s->skipped));
	json_object_object_add(o, "verified", json_object_new_int64((int64_t)s->verified));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)s->failed));
	json_object_object_add(o, "conflicts", json_object_new_int64((int64_t)s->conflicts));
	json_object_object_add(o, "backed_up", json_object_new_int64((int64_t)s->backed_up));
	json_object_object_add(o, "removed", json_object_new_int64((int64_t)s->removed));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s->bytes));
	json_object_object_add(o, "dos_kept", json_object_new_int64((int64_t)s->dos_kept));
	json_object_object_add(o, "dos_lost", json_object_new_int64((int64_t)s->dos_lost));
	json_object_object_add(o, "dos_error", s->dos_error ? jstr(strerror(-s->dos_error)) : NULL);
	json_object_object_add(o, "resumed", json_object_new_int64((int64_t)s->resumed));
	json_object_object_add(o, "bytes_resumed",
	                       json_object_new_int64((int64_t)s->bytes_resumed));
	json_object_object_add(o, "interrupted", json_object_new_boolean(s->interrupted));
	return o;
}

/* What the run does (did) with each temporary an interrupted run left: {"path", "action":
 * "resume" or "cleanup", "item" (the file it is a partial copy of, or null), "bytes_done"
 * (what the run continues from; 0 for a cleanup), "bytes_total" (the file's size, or null)}. */
static json_object *leftovers_json(const struct migrate_plan *plan)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < plan->n_stale; i++) {
		json_object *o = json_object_new_object();
		size_t k = plan->stale_item ? plan->stale_item[i] : SIZE_MAX;
		uint64_t done = plan->stale_resume ? plan->stale_resume[i] : 0;
		const struct migrate_item *it = k != SIZE_MAX ? &plan->items[k] : NULL;
		json_object_object_add(o, "path", jstr(plan->stale[i]));
		json_object_object_add(o, "action", jstr(done > 0 ? "resume" : "cleanup"));
		json_object_object_add(o, "item", it ? jstr(it->path) : NULL);
		json_object_object_add(o, "bytes_done", json_object_new_int64((int64_t)done));
		json_object_object_add(o, "bytes_total",
		                       it ? json_object_new_int64((int64_t)it->st.st_size) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

/* The plan (SUM NULL: not run) as JSON on stdout. */
void migrate_print_json(const struct migrate_plan *plan, const struct migrate_summary *sum,
                       const char *config, bool dry_run)
{
	json_object *o = plan_head_json(plan, config, dry_run);
	json_object *items = json_object_new_array();
	json_object *stale = json_object_new_array();

	json_object_object_add(o, "totals", totals_json(plan));
	for (size_t i = 0; i < plan->n_stale; i++) {
		json_object_array_add(stale, jstr(plan->stale[i]));
	}
	json_object_object_add(o, "stale", stale);
	json_object_object_add(o, "leftovers", leftovers_json(plan));
	for (size_t i = 0; i < plan->n_items; i++) {
		json_object_array_add(items, item_json(plan, &plan->items[i], dry_run));
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "summary", sum ? summary_json(sum) : NULL);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
