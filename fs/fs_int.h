/* fs_int.h -- internals shared by the files of fs/ (not a public header).
 *
 * Threading rules are written beside the fields they guard. A node is named
 * by (parent, name); its virtual path is computed from the chain under
 * fs->lock. A struct fsview is immutable and reference-counted.
 *
 * Locks (ARCHITECTURE.md): fs->lock (node.c alone takes it), fs->view_lock
 * (view.c), dw->lock (dirwatch.c), the share state's and the free-space
 * probe's mutexes (status.c). Each is taken, used and released within one
 * function; none is held while another is taken (a new path that needs two
 * takes fs->lock first). No lock is held across a syscall on a drive; under
 * fs->lock run only the inode map's log append (state directory) and the
 * passthrough backing-id ioctl on /dev/fuse.
 */
#ifndef PXE_FS_INT_H
#define PXE_FS_INT_H

#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "copy.h"
#include "fileid.h"
#include "fs.h"
#include "inomap.h"
#include "names.h"
#include "resolver.h"
#include "thread.h"
#include "walk.h"

/* Kernel FUSE passthrough (fuse_passthrough_open, fi->backing_id): libfuse 3.17 */
#if defined(FUSE_CAP_PASSTHROUGH) && FUSE_MAJOR_VERSION * 100 + FUSE_MINOR_VERSION >= 317
#define PXE_HAVE_PASSTHROUGH 1
#else
#define PXE_HAVE_PASSTHROUGH 0
#endif

/* FUSE over io_uring (-o io_uring, FUSE_CAP_OVER_IO_URING): libfuse 3.18 */
#if defined(FUSE_CAP_OVER_IO_URING) && FUSE_MAJOR_VERSION * 100 + FUSE_MINOR_VERSION >= 318
#define PXE_HAVE_URING 1
#else
#define PXE_HAVE_URING 0
#endif

enum node_kind {
	NODE_SYNTH = 0, /* the root and the parents of the images path: read-only */
	NODE_IMAGES,    /* the images folder itself */
	NODE_TREE,      /* anything below it: lives on the drives */
};

/* Another name of a node, made by link() through the view. */
struct alias {
	struct node *parent; /* holds a child count on it */
	char *name;
	struct alias *next;
};

struct node {
	struct node *parent; /* protected by fs->lock; holds a child count on it */
	char *name;          /* protected by fs->lock; NULL for the root */
	/* st_ino shown to clients: names_ino_of(state), or from dnum; written under fs->lock,
	 * read anywhere (replies read it without the lock: atomic) */
	_Atomic uint64_t ino;
	uint64_t dnum;       /* protected by fs->lock: fileid_of() of the drive file it was last
	                      * found as on an 'inode numbers = drive' drive (ino is that, salted
	                      * while another file's node has it); 0: a path number (nt_number) */
	uint64_t state;      /* names_ino_child(parent's state, name, salt), or the state it
	                      * had before a rename (fs->inomap); children's derive from it */
	uint64_t nlookup;    /* protected by fs->lock: the kernel's references */
	uint64_t nchildren;  /* protected by fs->lock: nodes naming this as parent */
	uint64_t pins;       /* protected by fs->lock: kernel notifications being sent that
	                      * name it (its id must not be freed and reused meanwhile) */
	bool not_dir;        /* protected by fs->lock: the kernel's inode for this id was
	                      * made a file, not a folder (node_get_as) */
	bool told;           /* not_dir is set: an entry reply gave the node's type */
	uint64_t fold;       /* names_fold_hash of name; protected by fs->lock */
	unsigned depth;      /* 0 for the root */
	enum node_kind kind;
	bool hashed;            /* in the name table; protected by fs->lock */
	bool in_ino;            /* in the inode table: hashed, or replaced and open */
	bool replaced;          /* protected by fs->lock: its name now names another file
	                         * (removed or replaced through the view, or on its drive):
	                         * while open its st_ino stays its own (nodetab.c) */
	struct node *next_name; /* name table chain; protected by fs->lock */
	struct node *next_ino;  /* inode table chain; protected by fs->lock */
	unsigned nopen;         /* open file handles; protected by fs->lock */
	int pin_fd;             /* one open handle's fd while nopen > 0, else -1
	                         * (0 until first opened); protected by fs->lock */
	bool pin_ro;            /* that handle is on a read-only drive */
	bool detached;          /* unhashed at a view change while open: its attributes
	                         * come from pin_fd, new lookups get a new node */
	struct stat cached;     /* backing file at the last open (keep_cache); protected by
	                         * fs->lock */
	/* How the kernel does I/O on the node's open handles (passthrough.c); all
	 * protected by fs->lock. The kernel wants every passthrough handle of an
	 * inode on one backing file and none in cached mode meanwhile. */
	unsigned n_cached;      /* handles in cached (daemon-served) mode */
	unsigned pt_refs;       /* handles in passthrough mode, all on backing pt_id */
	unsigned pt_writers;    /* those of them open for writing */
	int pt_id;              /* kernel backing id while pt_refs > 0 */
	dev_t open_dev;         /* the drive file (st_dev, st_ino, never the view's st_ino) */
	ino_t open_ino;         /* every handle is on while n_cached + pt_refs > 0 */
	/* fs->dw_epoch when this folder was last watched on every drive that has
	 * it (dirwatch.c); 0: not watched */
	atomic_uint_fast64_t watched;
	/* A watched folder's merged names from its last complete listing, valid
	 * in epoch index_epoch while no change came since: a lookup of a name it
	 * lacks needs no drive (node_absent; dirwatch.c's long caching). Protected
	 * by fs->lock. */
	struct names_set *index;
	uint64_t index_epoch;
	uint64_t changes; /* bumped at every change of the folder's names */
	/* Misses (names found on no drive) since change count miss_changes, and the names of
	 * the last index made: node_miss_index. Protected by fs->lock. */
	uint64_t misses;
	uint64_t miss_changes;
	size_t index_names;
	struct alias *aliases;  /* other names from link(); protected by fs->lock */
	/* user.* xattrs as read from the drive (xcache.c), kept in watch epoch xc_epoch; xgen
	 * is bumped at every drop. Protected by fs->lock. */
	struct xc_ent *xc;
	uint64_t xc_epoch;
	uint64_t xc_since; /* CLOCK_MONOTONIC ms when XC was started */
	uint64_t xgen;
	struct node *prev_all;  /* list of every node; protected by fs->lock */
	struct node *next_all;
};

