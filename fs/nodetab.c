/* nodetab.c -- the node table's data structure: hash tables, names, aliases, numbers.
 *
 * The nodes the kernel knows, by (parent, name) and by inode number, chained
 * hash tables that double when crowded. A node id is the node's address;
 * nodes are named as the drive that serves them spells the name. st_ino is
 * names_ino() of the case-folded virtual path (built from the parent's state
 * and the name), salted on a collision with another live node; an entry
 * renamed through the view keeps its number and state (fs->inomap), so its
 * children keep theirs. An entry found on an 'inode numbers = drive' drive
 * takes its number from its drive file instead (nt_number, fileid.c), and a
 * rename records nothing for it. No lock taken here: node.c, the only caller, holds
 * fs->lock around every call (nodetab.h). No drive is reached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nodetab.h"

static size_t name_slot(const struct fs *fs, const struct node *parent, uint64_t fold)
{
	uint64_t h = fold ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ULL);
	return (size_t)(h % fs->n_buckets);
}

static size_t ino_slot(const struct fs *fs, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) % fs->n_buckets);
}

/* The name table holds the nodes a lookup may find (n->hashed). The inode
 * table holds the nodes whose st_ino a new node must not take: the hashed
 * ones, and a replaced one while it is open (its name names another file now,
 * which must not show its number: tar, rsync -H and Samba's file ids take one
 * number for one file). A node detached because its name now leads to a copy
 * on another drive (a drive left, a copy-up) is the same file for clients:
 * the name's next node takes its number (SPEC: the same path has the same
 * st_ino whichever drive serves it). */
static void name_in(struct fs *fs, struct node *n)
{
	size_t s = name_slot(fs, n->parent, n->fold);

	n->next_name = fs->by_name[s];
	fs->by_name[s] = n;
	n->hashed = true;
}

static void ino_in(struct fs *fs, struct node *n)
{
	size_t s = ino_slot(fs, n->ino);

	n->next_ino = fs->by_ino[s];
	fs->by_ino[s] = n;
	n->in_ino = true;
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

static void ino_out(struct fs *fs, struct node *n)
{
	if (n->in_ino) {
		unlink_chain(&fs->by_ino[ino_slot(fs, n->ino)], n, false);
		n->in_ino = false;
	}
}

void nt_hash_in(struct fs *fs, struct node *n)
{
	name_in(fs, n);
	if (!n->in_ino) {
		ino_in(fs, n);
	}
}

void nt_ino_settle(struct fs *fs, struct node *n)
{
	if (!n->hashed && !(n->replaced && n->nopen > 0)) {
		ino_out(fs, n);
	}
}

void nt_hash_out(struct fs *fs, struct node *n)
{
	if (n->hashed) {
		unlink_chain(&fs->by_name[name_slot(fs, n->parent, n->fold)], n, true);
		n->hashed = false;
	}
	nt_ino_settle(fs, n);
}

void nt_replaced(struct fs *fs, struct node *n)
{
	n->replaced = true;
	nt_hash_out(fs, n);
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
	free(fs->by_name);
	free(fs->by_ino);
	fs->by_name = names;
	fs->by_ino = inos;
	fs->n_buckets = old * 2;
	for (struct node *n = fs->root.next_all; n; n = n->next_all) {
		if (n->hashed) {
			name_in(fs, n);
		}
		if (n->in_ino) {
			ino_in(fs, n);
		}
	}
}

/* The length (locked) of the names from N up to the images folder (not
 * included), joined by '/'. */
size_t nt_rel_len(struct fs *fs, struct node *n)
{
	size_t len = 0;

	for (struct node *p = n; p && p != &fs->root && p->kind == NODE_TREE; p = p->parent) {
		len += strlen(p->name) + (len ? 1 : 0);
	}
	return len;
}

/* Those names (locked) into OUT, LEN bytes and a NUL (it has the room). */
void nt_rel_fill(struct fs *fs, struct node *n, char *out, size_t len)
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
struct node *nt_find(struct fs *fs, struct node *parent, const char *name, uint64_t fold)
{
	return find_any_locked(fs, parent, name, fold, false);
}

/* The link to the alias (PARENT, NAME) of any node, or NULL (scans the nodes
 * that have aliases: hard links made through the view are rare). */
struct alias **nt_find_alias(struct fs *fs, struct node *parent, const char *name,
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

/* The node that has the alias (PARENT, NAME), or NULL. */
struct node *nt_alias_owner(struct fs *fs, struct node *parent, const char *name)
{
	struct node *owner = NULL;

	return nt_find_alias(fs, parent, name, &owner) ? owner : NULL;
}

struct node *nt_find_name(struct fs *fs, struct node *parent, const char *name)
{
	uint64_t fold = names_fold_hash(name, strlen(name));
	struct node *n = nt_find(fs, parent, name, fold);

	n = n ? n : nt_alias_owner(fs, parent, name);
	return n ? n : find_any_locked(fs, parent, name, fold, true);
}

bool nt_variant(struct fs *fs, struct node *parent, const char *name)
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

static bool ino_taken_locked(struct fs *fs, uint64_t ino)
{
	for (struct node *n = fs->by_ino[ino_slot(fs, ino)]; n; n = n->next_ino) {
		if (n->ino == ino) {
			return true;
		}
	}
	return false;
}

/* Record (locked) that (PARENT, NAME) has state STATE now (a rename): no
 * record when that is the state the name gives anyway. */
void nt_keep_state(struct fs *fs, struct node *parent, const char *name, uint64_t state)
{
	if (state == names_ino_child(parent->state, parent == &fs->root, name, 0)) {
		inomap_del(fs->inomap, parent->state, name);
	} else {
		inomap_set(fs->inomap, parent->state, name, state);
	}
}

/* The state (locked) the entry (PARENT, NAME) has: its node's, else the one
 * recorded for it, else the one its name gives. */
uint64_t nt_state_of(struct fs *fs, struct node *parent, const char *name, struct node *n)
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
		nt_keep_state(fs, p, n->name, n->state);
	}
}

