/* invalidate.c -- drop the kernel's cached names and attributes of every node,
 * or of every node below a folder.
 *
 * After a view change (the live thread) or when the folder watch lost events
 * (its thread); below a folder when the folder watch saw it come, go or move
 * on a drive (its thread); never from a FUSE handler. The nodes are collected
 * and pinned under fs->lock (node.c), open ones checked against the drives and
 * the kernel notified with no lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"

/* After a view change, an open node whose name now leads to another file (or
 * whose drive left) gets a new node for its name; its open handles keep their
 * file (fsview_moved, outside the lock: it reaches the drives). A node whose
 * file is still there keeps its name: it may be being renamed right now, and a
 * detached node would no longer follow the rename. */
static void detach_moved(struct fs *fs, struct inval *v, size_t n)
{
	struct fsview *view = NULL;
	fuse_ino_t parent = 0;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].open) {
			continue;
		}
		view = view ? view : fsview_get(fs);
		if (fsview_moved(fs, view, v[i].node)) {
			free(node_detach(fs, v[i].node, &parent));
		}
	}
	fsview_put(view);
}

static void invalidate(struct fs *fs, bool detach)
{
	struct inval *v = NULL;
	size_t n = 0;

	dw_neg_drop_all(fs); /* after dw_reset: a miss recorded later is short */
	if (!fs->se) {
		return;
	}
	n = nodes_collect(fs, detach, &v);
	detach_moved(fs, v, n);
	/* outside the lock: the kernel may call back into handlers that take it */
	fuse_lowlevel_notify_inval_inode(fs->se, FUSE_ROOT_ID, -1, 0);
	for (size_t i = 0; i < n; i++) {
		if (v[i].entry) {
			fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, v[i].parent),
			                                 v[i].name, strlen(v[i].name));
		}
		/* its attributes and data */
		fuse_lowlevel_notify_inval_inode(fs->se, node_id(fs, v[i].node), 0, 0);
		node_unpin(fs, v[i].node);
		node_unpin(fs, v[i].parent);
		free(v[i].name);
	}
	free(v);
}

void nodes_invalidate_all(struct fs *fs)
{
	invalidate(fs, true);
}

void nodes_invalidate_cached(struct fs *fs)
{
	invalidate(fs, false);
}

/* Is node N below the folder REL (LEN bytes; "" is the images folder)? */
static bool below(struct fs *fs, struct node *n, struct rel *r, const char *rel, size_t len)
{
	if (node_rel(fs, n, r) < 0 || r->len <= len) {
		return false;
	}
	return len == 0 || (strncmp(r->s, rel, len) == 0 && r->s[len] == '/');
}

/* Keep the entries of V (N of them) below REL, release the others; returns how
 * many are kept (first in V). */
static size_t keep_below(struct fs *fs, struct inval *v, size_t n, const char *rel)
{
	size_t len = strlen(rel);
	size_t k = 0;
	struct rel r;

	rel_init(&r);
	for (size_t i = 0; i < n; i++) {
		if (below(fs, v[i].node, &r, rel, len)) {
			v[k++] = v[i];
			continue;
		}
		node_unpin(fs, v[i].node);
		node_unpin(fs, v[i].parent);
		free(v[i].name);
	}
	rel_fini(&r);
	return k;
}

void nodes_invalidate_below(struct fs *fs, const char *rel)
{
	struct inval *v = NULL;
	size_t n = nodes_collect(fs, false, &v);

	n = keep_below(fs, v, n, rel); /* its caller (tree_event) bumped fs->dw_untrust first */
	/* first no folder's watch or index is trusted (a lookup from now on
	 * watches it again, and one in flight gets the short timeout: its change
	 * count moved), then the kernel forgets what it cached below REL */
	for (size_t i = 0; i < n; i++) {
		atomic_store(&v[i].node->watched, 0);
		node_changed(fs, v[i].node);
	}
	for (size_t i = 0; i < n; i++) {
		if (fs->se && v[i].entry) { /* outside the lock: the kernel may call back */
			fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, v[i].parent), v[i].name,
			                                 strlen(v[i].name));
		}
		if (fs->se) { /* attributes, data, a folder's listing */
			fuse_lowlevel_notify_inval_inode(fs->se, node_id(fs, v[i].node), 0, 0);
		}
		node_unpin(fs, v[i].node);
		node_unpin(fs, v[i].parent);
		free(v[i].name);
	}
	free(v);
}