/* One drive of a view. No descriptor is kept open on a drive (that would
 * make it impossible to unmount): each operation opens its mount root (no
 * symlink followed), then its images folder beneath it with no symlink
 * followed (view.c), and checks both are still the very folders published
 * (st_dev and st_ino) before using them. */
struct fsdrive {
	const struct drive *d; /* borrowed from fsview->rv */
	dev_t mnt_dev;         /* st_dev, st_ino of the mount root when published */
	ino_t mnt_ino;
	dev_t img_dev;         /* st_dev, st_ino of the images folder when published (0: none) */
	ino_t img_ino;
	_Atomic(char *) made;  /* images folder created on the primary after publishing;
	                        * set at most once, freed with the view */
	_Atomic(ino_t) made_ino; /* st_ino of `made` at its first open (0: not opened yet) */
	atomic_bool no_passthrough; /* the kernel refused to pass a file of it through */
	atomic_int ro_state;        /* FSDRIVE_RO_*: its filesystem read-only now (view.c) */
	_Atomic int64_t rw_until;   /* CLOCK_MONOTONIC ns until which RO_NO is trusted */
	bool read_only;
	bool nodev; /* mounted nodev when published: a device node there cannot be opened */
};
enum { FSDRIVE_RO_UNKNOWN = 0, FSDRIVE_RO_NO, FSDRIVE_RO_YES };

/* The view as the filesystem serves it: immutable once published. */
struct fsview {
	atomic_uint refs;
	struct resolver_view *rv; /* owned */
	struct fsdrive *roots;    /* owned; in rank order: the drives holding the images,
	                           * and the primary even when it does not hold them yet */
	size_t n_roots;
	int primary_root; /* index into roots of the primary, or -1 (read-only view) */
	uint64_t generation;
};

