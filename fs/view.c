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
	if (d->mntfd >= 0) {
		close(d->mntfd);
	}
	int img = atomic_load(&d->imgfd);

	if (img >= 0) {
		close(img);
	}
	d->mntfd = -1;
	atomic_store(&d->imgfd, -1);
}

/* Open the drive's mount root and, when it holds them, its images folder. A
 * drive that vanished between resolving and opening is left out (-errno). */
static int fsdrive_open(struct fsdrive *fd, const struct drive *d)
{
	int img = -1;

	fd->d = d;
	fd->read_only = d->read_only;
	atomic_init(&fd->imgfd, -1);
	fd->mntfd = open(d->mount_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd->mntfd < 0) {
		return -errno;
	}
	if (d->holds_images) {
		img = open(d->images_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (img < 0) {
			int rc = -errno;
			fsdrive_close(fd);
			return rc;
		}
		atomic_store(&fd->imgfd, img);
	}
	return 0;
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

	pthread_mutex_lock(&fs->view_lock);
	rc = fsview_new(rv, fs->generation + 1, &v);
	if (rc == 0) {
		old = fs->view;
		fs->view = v;
		fs->generation++;
	}
	pthread_mutex_unlock(&fs->view_lock);
	fsview_put(old);
	return rc;
}

/* loc_find -- the first root, from FROM_ROOT on, that has REL. */
int loc_find(struct fsview *v, const char *rel, int from_root, struct loc *out)
{
	int rc = -ENOENT;

	out->root = -1;
	out->fd = -1;
	for (size_t r = (size_t)from_root; r < v->n_roots; r++) {
		int img = atomic_load(&v->roots[r].imgfd);
		int fd = img < 0 ? -ENOENT : walk_open(img, rel, out->spelt, sizeof(out->spelt));
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
