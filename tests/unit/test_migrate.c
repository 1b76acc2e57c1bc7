/* test_migrate.c -- planning and carrying out `pxeimagesfs migrate` on temporary trees.
 *
 * Each test builds two "drives" (plain folders under a fresh temporary directory,
 * described by a hand-made resolver view) and checks the plan's decisions, the
 * refusals, the copy (data, holes, mode, times, symlinks, xattrs), stopping midway
 * and resuming, and --move. Needs no root and no mounts; one test at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "migrate.h"
#include "resolver.h"
#include "unit.h"

#define IMAGES "RemoteInstall/SMSImages/SMSPKG"

struct fx {
	char root[256];
	char c[512]; /* C's images folder */
	char d[512]; /* D's images folder (may not exist) */
	char e[512]; /* E's images folder: a third drive only when it exists */
	struct resolver_view *view;
	char err[1024];
};

/* ---- helpers ------------------------------------------------------------------------ */

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(buf, 0755);
		*s = '/';
	}
	mkdir(buf, 0755);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];
	char parent[PATH_MAX];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	mkdirs(parent);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void set_mtime(const char *dir, const char *rel, time_t sec)
{
	char path[PATH_MAX];
	struct timespec ts[2] = {{sec, 0}, {sec, 123456789}};

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static char *slurp(const char *dir, const char *rel)
{
	static char buf[4096];
	char path[PATH_MAX];
	FILE *f = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (!f) {
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int lstat_at(const char *dir, const char *rel, struct stat *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	return lstat(path, st);
}

static bool exists(const char *dir, const char *rel)
{
	struct stat st;
	return lstat_at(dir, rel, &st) == 0;
}

static void fill_drive(struct drive *d, const char *name, const char *mnt, bool images)
{
	struct stat st;

	assert_int_equal(stat(mnt, &st), 0);
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	d->configured = true;
	d->state = DRIVE_ONLINE;
	d->mount_path = strdup(mnt);
	d->dev = st.st_dev;
	d->holds_images = images;
	if (images) {
		assert_true(asprintf(&d->images_dir, "%s/%s", mnt, IMAGES) > 0);
		d->images_spelling = strdup(IMAGES);
	}
	snprintf(d->reason, sizeof(d->reason), "%s", images ? "holds the images" : "no images");
}

/* The view of drives C (rank 2) and D (rank 1), as they are on disk now. */
/* The view of drives D (rank 1), C (rank 2) and, when its folder exists, E (rank 3),
 * as they are on disk now. */
static void make_view(struct fx *f)
{
	char mnt[300];
	struct stat st;
	bool e = stat(f->e, &st) == 0;

	resolver_view_free(f->view);
	f->view = calloc(1, sizeof(*f->view));
	assert_non_null(f->view);
	f->view->images_path = strdup(IMAGES);
	f->view->drives = calloc(3, sizeof(struct drive));
	f->view->n_drives = e ? 3 : 2;
	f->view->primary = 0;
	snprintf(mnt, sizeof(mnt), "%s/d", f->root);
	fill_drive(&f->view->drives[0], "D", mnt, stat(f->d, &st) == 0);
	snprintf(mnt, sizeof(mnt), "%s/c", f->root);
	fill_drive(&f->view->drives[1], "C", mnt, stat(f->c, &st) == 0);
	if (e) {
		snprintf(mnt, sizeof(mnt), "%s/e", f->root);
		fill_drive(&f->view->drives[2], "E", mnt, true);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -rf PATH */
static void remove_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT) {
		fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test_migrate.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->c, sizeof(f->c), "%s/c/%s", f->root, IMAGES);
	snprintf(f->d, sizeof(f->d), "%s/d/%s", f->root, IMAGES);
	snprintf(f->e, sizeof(f->e), "%s/e/%s", f->root, IMAGES);
	mkdirs(f->c);
	mkdirs(f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	remove_tree(f->root);
	resolver_view_free(f->view);
	free(f);
	return 0;
}

static struct migrate_plan *plan_with(struct fx *f, const struct migrate_options *o)
{
	struct migrate_plan *plan = NULL;

	make_view(f);
	if (migrate_plan_new(f->view, o, &plan, f->err, sizeof(f->err)) != 0) {
		fail_msg("plan refused: %s", f->err);
	}
	return plan;
}

static struct migrate_plan *plan_ok(struct fx *f, const char *to, bool move, bool verify, bool dry)
{
	struct migrate_options o = {
	    .to = to, .move = move, .verify_existing = verify, .dry_run = dry};
	struct migrate_plan *plan = NULL;

	make_view(f);
	if (migrate_plan_new(f->view, &o, &plan, f->err, sizeof(f->err)) != 0) {
		fail_msg("plan refused: %s", f->err);
	}
	return plan;
}

static const struct migrate_item *item(const struct migrate_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_items; i++) {
		if (strcmp(plan->items[i].path, path) == 0) {
			return &plan->items[i];
		}
	}
	fail_msg("no item %s in the plan", path);
	return NULL;
}

/* The plan for O on the current f->view is refused with a message holding WANT. */
static void refused(struct fx *f, struct migrate_options *o, const char *want)
{
	struct migrate_plan *plan = NULL;

	assert_int_equal(migrate_plan_new(f->view, o, &plan, f->err, sizeof(f->err)), -1);
	assert_null(plan);
	if (!strstr(f->err, want)) {
		fail_msg("message '%s' lacks '%s'", f->err, want);
	}
}

static void run_ok(struct migrate_plan *plan, struct migrate_summary *sum)
{
	char err[1024];

	if (migrate_run(plan, NULL, NULL, sum, err, sizeof(err)) != 0) {
		fail_msg("run refused: %s", err);
	}
}

/* Stops the run at the first data copied (like SIGINT during a file). */
static int stop_at_bytes(void *arg, const struct migrate_progress *p)
{
	int *events = arg;

	(*events)++;
	return p->event == MIGRATE_EV_BYTES;
}

/* ---- refusals ----------------------------------------------------------------------- */

static void test_migrate_refuses_unknown_and_equal_drives(void **state)
{
	struct fx *f = *state;
	const char *from_d[] = {"D"};
	const char *from_x[] = {"X"};
	struct migrate_options o = {.to = "X"};

	put(f->c, "PKG/boot.wim", "c");
	make_view(f);
	refused(f, &o, "no drive named 'X' (drives: D, C)");
	o = (struct migrate_options){.to = "D", .from = from_d, .n_from = 1};
	refused(f, &o, "source drive D is the target");
	o = (struct migrate_options){.to = "D", .from = from_x, .n_from = 1};
	refused(f, &o, "no drive named 'X'");
	assert_false(exists(f->d, "PKG"));
}

static void test_migrate_refuses_offline_and_read_only_targets(void **state)
{
	struct fx *f = *state;
	struct migrate_options o = {.to = "D"};

	put(f->c, "PKG/boot.wim", "c");
	make_view(f);
	f->view->drives[0].state = DRIVE_OFFLINE;
	snprintf(f->view->drives[0].reason, sizeof(f->view->drives[0].reason), "not a mount point");
	refused(f, &o, "target drive D is offline: not a mount point");
	make_view(f);
	f->view->drives[0].read_only = f->view->drives[0].want_read_only = true;
	refused(f, &o, "target drive D is read-only ('read only = yes'");
	make_view(f);
	f->view->drives[0].read_only = true;
	refused(f, &o, "target drive D is read-only (mounted read-only)");
	assert_false(exists(f->d, "PKG"));
}

static void test_migrate_refuses_without_a_source(void **state)
{
	struct fx *f = *state;
	const char *from_c[] = {"C"};
	struct migrate_options o = {.to = "D"};
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/c/RemoteInstall", f->root);
	remove_tree(path);
	make_view(f);
	refused(f, &o, "no source: no online drive other than the target D holds the images");
	o = (struct migrate_options){.to = "D", .from = from_c, .n_from = 1};
	refused(f, &o, "source drive C does not hold the images");
	make_view(f);
	f->view->drives[1].state = DRIVE_OFFLINE;
	refused(f, &o, "source drive C is offline");
}

static void test_migrate_refuses_a_second_run_on_the_same_target(void **state)
{
	struct fx *f = *state;
	struct migrate_plan *first = NULL;
	struct migrate_plan *dry = NULL;
	struct migrate_options o = {.to = "D"};

	put(f->c, "PKG/boot.wim", "c");
	first = plan_ok(f, "D", false, false, false);
	refused(f, &o, "another pxeimagesfs migrate is running on drive D");
	dry = plan_ok(f, "D", false, false, true); /* a dry run takes no lock */
	migrate_plan_free(dry);
	migrate_plan_free(first);
	migrate_plan_free(plan_ok(f, "D", false, false, false));
}

static void test_migrate_dry_run_plan_cannot_be_run(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char err[256];

	put(f->c, "PKG/boot.wim", "c");
	plan = plan_ok(f, "D", false, false, true);
	assert_int_equal(migrate_run(plan, NULL, NULL, &sum, err, sizeof(err)), -1);
	assert_false(exists(f->d, "PKG"));
	migrate_plan_free(plan);
}

/* ---- planning decisions ------------------------------------------------------------- */

static void test_migrate_plans_copy_replace_skip_and_conflict(void **state)
{
	struct fx *f = *state;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/same.txt", "same");
	put(f->d, "PKG/same.txt", "same");
	put(f->c, "PKG/size.txt", "longer on C");
	put(f->d, "PKG/size.txt", "short");
	put(f->c, "PKG/mtime.txt", "abc");
	put(f->d, "PKG/mtime.txt", "abc");
	put(f->c, "PKG/newer.txt", "C's");
	put(f->d, "PKG/newer.txt", "D's newer");
	put(f->c, "PKG/new.txt", "new");
	put(f->c, "PKG/clash", "a file on C");
	put(f->d, "PKG/clash/inside.txt", "a folder on D");
	put(f->c, "NEWPKG/deep/x.txt", "x");
	put(f->c, "PKG/.pxeimagesfs-tmp.copyup", "a temporary of the view: never copied");
	put(f->d, "PKG/" MIGRATE_TMP_PREFIX "new.txt", "left by an interrupted run");
	set_mtime(f->c, "PKG/same.txt", 1000000);
	set_mtime(f->d, "PKG/same.txt", 1000000);
	set_mtime(f->c, "PKG/size.txt", 1000000);
	set_mtime(f->d, "PKG/size.txt", 900000);
	set_mtime(f->c, "PKG/mtime.txt", 2000000);
	set_mtime(f->d, "PKG/mtime.txt", 1000000);
	set_mtime(f->c, "PKG/newer.txt", 1000000);
	set_mtime(f->d, "PKG/newer.txt", 1000001);
	plan = plan_ok(f, "D", false, false, true);

	assert_true(plan->target_has_images);
	assert_int_equal(item(plan, "")->action, MIGRATE_DIR);
	assert_int_equal(item(plan, "PKG")->action, MIGRATE_DIR);
	assert_int_equal(item(plan, "PKG/same.txt")->action, MIGRATE_SKIP);
	assert_string_equal(item(plan, "PKG/same.txt")->reason, "same size and mtime");
	assert_int_equal(item(plan, "PKG/size.txt")->action, MIGRATE_REPLACE);
	assert_string_equal(item(plan, "PKG/size.txt")->reason, "size differs");
	assert_int_equal(item(plan, "PKG/mtime.txt")->action, MIGRATE_REPLACE);
	assert_string_equal(item(plan, "PKG/mtime.txt")->reason, "mtime differs");
	assert_int_equal(item(plan, "PKG/newer.txt")->action, MIGRATE_CONFLICT);
	assert_string_equal(item(plan, "PKG/newer.txt")->reason, "the target's copy is newer");
	assert_true(item(plan, "PKG/newer.txt")->have_sha);
	assert_int_equal(item(plan, "PKG/newer.txt")->tst.st_size, strlen("D's newer"));
	assert_int_equal(item(plan, "PKG/new.txt")->action, MIGRATE_COPY);
	assert_int_equal(item(plan, "PKG/clash")->action, MIGRATE_CONFLICT);
	assert_int_equal(item(plan, "NEWPKG")->action, MIGRATE_MKDIR);
	assert_int_equal(item(plan, "NEWPKG/deep")->action, MIGRATE_MKDIR);
	assert_int_equal(item(plan, "NEWPKG/deep/x.txt")->action, MIGRATE_COPY);
	for (size_t i = 0; i < plan->n_items; i++) {
		assert_null(strstr(plan->items[i].path, ".pxeimagesfs-tmp."));
	}
	assert_int_equal(plan->n_stale, 1);
	assert_string_equal(plan->stale[0], "PKG/" MIGRATE_TMP_PREFIX "new.txt");
	assert_int_equal(plan->n_copy, 4);
	assert_int_equal(plan->n_mkdir, 2);
	assert_int_equal(plan->n_same, 1);
	assert_int_equal(plan->n_conflict, 2);
	assert_int_equal(plan->bytes, strlen("longer on C") + 3 + 3 + 1);
	migrate_plan_free(plan);
}

static void test_migrate_matches_names_ignoring_case_like_the_view(void **state)
{
	struct fx *f = *state;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/BOOT.WIM", "image");
	put(f->d, "pkg/boot.wim", "image");
	set_mtime(f->c, "PKG/BOOT.WIM", 1000000);
	set_mtime(f->d, "pkg/boot.wim", 1000000);
	/* C has both spellings of one name: each is its own entry */
	put(f->c, "PKG/Notes.txt", "upper");
	put(f->c, "PKG/notes.txt", "lower");
	put(f->d, "pkg/notes.txt", "lower");
	plan = plan_ok(f, "D", false, false, true);
	assert_int_equal(item(plan, "PKG")->action, MIGRATE_DIR);
	assert_string_equal(item(plan, "PKG")->target, "pkg");
	assert_int_equal(item(plan, "PKG/BOOT.WIM")->action, MIGRATE_SKIP);
	assert_string_equal(item(plan, "PKG/BOOT.WIM")->target, "pkg/boot.wim");
	assert_int_equal(item(plan, "PKG/Notes.txt")->action, MIGRATE_COPY);
	assert_string_equal(item(plan, "PKG/Notes.txt")->target, "pkg/Notes.txt");
	assert_string_equal(item(plan, "PKG/notes.txt")->target, "pkg/notes.txt");
	migrate_plan_free(plan);
}

static void test_migrate_verify_existing_compares_contents(void **state)
{
	struct fx *f = *state;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/boot.wim", "AAAA");
	put(f->d, "PKG/boot.wim", "BBBB");
	put(f->c, "PKG/same.wim", "CCCC");
	put(f->d, "PKG/same.wim", "CCCC");
	set_mtime(f->c, "PKG/boot.wim", 1000000);
	set_mtime(f->d, "PKG/boot.wim", 1000000);
	set_mtime(f->c, "PKG/same.wim", 1000000);
	set_mtime(f->d, "PKG/same.wim", 1000000);
	plan = plan_ok(f, "D", false, false, true);
	assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_SKIP);
	migrate_plan_free(plan);
	plan = plan_ok(f, "D", false, true, true);
	/* the same mtime, other contents: which copy is newer is unknown */
	assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_CONFLICT);
	assert_string_equal(item(plan, "PKG/boot.wim")->reason,
	                    "the same mtime but other contents: which is newer is unknown");
	assert_int_equal(item(plan, "PKG/same.wim")->action, MIGRATE_SKIP);
	assert_true(item(plan, "PKG/same.wim")->verified);
	migrate_plan_free(plan);
	plan = plan_with(f, &(struct migrate_options){.to = "D",
	                                              .verify_existing = true,
	                                              .dry_run = true,
	                                              .overwrite = MIGRATE_OVERWRITE_ALWAYS});
	assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_REPLACE);
	assert_string_equal(item(plan, "PKG/boot.wim")->reason, "SHA-256 differs");
	migrate_plan_free(plan);
}