struct fs {
	char **img_parts; /* images path components (owned) */
	unsigned img_depth;
	pthread_mutex_t lock; /* guards the node tables and fields marked above; taken in
	                       * node.c only (the first lock, if ever two) */
	struct node root;
	struct node **by_name;     /* chained hash on (parent, fold); protected by lock */
	struct node **by_ino;      /* chained hash on ino; protected by lock */
	size_t n_buckets;          /* protected by lock */
	size_t n_nodes;            /* protected by lock */
	size_t n_aliases;          /* protected by lock */
	struct inomap *inomap;     /* numbers kept across renames; protected by lock */
	pthread_mutex_t view_lock; /* guards view (pointer swap and ref taking) */
	struct fsview *view;       /* protected by view_lock */
	atomic_uint_fast64_t generation; /* written under view_lock, read anywhere */
	struct timespec start;     /* times of the synthetic folders */
	double entry_timeout;
	double attr_timeout;
	double negative_timeout; /* short: a name that appears with a drive shows quickly */
	struct fuse_session *se;
	struct live *live; /* the thread that follows the drives, or NULL */
	/* counters for the status file; atomics, no lock */
	atomic_uint_fast64_t n_opens;
	atomic_uint_fast64_t n_reads;
	atomic_uint_fast64_t n_xattr_cached; /* GETXATTRs answered from xcache.c */
	size_t xc_bytes;                     /* what xcache.c keeps; protected by lock */
	atomic_uint_fast64_t n_bytes_read;
	atomic_uint_fast64_t n_bytes_written;
	atomic_uint_fast64_t n_errors;
	atomic_uint_fast64_t n_pt_opens;     /* opens answered in passthrough mode */
	atomic_uint_fast64_t n_stale_opens;  /* opens sent back to look the name up again */
	/* passthrough: wanted by the config, then what the kernel and the first
	 * backing registration said (written in init and at most once after) */
	bool pt_want;
	/* dirwatch.c: names and attributes in watched folders are cached this long */
	struct dirwatch *dw;
	double long_timeout;
	atomic_uint_fast64_t dw_epoch; /* bumped when every folder must be watched again */
	/* bumped before any folder's watch stops being trusted (node->watched set to 0, watches
	 * ended below a folder): a watch made while it moved may be on a folder gone from the
	 * path, and is not trusted (dw_watch_dir) */
	atomic_uint_fast64_t dw_untrust;
	atomic_uint_fast64_t n_dw_events;
	atomic_bool inited; /* the kernel's INIT was answered */
	atomic_bool pt_active;
	_Atomic(const char *) pt_reason; /* why it is not active (static text) */
	/* whether the kernel takes an O_PATH fd as a backing file (Linux 6.12, and stable
	 * kernels since 6.9.x): 0 not known yet, 1 yes, -1 no (pt_opath_ok) */
	atomic_int pt_opath;
	/* handles kept O_PATH that may still need a real fd (fh_fd): each keeps one descriptor
	 * of the daemon's RLIMIT_NOFILE (FD_LIMIT, read at start) free for it (handle.c) */
	atomic_int n_opath_lazy;
	int fd_limit;
	/* transport.c: FUSE over io_uring wanted (config or -o io_uring), still tried (main
	 * thread only), in use; why not (static text; NULL when in use) */
	bool ur_want;
	bool ur_try;
	atomic_bool ur_active;
	_Atomic(const char *) ur_reason;
};

/* How the kernel does I/O on an open file. */
enum fh_io {
	FH_CACHED = 0,  /* through the daemon, with the page cache */
	FH_PASSTHROUGH, /* straight on the backing file (kernel FUSE passthrough) */
};

/* An open regular file. FD is its descriptor on the drive; a read-only handle in
 * passthrough may keep the O_PATH one the lookup found (OPATH: the kernel opens its
 * own backing file from it, and an open through /proc/self/fd is saved, issue 18):
 * fh_fd gives the daemon a real one, made on first use (IO_FD), when it must do
 * I/O on the file itself (fsync, lseek). */
struct fh {
	int fd;
	bool opath;       /* FD is O_PATH (a regular file: drive_file_ok) */
	int flags;        /* OPATH: the flags of the real open (fh_open_flags) */
	atomic_int io_fd; /* OPATH: the real fd, -1 until fh_fd made it */
	atomic_bool lazy; /* counted in fs->n_opath_lazy (OPATH, no IO_FD yet) */
	bool read_only;      /* opened on a read-only drive (for reading only) */
	struct fsview *view; /* the view it was opened in (a reference) */
	struct node *node;   /* borrowed: the kernel holds a lookup while the file is open */
	const struct fsdrive *drive; /* the drive it was opened on, in that view */
	atomic_uint_fast64_t checked; /* view generation its drive was last seen online in */
	enum fh_io io;
	bool writes;   /* opened for writing (or with O_TRUNC) */
	bool nonblock; /* fd opened O_NONBLOCK by handle.c only (cleared for daemon I/O) */
};

/* passthrough.c -- pt_opened chooses the I/O mode of an opened file FH
 * (backing file stat ST) and fills FI (backing_id, keep_cache); it returns
 * -ESTALE, having detached the node's name, when the node's handles are on
 * another file (the caller undoes the open and answers ESTALE: the kernel
 * looks the name up again and opens the new node). DIR_LOCKED: the kernel
 * holds the folder locked during the request (CREATE), so the kernel's entry
 * is dropped by the folder watch thread, never from the request. pt_released
 * undoes it at release. pt_init decides in the FUSE init whether passthrough
 * is used at all. */
void pt_init(struct fs *fs, struct fuse_conn_info *conn);
/* pt_wanted: whether an open of a file that drive D serves may be passed through (passthrough
 * is used and the kernel has not refused a file of D).
 * pt_opath_ok: before pt_opened, for a handle kept O_PATH that pt_wanted: whether the kernel
 * takes an O_PATH fd as a backing file (asked with FH's fd the first time); when not, the
 * caller gives the handle a real fd first. A handle pt_opened makes FH_CACHED (the daemon
 * serves the file) stays O_PATH until the daemon first does I/O on it (fh_fd). */
bool pt_wanted(struct fs *fs, const struct fsdrive *d);
bool pt_opath_ok(fuse_req_t req, struct fs *fs, struct fh *fh);

