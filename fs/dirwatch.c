/* dirwatch.c -- long kernel caching, with invalidation when a drive changes
 * outside the view.
 *
 * The kernel may keep names, attributes and directory listings of the view
 * for fs->long_timeout (instead of a second) where the daemon watches every
 * copy of the folder with inotify: before it answers a lookup in a folder or
 * lists it, the folder is watched on every drive that has it. A change made
 * on a drive directly (another program, `migrate`, an administrator) then
 * reaches this thread, which tells the kernel to forget that name, the
 * file's attributes and cached data, and the folder's listing. Elsewhere
 * (a folder that could not be watched, a network or FUSE drive whose changes
 * inotify does not see) the short timeouts stay. Watches do not pin a drive:
 * the kernel drops them when it is unmounted (IN_UNMOUNT, IN_IGNORED).
 *
 * Request handlers that must not notify the kernel themselves (it may hold the
 * folder locked) queue the entry to drop for this thread: dw_drop_entry.
 *
 * Negative entries: a name missing from a watched folder is cached by the
 * kernel for fs->long_timeout too. Each spelling so answered is recorded here
 * (struct neg, until its timeout ends) and the kernel's entry for it is dropped
 * on every event that can make the name exist: a create or a move into any
 * copy of the folder of any spelling of it (the case rule: a miss of FOO.WIM
 * dies when foo.wim appears), a folder of that name appearing (its own records
 * too), a view change or lost events (all of them: dw_neg_drop_all). The drop
 * goes to the kernel by name, which it serializes with a lookup still in
 * flight in that folder (both take the folder's lock): a miss answered just
 * before the name appeared is dropped after the kernel stored it. A miss
 * recorded after the event was handled sees the folder's change count moved
 * (ops_attr.c) and gets the short timeout.
 *
 * A folder that comes, goes or moves on a drive (an IN_ISDIR entry event, a
 * watched folder's IN_MOVE_SELF) may bring a whole tree, or take one away
 * while the view still knows its folders: their watches stay on the old
 * folders (inotify follows the inode) or miss the new copy. When a folder
 * below it is watched, the watches below end, no folder's watch or index
 * there is trusted any more and the kernel forgets what it cached there
 * (tree_event, nodes_invalidate_below): the next lookup watches each folder
 * again, within the usual limits (DW_REL_MAX, max_user_watches: short
 * timeouts past them), as it does a new folder.
 *
 * Writes through open descriptors are seen at close (IN_CLOSE_WRITE), not
 * per write: IN_MODIFY would drop the page cache of files being written
 * through the view itself at every write.
 *
 * This file owns the inotify descriptor, the watch descriptors' folders and
 * the queue of entries to drop (dw->lock, never held with another lock). What
 * an event means for the nodes, and each folder's index of names, are
 * node.c's (nodes_event, node_index_*): it takes fs->lock, this file never
 * does; the notifications go out with no lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"

#define DW_MASK                                                                                    \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define DW_ENTRIES (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
/* Each watch keeps its folder's path: a folder deeper than this below the
 * images folder is not watched (short timeouts there), so a hostile chain of
 * folders cannot make the watches hold the square of its depth (gigabytes). */
#define DW_REL_MAX (64 * 1024)
/* Recorded negative entries: hash slots, and at most this many bytes of
 * records (a hostile client's long names included); beyond it a miss gets the
 * short timeout. */
#define NEG_SLOTS 16384
#define NEG_BYTES (8u << 20)

/* A missing name the kernel may cache for long: PARENT's entry NAME. */
struct neg {
	struct neg *next;
	struct node *dir; /* pinned: its id names it until the record goes */
	fuse_ino_t parent;
	uint64_t fold;    /* names_fold_hash of name */
	uint64_t expires; /* CLOCK_MONOTONIC ns: the kernel has forgotten it by then */
	char name[];
};

/* A kernel entry a request handler wants dropped (dw_drop_entry). */
struct drop {
	struct node *parent; /* pinned until notified */
	char *name;
	struct drop *next;
};