/* ---- carrying it out ---------------------------------------------------------------- */

static void same_attrs(const char *a, const char *b, const char *rel)
{
	struct stat sa;
	struct stat sb;

	assert_int_equal(lstat_at(a, rel, &sa), 0);
	if (lstat_at(b, rel, &sb) != 0) {
		fail_msg("%s missing on the target", rel);
	}
	assert_int_equal(sa.st_mode, sb.st_mode);
	assert_int_equal(sa.st_uid, sb.st_uid);
	assert_int_equal(sa.st_gid, sb.st_gid);
	assert_int_equal(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	assert_int_equal(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	if (!S_ISDIR(sa.st_mode)) {
		assert_int_equal(sa.st_size, sb.st_size);
	}
}

/* A 64 MiB file with data at 0 and at 40 MiB only. */
static void make_sparse(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "head", 4, 0), 4);
	assert_int_equal(pwrite(fd, "middle", 6, 40 << 20), 6);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
}

static void test_migrate_run_copies_the_tree_exactly(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char path[PATH_MAX];
	char link[PATH_MAX];
	char val[64];
	struct stat st;
	bool xattrs = false;
	ssize_t n = 0;

	put(f->c, "PKG1/boot.PKG1.wim", "image one");
	put(f->c, "PKG1/sub/deep/notes.txt", "deep");
	make_sparse(f->c, "PKG1/sparse.img");
	snprintf(path, sizeof(path), "%s/PKG1/boot.PKG1.wim", f->c);
	assert_int_equal(chmod(path, 0640), 0);
	xattrs = setxattr(path, "user.DOSATTRIB", "0x20", 4, 0) == 0;
	snprintf(path, sizeof(path), "%s/PKG1/current", f->c);
	assert_int_equal(symlink("boot.PKG1.wim", path), 0);
	snprintf(path, sizeof(path), "%s/PKG1/escape", f->c);
	assert_int_equal(symlink("../../../../../etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/PKG1/sub", f->c);
	assert_int_equal(chmod(path, 0750), 0);
	set_mtime(f->c, "PKG1/sub/deep/notes.txt", 1000000);
	set_mtime(f->c, "PKG1/sub/deep", 1100000);
	set_mtime(f->c, "PKG1/sub", 1200000);
	set_mtime(f->c, "PKG1/current", 1300000);
	set_mtime(f->c, "PKG1", 1400000);
	plan = plan_ok(f, "D", false, false, false);
	run_ok(plan, &sum);
	assert_int_equal(sum.failed, 0);
	assert_int_equal(sum.copied, 5);
	assert_int_equal(sum.verified, 5);
	assert_int_equal(sum.dirs_created, 3);
	assert_int_equal(sum.bytes, 9 + 4 + (64 << 20));
	assert_string_equal(slurp(f->d, "PKG1/boot.PKG1.wim"), "image one");
	assert_string_equal(slurp(f->d, "PKG1/sub/deep/notes.txt"), "deep");
	for (const char *const *r =
	         (const char *const[]){"PKG1", "PKG1/boot.PKG1.wim", "PKG1/sub", "PKG1/sub/deep",
	                               "PKG1/sub/deep/notes.txt", "PKG1/current", "PKG1/sparse.img",
	                               NULL};
	     *r; r++) {
		same_attrs(f->c, f->d, *r);
	}
	snprintf(path, sizeof(path), "%s/PKG1/escape", f->d);
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "../../../../../etc/passwd");
	assert_int_equal(lstat_at(f->d, "PKG1/sparse.img", &st), 0);
	assert_true(st.st_blocks * 512 < (4 << 20)); /* the holes stayed holes */
	if (xattrs) {
		snprintf(path, sizeof(path), "%s/PKG1/boot.PKG1.wim", f->d);
		n = getxattr(path, "user.DOSATTRIB", val, sizeof(val));
		assert_int_equal(n, 4);
		assert_memory_equal(val, "0x20", 4);
	}
	migrate_plan_free(plan);
	plan = plan_ok(f, "D", false, false, false); /* a second run has nothing to do */
	assert_int_equal(plan->n_copy + plan->n_mkdir, 0);
	assert_int_equal(plan->n_same, 5);
	migrate_plan_free(plan);
}

