/* node.c -- the node table's owner: the one file that takes fs->lock.
 *
 * The nodes the kernel knows ((parent, name) -> node, node ids, inode
 * numbers: nodetab.c), their open handles' bookkeeping (the pinned
 * descriptor, the kernel's I/O mode and backing id) and the folders' indexes
 * of names (dirwatch.c's long caching). Every function here takes fs->lock
 * itself, runs a few table operations (nodetab.h) and lets go; none calls out
 * of fs/'s bottom (node.c, nodetab.c, rel.c, inomap.c). Nothing under the lock
 * reaches a drive: only the inode map's log append (in the state directory)
 * and the backing-id ioctl on /dev/fuse (io_mode_locked) run there. A node
 * id is the node's address (the root is FUSE_ROOT_ID); nodes are kept while
 * the kernel holds a lookup count or a child names them as parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodetab.h"

#define MIN_BUCKETS 1024

struct node *node_of(struct fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct node *)(uintptr_t)ino;
}

fuse_ino_t node_id(struct fs *fs, struct node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

int node_rel(struct fs *fs, struct node *n, struct rel *out)
{
	size_t len = 0;
	int rc = 0;

	if (n->kind == NODE_SYNTH) {
		return -ENOENT;
	}
	/* no allocation under the lock: a longer path (a rename meanwhile) asks again */
	for (;;) {
		pthread_mutex_lock(&fs->lock);
		len = nt_rel_len(fs, n);
		if (len < out->cap) {
			nt_rel_fill(fs, n, out->s, len);
			out->len = len;
		}
		pthread_mutex_unlock(&fs->lock);
		if (len < out->cap) {
			return 0;
		}
		rc = rel_reserve(out, len);
		if (rc < 0) {
			return rc;
		}
	}
}

int node_rel_child(struct fs *fs, struct node *parent, const char *name, struct rel *out)
{
	int rc = node_rel(fs, parent, out);

	return rc < 0 ? rc : rel_join(out, name);
}

uint64_t node_child_ino(struct fs *fs, struct node *parent, const char *name, uint64_t dnum)
{
	struct node *n = NULL;
	uint64_t ino = 0;

	pthread_mutex_lock(&fs->lock);
	n = nt_find(fs, parent, name, names_fold_hash(name, strlen(name)));
	ino = n ? n->ino : dnum ? dnum : names_ino_of(nt_state_of(fs, parent, name, NULL));
	pthread_mutex_unlock(&fs->lock);
	return ino;
}

/* node_get -- the node for (PARENT, NAME), created if new, with one more
 * kernel lookup counted. */
int node_get(struct fs *fs, struct node *parent, const char *name, struct node **out)
{
	return node_get_as(fs, parent, name, 0, out);
}

