/* check_tree.c -- the two trees of the check: listing the view, walking a tree folder by folder
 * (the share's through check_smb.c's list_fn), and comparing them: names paired by the view's
 * own case rule (names_casecmp: the exact spelling first, then equal ignoring case), types,
 * sizes and with deep, SHA-256 contents.
 *
 * It does not talk SMB itself: the share's side comes in as list_fn/hash_fn. Writes nothing.
 * One struct run per thread; nothing locks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_int.h"
#include "names.h"
#include "sha256.h"

int check_tree_add(struct tree *t, const char *rel, const char *name, bool dir, long long size)
{
	struct entry *e = NULL;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		e = realloc(t->v, cap * sizeof(*e));
		if (!e) {
			return -ENOMEM;
		}
		t->v = e;
		t->cap = cap;
	}
	e = &t->v[t->n];
	if (rel[0] ? asprintf(&e->path, "%s/%s", rel, name) < 0 : !(e->path = strdup(name))) {
		return -ENOMEM;
	}
	e->dir = dir;
	e->special = false;
	e->size = size;
	t->n++;
	return 0;
}

void check_tree_fini(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

bool check_dots(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* One folder of the view. Symlinks are followed, as smbd does; a dangling one is left out
 * (smbd cannot show it either). A FIFO or a device is listed as a file with no content. */
int check_local_list(struct run *r, void *ctx, const char *rel, struct tree *t)
{
	char dir[PATH_MAX];
	DIR *d = NULL;
	const struct dirent *de = NULL;
	struct stat st;
	int rc = 0;

	(void)ctx;
	if (snprintf(dir, sizeof(dir), "%s%s%s", r->view, rel[0] ? "/" : "", rel) >=
	    (int)sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	d = opendir(dir);
	if (!d) {
		return -errno;
	}
	while (rc == 0 && (de = readdir(d))) {
		if (!check_dots(de->d_name) && fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
			rc = check_tree_add(t, rel, de->d_name, S_ISDIR(st.st_mode),
			                    (long long)st.st_size);
			if (rc == 0) {
				t->v[t->n - 1].special = !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode);
			}
		}
	}
	closedir(d);
	return rc;
}

/* Lists REL with LIST, then its subfolders. The first level's error is returned; below it
 * a folder that cannot be listed is a difference. */
int check_walk(struct run *r, list_fn list, void *ctx, struct tree *t, const char *rel, int depth,
               const char *where)
{
	size_t first = t->n;
	size_t end = 0;
	int rc = list(r, ctx, rel, t);

	for (end = t->n; rc == 0 && first < end; first++) {
		const char *sub = t->v[first].path;
		int e = 0;
		if (!t->v[first].dir) {
			continue;
		}
		e = depth < MAX_DEPTH ? check_walk(r, list, ctx, t, sub, depth + 1, where) : -ELOOP;
		if (e == -ENOMEM) {
			rc = e;
		} else if (e < 0) {
			check_differ(r, "%s/: cannot be listed %s: %s", sub, where, strerror(-e));
		}
	}
	return rc;
}

/* Paths equal under the view's case rule sort together, and in byte order among themselves,
 * so the order is total: the same whatever order the server listed them in. */
static int entry_cmp(const void *a, const void *b)
{
	const char *pa = ((const struct entry *)a)->path;
	const char *pb = ((const struct entry *)b)->path;
	int c = names_casecmp(pa, pb);

	return c != 0 ? c : strcmp(pa, pb);
}

/* SHA-256 of everything RD gives from H, as 64 hex digits in HEX (common/sha256.c). */
int check_sha256(read_fn rd, void *h, char hex[65])
{
	unsigned char sum[SHA256_LEN];
	int rc = sha256_stream(rd, h, NULL, NULL, sum);

	if (rc == 0) {
		sha256_hex(sum, hex);
	}
	return rc;
}

static int sha256_local(struct run *r, const char *rel, char hex[65])
{
	unsigned char sum[SHA256_LEN];
	char path[PATH_MAX];
	struct stat st;
	int fd = -1;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", r->view, rel) >= (int)sizeof(path)) {
		return -ENAMETOOLONG;
	}
	/* never waiting on a FIFO (or reading a device) put there since the listing */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	rc = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	rc = rc < 0 ? rc : sha256_fd(fd, NULL, NULL, sum);
	close(fd);
	if (rc == 0) {
		sha256_hex(sum, hex);
	}
	return rc;
}

static void compare_content(struct run *r, hash_fn remote_hash, void *ctx, const struct entry *a,
                            const struct entry *b)
{
	char ha[65] = "";
	char hb[65] = "";
	int ea = remote_hash(r, ctx, a->path, ha);
	int eb = ea < 0 ? 0 : sha256_local(r, b->path, hb);

	if (ea < 0) {
		check_differ(r, "%s: cannot be read over SMB: %s", a->path, strerror(-ea));
	} else if (eb == -EINVAL) {
		check_differ(r, "%s: no longer a regular file in the view", b->path);
	} else if (eb < 0) {
		check_differ(r, "%s: cannot be read in the view: %s", b->path, strerror(-eb));
	} else if (strcmp(ha, hb) != 0) {
		check_differ(
		    r, "%s: content differs (SHA-256 %.12s... over SMB, %.12s... in the view)",
		    a->path, ha, hb);
	}
}