static void test_migrate_creates_the_images_path_on_an_empty_target(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/d/RemoteInstall", f->root);
	remove_tree(path);
	put(f->c, "PKG/boot.wim", "c");
	set_mtime(f->c, "", 1500000);
	plan = plan_ok(f, "D", false, false, false);
	assert_false(plan->target_has_images);
	assert_int_equal(item(plan, "")->action, MIGRATE_MKDIR);
	run_ok(plan, &sum);
	assert_int_equal(sum.failed, 0);
	assert_string_equal(slurp(f->d, "PKG/boot.wim"), "c");
	same_attrs(f->c, f->d, "");
	assert_false(exists(f->d, MIGRATE_UNFINISHED));
	migrate_plan_free(plan);
}

static void test_migrate_stop_midway_leaves_no_partial_file_and_a_rerun_finishes(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char err[256];
	int events = 0;

	put(f->c, "PKG/b.txt", "b");
	make_sparse(f->c, "PKG/a-big.img");
	set_mtime(f->c, "PKG", 1600000);
	plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(migrate_run(plan, stop_at_bytes, &events, &sum, err, sizeof(err)), 0);
	assert_true(sum.interrupted);
	assert_int_equal(sum.failed, 0);
	assert_false(exists(f->d, "PKG/a-big.img"));
	assert_false(exists(f->d, "PKG/" MIGRATE_TMP_PREFIX "a-big.img")); /* removed on stop */
	assert_true(exists(f->d, "PKG/" MIGRATE_UNFINISHED));
	migrate_plan_free(plan);

	/* what a kill -9 leaves: a temporary under the deterministic name */
	put(f->d, "PKG/" MIGRATE_TMP_PREFIX "a-big.img", "partial");
	plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(plan->n_stale, 1);
	assert_true(item(plan, "PKG")->unfinished);
	run_ok(plan, &sum);
	assert_false(sum.interrupted);
	assert_int_equal(sum.failed, 0);
	assert_int_equal(sum.copied, 2);
	assert_false(exists(f->d, "PKG/" MIGRATE_TMP_PREFIX "a-big.img"));
	assert_false(exists(f->d, "PKG/" MIGRATE_UNFINISHED));
	same_attrs(f->c, f->d, "PKG/a-big.img");
	same_attrs(f->c, f->d, "PKG"); /* times set once its contents are complete */
	migrate_plan_free(plan);
}

