/* sys.c -- the live system behind struct rsv_sys: libmount and libblkid.
 *
 * Reads /proc/self/mountinfo with libmount (never by hand) and asks libblkid
 * for the UUID and LABEL of block devices; probes drives with rsv_probe
 * (probe.c, bounded). Keeps no state between calls, so it is safe from any
 * thread. Probing a device needs read access to it; when
 * that fails the mount simply has no UUID/LABEL.
 */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <libmount.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "resolver.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void rsv_mounts_free(struct rsv_mount *mounts, size_t n)
{
	if (!mounts) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(mounts[i].target);
		free(mounts[i].source);
		free(mounts[i].fstype);
		free(mounts[i].root);
		free(mounts[i].uuid);
		free(mounts[i].label);
	}
	free(mounts);
}

/* Fill UUID and LABEL of the block device DEV, when it can be probed. */
static void probe_tags(const char *dev, struct rsv_mount *m)
{
	blkid_probe pr = NULL;
	const char *val = NULL;

	if (!dev || strncmp(dev, "/dev/", 5) != 0) {
		return;
	}
	pr = blkid_new_probe_from_filename(dev);
	if (!pr) {
		return;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "UUID", &val, NULL) == 0) {
			m->uuid = strdup(val);
		}
		if (blkid_probe_lookup_value(pr, "LABEL", &val, NULL) == 0) {
			m->label = strdup(val);
		}
	}
	blkid_free_probe(pr);
}

static int fill_mount(struct libmnt_fs *fs, struct rsv_mount *m)
{
	const char *opts = mnt_fs_get_vfs_options(fs);
	const char *src = mnt_fs_get_source(fs);
	const char *root = mnt_fs_get_root(fs);

	m->target = dup_or_null(mnt_fs_get_target(fs));
	m->source = dup_or_null(src);
	m->fstype = dup_or_null(mnt_fs_get_fstype(fs));
	m->root = strdup(root ? root : "/");
	m->dev = mnt_fs_get_devno(fs);
	m->read_only = opts && mnt_optstr_get_option(opts, "ro", NULL, NULL) == 0;
	if (!m->target || !m->fstype || !m->root || (src && !m->source)) {
		return -ENOMEM;
	}
	probe_tags(src, m);
	return 0;
}

static int real_mounts(void *ctx, struct rsv_mount **out, size_t *n)
{
	struct libmnt_table *tb = NULL;
	struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs = NULL;
	struct rsv_mount *v = NULL;
	size_t len = 0;
	int rc = 0;

	(void)ctx;
	tb = mnt_new_table_from_file("/proc/self/mountinfo");
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!tb || !it) {
		rc = tb ? -ENOMEM : -errno;
		rc = rc ? rc : -EIO;
		goto out;
	}
	v = calloc((size_t)mnt_table_get_nents(tb) + 1, sizeof(*v));
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		rc = fill_mount(fs, &v[len++]);
		if (rc < 0) {
			goto out;
		}
	}
out:
	if (rc < 0) {
		rsv_mounts_free(v, len);
	} else {
		*out = v;
		*n = len;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return rc;
}

static int real_lstat(void *ctx, const char *path, struct stat *st)
{
	(void)ctx;
	return lstat(path, st) == 0 ? 0 : -errno;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

static int real_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	DIR *d = NULL;
	struct dirent *de = NULL;
	char **v = NULL;
	size_t len = 0;
	size_t cap = 0;
	int rc = 0;

	(void)ctx;
	d = opendir(dir);
	if (!d) {
		return -errno;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			continue;
		}
		if (len == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[len] = strdup(de->d_name);
		if (!v[len]) {
			rc = -ENOMEM;
			goto out;
		}
		len++;
	}
	rc = errno ? -errno : 0;
out:
	closedir(d);
	if (rc < 0) {
		free_names(v, len);
		return rc;
	}
	*names = v;
	*n = len;
	return 0;
}

static int real_realpath(void *ctx, const char *path, char **out)
{
	(void)ctx;
	*out = realpath(path, NULL);
	return *out ? 0 : -errno;
}

static int real_find_device(void *ctx, const char *tag, const char *value, char **devname)
{
	(void)ctx;
	*devname = blkid_evaluate_tag(tag, value, NULL);
	return *devname ? 0 : -ENOENT;
}

static int real_probe(void *ctx, const char *path, bool write, unsigned timeout_ms)
{
	(void)ctx;
	return rsv_probe(path, write, timeout_ms);
}

static const struct rsv_sys_ops real_ops = {
    .mounts = real_mounts,
    .lstat = real_lstat,
    .list = real_list,
    .realpath = real_realpath,
    .find_device = real_find_device,
    .probe = real_probe,
};

static const struct rsv_sys real_sys = {.ops = &real_ops, .ctx = NULL};

const struct rsv_sys *rsv_sys_real(void)
{
	return &real_sys;
}