static void compare_pair(struct run *r, hash_fn remote_hash, void *ctx, const struct entry *a,
                         const struct entry *b)
{
	if (a->dir != b->dir) {
		check_differ(r, "%s: a %s over SMB, a %s in the view", a->path,
		             a->dir ? "folder" : "file", b->dir ? "folder" : "file");
	} else if (!a->dir && a->size != b->size) {
		check_differ(r, "%s: %lld bytes over SMB, %lld in the view", a->path, a->size,
		             b->size);
	} else if (!a->dir && r->o->deep && !b->special) {
		compare_content(r, remote_hash, ctx, a, b);
	}
}

/* One run of paths equal under the view's case rule: T's entries FIRST to END (excluded). */
struct group {
	const struct tree *t;
	size_t first;
	size_t end;
};

static struct group group_at(const struct tree *t, size_t i)
{
	struct group g = {t, i, i + 1};

	while (g.end < t->n && names_casecmp(t->v[i].path, t->v[g.end].path) == 0) {
		g.end++;
	}
	return g;
}

/* The entries of A and B spelled exactly alike, merged in byte order (both are sorted so
 * within a group): VISIT gets each pair, or an entry alone (the other NULL). */
typedef void (*visit_fn)(struct run *r, const struct entry *a, const struct entry *b, void *arg);

static void merge_exact(struct run *r, struct group a, struct group b, visit_fn visit, void *arg)
{
	size_t i = a.first;
	size_t j = b.first;

	while (i < a.end || j < b.end) {
		int c = i == a.end ? 1 : j == b.end ? -1 : strcmp(a.t->v[i].path, b.t->v[j].path);
		visit(r, c <= 0 ? &a.t->v[i] : NULL, c >= 0 ? &b.t->v[j] : NULL, arg);
		i += c <= 0;
		j += c >= 0;
	}
}

struct pairing {
	hash_fn remote_hash;
	void *ctx;
	size_t left_a; /* entries of A with no exact twin in B */
	size_t left_b;
	const struct entry *one_a; /* the last of them */
	const struct entry *one_b;
};

/* First pass: exact spellings compared, the rest counted. */
static void visit_exact(struct run *r, const struct entry *a, const struct entry *b, void *arg)
{
	struct pairing *p = arg;

	if (a && b) {
		compare_pair(r, p->remote_hash, p->ctx, a, b);
	} else if (a) {
		p->left_a++;
		p->one_a = a;
	} else {
		p->left_b++;
		p->one_b = b;
	}
}

/* Second pass, when the rest cannot pair one to one: each is a difference. */
static void visit_left(struct run *r, const struct entry *a, const struct entry *b, void *arg)
{
	const struct pairing *p = arg;

	if (a && b) {
		return;
	}
	if (a && p->left_b == 0) {
		check_differ(r, "%s: on the share, not in the view", a->path);
	} else if (a) {
		check_differ(
		    r,
		    "%s: on the share, not in the view with that spelling; ambiguous: equal "
		    "ignoring case to %zu name%s there (not compared)",
		    a->path, p->left_b, p->left_b == 1 ? "" : "s");
	} else if (p->left_a == 0) {
		check_differ(r, "%s: in the view, missing from the share", b->path);
	} else {
		check_differ(
		    r,
		    "%s: in the view, not on the share with that spelling; ambiguous: equal "
		    "ignoring case to %zu name%s there (not compared)",
		    b->path, p->left_a, p->left_a == 1 ? "" : "s");
	}
}

/* Names equal ignoring case on both sides: each spelling with its exact twin first; what is
 * left pairs when it is one name on each side, else every one of it is a difference. */
static void compare_group(struct run *r, hash_fn remote_hash, void *ctx, struct group a,
                          struct group b)
{
	struct pairing p = {remote_hash, ctx, 0, 0, NULL, NULL};

	merge_exact(r, a, b, visit_exact, &p);
	if (p.left_a == 1 && p.left_b == 1) {
		compare_pair(r, remote_hash, ctx, p.one_a, p.one_b);
	} else if (p.left_a > 0 || p.left_b > 0) {
		merge_exact(r, a, b, visit_left, &p);
	}
}

/* Both listings, sorted by the view's case rule and merged: every name on one side only, and
 * every type, size (and with deep, SHA-256: REMOTE_HASH on CTX for the share's side) that
 * differs, is a difference. Names equal ignoring case pair as compare_group says. */
void check_compare(struct run *r, hash_fn remote_hash, void *ctx)
{
	const struct tree *a = &r->remote;
	const struct tree *b = &r->local;
	size_t i = 0;
	size_t j = 0;

	if (a->n > 1) {
		qsort(r->remote.v, a->n, sizeof(*a->v), entry_cmp);
	}
	if (b->n > 1) {
		qsort(r->local.v, b->n, sizeof(*b->v), entry_cmp);
	}
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : names_casecmp(a->v[i].path, b->v[j].path);
		struct group ga = {a, i, i};
		struct group gb = {b, j, j};
		if (c <= 0) {
			ga = group_at(a, i);
		}
		if (c >= 0) {
			gb = group_at(b, j);
		}
		compare_group(r, remote_hash, ctx, ga, gb);
		i = ga.end;
		j = gb.end;
	}
}

size_t check_count_files(const struct tree *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		n += !t->v[i].dir;
	}
	return n;
}