static void test_migrate_move_removes_each_source_after_its_copy(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char path[PATH_MAX];

	put(f->c, "PKG1/boot.wim", "one");
	put(f->c, "PKG2/deep/x.txt", "two");
	put(f->c, "PKG3/already.txt", "three");
	put(f->d, "PKG3/already.txt", "three");
	set_mtime(f->c, "PKG3/already.txt", 1000000);
	set_mtime(f->d, "PKG3/already.txt", 1000000);
	put(f->c, "PKG4/differs.txt", "four");
	put(f->d, "PKG4/differs.txt", "FOUR");
	set_mtime(f->c, "PKG4/differs.txt", 1000000);
	set_mtime(f->d, "PKG4/differs.txt", 900000); /* older on the target: replaced */
	snprintf(path, sizeof(path), "%s/PKG1/link", f->c);
	assert_int_equal(symlink("boot.wim", path), 0);
	plan = plan_ok(f, "D", true, false, false);
	assert_int_equal(item(plan, "PKG4/differs.txt")->action, MIGRATE_REPLACE);
	run_ok(plan, &sum);
	assert_int_equal(sum.failed, 0);
	assert_string_equal(slurp(f->d, "PKG1/boot.wim"), "one");
	assert_string_equal(slurp(f->d, "PKG2/deep/x.txt"), "two");
	assert_string_equal(slurp(f->d, "PKG4/differs.txt"), "four");
	assert_true(exists(f->d, "PKG1/link"));
	for (const char *const *r = (const char *const[]){"PKG1", "PKG2", "PKG3", "PKG4", NULL}; *r;
	     r++) {
		if (exists(f->c, *r)) {
			fail_msg("%s is still on the source", *r);
		}
	}
	assert_true(exists(f->c, "")); /* the images folder itself stays */
	assert_int_equal(sum.removed, 5 + 5);
	assert_int_equal(sum.backed_up, 1); /* D's older differs.txt */
	assert_non_null(plan->backup_dir);
	assert_string_equal(slurp(plan->backup_dir, "PKG4/differs.txt"), "FOUR");
	migrate_plan_free(plan);
}

static void test_migrate_takes_a_path_from_the_highest_ranked_source(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/a.txt", "C's copy");
	put(f->e, "PKG/a.txt", "E's older copy");
	put(f->e, "PKG/only-on-e.txt", "e");
	put(f->e, "PKG/same.txt", "same");
	put(f->c, "PKG/same.txt", "same");
	plan = plan_ok(f, "D", false, false, true);
	assert_int_equal(plan->n_sources, 2);
	assert_string_equal(plan->sources[0].name, "C"); /* rank order */
	assert_int_equal(item(plan, "PKG/a.txt")->source, 0);
	assert_int_equal(item(plan, "PKG/a.txt")->action, MIGRATE_COPY);
	for (size_t i = 0; i < plan->n_items; i++) {
		const struct migrate_item *it = &plan->items[i];
		if (it->source == 1 && strcmp(it->path, "PKG") == 0) {
			assert_int_equal(it->action, MIGRATE_DIR);
		} else if (it->source == 1 && strcmp(it->path, "PKG/a.txt") == 0) {
			assert_int_equal(it->action, MIGRATE_SHADOWED);
		} else if (it->source == 1 && strcmp(it->path, "PKG/only-on-e.txt") == 0) {
			assert_int_equal(it->action, MIGRATE_COPY);
		}
	}
	migrate_plan_free(plan);

	/* a move takes E's copy away only when it equals what landed on D */
	plan = plan_ok(f, "D", true, false, false);
	run_ok(plan, &sum);
	assert_string_equal(slurp(f->d, "PKG/a.txt"), "C's copy");
	assert_string_equal(slurp(f->d, "PKG/only-on-e.txt"), "e");
	assert_int_equal(sum.failed, 1); /* E's a.txt differs: kept, and said so */
	assert_true(exists(f->e, "PKG/a.txt"));
	assert_false(exists(f->e, "PKG/same.txt"));
	assert_false(exists(f->e, "PKG/only-on-e.txt"));
	assert_false(exists(f->c, "PKG"));
	for (size_t i = 0; i < plan->n_items; i++) {
		const struct migrate_item *it = &plan->items[i];
		if (it->result == MIGRATE_FAILED) {
			assert_int_equal(it->action, MIGRATE_SHADOWED);
			assert_non_null(strstr(it->error, "the contents differ"));
		}
	}
	migrate_plan_free(plan);
}

