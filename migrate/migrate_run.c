/* migrate_run.c -- carry a migration plan out: the order of the steps, progress, summary.
 *
 * Each entry lands under a hidden temporary name in its target folder and is renamed
 * into place only once fsynced and verified, so the view never shows it half-copied;
 * with a move, a source entry goes only after its copy (or the target's equal copy)
 * is verified and the target folder fsynced. This file runs the items in plan order
 * (leftovers of an interrupted run first; folders are finished after their contents)
 * and sums them up: copying is migrate_copy.c's, putting a copy in place (and a replaced
 * one aside) migrate_land.c's, folders migrate_dirs.c's, and what every step uses
 * migrate_step.c's. Single-threaded; the callback runs on this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrate_run_int.h"

static void run_item(struct mrun *r, struct migrate_item *it)
{
	bool file = it->kind != MIGRATE_FOLDER;

	if (it->action == MIGRATE_DIR) {
		it->result = MIGRATE_DONE;
		return;
	}
	r->pr.item = it;
	if (mrun_emit(r, MIGRATE_EV_BEGIN, it, NULL)) {
		return;
	}
	if (it->action == MIGRATE_CONFLICT) {
		mrun_item_fail(r, it, -EEXIST);
		free(it->error);
		it->error = strdup(it->reason); /* the whole story */
	} else if (it->action == MIGRATE_MKDIR) {
		mrun_mkdir_item(r, it);
	} else if (it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE) {
		mrun_copy_item(r, it);
	} else {
		mrun_settle_item(r, it);
	}
	if (file && (it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE)) {
		r->base += (uint64_t)it->st.st_size; /* as planned: the total stays right */
		r->pr.bytes_done = r->base;
	}
	if (it->result == MIGRATE_PENDING) {
		return; /* stopped midway: the next run does it */
	}
	r->pr.files_done += file;
	mrun_emit(r, MIGRATE_EV_END, it, NULL);
}

/* STALE (a target path) is the temporary of a share's file this run copies: a partial copy
 * the copy may continue (migrate_copy.c checks it), so not removed here. */
static bool partial_wanted(const struct mrun *r, const char *stale)
{
	for (size_t i = 0; i < r->plan->n_items; i++) {
		const struct migrate_item *it = &r->plan->items[i];
		if (migrate_partial_of(r->plan, it, stale)) {
			return true;
		}
	}
	return false;
}

/* Remove the temporary STALE (a target path) an interrupted run left. */
static void clean_one(struct mrun *r, const char *stale)
{
	char dir[PATH_MAX];
	char note[PATH_MAX + 128];
	int dfd = names_parent(stale, dir, sizeof(dir)) < 0
	              ? -ENAMETOOLONG
	              : walk_open(r->p->tgt_img, dir, NULL, 0);
	int rc = dfd < 0 ? dfd : migrate_remove_tmp(dfd, names_last(stale));

	if (rc == 0) {
		mrun_emit(r, MIGRATE_EV_CLEANUP, NULL, stale);
	} else {
		snprintf(note, sizeof(note), "cannot remove the temporary %s: %s", stale,
		         strerror(-rc));
		mrun_emit(r, MIGRATE_EV_NOTE, NULL, note);
	}
	close_fd(dfd);
}

/* Remove what an interrupted run left on the target (but partial copies to continue). */
static void clean_stale(struct mrun *r)
{
	for (size_t i = 0; i < r->plan->n_stale && !r->stop; i++) {
		if (!partial_wanted(r, r->plan->stale[i])) {
			clean_one(r, r->plan->stale[i]);
		}
	}
}

static void summarise(const struct mrun *r, struct migrate_summary *sum)
{
	for (size_t i = 0; i < r->plan->n_items; i++) {
		const struct migrate_item *it = &r->plan->items[i];
		bool done = it->result == MIGRATE_DONE;
		bool copy = it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE;
		sum->copied += done && copy;
		sum->dirs_created += done && it->action == MIGRATE_MKDIR;
		sum->skipped +=
		    done && (it->action == MIGRATE_SKIP || it->action == MIGRATE_SHADOWED);
		sum->verified += it->verified && (done || it->action == MIGRATE_SKIP);
		sum->failed += it->result == MIGRATE_FAILED && it->action != MIGRATE_CONFLICT;
		sum->conflicts += it->action == MIGRATE_CONFLICT;
		sum->backed_up += it->backup != NULL && done;
		sum->removed += it->source_removed;
		sum->dos_kept += done && it->dos_kept;
		sum->dos_lost +=
		    done && (copy || it->action == MIGRATE_MKDIR) && it->have_dos && !it->dos_kept;
		sum->resumed += done && it->resumed > 0;
		sum->bytes_resumed += done ? it->resumed : 0;
	}
	sum->dos_error = r->dos_error;
	sum->bytes = r->copied;
	sum->interrupted = r->stop;
}

static void run_all(struct mrun *r)
{
	clean_stale(r);
	for (size_t i = 0; i < r->plan->n_items && !r->stop; i++) {
		run_item(r, &r->plan->items[i]);
	}
	if (r->stop) {
		return; /* folders stay marked unfinished: the next run finishes them */
	}
	mrun_finish_dirs(r);
	mrun_finish_parents(r);
	if (r->plan->move) {
		mrun_remove_source_dirs(r);
	}
}

int migrate_run(struct migrate_plan *plan, migrate_progress_fn progress, void *arg,
                struct migrate_summary *sum, char *errbuf, size_t errlen)
{
	struct mrun r = {.plan = plan,
	                 .p = plan->priv,
	                 .cb = progress,
	                 .arg = arg,
	                 .img_parent = -1,
	                 .backup_fd = -1};
	size_t n_par = plan->priv->n_parts ? plan->priv->n_parts : 1;
	int rc = -1;

	*sum = (struct migrate_summary){0};
	if (plan->dry_run) {
		snprintf(errbuf, errlen, "a dry-run plan cannot be carried out");
		return -1;
	}
	if (migrate_check_space(plan, errbuf, errlen) < 0) {
		return -1;
	}
	r.parents = calloc(n_par, sizeof(*r.parents));
	if (!r.parents) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n_par; i++) {
		r.parents[i].dirfd = -1;
	}
	for (size_t i = 0; i < plan->n_items; i++) {
		r.pr.files_total += plan->items[i].kind != MIGRATE_FOLDER;
	}
	r.pr.bytes_total = plan->bytes;
	if (plan->priv->tgt_img >= 0 || mrun_make_parents(&r, errbuf, errlen) == 0) {
		run_all(&r);
		summarise(&r, sum);
		rc = 0;
	}
	for (size_t i = 0; i < n_par; i++) {
		close_fd(r.parents[i].dirfd);
	}
	free(r.parents);
	close_fd(r.img_parent);
	close_fd(r.backup_fd);
	return rc;
}
