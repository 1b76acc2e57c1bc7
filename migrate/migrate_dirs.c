/* migrate_dirs.c -- the folders of a migration: made, finished last, removed on --move.
 *
 * New folders carry MIGRATE_UNFINISHED until their times are set, after their contents
 * (a rerun finishes what an interrupted run left). The images path's folders above the
 * images folder are made on a target that lacks them, with the first source's mode and
 * owner. With --move, source folders that are empty at the end are removed, deepest
 * first. Single-threaded, as the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "migrate_run_int.h"

/* A new folder NAME in TDIR (-EEXIST when something is there): marked unfinished, with the
 * source's xattrs (a share's DOS attributes), owner and mode. SREAL: the source folder's fd. */
static int make_new_dir(struct mrun *r, struct migrate_item *it, int tdir, const char *name,
                        int sreal)
{
	int dfd = -1;
	int mfd = -1;
	int rc = 0;

	r->step = "creating the folder";
	rc = mkdirat(tdir, name, 0700) < 0 ? -errno : 0;
	if (rc == 0) {
		dfd = openat(tdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		mfd = dfd < 0
		          ? -1
		          : openat(dfd, MIGRATE_UNFINISHED, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		rc = dfd < 0 || mfd < 0 ? -errno : 0;
	}
	r->step = "copying the folder's xattrs";
	rc = rc < 0 || sreal < 0 ? rc : copy_xattrs(sreal, dfd); /* a share: none */
	r->step = "setting the folder's owner and mode";
	rc = rc < 0 ? rc : mrun_set_owner_mode(dfd, &it->st);
	if (rc == 0) {
		mrun_keep_dos(r, it, dfd); /* a share's */
	}
	rc = rc < 0 || fsync(dfd) == 0 ? rc : -errno;
	close_fd(mfd);
	close_fd(dfd);
	return rc;
}

/* make_new_dir under the temporary name TMP, after removing what an earlier run left there. */
static int make_tmp_dir(struct mrun *r, struct migrate_item *it, int tdir, const char *tmp,
                        int sreal)
{
	int rc = migrate_remove_tmp(tdir, tmp);

	return rc < 0 ? rc : make_new_dir(r, it, tdir, tmp, sreal);
}

/* No RENAME_NOREPLACE on the target (GlusterFS, NFS: EINVAL): make the folder at its name
 * (mkdir's EEXIST keeps the no-replace rule), marked unfinished as the renamed one would be.
 * The temporary TMP goes; a failure after the mkdir removes the (still empty) folder. */
static int make_dir_in_place(struct mrun *r, struct migrate_item *it, int tdir, const char *tmp,
                             int sreal)
{
	const char *tname = mrun_tgt_name(r, it);
	int rc = migrate_remove_tmp(tdir, tmp);

	r->step = "making the folder in place";
	rc = rc < 0 ? rc : make_new_dir(r, it, tdir, tname, sreal);
	if (rc < 0 && rc != -EEXIST) {
		migrate_remove_tmp(tdir, tname); /* ours: only the marker in it */
	}
	return rc;
}

static int make_dir(struct mrun *r, struct migrate_item *it, int sdir, int tdir)
{
	char tmp[NAME_MAX + 1];
	const char *tname = mrun_tgt_name(r, it);
	struct stat st;
	bool share = r->p->src_img[it->source] < 0;
	int spath = share                  ? -1
	            : it->parent == SIZE_MAX ? dup(r->p->src_img[it->source])
	                                     : openat(sdir, names_last(it->path),
	                                              O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int sreal = share ? -1 : spath < 0 ? -errno : walk_reopen(spath, O_RDONLY | O_DIRECTORY);
	int rc = sreal < 0 && !share ? sreal : 0;
	bool made = false;

	r->step = "opening the source folder";
	migrate_tmp_name(r->p->tag, tname, tmp, sizeof(tmp));
	rc = rc < 0 ? rc : make_tmp_dir(r, it, tdir, tmp, sreal);
	r->step = "renaming the folder into place";
	made = rc == 0;
	rc = rc < 0 ? rc : fileio_rename_noreplace(tdir, tmp, tdir, tname);
	if (rc == -EINVAL && made) {
		rc = make_dir_in_place(r, it, tdir, tmp, sreal);
	}
	if (rc == -EEXIST && fstatat(tdir, tname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		rc = migrate_remove_tmp(tdir, tmp); /* made meanwhile, e.g. through the view */
	} else if (rc == 0) {
		it->unfinished = true;
		r->step = "fsync of the target folder";
		rc = mrun_fsync_dir(tdir);
	} else {
		migrate_remove_tmp(tdir, tmp);
	}
	close_fd(spath);
	close_fd(sreal);
	return rc;
}

void mrun_mkdir_item(struct mrun *r, struct migrate_item *it)
{
	bool root = it->parent == SIZE_MAX;
	bool nofd = root || r->p->src_img[it->source] < 0; /* the images folder, or a share */
	int sdir = nofd ? -1 : mrun_src_dir(r, it);
	int tdir = !nofd && sdir < 0 ? -1 : mrun_tgt_dir(r, it);
	int rc = !nofd && sdir < 0 ? sdir : tdir < 0 ? tdir : 0;

	r->step = "opening the folders";
	rc = rc < 0 ? rc : make_dir(r, it, sdir, tdir);
	if (rc == 0 && root) {
		r->step = "opening the new images folder";
		r->p->tgt_img = walk_open(tdir, mrun_tgt_name(r, it), NULL, 0);
		rc = r->p->tgt_img < 0 ? r->p->tgt_img : 0;
	}
	if (rc == 0) {
		it->result = MIGRATE_DONE;
	} else {
		mrun_item_fail(r, it, rc);
	}
	close_fd(sdir);
	close_fd(tdir);
}

/* The images path's folders above the images folder, on a target that lacks them:
 * made with the first source's mode and owner (times at the end). */
static int make_parent(struct mrun *r, size_t i, int cur, int scur, char *found, size_t len)
{
	struct migrate_priv *p = r->p;
	struct made_parent *mp = &r->parents[i];
	int rc = walk_find(cur, p->parts[i], found, len);

	mp->dirfd = dup(cur);
	if (rc != -ENOENT || mp->dirfd < 0) {
		return mp->dirfd < 0 ? -errno : rc;
	}
	snprintf(found, len, "%s", p->parts[i]);
	if (scur < 0 || i >= p->n_src0_parts ||
	    fstatat(scur, p->src0_parts[i], &mp->st, AT_SYMLINK_NOFOLLOW) < 0) {
		mp->st.st_mode = S_IFDIR | 0755;
		mp->st.st_uid = geteuid();
		mp->st.st_gid = getegid();
		clock_gettime(CLOCK_REALTIME, &mp->st.st_mtim);
		mp->st.st_atim = mp->st.st_mtim;
	}
	if (mkdirat(cur, found, mp->st.st_mode & 07777) < 0) {
		return errno == EEXIST ? 0 : -errno;
	}
	mp->made = true;
	if (fchownat(cur, found, mp->st.st_uid, mp->st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(cur, found, mp->st.st_mode & 07777, 0) < 0) {
		return -errno;
	}
	return 0;
}

static int descend_fd(int *cur, const char *name)
{
	int next =
	    *cur < 0 ? -1 : openat(*cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = next < 0 ? -errno : 0;

	close_fd(*cur);
	*cur = next;
	return rc;
}

int mrun_make_parents(struct mrun *r, char *errbuf, size_t errlen)
{
	struct migrate_priv *p = r->p;
	char found[NAME_MAX + 1];
	int cur = dup(p->tgt_mnt);
	int scur = dup(p->src_mnt[0]);
	int rc = cur < 0 ? -errno : 0;

	for (size_t i = 0; i + 1 < p->n_parts && rc == 0; i++) {
		rc = make_parent(r, i, cur, scur, found, sizeof(found));
		rc = rc < 0 ? rc : descend_fd(&cur, found);
		if (scur >= 0 && i < p->n_src0_parts) {
			descend_fd(&scur, p->src0_parts[i]);
		}
	}
	close_fd(scur);
	if (rc < 0) {
		close_fd(cur);
		snprintf(errbuf, errlen, "cannot make the images path on target drive %s: %s",
		         r->plan->target.name, strerror(-rc));
		return -1;
	}
	r->img_parent = cur;
	return 0;
}

void mrun_finish_parents(struct mrun *r)
{
	for (size_t i = r->p->n_parts > 0 ? r->p->n_parts - 1 : 0; i-- > 0;) {
		struct made_parent *mp = &r->parents[i];
		struct timespec ts[2] = {mp->st.st_atim, mp->st.st_mtim};
		if (mp->made) {
			utimensat(mp->dirfd, r->p->parts[i], ts, AT_SYMLINK_NOFOLLOW);
		}
	}
}

/* Set a finished folder's times (and owner and mode again, for one an interrupted
 * run made), after its marker is gone. */
static int finish_dir(struct mrun *r, struct migrate_item *it)
{
	struct timespec ts[2] = {it->st.st_atim, it->st.st_mtim};
	int pfd = it->parent == SIZE_MAX ? dup(r->p->tgt_img)
	                                 : walk_open(r->p->tgt_img, it->target, NULL, 0);
	int fd = pfd < 0 ? -1 : walk_reopen(pfd, O_RDONLY | O_DIRECTORY);
	int rc = pfd < 0 ? (it->parent == SIZE_MAX ? -errno : pfd) : fd < 0 ? fd : 0;

	r->step = "finishing the folder";
	if (rc == 0 && unlinkat(fd, MIGRATE_UNFINISHED, 0) < 0 && errno != ENOENT) {
		rc = -errno;
	}
	rc = rc < 0 ? rc : mrun_set_owner_mode(fd, &it->st);
	rc = rc < 0 || (futimens(fd, ts) == 0 && fsync(fd) == 0) ? rc : -errno;
	it->unfinished = rc < 0;
	close_fd(fd);
	close_fd(pfd);
	return rc;
}

void mrun_finish_dirs(struct mrun *r)
{
	for (size_t i = r->plan->n_items; i-- > 0;) {
		struct migrate_item *it = &r->plan->items[i];
		int rc = 0;
		if (it->kind != MIGRATE_FOLDER || !it->unfinished || it->incomplete ||
		    it->result == MIGRATE_FAILED) {
			continue;
		}
		rc = finish_dir(r, it);
		if (rc < 0) {
			mrun_item_fail(r, it, rc);
			mrun_emit(r, MIGRATE_EV_END, it, NULL);
		}
	}
}

/* --move: remove the source folders that are empty now, deepest first. */
void mrun_remove_source_dirs(struct mrun *r)
{
	char note[PATH_MAX + 256];

	for (size_t i = r->plan->n_items; i-- > 0;) {
		struct migrate_item *it = &r->plan->items[i];
		const char *src = r->plan->sources[it->source].name;
		int sdir = -1;
		if (it->kind != MIGRATE_FOLDER || it->parent == SIZE_MAX ||
		    it->result != MIGRATE_DONE) {
			continue;
		}
		sdir = mrun_src_dir(r, it);
		if (sdir >= 0 && unlinkat(sdir, names_last(it->path), AT_REMOVEDIR) == 0) {
			it->source_removed = true;
			mrun_emit(r, MIGRATE_EV_REMOVED, it, NULL);
		} else {
			int err = sdir < 0 ? -sdir : errno;
			snprintf(note, sizeof(note), "kept the folder %s:%s: %s", src, it->path,
			         err == ENOTEMPTY || err == EEXIST ? "not empty" : strerror(err));
			mrun_emit(r, MIGRATE_EV_NOTE, it, note);
		}
		close_fd(sdir);
	}
}