/* ---- a newer copy on the target ------------------------------------------------------- */

/* The freshly distributed image on D is newer than C's: the default run leaves it alone
 * (a conflict), and --move keeps C's copy too. */
static void test_migrate_never_overwrites_a_newer_target_by_default(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/boot.wim", "C's older image");
	put(f->d, "PKG/boot.wim", "D's fresh image");
	put(f->c, "PKG/other.wim", "other");
	set_mtime(f->c, "PKG/boot.wim", 1000000);
	set_mtime(f->d, "PKG/boot.wim", 2000000);
	for (int move = 0; move <= 1; move++) {
		plan = plan_ok(f, "D", move, false, false);
		assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_CONFLICT);
		run_ok(plan, &sum);
		assert_string_equal(slurp(f->d, "PKG/boot.wim"), "D's fresh image");
		assert_string_equal(slurp(f->c, "PKG/boot.wim"), "C's older image");
		assert_string_equal(slurp(f->d, "PKG/other.wim"), "other");
		assert_int_equal(exists(f->c, "PKG/other.wim"), !move);
		migrate_plan_free(plan);
	}
}

/* D older, D newer, D newer with the same bytes, and equal mtimes with other bytes */
static void put_versions(struct fx *f)
{
	put(f->c, "PKG/older.wim", "C's new image");
	put(f->d, "PKG/older.wim", "D's old image");
	put(f->c, "PKG/newer.wim", "C's old image");
	put(f->d, "PKG/newer.wim", "D's fresh image");
	put(f->c, "PKG/same.wim", "same bytes");
	put(f->d, "PKG/same.wim", "same bytes");
	put(f->c, "PKG/tie.wim", "tie C");
	put(f->d, "PKG/tie.wim", "tie D");
	set_mtime(f->c, "PKG/older.wim", 2000000);
	set_mtime(f->d, "PKG/older.wim", 1000000);
	set_mtime(f->c, "PKG/newer.wim", 1000000);
	set_mtime(f->d, "PKG/newer.wim", 2000000);
	set_mtime(f->c, "PKG/same.wim", 1000000);
	set_mtime(f->d, "PKG/same.wim", 2000000);
	set_mtime(f->c, "PKG/tie.wim", 1000000);
	set_mtime(f->d, "PKG/tie.wim", 1000000);
}

static void test_migrate_overwrite_older_is_the_default_and_keeps_a_backup(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	const struct migrate_item *it = NULL;
	char sha[65] = "";

	put_versions(f);
	plan = plan_ok(f, "D", true, false, false);
	assert_int_equal(item(plan, "PKG/older.wim")->action, MIGRATE_REPLACE);
	assert_int_equal(item(plan, "PKG/newer.wim")->action, MIGRATE_CONFLICT);
	assert_int_equal(item(plan, "PKG/same.wim")->action, MIGRATE_SKIP);
	assert_string_equal(item(plan, "PKG/same.wim")->reason,
	                    "same SHA-256 (only the mtime differs)");
	assert_int_equal(item(plan, "PKG/tie.wim")->action, MIGRATE_CONFLICT);
	it = item(plan, "PKG/newer.wim"); /* what the report names: both copies */
	assert_true(it->have_tst && it->have_sha);
	assert_int_equal(it->st.st_size, strlen("C's old image"));
	assert_int_equal(it->tst.st_size, strlen("D's fresh image"));
	assert_int_equal(it->tst.st_mtim.tv_sec, 2000000);
	for (int i = 0; i < 32; i++) {
		snprintf(sha + 2 * i, 3, "%02x", it->tsha[i]);
	}
	/* sha256sum of "D's fresh image" */
	assert_string_equal(sha,
	                    "f69714e7b6bf0c6c5699ff3fed2b83a60bdb722bc8c613d88be43a7b0a28e05f");
	run_ok(plan, &sum);
	assert_int_equal(sum.conflicts, 2);
	assert_int_equal(sum.failed, 0);
	assert_int_equal(sum.backed_up, 1);
	assert_string_equal(slurp(f->d, "PKG/older.wim"), "C's new image");
	assert_string_equal(slurp(f->d, "PKG/newer.wim"), "D's fresh image");
	assert_string_equal(slurp(f->d, "PKG/tie.wim"), "tie D");
	assert_string_equal(slurp(plan->backup_dir, "PKG/older.wim"), "D's old image");
	assert_non_null(strstr(plan->backup_dir, "/d/" MIGRATE_BACKUP_DIR "/"));
	assert_string_equal(
	    item(plan, "PKG/older.wim")->backup,
	    strcat(strcpy((char[PATH_MAX]){0}, plan->backup_dir), "/PKG/older.wim"));
	/* --move: the conflicting source copies stay, the others went */
	assert_string_equal(slurp(f->c, "PKG/newer.wim"), "C's old image");
	assert_string_equal(slurp(f->c, "PKG/tie.wim"), "tie C");
	assert_false(exists(f->c, "PKG/older.wim"));
	assert_false(exists(f->c, "PKG/same.wim"));
	migrate_plan_free(plan);
}

static void test_migrate_overwrite_never_and_always(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	char path[PATH_MAX];

	put_versions(f);
	plan = plan_with(f, &(struct migrate_options){
	                        .to = "D", .dry_run = true, .overwrite = MIGRATE_OVERWRITE_NEVER});
	assert_int_equal(item(plan, "PKG/older.wim")->action, MIGRATE_CONFLICT);
	assert_string_equal(item(plan, "PKG/older.wim")->reason,
	                    "the target has another version (--overwrite=never)");
	assert_int_equal(item(plan, "PKG/same.wim")->action, MIGRATE_SKIP);
	migrate_plan_free(plan);

	plan = plan_with(f, &(struct migrate_options){.to = "D",
	                                              .verify_existing = true,
	                                              .overwrite = MIGRATE_OVERWRITE_ALWAYS,
	                                              .no_backup = true});
	assert_int_equal(item(plan, "PKG/newer.wim")->action, MIGRATE_REPLACE);
	assert_int_equal(item(plan, "PKG/tie.wim")->action, MIGRATE_REPLACE);
	run_ok(plan, &sum);
	assert_int_equal(sum.conflicts + sum.failed + sum.backed_up, 0);
	assert_string_equal(slurp(f->d, "PKG/newer.wim"), "C's old image");
	assert_string_equal(slurp(f->d, "PKG/tie.wim"), "tie C");
	assert_null(plan->backup_dir);
	snprintf(path, sizeof(path), "%s/d/%s", f->root, MIGRATE_BACKUP_DIR);
	assert_false(exists(path, ""));
	snprintf(path, sizeof(path), "%s/PKG", f->d); /* no copy set aside is left */
	for (DIR *d = opendir(path); d; d = (closedir(d), NULL)) {
		for (struct dirent *e = readdir(d); e; e = readdir(d)) {
			assert_null(strstr(e->d_name, ".pxeimagesfs-tmp"));
		}
	}
	migrate_plan_free(plan);
}