/* xcache.c -- user.* xattrs of entries in watched folders, kept as read from the drive.
 * xc_wanted: a name it keeps. xc_get: 1 and *LEN (the length, the value copied into BUF
 * when SIZE is not 0, or -ENODATA, -ERANGE) when N's answer is kept; else 0, and *T says
 * whether (and as of when) the answer the caller reads from the drive may be kept: xc_keep
 * stores it (LEN: the length read, or -errno; ST: the drive object's stat) unless N changed
 * since. What was kept is answered for fs->long_timeout at most (as the kernel keeps a watched
 * folder's attributes). xc_drop (and xc_free_locked, fs->lock held): N's xattrs may have
 * changed. */
struct xc_ticket {
	bool ok;
	uint64_t gen;
	uint64_t epoch;
};
bool xc_wanted(const char *name);
int xc_get(struct fs *fs, struct node *n, const char *name, char *buf, size_t size,
           ssize_t *len, struct xc_ticket *t);
void xc_keep(struct fs *fs, struct node *n, const struct xc_ticket *t, const struct stat *st,
             const char *name, const char *value, ssize_t len);
void xc_drop(struct fs *fs, struct node *n);
void xc_free_locked(struct fs *fs, struct node *n);
/* xc_seen: the view just found N's drive object to be ST (a lookup, a GETATTR, a listing):
 * a regular file with a second link ends what was kept of it. */
void xc_seen(struct fs *fs, struct node *n, const struct stat *st);

/* transport.c -- FUSE over io_uring or /dev/fuse. tr_take_opt: whether the comma-separated
 * -o OPTS (or NULL) hold "io_uring"; REST gets the others (truncated to LEN). tr_prepare:
 * before the session, whether to ask libfuse for io_uring (fs->ur_try; logs once why not
 * when wanted). tr_init: at INIT, asks the kernel for it or makes sure it is off. tr_check:
 * once INIT is answered, whether libfuse's queues run (fs->ur_active). tr_count_rings: the
 * process's io_uring file descriptors. */
bool tr_take_opt(const char *opts, char *rest, size_t len);
void tr_prepare(struct fs *fs);
void tr_init(struct fs *fs, struct fuse_conn_info *conn);
void tr_check(struct fs *fs);
unsigned tr_count_rings(void);
/* pt_detach -- N's name goes to a new node at the next lookup, and the kernel
 * drops its entry (DIR_LOCKED: as in pt_opened). */
void pt_detach(struct fs *fs, struct node *n, bool dir_locked);
int pt_opened(fuse_req_t req, struct fs *fs, struct fh *fh, const struct stat *st,
              struct fuse_file_info *fi, bool dir_locked);
void pt_released(fuse_req_t req, struct fs *fs, struct fh *fh);
/* pt_node_get -- node_get for a lookup of NAME found as the drive file ST: a
 * node whose open handles are on another file (the name moved to another
 * drive while open) keeps those handles and a new node takes the name, so a
 * name looked up after a move never reaches the old file. */
int pt_node_get(struct fs *fs, struct node *parent, const char *name, const struct stat *st,
                struct node **out);
/* dirwatch.c -- dw_watch_dir watches folder node DIR on every drive of V that
 * has it (before a lookup in it or a listing of it) and says whether it is;
 * dw_timeouts gives the entry and attribute timeouts for node N's reply:
 * long in a watched folder, short elsewhere. dw_reset (a view change) makes
 * every folder be watched again. */
int dw_start(struct fs *fs);
void dw_stop(struct fs *fs);
bool dw_watch_dir(struct fs *fs, struct fsview *v, struct node *dir);
void dw_timeouts(struct fs *fs, struct node *n, bool is_dir, double *entry, double *attr);
void dw_reset(struct fs *fs);
/* dw_drop_entry -- the folder watch thread tells the kernel to forget entry NAME
 * (taken) of folder PARENT, soon: a request handler must not (the kernel may hold
 * the folder locked during the request). */
void dw_drop_entry(struct fs *fs, fuse_ino_t parent, char *name);
/* Negative entries in watched folders: dw_neg_note records that the kernel is
 * told NAME is missing from PARENT for long (false: not recorded, answer with
 * the short timeout); the folder watch drops it when a spelling of it appears.
 * The record pins PARENT. dw_neg_forget: the view itself is making NAME (the kernel's own entry becomes
 * the new one); dw_neg_drop_all: drop every recorded one (a view change, lost
 * events; no FUSE handler may call it). */
bool dw_neg_note(struct fs *fs, struct node *parent, const char *name);
void dw_neg_forget(struct fs *fs, fuse_ino_t parent, const char *name);
void dw_neg_drop_all(struct fs *fs);
/* handle.c -- the only reader of fi->fh. fh_get: the handle of FI into *OUT
 * (NULL when FI is NULL or has none), or -EIO when the drive it was opened on
 * is offline (not in the current view, or another filesystem there now):
 * every operation on an open file takes its handle through it.
 * fh_node_online: the same check for an attribute change of node N, through
 * FI's handle when there is one (into *OUT), else through the file N's open
 * handles pin when N is detached (fchmod and futimens send no handle).
 * fh_stat: the attributes of N's open file (FI's handle, else the file N's
 * handles pin when N is detached or unlinked): 0, -errno, or 1 when neither
 * (then N's path decides). fh_dir_set/fh_dir: a folder handle (ops_dir.c)
 * in FI. fh_new, then fh_reply_create: the handle of a file CREATE made (FD,
 * taken, on V's primary; the reference on V taken; N with a lookup; E the
 * reply, ST the drive file); fh_open_flags: a request's open flags less those
 * the drive's open must not see. fh_fd: FH's descriptor for the daemon's own
 * I/O on the file (a real one; made on first use for a handle kept O_PATH), or
 * -errno. handle_install: open, release. */
