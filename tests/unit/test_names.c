/* test_names.c -- case-insensitive compare/hash, stable inode numbers, the merge set,
 * and virtual path helpers.
 *
 * Pure functions, no fixtures. The pinned inode values were computed by an
 * independent reimplementation of the documented algorithm; if they change,
 * every inode number users see changes too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"
#include "unit.h"

#define N_BIG 100000

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static uint64_t hash_of(const char *s)
{
	return names_fold_hash(s, strlen(s));
}

/* ---- names_casecmp / names_fold_hash ---------------------------------- */

static void test_names_casecmp_ignores_ascii_case(void **state)
{
	(void)state;
	assert_int_equal(names_casecmp("Boot.WIM", "bOOT.wim"), 0);
	assert_int_equal(names_casecmp("", ""), 0);
	assert_true(names_casecmp("a", "B") < 0);
	assert_true(names_casecmp("B", "a") > 0);
	assert_true(names_casecmp("boot", "BOOT.wim") < 0); /* prefix first */
	assert_true(names_casecmp("BOOT.wim", "boot") > 0);
	assert_true(names_casecmp("", "a") < 0);
	/* '_' (0x5f) lies between 'Z' and 'a': folding must happen first. */
	assert_true(names_casecmp("A", "_") > 0);
	assert_true(names_casecmp("a", "_") > 0);
}

static void test_names_casecmp_folds_utf8(void **state)
{
	(void)state;
	assert_int_equal(names_casecmp("ÄRGER.wim", "ärger.WIM"), 0);
	assert_int_equal(names_casecmp("ÖSTERREICH", "österreich"), 0);
	assert_int_equal(names_casecmp("ΣΟΦΙΑ.iso", "σοφια.ISO"), 0);               /* Greek */
	assert_int_equal(names_casecmp("ОБРАЗ.wim", "образ.wim"), 0);               /* Cyrillic */
	assert_int_equal(names_casecmp("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8"), 0); /* 4-byte */
	assert_int_equal(names_casecmp("\xe2\x84\xaa", "K"), 0); /* KELVIN SIGN folds to k */
	assert_true(names_casecmp("ärger", "ärgerlich") < 0);
	assert_true(names_casecmp("Ä", "Ö") < 0);
	assert_true(names_casecmp("z", "ä") < 0);         /* code point order after folding */
	assert_int_not_equal(names_casecmp("ä", "a"), 0); /* no accent stripping */
}

static void test_names_casecmp_compares_invalid_utf8_as_raw_bytes(void **state)
{
	(void)state;
	assert_true(names_casecmp("\xfe", "\xff") < 0);
	assert_int_equal(names_casecmp("\xc3", "\xc3"), 0);          /* truncated sequence */
	assert_int_equal(names_casecmp("\xc3X", "\xc3x"), 0);        /* stray lead, then ASCII */
	assert_int_not_equal(names_casecmp("\xc4", "\xe4"), 0);      /* Latin-1 is not folded */
	assert_int_not_equal(names_casecmp("\xc1\x81", "a"), 0);     /* 2-byte overlong 'A' */
	assert_int_not_equal(names_casecmp("\xe0\x81\x81", "a"), 0); /* 3-byte overlong 'A' */
	assert_int_not_equal(names_casecmp("\xf0\x80\x81\x81", "A"), 0); /* 4-byte overlong */
	assert_int_not_equal(names_casecmp("\xc3\x84", "\xc3"), 0);
	/* Raw bytes sort after every code point, even U+10FFFF. */
	assert_true(names_casecmp("\xf4\x8f\xbf\xbf", "\x80") < 0);
	assert_true(names_casecmp("\xed\xa0\x80", "\xf4\x8f\xbf\xbf") > 0); /* surrogate */
}