/* While the run verifies its copy, a fresh image lands on D under the name (written
 * to a temporary and renamed, as a distribution does). */
static int land_fresh_on_d(void *arg, const struct migrate_progress *p)
{
	struct fx *f = arg;
	char tmp[PATH_MAX];
	char dst[PATH_MAX];

	if (p->event == MIGRATE_EV_VERIFY && !exists(f->d, "PKG/fresh.tmp") &&
	    !strstr(slurp(f->d, "PKG/boot.wim"), "fresh")) {
		put(f->d, "PKG/fresh.tmp", "D's fresh image, renamed in");
		snprintf(tmp, sizeof(tmp), "%s/PKG/fresh.tmp", f->d);
		snprintf(dst, sizeof(dst), "%s/PKG/boot.wim", f->d);
		assert_int_equal(rename(tmp, dst), 0);
	}
	return 0;
}

/* D's copy is older when planned, but a fresh one lands before the run gets to it. */
static void test_migrate_leaves_a_target_copy_that_changed_after_planning(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;

	put(f->c, "PKG/boot.wim", "C's image");
	put(f->d, "PKG/boot.wim", "D's old image");
	set_mtime(f->c, "PKG/boot.wim", 2000000);
	set_mtime(f->d, "PKG/boot.wim", 1000000);
	plan = plan_ok(f, "D", true, false, false);
	assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_REPLACE);
	put(f->d, "PKG/boot.wim", "D's fresh image"); /* rewritten in place */
	run_ok(plan, &sum);
	assert_int_equal(sum.failed, 1);
	assert_non_null(strstr(item(plan, "PKG/boot.wim")->error, "changed meanwhile"));
	assert_string_equal(slurp(f->d, "PKG/boot.wim"), "D's fresh image");
	assert_string_equal(slurp(f->c, "PKG/boot.wim"), "C's image"); /* --move kept it */
	migrate_plan_free(plan);

	put(f->d, "PKG/boot.wim", "D's old image");
	set_mtime(f->d, "PKG/boot.wim", 1000000); /* older again: planned as a replace */
	plan = plan_ok(f, "D", true, false, false);
	assert_int_equal(item(plan, "PKG/boot.wim")->action, MIGRATE_REPLACE);
	assert_int_equal(migrate_run(plan, land_fresh_on_d, f, &sum, f->err, sizeof(f->err)), 0);
	assert_int_equal(sum.failed, 1);
	assert_string_equal(slurp(f->d, "PKG/boot.wim"), "D's fresh image, renamed in");
	assert_string_equal(slurp(f->c, "PKG/boot.wim"), "C's image");
	migrate_plan_free(plan);
}

/* ---- the progress bar --------------------------------------------------------------- */

/* Every token of LINE holding a digit is a whole token of FULL (or ".../LAST", LAST the
 * last part of a path FULL names): nothing is cut mid-number. */
static void no_number_cut(const char *line, const char *full, const char *last)
{
	char buf[512];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char want[600];
		char in[600];
		if (!strpbrk(t, "0123456789") || (strncmp(t, ".../", 4) == 0 &&
		                                  strcmp(t + 4, last) == 0 && strstr(full, last))) {
			continue;
		}
		snprintf(want, sizeof(want), " %s ", t);
		snprintf(in, sizeof(in), " %s ", full);
		if (!strstr(in, want)) {
			fail_msg("'%s' in the line '%s' is cut (the whole line: '%s')", t, line,
			         full);
		}
	}
}

static void test_migrate_progress_line_says_verifying_and_never_cuts_a_number(void **state)
{
	struct migrate_item it = {.path = "PKG00001/boot.PKG00001.wim",
	                          .target = "PKG00001/boot.PKG00001.wim",
	                          .kind = MIGRATE_FILE};
	struct migrate_progress p = {.event = MIGRATE_EV_VERIFY,
	                             .item = &it,
	                             .bytes_done = 3995000000ULL, /* 93% of 4 GiB */
	                             .bytes_total = 4294967296ULL,
	                             .files_done = 0,
	                             .files_total = 4,
	                             .verify_done = 3866000000ULL, /* 45% of 2 x 4 GiB */
	                             .verify_total = 8589934592ULL};
	char full[512];
	char line[512];

	(void)state;
	migrate_progress_line(&p, 123456789.0, 400, full, sizeof(full));
	for (int width = 40; width <= 200; width++) {
		migrate_progress_line(&p, 123456789.0, width, line, sizeof(line));
		if ((int)strlen(line) > width - 1) {
			fail_msg("%zu characters for a width of %d: '%s'", strlen(line), width,
			         line);
		}
		if (!strstr(line, "verifying")) {
			fail_msg("width %d: the line does not say it is verifying: '%s'", width,
			         line);
		}
		no_number_cut(line, full, "boot.PKG00001.wim");
		if (width >= 60 && !strstr(line, "verifying SHA-256 of")) {
			fail_msg("width %d: no name of the file being verified: '%s'", width, line);
		}
		if (!strstr(line, " 45%")) {
			fail_msg("width %d: the verify's own progress is missing: '%s'", width,
			         line);
		}
	}
	migrate_progress_line(&p, 123456789.0, 80, line, sizeof(line));
	printf("80 columns, verifying: %s\n", line);
	p.event = MIGRATE_EV_BYTES;
	migrate_progress_line(&p, 123456789.0, 400, full, sizeof(full));
	for (int width = 40; width <= 200; width++) {
		migrate_progress_line(&p, 123456789.0, width, line, sizeof(line));
		assert_true((int)strlen(line) <= width - 1);
		assert_null(strstr(line, "verifying"));
		assert_non_null(strstr(line, "93%"));
		no_number_cut(line, full, "boot.PKG00001.wim");
	}
	migrate_progress_line(&p, 123456789.0, 80, line, sizeof(line));
	printf("80 columns, copying:   %s\n", line);
}

/* ---- several runs on one target (two hosts over one store, issue 19) ---------------- */

static void lock_path(const struct fx *f, char *out, size_t len)
{
	snprintf(out, len, "%s/d/%s", f->root, MIGRATE_LOCK_FILE);
}

/* The lock is an flock on a regular file on the target's root: a lock on that file alone
 * (another host over GlusterFS, where a lock on the root folder is not shared) refuses. */
