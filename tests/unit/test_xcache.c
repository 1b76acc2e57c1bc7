/* test_xcache.c -- what fs/xcache.c keeps of a node's user.* xattrs, and when it answers.
 *
 * A kept answer (a value, or ENODATA) is given back with the size rules of getxattr (size 0:
 * the length; too small: ERANGE). Nothing is kept for: other names than user.*, a node whose
 * folder is not watched in this watch epoch, a file with two links, a value past 256 bytes, an
 * error other than ENODATA, a read whose node was dropped since its miss (the xgen ticket);
 * at most 4 names a node. A new watch epoch ends what was kept, and so do a second link seen
 * by the view (xc_seen) and the long timeout. Needs no root and no mounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs_int.h"
#include "unit.h"

struct rig {
	struct fs fs;
	struct node dir;
	struct node file;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	pthread_mutex_init(&r->fs.lock, NULL);
	r->fs.dw = (struct dirwatch *)r; /* only compared with NULL */
	atomic_store(&r->fs.dw_epoch, 5);
	r->fs.long_timeout = 60.0;
	r->dir.kind = NODE_TREE;
	atomic_store(&r->dir.watched, 5);
	r->file.kind = NODE_TREE;
	r->file.parent = &r->dir;
	r->file.hashed = true;
	return r;
}

static void rig_free(struct rig *r)
{
	xc_free_locked(&r->fs, &r->file);
	assert_int_equal(r->fs.xc_bytes, 0);
	pthread_mutex_destroy(&r->fs.lock);
	free(r);
}

static struct stat reg(nlink_t links)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = links;
	return st;
}

/* A miss, then VALUE (LEN bytes, or -errno) read from the drive and offered for keeping. */
static void miss_then_keep(struct rig *r, const char *name, const char *value, ssize_t len,
                           const struct stat *st)
{
	struct xc_ticket t;
	char buf[512];
	ssize_t got = 0;

	assert_int_equal(xc_get(&r->fs, &r->file, name, buf, sizeof(buf), &got, &t), 0);
	xc_keep(&r->fs, &r->file, &t, st, name, value, len);
}

/* Is NAME answered from what was kept, and with what (*LEN; VALUE into BUF)? */
static int kept(struct rig *r, const char *name, char *buf, size_t size, ssize_t *len)
{
	struct xc_ticket t;

	return xc_get(&r->fs, &r->file, name, buf, size, len, &t);
}

static void test_xcache_answers_with_getxattr_size_rules(void **state)
{
	struct rig *r = rig_new();
	struct stat st = reg(1);
	char buf[64];
	ssize_t len = 0;

	(void)state;
	miss_then_keep(r, "user.DOSATTRIB", "0x20", 4, &st);
	assert_int_equal(kept(r, "user.DOSATTRIB", buf, sizeof(buf), &len), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "0x20", 4);
	assert_int_equal(kept(r, "user.DOSATTRIB", NULL, 0, &len), 1);
	assert_int_equal(len, 4);
	assert_int_equal(kept(r, "user.DOSATTRIB", buf, 3, &len), 1);
	assert_int_equal(len, -ERANGE);
	miss_then_keep(r, "user.none", NULL, -ENODATA, &st);
	assert_int_equal(kept(r, "user.none", buf, sizeof(buf), &len), 1);
	assert_int_equal(len, -ENODATA);
	assert_int_equal(xc_wanted("user.x"), true);
	assert_int_equal(xc_wanted("system.posix_acl_access"), false);
	assert_int_equal(xc_wanted("security.selinux"), false);
	assert_int_equal(xc_wanted("trusted.x"), false);
	rig_free(r);
}

