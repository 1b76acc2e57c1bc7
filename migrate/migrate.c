/* migrate.c -- `pxeimagesfs migrate`: choose the drives, open them, plan, count the space.
 *
 * Works on the drives directly (their folders from the resolver's view, opened beneath
 * their mount roots with openat-family calls), never through the view, so it is safe
 * while the view serves. The walk (and the SHA-256 comparison) is in migrate_plan.c,
 * carrying the plan out in migrate_run.c (with migrate_step.c, migrate_copy.c,
 * migrate_land.c, migrate_dirs.c; hidden names: migrate_tmp.c). Here also the words the
 * CLI shows: sizes, the progress line, the names of actions. A plan belongs to one
 * thread. One migrate at a time per target: the plan holds an flock on MIGRATE_LOCK_FILE
 * on the target's mount root (not for a dry run), and one on the root folder itself as the
 * versions before it did. The API is migrate.h; the module uses the resolver
 * and common/, never the FUSE code (fs/).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "migrate_int.h"

static void close_fd(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

static int refuse(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The index of drive NAME in VIEW (exact, else ignoring case), or -1 with a message. */
static int find_drive(const struct resolver_view *view, const char *name, char *errbuf,
                      size_t errlen)
{
	char names[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < view->n_drives; i++) {
		if (strcmp(view->drives[i].name, name) == 0) {
			return (int)i;
		}
	}
	for (size_t i = 0; i < view->n_drives; i++) {
		if (strcasecmp(view->drives[i].name, name) == 0) {
			return (int)i;
		}
	}
	for (size_t i = 0; i < view->n_drives && used < sizeof(names); i++) {
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
		                         view->drives[i].name);
	}
	return refuse(errbuf, errlen, "no drive named '%s' (drives: %s)", name,
	              view->n_drives ? names : "none");
}

static int check_target(const struct drive *d, char *errbuf, size_t errlen)
{
	if (d->state != DRIVE_ONLINE) {
		return refuse(errbuf, errlen, "target drive %s is offline: %s", d->name, d->reason);
	}
	if (d->read_only) {
		return refuse(errbuf, errlen, "target drive %s is read-only (%s)", d->name,
		              d->want_read_only ? "'read only = yes' in the configuration"
		                                : "mounted read-only");
	}
	return 0;
}

static int check_source(const struct drive *d, int idx, int target, char *errbuf, size_t errlen)
{
	if (idx == target) {
		return refuse(errbuf, errlen,
		              "source drive %s is the target: name another source with --from, or "
		              "leave --from out",
		              d->name);
	}
	if (d->state != DRIVE_ONLINE) {
		return refuse(errbuf, errlen, "source drive %s is offline: %s", d->name, d->reason);
	}
	if (!d->holds_images) {
		return refuse(errbuf, errlen, "source drive %s does not hold the images: %s",
		              d->name, d->reason);
	}
	return 0;
}

/* Mark the sources in USE (one flag per drive of VIEW); returns how many, or -1. */
static int pick_sources(const struct resolver_view *view, const struct migrate_options *o,
                        int target, bool *use, char *errbuf, size_t errlen)
{
	int n = 0;

	for (size_t i = 0; i < o->n_from; i++) {
		int s = find_drive(view, o->from[i], errbuf, errlen);
		if (s < 0 || check_source(&view->drives[s], s, target, errbuf, errlen) < 0) {
			return -1;
		}
		n += use[s] ? 0 : 1;
		use[s] = true;
	}
	for (size_t i = 0; o->n_from == 0 && i < view->n_drives; i++) {
		const struct drive *d = &view->drives[i];
		if ((int)i != target && d->state == DRIVE_ONLINE && d->holds_images) {
			use[i] = true;
			n++;
		}
	}
	if (n == 0) {
		return refuse(
		    errbuf, errlen,
		    "no source: no online drive other than the target %s holds the images",
		    view->drives[target].name);
	}
	return n;
}