static void test_migrate_lock_is_a_regular_file_on_the_target_root(void **state)
{
	struct fx *f = *state;
	struct migrate_options o = {.to = "D"};
	struct migrate_plan *plan = NULL;
	char lock[PATH_MAX];
	struct stat st;
	int fd = -1;

	put(f->c, "PKG/boot.wim", "c");
	lock_path(f, lock, sizeof(lock));
	plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	migrate_plan_free(plan);
	assert_int_equal(lstat(lock, &st), 0); /* kept: removing it would race */

	fd = open(lock, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	make_view(f);
	refused(f, &o, "another pxeimagesfs migrate is running on drive D");
	migrate_plan_free(plan_ok(f, "D", false, false, true)); /* a dry run takes no lock */
	close(fd);
	migrate_plan_free(plan_ok(f, "D", false, false, false));
	assert_false(exists(f->d, "PKG"));
}

/* Something else at the lock's name is refused, never followed or opened. */
static void test_migrate_refuses_a_symlink_or_folder_at_the_lock_name(void **state)
{
	struct fx *f = *state;
	struct migrate_options o = {.to = "D"};
	char lock[PATH_MAX];
	char outside[300];
	struct stat st;

	put(f->c, "PKG/boot.wim", "c");
	lock_path(f, lock, sizeof(lock));
	snprintf(outside, sizeof(outside), "%s/outside", f->root);
	assert_int_equal(symlink(outside, lock), 0); /* dangling: an open would create it */
	make_view(f);
	refused(f, &o, "migrate's lock file, is a symlink: not used (remove it)");
	assert_false(exists(outside, ""));
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	put(f->root, "outside", "not a lock");
	refused(f, &o, "is a symlink");
	assert_string_equal(slurp(f->root, "outside"), "not a lock");
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(mkdir(lock, 0755), 0);
	refused(f, &o, "migrate's lock file, is a folder");
	assert_int_equal(rmdir(lock), 0);
	assert_int_equal(mkfifo(lock, 0600), 0);
	refused(f, &o, "migrate's lock file, is a fifo");
	assert_false(exists(f->d, "PKG"));
}

/* Records the name of the first migrate temporary in D/PKG at the first bytes copied, and
 * stops the run there. */
struct seen_tmp {
	const struct fx *f;
	char name[NAME_MAX + 1];
};

static int note_tmp(void *arg, const struct migrate_progress *p)
{
	struct seen_tmp *t = arg;
	char dir[PATH_MAX];
	DIR *d = NULL;

	if (p->event != MIGRATE_EV_BYTES) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/PKG", t->f->d);
	d = opendir(dir);
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
		if (strncmp(e->d_name, MIGRATE_TMP_PREFIX, strlen(MIGRATE_TMP_PREFIX)) == 0) {
			snprintf(t->name, sizeof(t->name), "%s", e->d_name);
		}
	}
	if (d) {
		closedir(d);
	}
	return 1;
}

/* The temporary of a file as a run stopped at its first bytes names it (into T). */
static void tmp_of_a_run(struct fx *f, struct seen_tmp *t)
{
	struct migrate_summary sum;
	struct migrate_plan *plan = plan_ok(f, "D", false, false, false);
	char err[256];

	*t = (struct seen_tmp){.f = f};
	assert_int_equal(migrate_run(plan, note_tmp, t, &sum, err, sizeof(err)), 0);
	assert_true(sum.interrupted);
	migrate_plan_free(plan);
}

/* Two runs never share a temporary's name: each carries the run's tag (this host, the
 * process, a random part), then the file's name. */
static void test_migrate_temporary_names_differ_per_run(void **state)
{
	struct fx *f = *state;
	struct seen_tmp a;
	struct seen_tmp b;
	char pid[16];
	size_t plen = strlen(MIGRATE_TMP_PREFIX);

	put(f->c, "PKG/b.txt", "b");
	make_sparse(f->c, "PKG/a-big.img");
	tmp_of_a_run(f, &a);
	tmp_of_a_run(f, &b);
	assert_true(a.name[0] && b.name[0]);
	assert_string_not_equal(a.name, b.name);
	snprintf(pid, sizeof(pid), "-%08x-", (unsigned int)getpid());
	for (const char *n = a.name; n; n = n == a.name ? b.name : NULL) {
		assert_int_equal(strlen(n), plen + 42 + 1 + strlen("a-big.img"));
		assert_memory_equal(n + plen + 16, pid, 10);
		assert_string_equal(n + plen + 42, ".a-big.img");
	}
	assert_memory_equal(a.name, b.name, plen + 26); /* the same host and process */
}

/* A run's start-up cleanup removes only temporaries provably abandoned: those of a process
 * of this host that is gone, and untagged ones (older versions'); a fresh one of another
 * host, or of a live process here, is another run's work in progress and stays. */
static void test_migrate_cleanup_spares_a_fresh_temporary_of_another_run(void **state)
{
	struct fx *f = *state;
	struct migrate_summary sum;
	struct migrate_plan *plan = NULL;
	struct seen_tmp seen;
	char host[17];
	char dead[NAME_MAX + 1];
	char live[NAME_MAX + 1];
	const char *other = MIGRATE_TMP_PREFIX "0000000000000000-00000001-0123456789abcdef.a.img";
	const char *old = MIGRATE_TMP_PREFIX "a.img";
	pid_t gone = fork();

	assert_true(gone >= 0);
	if (gone == 0) {
		_exit(0);
	}
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	put(f->c, "PKG/b.txt", "b");
	make_sparse(f->c, "PKG/a-big.img");
	tmp_of_a_run(f, &seen); /* this host's part of a tag */
	snprintf(host, sizeof(host), "%.16s", seen.name + strlen(MIGRATE_TMP_PREFIX));
	snprintf(dead, sizeof(dead), "%s%s-%08x-00000000000000aa.a.img", MIGRATE_TMP_PREFIX, host,
	         (unsigned int)gone);
	snprintf(live, sizeof(live), "%s%s-%08x-00000000000000bb.a.img", MIGRATE_TMP_PREFIX, host,
	         (unsigned int)getppid());
	put(f->c, "PKG/a.img", "C's a");
	for (const char *n = other; n; n = n == other  ? dead
	                                   : n == dead ? live
	                                   : n == live ? old
	                                               : NULL) {
		char rel[NAME_MAX + 8];
		snprintf(rel, sizeof(rel), "PKG/%s", n);
		put(f->d, rel, "in progress, or left");
	}
	plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(plan->n_stale, 2);
	run_ok(plan, &sum);
	assert_int_equal(sum.failed, 0);
	assert_string_equal(slurp(f->d, "PKG/a.img"), "C's a");
	{
		char rel[NAME_MAX + 8];
		snprintf(rel, sizeof(rel), "PKG/%s", other);
		assert_true(exists(f->d, rel));
		snprintf(rel, sizeof(rel), "PKG/%s", live);
		assert_true(exists(f->d, rel));
		snprintf(rel, sizeof(rel), "PKG/%s", dead);
		assert_false(exists(f->d, rel));
		snprintf(rel, sizeof(rel), "PKG/%s", old);
		assert_false(exists(f->d, rel));
	}
	migrate_plan_free(plan);
}