struct dirwatch {
	struct fs *fs;
	int ifd;
	int stop_fd;
	int wake_fd;          /* dw_drop_entry queued an entry */
	pthread_t thread;
	pthread_mutex_t lock; /* guards rels and drops */
	char **rels;          /* watch descriptor -> folder, relative to the images folder */
	size_t n_rels;
	struct drop *drops;
	struct neg **negs;    /* NEG_SLOTS chains, guarded by lock */
	size_t neg_bytes;    /* of the records */
	uint64_t negs_swept; /* when expired records were last dropped */
	bool warned;
};

static int map_set(struct dirwatch *dw, int wd, const char *rel)
{
	char *copy = strdup(rel);
	int rc = copy ? 0 : -ENOMEM;

	pthread_mutex_lock(&dw->lock);
	if (rc == 0 && (size_t)wd >= dw->n_rels) {
		size_t n = dw->n_rels ? dw->n_rels : 64;
		while (n <= (size_t)wd) {
			n *= 2;
		}
		char **grown = realloc(dw->rels, n * sizeof(*grown));
		if (grown) {
			memset(grown + dw->n_rels, 0, (n - dw->n_rels) * sizeof(*grown));
			dw->rels = grown;
			dw->n_rels = n;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		free(dw->rels[wd]);
		dw->rels[wd] = copy;
		copy = NULL;
	}
	pthread_mutex_unlock(&dw->lock);
	free(copy);
	return rc;
}

/* The folder of WD (a copy), or NULL; DROP forgets the watch. */
static char *map_get(struct dirwatch *dw, int wd, bool drop)
{
	char *rel = NULL;

	pthread_mutex_lock(&dw->lock);
	if (wd >= 0 && (size_t)wd < dw->n_rels && dw->rels[wd]) {
		rel = strdup(dw->rels[wd]);
		if (drop) {
			free(dw->rels[wd]);
			dw->rels[wd] = NULL;
		}
	}
	pthread_mutex_unlock(&dw->lock);
	return rel;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t neg_slot(fuse_ino_t parent, uint64_t fold)
{
	return (size_t)((fold ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ull)) % NEG_SLOTS);
}

/* Which records neg_take takes. */
enum neg_pick { NEG_SPELLING, NEG_NAME, NEG_DIR, NEG_ALL, NEG_EXPIRED };

struct neg_key {
	enum neg_pick pick;
	fuse_ino_t parent;
	const char *name;
	uint64_t fold;
	uint64_t now;
};

static bool neg_picked(const struct neg *g, const struct neg_key *k)
{
	switch (k->pick) {
	case NEG_SPELLING:
		return g->parent == k->parent && strcmp(g->name, k->name) == 0;
	case NEG_NAME: /* every spelling of it */
		return g->parent == k->parent && g->fold == k->fold &&
		       names_casecmp(g->name, k->name) == 0;
	case NEG_DIR:
		return g->parent == k->parent;
	case NEG_EXPIRED:
		return g->expires < k->now;
	default:
		return true;
	}
}

/* Locked: move the records K picks (from K's own slot when it names one) to *OUT. */
static void neg_take(struct dirwatch *dw, const struct neg_key *k, struct neg **out)
{
	bool one = k->pick == NEG_SPELLING || k->pick == NEG_NAME;
	size_t from = one ? neg_slot(k->parent, k->fold) : 0;
	size_t to = one ? from + 1 : NEG_SLOTS;

	for (size_t s = from; dw->negs && s < to; s++) {
		for (struct neg **pp = &dw->negs[s]; *pp;) {
			struct neg *g = *pp;
			if (!neg_picked(g, k)) {
				pp = &g->next;
				continue;
			}
			*pp = g->next;
			g->next = *out;
			*out = g;
			dw->neg_bytes -= sizeof(*g) + strlen(g->name) + 1;
		}
	}
}

/* Take the records K picks; NOTIFY: drop the kernel's entries for them (no
 * lock held: the kernel waits for a lookup in flight in that folder). */
static void neg_drop(struct fs *fs, struct dirwatch *dw, struct neg_key *k, bool notify)
{
	struct neg *list = NULL;

	k->fold = k->name ? names_fold_hash(k->name, strlen(k->name)) : 0;
	pthread_mutex_lock(&dw->lock);
	neg_take(dw, k, &list);
	pthread_mutex_unlock(&dw->lock);
	while (list) {
		struct neg *next = list->next;
		/* the kernel refuses an entry below a node it does not know as a folder */
		if (notify && fs->se && node_known_dir(fs, list->dir)) {
			fuse_lowlevel_notify_inval_entry(fs->se, list->parent, list->name,
			                                 strlen(list->name));
		}
		node_unpin(fs, list->dir);
		free(list);
		list = next;
	}
}

bool dw_neg_note(struct fs *fs, struct node *dir, const char *name)
{
	fuse_ino_t parent = node_id(fs, dir);
	struct dirwatch *dw = fs->dw;
	size_t len = strlen(name);
	struct neg *g = dw ? malloc(sizeof(*g) + len + 1) : NULL;
	struct neg *expired = NULL;
	struct neg_key k = {.pick = NEG_EXPIRED, .now = now_ns()};
	bool kept = false;

	if (!g) {
		return false;
	}
	*g = (struct neg){.dir = dir, .parent = parent, .fold = names_fold_hash(name, len)};
	g->expires = k.now + (uint64_t)((fs->long_timeout + 1) * 1e9);
	memcpy(g->name, name, len + 1);
	size_t s = neg_slot(parent, g->fold);
	node_pin(fs, dir); /* before the record is there (not under dw->lock): for it */
	pthread_mutex_lock(&dw->lock);
	if (k.now - dw->negs_swept > 1000000000u) { /* at most once a second */
		dw->negs_swept = k.now;
		neg_take(dw, &k, &expired);
	}
	for (struct neg *o = dw->negs[s]; o && !kept; o = o->next) {
		if (o->parent == parent && strcmp(o->name, name) == 0) {
			o->expires = g->expires;
			kept = true;
		}
	}
	if (!kept && dw->neg_bytes + sizeof(*g) + len + 1 <= NEG_BYTES) {
		g->next = dw->negs[s];
		dw->negs[s] = g;
		dw->neg_bytes += sizeof(*g) + len + 1;
		kept = true;
		g = NULL;
	}
	pthread_mutex_unlock(&dw->lock);
	if (g) { /* not recorded (or recorded already, with its own pin) */
		node_unpin(fs, dir);
		free(g);
	}
	for (struct neg *next = NULL; expired; expired = next) {
		next = expired->next;
		node_unpin(fs, expired->dir);
		free(expired);
	}
	return kept;
}

void dw_neg_forget(struct fs *fs, fuse_ino_t parent, const char *name)
{
	struct neg_key k = {.pick = NEG_SPELLING, .parent = parent, .name = name};

	if (fs->dw) {
		neg_drop(fs, fs->dw, &k, false);
	}
}

void dw_neg_drop_all(struct fs *fs)
{
	struct neg_key k = {.pick = NEG_ALL};

	if (fs->dw) {
		neg_drop(fs, fs->dw, &k, true);
	}
}

/* Event EV in folder E->dir may have made a missing name exist: drop the
 * kernel's negative entries for every spelling of it, and below a folder that
 * appeared (a copy of it on another drive brings its names; one spelt
 * differently from the node's: every record). */
static void neg_event(struct dirwatch *dw, const struct node_event *e,
                      const struct inotify_event *ev)
{
	struct fs *fs = dw->fs;
	struct neg_key k = {.pick = NEG_NAME, .name = ev->name};

	if (!e->dir || !ev->len || !(ev->mask & (IN_CREATE | IN_MOVED_TO))) {
		return;
	}
	k.parent = node_id(fs, e->dir);
	neg_drop(fs, dw, &k, true);
	if (!(ev->mask & IN_ISDIR)) {
		return;
	}
	k = (struct neg_key){.pick = e->variant ? NEG_ALL : NEG_DIR};
	k.parent = e->child ? node_id(fs, e->child) : 0;
	if (e->child || e->variant) {
		neg_drop(fs, dw, &k, true);
	}
}

/* Does inotify see every change of this drive? Not of network filesystems
 * (changes made by other clients) nor of FUSE ones (they may be either). */
static bool drive_watchable(const struct fsdrive *d)
{
	const char *t = d->d->fstype;

	return t && !mnt_fstype_is_netfs(t) && strcmp(t, "fuse") != 0 &&
	       strncmp(t, "fuse.", 5) != 0;
}

/* dw_watch_dir -- watch folder DIR on every drive that has it; true when it is watched
 * everywhere (trusted: long timeouts, its index). The folder a walk finds may leave the path
 * before its watch is recorded (a tree moved out, another moved in): the event that tells
 * it is handled meanwhile, finds no watch to end below it, and the new watch would stay on
 * the folder that went. So it is trusted only if nothing stopped trusting a watch since
 * before the walk (fs->dw_untrust, read again after the mark: an untrust after that read
 * resets the mark itself, or finds the recorded watch and ends it). */
bool dw_watch_dir(struct fs *fs, struct fsview *v, struct node *dir)
{
	struct dirwatch *dw = fs->dw;
	uint64_t epoch = atomic_load(&fs->dw_epoch);
	uint64_t untrust = atomic_load(&fs->dw_untrust);
	struct rel rel;
	bool all = true;

	if (dir->kind == NODE_SYNTH) {
		return true; /* they change only with the view, which invalidates everything */
	}
	if (!dw) {
		return false;
	}
	if (atomic_load(&dir->watched) == epoch) {
		return true;
	}
	rel_init(&rel);
	if (node_rel(fs, dir, &rel) < 0 || rel.len >= DW_REL_MAX) {
		rel_fini(&rel);
		return false;
	}
	for (size_t r = 0; r < v->n_roots && all; r++) {
		char proc[64];
		int fd = -1;
		int wd = -1;

		if (!drive_watchable(&v->roots[r])) {
			all = false;
			break;
		}
		fd = root_walk(v, r, rel.s, NULL, 0);
		if (fd == -ENOENT || fd == -ENOTDIR) {
			continue; /* not on this drive: its parent's watch sees it appear */
		}
		if (fd < 0) {
			all = false;
			break;
		}
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		wd = inotify_add_watch(dw->ifd, proc, DW_MASK);
		if (wd < 0 && !dw->warned) {
			dw->warned = true;
			log_warnx(
			    "cannot watch folders for changes made outside the view (%s%s); names "
			    "there are cached for %g s only",
			    strerror(errno),
			    errno == ENOSPC ? ": raise fs.inotify.max_user_watches" : "",
			    fs->entry_timeout);
		}
		close(fd);
		all = wd >= 0 && map_set(dw, wd, rel.s) == 0;
	}
	rel_fini(&rel);
	if (all) {
		atomic_store(&dir->watched, epoch);
		if (atomic_load(&fs->dw_untrust) != untrust) {
			atomic_store(&dir->watched, 0); /* watched again at its next lookup */
			all = false;
		}
	}
	return all;
}

void dw_reset(struct fs *fs)
{
	atomic_fetch_add(&fs->dw_epoch, 1);
}

/* Open file node N's name now names another drive file than its handles are
 * on (moved to another drive or replaced on the drives): N keeps its handles,
 * its name is detached (the next lookup makes a node for the new file) and
 * the kernel's entry must be dropped (also when N was detached meanwhile).
 * N is pinned. */
static bool moved_away(struct fs *fs, struct node *n)
{
	struct fsview *v = fsview_get(fs);
	struct rel rel;
	fuse_ino_t parent = 0;
	struct loc l;
	bool moved = false;
	int rc = 0;

	rel_init(&rel);
	rc = node_rel(fs, n, &rel);
	rc = rc < 0 ? rc : loc_find(v, rel.s, 0, &l);
	rel_fini(&rel);
	fsview_put(v);
	if (rc == 0) {
		loc_close(&l);
		moved = S_ISREG(l.st.st_mode) && node_elsewhere(fs, n, &l.st);
	}
	if (moved) {
		free(node_detach(fs, n, &parent));
	}
	/* detached meanwhile (a GETATTR found the new file first, and sends no
	 * notification): the kernel's entry still names N, which answers with its
	 * own file */
	return moved || node_is_detached(fs, n);
}

/* Tell the kernel what event EV in folder E->dir changed (no lock held: the
 * kernel may call back into handlers that take it). DROP_ENTRY: its entry for
 * the name. */
static void notify_event(struct fs *fs, const struct node_event *e, const struct inotify_event *ev,
                         bool drop_entry)
{
	fuse_ino_t dir_id = e->dir ? node_id(fs, e->dir) : 0;

	if (!dir_id || !fs->se) {
		return;
	}
	if (ev->len && drop_entry && e->as_dir) { /* named as the kernel has it: as served */
		fuse_lowlevel_notify_inval_entry(fs->se, dir_id, ev->name, strlen(ev->name));
	}
	if (e->child) {
		/* its attributes and data */
		fuse_lowlevel_notify_inval_inode(fs->se, node_id(fs, e->child), 0, 0);
	}
	if (!ev->len || (ev->mask & DW_ENTRIES)) {
		fuse_lowlevel_notify_inval_inode(fs->se, dir_id, 0, 0); /* listing, times */
	}
	if (e->prune) {
		fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, e->up), e->prune,
		                                 strlen(e->prune));
	}
}