int node_get_as(struct fs *fs, struct node *parent, const char *name, mode_t mode,
                struct node **out)
{
	uint64_t fold = names_fold_hash(name, strlen(name));
	struct node *n = NULL;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	n = nt_find(fs, parent, name, fold);
	if (n && mode && n->told && n->not_dir == (bool)S_ISDIR(mode) && !n->aliases) {
		nt_replaced(fs, n); /* a folder now a file, or back: a new node, a new id */
		n = NULL;
	}
	n = n ? n : nt_alias_owner(fs, parent, name); /* a hard link made through the view */
	if (!n) {
		rc = nt_node_new(fs, parent, name, &n);
	}
	if (rc == 0) {
		n->nlookup++;
		if (mode) { /* the type the kernel's inode for this id gets */
			n->not_dir = !S_ISDIR(mode);
			n->told = true;
		}
		*out = n;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

void node_forget(struct fs *fs, struct node *n, uint64_t nlookup)
{
	pthread_mutex_lock(&fs->lock);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	nt_maybe_free(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

void node_unpin(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	n->pins--;
	nt_maybe_free(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

/* Locked. (PARENT, NAME) names nothing the table knows any more: its node
 * (replaced: open, it keeps its number) and every alias with that name, which
 * outlived their name when it was removed on a drive behind the view. A later
 * lookup or create must never find another file by them. */
static void name_gone_locked(struct fs *fs, struct node *parent, const char *name)
{
	struct node *n = nt_find(fs, parent, name, names_fold_hash(name, strlen(name)));
	struct node *owner = NULL;
	struct alias **a = NULL;

	if (n && n->aliases) {
		nt_take_alias(fs, n);
	} else if (n) {
		nt_replaced(fs, n);
	}
	while ((a = nt_find_alias(fs, parent, name, &owner))) {
		nt_drop_alias(fs, a);
	}
}

/* node_add_alias -- N is also named (PARENT, NAME) now (a hard link). The name
 * did not exist before the link: whatever the table still holds by it is stale. */
void node_add_alias(struct fs *fs, struct node *n, struct node *parent, const char *name)
{
	struct alias *a = calloc(1, sizeof(*a));

	if (!a || !(a->name = strdup(name))) {
		free(a);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	name_gone_locked(fs, parent, name);
	a->parent = parent;
	parent->nchildren++;
	a->next = n->aliases;
	n->aliases = a;
	fs->n_aliases++;
	pthread_mutex_unlock(&fs->lock);
}

/* node_unhash -- (PARENT, NAME) no longer names its node (unlink, rmdir,
 * replaced by rename): later lookups make a new node. A node with another
 * name from link() goes on under that name. */
void node_unhash(struct fs *fs, struct node *parent, const char *name)
{
	pthread_mutex_lock(&fs->lock);
	inomap_del(fs->inomap, parent->state, name); /* the name is gone; so is its number */
	name_gone_locked(fs, parent, name);
	pthread_mutex_unlock(&fs->lock);
}

bool node_number(struct fs *fs, struct node *n, uint64_t dnum)
{
	bool changed = false;

	pthread_mutex_lock(&fs->lock);
	changed = nt_number(fs, n, dnum);
	pthread_mutex_unlock(&fs->lock);
	return changed;
}

char *node_name(struct fs *fs, struct node *n, fuse_ino_t *parent)
{
	char *name = NULL;

	pthread_mutex_lock(&fs->lock);
	if (n->hashed && n->name && (name = strdup(n->name))) {
		*parent = node_id(fs, n->parent);
	}
	pthread_mutex_unlock(&fs->lock);
	return name;
}

/* node_move -- after a rename: the node of (PARENT, NAME) is now (NEWPARENT,
 * NEWNAME). It keeps its inode number, recorded for the new name (fs->inomap)
 * so that it keeps it after the kernel forgot it and after a restart; BY_DRIVE,
 * its number follows its drive file on every host: nothing is recorded (and a
 * record the new name had is dropped). */
void node_move(struct fs *fs, struct node *parent, const char *name, struct node *newparent,
               const char *newname, bool by_drive)
{
	struct node *n = NULL;
	struct node *old = NULL;
	struct node *owner = NULL;
	struct alias **a = NULL;
	uint64_t nfold = names_fold_hash(newname, strlen(newname));
	char *copy = strdup(newname);

	pthread_mutex_lock(&fs->lock);
	n = nt_find(fs, parent, name, names_fold_hash(name, strlen(name)));
	old = nt_find(fs, newparent, newname, nfold);
	if (old && old != n) {
		nt_replaced(fs, old);
	}
	a = n ? NULL : nt_find_alias(fs, parent, name, &owner);
	if (by_drive) {
		inomap_del(fs->inomap, newparent->state, newname);
	} else {
		nt_keep_state(fs, newparent, newname, nt_state_of(fs, parent, name, n ? n : owner));
	}
	if (parent != newparent || strcmp(name, newname) != 0) {
		inomap_del(fs->inomap, parent->state, name);
	}
	if (a && copy) {
		free((*a)->name);
		(*a)->name = copy;
		copy = NULL;
		newparent->nchildren++;
		(*a)->parent = newparent;
		parent->nchildren--;
		nt_maybe_free(fs, parent);
	} else if (n && copy) {
		nt_hash_out(fs, n);
		free(n->name);
		n->name = copy;
		copy = NULL;
		n->fold = nfold;
		newparent->nchildren++;
		n->parent = newparent;
		nt_hash_in(fs, n);
		if (by_drive) {
			nt_moved_by_drive(fs, n, newparent, n->name);
		}
		parent->nchildren--;
		nt_maybe_free(fs, parent);
	}
	pthread_mutex_unlock(&fs->lock);
	free(copy);
}

void nodes_load_inomap(struct fs *fs, const char *state_dir, const char *mountpoint)
{
	pthread_mutex_lock(&fs->lock);
	inomap_open(fs->inomap, state_dir, mountpoint);
	pthread_mutex_unlock(&fs->lock);
}

int nodes_init(struct fs *fs)
{
	fs->inomap = inomap_new();
	fs->root.state = names_ino_root_state();
	fs->n_buckets = MIN_BUCKETS;
	fs->by_name = calloc(fs->n_buckets, sizeof(*fs->by_name));
	fs->by_ino = calloc(fs->n_buckets, sizeof(*fs->by_ino));
	fs->root.ino = FUSE_ROOT_ID;
	fs->root.kind = fs->img_depth == 0 ? NODE_IMAGES : NODE_SYNTH;
	fs->root.nlookup = 1;
	return fs->by_name && fs->by_ino && fs->inomap ? 0 : -ENOMEM;
}

void nodes_fini(struct fs *fs)
{
	struct node *n = fs->root.next_all;

	while (n) {
		struct node *next = n->next_all;
		while (n->aliases) {
			struct alias *a = n->aliases;
			n->aliases = a->next;
			free(a->name);
			free(a);
		}
		nt_index_free(n);
		xc_free_locked(fs, n);
		free(n->name);
		free(n);
		n = next;
	}
	fs->root.next_all = NULL;
	free(fs->by_name);
	free(fs->by_ino);
	inomap_free(fs->inomap);
	fs->inomap = NULL;
	fs->by_name = NULL;
	fs->by_ino = NULL;
}

/* The first handle's own descriptor is the node's pin, not a dup of it (issue
 * 18: one syscall less per open and per release); node_closed keeps it open
 * while other handles are. A dup would share its open file description too. */
void node_opened(struct fs *fs, struct node *n, int fd, bool read_only)
{
	pthread_mutex_lock(&fs->lock);
	if (n->nopen++ == 0) {
		n->pin_fd = fd;
		n->pin_ro = read_only;
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Descriptors are closed outside the lock: a close may flush to the drive (a
 * network filesystem), and a hung drive must not stall every request. */
void node_closed(struct fs *fs, struct node *n, int fd)
{
	int pin = -1;

	pthread_mutex_lock(&fs->lock);
	if (n->nopen > 0) {
		if (fd == n->pin_fd) {
			fd = -1; /* the pin: closed with the last handle */
		}
		if (--n->nopen == 0) {
			pin = n->pin_fd;
			n->pin_fd = -1;
		}
	}
	nt_ino_settle(fs, n); /* a replaced node's number is free once it is closed */
	pthread_mutex_unlock(&fs->lock);
	if (fd >= 0) {
		close(fd);
	}
	if (pin >= 0) {
		close(pin);
	}
}

int node_pinned(struct fs *fs, struct node *n, bool *read_only)
{
	int fd = -1;

	pthread_mutex_lock(&fs->lock);
	if ((n->detached || !n->hashed) && n->nopen > 0 && n->pin_fd >= 0) {
		fd = fcntl(n->pin_fd, F_DUPFD_CLOEXEC, 0);
		*read_only = n->pin_ro;
	}
	pthread_mutex_unlock(&fs->lock);
	return fd;
}

int node_open_fd(struct fs *fs, struct node *n)
{
	int fd = -1;

	pthread_mutex_lock(&fs->lock);
	if (n->nopen > 0 && n->pin_fd >= 0 && !n->pin_ro) {
		fd = fcntl(n->pin_fd, F_DUPFD_CLOEXEC, 0);
	}
	pthread_mutex_unlock(&fs->lock);
	return fd;
}

void node_copied_up(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	xc_free_locked(fs, n); /* another file now */
	if (n->nopen > 0) {
		n->pin_ro = true;
	}
	pthread_mutex_unlock(&fs->lock);
}

char *node_detach(struct fs *fs, struct node *n, fuse_ino_t *parent)
{
	char *name = NULL;

	pthread_mutex_lock(&fs->lock);
	if (n->hashed && n->name && (name = strdup(n->name))) {
		*parent = node_id(fs, n->parent);
		nt_hash_out(fs, n);
	}
	n->detached = true;
	pthread_mutex_unlock(&fs->lock);
	return name;
}

size_t nodes_count(struct fs *fs)
{
	size_t n = 0;

	pthread_mutex_lock(&fs->lock);
	n = fs->n_nodes;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

void node_lookup_add(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	n->nlookup++;
	pthread_mutex_unlock(&fs->lock);
}

uint64_t node_dot_ino(struct fs *fs, struct node *dir, bool dotdot)
{
	uint64_t ino = 0;

	pthread_mutex_lock(&fs->lock);
	ino = dotdot && dir->parent ? dir->parent->ino : dir->ino;
	pthread_mutex_unlock(&fs->lock);
	return ino;
}

void node_pin(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	nt_pin(n);
	pthread_mutex_unlock(&fs->lock);
}

bool node_known_dir(struct fs *fs, struct node *n)
{
	bool dir = false;

	pthread_mutex_lock(&fs->lock);
	dir = nt_known_dir(fs, n);
	pthread_mutex_unlock(&fs->lock);
	return dir;
}

bool node_is_detached(struct fs *fs, struct node *n)
{
	bool detached = false;

	pthread_mutex_lock(&fs->lock);
	detached = n->detached;
	pthread_mutex_unlock(&fs->lock);
	return detached;
}

size_t nodes_collect(struct fs *fs, bool detach, struct inval **out)
{
	size_t n = 0;

	pthread_mutex_lock(&fs->lock);
	*out = calloc(fs->n_nodes + 1, sizeof(**out));
	n = *out ? nt_collect(fs, *out, fs->n_nodes, detach) : 0;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

/* A folder's index of names (dirwatch.c's long caching) lives on its node. */
bool node_watched(struct fs *fs, struct node *dir)
{
	return dir && (dir->kind == NODE_SYNTH ||
	               atomic_load(&dir->watched) == atomic_load(&fs->dw_epoch));
}

bool node_in_watched(struct fs *fs, struct node *n)
{
	bool in = false;

	pthread_mutex_lock(&fs->lock);
	in = fs->dw && (n->kind == NODE_SYNTH || node_watched(fs, n->parent));
	pthread_mutex_unlock(&fs->lock);
	return in;
}

void node_changed(struct fs *fs, struct node *dir)
{
	pthread_mutex_lock(&fs->lock);
	dir->changes++;
	nt_index_free(dir);
	pthread_mutex_unlock(&fs->lock);
}

uint64_t node_index_begin(struct fs *fs, struct node *dir, uint64_t *epoch)
{
	uint64_t changes = 0;

	pthread_mutex_lock(&fs->lock);
	changes = dir->changes;
	*epoch = atomic_load(&fs->dw_epoch);
	pthread_mutex_unlock(&fs->lock);
	return changes;
}

void node_index_store(struct fs *fs, struct node *dir, struct names_set *set, uint64_t changes,
                      uint64_t epoch)
{
	pthread_mutex_lock(&fs->lock);
	/* only if nothing changed while listing, and the folder was watched all along */
	if (fs->dw && dir->changes == changes && atomic_load(&fs->dw_epoch) == epoch &&
	    atomic_load(&dir->watched) == epoch) {
		nt_index_free(dir);
		dir->index = set;
		dir->index_epoch = epoch;
		dir->index_names = names_set_count(set);
		set = NULL;
	}
	pthread_mutex_unlock(&fs->lock);
	if (set) {
		names_set_fini(set);
		free(set);
	}
}

bool node_unchanged(struct fs *fs, struct node *dir, uint64_t changes)
{
	bool same = false;

	pthread_mutex_lock(&fs->lock);
	same = fs->dw && dir->changes == changes && node_watched(fs, dir);
	pthread_mutex_unlock(&fs->lock);
	return same;
}

bool node_absent(struct fs *fs, struct node *dir, const char *name)
{
	bool absent = false;

	pthread_mutex_lock(&fs->lock);
	if (dir->index && dir->index_epoch == atomic_load(&fs->dw_epoch) &&
	    atomic_load(&dir->watched) == dir->index_epoch) {
		absent = !names_set_has(dir->index, name);
	}
	pthread_mutex_unlock(&fs->lock);
	return absent;
}

/* A listing of N names costs about what N/32 walks of the drives for a missing name do
 * (getdents and the set against openat2, fstat and close). A folder written to (a miss, then
 * a create, as Samba makes each file) is never listed for its misses. */
#define MISSES_PER_LISTING 32

bool node_miss_index(struct fs *fs, struct node *dir)
{
	bool want = false;

	pthread_mutex_lock(&fs->lock);
	if (dir->miss_changes != dir->changes) {
		dir->miss_changes = dir->changes;
		dir->misses = 0;
	}
	dir->misses++;
	/* at the threshold, and again each time as many misses later (a listing that raced a
	 * change kept no index): at most one listing per that many misses, however many
	 * threads miss at once */
	uint64_t enough = 2 + dir->index_names / MISSES_PER_LISTING;
	want = !dir->index && dir->misses % enough == 0;
	pthread_mutex_unlock(&fs->lock);
	return want;
}

void nodes_event(struct fs *fs, struct node_event *e)
{
	pthread_mutex_lock(&fs->lock);
	e->dir = nt_find_rel(fs, e->rel);
	e->child = e->dir && e->name ? nt_find_name(fs, e->dir, e->name) : NULL;
	if (e->dir) {
		nt_pin(e->dir); /* its id must name it until notified */
		if (e->unwatch) {
			atomic_fetch_add(&fs->dw_untrust, 1); /* first: dw_watch_dir */
			atomic_store(&e->dir->watched, 0);
		}
		if (e->names) {
			e->dir->changes++;
			nt_index_free(e->dir);
		}
	}
	e->variant = e->dir && e->name && e->entries && nt_variant(fs, e->dir, e->name);
	/* the kernel refuses an entry below a node it knows as a file (ENOTDIR) */
	e->as_dir = e->dir && nt_known_dir(fs, e->dir);
	e->up = e->as_dir && e->variant && e->dir->parent ? e->dir->parent : NULL;
	e->prune = e->up ? strdup(e->dir->name) : NULL;
	if (e->up) {
		nt_pin(e->up);
	}
	/* an open file's name may now name another file (checked outside the lock) */
	e->open = e->child && e->entries && e->child->n_cached + e->child->pt_refs > 0;
	if (e->dir && !e->name) {
		xc_free_locked(fs, e->dir); /* the folder's own event */
	}
	if (e->child) {
		xc_free_locked(fs, e->child); /* any event naming it: its xattrs may have changed */
		nt_pin(e->child);
		if (e->entries) {
			atomic_fetch_add(&fs->dw_untrust, 1); /* first: dw_watch_dir */
			atomic_store(&e->child->watched, 0); /* maybe a new copy on another drive */
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Locked. Are N's handles on another file than ST, the file its name names
 * now? When that file is on the same drive, N's file was replaced there (not
 * moved to another drive's copy): N keeps its st_ino to itself while open. */
static bool elsewhere_locked(struct node *n, const struct stat *st)
{
	bool other = nt_elsewhere(n, st);

	if (other && st->st_dev == n->open_dev) {
		n->replaced = true;
	}
	return other;
}

/* How the kernel does I/O on N's open handles (passthrough.c decides). */
bool node_elsewhere(struct fs *fs, struct node *n, const struct stat *st)
{
	bool other = false;

	pthread_mutex_lock(&fs->lock);
	other = !n->detached && elsewhere_locked(n, st);
	pthread_mutex_unlock(&fs->lock);
	return other;
}

bool node_moved(struct fs *fs, struct node *n, const struct stat *st)
{
	bool moved = false;

	pthread_mutex_lock(&fs->lock);
	moved = n->detached || elsewhere_locked(n, st);
	pthread_mutex_unlock(&fs->lock);
	return moved;
}

bool node_open_file(struct fs *fs, struct node *n, dev_t *dev, ino_t *ino)
{
	bool open = false;

	pthread_mutex_lock(&fs->lock);
	open = n->n_cached + n->pt_refs > 0;
	*dev = n->open_dev;
	*ino = n->open_ino;
	pthread_mutex_unlock(&fs->lock);
	return open;
}

/* Locked. The mode of a new handle of N (backing file ST). The backing-id
 * ioctl on /dev/fuse (io->backing_open) runs under fs->lock, the one syscall
 * that does: every passthrough handle of N must share one backing id. */
static int io_mode_locked(struct fs *fs, struct node *n, const struct stat *st,
                          struct node_io *io)
{
	int id = 0;

	if (!S_ISREG(st->st_mode) || n->n_cached > 0) {
		return FH_CACHED;
	}
	/* One mode per inode while it is open (the kernel fails a cached open of an inode in
	 * passthrough with EIO): open handles in passthrough are joined even when no new backing
	 * file is wanted (the drive stopped being passed through since) */
	if (n->pt_refs > 0) { /* on the same backing file: nt_elsewhere said so */
		n->pt_refs++;
		io->backing_id = n->pt_id;
		return FH_PASSTHROUGH;
	}
	/* A small file read again, unchanged, in a watched folder (a change on the drive drops
	 * the kernel's cache of it: dirwatch.c) is read from the kernel's page cache: cached
	 * mode, keep_cache (PT_CACHED_MAX) */
	if (!io->want || (!io->writes && st->st_size <= PT_CACHED_MAX && fs->dw &&
	                  node_watched(fs, n->parent) && nt_cache_valid(n, st))) {
		return FH_CACHED;
	}
	id = io->backing_open(io->arg);
	if (id <= 0) {
		return FH_CACHED;
	}
	n->pt_refs = 1;
	n->pt_id = id;
	io->backing_id = id;
	return FH_PASSTHROUGH;
}

int node_io_open(struct fs *fs, struct node *n, const struct stat *st, struct node_io *io)
{
	int mode = FH_CACHED;

	pthread_mutex_lock(&fs->lock);
	if (elsewhere_locked(n, st)) {
		mode = -ESTALE;
	} else if (n->n_cached + n->pt_refs == 0) {
		n->open_dev = st->st_dev;
		n->open_ino = st->st_ino;
	}
	mode = mode < 0 ? mode : io_mode_locked(fs, n, st, io);
	if (mode == FH_CACHED) {
		n->n_cached++;
		io->keep_cache = nt_keep_cache(n, st);
	} else if (mode == FH_PASSTHROUGH) {
		io->keep_cache = false;
		n->pt_writers += io->writes;
		/* a passthrough write goes to the drive, past the kernel's page cache of N:
		 * no snapshot while one may come */
		if (n->pt_writers == 0) {
			n->cached = *st;
		} else {
			memset(&n->cached, 0, sizeof(n->cached));
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return mode;
}

int node_io_close(struct fs *fs, struct node *n, enum fh_io io, bool writes)
{
	int id = 0;

	pthread_mutex_lock(&fs->lock);
	if (io == FH_CACHED && n->n_cached > 0) {
		n->n_cached--;
	} else if (io == FH_PASSTHROUGH && n->pt_refs > 0) {
		n->pt_writers -= writes && n->pt_writers > 0;
		if (--n->pt_refs == 0) {
			id = n->pt_id;
			n->pt_id = 0;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return id;
}