/* Two runs on one target whose lock does not exclude them (a folder flock on GlusterFS):
 * A pauses in the middle of a file, B plans, starts the same file and pauses in its
 * middle, then A finishes. What A landed under the final name must be A's whole copy
 * (with one shared temporary name it was B's partial one), and B must not land over it. */
struct racer {
	struct fx *f;
	struct migrate_plan *plan;
	struct migrate_summary sum;
	int rc;
	int pause_at;  /* stage to set at the first bytes copied */
	int resume_at; /* and the stage to wait for then */
	bool paused;
	off_t landed_size;  /* A: the final name's size when A's run returned */
	bool landed_middle; /* A: and its bytes at 40 MiB are the source's */
};

static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t race_cv = PTHREAD_COND_INITIALIZER;
static int race_stage;

static void race_set(int stage)
{
	pthread_mutex_lock(&race_mu);
	race_stage = stage;
	pthread_cond_broadcast(&race_cv);
	pthread_mutex_unlock(&race_mu);
}

/* Wait (10 s at most) for STAGE; false on the timeout. */
static bool race_wait(int stage)
{
	struct timespec until;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&race_mu);
	while (race_stage < stage && ok) {
		ok = pthread_cond_timedwait(&race_cv, &race_mu, &until) == 0 || race_stage >= stage;
	}
	pthread_mutex_unlock(&race_mu);
	return ok;
}

static int racer_progress(void *arg, const struct migrate_progress *p)
{
	struct racer *r = arg;

	if (p->event == MIGRATE_EV_BYTES && !r->paused) {
		r->paused = true;
		race_set(r->pause_at);
		race_wait(r->resume_at);
	}
	return 0;
}

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	char err[256];
	char path[PATH_MAX];
	char buf[6] = "";
	struct stat st;
	int fd = -1;

	r->rc = migrate_run(r->plan, racer_progress, r, &r->sum, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/PKG/a-big.img", r->f->d);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		r->landed_size = st.st_size;
		r->landed_middle =
		    pread(fd, buf, 6, 40 << 20) == 6 && memcmp(buf, "middle", 6) == 0;
	}
	if (fd >= 0) {
		close(fd);
	}
	race_set(r->resume_at + 10); /* done */
	return NULL;
}

/* Let go of the target's locks this process holds (what GlusterFS's unshared lock gives). */
static void unlock_target(const struct fx *f)
{
	char lock[PATH_MAX];
	char root[PATH_MAX];
	char link[64];
	char got[PATH_MAX];

	lock_path(f, lock, sizeof(lock));
	snprintf(root, sizeof(root), "%s/d", f->root);
	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n = 0;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, got, sizeof(got) - 1);
		if (n > 0) {
			got[n] = '\0';
			if (strcmp(got, lock) == 0 || strcmp(got, root) == 0) {
				flock(fd, LOCK_UN);
			}
		}
	}
}

static void test_migrate_two_runs_at_once_never_land_a_partial_copy(void **state)
{
	struct fx *f = *state;
	struct racer a = {.f = f, .pause_at = 1, .resume_at = 3};
	struct racer b = {.f = f, .pause_at = 3, .resume_at = 13};
	pthread_t ta;
	pthread_t tb;
	char dir[PATH_MAX];
	struct stat st;

	race_stage = 0;
	put(f->c, "PKG/b.txt", "b");
	make_sparse(f->c, "PKG/a-big.img");
	a.plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(pthread_create(&ta, NULL, racer_run, &a), 0);
	assert_true(race_wait(1)); /* A in the middle of the file */
	unlock_target(f);
	b.plan = plan_ok(f, "D", false, false, false);
	assert_int_equal(b.plan->n_stale, 0); /* A's temporary: in progress, not B's to remove */
	assert_int_equal(pthread_create(&tb, NULL, racer_run, &b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.sum.failed, 0);
	assert_int_equal(a.landed_size, 64 << 20); /* A's whole copy, not B's partial one */
	assert_true(a.landed_middle);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.sum.failed, 2); /* "the target got an entry of that name meanwhile" */
	assert_non_null(strstr(item(b.plan, "PKG/a-big.img")->error, "meanwhile"));
	assert_non_null(strstr(item(b.plan, "PKG/b.txt")->error, "meanwhile"));
	assert_int_equal(lstat_at(f->d, "PKG/a-big.img", &st), 0);
	assert_int_equal(st.st_size, 64 << 20);
	snprintf(dir, sizeof(dir), "%s/PKG", f->d); /* no temporary left */
	for (DIR *d = opendir(dir); d; d = (closedir(d), NULL)) {
		for (struct dirent *e = readdir(d); e; e = readdir(d)) {
			assert_null(strstr(e->d_name, MIGRATE_TMP_PREFIX));
		}
	}
	migrate_plan_free(a.plan);
	migrate_plan_free(b.plan);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_migrate_lock_is_a_regular_file_on_the_target_root, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_refuses_a_symlink_or_folder_at_the_lock_name,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_temporary_names_differ_per_run, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_cleanup_spares_a_fresh_temporary_of_another_run,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_two_runs_at_once_never_land_a_partial_copy, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_refuses_unknown_and_equal_drives, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_refuses_offline_and_read_only_targets, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_refuses_without_a_source, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_refuses_a_second_run_on_the_same_target, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_dry_run_plan_cannot_be_run, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_plans_copy_replace_skip_and_conflict, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_matches_names_ignoring_case_like_the_view, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_verify_existing_compares_contents, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_run_copies_the_tree_exactly, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_creates_the_images_path_on_an_empty_target, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_migrate_stop_midway_leaves_no_partial_file_and_a_rerun_finishes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_move_removes_each_source_after_its_copy, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_takes_a_path_from_the_highest_ranked_source, setup,
                                    teardown),
    cmocka_unit_test(test_migrate_progress_line_says_verifying_and_never_cuts_a_number),
    cmocka_unit_test_setup_teardown(test_migrate_never_overwrites_a_newer_target_by_default, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_migrate_overwrite_older_is_the_default_and_keeps_a_backup,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_overwrite_never_and_always, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrate_leaves_a_target_copy_that_changed_after_planning,
                                    setup, teardown),
};

UNIT_GROUP(tests, NULL, NULL)
