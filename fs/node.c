/* node.c -- the nodes the kernel knows: (parent, name) -> node, node ids, inode numbers.
 *
 * A node id is the node's address (the root is FUSE_ROOT_ID). Nodes are kept
 * while the kernel holds a lookup count or a child names them as parent; no
 * file descriptor is held per node. st_ino is names_ino() of the case-folded
 * virtual path (built from the parent's state and the name), salted on a
 * collision with another live node; an entry renamed through the view keeps
 * its number and state (fs->inomap), so its children keep theirs. Every
 * function here takes fs->lock itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

#define MIN_BUCKETS 1024

struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct node *node_of(struct fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct node *)(uintptr_t)ino;
}

fuse_ino_t node_id(struct fs *fs, struct node *n)
{
	return n == &fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

static size_t name_slot(const struct fs *fs, const struct node *parent, uint64_t fold)
{
	uint64_t h = fold ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ULL);
	return (size_t)(h % fs->n_buckets);
}

static size_t ino_slot(const struct fs *fs, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) % fs->n_buckets);
}

static void hash_in(struct fs *fs, struct node *n)
{
	size_t s = name_slot(fs, n->parent, n->fold);

	n->next_name = fs->by_name[s];
	fs->by_name[s] = n;
	s = ino_slot(fs, n->ino);
	n->next_ino = fs->by_ino[s];
	fs->by_ino[s] = n;
	n->hashed = true;
}

static void unlink_chain(struct node **head, struct node *n, bool by_name)
{
	for (struct node **p = head; *p; p = by_name ? &(*p)->next_name : &(*p)->next_ino) {
		if (*p == n) {
			*p = by_name ? n->next_name : n->next_ino;
			return;
		}
	}
}

static void hash_out(struct fs *fs, struct node *n)
{
	if (!n->hashed) {
		return;
	}
	unlink_chain(&fs->by_name[name_slot(fs, n->parent, n->fold)], n, true);
	unlink_chain(&fs->by_ino[ino_slot(fs, n->ino)], n, false);
	n->hashed = false;
}

/* Double the tables when they get crowded (locked). */
static void maybe_grow(struct fs *fs)
{
	struct node **names = NULL;
	struct node **inos = NULL;
	size_t old = fs->n_buckets;

	if (fs->n_nodes < old) {
		return;
	}
	names = calloc(old * 2, sizeof(*names));
	inos = calloc(old * 2, sizeof(*inos));
	if (!names || !inos) {
		free(names);
		free(inos);
		return; /* keep the old tables: slower, still correct */
	}
	struct node **old_names = fs->by_name;
	free(fs->by_ino);
	fs->by_name = names;
	fs->by_ino = inos;
	fs->n_buckets = old * 2;
	for (size_t i = 0; i < old; i++) {
		struct node *n = old_names[i];
		while (n) {
			struct node *next = n->next_name;
			hash_in(fs, n);
			n = next;
		}
	}
	free(old_names);
}

/* The length (locked) of the names from N up to the images folder (not
 * included), joined by '/'. */
static size_t rel_len_locked(struct fs *fs, struct node *n)
{
	size_t len = 0;

	for (struct node *p = n; p && p != &fs->root && p->kind == NODE_TREE; p = p->parent) {
		len += strlen(p->name) + (len ? 1 : 0);
	}
	return len;
}