static void event_end(struct fs *fs, struct node_event *e)
{
	if (e->up) {
		node_unpin(fs, e->up);
	}
	free(e->prune);
	if (e->child) {
		node_unpin(fs, e->child);
	}
	if (e->dir) {
		node_unpin(fs, e->dir);
	}
}

/* Is R below the folder REL (LEN bytes; "" is the images folder)? */
static bool strictly_below(const char *r, const char *rel, size_t len)
{
	return len == 0 ? r[0] != '\0' : strncmp(r, rel, len) == 0 && r[len] == '/';
}

/* End the watches of the folders below REL (LEN bytes): they may be on other
 * folders now (inotify follows the inode), and their folders are watched
 * again at their next lookup. Returns whether there was one. */
static bool unwatch_below(struct dirwatch *dw, const char *rel, size_t len)
{
	bool any = false;

	pthread_mutex_lock(&dw->lock);
	for (size_t i = 0; i < dw->n_rels; i++) {
		if (dw->rels[i] && strictly_below(dw->rels[i], rel, len)) {
			free(dw->rels[i]);
			dw->rels[i] = NULL; /* its IN_IGNORED then finds no folder */
			inotify_rm_watch(dw->ifd, (int)i);
			any = true;
		}
	}
	pthread_mutex_unlock(&dw->lock);
	return any;
}

