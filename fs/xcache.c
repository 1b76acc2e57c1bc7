/* xcache.c -- the user.* extended attributes of entries in watched folders, kept as read.
 *
 * Samba asks for a file's DOS attributes (user.DOSATTRIB) for every entry it lists and three
 * times for every file it serves, and the kernel keeps no user.* answer: each is a GETXATTR
 * that walks the drive. In a folder the view watches (dirwatch.c), every change of an entry's
 * xattrs on a drive is an event (IN_ATTRIB) naming it, so the answer read from the drive,
 * value or "none", stays right until such an event, and the view keeps it on the node the way
 * the kernel keeps the entry's attributes there: nodes_event drops a node's xattrs at every
 * event naming it, and the view's own setxattr and removexattr drop them after the change.
 *
 * Kept only: user.* names (the kernel keeps the ACLs itself); a node below the images folder
 * that still has its name (not detached or replaced), in a folder watched in this watch epoch
 * (a view change or a lost event starts a new one); a regular file with one link, or a folder
 * (a change through another link is an event in that link's folder only); read by path (the
 * copy a lookup finds), a whole value of at most XC_VALUE_MAX bytes or its absence; at most
 * XC_NAMES names per node and XC_BYTES_MAX bytes in all. A read that raced a change is not
 * kept: the node's xgen, taken with the miss, must be unchanged when the answer is stored.
 * A second link made after the answer was kept (link() is no event in the first name's folder)
 * ends it when the view next finds the file (xc_seen: a lookup, a GETATTR, a listing), and
 * nothing is answered from what was kept more than fs->long_timeout (60 s) ago: the kernel
 * keeps a watched folder's attributes that long, with the same blind spot.
 * Every function takes fs->lock, but xc_free_locked (caller holds it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_int.h"

#define XC_VALUE_MAX 256
#define XC_NAMES     4
#define XC_BYTES_MAX (4u << 20)

struct xc_ent {
	struct xc_ent *next;
	ssize_t len; /* the value's length, or -ENODATA: the entry has no such xattr */
	size_t bytes;
	char name[]; /* then the value (LEN bytes) */
};

static char *ent_value(struct xc_ent *e)
{
	return e->name + strlen(e->name) + 1;
}

bool xc_wanted(const char *name)
{
	return strncmp(name, "user.", 5) == 0;
}

/* Locked. May N's xattrs be kept (or used) now? */
static bool usable_locked(struct fs *fs, const struct node *n)
{
	return fs->dw && n->kind == NODE_TREE && n->hashed && !n->detached && !n->replaced &&
	       n->parent && node_watched(fs, n->parent);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xc_free_locked(struct fs *fs, struct node *n)
{
	while (n->xc) {
		struct xc_ent *e = n->xc;
		n->xc = e->next;
		fs->xc_bytes -= e->bytes;
		free(e);
	}
	n->xgen++;
}

int xc_get(struct fs *fs, struct node *n, const char *name, char *buf, size_t size,
           ssize_t *len, struct xc_ticket *t)
{
	int hit = 0;

	t->ok = false;
	pthread_mutex_lock(&fs->lock);
	if (n->xc && (n->xc_epoch != atomic_load(&fs->dw_epoch) ||
	              now_ms() - n->xc_since > (uint64_t)(fs->long_timeout * 1000))) {
		xc_free_locked(fs, n); /* from an earlier watch epoch, or too old */
	}
	if (usable_locked(fs, n)) {
		t->ok = true;
		t->gen = n->xgen;
		t->epoch = atomic_load(&fs->dw_epoch);
		for (struct xc_ent *e = n->xc; e; e = e->next) {
			if (strcmp(e->name, name) != 0) {
				continue;
			}
			hit = 1;
			if (e->len < 0 || size == 0) {
				*len = e->len;
			} else if (size < (size_t)e->len) {
				*len = -ERANGE;
			} else {
				memcpy(buf, ent_value(e), (size_t)e->len);
				*len = e->len;
			}
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (hit) {
		atomic_fetch_add(&fs->n_xattr_cached, 1);
	}
	return hit;
}

void xc_keep(struct fs *fs, struct node *n, const struct xc_ticket *t, const struct stat *st,
             const char *name, const char *value, ssize_t len)
{
	size_t nlen = strlen(name);
	size_t vlen = len > 0 ? (size_t)len : 0;
	struct xc_ent *e = NULL;
	unsigned count = 0;

	if (!t->ok || (len < 0 && len != -ENODATA) || vlen > XC_VALUE_MAX ||
	    !(S_ISDIR(st->st_mode) || (S_ISREG(st->st_mode) && st->st_nlink == 1))) {
		return;
	}
	e = malloc(sizeof(*e) + nlen + 1 + vlen);
	if (!e) {
		return;
	}
	e->len = len;
	e->bytes = sizeof(*e) + nlen + 1 + vlen;
	memcpy(e->name, name, nlen + 1);
	if (vlen) {
		memcpy(ent_value(e), value, vlen);
	}
	pthread_mutex_lock(&fs->lock);
	for (struct xc_ent *o = n->xc; o; o = o->next) {
		count++;
		if (strcmp(o->name, name) == 0) {
			count = XC_NAMES; /* another read kept it first */
			break;
		}
	}
	if (usable_locked(fs, n) && n->xgen == t->gen && atomic_load(&fs->dw_epoch) == t->epoch &&
	    count < XC_NAMES && fs->xc_bytes + e->bytes <= XC_BYTES_MAX) {
		if (!n->xc) {
			n->xc_since = now_ms();
		}
		n->xc_epoch = t->epoch;
		e->next = n->xc;
		n->xc = e;
		fs->xc_bytes += e->bytes;
		e = NULL;
	}
	pthread_mutex_unlock(&fs->lock);
	free(e);
}

void xc_seen(struct fs *fs, struct node *n, const struct stat *st)
{
	if (S_ISREG(st->st_mode) && st->st_nlink != 1) {
		pthread_mutex_lock(&fs->lock);
		if (n->xc) {
			xc_free_locked(fs, n);
		}
		pthread_mutex_unlock(&fs->lock);
	}
}

void xc_drop(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	xc_free_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);
}
