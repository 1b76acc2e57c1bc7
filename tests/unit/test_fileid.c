/* test_fileid.c -- st_ino from the backing file on 'inode numbers = drive' drives (fs/fileid.c,
 * fs/nodetab.c nt_number, fs/node.c node_move).
 *
 * The number is a function of the drive's name and the backing st_ino only (so every host
 * over one store agrees); a node takes it when found on such a drive, keeps it through a
 * rename that records nothing in the inode map, shares it with another node of the same file,
 * is salted against another file's, and goes back to its path number when found on a drive
 * that keeps path numbers. A path-number entry's rename still records its number. Needs no
 * root and no mount: a struct fs with an in-memory inode map, no kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"
#include "unit.h"

static void test_fileid_number_depends_on_drive_name_and_ino_only(void **state)
{
	uint64_t s = fileid_drive_key("S");

	(void)state;
	assert_true(fileid_number(s, 42) == fileid_number(fileid_drive_key("S"), 42));
	assert_true(fileid_number(s, 42) ==
	            fileid_number(fileid_drive_key("s"), 42)); /* as config */
	assert_true(fileid_number(s, 42) != fileid_number(fileid_drive_key("T"), 42));
	assert_true(fileid_number(s, 42) != fileid_number(s, 43));
	assert_true(fileid_salted(fileid_number(s, 42), 0) == fileid_number(s, 42));
	assert_true(fileid_salted(fileid_number(s, 42), 1) != fileid_number(s, 42));
	assert_true(fileid_salted(fileid_number(s, 42), 1) !=
	            fileid_salted(fileid_number(s, 42), 2));
	for (uint64_t i = 0; i < 100000; i++) { /* never 0 (no number) or 1 (the mount root) */
		assert_true(fileid_number(s, i) > 1);
		assert_true(fileid_salted(i, 1) > 1);
	}
	/* pinned: users and Samba's file ids see these; a change breaks every host's ids */
	assert_true(fileid_number(fileid_drive_key("S"), 13448460114236775813ull) ==
	            13035924584744207638ull);
	assert_true(fileid_salted(fileid_number(s, 42), 1) == 4355841684458165651ull);
}

/* A filesystem whose root is the images folder (images path ""), no kernel. */
static struct fs *fs_make(void)
{
	struct fs *fs = calloc(1, sizeof(*fs));

	assert_non_null(fs);
	pthread_mutex_init(&fs->lock, NULL);
	assert_int_equal(nodes_init(fs), 0);
	return fs;
}

static void fs_drop(struct fs *fs)
{
	nodes_fini(fs);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static struct node *get(struct fs *fs, struct node *parent, const char *name)
{
	struct node *n = NULL;

	assert_int_equal(node_get(fs, parent, name, &n), 0);
	return n;
}

static void test_fileid_node_keeps_drive_number_through_rename_unrecorded(void **state)
{
	struct fs *fs = fs_make();
	uint64_t key = fileid_drive_key("S");
	struct node *dir = get(fs, &fs->root, "PKGR0001");
	struct node *f = get(fs, dir, "f.wim");
	uint64_t path_ino = f->ino;
	uint64_t rec = 0;

	(void)state;
	node_number(fs, dir, fileid_number(key, 100));
	node_number(fs, f, fileid_number(key, 101));
	assert_true(dir->ino == fileid_number(key, 100));
	assert_true(f->ino == fileid_number(key, 101));
	assert_true(f->ino != path_ino);
	node_move(fs, dir, "f.wim", dir, "g.wim", true);
	assert_true(f->ino == fileid_number(key, 101));                  /* the same drive file */
	assert_false(inomap_get(fs->inomap, dir->state, "g.wim", &rec)); /* nothing recorded */
	node_move(fs, &fs->root, "PKGR0001", &fs->root, "PKGR0002", true);
	assert_false(inomap_get(fs->inomap, fs->root.state, "PKGR0002", &rec));
	/* its state is the new path's, as on a host that never saw the rename */
	assert_true(dir->state == names_ino_child(fs->root.state, true, "PKGR0002", 0));
	assert_true(dir->ino == fileid_number(key, 100));
	/* found on a drive keeping path numbers now (its drive left): its path number again */
	node_number(fs, f, 0);
	assert_true(f->ino == names_ino_of(f->state));
	fs_drop(fs);
}

static void test_fileid_path_numbers_unchanged_rename_recorded(void **state)
{
	struct fs *fs = fs_make();
	struct node *f = get(fs, &fs->root, "a.wim");
	uint64_t before = f->ino;
	uint64_t rec = 0;

	(void)state;
	assert_true(before == names_ino("a.wim", 0));
	node_number(fs, f, 0); /* a path-number drive: nothing changes */
	assert_true(f->ino == before);
	node_move(fs, &fs->root, "a.wim", &fs->root, "b.wim", false);
	assert_true(f->ino == before); /* kept, and recorded for after a restart */
	assert_true(inomap_get(fs->inomap, fs->root.state, "b.wim", &rec));
	assert_true(names_ino_of(rec) == before);
	fs_drop(fs);
}

static void test_fileid_one_file_one_number_other_file_salted(void **state)
{
	struct fs *fs = fs_make();
	uint64_t num = fileid_number(fileid_drive_key("S"), 7);
	struct node *a = get(fs, &fs->root, "a.wim");
	struct node *b = get(fs, &fs->root, "b.wim");
	struct node *c = get(fs, &fs->root, "c.wim");
	struct node *d = get(fs, &fs->root, "d.wim");

	(void)state;
	node_number(fs, a, num);
	node_number(fs, b, num); /* a hard link, or a's file renamed on the drive: one file */
	assert_true(a->ino == num && b->ino == num);
	/* another file whose drive number is a number a live node has (c's path number here:
	 * a 64-bit collision, made on purpose): salted, this host's own */
	node_number(fs, d, c->ino);
	assert_true(d->ino != c->ino);
	assert_true(d->ino == fileid_salted(c->ino, 1));
	assert_true(d->dnum == c->ino);
	fs_drop(fs);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fileid_number_depends_on_drive_name_and_ino_only),
    cmocka_unit_test(test_fileid_node_keeps_drive_number_through_rename_unrecorded),
    cmocka_unit_test(test_fileid_path_numbers_unchanged_rename_recorded),
    cmocka_unit_test(test_fileid_one_file_one_number_other_file_salted),
};

UNIT_GROUP(tests, NULL, NULL)
