/* test_node_io.c -- the I/O mode node.c gives each open handle of a file (node_io_open,
 * node_io_close) where kernel passthrough is used.
 *
 * A small file read again, unchanged, in a watched folder is opened in cached mode with
 * keep_cache: its reads come from the kernel's page cache (PT_CACHED_MAX). Every other open is
 * passed through, and nothing may make the kernel keep a page cache that no longer matches the
 * drive's file: a write through a passthrough handle goes to the drive past that cache, so after
 * one (while a writer is open, and at the next open after it closed) no snapshot of the file is
 * trusted, even when the drive's timestamps are too coarse to show the write; a change of the
 * ctime (a writer that sets the mtime back) is a change. Needs no root and no mounts: the
 * backing file's registration is a stub that hands out ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_int.h"
#include "unit.h"

struct rig {
	struct fs fs;
	struct node dir;
	struct node file;
	int next_id;
	int registered; /* backing files registered so far */
};

static int stub_backing_open(void *arg)
{
	struct rig *r = arg;

	r->registered++;
	return ++r->next_id;
}

static struct rig *rig_new(bool watched)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	pthread_mutex_init(&r->fs.lock, NULL);
	r->fs.dw = (struct dirwatch *)r; /* only compared with NULL by node.c */
	atomic_store(&r->fs.dw_epoch, 3);
	r->dir.kind = NODE_TREE;
	atomic_store(&r->dir.watched, watched ? 3 : 0);
	r->file.kind = NODE_TREE;
	r->file.parent = &r->dir;
	return r;
}

static void rig_free(struct rig *r)
{
	pthread_mutex_destroy(&r->fs.lock);
	free(r);
}

/* A drive file: SIZE bytes, mtime and ctime MTIME and CTIME (seconds). */
static struct stat file_st(off_t size, long mtime, long ctime)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_dev = 42;
	st.st_ino = 7;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	st.st_ctim.tv_sec = ctime;
	return st;
}

/* Open R's file (backing ST) for reading or WRITES; its mode, and *KEEP the keep_cache. */
static int open_as(struct rig *r, const struct stat *st, bool writes, bool *keep)
{
	struct node_io io = {
	    .want = true, .writes = writes, .backing_open = stub_backing_open, .arg = r};
	int mode = node_io_open(&r->fs, &r->file, st, &io);

	if (keep) {
		*keep = io.keep_cache;
	}
	return mode;
}

static void close_as(struct rig *r, int mode, bool writes)
{
	(void)node_io_close(&r->fs, &r->file, (enum fh_io)mode, writes);
}

/* Read once and close: the mode it got. */
static int read_once(struct rig *r, const struct stat *st, bool *keep)
{
	int mode = open_as(r, st, false, keep);

	close_as(r, mode, false);
	return mode;
}

static void test_node_io_small_file_read_again_is_cached(void **state)
{
	struct rig *r = rig_new(true);
	struct stat st = file_st(4096, 100, 100);
	bool keep = true;

	(void)state;
	assert_int_equal(read_once(r, &st, &keep), FH_PASSTHROUGH); /* nothing known of it yet */
	assert_false(keep);
	assert_int_equal(read_once(r, &st, &keep), FH_CACHED);
	assert_true(keep);
	assert_int_equal(read_once(r, &st, &keep), FH_CACHED);
	assert_true(keep);
	assert_int_equal(r->registered, 1);
	/* at the limit, and one byte past it */
	st = file_st(PT_CACHED_MAX, 101, 101);
	assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH); /* changed: passed through */
	assert_int_equal(read_once(r, &st, &keep), FH_CACHED);
	assert_true(keep);
	st = file_st(PT_CACHED_MAX + 1, 102, 102);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(read_once(r, &st, &keep), FH_PASSTHROUGH);
		assert_false(keep);
	}
	rig_free(r);
}

static void test_node_io_unwatched_folder_is_passed_through(void **state)
{
	struct rig *r = rig_new(false);
	struct stat st = file_st(4096, 100, 100);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	}
	r->fs.dw = NULL; /* no folder watch at all */
	atomic_store(&r->dir.watched, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	}
	assert_int_equal(r->registered, 6);
	rig_free(r);
}

static void test_node_io_change_on_the_drive_is_passed_through(void **state)
{
	struct rig *r = rig_new(true);
	struct stat st = file_st(4096, 100, 100);
	bool keep = true;

	(void)state;
	(void)read_once(r, &st, NULL);
	assert_int_equal(read_once(r, &st, NULL), FH_CACHED);
	/* rewritten in place with its mtime set back: the ctime moved */
	st.st_ctim.tv_nsec = 5;
	assert_int_equal(read_once(r, &st, &keep), FH_PASSTHROUGH);
	assert_false(keep);
	assert_int_equal(read_once(r, &st, &keep), FH_CACHED);
	assert_true(keep);
	/* the size, the mtime, another file */
	st.st_size++;
	assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	st.st_mtim.tv_nsec = 9;
	assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	st.st_ino = 8;
	assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	assert_int_equal(read_once(r, &st, NULL), FH_CACHED);
	rig_free(r);
}

/* A write through a passthrough handle that leaves the drive file's stat as it was (a
 * filesystem whose timestamps tick coarser than the write): the page cache is not trusted. */
static void test_node_io_passthrough_writer_ends_the_snapshot(void **state)
{
	struct rig *r = rig_new(true);
	struct stat st = file_st(4096, 100, 100);
	bool keep = true;
	int w = 0;
	int rd = 0;

	(void)state;
	(void)read_once(r, &st, NULL);
	assert_int_equal(read_once(r, &st, NULL), FH_CACHED); /* the kernel caches its pages */
	w = open_as(r, &st, true, NULL);
	assert_int_equal(w, FH_PASSTHROUGH); /* writes always pass through */
	close_as(r, w, true);
	assert_int_equal(read_once(r, &st, &keep), FH_PASSTHROUGH);
	assert_false(keep);
	assert_int_equal(read_once(r, &st, &keep), FH_CACHED);
	assert_true(keep);

	/* a reader that joins an open writer takes no snapshot either */
	w = open_as(r, &st, true, NULL);
	rd = open_as(r, &st, false, &keep);
	assert_int_equal(rd, FH_PASSTHROUGH);
	close_as(r, rd, false);
	rd = open_as(r, &st, false, NULL);
	assert_int_equal(rd, FH_PASSTHROUGH);
	close_as(r, w, true); /* the writer closes first; a reader is still open */
	close_as(r, rd, false);
	assert_int_equal(read_once(r, &st, NULL), FH_PASSTHROUGH);
	assert_int_equal(read_once(r, &st, NULL), FH_CACHED);

	/* a writer that comes while a cached handle is open is cached too (one mode per inode),
	 * and writes through the page cache */
	rd = open_as(r, &st, false, NULL);
	assert_int_equal(rd, FH_CACHED);
	w = open_as(r, &st, true, NULL);
	assert_int_equal(w, FH_CACHED);
	close_as(r, w, true);
	close_as(r, rd, false);
	rig_free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_node_io_small_file_read_again_is_cached),
    cmocka_unit_test(test_node_io_unwatched_folder_is_passed_through),
    cmocka_unit_test(test_node_io_change_on_the_drive_is_passed_through),
    cmocka_unit_test(test_node_io_passthrough_writer_ends_the_snapshot),
};

UNIT_GROUP(tests, NULL, NULL)