struct dh;
int fh_get(struct fs *fs, struct fuse_file_info *fi, struct fh **out);
int fh_node_online(struct fs *fs, struct node *n, struct fuse_file_info *fi, struct fh **out);
int fh_stat(struct fs *fs, struct node *n, struct fuse_file_info *fi, struct stat *st);
void fh_dir_set(struct fuse_file_info *fi, struct dh *d);
struct dh *fh_dir(struct fuse_file_info *fi);
struct fh *fh_new(void);
void fh_reply_create(fuse_req_t req, struct fuse_file_info *fi, struct fh *fh, int fd,
                     struct fsview *v, struct node *n, const struct fuse_entry_param *e,
                     const struct stat *st);
int fh_open_flags(int flags);
/* fh_writes: an open with FLAGS may change the file (write access, or O_TRUNC). */
bool fh_writes(int flags);
int fh_fd(struct fs *fs, struct fh *fh);
void handle_install(struct fuse_lowlevel_ops *ops);

/* view.c */
int root_open(struct fsview *v, size_t r); /* O_PATH fd of root R's images folder, or -errno */
int root_mount_open(struct fsview *v, size_t r); /* O_PATH fd of root R's mount root, or -errno */
bool root_has_images(struct fsview *v, size_t r);
int root_walk(struct fsview *v, size_t r, const char *rel, char *spelt, size_t len);
int root_walk_parent(struct fsview *v, size_t r, const char *rel, char *leaf, size_t len);
struct fsview *fsview_get(struct fs *fs); /* a new reference; never NULL */
void fsview_put(struct fsview *v);
int fsview_new(struct resolver_view *rv, uint64_t generation, struct fsview **out);

/* node.c -- the node table's owner (nodetab.c its data structure): every
 * function takes fs->lock itself; no other file takes it. */
struct node *node_of(struct fs *fs, fuse_ino_t ino);
fuse_ino_t node_id(struct fs *fs, struct node *n);
/* node_get -- PARENT's child named exactly NAME (the spelling the serving drive
 * has: resolve a client's spelling first), made if new, with a kernel lookup. */
int node_get(struct fs *fs, struct node *parent, const char *name, struct node **out);
/* node_get_as -- the same for an entry of type MODE: a node the kernel knows as
 * a folder is not reused for a file, nor the other way round (the name moved to
 * another drive): it goes on for the kernel under its id, the name gets a new
 * node, so no notification names an id the kernel knows as another type. */
int node_get_as(struct fs *fs, struct node *parent, const char *name, mode_t mode,
                struct node **out);
void node_forget(struct fs *fs, struct node *n, uint64_t nlookup);
/* A path below the images folder, of any length up to REL_MAX: in the struct
 * while shorter than PATH_MAX (no allocation on the hot path), on the heap
 * beyond. REL_MAX is no buffer size, only a bound against a hostile tree
 * making each request allocate without limit (README: "Long paths"). S may
 * point into the struct: never copy one. rel_fini frees it (and may be
 * called on a rel that only had rel_init). */
#define REL_MAX (1024 * 1024)
struct rel {
	char *s;   /* the path, NUL-terminated */
	size_t len;
	size_t cap; /* bytes at s */
	char small[PATH_MAX];
};
void rel_init(struct rel *r);
void rel_fini(struct rel *r);
/* rel_reserve -- room for LEN bytes and a NUL (-ENAMETOOLONG past REL_MAX,
 * -ENOMEM); the string is kept. */
int rel_reserve(struct rel *r, size_t len);
int rel_set(struct rel *r, const char *s, size_t len); /* the first LEN bytes of S */
int rel_join(struct rel *r, const char *name);         /* append "/NAME" (or NAME to "") */
void rel_up(struct rel *r);                            /* drop the last component */
/* node_rel -- N's virtual path relative to the images folder ("" is the folder
 * itself) into OUT (rel_init'ed); -ENOENT for synthetic nodes. */
int node_rel(struct fs *fs, struct node *n, struct rel *out);
/* node_rel_child -- the same for PARENT's child NAME. */
int node_rel_child(struct fs *fs, struct node *parent, const char *name, struct rel *out);
/* node_move, node_unhash: NAME is spelt as served (the node's name). BY_DRIVE: the entry
 * is on an 'inode numbers = drive' drive (its highest-ranked copy): its number follows its
 * drive file, so the rename records nothing in the inode map. */