static const char *const tricky[] = {
    "",
    "a",
    "A",
    "b",
    "B",
    "ab",
    "aB",
    "a\xff",
    "a\xc3\x84",
    "Ä",
    "ä",
    "z",
    "_",
    "\xff",
    "\xfe",
    "\xc3",
    "\xc3X",
    "\xc3x",
    "\xc1\x81",
    "\xc0\x80",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xf4\x8f\xbf\xbf",
    "k",
    "K",
    "\xe2\x84\xaa",
    "\xc5\xbf",
    "s",
    "S",
    "ΣΑ",
    "σα",
    "ς",
    "\xf0\x90\x90\x80",
    "\xf0\x90\x90\xa8",
    "İ",
    "i",
    "I",
    "ı",
};
#define N_TRICKY (sizeof(tricky) / sizeof(tricky[0]))

static void test_names_casecmp_is_a_total_order(void **state)
{
	size_t i, j, k;
	int ij, jk, ik;

	(void)state;
	for (i = 0; i < N_TRICKY; i++) {
		assert_int_equal(names_casecmp(tricky[i], tricky[i]), 0);
		for (j = 0; j < N_TRICKY; j++) {
			ij = sign(names_casecmp(tricky[i], tricky[j]));
			assert_int_equal(ij, -sign(names_casecmp(tricky[j], tricky[i])));
			for (k = 0; k < N_TRICKY; k++) {
				jk = sign(names_casecmp(tricky[j], tricky[k]));
				ik = sign(names_casecmp(tricky[i], tricky[k]));
				if (ij <= 0 && jk <= 0) {
					assert_true(ik <= 0);
				}
				if (ij == 0 && jk == 0) {
					assert_int_equal(ik, 0);
				}
			}
		}
	}
}

static void test_names_fold_hash_agrees_with_casecmp(void **state)
{
	size_t i, j;
	int equal_pairs = 0;

	(void)state;
	for (i = 0; i < N_TRICKY; i++) {
		for (j = 0; j < N_TRICKY; j++) {
			if (i != j && names_casecmp(tricky[i], tricky[j]) == 0) {
				assert_true(hash_of(tricky[i]) == hash_of(tricky[j]));
				equal_pairs++;
			}
		}
	}
	assert_true(equal_pairs >= 10); /* the table really has case variants */
	assert_true(hash_of("ÄRGER.wim") == hash_of("ärger.WIM"));
	assert_true(hash_of("\xe2\x84\xaa") == hash_of("k"));
	assert_true(hash_of("a") != hash_of("b"));
	assert_true(hash_of("\xc4") != hash_of("\xe4"));
}

