/* fake_sys.c -- an in-memory system for resolver unit tests (see fake_sys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_sys.h"

static struct fake_node *find(struct fake_sys *f, const char *path)
{
	for (size_t i = 0; i < f->n_nodes; i++) {
		if (strcmp(f->nodes[i].path, path) == 0) {
			return &f->nodes[i];
		}
	}
	return NULL;
}

static void add(struct fake_sys *f, const char *path, char type)
{
	char parent[512];
	char *slash = NULL;

	if (strcmp(path, "/") == 0 || find(f, path)) {
		return;
	}
	strcpy(parent, path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		add(f, parent, 'd');
	}
	if (f->n_nodes < FAKE_MAX) {
		strcpy(f->nodes[f->n_nodes].path, path);
		f->nodes[f->n_nodes++].type = type;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int fake_mounts(void *ctx, struct rsv_mount **out, size_t *n)
{
	struct fake_sys *f = ctx;
	struct rsv_mount *v = calloc(f->n_mounts + 1, sizeof(*v));

	for (size_t i = 0; i < f->n_mounts; i++) {
		const struct fake_mount *m = &f->mounts[i];
		v[i].target = strdup(m->target);
		v[i].source = dup_or_null(m->source);
		v[i].fstype = strdup(m->fstype);
		v[i].root = strdup(m->root ? m->root : "/");
		v[i].uuid = dup_or_null(m->uuid);
		v[i].label = dup_or_null(m->label);
		v[i].dev = m->dev;
		v[i].read_only = m->read_only;
	}
	*out = v;
	*n = f->n_mounts;
	return 0;
}

static int fake_lstat(void *ctx, const char *path, struct stat *st)
{
	struct fake_node *node = find(ctx, path);

	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	if (!node) {
		return -ENOENT;
	}
	st->st_mode = node->type == 'd'   ? S_IFDIR | 0755
	              : node->type == 'l' ? S_IFLNK | 0777
	                                  : S_IFREG | 0644;
	return 0;
}

static int fake_list(void *ctx, const char *dir, char ***names, size_t *n)
{
	struct fake_sys *f = ctx;
	size_t len = strlen(dir);
	char **v = calloc(FAKE_MAX + 1, sizeof(*v));
	size_t count = 0;
	struct stat st;

	if (f->list_err) {
		free(v);
		return f->list_err;
	}
	if (fake_lstat(ctx, dir, &st) < 0) {
		free(v);
		return -ENOENT;
	}
	if (strcmp(dir, "/") == 0) {
		len = 0;
	}
	for (size_t i = 0; i < f->n_nodes; i++) {
		const char *p = f->nodes[i].path;
		if (strncmp(p, dir, len) == 0 && p[len] == '/' && !strchr(p + len + 1, '/')) {
			v[count++] = strdup(p + len + 1);
		}
	}
	*names = v;
	*n = count;
	return 0;
}

static int fake_realpath(void *ctx, const char *path, char **out)
{
	struct stat st;

	if (fake_lstat(ctx, path, &st) < 0) {
		return -ENOENT;
	}
	*out = strdup(path);
	return 0;
}

static int fake_find_device(void *ctx, const char *tag, const char *value, char **devname)
{
	struct fake_sys *f = ctx;
	char want[256];

	snprintf(want, sizeof(want), "%s=%s", tag, value);
	if (f->unmounted_tag && strcmp(f->unmounted_tag, want) == 0) {
		*devname = strdup(f->unmounted_dev);
		return 0;
	}
	return -ENOENT;
}

static const struct rsv_sys_ops fake_ops = {
    .mounts = fake_mounts,
    .lstat = fake_lstat,
    .list = fake_list,
    .realpath = fake_realpath,
    .find_device = fake_find_device,
};

void fake_init(struct fake_sys *f)
{
	memset(f, 0, sizeof(*f));
	f->sys.ops = &fake_ops;
	f->sys.ctx = f;
}

void fake_mount(struct fake_sys *f, const char *target, const char *source, const char *fstype,
                const char *uuid, const char *label, dev_t dev, bool read_only)
{
	f->mounts[f->n_mounts++] =
	    (struct fake_mount){target, source, fstype, "/", uuid, label, dev, read_only};
	add(f, target, 'd');
}

void fake_bind(struct fake_sys *f, const char *target, const char *root, dev_t dev)
{
	for (size_t i = 0; i < f->n_mounts; i++) {
		if (f->mounts[i].dev == dev) {
			f->mounts[f->n_mounts] = f->mounts[i];
			f->mounts[f->n_mounts].target = target;
			f->mounts[f->n_mounts++].root = root;
			break;
		}
	}
	add(f, target, 'd');
}

void fake_dir(struct fake_sys *f, const char *path)
{
	add(f, path, 'd');
}

void fake_file(struct fake_sys *f, const char *path)
{
	add(f, path, 'f');
}

void fake_symlink(struct fake_sys *f, const char *path)
{
	add(f, path, 'l');
}
