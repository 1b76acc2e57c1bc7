/* view.c -- the resolver's view, opened for serving: one fd per drive.
 *
 * An fsview holds O_PATH fds of each root's images folder and of the
 * primary drive, so every operation resolves beneath them with openat-family
 * calls. Immutable once built; reference-counted: fsview_get() takes a
 * reference under fs->view_lock, the last fsview_put() frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

static void fsdrive_close(struct fsdrive *d)
{
	free(atomic_load(&d->made));
	atomic_store(&d->made, NULL);
}

/* Record the drive's identity as published. A drive that vanished between
 * resolving and publishing is left out (-errno). */
static int fsdrive_open(struct fsdrive *fd, const struct drive *d)
{
	struct stat st;

	fd->d = d;
	fd->read_only = d->read_only;
	atomic_init(&fd->made, NULL);
	if (stat(d->mount_path, &st) < 0) {
		return -errno;
	}
	fd->mnt_dev = st.st_dev;
	if (d->holds_images) {
		if (stat(d->images_dir, &st) < 0) {
			return -errno;
		}
		fd->img_dev = st.st_dev;
	}
	return 0;
}

bool root_has_images(struct fsview *v, size_t r)
{
	return v->roots[r].d->holds_images || atomic_load(&v->roots[r].made) != NULL;
}

/* root_open -- an O_PATH fd of root R's images folder (caller closes), or
 * -ENOENT when it has none or its filesystem is no longer the one published
 * (unmounted: never touch the bare mountpoint directory below it). */
int root_open(struct fsview *v, size_t r)
{
	struct fsdrive *d = &v->roots[r];
	const char *made = atomic_load(&d->made);
	const char *path = d->d->holds_images ? d->d->images_dir : made;
	dev_t want = d->d->holds_images ? d->img_dev : d->mnt_dev;
	struct stat st;
	int fd = -1;

	if (!path) {
		return -ENOENT;
	}
	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != want) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

void fsview_free(struct fsview *v)
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
		const struct drive *d = &rv->drives[i];
		if (!d->in_view && !d->primary) {
			continue;
		}
		if (fsdrive_open(&v->roots[v->n_roots], d) == 0) {
			if (d->primary) {
				v->primary_root = (int)v->n_roots;
			}
			v->n_roots++;
		}
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

/* loc_find -- the first root, from FROM_ROOT on, that has REL. */
int loc_find(struct fsview *v, const char *rel, int from_root, struct loc *out)
{
	int rc = -ENOENT;

	out->root = -1;
	out->fd = -1;
	for (size_t r = (size_t)from_root; r < v->n_roots; r++) {
		int fd = root_walk(v, r, rel, out->spelt, sizeof(out->spelt));
		if (fd < 0) {
			if (fd != -ENOENT && fd != -ENOTDIR) {
				rc = fd;
			}
			continue;
		}
		if (fstat(fd, &out->st) < 0) {
			rc = -errno;
			close(fd);
			continue;
		}
		out->root = (int)r;
		out->fd = fd;
		return 0;
	}
	return rc;
}

void loc_close(struct loc *l)
{
	if (l->fd >= 0) {
		close(l->fd);
	}
	l->fd = -1;
}

int fh_check(struct fs *fs, struct fh *fh)
{
	uint64_t gen = atomic_load(&fs->generation);
	struct fsview *v = NULL;
	bool online = false;

	if (!fh->drive || atomic_load(&fh->checked) == gen) {
		return 0;
	}
	v = fsview_get(fs);
	for (size_t r = 0; r < v->n_roots && !online; r++) {
		online = v->roots[r].mnt_dev == fh->drive->mnt_dev &&
		         strcmp(v->roots[r].d->mount_path, fh->drive->d->mount_path) == 0;
	}
	gen = v->generation;
	fsview_put(v);
	if (!online) {
		return -EIO;
	}
	atomic_store(&fh->checked, gen);
	return 0;
}
