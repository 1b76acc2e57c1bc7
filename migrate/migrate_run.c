/* migrate_run.c -- carry a migration plan out: the order of the steps, progress, summary.
 *
 * Each entry lands under a hidden temporary name in its target folder and is renamed
 * into place only once fsynced and verified, so the view never shows it half-copied;
 * with a move, a source entry goes only after its copy (or the target's equal copy)
 * is verified and the target folder fsynced. This file runs the items in plan order
 * (leftovers of an interrupted run first; folders are finished after their contents)
 * and holds the helpers the run's files share: copying is migrate_copy.c's, putting a
 * copy in place (and a replaced one aside) migrate_land.c's, folders migrate_dirs.c's.
 * Single-threaded; the callback runs on this thread.
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

bool mrun_emit(struct mrun *r, enum migrate_event ev, const struct migrate_item *it,
               const char *text)
{
	r->pr.event = ev;
	r->pr.item = it;
	r->pr.text = text;
	if (r->cb && r->cb(r->arg, &r->pr) != 0) {
		r->stop = true;
	}
	return r->stop;
}

void mrun_item_fail(struct mrun *r, struct migrate_item *it, int rc)
{
	const char *why = rc == -EBADMSG  ? "the contents differ"
	                  : rc == -ESTALE ? "the source changed meanwhile (run again)"
	                  : rc == -EEXIST ? "the target got an entry of that name meanwhile"
	                  : rc == -EAGAIN ? "the target's copy changed meanwhile: left as it is "
	                                    "(run again)"
	                                  : strerror(-rc);

	free(it->error);
	if (asprintf(&it->error, "%s: %s", r->step, why) < 0) {
		it->error = NULL;
	}
	it->result = MIGRATE_FAILED;
	for (size_t j = it->parent; j != SIZE_MAX; j = r->plan->items[j].parent) {
		r->plan->items[j].incomplete = true;
	}
}

/* O_PATH fd of the source folder holding IT. */
int mrun_src_dir(struct mrun *r, const struct migrate_item *it)
{
	char dir[PATH_MAX];
	int rc = names_parent(it->path, dir, sizeof(dir));

	return rc < 0 ? rc : walk_open(r->p->src_img[it->source], dir, NULL, 0);
}

/* O_PATH fd of the target folder holding IT (for the images folder: its parent). */
int mrun_tgt_dir(struct mrun *r, const struct migrate_item *it)
{
	char dir[PATH_MAX];
	int rc = 0;

	if (it->parent == SIZE_MAX) {
		rc = r->img_parent >= 0 ? dup(r->img_parent) : -1;
		return rc >= 0 ? rc : r->img_parent >= 0 ? -errno : -ENOENT;
	}
	if (r->p->tgt_img < 0) {
		return -ENOENT;
	}
	rc = names_parent(it->target, dir, sizeof(dir));
	return rc < 0 ? rc : walk_open(r->p->tgt_img, dir, NULL, 0);
}

const char *mrun_tgt_name(struct mrun *r, const struct migrate_item *it)
{
	return it->parent == SIZE_MAX ? names_last(r->plan->target.images_dir)
	                              : names_last(it->target);
}

int mrun_fsync_dir(int pathfd)
{
	int fd = walk_reopen(pathfd, O_RDONLY | O_DIRECTORY);
	int rc = fd < 0 ? fd : fsync(fd) < 0 ? -errno : 0;

	close_fd(fd);
	return rc;
}

bool mrun_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

int mrun_set_owner_mode(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0) {
		return -errno;
	}
	return 0;
}

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

/* Remove what an interrupted run left on the target. */
static void clean_stale(struct mrun *r)
{
	struct migrate_plan *plan = r->plan;
	char dir[PATH_MAX];
	char note[PATH_MAX + 128];

	for (size_t i = 0; i < plan->n_stale && !r->stop; i++) {
		int dfd = names_parent(plan->stale[i], dir, sizeof(dir)) < 0
		              ? -ENAMETOOLONG
		              : walk_open(r->p->tgt_img, dir, NULL, 0);
		int rc = dfd < 0 ? dfd : migrate_remove_tmp(dfd, names_last(plan->stale[i]));
		if (rc == 0) {
			mrun_emit(r, MIGRATE_EV_CLEANUP, NULL, plan->stale[i]);
		} else {
			snprintf(note, sizeof(note), "cannot remove the temporary %s: %s",
			         plan->stale[i], strerror(-rc));
			mrun_emit(r, MIGRATE_EV_NOTE, NULL, note);
		}
		close_fd(dfd);
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
	}
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