void node_move(struct fs *fs, struct node *parent, const char *name, struct node *newparent,
               const char *newname, bool by_drive);
/* node_number -- N (a hashed entry below the images folder) was found as a drive file whose
 * fileid_of() is DNUM (0: on a drive keeping path numbers): its st_ino from now on. True when
 * that changed N's st_ino (the kernel may hold the old one: a reply with attributes tells it).
 * node_name -- a copy of N's name (caller frees; NULL when it has none) and its folder's id. */
bool node_number(struct fs *fs, struct node *n, uint64_t dnum);
char *node_name(struct fs *fs, struct node *n, fuse_ino_t *parent);
void node_unhash(struct fs *fs, struct node *parent, const char *name);
void node_add_alias(struct fs *fs, struct node *n, struct node *parent, const char *name);
/* Open handles of a node: an open file keeps its drive across view changes,
 * and so must its attributes (fstat of an open file sends no handle). */
void node_opened(struct fs *fs, struct node *n, int fd, bool read_only);
/* node_closed -- a handle with descriptor FD is closed: FD is closed (now, or
 * with the last handle when it is the node's pin). */
void node_closed(struct fs *fs, struct node *n, int fd);
/* node_pinned -- for an open node that is detached or has no name left (unlinked
 * while open), a dup of an open handle's fd (caller closes) and whether it is
 * read-only; else -1. */
int node_pinned(struct fs *fs, struct node *n, bool *read_only);
/* node_open_fd -- for a node with an open handle, a dup of its pin (a descriptor of the file
 * its handles have open; caller closes), detached or not, unless that file is a read-only
 * drive's (see node_copied_up); else -1. */
int node_open_fd(struct fs *fs, struct node *n);
/* node_copied_up -- N's path names a copy on the primary now: the file its open handles
 * have is counted as a read-only drive's (it was, or its drive turned read-only). */
void node_copied_up(struct fs *fs, struct node *n);
/* node_detach -- N's name gets a new node at the next lookup; N goes on for its
 * open handles. Returns a copy of the name it had (and its parent's id) for the
 * caller to invalidate in the kernel, or NULL when it was detached already. */
char *node_detach(struct fs *fs, struct node *n, fuse_ino_t *parent);
/* node_pin keeps N (and so its id) alive while a notification naming it is
 * sent outside the lock; node_unpin ends that (and frees N if unused). */
void node_pin(struct fs *fs, struct node *n);
void node_unpin(struct fs *fs, struct node *n);
/* node_known_dir -- the kernel knows N as a folder (an entry may be
 * invalidated below it: the kernel refuses one below a file with ENOTDIR). */
bool node_known_dir(struct fs *fs, struct node *n);
bool node_is_detached(struct fs *fs, struct node *n);
/* node_child_ino -- st_ino of PARENT's child named exactly NAME: its node's,
 * else DNUM when not 0 (its listed drive file's fileid_of), else the number a
 * lookup would give it (unsalted). node_dot_ino: st_ino of "." (DOTDOT false)
 * or ".." of DIR. */
uint64_t node_child_ino(struct fs *fs, struct node *parent, const char *name, uint64_t dnum);
uint64_t node_dot_ino(struct fs *fs, struct node *dir, bool dotdot);
/* node_lookup_add -- one more kernel lookup of N (a link through the view). */
void node_lookup_add(struct fs *fs, struct node *n);
size_t nodes_count(struct fs *fs); /* the nodes the kernel knows (status file) */
/* A folder's index of names, for dirwatch.c's long caching. node_changed: the
 * names of DIR change (a create, rename or link through the view, or an
 * event): its index is stale. The view's own changes call it before the change
 * (no lookup may miss the name) and after it (a listing read before the change
 * must not become the index). node_index_begin before listing DIR (returns its
 * change count), then node_index_store with the merged names of a complete
 * listing (takes SET); node_absent: DIR's index says NAME is on no drive;
 * node_unchanged: DIR is watched and its change count is still CHANGES.
 * node_watched (lock-free): DIR is watched in the current epoch;
 * node_in_watched: N's folder is (N's reply may have long timeouts). */
void node_changed(struct fs *fs, struct node *dir);
uint64_t node_index_begin(struct fs *fs, struct node *dir, uint64_t *epoch);
void node_index_store(struct fs *fs, struct node *dir, struct names_set *set, uint64_t changes,
                      uint64_t epoch);
bool node_absent(struct fs *fs, struct node *dir, const char *name);
/* node_miss_index: a name was found on no drive in watched folder DIR, which has no index;
 * true when the misses since its last change have paid for a listing of it (the index then
 * answers the next misses with no walk of the drives) */
bool node_miss_index(struct fs *fs, struct node *dir);
bool node_unchanged(struct fs *fs, struct node *dir, uint64_t changes);
bool node_watched(struct fs *fs, struct node *dir);
bool node_in_watched(struct fs *fs, struct node *n);
/* nodes_event -- what one folder watch event means for the nodes (dirwatch.c):
 * the folder's and the entry's nodes, pinned (node_unpin each when set). */
