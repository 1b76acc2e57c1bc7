/* migrate_smb.c -- an SMB share as the source of a migration (migrate_src.h), through
 * libsmbclient: the URL, the session, listings, stat, reading files; retries on faults.
 *
 * Reads only. A request that fails on a network fault is retried on a fresh context (the
 * old one and its connection dropped) after a pause that doubles from 0.5 s to 8 s, at most
 * `retries` times and never after `retry_s` seconds; a file being read is reopened and
 * continues at the offset reached. Each context as common/smb_ctx.c sets them up (the URL's
 * port, a request timeout, libsmbclient's own encryption default). Modes, owners
 * and inode numbers of the share mean nothing here: files show as 0644, folders as 0755,
 * owned by the caller; times are the server's. DOS attributes (read-only, hidden, system,
 * archive) and creation times come from the folder's listing (the images folder's own from a
 * stat: attributes only), for the run to keep in the target's user.DOSATTRIB.
 * Not thread-safe: libsmbclient's settings are process-wide; one plan's thread uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "migrate_int.h"
#include "smb_ctx.h"
#include "smb_dos.h"
#include "smb_url.h"

#define SMB_URL_MAX  (3 * PATH_MAX + 600)
#define PAUSE_MIN_MS 500
#define PAUSE_MAX_MS 8000

struct smb {
	SMBCCTX *ctx; /* the current context, or NULL after a fault */
	unsigned gen; /* bumped with each new context: older file handles are dead */
	struct smb_url loc; /* host, port, share; base: the images folder below the share */
	struct smb_creds creds;
	int timeout_ms;
	int retries;
	int retry_s;
	char note[640]; /* why the last request gave up (after retries), or "" */
};

/* An open file: its URL (to reopen after a fault) and the context generation it is of. */
struct smb_fh {
	SMBCFILE *f;
	unsigned gen;
	char url[];
};

/* A folder's listing (readdirplus): names, stats, DOS attributes, sorted by name. */
struct smb_ent {
	char *name;
	struct stat st;
	uint32_t attrs;
	struct timespec btime;
};
struct smb_cache {
	struct smb_ent *v;
	size_t n;
};

/* ---- the URL ----------------------------------------------------------------------------- */

/* Bytes of S outside [A-Za-z0-9._~$-] (and '/') percent-encoded, appended at OUT[N]. */
static size_t pct_encode(const char *s, char *out, size_t n, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("._~$-/", c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

/* The URL of REL[/NAME] below the images folder (the port is set on the context). */
static int url_of(const struct smb *s, const char *rel, const char *name, char *out, size_t len)
{
	char path[3 * PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s%s%s%s", s->loc.share, s->loc.base,
	                 s->loc.base[0] && rel[0] ? "/" : "", rel,
	                 name && (s->loc.base[0] || rel[0]) ? "/" : "");
	size_t k = 0;

	if (n < 0 || (size_t)n + (name ? strlen(name) : 0) + 1 >= sizeof(path)) {
		return -ENAMETOOLONG;
	}
	snprintf(path + n, sizeof(path) - (size_t)n, "%s", name ? name : "");
	k = (size_t)snprintf(out, len, "smb://%s/", s->loc.host);
	if (k >= len) {
		return -ENAMETOOLONG;
	}
	k = pct_encode(path, out, k, len);
	return k + 4 < len ? 0 : -ENAMETOOLONG;
}

/* ---- the session, retries ---------------------------------------------------------------- */

/* The current context, made when there is none; NULL with errno set. */
static SMBCCTX *ctx_get(struct smb *s)
{
	if (!s->ctx) {
		s->ctx =
		    smb_ctx_new(&s->creds, s->loc.port, s->timeout_ms, SMBC_ENCRYPTLEVEL_DEFAULT);
		s->gen += s->ctx != NULL;
	}
	return s->ctx;
}

/* Drop the context and its connection (its file handles die with it). */
static void ctx_drop(struct smb *s)
{
	if (s->ctx) {
		smbc_free_context(s->ctx, 1);
		s->ctx = NULL;
	}
}

/* A fault a fresh connection may cure (the server's answers, like a denial, are not). */
static bool transient(int e)
{
	switch (e) {
	case ETIMEDOUT:
	case ECONNRESET:
	case ECONNREFUSED:
	case ECONNABORTED:
	case EPIPE:
	case ENOTCONN:
	case ENETRESET:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EIO:
	case EAGAIN:
	case EBADF: /* a handle of a connection that died */
		return true;
	default:
		return false;
	}
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request as a retry loop sees it: 0 or a count, or -errno. */
typedef long long (*attempt_fn)(struct smb *s, SMBCCTX *c, void *arg);

/* ATTEMPT until it succeeds, fails for good, or the retries (count, time) are spent. */
static long long with_retries(struct smb *s, attempt_fn attempt, void *arg)
{
	double start = mono_s();
	int pause_ms = PAUSE_MIN_MS;
	long long rc = 0;
	int tries = 0;

	s->note[0] = '\0';
	for (;;) {
		SMBCCTX *c = ctx_get(s);
		errno = 0;
		rc = c ? attempt(s, c, arg) : -(errno ? errno : ENOMEM);
		if (rc >= 0 || !transient((int)-rc)) {
			return rc;
		}
		ctx_drop(s);
		if (tries >= s->retries || mono_s() - start + pause_ms / 1000.0 > s->retry_s) {
			break;
		}
		log_info("smb://%s:%d/%s: %s; retry %d of %d in %.1f s", s->loc.host, s->loc.port, s->loc.share,
		         strerror((int)-rc), tries + 1, s->retries, pause_ms / 1000.0);
		nanosleep(&(struct timespec){pause_ms / 1000, (pause_ms % 1000) * 1000000L}, NULL);
		pause_ms = pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : pause_ms * 2;
		tries++;
	}
	snprintf(s->note, sizeof(s->note), "smb://%s:%d/%s: gave up after %d retr%s in %.0f s",
	         s->loc.host, s->loc.port, s->loc.share, tries, tries == 1 ? "y" : "ies", mono_s() - start);
	return rc;
}

static int err_or(int fallback)
{
	return errno ? -errno : -fallback;
}

/* The stat of a share's entry as this module shows it (see the header). */
static void tidy_stat(struct stat *st)
{
	bool dir = S_ISDIR(st->st_mode);

	st->st_mode = dir ? S_IFDIR | 0755 : S_IFREG | 0644;
	st->st_uid = geteuid();
	st->st_gid = getegid();
	st->st_ino = 0;
	st->st_dev = 0;
	st->st_nlink = 1;
	st->st_ctim = st->st_mtim; /* the server's change time is not ours to compare */
	st->st_blocks = dir ? 8 : (st->st_size + 511) / 512;
}

/* ---- the operations ---------------------------------------------------------------------- */

static void cache_free(void *ctx, void *cache)
{
	struct smb_cache *k = cache;

	(void)ctx;
	for (size_t i = 0; k && i < k->n; i++) {
		free(k->v[i].name);
	}
	if (k) {
		free(k->v);
	}
	free(k);
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct smb_ent *)a)->name, ((const struct smb_ent *)b)->name);
}