/* An fd of drive D's mount root (O_RDONLY when WANT_LOCKABLE, else O_PATH), checked to
 * be the filesystem the resolver found there. */
static int open_mount(const struct drive *d, bool lockable, char *errbuf, size_t errlen)
{
	struct stat st;
	int fd = open(d->mount_path, (lockable ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		return refuse(errbuf, errlen, "drive %s: cannot open %s: %s", d->name,
		              d->mount_path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || (d->dev != 0 && st.st_dev != d->dev)) {
		close(fd);
		return refuse(errbuf, errlen, "drive %s is no longer mounted at %s", d->name,
		              d->mount_path);
	}
	return fd;
}

static int split_parts(const char *path, char ***out, size_t *n)
{
	char *copy = strdup(path);
	char *save = NULL;
	char **parts = NULL;
	size_t k = 0;
	int rc = copy ? 0 : -ENOMEM;

	parts = calloc(strlen(path) / 2 + 2, sizeof(*parts));
	rc = parts ? rc : -ENOMEM;
	for (char *c = rc == 0 ? strtok_r(copy, "/", &save) : NULL; c;
	     c = strtok_r(NULL, "/", &save)) {
		if (!(parts[k++] = strdup(c))) {
			rc = -ENOMEM;
			break;
		}
	}
	free(copy);
	*out = parts;
	*n = k;
	return rc;
}

/* One part of the images path on the target: the fd of the folder (*cur replaced),
 * its spelling in FOUND; -ENOENT when missing (FOUND is then PART). */
static int target_part(int *cur, const char *part, char *found, size_t len)
{
	struct stat st;
	int next = -1;
	int rc = walk_find(*cur, part, found, len);

	if (rc == -ENOENT) {
		snprintf(found, len, "%s", part);
	}
	if (rc < 0) {
		return rc;
	}
	if (fstatat(*cur, found, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		return -ENOTDIR;
	}
	next = openat(*cur, found, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (next < 0) {
		return -errno;
	}
	close(*cur);
	*cur = next;
	return 0;
}

/* Find the images folder on the target: open it when every part exists (matching
 * case as the view does); the path it has or will have in *path. */
static int find_target_images(struct migrate_plan *plan, const struct drive *d, char **path,
                              char *errbuf, size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	char spelt[PATH_MAX] = "";
	char found[NAME_MAX + 1];
	int cur = dup(p->tgt_mnt);
	int rc = cur < 0 ? -errno : 0;
	bool missing = false;

	for (size_t i = 0; i < p->n_parts && rc == 0; i++) {
		if (missing) {
			snprintf(found, sizeof(found), "%s", p->parts[i]);
		} else {
			rc = target_part(&cur, p->parts[i], found, sizeof(found));
			missing = rc == -ENOENT;
			rc = missing ? 0 : rc;
		}
		rc = rc < 0 ? rc : names_join(spelt, found, spelt, sizeof(spelt));
	}
	if (rc < 0) {
		close_fd(cur);
		return refuse(errbuf, errlen, "target drive %s: %s%s%s: %s", d->name, d->mount_path,
		              spelt[0] ? "/" : "", spelt,
		              rc == -ENOTDIR ? "not a folder" : strerror(-rc));
	}
	if (missing) {
		close(cur);
		cur = -1;
	}
	p->tgt_img = cur;
	plan->target_has_images = cur >= 0;
	if (asprintf(path, "%s/%s", d->mount_path, spelt) < 0) {
		*path = NULL;
		return refuse(errbuf, errlen, "out of memory");
	}
	return 0;
}

static const char *kind_word(mode_t mode)
{
	return S_ISLNK(mode)    ? "a symlink"
	       : S_ISDIR(mode)  ? "a folder"
	       : S_ISFIFO(mode) ? "a fifo"
	       : S_ISSOCK(mode) ? "a socket"
	                        : "a device";
}

/* Take the lock of target D: an flock on MIGRATE_LOCK_FILE in its mount root (made when
 * missing; never followed, never opened when it is not a regular file). 0, 1 when another
 * run holds it, or -1 with a message. */
static int lock_target(struct migrate_plan *plan, const struct drive *d, char *errbuf,
                       size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	struct stat st;
	bool have = fstatat(p->tgt_mnt, MIGRATE_LOCK_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int fd = -1;

	if (have && !S_ISREG(st.st_mode)) {
		return refuse(errbuf, errlen,
		              "drive %s: %s/%s, migrate's lock file, is %s: not used (remove it)",
		              d->name, d->mount_path, MIGRATE_LOCK_FILE, kind_word(st.st_mode));
	}
	fd = openat(p->tgt_mnt, MIGRATE_LOCK_FILE,
	            O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : EINVAL;
		close_fd(fd);
		return refuse(errbuf, errlen, "drive %s: cannot open migrate's lock file %s/%s: %s",
		              d->name, d->mount_path, MIGRATE_LOCK_FILE,
		              e == ELOOP ? "it is a symlink: not followed (remove it)"
		                         : strerror(e));
	}
	p->tgt_lock = fd;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		return 0;
	}
	return errno == EWOULDBLOCK
	           ? 1
	           : refuse(errbuf, errlen, "drive %s: cannot lock migrate's lock file %s/%s: %s",
	                    d->name, d->mount_path, MIGRATE_LOCK_FILE, strerror(errno));
}

static int open_target(struct migrate_plan *plan, const struct resolver_view *view,
                       const struct drive *d, bool lock, char *errbuf, size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	int held = 0;

	plan->target.name = strdup(d->name);
	p->tgt_mount = strdup(d->mount_path);
	if (!plan->target.name || !p->tgt_mount ||
	    split_parts(view->images_path, &p->parts, &p->n_parts) < 0) {
		return refuse(errbuf, errlen, "out of memory");
	}
	p->tgt_mnt = open_mount(d, true, errbuf, errlen);
	if (p->tgt_mnt < 0) {
		return -1;
	}
	held = lock ? lock_target(plan, d, errbuf, errlen) : 0;
	if (held < 0) {
		return -1;
	}
	if (held > 0 || (lock && flock(p->tgt_mnt, LOCK_EX | LOCK_NB) < 0)) {
		return refuse(errbuf, errlen,
		              "another pxeimagesfs migrate is running on drive %s (%s)", d->name,
		              d->mount_path);
	}
	return find_target_images(plan, d, &plan->target.images_dir, errbuf, errlen);
}

/* Open source K (drive D): its mount root and images folder; refuse when it is the
 * target's images folder under another name. */
static int open_source(struct migrate_plan *plan, size_t k, const struct drive *d, char *errbuf,
                       size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	struct stat s;
	struct stat t;

	plan->sources[k].name = strdup(d->name);
	plan->sources[k].images_dir = strdup(d->images_dir);
	if (!plan->sources[k].name || !plan->sources[k].images_dir) {
		return refuse(errbuf, errlen, "out of memory");
	}
	p->src_mnt[k] = open_mount(d, false, errbuf, errlen);
	if (p->src_mnt[k] < 0) {
		return -1;
	}
	p->src_img[k] = walk_open(p->src_mnt[k], d->images_spelling, NULL, 0);
	if (p->src_img[k] < 0) {
		return refuse(errbuf, errlen, "source drive %s: cannot open %s: %s", d->name,
		              d->images_dir, strerror(-p->src_img[k]));
	}
	if (p->tgt_img >= 0 && fstat(p->src_img[k], &s) == 0 && fstat(p->tgt_img, &t) == 0 &&
	    s.st_dev == t.st_dev && s.st_ino == t.st_ino) {
		return refuse(errbuf, errlen,
		              "source drive %s and target drive %s are the same "
		              "folder (%s)",
		              d->name, plan->target.name, d->images_dir);
	}
	if (k == 0 && split_parts(d->images_spelling, &p->src0_parts, &p->n_src0_parts) < 0) {
		return refuse(errbuf, errlen, "out of memory");
	}
	return 0;
}

static int open_sources(struct migrate_plan *plan, const struct resolver_view *view,
                        const bool *use, size_t n, char *errbuf, size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	size_t k = 0;

	plan->sources = calloc(n, sizeof(*plan->sources));
	p->src_mnt = malloc(n * sizeof(int));
	p->src_img = malloc(n * sizeof(int));
	if (!plan->sources || !p->src_mnt || !p->src_img) {
		return refuse(errbuf, errlen, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		p->src_mnt[i] = p->src_img[i] = -1;
	}
	plan->n_sources = n;
	for (size_t i = 0; i < view->n_drives; i++) {
		if (use[i] && open_source(plan, k++, &view->drives[i], errbuf, errlen) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The one source a share is (o->smb): read through libsmbclient (migrate_smb.c). */
static int open_share(struct migrate_plan *plan, const struct migrate_options *o, char *errbuf,
                      size_t errlen)
{
	struct migrate_priv *p = plan->priv;
	char *name = NULL;

	if (o->n_from > 0 || o->move) {
		return refuse(errbuf, errlen,
		              "%s: a share is the only source (no --from drive with it), and it is "
		              "never written to (no --move)",
		              o->smb->url);
	}
	plan->sources = calloc(1, sizeof(*plan->sources));
	p->src_mnt = malloc(sizeof(int));
	p->src_img = malloc(sizeof(int));
	if (!plan->sources || !p->src_mnt || !p->src_img) {
		return refuse(errbuf, errlen, "out of memory");
	}
	p->src_mnt[0] = p->src_img[0] = -1;
	plan->n_sources = 1;
	if (migrate_smb_open(o->smb, &p->src, &name, errbuf, errlen) < 0) {
		return -1;
	}
	plan->sources[0].name = name;
	plan->sources[0].images_dir = strdup(name);
	return plan->sources[0].images_dir ? 0 : refuse(errbuf, errlen, "out of memory");
}

/* Count what the plan copies and what that takes on the target. */
static void tally(struct migrate_plan *plan)
{
	uint64_t block = 4096;

	for (size_t i = 0; i < plan->n_items; i++) {
		const struct migrate_item *it = &plan->items[i];
		bool copy = it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE;
		if (copy) {
			plan->n_copy++;
			plan->inodes_needed++;
		}
		if (copy && it->kind == MIGRATE_FILE) {
			plan->bytes += (uint64_t)it->st.st_size;
			plan->space_needed += (uint64_t)it->st.st_blocks * 512;
		} else if (copy || it->action == MIGRATE_MKDIR) {
			plan->space_needed += block;
		}
		plan->n_mkdir += it->action == MIGRATE_MKDIR;
		plan->inodes_needed += it->action == MIGRATE_MKDIR;
		plan->n_same += it->action == MIGRATE_SKIP || it->action == MIGRATE_SHADOWED;
		plan->n_conflict += it->action == MIGRATE_CONFLICT;
	}
}

/* What the stale temporaries hold: freed before the first copy. */
static uint64_t stale_bytes(const struct migrate_plan *plan)
{
	uint64_t sum = 0;
	struct stat st;

	for (size_t i = 0; i < plan->n_stale && plan->priv->tgt_img >= 0; i++) {
		if (fstatat(plan->priv->tgt_img, plan->stale[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			sum += (uint64_t)st.st_blocks * 512;
		}
	}
	return sum;
}

int migrate_check_space(struct migrate_plan *plan, char *errbuf, size_t errlen)
{
	struct statvfs sv;
	double mib = 1024.0 * 1024.0;

	if (fstatvfs(plan->priv->tgt_mnt, &sv) < 0) {
		return refuse(errbuf, errlen, "target drive %s: statvfs: %s", plan->target.name,
		              strerror(errno));
	}
	/* a filesystem that counts no blocks at all (ramfs) does not limit them */
	plan->space_available =
	    sv.f_blocks == 0 ? UINT64_MAX : (uint64_t)sv.f_bavail * sv.f_frsize + stale_bytes(plan);
	plan->inodes_available = sv.f_files ? (uint64_t)sv.f_favail : UINT64_MAX;
	if (plan->space_needed > plan->space_available) {
		return refuse(errbuf, errlen,
		              "not enough free space on target drive %s: %.1f MiB needed, %.1f MiB "
		              "available (%llu bytes needed, %llu available)",
		              plan->target.name, (double)plan->space_needed / mib,
		              (double)plan->space_available / mib,
		              (unsigned long long)plan->space_needed,
		              (unsigned long long)plan->space_available);
	}
	if (plan->inodes_needed > plan->inodes_available) {
		return refuse(
		    errbuf, errlen,
		    "not enough free inodes on target drive %s: %llu needed, %llu available",
		    plan->target.name, (unsigned long long)plan->inodes_needed,
		    (unsigned long long)plan->inodes_available);
	}
	return 0;
}

static int plan_build(struct migrate_plan *plan, const struct resolver_view *view,
                      const struct migrate_options *o, char *errbuf, size_t errlen)
{
	bool *use = calloc(view->n_drives ? view->n_drives : 1, sizeof(*use));
	int target = use ? find_drive(view, o->to, errbuf, errlen) : -1;
	int n = 0;
	int rc = -1;

	if (!use) {
		return refuse(errbuf, errlen, "out of memory");
	}
	if (target < 0 || check_target(&view->drives[target], errbuf, errlen) < 0) {
		goto out;
	}
	n = o->smb ? 1 : pick_sources(view, o, target, use, errbuf, errlen);
	if (n < 0 ||
	    open_target(plan, view, &view->drives[target], !o->dry_run, errbuf, errlen) < 0 ||
	    (o->smb ? open_share(plan, o, errbuf, errlen)
	            : open_sources(plan, view, use, (size_t)n, errbuf, errlen)) < 0) {
		goto out;
	}
	rc = 0;
	for (size_t k = 0; k < plan->n_sources && rc == 0; k++) {
		rc = migrate_walk(plan, k, o->verify_existing || o->move, errbuf, errlen);
	}
	if (rc == 0 && migrate_note_partials(plan) < 0) {
		rc = refuse(errbuf, errlen, "out of memory");
	}
	if (rc == 0) {
		tally(plan);
		migrate_check_space(plan, errbuf, errlen); /* the numbers; migrate_run refuses */
		errbuf[0] = '\0';
	}
out:
	free(use);
	return rc;
}

int migrate_plan_new(const struct resolver_view *view, const struct migrate_options *opts,
                     struct migrate_plan **out, char *errbuf, size_t errlen)
{
	struct migrate_plan *plan = calloc(1, sizeof(*plan));
	struct migrate_priv *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!plan || !p) {
		free(plan);
		free(p);
		return refuse(errbuf, errlen, "out of memory");
	}
	plan->priv = p;
	p->tgt_mnt = p->tgt_img = p->tgt_lock = -1;
	p->src = (struct msrc){.ops = &msrc_local_ops};
	names_set_init(&p->planned_dirs);
	names_set_init(&p->planned_other);
	plan->move = opts->move;
	plan->verify_existing = opts->verify_existing;
	plan->overwrite = opts->overwrite;
	plan->backup = !opts->no_backup;
	plan->dry_run = opts->dry_run;
	if (fileio_tmp_tag(p->tag, sizeof(p->tag)) < 0) {
		refuse(errbuf, errlen, "cannot tag this run's temporaries: %s", strerror(errno));
		migrate_plan_free(plan);
		return -1;
	}
	if (!opts->to) {
		refuse(errbuf, errlen, "no target drive (--to DRIVE)");
		migrate_plan_free(plan);
		return -1;
	}
	if (plan_build(plan, view, opts, errbuf, errlen) < 0) {
		migrate_plan_free(plan);
		return -1;
	}
	names_set_fini(&p->planned_dirs);
	names_set_fini(&p->planned_other);
	*out = plan;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i]);
	}
	free(v);
}

void migrate_plan_free(struct migrate_plan *plan)
{
	struct migrate_priv *p = plan ? plan->priv : NULL;

	if (!plan) {
		return;
	}
	for (size_t i = 0; i < plan->n_items; i++) {
		free(plan->items[i].path);
		free(plan->items[i].target);
		free(plan->items[i].error);
		free(plan->items[i].backup);
	}
	free(plan->items);
	for (size_t i = 0; i < plan->n_sources; i++) {
		free(plan->sources[i].name);
		free(plan->sources[i].images_dir);
		close_fd(p->src_mnt ? p->src_mnt[i] : -1);
		close_fd(p->src_img ? p->src_img[i] : -1);
	}
	free(plan->sources);
	free(plan->target.name);
	free(plan->target.images_dir);
	free(plan->backup_dir);
	free_strv(plan->stale, plan->n_stale);
	free(plan->stale_resume);
	free(plan->stale_item);
	close_fd(p->tgt_img);
	close_fd(p->tgt_lock); /* releases the locks */
	close_fd(p->tgt_mnt);
	free(p->tgt_mount);
	free(p->src_mnt);
	free(p->src_img);
	migrate_smb_close(&p->src);
	free_strv(p->parts, p->n_parts);
	free_strv(p->src0_parts, p->n_src0_parts);
	names_set_fini(&p->planned_dirs);
	names_set_fini(&p->planned_other);
	free(p);
	free(plan);
}

const char *migrate_human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
	return buf;
}

/* The fields of the progress line, in display order; dropped whole, lowest KEEP first. */
enum { F_BAR, F_PCT, F_PHASE, F_BYTES, F_FILES, F_RATE, F_ETA, F_N };
static const int keep[F_N] = {[F_BAR] = 2,   [F_PCT] = 9,  [F_PHASE] = 8, [F_BYTES] = 4,
                              [F_FILES] = 3, [F_RATE] = 1, [F_ETA] = 0};

static size_t line_len(char f[F_N][160])
{
	size_t n = 0;

	for (int i = 0; i < F_N; i++) {
		n += f[i][0] ? strlen(f[i]) + (n ? 2 : 0) : 0;
	}
	return n;
}

static void bar_field(char *out, size_t len, double frac, int cells)
{
	static const char hash[] = "##############################";
	static const char dots[] = "..............................";
	int fill = (int)(frac * cells);

	snprintf(out, len, "[%.*s%.*s]", fill, hash, cells - fill, dots);
}

/* "verifying SHA-256 of PATH 45%" in at most ROOM columns: else ".../LAST" for the
 * path, else without it; a name is never cut, nor the percentage. */
static void phase_field(char *out, size_t len, const struct migrate_progress *p, size_t room)
{
	const char *path = p->item && p->item->path ? p->item->path : "";
	const char *last = strrchr(path, '/');
	char pct[16] = "";
	size_t fixed = 0;

	if (p->verify_total) {
		uint64_t d = p->verify_done > p->verify_total ? p->verify_total : p->verify_done;
		snprintf(pct, sizeof(pct), " %d%%", (int)(d * 100 / p->verify_total));
	}
	fixed = strlen("verifying SHA-256 of ") + strlen(pct);
	if (path[0] && fixed + strlen(path) <= room) {
		snprintf(out, len, "verifying SHA-256 of %s%s", path, pct);
	} else if (last && fixed + strlen(last) + 3 <= room) {
		snprintf(out, len, "verifying SHA-256 of ...%s%s", last, pct);
	} else {
		snprintf(out, len, "verifying%s", pct);
	}
}

/* The shortest phase_field that still names the file. */
static size_t phase_min(const struct migrate_progress *p)
{
	const char *last = p->item && p->item->path ? strrchr(p->item->path, '/') : NULL;
	size_t name = last                       ? strlen(last) + 3
	              : p->item && p->item->path ? strlen(p->item->path)
	                                         : 0;

	return strlen("verifying SHA-256 of ") + name + strlen(" 100%");
}

const char *migrate_progress_line(const struct migrate_progress *p, double bps, int width,
                                  char *out, size_t len)
{
	char f[F_N][160] = {{0}};
	char done[32];
	char total[32];
	double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total : 1.0;
	uint64_t shown = p->bytes_done > p->bytes_total ? p->bytes_total : p->bytes_done;
	bool verifying = p->event == MIGRATE_EV_VERIFY;
	size_t room = width > 1 ? (size_t)width - 1 : 0;
	size_t used = 0;

	frac = frac > 1.0 ? 1.0 : frac < 0 ? 0 : frac;
	bar_field(f[F_BAR], sizeof(f[F_BAR]), frac, width >= 100 ? 30 : 20);
	snprintf(f[F_PCT], sizeof(f[F_PCT]), "%d%%", (int)(frac * 100));
	snprintf(f[F_BYTES], sizeof(f[F_BYTES]), "%s/%s",
	         migrate_human_size(shown, done, sizeof(done)),
	         migrate_human_size(p->bytes_total, total, sizeof(total)));
	snprintf(f[F_FILES], sizeof(f[F_FILES]), "%zu/%zu files", p->files_done, p->files_total);
	if (!verifying) { /* the copy rate means nothing while the copy is read back */
		snprintf(f[F_RATE], sizeof(f[F_RATE]), "%s/s",
		         migrate_human_size(bps > 0 ? (uint64_t)bps : 0, done, sizeof(done)));
		if (bps > 0) {
			long left = (long)((double)(p->bytes_total - shown) / bps);
			snprintf(f[F_ETA], sizeof(f[F_ETA]), "ETA %ld:%02ld", left / 60, left % 60);
		} else {
			snprintf(f[F_ETA], sizeof(f[F_ETA]), "ETA --:--");
		}
	}
	/* while verifying, room for "verifying SHA-256 of .../LAST 100%" first */
	for (int k = 0; k < 9 && line_len(f) + (verifying ? phase_min(p) + 2 : 0) > room; k++) {
		for (int i = 0; i < F_N; i++) {
			f[i][0] = keep[i] == k ? '\0' : f[i][0];
		}
	}
	if (verifying) {
		used = line_len(f);
		phase_field(f[F_PHASE], sizeof(f[F_PHASE]), p,
		            room > used + 2 ? room - used - 2 : 0);
	}
	out[0] = '\0';
	for (int i = 0; i < F_N; i++) { /* whole fields only, as many as fit */
		size_t n = strlen(out);
		size_t add = f[i][0] ? strlen(f[i]) + (n ? 2 : 0) : 0;
		if (add && n + add <= room && n + add < len) {
			snprintf(out + n, len - n, "%s%s", n ? "  " : "", f[i]);
		}
	}
	return out;
}

const char *migrate_action_name(enum migrate_action action)
{
	static const char *const names[] = {"copy", "replace",  "mkdir",   "dir",
	                                    "skip", "shadowed", "conflict"};
	return (size_t)action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

const char *migrate_kind_name(enum migrate_kind kind)
{
	static const char *const names[] = {"file", "folder", "symlink", "special"};
	return (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *migrate_overwrite_name(enum migrate_overwrite how)
{
	static const char *const names[] = {"older", "never", "always"};
	return (size_t)how < sizeof(names) / sizeof(names[0]) ? names[how] : "?";
}

int migrate_overwrite_parse(const char *word, enum migrate_overwrite *out)
{
	for (int i = MIGRATE_OVERWRITE_OLDER; i <= MIGRATE_OVERWRITE_ALWAYS; i++) {
		if (word && strcmp(word, migrate_overwrite_name((enum migrate_overwrite)i)) == 0) {
			*out = (enum migrate_overwrite)i;
			return 0;
		}
	}
	return -1;
}