/* Does a node of another file than the one of drive number DNUM have number INO? */
static bool ino_other_locked(struct fs *fs, const struct node *n, uint64_t ino, uint64_t dnum)
{
	for (struct node *m = fs->by_ino[ino_slot(fs, ino)]; m; m = m->next_ino) {
		if (m != n && m->ino == ino && m->dnum != dnum) {
			return true;
		}
	}
	return false;
}

/* N's number (locked) from its drive file, DNUM (fileid_of; 0: its path number,
 * names_ino_of(state), again: its drive left the view or keeps path numbers).
 * Only an entry below the images folder that still has its name: a detached or
 * replaced node is another file than its name's and keeps its own. Nodes of
 * one drive file (hard links, a name renamed on the drive while the kernel
 * knows the old one) share the number; another file that has it (a 64-bit
 * hash collision) makes this one salted, this host's own number. The rules
 * for which drive file a name is (the highest-ranked copy of a merged folder,
 * the primary's after a copy-up) are the lookup's (loc_find). */
bool nt_number(struct fs *fs, struct node *n, uint64_t dnum)
{
	uint64_t ino = names_ino_of(n->state);
	uint64_t old = n->ino;

	if (n->kind != NODE_TREE || !n->hashed || n->dnum == dnum) {
		return false;
	}
	for (unsigned salt = 0; dnum; salt++) {
		ino = fileid_salted(dnum, salt);
		if (!ino_other_locked(fs, n, ino, dnum)) {
			break;
		}
	}
	ino_out(fs, n);
	n->ino = ino;
	n->dnum = dnum;
	ino_in(fs, n);
	return n->ino != old;
}

void nt_moved_by_drive(struct fs *fs, struct node *n, struct node *parent, const char *name)
{
	n->state = names_ino_child(parent->state, parent == &fs->root, name, 0);
	if (n->dnum == 0 && n->in_ino) { /* not numbered by its drive yet: the new path's */
		ino_out(fs, n);
		n->ino = names_ino_of(n->state);
		ino_in(fs, n);
	}
}

int nt_node_new(struct fs *fs, struct node *parent, const char *name, struct node **out)
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
	nt_hash_in(fs, n);
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

bool nt_known_dir(struct fs *fs, struct node *n)
{
	/* the root, the images path's parents and the images folder are folders */
	return n == &fs->root || n->kind != NODE_TREE || (n->told && !n->not_dir);
}

void nt_pin(struct node *n)
{
	n->pins++;
}

static void free_aliases_locked(struct fs *fs, struct node *n)
{
	while (n->aliases) {
		nt_drop_alias(fs, &n->aliases);
	}
}

void nt_drop_alias(struct fs *fs, struct alias **link)
{
	struct alias *a = *link;

	*link = a->next;
	fs->n_aliases--;
	a->parent->nchildren--;
	nt_maybe_free(fs, a->parent);
	free(a->name);
	free(a);
}