static int cache_add(struct smb_cache *k, size_t *cap, const struct libsmb_file_info *fi,
                     const struct stat *st)
{
	if (k->n == *cap) {
		size_t n = *cap ? *cap * 2 : 32;
		struct smb_ent *v = realloc(k->v, n * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		k->v = v;
		*cap = n;
	}
	k->v[k->n].name = strdup(fi->name);
	if (!k->v[k->n].name) {
		return -ENOMEM;
	}
	k->v[k->n].attrs = fi->attrs;
	k->v[k->n].btime = fi->btime_ts;
	k->v[k->n].st = *st;
	tidy_stat(&k->v[k->n++].st);
	return 0;
}

struct list_req {
	const char *url;
	struct smb_cache *k; /* out */
};

static long long list_attempt(struct smb *s, SMBCCTX *c, void *arg)
{
	struct list_req *q = arg;
	const struct libsmb_file_info *fi = NULL;
	SMBCFILE *d = smbc_getFunctionOpendir(c)(c, q->url);
	struct stat st;
	size_t cap = 0;
	int rc = 0;

	(void)s;
	if (!d) {
		return err_or(EIO);
	}
	cache_free(NULL, q->k);
	q->k = calloc(1, sizeof(*q->k));
	rc = q->k ? 0 : -ENOMEM;
	while (rc == 0 && (errno = 0, fi = smbc_getFunctionReaddirPlus2(c)(c, d, &st))) {
		if (strcmp(fi->name, ".") != 0 && strcmp(fi->name, "..") != 0) {
			rc = cache_add(q->k, &cap, fi, &st);
		}
	}
	rc = rc == 0 && errno != 0 && errno != ENOENT ? -errno : rc;
	smbc_getFunctionClosedir(c)(c, d);
	return rc;
}

static int smb_list(void *ctx, struct msrc_dir *d, msrc_add_fn add, void *arg)
{
	struct smb *s = ctx;
	char url[SMB_URL_MAX];
	struct list_req q = {.url = url};
	int rc = url_of(s, d->rel, NULL, url, sizeof(url));

	rc = rc < 0 ? rc : (int)with_retries(s, list_attempt, &q);
	if (rc < 0) {
		cache_free(NULL, q.k);
		return rc;
	}
	qsort(q.k->v, q.k->n, sizeof(*q.k->v), cmp_ent);
	cache_free(NULL, d->cache);
	d->cache = q.k;
	for (size_t i = 0; i < q.k->n && rc == 0; i++) {
		rc = add(arg, q.k->v[i].name);
	}
	return rc;
}

struct stat_req {
	const char *url;
	struct stat *st;
};

static long long stat_attempt(struct smb *s, SMBCCTX *c, void *arg)
{
	struct stat_req *q = arg;

	(void)s;
	return smbc_getFunctionStat(c)(c, q->url, q->st) < 0 ? err_or(EIO) : 0;
}

/* NAME's entry in D's listing, or NULL (not listed, or NAME NULL). */
static const struct smb_ent *cached(const struct msrc_dir *d, const char *name)
{
	const struct smb_cache *k = d->cache;
	struct smb_ent key = {.name = (char *)name};

	return k && name ? bsearch(&key, k->v, k->n, sizeof(*k->v), cmp_ent) : NULL;
}

/* A stat of NAME in D (NULL: D) from the server, as libsmbclient gives it. */
static int stat_raw(struct smb *s, const struct msrc_dir *d, const char *name, struct stat *st)
{
	char url[SMB_URL_MAX];
	struct stat_req q = {.url = url, .st = st};
	int rc = url_of(s, d->rel, name, url, sizeof(url));

	return rc < 0 ? rc : (int)with_retries(s, stat_attempt, &q);
}

static int smb_lstat(void *ctx, struct msrc_dir *d, const char *name, struct stat *st)
{
	const struct smb_ent *e = cached(d, name);
	int rc = 0;

	if (e) {
		*st = e->st;
		return 0;
	}
	rc = stat_raw(ctx, d, name, st);
	if (rc == 0) {
		tidy_stat(st);
	}
	return rc;
}

static int smb_dos(void *ctx, struct msrc_dir *d, const char *name, uint32_t *attrs,
                   struct timespec *btime)
{
	const struct smb_ent *e = cached(d, name);
	struct stat st;
	int rc = 0;

	*btime = e ? e->btime : (struct timespec){0};
	*attrs = e ? e->attrs : 0;
	if (!e && (rc = stat_raw(ctx, d, name, &st)) == 0) {
		*attrs = smb_dos_from_mode(st.st_mode); /* no creation time in a stat */
	}
	return rc;
}

static int smb_opendir(void *ctx, const struct msrc_dir *d, const char *name, struct msrc_dir *out)
{
	(void)ctx;
	*out = (struct msrc_dir){.fd = -1};
	if (asprintf(&out->rel, "%s%s%s", d->rel, d->rel[0] ? "/" : "", name) < 0) {
		out->rel = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* (Re)open H's file on the current context C at offset POS. */
static int fh_open(struct smb *s, SMBCCTX *c, struct smb_fh *h, uint64_t pos, struct stat *st)
{
	h->f = smbc_getFunctionOpen(c)(c, h->url, O_RDONLY, 0);
	if (!h->f) {
		return err_or(EIO);
	}
	h->gen = s->gen;
	if (st && smbc_getFunctionFstat(c)(c, h->f, st) < 0) {
		return err_or(EIO);
	}
	if (pos && smbc_getFunctionLseek(c)(c, h->f, (off_t)pos, SEEK_SET) < 0) {
		return err_or(EIO);
	}
	return 0;
}

struct open_req {
	struct smb_fh *h;
	struct stat *st;
	uint64_t pos;
};

static long long open_attempt(struct smb *s, SMBCCTX *c, void *arg)
{
	struct open_req *q = arg;

	return fh_open(s, c, q->h, q->pos, q->st);
}

static int smb_open(void *ctx, const struct msrc_dir *d, const char *name, struct msrc_file *f)
{
	struct smb *s = ctx;
	char url[SMB_URL_MAX];
	struct smb_fh *h = NULL;
	int rc = url_of(s, d->rel, name, url, sizeof(url));
	struct open_req q = {0};

	*f = (struct msrc_file){.fd = -1};
	h = rc < 0 ? NULL : calloc(1, sizeof(*h) + strlen(url) + 1);
	if (!h) {
		return rc < 0 ? rc : -ENOMEM;
	}
	memcpy(h->url, url, strlen(url) + 1);
	q = (struct open_req){.h = h, .st = &f->st};
	rc = (int)with_retries(s, open_attempt, &q);
	if (rc == 0 && S_ISDIR(f->st.st_mode)) {
		rc = -EISDIR;
	}
	if (rc < 0) {
		if (h->f && h->gen == s->gen && s->ctx) {
			smbc_getFunctionClose(s->ctx)(s->ctx, h->f);
		}
		free(h);
		return rc;
	}
	tidy_stat(&f->st);
	f->h = h;
	return 0;
}

struct read_req {
	struct msrc_file *f;
	void *buf;
	size_t n;
};

static long long read_attempt(struct smb *s, SMBCCTX *c, void *arg)
{
	struct read_req *q = arg;
	struct smb_fh *h = q->f->h;
	ssize_t got = 0;
	int rc = 0;

	if (!h->f || h->gen != s->gen) { /* the connection it was opened on is gone */
		h->f = NULL;
		rc = fh_open(s, c, h, q->f->pos, NULL);
		if (rc < 0) {
			return rc;
		}
	}
	got = smbc_getFunctionRead(c)(c, h->f, q->buf, q->n);
	if (got < 0) {
		h->f = NULL;
		return err_or(EIO);
	}
	return got;
}

static ssize_t smb_read(void *ctx, struct msrc_file *f, void *buf, size_t n)
{
	struct read_req q = {.f = f, .buf = buf, .n = n};
	long long got = with_retries(ctx, read_attempt, &q);

	if (got > 0) {
		f->pos += (uint64_t)got;
	}
	return (ssize_t)got;
}

static int smb_seek(void *ctx, struct msrc_file *f, uint64_t pos)
{
	struct smb *s = ctx;
	struct smb_fh *h = f->h;

	if (h->f && h->gen == s->gen && s->ctx &&
	    smbc_getFunctionLseek(s->ctx)(s->ctx, h->f, (off_t)pos, SEEK_SET) < 0) {
		smbc_getFunctionClose(s->ctx)(s->ctx, h->f);
		h->f = NULL; /* the next read reopens it at POS */
	}
	f->pos = pos;
	return 0;
}

static void smb_close(void *ctx, struct msrc_file *f)
{
	struct smb *s = ctx;
	struct smb_fh *h = f->h;

	if (h && h->f && h->gen == s->gen && s->ctx) {
		smbc_getFunctionClose(s->ctx)(s->ctx, h->f);
	}
	free(h);
	f->h = NULL;
}

static const char *smb_why(void *ctx)
{
	const struct smb *s = ctx;

	return s->note[0] ? s->note : NULL;
}

static const struct msrc_ops smb_ops = {
    .list = smb_list,
    .lstat = smb_lstat,
    .opendir = smb_opendir,
    .open = smb_open,
    .read = smb_read,
    .close = smb_close,
    .cache_free = cache_free,
    .why = smb_why,
    .dos = smb_dos,
    .seek = smb_seek,
};

/* ---- opening and closing ------------------------------------------------------------------ */

int migrate_smb_open(const struct migrate_smb_opts *o, struct msrc *src, char **name, char *errbuf,
                     size_t errlen)
{
	struct smb *s = calloc(1, sizeof(*s));
	struct msrc_dir root = {.fd = -1};
	struct stat st;
	int rc = 0;

	*name = NULL;
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (smb_url_parse(o->url, &s->loc) < 0) {
		snprintf(errbuf, errlen,
		         "%s: not a share URL: want smb://server[:port]/SHARE[/path]", o->url);
		free(s);
		return -1;
	}
	smb_creds_user(&s->creds, o->user);
	snprintf(s->creds.password, sizeof(s->creds.password), "%s",
	         o->user && o->password ? o->password : "");
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 20000;
	s->retries = o->retries >= 0 ? o->retries : 4;
	s->retry_s = o->retry_s > 0 ? o->retry_s : 60;
	*src = (struct msrc){.ops = &smb_ops, .ctx = s};
	root.rel = "";
	rc = smb_lstat(s, &root, NULL, &st);
	rc = rc == 0 && !S_ISDIR(st.st_mode) ? -ENOTDIR : rc;
	if (rc < 0 || asprintf(name, "smb://%s:%d/%s%s%s", s->loc.host, s->loc.port, s->loc.share,
	                       s->loc.base[0] ? "/" : "", s->loc.base) < 0) {
		snprintf(errbuf, errlen, "source %s: %s%s%s", o->url,
		         rc == -EACCES || rc == -EPERM ? "access denied (user or password wrong, "
		                                         "or no right to the share)"
		                                       : strerror(rc < 0 ? -rc : ENOMEM),
		         s->note[0] ? "; " : "", s->note);
		*name = NULL;
		migrate_smb_close(src);
		return -1;
	}
	return 0;
}

void migrate_smb_close(struct msrc *src)
{
	struct smb *s = src->ops == &smb_ops ? src->ctx : NULL;

	if (s) {
		ctx_drop(s);
		smb_creds_wipe(&s->creds);
		free(s);
	}
	*src = (struct msrc){.ops = &msrc_local_ops};
}