/* A folder came, went or moved on a drive (EV in folder REL): what the view
 * watched and cached below it was another folder tree's, or this one's copy on
 * another drive only (a tree moved in, copied, appearing on another drive of a
 * union, a folder renamed over deep inside). Every folder below is watched
 * again at its next lookup, as a new folder is (nodes_invalidate_below), and
 * the folder's own index of names goes: a watch made again would trust it. */
static void tree_event(struct dirwatch *dw, const struct node_event *e, const char *rel,
                       const struct inotify_event *ev)
{
	struct fs *fs = dw->fs;
	bool self = ev->mask & IN_MOVE_SELF;
	char *top = NULL;

	if (e->child && e->entries) {
		node_changed(fs, e->child);
	}
	if (!self && !(ev->len && (ev->mask & IN_ISDIR) && (ev->mask & DW_ENTRIES))) {
		return;
	}
	if (self) {
		top = strdup(rel);
	} else if (asprintf(&top, "%s%s%s", rel, *rel ? "/" : "", ev->name) < 0) {
		top = NULL;
	}
	if (!top) { /* cannot tell what is below: everything */
		dw_reset(fs);
		nodes_invalidate_cached(fs);
		return;
	}
	/* before the watches end: one being made below TOP may be on the folder that went */
	atomic_fetch_add(&fs->dw_untrust, 1);
	if (unwatch_below(dw, top, strlen(top))) {
		nodes_invalidate_below(fs, top);
	}
	free(top);
}

