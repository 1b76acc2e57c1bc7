/* view.c -- the resolver's view, opened for serving: the drives' images folders.
 *
 * An fsview records, for each root, the mount root and images folder it
 * published (st_dev, st_ino); root_open gives an O_PATH fd of the images
 * folder, opened beneath the mount root without following any symlink and
 * checked to be that very folder, so every operation resolves beneath it with
 * openat-family calls; no descriptor is kept open on a drive between
 * operations. loc_find says where a path lives (the first root in rank order
 * that has it), root_read_only whether a drive takes writes now, and
 * fsview_moved whether an open node's name leads to another file after a view
 * change. Immutable once built; reference-counted: fsview_get() takes a
 * reference under fs->view_lock, the last fsview_put() frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"

static void fsdrive_close(struct fsdrive *d)
{
	free(atomic_load(&d->made));
	atomic_store(&d->made, NULL);
}

/* The fallback of dir_nofollow where the kernel lacks openat2: one component
 * at a time, each opened with O_NOFOLLOW as a directory; "." and ".." refused. */
static int dir_walk(int dirfd, const char *rel)
{
	char buf[PATH_MAX];
	char *save = NULL;
	int cur = -1;
	int rc = snprintf(buf, sizeof(buf), "%s", rel) < (int)sizeof(buf) ? 0 : -ENAMETOOLONG;

	cur = rc < 0 ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	rc = rc < 0 ? rc : cur < 0 ? -errno : 0;
	for (char *c = rc < 0 ? NULL : strtok_r(buf, "/", &save); c && rc == 0;
	     c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) {
			rc = -EXDEV;
			break;
		}
		next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = next < 0 ? -errno : 0;
		close(cur);
		cur = next;
	}
	if (rc < 0 && cur >= 0) {
		close(cur);
	}
	return rc < 0 ? rc : cur;
}

/* An O_PATH fd of the folder PATH ('/'-separated, spelt exactly) through no
 * symlink in any component. A relative PATH ("" is DIRFD itself) stays
 * beneath DIRFD (no "..", no magic link); an absolute one (DIRFD unused) is
 * walked from "/". Returns the fd or -errno: -ELOOP or -ENOTDIR for a
 * symlink, -EXDEV for a way out. */
static int dir_nofollow(int dirfd, const char *path)
{
	bool abs = path[0] == '/';
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (abs ? 0 : RESOLVE_BENEATH),
	};
	int fd = -1;
	int root = -1;

	/* EXDEV (EAGAIN after "..") beneath DIRFD: a rename or mount change
	 * raced the lookup; asked again, then walked (common/walk.c's rule) */
	for (int i = 0; i < 4; i++) {
		fd = (int)syscall(SYS_openat2, abs ? AT_FDCWD : dirfd, path[0] ? path : ".", &how,
		                  sizeof(how));
		if (fd >= 0 || abs || (errno != EXDEV && errno != EAGAIN)) {
			break;
		}
	}
	if (fd >= 0 || (errno != ENOSYS && (abs || (errno != EXDEV && errno != EAGAIN)))) {
		return fd >= 0 ? fd : -errno;
	}
	if (!abs) {
		return dir_walk(dirfd, path);
	}
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = root < 0 ? -errno : dir_walk(root, path);
	if (root >= 0) {
		close(root);
	}
	return fd;
}

/* Record the drive's identity as published: its mount root, and its images
 * folder opened beneath it without following a symlink. A drive that vanished
 * (or whose images path became a symlink) between resolving and publishing is
 * left out (-errno). */