/* Those names (locked) into OUT, LEN bytes and a NUL (it has the room). */
static void rel_fill_locked(struct fs *fs, struct node *n, char *out, size_t len)
{
	size_t end = len;

	out[end] = '\0';
	for (struct node *p = n; p && p != &fs->root && p->kind == NODE_TREE; p = p->parent) {
		size_t l = strlen(p->name);
		end -= l;
		memcpy(out + end, p->name, l);
		if (end) {
			out[--end] = '/';
		}
	}
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
		len = rel_len_locked(fs, n);
		if (len < out->cap) {
			rel_fill_locked(fs, n, out->s, len);
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

/* The node named exactly NAME in PARENT (FOLD: its names_fold_hash), or with
 * ANY_CASE, else one whose name differs from it only in case. */
static struct node *find_any_locked(struct fs *fs, struct node *parent, const char *name,
                                    uint64_t fold, bool any_case)
{
	struct node *variant = NULL;

	for (struct node *n = fs->by_name[name_slot(fs, parent, fold)]; n; n = n->next_name) {
		if (n->parent != parent || n->fold != fold) {
			continue;
		}
		if (strcmp(n->name, name) == 0) {
			return n;
		}
		if (any_case && !variant && names_casecmp(n->name, name) == 0) {
			variant = n;
		}
	}
	return variant;
}

/* Nodes are named as the drive that serves them spells the name: a.txt and
 * A.txt on one drive are two nodes, and every spelling a client asks for is
 * resolved to the served one before its node is found (ops_lookup_entry). */
static struct node *find_locked(struct fs *fs, struct node *parent, const char *name, uint64_t fold)
{
	return find_any_locked(fs, parent, name, fold, false);
}

static struct alias **find_alias_locked(struct fs *fs, struct node *parent, const char *name,
                                        struct node **owner);

/* The node that has the alias (PARENT, NAME), or NULL. */
static struct node *alias_owner_locked(struct fs *fs, struct node *parent, const char *name)
{
	struct node *owner = NULL;

	return find_alias_locked(fs, parent, name, &owner) ? owner : NULL;
}

struct node *node_find_locked(struct fs *fs, struct node *parent, const char *name)
{
	uint64_t fold = names_fold_hash(name, strlen(name));
	struct node *n = find_locked(fs, parent, name, fold);

	n = n ? n : alias_owner_locked(fs, parent, name);
	return n ? n : find_any_locked(fs, parent, name, fold, true);
}

bool node_variant_locked(struct fs *fs, struct node *parent, const char *name)
{
	uint64_t fold = names_fold_hash(name, strlen(name));

	for (struct node *n = fs->by_name[name_slot(fs, parent, fold)]; n; n = n->next_name) {
		if (n->parent == parent && n->fold == fold && strcmp(n->name, name) != 0 &&
		    names_casecmp(n->name, name) == 0) {
			return true;
		}
	}
	return false;
}

static uint64_t state_of_locked(struct fs *fs, struct node *parent, const char *name,
                                struct node *n);

uint64_t node_child_ino(struct fs *fs, struct node *parent, const char *name)
{
	struct node *n = NULL;
	uint64_t ino = 0;

	pthread_mutex_lock(&fs->lock);
	n = find_locked(fs, parent, name, names_fold_hash(name, strlen(name)));
	ino = n ? n->ino : names_ino_of(state_of_locked(fs, parent, name, NULL));
	pthread_mutex_unlock(&fs->lock);
	return ino;
}

static bool ino_taken_locked(struct fs *fs, uint64_t ino)
{
	for (struct node *n = fs->by_ino[ino_slot(fs, ino)]; n; n = n->next_ino) {
		if (n->ino == ino) {
			return true;
		}
	}
	return false;
}

static void keep_state_locked(struct fs *fs, struct node *parent, const char *name,
                              uint64_t state);

/* N's state and number (locked): the one a rename left it (fs->inomap) unless
 * a live node has that number, else made from its parent's state and its
 * name, salted while a live node or a renamed entry has the number. One
 * salted for a renamed entry is recorded too: it stays when that entry goes
 * (one salted for a live node is not: that node may be the same entry, open
 * and detached at a view change). The root, the images path and the images
 * folder never take a recorded one. */
static void number_locked(struct fs *fs, struct node *n)
{
	struct node *p = n->parent;
	bool tree = n->kind == NODE_TREE;
	bool had = tree && inomap_get(fs->inomap, p->state, n->name, &n->state);
	bool by_map = false;
	unsigned salt = 0;

	if (had) {
		n->ino = names_ino_of(n->state);
		if (!ino_taken_locked(fs, n->ino)) {
			return;
		}
	}
	for (;; salt++) {
		n->state = names_ino_child(p->state, p == &fs->root, n->name, salt);
		n->ino = names_ino_of(n->state);
		bool renamed = tree && inomap_taken(fs->inomap, n->ino);
		by_map |= renamed;
		if (!renamed && !ino_taken_locked(fs, n->ino)) {
			break;
		}
	}
	if (by_map && !had) {
		keep_state_locked(fs, p, n->name, n->state);
	}
}

static int node_new_locked(struct fs *fs, struct node *parent, const char *name, struct node **out)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n || !(n->name = strdup(name))) {
		free(n);
		return -ENOMEM;
	}
	n->parent = parent;
	n->pin_fd = -1;
	n->depth = parent->depth + 1;
	n->fold = names_fold_hash(name, strlen(name));
	n->kind = n->depth < fs->img_depth    ? NODE_SYNTH
	          : n->depth == fs->img_depth ? NODE_IMAGES
	                                      : NODE_TREE;
	number_locked(fs, n);
	parent->nchildren++;
	hash_in(fs, n);
	n->next_all = fs->root.next_all;
	n->prev_all = &fs->root;
	if (n->next_all) {
		n->next_all->prev_all = n;
	}
	fs->root.next_all = n;
	fs->n_nodes++;
	maybe_grow(fs);
	*out = n;
	return 0;
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
	n = find_locked(fs, parent, name, fold);
	if (n && mode && n->told && n->not_dir == (bool)S_ISDIR(mode) && !n->aliases) {
		hash_out(fs, n); /* a folder now a file, or back: a new node, a new id */
		n = NULL;
	}
	n = n ? n : alias_owner_locked(fs, parent, name); /* a hard link made through the view */
	if (!n) {
		rc = node_new_locked(fs, parent, name, &n);
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

bool node_known_dir_locked(struct fs *fs, struct node *n)
{
	/* the root, the images path's parents and the images folder are folders */
	return n == &fs->root || n->kind != NODE_TREE || (n->told && !n->not_dir);
}

static void free_aliases_locked(struct fs *fs, struct node *n);

static void maybe_free_locked(struct fs *fs, struct node *n)
{
	while (n && n != &fs->root && n->nlookup == 0 && n->nchildren == 0 && n->pins == 0) {
		struct node *parent = n->parent;
		free_aliases_locked(fs, n);
		hash_out(fs, n);
		n->prev_all->next_all = n->next_all;
		if (n->next_all) {
			n->next_all->prev_all = n->prev_all;
		}
		fs->n_nodes--;
		dw_index_free_locked(n);
		free(n->name);
		free(n);
		parent->nchildren--;
		n = parent;
	}
}

void node_forget(struct fs *fs, struct node *n, uint64_t nlookup)
{
	pthread_mutex_lock(&fs->lock);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

void node_pin_locked(struct node *n)
{
	n->pins++;
}

void node_unpin(struct fs *fs, struct node *n)
{
	pthread_mutex_lock(&fs->lock);
	n->pins--;
	maybe_free_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);
}

static void drop_alias_locked(struct fs *fs, struct alias **link);

static void free_aliases_locked(struct fs *fs, struct node *n)
{
	while (n->aliases) {
		drop_alias_locked(fs, &n->aliases);
	}
}

/* node_add_alias -- N is also named (PARENT, NAME) now (a hard link). */
void node_add_alias(struct fs *fs, struct node *n, struct node *parent, const char *name)
{
	struct alias *a = calloc(1, sizeof(*a));

	if (!a || !(a->name = strdup(name))) {
		free(a);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	a->parent = parent;
	parent->nchildren++;
	a->next = n->aliases;
	n->aliases = a;
	fs->n_aliases++;
	pthread_mutex_unlock(&fs->lock);
}

/* Rename N to its first alias (its own name was unlinked). */
static void take_alias_locked(struct fs *fs, struct node *n)
{
	struct alias *a = n->aliases;
	struct node *old_parent = n->parent;

	hash_out(fs, n);
	n->aliases = a->next;
	fs->n_aliases--;
	free(n->name);
	n->name = a->name;
	n->parent = a->parent; /* the alias's child count moves to the node */
	n->fold = names_fold_hash(n->name, strlen(n->name));
	free(a);
	hash_in(fs, n);
	old_parent->nchildren--;
	maybe_free_locked(fs, old_parent);
}

/* The link to the alias (PARENT, NAME) of any node, or NULL (scans the nodes
 * that have aliases: hard links made through the view are rare). */
static struct alias **find_alias_locked(struct fs *fs, struct node *parent, const char *name,
                                        struct node **owner)
{
	if (fs->n_aliases == 0) {
		return NULL;
	}
	for (struct node *n = fs->root.next_all; n; n = n->next_all) {
		for (struct alias **a = &n->aliases; *a; a = &(*a)->next) {
			if ((*a)->parent == parent && strcmp((*a)->name, name) == 0) {
				*owner = n;
				return a;
			}
		}
	}
	return NULL;
}

static void drop_alias_locked(struct fs *fs, struct alias **link)
{
	struct alias *a = *link;

	*link = a->next;
	fs->n_aliases--;
	a->parent->nchildren--;
	maybe_free_locked(fs, a->parent);
	free(a->name);
	free(a);
}

/* node_unhash -- (PARENT, NAME) no longer names its node (unlink, rmdir,
 * replaced by rename): later lookups make a new node. A node with another
 * name from link() goes on under that name. */
void node_unhash(struct fs *fs, struct node *parent, const char *name)
{
	struct node *n = NULL;

	pthread_mutex_lock(&fs->lock);
	inomap_del(fs->inomap, parent->state, name); /* the name is gone; so is its number */
	n = find_locked(fs, parent, name, names_fold_hash(name, strlen(name)));
	if (n && n->aliases) {
		take_alias_locked(fs, n);
	} else if (n) {
		hash_out(fs, n);
	} else {
		struct node *owner = NULL;
		struct alias **a = find_alias_locked(fs, parent, name, &owner);
		if (a) {
			drop_alias_locked(fs, a);
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Record (locked) that (PARENT, NAME) has state STATE now (a rename): no
 * record when that is the state the name gives anyway. */
static void keep_state_locked(struct fs *fs, struct node *parent, const char *name,
                              uint64_t state)
{
	if (state == names_ino_child(parent->state, parent == &fs->root, name, 0)) {
		inomap_del(fs->inomap, parent->state, name);
	} else {
		inomap_set(fs->inomap, parent->state, name, state);
	}
}

/* The state (locked) the entry (PARENT, NAME) has: its node's, else the one
 * recorded for it, else the one its name gives. */
static uint64_t state_of_locked(struct fs *fs, struct node *parent, const char *name,
                                struct node *n)
{
	uint64_t state = 0;

	if (n) {
		return n->state;
	}
	if (inomap_get(fs->inomap, parent->state, name, &state)) {
		return state;
	}
	return names_ino_child(parent->state, parent == &fs->root, name, 0);
}

/* node_move -- after a rename: the node of (PARENT, NAME) is now (NEWPARENT,
 * NEWNAME). It keeps its inode number, recorded for the new name (fs->inomap)
 * so that it keeps it after the kernel forgot it and after a restart. */
void node_move(struct fs *fs, struct node *parent, const char *name, struct node *newparent,
               const char *newname)
{
	struct node *n = NULL;
	struct node *old = NULL;
	struct node *owner = NULL;
	struct alias **a = NULL;
	uint64_t nfold = names_fold_hash(newname, strlen(newname));
	char *copy = strdup(newname);

	pthread_mutex_lock(&fs->lock);
	n = find_locked(fs, parent, name, names_fold_hash(name, strlen(name)));
	old = find_locked(fs, newparent, newname, nfold);
	if (old && old != n) {
		hash_out(fs, old);
	}
	a = n ? NULL : find_alias_locked(fs, parent, name, &owner);
	keep_state_locked(fs, newparent, newname, state_of_locked(fs, parent, name, n ? n : owner));
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
		maybe_free_locked(fs, parent);
	} else if (n && copy) {
		hash_out(fs, n);
		free(n->name);
		n->name = copy;
		copy = NULL;
		n->fold = nfold;
		newparent->nchildren++;
		n->parent = newparent;
		hash_in(fs, n);
		parent->nchildren--;
		maybe_free_locked(fs, parent);
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
		dw_index_free_locked(n);
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

void node_opened(struct fs *fs, struct node *n, int fd, bool read_only)
{
	pthread_mutex_lock(&fs->lock);
	if (n->nopen++ == 0) {
		n->pin_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		n->pin_ro = read_only;
	}
	pthread_mutex_unlock(&fs->lock);
}

/* The pinned descriptor is closed outside the lock: a close may flush to the
 * drive (a network filesystem), and a hung drive must not stall every request. */
void node_closed(struct fs *fs, struct node *n)
{
	int fd = -1;

	pthread_mutex_lock(&fs->lock);
	if (n->nopen > 0 && --n->nopen == 0 && n->pin_fd >= 0) {
		fd = n->pin_fd;
		n->pin_fd = -1;
	}
	pthread_mutex_unlock(&fs->lock);
	if (fd >= 0) {
		close(fd);
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

char *node_detach(struct fs *fs, struct node *n, fuse_ino_t *parent)
{
	char *name = NULL;

	pthread_mutex_lock(&fs->lock);
	if (n->hashed && n->name && (name = strdup(n->name))) {
		*parent = node_id(fs, n->parent);
		hash_out(fs, n);
	}
	n->detached = true;
	pthread_mutex_unlock(&fs->lock);
	return name;
}

struct inval {
	struct node *parent; /* both pinned until notified */
	struct node *node;
	char *name;
	bool entry; /* the kernel knows the parent as a folder */
	bool open;  /* the view changed while it had open handles */
};

/* Collect (parent, node, name) of every hashed node (locked), pinned. DETACH:
 * the view changed, so open nodes are marked to be checked (detach_moved). */
static size_t collect_locked(struct fs *fs, struct inval *v, size_t cap, bool detach)
{
	size_t n = 0;

	for (struct node *p = fs->root.next_all; p && n < cap; p = p->next_all) {
		if (!p->hashed || !(v[n].name = strdup(p->name))) {
			continue;
		}
		v[n].parent = p->parent;
		v[n].node = p;
		v[n].entry = node_known_dir_locked(fs, p->parent);
		node_pin_locked(p->parent);
		node_pin_locked(p);
		v[n].open = detach && p->nopen > 0;
		n++;
	}
	return n;
}

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

	if (!fs->se) {
		return;
	}
	pthread_mutex_lock(&fs->lock);
	v = calloc(fs->n_nodes + 1, sizeof(*v));
	n = v ? collect_locked(fs, v, fs->n_nodes, detach) : 0;
	pthread_mutex_unlock(&fs->lock);
	detach_moved(fs, v, n);
	/* outside the lock: the kernel may call back into handlers that take it */
	fuse_lowlevel_notify_inval_inode(fs->se, FUSE_ROOT_ID, -1, 0);
	for (size_t i = 0; i < n; i++) {
		if (v[i].entry) {
			fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, v[i].parent),
			                                 v[i].name, strlen(v[i].name));
		}
		fuse_lowlevel_notify_inval_inode(fs->se, node_id(fs, v[i].node), 0, 0); /* attrs, data */
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