static void handle(struct dirwatch *dw, const struct inotify_event *ev)
{
	struct fs *fs = dw->fs;
	bool gone = ev->mask & (IN_IGNORED | IN_UNMOUNT);
	bool self = ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT);
	char *rel = map_get(dw, ev->wd, gone);
	struct node_event e = {.rel = rel,
	                       .name = ev->len ? ev->name : NULL,
	                       .unwatch = self,
	                       .names = self || (ev->mask & DW_ENTRIES),
	                       .entries = ev->mask & DW_ENTRIES};

	if (!rel) {
		return;
	}
	atomic_fetch_add(&fs->n_dw_events, 1);
	nodes_event(fs, &e);
	tree_event(dw, &e, rel, ev);
	free(rel);
	neg_event(dw, &e, ev); /* after the folder's change count moved: nodes_event */
	/* The kernel's entry for the name needs dropping when the name went away, or
	 * appeared where it may hold a negative entry (no node has that name), or a
	 * folder appeared on another drive (dropping a folder's entry prunes the
	 * cached entries below it, which its new copy may shadow). A file's entry
	 * for a name that still exists stays right (nodes are found by name; its
	 * attributes are dropped below); dropping it anyway raced with the kernel's
	 * bookkeeping of hard links made through the view (a stale nlink after
	 * unlink, 3 in 80 runs of posix_checks). When another spelling of the name
	 * has a node (a.txt, A.txt), the kernel may hold an entry for any spelling a
	 * client asked (A.TXT) naming the other file: the whole folder's entries are
	 * dropped (through its own entry: e.prune). */
	bool drop_entry =
	    (ev->mask & (IN_DELETE | IN_MOVED_FROM)) || e.variant ||
	    ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && (!e.child || (ev->mask & IN_ISDIR)));
	/* an open file's name may now name another file (checked with no lock held) */
	drop_entry = (e.open && moved_away(fs, e.child)) || drop_entry;
	notify_event(fs, &e, ev, drop_entry);
	event_end(fs, &e);
}