void nt_maybe_free(struct fs *fs, struct node *n)
{
	while (n && n != &fs->root && n->nlookup == 0 && n->nchildren == 0 && n->pins == 0) {
		struct node *parent = n->parent;
		free_aliases_locked(fs, n);
		nt_hash_out(fs, n);
		ino_out(fs, n);
		n->prev_all->next_all = n->next_all;
		if (n->next_all) {
			n->next_all->prev_all = n->prev_all;
		}
		fs->n_nodes--;
		nt_index_free(n);
		xc_free_locked(fs, n);
		free(n->name);
		free(n);
		parent->nchildren--;
		n = parent;
	}
}

/* Rename N to its first alias (its own name was unlinked). */
void nt_take_alias(struct fs *fs, struct node *n)
{
	struct alias *a = n->aliases;
	struct node *old_parent = n->parent;

	nt_hash_out(fs, n);
	n->aliases = a->next;
	fs->n_aliases--;
	free(n->name);
	n->name = a->name;
	n->parent = a->parent; /* the alias's child count moves to the node */
	n->fold = names_fold_hash(n->name, strlen(n->name));
	free(a);
	nt_hash_in(fs, n);
	old_parent->nchildren--;
	nt_maybe_free(fs, old_parent);
}

/* Collect (parent, node, name) of every hashed node (locked), pinned. DETACH:
 * the view changed, so open nodes are marked to be checked (detach_moved). */
size_t nt_collect(struct fs *fs, struct inval *v, size_t cap, bool detach)
{
	size_t n = 0;

	for (struct node *p = fs->root.next_all; p && n < cap; p = p->next_all) {
		if (!p->hashed || !(v[n].name = strdup(p->name))) {
			continue;
		}
		v[n].parent = p->parent;
		v[n].node = p;
		v[n].entry = nt_known_dir(fs, p->parent);
		nt_pin(p->parent);
		nt_pin(p);
		v[n].open = detach && p->nopen > 0;
		n++;
	}
	return n;
}

/* Locked. The node of folder REL (relative to the images folder), or NULL
 * when the kernel does not know it. */
struct node *nt_find_rel(struct fs *fs, const char *rel)
{
	struct node *n = &fs->root;
	char c[NAME_MAX + 1];

	for (unsigned i = 0; n && i < fs->img_depth; i++) {
		n = nt_find_name(fs, n, fs->img_parts[i]);
	}
	for (const char *p = rel; n && *p; p += *p == '/') {
		size_t len = strcspn(p, "/");
		if (len >= sizeof(c)) {
			return NULL;
		}
		memcpy(c, p, len);
		c[len] = '\0';
		p += len;
		n = len ? nt_find_name(fs, n, c) : n;
	}
	return n;
}

void nt_index_free(struct node *n)
{
	if (n->index) {
		names_set_fini(n->index);
		free(n->index);
		n->index = NULL;
	}
}

/* May the kernel keep its page cache of N? Yes when the backing file is the
 * one it cached at the last open and unchanged since (same drive file, size,
 * mtime and ctime: a writer may set the mtime back, never the ctime): writes
 * through the view went through that cache anyway. */
bool nt_cache_valid(const struct node *n, const struct stat *st)
{
	return n->cached.st_dev == st->st_dev && n->cached.st_ino == st->st_ino &&
	       n->cached.st_size == st->st_size && n->cached.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	       n->cached.st_mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       n->cached.st_ctim.tv_sec == st->st_ctim.tv_sec &&
	       n->cached.st_ctim.tv_nsec == st->st_ctim.tv_nsec;
}

bool nt_keep_cache(struct node *n, const struct stat *st)
{
	bool keep = nt_cache_valid(n, st);

	n->cached = *st;
	return keep;
}

/* Locked. Are N's open handles on another drive file than ST? One kernel inode
 * is one file, as natively: its locks, its page cache and a reopen through
 * /proc/self/fd of any handle mean that file. Only a detached node (no path
 * reaches it) whose handles are all daemon-served may mix: a write open of a
 * node pinned on a read-only drive gets the written copy (see do_open). */
bool nt_elsewhere(const struct node *n, const struct stat *st)
{
	if (n->n_cached + n->pt_refs == 0) {
		return false;
	}
	if (n->open_dev == st->st_dev && n->open_ino == st->st_ino) {
		return false;
	}
	return !(n->detached && n->pt_refs == 0);
}
