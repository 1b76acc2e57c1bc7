/* check_int.h -- internals of the check (check*.c): one run's state and the calls between
 * the files (not a public header; export.h has check_run).
 *
 * Calls go one way: check.c (the command's flow) -> check_diag.c (naming the failure) ->
 * check_smb.c (libsmbclient session) -> check_tree.c (listings, comparison) ->
 * check_report.c (verdict, detail lines, JSON). One struct run is one check_run() call, on
 * the calling thread; nothing here locks.
 */
#ifndef PXE_CHECK_INT_H
#define PXE_CHECK_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "export.h"
#include "smb_ctx.h"
#include "smb_url.h"

#define MAX_DEPTH   64             /* folders deeper than this are not listed */
#define MAX_DETAILS 100            /* detail lines kept; the rest are counted */
#define URL_MAX     (3 * PATH_MAX) /* a percent-encoded smb:// URL */
#define TESTPARM_MS 10000          /* bound on one testparm run */

struct entry {
	char *path; /* owned; relative to the share root, '/'-separated */
	bool dir;
	bool special; /* the view's: neither a file nor a folder (a FIFO, a device): no content */
	long long size;
};

struct tree {
	struct entry *v; /* owned */
	size_t n;
	size_t cap;
};

/* What the local server's smb.conf says about the share (testparm). */
struct share_conf {
	bool known;   /* the server on the URL's port runs this config, and it is readable */
	bool defined; /* the share has a section there */
	char file[PATH_MAX];
	char path[PATH_MAX]; /* its effective path */
};

struct run {
	const struct pxe_config *cfg; /* borrowed */
	const struct check_opts *o;   /* borrowed */
	struct check_result *res;     /* borrowed */
	char url[512];                /* smb://host[:port]/share, for messages */
	struct smb_url loc;           /* its parts: host, port, share, the folder below it */
	bool on_host; /* the server is this machine */
	char mountpoint[PATH_MAX];
	char view[PATH_MAX]; /* the images folder inside the view */
	struct smb_creds creds; /* the logon */
	int timeout_ms;
	struct tree remote;
	struct tree local;
	size_t details_len;
	size_t n_details;
};

/* One folder REL of a tree (the share over CTX, or the view) appended to T. */
typedef int (*list_fn)(struct run *r, void *ctx, const char *rel, struct tree *t);
/* SHA-256 of the file REL as 64 hex digits; 0 or a negative errno. */
typedef int (*hash_fn)(struct run *r, void *ctx, const char *rel, char hex[65]);
/* Reads up to N bytes from the handle H; the count, 0 at the end, or a negative errno. */
typedef ssize_t (*read_fn)(void *h, void *buf, size_t n);

/* ---- check_report.c: the result ------------------------------------------------------------- */

/* check_verdict -- the status, kind and message of the result (the last call wins). */
void check_verdict(struct run *r, enum check_status st, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* check_detail -- LINE appended to the result's detail lines (dropped when out of memory). */
void check_detail(struct run *r, const char *line);
/* check_differ -- one difference between the share and the view, as a detail line (the
 * first MAX_DETAILS are kept, all are counted). */
void check_differ(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- check_tree.c: listings and the comparison ---------------------------------------------- */

int check_tree_add(struct tree *t, const char *rel, const char *name, bool dir, long long size);
void check_tree_fini(struct tree *t);
size_t check_count_files(const struct tree *t);
/* check_dots -- NAME is "." or "..". */
bool check_dots(const char *name);
/* check_sha256 -- SHA-256 of everything RD gives from H, as 64 hex digits. */
int check_sha256(read_fn rd, void *h, char hex[65]);
/* check_local_list -- a list_fn for the view (CTX unused). */
int check_local_list(struct run *r, void *ctx, const char *rel, struct tree *t);
/* check_walk -- REL listed with LIST, then its subfolders; the first level's error is
 * returned, below it a folder that cannot be listed is a difference. */
int check_walk(struct run *r, list_fn list, void *ctx, struct tree *t, const char *rel, int depth,
               const char *where);
/* check_compare -- r->remote against r->local, every difference a detail line; with deep,
 * contents through REMOTE_HASH on CTX. */
void check_compare(struct run *r, hash_fn remote_hash, void *ctx);

/* ---- check_smb.c: reaching the server, the libsmbclient session ----------------------------- */

/* check_reach -- resolve r->host, connect by TCP to r->port, set r->on_host; 0 or -1 with
 * the verdict given. */
int check_reach(struct run *r);
/* check_unreachable_why -- the connection errno E in plain words. */
const char *check_unreachable_why(int e);
/* check_smb_new -- a fresh libsmbclient context (an SMBCCTX *, owned by the caller: free
 * with check_smb_free), NULL with errno set. ENCRYPT: ask for an encrypted session. */
void *check_smb_new(struct run *r, bool encrypt);
void check_smb_free(void *ctx);
/* check_share_listed -- whether the server lists r->share; 0 or a negative errno. */
int check_share_listed(struct run *r, bool encrypt, bool *listed);
/* check_smb_list -- a list_fn for the share, CTX from check_smb_new. */
int check_smb_list(struct run *r, void *ctx, const char *rel, struct tree *t);
/* check_smb_sha256 -- a hash_fn for the share, CTX from check_smb_new. */
int check_smb_sha256(struct run *r, void *ctx, const char *rel, char hex[65]);

/* ---- check_diag.c: naming the failure ------------------------------------------------------- */

/* check_read_share_conf -- what this machine's smb.conf says about the share (testparm). */
void check_read_share_conf(struct run *r, struct share_conf *sc);
/* check_classify -- the verdict for the errno E at the share root. */
void check_classify(struct run *r, const struct share_conf *sc, int e);
/* check_judge -- the verdict once the share root was listed (LOCAL_ERR: the view's). */
void check_judge(struct run *r, const struct share_conf *sc, int local_err);

#endif /* PXE_CHECK_INT_H */