static int fsdrive_open(struct fsdrive *fd, const struct drive *d)
{
	struct stat st;
	int mnt = open(d->mount_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int img = -1;
	int rc = mnt < 0 ? -errno : fstat(mnt, &st) == 0 ? 0 : -errno;

	fd->d = d;
	fd->read_only = d->read_only;
	atomic_init(&fd->made, NULL);
	atomic_init(&fd->made_ino, 0);
	if (rc == 0) {
		fd->mnt_dev = st.st_dev;
		fd->mnt_ino = st.st_ino;
	}
	if (rc == 0 && d->holds_images) {
		img = dir_nofollow(mnt, d->view_spelling);
		rc = img < 0 ? img : fstat(img, &st) == 0 ? 0 : -errno;
	}
	if (rc == 0 && d->holds_images) {
		fd->img_dev = st.st_dev;
		fd->img_ino = st.st_ino;
	}
	if (rc == 0) { /* its images folder's filesystem (one mounted inside is trusted alike) */
		struct statvfs sv;
		fd->nodev = fstatvfs(img >= 0 ? img : mnt, &sv) == 0 && (sv.f_flag & ST_NODEV);
	}
	if (img >= 0) {
		close(img);
	}
	if (mnt >= 0) {
		close(mnt);
	}
	return rc;
}

bool root_has_images(struct fsview *v, size_t r)
{
	return v->roots[r].d->holds_images || atomic_load(&v->roots[r].made) != NULL;
}

/* root_mount_open -- an O_PATH fd of root R's mount root (caller closes), or
 * -ENOENT when the folder at its mount path is no longer the one published
 * (unmounted: never touch the bare mountpoint directory; or a symlink). */
int root_mount_open(struct fsview *v, size_t r)
{
	const struct fsdrive *d = &v->roots[r];
	struct stat st;
	int fd = open(d->d->mount_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != d->mnt_dev || st.st_ino != d->mnt_ino) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* The path below root D's mount root of the images folder MADE after
 * publishing (absolute below the mount path, or relative to it); NULL when
 * it has none. */
static const char *made_rel(const struct fsdrive *d, const char *made)
{
	size_t len = strlen(d->d->mount_path);
	const char *rel = made;

	if (made && made[0] == '/') {
		if (strncmp(made, d->d->mount_path, len) != 0 || (made[len] != '/' && len > 1)) {
			return NULL;
		}
		rel = made + len;
	}
	while (rel && *rel == '/') {
		rel++;
	}
	return rel;
}

/* Is ST root D's images folder as published? One made after publishing is
 * known by its first open (made beneath the mount root by copyup.c just
 * before). */
static bool is_published(struct fsdrive *d, const struct stat *st)
{
	ino_t want = 0;

	if (d->d->holds_images) {
		return st->st_dev == d->img_dev && st->st_ino == d->img_ino;
	}
	if (st->st_dev != d->mnt_dev) {
		return false;
	}
	return atomic_compare_exchange_strong(&d->made_ino, &want, st->st_ino) ||
	       want == st->st_ino;
}

/* An O_PATH fd of the images folder made on root R after publishing: beneath
 * its mount root, through no symlink. */
static int made_open(struct fsview *v, size_t r)
{
	const char *rel = made_rel(&v->roots[r], atomic_load(&v->roots[r].made));
	int mnt = rel ? root_mount_open(v, r) : -ENOENT;
	int fd = mnt < 0 ? mnt : dir_nofollow(mnt, rel);

	if (mnt >= 0) {
		close(mnt);
	}
	return fd;
}

/* root_open -- an O_PATH fd of root R's images folder (caller closes), or
 * -ENOENT when it has none or it is no longer the folder published: its
 * filesystem went away (never touch the bare mountpoint directory below it),
 * or a component of its path is now a symlink or another folder. The
 * published folder was found beneath the mount root (fsdrive_open); that very
 * folder (device and inode) reached by its path through no symlink is safe,
 * at the cost of the one open the path needs. */
int root_open(struct fsview *v, size_t r)
{
	struct fsdrive *d = &v->roots[r];
	struct stat st;
	int fd = d->d->holds_images ? dir_nofollow(AT_FDCWD, d->d->view_dir) : made_open(v, r);

	if (fd < 0) {
		return fd == -ENOTDIR || fd == -ELOOP || fd == -EXDEV ? -ENOENT : fd;
	}
	if (fstat(fd, &st) < 0 || !is_published(d, &st)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static void fsview_free(struct fsview *v)
{
	if (!v) {
		return;
	}
	for (size_t i = 0; i < v->n_roots; i++) {
		fsdrive_close(&v->roots[i]);
	}
	free(v->roots);
	resolver_view_free(v->rv);
	free(v);
}

/* Drive D could not be opened as resolved (ERR): it is left out, and the view
 * says so, so the next rescan finds the drive changed and publishes again. */
static void left_out(struct drive *d, int err)
{
	d->holds_images = false;
	d->in_view = false;
	snprintf(d->reason, sizeof(d->reason),
	         "left out: its mount root or images folder changed while the view was "
	         "published (%s)",
	         strerror(-err));
}

int fsview_new(struct resolver_view *rv, uint64_t generation, struct fsview **out)
{
	struct fsview *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v || !(v->roots = calloc(rv->n_drives + 1, sizeof(*v->roots)))) {
		free(v);
		resolver_view_free(rv);
		return -ENOMEM;
	}
	atomic_init(&v->refs, 1);
	v->rv = rv;
	v->generation = generation;
	v->primary_root = -1;
	for (size_t i = 0; i < rv->n_drives; i++) {
		struct drive *d = &rv->drives[i];
		int rc = 0;
		if (!d->in_view && !d->primary) {
			continue;
		}
		rc = fsdrive_open(&v->roots[v->n_roots], d);
		if (rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) {
			/* this process is short, not the drive: no view that leaves it out */
			fsview_free(v); /* and RV with it */
			return rc;
		}
		if (rc < 0) {
			left_out(d, rc);
			continue;
		}
		if (d->primary) {
			v->primary_root = (int)v->n_roots;
		}
		v->n_roots++;
	}
	*out = v;
	return 0;
}

struct fsview *fsview_get(struct fs *fs)
{
	struct fsview *v = NULL;

	pthread_mutex_lock(&fs->view_lock);
	v = fs->view;
	atomic_fetch_add(&v->refs, 1);
	pthread_mutex_unlock(&fs->view_lock);
	return v;
}

void fsview_put(struct fsview *v)
{
	if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
		fsview_free(v);
	}
}

int fs_publish(struct fs *fs, struct resolver_view *rv)
{
	struct fsview *v = NULL;
	struct fsview *old = NULL;
	int rc = 0;

	/* built outside the lock: it reaches the drives, and a hung one must not
	 * stall the requests, which all take the lock (fsview_get) */
	rc = fsview_new(rv, 0, &v);
	if (rc < 0) {
		return rc;
	}
	pthread_mutex_lock(&fs->view_lock);
	v->generation = fs->generation + 1; /* not yet shared: still ours to set */
	old = fs->view;
	fs->view = v;
	fs->generation++;
	pthread_mutex_unlock(&fs->view_lock);
	fsview_put(old);
	return 0;
}

/* root_walk -- an O_PATH fd of REL on root R (see walk_open), or -errno. */
int root_walk(struct fsview *v, size_t r, const char *rel, char *spelt, size_t len)
{
	int img = root_open(v, r);
	int fd = img < 0 ? img : walk_open(img, rel, spelt, len);

	if (img >= 0) {
		close(img);
	}
	return fd;
}

/* root_walk_parent -- an O_PATH fd of the folder holding REL on root R. */
int root_walk_parent(struct fsview *v, size_t r, const char *rel, char *leaf, size_t len)
{
	int img = root_open(v, r);
	int fd = img < 0 ? img : walk_parent(img, rel, leaf, len);

	if (img >= 0) {
		close(img);
	}
	return fd;
}

#define ROOT_RW_TRUST_NS 1000000000LL /* 1 s: one probe a second per drive at most */

/* Whether the filesystem of the images folder FD refuses writes now: statvfs
 * says so, or it refuses a nameless file (ext4's errors=remount-ro sets no
 * flag statvfs or the mount table shows; O_TMPFILE leaves no name behind). */
static bool fs_refuses_writes(int fd)
{
	struct statvfs sv;
	int probe = -1;

	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		return true;
	}
	probe = openat(fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (probe >= 0) {
		close(probe);
		return false;
	}
	return errno == EROFS;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* root_read_only -- whether root R cannot be written: configured or mounted
 * read-only when published, its filesystem read-only now (fs_refuses_writes:
 * errors=remount-ro leaves the mount table saying rw; a "writable" answer is
 * trusted for ROOT_RW_TRUST_NS), or a write there failed with EROFS since
 * (root_mark_read_only). Read-only stays so for the view's life. */
bool root_read_only(struct fsview *v, size_t r)
{
	struct fsdrive *d = &v->roots[r];
	int state = atomic_load(&d->ro_state);
	int64_t now = 0;
	int fd = -1;

	if (d->read_only || state == FSDRIVE_RO_YES) {
		return true;
	}
	now = now_ns();
	if (state == FSDRIVE_RO_NO && now < atomic_load(&d->rw_until)) {
		return false;
	}
	fd = root_open(v, r);
	if (fd < 0) {
		return false; /* no images folder (yet): nothing of it to shadow */
	}
	if (fs_refuses_writes(fd)) {
		atomic_store(&d->ro_state, FSDRIVE_RO_YES);
	} else {
		atomic_store(&d->rw_until, now + ROOT_RW_TRUST_NS);
		state = FSDRIVE_RO_UNKNOWN;
		atomic_compare_exchange_strong(&d->ro_state, &state, FSDRIVE_RO_NO);
	}
	close(fd);
	return atomic_load(&d->ro_state) == FSDRIVE_RO_YES;
}

/* root_read_only_now -- root_read_only, asking the drive again unless it is
 * known read-only (before a change that must not half happen). */
bool root_read_only_now(struct fsview *v, size_t r)
{
	atomic_store(&v->roots[r].rw_until, 0);
	return root_read_only(v, r);
}

void root_mark_read_only(struct fsview *v, size_t r)
{
	atomic_store(&v->roots[r].ro_state, FSDRIVE_RO_YES);
}

/* Where REL is on root R, or -errno; its exact spelling opened with FLAGS
 * (walk_open_as: l->real). */
static int loc_at(struct fsview *v, size_t r, const char *rel, int flags, struct loc *l)
{
	char small[PATH_MAX];
	char *spelt = NULL;
	bool real = false;
	int img = root_open(v, r);
	int fd = -1;

	/* an object is opened as it is found only where no device can be opened (nodev):
	 * elsewhere O_PATH, and its caller reopens it once its type is known (a FIFO or a
	 * device swapped in after the lookup is never opened: a device's open reaches its
	 * driver) */
	if (flags != O_PATH && !v->roots[r].nodev) {
		flags = O_PATH;
	}
	fd = img < 0 ? img : walk_open_alloc_as(img, rel, flags, &real, small, sizeof(small), &spelt);

	if (img >= 0) {
		close(img);
	}
	if (fd >= 0 &&
	    snprintf(l->leaf, sizeof(l->leaf), "%s", names_last(spelt)) >= (int)sizeof(l->leaf)) {
		close(fd);
		fd = -ENAMETOOLONG;
	}
	if (spelt != small) {
		free(spelt);
	}
	if (fd < 0) {
		return fd;
	}
	if (fstat(fd, &l->st) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	l->root = (int)r;
	l->fd = fd;
	l->real = real;
	return 0;
}

/* loc_find -- the first root, from FROM_ROOT on, that has REL; but a
 * read-only root's copy of a non-folder is beaten by the next writable
 * root's copy of a non-folder (where a write to it was copied up, so the
 * written copy wins, also after a restart). Folders merge as before. */
int loc_find(struct fsview *v, const char *rel, int from_root, struct loc *out)
{
	return loc_find_as(v, rel, from_root, O_PATH, out);
}

int loc_find_as(struct fsview *v, const char *rel, int from_root, int flags, struct loc *out)
{
	struct loc extra = {.fd = -1};
	struct loc *more = NULL;
	int rc = -ENOENT;

	out->root = -1;
	out->fd = -1;
	for (size_t r = (size_t)from_root; r < v->n_roots; r++) {
		struct loc *l = out->root < 0 ? out : more;
		int got = l == more && root_read_only(v, r) ? -ENOENT : loc_at(v, r, rel, flags, l);
		if (got == -ENOMEM) {
			rc = got; /* never a lower-ranked drive's copy for want of memory */
			loc_close(out);
			out->root = -1;
			break;
		}
		if (got < 0) {
			if (got != -ENOENT && got != -ENOTDIR && out->root < 0) {
				rc = got;
			}
			continue;
		}
		if (l == out) {
			if (S_ISDIR(out->st.st_mode) || !root_read_only(v, r)) {
				return 0;
			}
			more = &extra; /* rare: a read-only drive's file */
			continue;
		}
		if (!S_ISDIR(l->st.st_mode) && !root_read_only(v, r)) {
			loc_close(out);
			memcpy(out, l, sizeof(*out));
			break;
		}
		loc_close(l);
	}
	return out->root >= 0 ? 0 : rc;
}

void loc_close(struct loc *l)
{
	if (l->fd >= 0) {
		close(l->fd);
	}
	l->fd = -1;
}

/* Is a root of V on the filesystem DEV? */
static bool on_a_root(struct fsview *v, dev_t dev)
{
	for (size_t r = 0; r < v->n_roots; r++) {
		if (v->roots[r].mnt_dev == dev || v->roots[r].img_dev == dev) {
			return true;
		}
	}
	return false;
}

bool fsview_moved(struct fs *fs, struct fsview *v, struct node *n)
{
	struct rel rel;
	struct loc l = {.fd = -1};
	bool open = false;
	dev_t dev = 0;
	ino_t ino = 0;
	int rc = 0;

	open = node_open_file(fs, n, &dev, &ino);
	rel_init(&rel);
	if (!open || node_rel(fs, n, &rel) < 0) {
		rel_fini(&rel);
		return false;
	}
	rc = loc_find(v, rel.s, 0, &l);
	rel_fini(&rel);
	if (rc < 0) {
		/* nowhere (or failing): being renamed or removed on a drive that stays,
		 * or its drive left the view */
		return !on_a_root(v, dev);
	}
	loc_close(&l);
	return l.st.st_dev != dev || l.st.st_ino != ino;
}