void dw_drop_entry(struct fs *fs, fuse_ino_t parent, char *name)
{
	struct dirwatch *dw = fs->dw;
	struct drop *d = dw && name ? calloc(1, sizeof(*d)) : NULL;
	uint64_t one = 1;

	if (!d) {
		free(name); /* no watch: the kernel keeps names for entry_timeout only */
		return;
	}
	d->name = name;
	d->parent = node_of(fs, parent);
	node_pin(fs, d->parent);
	pthread_mutex_lock(&dw->lock);
	d->next = dw->drops;
	dw->drops = d;
	pthread_mutex_unlock(&dw->lock);
	if (write(dw->wake_fd, &one, sizeof(one)) < 0) {
		log_debug("folder watch: cannot wake the thread");
	}
}

/* Drop the queued entries (NOTIFY false: only forget them, at stop). */
static void drops_run(struct dirwatch *dw, bool notify)
{
	struct fs *fs = dw->fs;
	uint64_t count = 0;

	if (read(dw->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
		log_debug("folder watch: cannot read the wake counter");
	}
	pthread_mutex_lock(&dw->lock);
	struct drop *d = dw->drops;
	dw->drops = NULL;
	pthread_mutex_unlock(&dw->lock);
	while (d) {
		struct drop *next = d->next;
		bool as_dir = node_known_dir(fs, d->parent);
		if (notify && as_dir && fs->se) { /* no lock held: the kernel may call back */
			fuse_lowlevel_notify_inval_entry(fs->se, node_id(fs, d->parent), d->name,
			                                 strlen(d->name));
		}
		node_unpin(fs, d->parent);
		free(d->name);
		free(d);
		d = next;
	}
}

static void *dw_main(void *arg)
{
	struct dirwatch *dw = arg;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p[3] = {{.fd = dw->ifd, .events = POLLIN},
	                      {.fd = dw->stop_fd, .events = POLLIN},
	                      {.fd = dw->wake_fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (p[1].revents) {
			break;
		}
		if (p[2].revents) {
			drops_run(dw, true);
		}
		ssize_t len = read(dw->ifd, buf, sizeof(buf));
		if (len <= 0) {
			continue;
		}
		for (char *c = buf; c < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)c;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: forget everything the kernel cached */
				log_warnx("folder watch: the event queue overflowed; dropping the "
				          "kernel's "
				          "cached names");
				dw_reset(dw->fs);
				nodes_invalidate_cached(dw->fs);
			} else {
				handle(dw, ev);
			}
			c += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

int dw_start(struct fs *fs)
{
	struct dirwatch *dw = calloc(1, sizeof(*dw));
	int rc = dw ? 0 : -ENOMEM;

	if (dw) {
		dw->fs = fs;
		dw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		dw->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		dw->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		pthread_mutex_init(&dw->lock, NULL);
		dw->negs = calloc(NEG_SLOTS, sizeof(*dw->negs));
		rc = dw->ifd < 0 || dw->stop_fd < 0 || dw->wake_fd < 0 ? -errno : 0;
		rc = rc == 0 && !dw->negs ? -ENOMEM : rc;
	}
	rc = rc < 0 ? rc : pxe_thread_start(&dw->thread, 0, dw_main, dw);
	if (rc < 0) {
		log_warnx("cannot watch folders for changes made outside the view (%s); names are "
		          "cached for %g s only",
		          strerror(-rc), fs->entry_timeout);
		if (dw) {
			if (dw->ifd >= 0) {
				close(dw->ifd);
			}
			if (dw->stop_fd >= 0) {
				close(dw->stop_fd);
			}
			if (dw->wake_fd >= 0) {
				close(dw->wake_fd);
			}
			pthread_mutex_destroy(&dw->lock);
			free(dw->negs);
			free(dw);
		}
		return rc;
	}
	fs->dw = dw;
	return 0;
}

void dw_stop(struct fs *fs)
{
	struct dirwatch *dw = fs->dw;
	uint64_t one = 1;

	if (!dw) {
		return;
	}
	fs->dw = NULL;
	if (write(dw->stop_fd, &one, sizeof(one)) < 0) {
		log_debug("folder watch: cannot signal the thread to stop");
	}
	pthread_join(dw->thread, NULL);
	drops_run(dw, false);
	struct neg_key all = {.pick = NEG_ALL};
	neg_drop(fs, dw, &all, false);
	free(dw->negs);
	close(dw->ifd);
	close(dw->stop_fd);
	close(dw->wake_fd);
	for (size_t i = 0; i < dw->n_rels; i++) {
		free(dw->rels[i]);
	}
	free(dw->rels);
	pthread_mutex_destroy(&dw->lock);
	free(dw);
}

void dw_timeouts(struct fs *fs, struct node *n, bool is_dir, double *entry, double *attr)
{
	bool in_watched = node_in_watched(fs, n);

	*entry = in_watched ? fs->long_timeout : fs->entry_timeout;
	/* a folder's own times change with its entries: its own watch sees those */
	*attr =
	    in_watched && (!is_dir || node_watched(fs, n)) ? fs->long_timeout : fs->attr_timeout;
}
