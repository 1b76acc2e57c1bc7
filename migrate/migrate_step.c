/* migrate_step.c -- what every step of a migration run uses: progress events, an item's
 * failure, where an item is on either drive, and small checks on the target.
 *
 * migrate_run.c, migrate_copy.c, migrate_land.c and migrate_dirs.c call these; they call
 * none of those files. Single-threaded, as the run; the callback runs on its thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "migrate_run_int.h"
#include "smb_dos.h"

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

bool mrun_at(struct mrun *r, int rc, const char *step)
{
	if (rc == 0) {
		r->step = step;
	}
	return rc == 0;
}

void mrun_item_fail(struct mrun *r, struct migrate_item *it, int rc)
{
	const char *why = rc == -EBADMSG  ? "the contents differ"
	                  : rc == -ESTALE ? "the source changed meanwhile (run again)"
	                  : rc == -EEXIST ? "the target got an entry of that name meanwhile"
	                  : rc == -EAGAIN ? "the target's copy changed meanwhile: left as it is "
	                                    "(run again)"
	                                  : strerror(-rc);
	const char *note = r->p->src.ops->why(r->p->src.ctx);

	free(it->error);
	if (asprintf(&it->error, "%s: %s%s%s", r->step, why, note ? "; " : "", note ? note : "") <
	    0) {
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

int mrun_src_folder(struct mrun *r, const struct migrate_item *it, struct msrc_dir *out)
{
	char dir[PATH_MAX];
	int rc = names_parent(it->path, dir, sizeof(dir));

	*out = (struct msrc_dir){.fd = -1};
	if (rc < 0) {
		return rc;
	}
	if (r->p->src_img[it->source] >= 0) {
		out->fd = walk_open(r->p->src_img[it->source], dir, NULL, 0);
		return out->fd < 0 ? out->fd : 0;
	}
	out->rel = strdup(dir);
	return out->rel ? 0 : -ENOMEM;
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

void mrun_keep_dos(struct mrun *r, struct migrate_item *it, int fd)
{
	unsigned char b[SMB_DOS_BLOB_LEN];
	const struct migrate_item *cur = r->pr.item;
	char note[256];
	size_t n = 0;

	if (!it->have_dos) {
		return;
	}
	n = smb_dos_blob(it->dos, it->kind == MIGRATE_FOLDER, &it->btime, b);
	if (fsetxattr(fd, SMB_DOS_XATTR, b, n, 0) == 0) {
		it->dos_kept = true;
		return;
	}
	if (r->dos_error == 0) {
		r->dos_error = -errno;
		snprintf(note, sizeof(note),
		         "target drive %s refuses the user.DOSATTRIB xattr (%s): the DOS "
		         "attributes of the share's files and folders are not kept",
		         r->plan->target.name, strerror(-r->dos_error));
		mrun_emit(r, MIGRATE_EV_NOTE, NULL, note);
		r->pr.item = cur; /* the item being copied goes on */
	}
}