struct node_event {
	const char *rel;    /* in: the watched folder, below the images folder */
	const char *name;   /* in: the entry, or NULL (the folder itself) */
	bool unwatch;       /* in: the folder's watch ended (deleted, moved, unmounted) */
	bool names;         /* in: the folder's names changed, or may have */
	bool entries;       /* in: an entry was created, deleted or moved */
	struct node *dir;   /* out: the folder's node, or NULL (the kernel does not know it) */
	struct node *child; /* out: the entry's node, or NULL */
	struct node *up;    /* out: DIR's parent when DIR's entry must go (a case variant) */
	char *prune;        /* out: DIR's name in UP (owned), or NULL */
	bool variant;       /* out: another spelling of NAME (case only) has a node */
	bool as_dir;        /* out: the kernel knows DIR as a folder */
	bool open;          /* out: CHILD has open handles */
};
void nodes_event(struct fs *fs, struct node_event *e);
/* Open handles' files and I/O modes (passthrough.c decides, node.c keeps).
 * node_elsewhere: N (not detached) has open handles on another drive file
 * than ST, the file its name now names (moved or replaced outside the view):
 * N's name must be detached. node_moved: N is detached or elsewhere.
 * node_open_file: N has handles in an I/O mode, on drive file (*DEV, *INO).
 * node_io_open: a new handle of N on backing file ST joins N's I/O: -ESTALE
 * when N's handles are on another file, else FH_CACHED or FH_PASSTHROUGH;
 * io->backing_open registers the backing file with the kernel when passthrough
 * is WANTed and N has no backing id yet (an ioctl on /dev/fuse, run under
 * fs->lock: every passthrough handle of N shares one id): an id > 0, or 0
 * (cached). node_io_close: the handle of mode IO is released; returns the
 * backing id to close (> 0) when it was the last on it. */
bool node_elsewhere(struct fs *fs, struct node *n, const struct stat *st);
bool node_moved(struct fs *fs, struct node *n, const struct stat *st);
bool node_open_file(struct fs *fs, struct node *n, dev_t *dev, ino_t *ino);
/* A regular file of at most this size that the kernel's page cache of its node holds
 * unchanged (nt_cache_valid) is opened for reading in cached mode even where passthrough is
 * used: its reads come from that cache with no round trip, and the open saves the backing
 * file's registration and release (two ioctls, and the kernel's own open of the backing file
 * and its release at close). Bigger files stay passed through: a second copy of a boot
 * image in the page cache is what passthrough avoids. */
#define PT_CACHED_MAX (1024 * 1024)
struct node_io {
	bool want;                      /* in: passthrough allowed for this handle */
	bool writes;                    /* in: the handle may write (or truncated) */
	int (*backing_open)(void *arg); /* in */
	void *arg;                      /* in */
	int backing_id;                 /* out: with FH_PASSTHROUGH */
	bool keep_cache;                /* out: the kernel may keep N's page cache */
};
int node_io_open(struct fs *fs, struct node *n, const struct stat *st, struct node_io *io);
int node_io_close(struct fs *fs, struct node *n, enum fh_io io, bool writes);
/* nodes_collect -- every hashed node into *OUT (allocated), each and its parent
 * pinned; DETACH: open ones marked to be checked (invalidate.c). */
struct inval {
	struct node *parent; /* both pinned until notified */
	struct node *node;
	char *name;
	bool entry; /* the kernel knows the parent as a folder */
	bool open;  /* the view changed while it had open handles */
};
size_t nodes_collect(struct fs *fs, bool detach, struct inval **out);
int nodes_init(struct fs *fs);
/* nodes_load_inomap -- once, before the first lookup: keep the inode map of the
 * mount at MOUNTPOINT in STATE_DIR (both borrowed; NULL: in memory only). */
void nodes_load_inomap(struct fs *fs, const char *state_dir, const char *mountpoint);
void nodes_fini(struct fs *fs);

/* Where a virtual path lives: the first root (in rank order) that has it,
 * except that a writable root's non-folder beats a read-only root's (loc_find). */
struct loc {
	int root; /* index into view->roots, or -1 */
	int fd;   /* O_PATH fd of the object, owned by the caller */
	bool real; /* loc_find_as: fd is opened with its FLAGS, not O_PATH */
	struct stat st;
	char leaf[NAME_MAX + 1]; /* on-disk spelling of its last component */
};
int loc_find(struct fsview *v, const char *rel, int from_root, struct loc *out);
/* loc_find_as -- loc_find, opening the object with FLAGS where it is spelt
 * exactly (l->real; walk_open_as). FLAGS must not create or truncate. */
int loc_find_as(struct fsview *v, const char *rel, int from_root, int flags, struct loc *out);
/* fsview_moved -- whether open node N's name leads, in view V, to another file
 * than its handles are on, or to none (or an error) while no root of V is on
 * their drive. */