static void test_names_fold_hash_is_fnv1a_of_folded_bytes(void **state)
{
	(void)state;
	/* Standard FNV-1a 64 vectors: "" and "a". */
	assert_true(names_fold_hash("", 0) == 0xcbf29ce484222325ull);
	assert_true(names_fold_hash("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(names_fold_hash("A", 1) == 0xaf63dc4c8601ec8cull);
	/* Only LEN bytes count; a sequence cut by LEN is raw. */
	assert_true(names_fold_hash("ABCdef", 3) == names_fold_hash("abcXYZ", 3));
	assert_true(names_fold_hash("\xc3\x84", 1) == names_fold_hash("\xc3", 1));
	assert_true(names_fold_hash("\xc3\x84", 2) != names_fold_hash("\xc3", 1));
}

/* ---- names_ino --------------------------------------------------------- */

static void test_names_ino_root_is_one(void **state)
{
	(void)state;
	assert_true(names_ino("", 0) == 1);
	assert_true(names_ino("", 1) >= 2); /* a salted root is an ordinary number */
	assert_true(names_ino("a", 0) != 1);
}

static void test_names_ino_is_stable_and_case_insensitive(void **state)
{
	uint64_t ino = names_ino("A/Boot.WIM", 0);

	(void)state;
	assert_true(ino == names_ino("a/boot.wim", 0));
	assert_true(ino == names_ino("A/BOOT.WIM", 0));
	assert_true(ino == names_ino("A/Boot.WIM", 0));
	assert_true(ino != names_ino("a/boot.wim2", 0));
	assert_true(ino != names_ino("a", 0));
	assert_true(ino != names_ino("boot.wim", 0));
	assert_true(names_ino("ÄRGER/x.wim", 0) == names_ino("ärger/X.WIM", 0));
	assert_true(names_ino("a/b", 0) != names_ino("b/a", 0));
	assert_true(names_ino("ab", 0) != names_ino("a/b", 0));
}

/* A number built one component at a time is the number of the whole path,
 * so every number a user saw before stays the same. */
static void test_names_ino_child_matches_whole_path(void **state)
{
	uint64_t root = names_ino_root_state();
	uint64_t a = names_ino_child(root, true, "A", 0);
	uint64_t ab = names_ino_child(a, false, "Boot.WIM", 0);
	uint64_t u = names_ino_child(names_ino_child(root, true, "ÄRGER", 0), false, "x\xc3", 0);

	(void)state;
	assert_true(names_ino_of(a) == names_ino("a", 0));
	assert_true(names_ino_of(ab) == names_ino("a/boot.wim", 0));
	assert_true(names_ino_of(u) == names_ino("ärger/X\xc3", 0));
	assert_true(names_ino_of(names_ino_child(a, false, "b", 1)) == names_ino("a/b", 1));
	assert_true(names_ino_of(names_ino_child(a, false, "b", 1)) != names_ino("a/b", 0));
}

static void test_names_ino_salt_gives_another_number(void **state)
{
	const char *paths[] = {"a", "A/Boot.WIM", "", "x/y/z"};
	unsigned salt;
	size_t i;

	(void)state;
	assert_true(names_ino("a", 0) != names_ino("a", 1));
	assert_true(names_ino("a", 1) != names_ino("a", 2));
	assert_true(names_ino("a", 1) == names_ino("A", 1));
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (salt = paths[i][0] == '\0' ? 1 : 0; salt < 1000; salt++) {
			assert_true(names_ino(paths[i], salt) >= 2);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void test_names_ino_spreads_100k_paths_without_collision(void **state)
{
	uint64_t *inos = calloc(N_BIG, sizeof(*inos));
	char path[64];
	size_t i;

	(void)state;
	assert_non_null(inos);
	for (i = 0; i < N_BIG; i++) {
		snprintf(path, sizeof(path), "RemoteInstall/img%zu/boot.wim", i);
		inos[i] = names_ino(path, 0);
		assert_true(inos[i] >= 2);
	}
	qsort(inos, N_BIG, sizeof(*inos), cmp_u64);
	for (i = 1; i < N_BIG; i++) {
		assert_true(inos[i - 1] != inos[i]);
	}
	free(inos);
}

/* Users see these numbers (and NFS/SMB clients cache them): a change of the
 * hash, the folding or the salt mixing must fail here. */
static void test_names_ino_pins_known_values(void **state)
{
	(void)state;
	assert_true(names_ino("a", 0) == 0x02c0bdbf481420f8ull);
	assert_true(names_ino("a", 1) == 0x832be066bd43a3b8ull);
	assert_true(names_ino("RemoteInstall/SMSImages/SMSPKG/boot.wim", 0) ==
	            0x6cf696d390c9fa70ull);
	assert_true(names_ino("REMOTEINSTALL/smsimages/smspkg/BOOT.WIM", 0) ==
	            0x6cf696d390c9fa70ull);
	assert_true(names_ino("ÄRGER.wim", 0) == 0xc64475f7442d0ca7ull);
	assert_true(names_ino("", 1) == 0xe9d327596b869820ull);
	assert_true(names_ino("boot/x64/wdsmgfw.efi", 3) == 0xb436c689b97debb7ull);
}

/* ---- names_set ---------------------------------------------------------- */

static void test_names_set_merges_case_variants_keeping_first(void **state)
{
	struct names_set s;

	(void)state;
	names_set_init(&s);
	assert_int_equal(names_set_add(&s, "Boot.WIM"), 1);
	assert_int_equal(names_set_add(&s, "boot.wim"), 0);
	assert_int_equal(names_set_add(&s, "BOOT.WIM"), 0);
	assert_int_equal(names_set_add(&s, "ÄRGER.wim"), 1);
	assert_int_equal(names_set_add(&s, "ärger.WIM"), 0);
	assert_int_equal(names_set_add(&s, "boot.wim.bak"), 1);
	assert_int_equal(names_set_count(&s), 3);
	assert_string_equal(names_set_get(&s, "BOOT.wim"), "Boot.WIM");
	assert_string_equal(names_set_get(&s, "ärger.wim"), "ÄRGER.wim");
	assert_true(names_set_has(&s, "bOOt.WiM"));
	assert_false(names_set_has(&s, "boot.wi"));
	assert_null(names_set_get(&s, "boot"));
	names_set_fini(&s);
}

static void test_names_set_stores_its_own_copies(void **state)
{
	struct names_set s;
	char buf[32];

	(void)state;
	names_set_init(&s);
	snprintf(buf, sizeof(buf), "Drive1.wim");
	assert_int_equal(names_set_add(&s, buf), 1);
	snprintf(buf, sizeof(buf), "zzzz");
	assert_true(names_set_has(&s, "drive1.WIM"));
	assert_false(names_set_has(&s, "zzzz"));
	assert_ptr_not_equal(names_set_get(&s, "drive1.wim"), buf);
	names_set_fini(&s);
}

static void test_names_set_empty_and_reuse_after_fini(void **state)
{
	struct names_set s;

	(void)state;
	names_set_init(&s);
	assert_false(names_set_has(&s, "x"));
	assert_null(names_set_get(&s, "x"));
	assert_int_equal(names_set_count(&s), 0);
	assert_int_equal(names_set_add(&s, NULL), -EINVAL);
	assert_false(names_set_has(&s, NULL));
	names_set_fini(&s);
	names_set_fini(&s); /* twice is harmless */
	assert_int_equal(names_set_add(&s, "x"), 1);
	assert_int_equal(names_set_add(&s, "X"), 0);
	assert_int_equal(names_set_count(&s), 1);
	names_set_fini(&s);
	assert_int_equal(names_set_count(&s), 0);
	assert_false(names_set_has(&s, "x"));
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_names_set_handles_100k_names(void **state)
{
	struct names_set s;
	char name[64];
	double start = now_seconds();
	size_t i;

	(void)state;
	names_set_init(&s);
	for (i = 0; i < N_BIG; i++) {
		snprintf(name, sizeof(name), "Image-%06zu.WIM", i);
		assert_int_equal(names_set_add(&s, name), 1);
	}
	for (i = 0; i < N_BIG; i++) {
		snprintf(name, sizeof(name), "image-%06zu.wim", i);
		assert_int_equal(names_set_add(&s, name), 0);
		snprintf(name, sizeof(name), "IMAGE-%06zu.wim", i);
		assert_true(names_set_has(&s, name));
	}
	assert_false(names_set_has(&s, "image-100000.wim"));
	assert_int_equal(names_set_count(&s), N_BIG);
	/* Grown by doubling: a power of two, at most half full, not oversized. */
	assert_int_equal(s.cap & (s.cap - 1), 0);
	assert_true(s.count * 2 <= s.cap);
	assert_true(s.cap <= 4 * (size_t)N_BIG);
	names_set_fini(&s);
	/* Quadratic behaviour would take minutes; generous for valgrind. */
	assert_true(now_seconds() - start < 20.0);
}

/* ---- components and paths ----------------------------------------------- */

static void test_names_check_component_limits(void **state)
{
	char name[NAME_MAX + 2];

	(void)state;
	memset(name, 'a', NAME_MAX);
	name[NAME_MAX] = '\0';
	assert_int_equal(names_check_component(name), 0); /* 255 bytes */
	name[NAME_MAX] = 'a';
	name[NAME_MAX + 1] = '\0';
	assert_int_equal(names_check_component(name), -ENAMETOOLONG); /* 256 bytes */
	assert_int_equal(names_check_component(""), -EINVAL);
	assert_int_equal(names_check_component("."), -EINVAL);
	assert_int_equal(names_check_component(".."), -EINVAL);
	assert_int_equal(names_check_component("a/b"), -EINVAL);
	assert_int_equal(names_check_component("/"), -EINVAL);
	assert_int_equal(names_check_component("a/"), -EINVAL);
	assert_int_equal(names_check_component(NULL), -EINVAL);
	assert_int_equal(names_check_component("..."), 0);
	assert_int_equal(names_check_component(".a"), 0);
	assert_int_equal(names_check_component("a..b"), 0);
	assert_int_equal(names_check_component("ärger.wim"), 0);
}

static void test_names_join_builds_child_paths(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(names_join("", "a", out, sizeof(out)), 0);
	assert_string_equal(out, "a");
	assert_int_equal(names_join("a/b", "c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(names_join("a", "b", out, 4), 0); /* exact fit */
	assert_string_equal(out, "a/b");
}

static void test_names_join_rejects_overflow_leaving_out_unchanged(void **state)
{
	char out[16] = "keep";

	(void)state;
	assert_int_equal(names_join("a", "b", out, 3), -ENAMETOOLONG); /* no room for NUL */
	assert_string_equal(out, "keep");
	assert_int_equal(names_join("", "abc", out, 3), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
	assert_int_equal(names_join("", "", out, 0), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
}

static void test_names_join_appends_in_place(void **state)
{
	char buf[8] = "a/b";

	(void)state;
	assert_int_equal(names_join(buf, "c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a/b/c");
	assert_int_equal(names_join(buf, "de", buf, sizeof(buf)), -ENAMETOOLONG);
	assert_string_equal(buf, "a/b/c");
}

static void test_names_last_returns_final_component(void **state)
{
	const char *p = "a/b/c";

	(void)state;
	assert_ptr_equal(names_last(p), p + 4);
	assert_string_equal(names_last("a"), "a");
	assert_string_equal(names_last("dir/Boot.WIM"), "Boot.WIM");
	assert_string_equal(names_last(""), "");
}

static void test_names_parent_strips_last_component(void **state)
{
	char out[16] = "keep";
	char buf[16] = "a/b/c";

	(void)state;
	assert_int_equal(names_parent("a/b/c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(names_parent("a", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(names_parent("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(names_parent("a", out, 1), 0); /* "" needs just the NUL */
	assert_int_equal(names_parent("a/b/c", out, 4), 0);
	assert_string_equal(out, "a/b");
	strcpy(out, "keep");
	assert_int_equal(names_parent("a/b/c", out, 3), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
	assert_int_equal(names_parent("a", out, 0), -ENAMETOOLONG);
	assert_int_equal(names_parent(buf, buf, sizeof(buf)), 0); /* in place */
	assert_string_equal(buf, "a/b");
}

static void test_names_is_hidden_temp_matches_only_the_prefix(void **state)
{
	(void)state;
	assert_true(names_is_hidden_temp(".pxeimagesfs-tmp.1234.wim"));
	assert_true(names_is_hidden_temp(NAMES_TEMP_PREFIX));
	assert_true(names_is_hidden_temp(".PXEImagesFS-TMP.x")); /* a case variant */
	/* U+0130 folds to 'i': still the same name to names_casecmp, so hidden. */
	assert_int_equal(names_casecmp(".pxeİmagesfs-tmp.1", ".pxeimagesfs-tmp.1"), 0);
	assert_true(names_is_hidden_temp(".pxeİmagesfs-tmp.1"));
	assert_false(names_is_hidden_temp(".pxeimagesfs-tmp"));
	assert_false(names_is_hidden_temp(".pxeimagesfs-tmpx1"));
	assert_false(names_is_hidden_temp("x.pxeimagesfs-tmp.1"));
	assert_false(names_is_hidden_temp("pxeimagesfs-tmp.1"));
	assert_false(names_is_hidden_temp("boot.wim"));
	assert_false(names_is_hidden_temp(""));
	assert_false(names_is_hidden_temp(NULL));
}

static void test_names_check_new_refuses_reserved_names(void **state)
{
	(void)state;
	assert_int_equal(names_check_new(".pxeimagesfs-tmp.1"), -EPERM);
	assert_int_equal(names_check_new(".PXEIMAGESFS-TMP.x"), -EPERM);
	assert_int_equal(names_check_new(NAMES_TEMP_PREFIX), -EPERM);
	assert_int_equal(names_check_new(".."), -EINVAL);
	assert_int_equal(names_check_new("a/b"), -EINVAL);
	assert_int_equal(names_check_new(".pxeimagesfs-tmp"), 0);
	assert_int_equal(names_check_new("boot.wim"), 0);
}

/* ---- names_match_better: the one rule for which entry a name means ------ */

static const char *pick(const char *want, const char *const *folder)
{
	const char *best = NULL;

	for (size_t i = 0; folder[i]; i++) {
		if (names_match_better(want, folder[i], best)) {
			best = folder[i];
		}
	}
	return best ? best : "(none)";
}

static void test_names_match_better_exact_then_smallest_in_any_order(void **state)
{
	const char *a[] = {"images", "IMAGES", "Images", "other", NULL};
	const char *b[] = {"Images", "other", "IMAGES", "images", NULL};
	const char *u[] = {"\xc3\xa4pfel", "\xc3\xa4PFEL", NULL}; /* "äpfel", "äPFEL" */

	(void)state;
	assert_string_equal(pick("imageS", a), "IMAGES"); /* no exact: the smallest */
	assert_string_equal(pick("imageS", b), "IMAGES"); /* whatever the folder's order */
	assert_string_equal(pick("images", a), "images"); /* exact, though not the smallest */
	assert_string_equal(pick("images", b), "images");
	/* "Äpfel": a non-ASCII letter folds */
	assert_string_equal(pick("\xc3\x84pfel", u), "\xc3\xa4PFEL");
	assert_string_equal(pick("nothing", a), "(none)");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names_casecmp_ignores_ascii_case),
    cmocka_unit_test(test_names_casecmp_folds_utf8),
    cmocka_unit_test(test_names_casecmp_compares_invalid_utf8_as_raw_bytes),
    cmocka_unit_test(test_names_casecmp_is_a_total_order),
    cmocka_unit_test(test_names_fold_hash_agrees_with_casecmp),
    cmocka_unit_test(test_names_fold_hash_is_fnv1a_of_folded_bytes),
    cmocka_unit_test(test_names_ino_root_is_one),
    cmocka_unit_test(test_names_ino_is_stable_and_case_insensitive),
    cmocka_unit_test(test_names_ino_salt_gives_another_number),
    cmocka_unit_test(test_names_ino_child_matches_whole_path),
    cmocka_unit_test(test_names_ino_spreads_100k_paths_without_collision),
    cmocka_unit_test(test_names_ino_pins_known_values),
    cmocka_unit_test(test_names_set_merges_case_variants_keeping_first),
    cmocka_unit_test(test_names_set_stores_its_own_copies),
    cmocka_unit_test(test_names_set_empty_and_reuse_after_fini),
    cmocka_unit_test(test_names_set_handles_100k_names),
    cmocka_unit_test(test_names_check_component_limits),
    cmocka_unit_test(test_names_join_builds_child_paths),
    cmocka_unit_test(test_names_join_rejects_overflow_leaving_out_unchanged),
    cmocka_unit_test(test_names_join_appends_in_place),
    cmocka_unit_test(test_names_last_returns_final_component),
    cmocka_unit_test(test_names_parent_strips_last_component),
    cmocka_unit_test(test_names_is_hidden_temp_matches_only_the_prefix),
    cmocka_unit_test(test_names_check_new_refuses_reserved_names),
    cmocka_unit_test(test_names_match_better_exact_then_smallest_in_any_order),
};

UNIT_GROUP(tests, NULL, NULL)
