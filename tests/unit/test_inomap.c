/* test_inomap.c -- the inode map renamed entries keep their numbers in (fs/inomap.c).
 *
 * Records survive a reopen (a restart), deletions too; a torn or corrupt log keeps what came
 * before the damage; a second opener of the same mount's map (another daemon) neither reads
 * nor damages it. Needs no root and no mounts: a mktemp -d state directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inomap.h"
#include "names.h"
#include "unit.h"

#define MP "/srv/pxeimages"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_inomap.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;
	char p[512];

	(void)state;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	if (d) {
		closedir(d);
	}
	return rmdir(dir);
}

static struct inomap *opened(void)
{
	struct inomap *m = inomap_new();

	assert_non_null(m);
	inomap_open(m, dir, MP);
	return m;
}

/* The map file's path (the only *.map in DIR) into OUT. */
static void map_path(char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;

	out[0] = '\0';
	while (d && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".map") == 0) {
			snprintf(out, len, "%s/%s", dir, de->d_name);
		}
	}
	if (d) {
		closedir(d);
	}
	assert_true(out[0] != '\0');
}

static void test_inomap_set_get_del_taken(void **state)
{
	struct inomap *m = inomap_new();
	uint64_t s = 0;

	(void)state;
	assert_false(inomap_get(m, 1, "a", &s));
	inomap_set(m, 1, "a", 42);
	assert_true(inomap_get(m, 1, "a", &s));
	assert_true(s == 42);
	assert_false(inomap_get(m, 1, "A", &s)); /* exact names */
	assert_false(inomap_get(m, 2, "a", &s));
	assert_true(inomap_taken(m, names_ino_of(42)));
	inomap_set(m, 1, "a", 43);
	assert_false(inomap_taken(m, names_ino_of(42)));
	inomap_del(m, 1, "a");
	assert_false(inomap_get(m, 1, "a", &s));
	assert_false(inomap_taken(m, names_ino_of(43)));
	for (uint64_t i = 0; i < 5000; i++) { /* the tables grow */
		char name[32];
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)i);
		inomap_set(m, 7, name, 1000 + i);
	}
	assert_true(inomap_get(m, 7, "f4999", &s) && s == 5999);
	assert_true(inomap_taken(m, names_ino_of(1000)));
	inomap_free(m);
	inomap_free(NULL);
}

static void test_inomap_survives_a_restart(void **state)
{
	struct inomap *m = opened();
	uint64_t s = 0;

	(void)state;
	inomap_set(m, 1, "kept", 11);
	inomap_set(m, 1, "gone", 12);
	inomap_set(m, 1, "changed", 13);
	inomap_del(m, 1, "gone");
	inomap_set(m, 1, "changed", 14);
	inomap_free(m);
	m = opened();
	assert_true(inomap_get(m, 1, "kept", &s) && s == 11);
	assert_false(inomap_get(m, 1, "gone", &s));
	assert_true(inomap_get(m, 1, "changed", &s) && s == 14);
	assert_false(inomap_taken(m, names_ino_of(13)));
	inomap_free(m);
}

static void test_inomap_keeps_what_precedes_damage(void **state)
{
	struct inomap *m = opened();
	char path[512];
	uint64_t s = 0;
	int fd = -1;

	(void)state;
	inomap_set(m, 5, "first", 21);
	inomap_free(m);
	m = opened(); /* compacted: "first" is a whole record */
	inomap_set(m, 5, "second", 22);
	inomap_free(m);
	map_path(path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "S\x05\x00garbage-garbage-garbage", 26), 26); /* torn record */
	close(fd);
	m = opened();
	assert_true(inomap_get(m, 5, "first", &s) && s == 21);
	assert_true(inomap_get(m, 5, "second", &s) && s == 22);
	inomap_free(m);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7); /* no header: an empty map */
	close(fd);
	m = opened();
	assert_false(inomap_get(m, 5, "first", &s));
	inomap_set(m, 5, "third", 23);
	inomap_free(m);
	m = opened();
	assert_true(inomap_get(m, 5, "third", &s) && s == 23);
	inomap_free(m);
}

static void test_inomap_second_opener_leaves_it_alone(void **state)
{
	struct inomap *a = opened();
	struct inomap *b = NULL;
	uint64_t s = 0;

	(void)state;
	inomap_set(a, 9, "mine", 31);
	b = opened(); /* locked by A: B stays in memory */
	assert_false(inomap_get(b, 9, "mine", &s));
	inomap_set(b, 9, "theirs", 32);
	inomap_free(b);
	inomap_free(a);
	a = opened();
	assert_true(inomap_get(a, 9, "mine", &s) && s == 31);
	assert_false(inomap_get(a, 9, "theirs", &s));
	inomap_free(a);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_inomap_set_get_del_taken),
    cmocka_unit_test_setup_teardown(test_inomap_survives_a_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_inomap_keeps_what_precedes_damage, setup, teardown),
    cmocka_unit_test_setup_teardown(test_inomap_second_opener_leaves_it_alone, setup, teardown),
};

UNIT_GROUP(tests, NULL, NULL)