bool fsview_moved(struct fs *fs, struct fsview *v, struct node *n);
bool root_read_only(struct fsview *v, size_t r);
bool root_read_only_now(struct fsview *v, size_t r);
void root_mark_read_only(struct fsview *v, size_t r);
void loc_close(struct loc *l);

/* copyup.c */
int copyup_dirs(struct fsview *v, int root, const char *rel_dir, int *dirfd_out);
int copyup_file(struct fsview *v, const char *rel, const struct loc *src, struct loc *out);
/* The named temporaries of a copy-up (drives without O_TMPFILE): the prefix
 * and a tag naming this host and process with 64 random bits (fileio_tmp_tag),
 * never a name a restart repeats. copyup_tmp_name writes a fresh one to OUT;
 * 0 or -errno. */
#define COPYUP_TMP_PREFIX NAMES_TEMP_PREFIX "copyup."
int copyup_tmp_name(char *out, size_t len);
/* copyup_clean -- at start, before the mount is served: remove the copy-up
 * temporaries a crash left on the view's writable drives (regular files with
 * the names above when abandoned, fileio_tmp_stale: another host's copy-up in
 * progress is left alone; or the older 32-hex and ".<ino>.<random>" names;
 * never migrate's), without
 * following symlinks or leaving a drive's filesystem, at most 64 folders deep
 * and 1,000,000 entries per drive. */
void copyup_clean(struct fs *fs);
int primary_images_fd(struct fsview *v);

/* ops_*.c: each installs its handlers into the table fs.c hands to libfuse */
void ops_attr_install(struct fuse_lowlevel_ops *ops);
void ops_dir_install(struct fuse_lowlevel_ops *ops);
void ops_remove_install(struct fuse_lowlevel_ops *ops);
void ops_file_install(struct fuse_lowlevel_ops *ops);
/* reply.c: fs_of -- the filesystem of request REQ; ops_reply_err --
 * fuse_reply_err, counting the errors that are not routine. */
struct fs *fs_of(fuse_req_t req);
void ops_reply_err(fuse_req_t req, int err);

/* invalidate.c: drop the kernel's cached names and attributes of every known node
 * (after a view change). Never call it from a FUSE handler. */
void nodes_invalidate_all(struct fs *fs);
/* The same without a view change (the folder watch lost events): nodes stay
 * as they are, open or not (a detached node would no longer follow a rename). */
void nodes_invalidate_cached(struct fs *fs);
/* The same for every node below folder REL (relative to the images folder):
 * the folder watch saw REL come, go or move on a drive, so the watches and
 * indexes of the folders below are no longer trusted (watched again at their
 * next lookup). */
void nodes_invalidate_below(struct fs *fs, const char *rel);

/* live.c: the thread that follows the drives (SPEC section 5). Its fields
 * belong to that thread (status.c runs on it too). */
struct live {
	struct fs *fs;
	struct pxe_config **cfg; /* swapped on a good SIGHUP */
	void (*hook)(void *arg, const struct pxe_config *cfg, unsigned events);
	void *hook_arg;
	struct fs_share *share; /* NULL: no share (fs.h; thread-safe) */
	struct watch *w;
	pthread_t thread;
	char mountpoint[PATH_MAX];
	char status_path[PATH_MAX];
	struct timespec started;
	struct timespec changed;
	char cause[64];
	char summary[1024];
};

int status_write(struct live *l);
void status_remove(struct live *l);
/* status.c: TEXT as NAME in the folder DIRFD, atomically (NAME.tmp, fsync, renameat; no
 * symlink followed; mode 0644): 0 or a negative errno. */
int status_replace_at(int dirfd, const char *name, const char *text);
/* status.c: was the share's state posted since the files were last written? */
bool fs_share_changed(struct fs_share *sh);

/* metrics.c: the Prometheus text-format twin of the status file, <run directory>/<the
 * status file's name with .prom for .json>, written atomically beside it. */
struct metrics_extra {
	bool healthy;
	bool have_free; /* free_bytes and size_bytes known */
	uint64_t free_bytes, size_bytes;
	struct timespec written;
	struct fs_share_state share; /* the snapshot the status file shows */
};
/* DIRFD: the run directory, opened by status.c */
int metrics_write(struct live *l, int dirfd, const struct fsview *v,
                  const struct metrics_extra *x);
void metrics_remove(struct live *l);
int live_start(struct fs *fs, const struct fs_options *o);
void live_notify_ready(struct fs *fs); /* systemd: READY=1 with a STATUS= summary */
void live_stop(struct fs *fs);
void ops_reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *st);
int ops_lookup_entry(struct fs *fs, struct node *parent, const char *name, struct fsview *v,
                     struct node **out, struct stat *st);
int ops_dir_index(struct fs *fs, struct node *n, struct fsview *v);

#endif /* PXE_FS_INT_H */