static void test_xcache_keeps_only_what_events_cover(void **state)
{
	struct rig *r = rig_new();
	struct stat one = reg(1);
	struct stat two = reg(2);
	struct stat lnk = reg(1);
	char big[300];
	char buf[512];
	ssize_t len = 0;

	(void)state;
	memset(big, 'x', sizeof(big));
	lnk.st_mode = S_IFLNK | 0777;
	miss_then_keep(r, "user.a", "v", 1, &two); /* a second link */
	miss_then_keep(r, "user.b", "v", 1, &lnk);
	miss_then_keep(r, "user.c", big, 257, &one); /* past 256 bytes */
	miss_then_keep(r, "user.d", NULL, -EIO, &one);
	miss_then_keep(r, "user.e", NULL, -ERANGE, &one);
	for (const char *n = "abcde"; *n; n++) {
		char name[16] = "user.";
		name[5] = *n;
		assert_int_equal(kept(r, name, buf, sizeof(buf), &len), 0);
	}
	miss_then_keep(r, "user.f", big, 256, &one);
	assert_int_equal(kept(r, "user.f", buf, sizeof(buf), &len), 1);
	assert_int_equal(len, 256);
	/* at most 4 names */
	miss_then_keep(r, "user.g", "g", 1, &one);
	miss_then_keep(r, "user.h", "h", 1, &one);
	miss_then_keep(r, "user.i", "i", 1, &one);
	miss_then_keep(r, "user.j", "j", 1, &one);
	assert_int_equal(kept(r, "user.i", buf, sizeof(buf), &len), 1);
	assert_int_equal(kept(r, "user.j", buf, sizeof(buf), &len), 0);
	/* an unwatched folder: nothing used, nothing kept */
	atomic_store(&r->dir.watched, 0);
	assert_int_equal(kept(r, "user.f", buf, sizeof(buf), &len), 0);
	atomic_store(&r->dir.watched, 5);
	/* a detached node */
	r->file.detached = true;
	assert_int_equal(kept(r, "user.f", buf, sizeof(buf), &len), 0);
	r->file.detached = false;
	/* a new watch epoch ends all of it */
	atomic_store(&r->fs.dw_epoch, 6);
	atomic_store(&r->dir.watched, 6);
	assert_int_equal(kept(r, "user.f", buf, sizeof(buf), &len), 0);
	assert_int_equal(r->fs.xc_bytes, 0);
	rig_free(r);
}

static void test_xcache_read_racing_a_change_is_not_kept(void **state)
{
	struct rig *r = rig_new();
	struct stat st = reg(1);
	struct xc_ticket t;
	char buf[64];
	ssize_t len = 0;

	(void)state;
	assert_int_equal(xc_get(&r->fs, &r->file, "user.x", buf, sizeof(buf), &len, &t), 0);
	xc_drop(&r->fs, &r->file); /* an event came while the drive was read */
	xc_keep(&r->fs, &r->file, &t, &st, "user.x", "old", 3);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 0);
	/* and across a watch epoch */
	assert_int_equal(xc_get(&r->fs, &r->file, "user.x", buf, sizeof(buf), &len, &t), 0);
	atomic_store(&r->fs.dw_epoch, 6);
	atomic_store(&r->dir.watched, 6);
	xc_keep(&r->fs, &r->file, &t, &st, "user.x", "old", 3);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 0);
	/* a drop after keeping */
	miss_then_keep(r, "user.x", "new", 3, &st);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 1);
	xc_drop(&r->fs, &r->file);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 0);
	rig_free(r);
}

static void test_xcache_second_link_and_age_end_it(void **state)
{
	struct rig *r = rig_new();
	struct stat one = reg(1);
	struct stat two = reg(2);
	struct timespec pause = {.tv_nsec = 30 * 1000000L};
	char buf[64];
	ssize_t len = 0;

	(void)state;
	miss_then_keep(r, "user.x", "v", 1, &one);
	xc_seen(&r->fs, &r->file, &one);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 1);
	xc_seen(&r->fs, &r->file, &two); /* a link made on the drive since */
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 0);
	miss_then_keep(r, "user.x", "v", 1, &one);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 1);
	r->fs.long_timeout = 0.01; /* 10 ms */
	nanosleep(&pause, NULL);
	assert_int_equal(kept(r, "user.x", buf, sizeof(buf), &len), 0);
	rig_free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_xcache_second_link_and_age_end_it),
    cmocka_unit_test(test_xcache_answers_with_getxattr_size_rules),
    cmocka_unit_test(test_xcache_keeps_only_what_events_cover),
    cmocka_unit_test(test_xcache_read_racing_a_change_is_not_kept),
};

UNIT_GROUP(tests, NULL, NULL)
