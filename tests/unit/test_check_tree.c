/* test_check_tree.c -- unit tests of how `check` pairs the share's names with the view's
 * (export/check_tree.c, check_compare): by the view's own case rule (common/names.h:
 * names_casecmp, per code point, invalid bytes raw), the exact spelling first, and names that
 * could pair more than one way reported, never paired crosswise.
 *
 * The trees are built in memory and compared by names, types and sizes (no --deep, no SMB,
 * no files): a wrong pairing shows as a size difference, a missed one as a name on one side
 * only. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "unit.h"

struct ent {
	const char *path; /* '/'-separated below the share root */
	long long size;   /* < 0: a folder */
};

struct cmp {
	struct check_opts o;
	struct check_result res;
	struct run r;
};

static void tree_of(struct tree *t, const struct ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(check_tree_add(t, "", e[i].path, e[i].size < 0, e[i].size), 0);
	}
}

/* compare -- REMOTE (the share) against LOCAL (the view) as check_compare sees them; the
 * differences are in c->res (free with cmp_fini). */
static void compare(struct cmp *c, const struct ent *remote, size_t nr, const struct ent *local,
                    size_t nl)
{
	memset(c, 0, sizeof(*c));
	c->r.o = &c->o;
	c->r.res = &c->res;
	snprintf(c->r.view, sizeof(c->r.view), "/nonexistent/view");
	tree_of(&c->r.remote, remote, nr);
	tree_of(&c->r.local, local, nl);
	check_compare(&c->r, NULL, NULL);
}

static void cmp_fini(struct cmp *c)
{
	check_tree_fini(&c->r.remote);
	check_tree_fini(&c->r.local);
	check_result_fini(&c->res);
}

static const char *details(const struct cmp *c)
{
	return c->res.details ? c->res.details : "";
}

/* expect_clean -- REMOTE and LOCAL pair with no difference, whichever order each is listed in
 * (the listing order of a folder is the server's, not ours). */
static void expect_clean(const struct ent *remote, size_t nr, const struct ent *local, size_t nl)
{
	struct ent rev[16];
	struct cmp c;

	assert_true(nl <= 16);
	for (size_t i = 0; i < nl; i++) {
		rev[i] = local[nl - 1 - i];
	}
	compare(&c, remote, nr, local, nl);
	if (c.res.differences != 0) {
		fail_msg("%zu differences:\n%s", c.res.differences, details(&c));
	}
	cmp_fini(&c);
	compare(&c, remote, nr, rev, nl);
	if (c.res.differences != 0) {
		fail_msg("(the view's order reversed) %zu differences:\n%s", c.res.differences,
		         details(&c));
	}
	cmp_fini(&c);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_check_pairs_ascii_case(void **state)
{
	static const struct ent remote[] = {
	    {"SMS00001", -1}, {"SMS00001/BOOT.SMS00001.WIM", 100}, {"Boot.SDI", 9}};
	static const struct ent local[] = {
	    {"sms00001", -1}, {"sms00001/boot.sms00001.wim", 100}, {"boot.sdi", 9}};

	(void)state;
	expect_clean(remote, N(remote), local, N(local));
}

static void test_check_pairs_latin1_accents(void **state)
{
	static const struct ent remote[] = {{"É.wim", 1}, {"ÜBER", -1}, {"ÜBER/ÑA.wim", 2}};
	static const struct ent local[] = {{"é.wim", 1}, {"über", -1}, {"über/ña.wim", 2}};

	(void)state;
	expect_clean(remote, N(remote), local, N(local));
}

static void test_check_pairs_greek_and_cyrillic(void **state)
{
	static const struct ent remote[] = {{"ΣΟΦΙΑ.wim", 1}, {"ЖУК.wim", 2}};
	static const struct ent local[] = {{"σοφια.wim", 1}, {"жук.wim", 2}};

	(void)state;
	expect_clean(remote, N(remote), local, N(local));
}

/* The view's rule is simple per-code-point lower-casing: capital sharp s (U+1E9E) is ß, but
 * "SS" is not, nor is final sigma σ -- the view resolves neither, so neither pairs. */
static void test_check_sharp_s_and_final_sigma(void **state)
{
	static const struct ent cap_remote[] = {{"STRAẞE.wim", 5}};
	static const struct ent ss_remote[] = {{"STRASSE.wim", 5}};
	static const struct ent sigma_remote[] = {{"σ.wim", 5}};
	static const struct ent local[] = {{"straße.wim", 5}};
	static const struct ent final_local[] = {{"ς.wim", 5}};
	struct cmp c;

	(void)state;
	expect_clean(cap_remote, N(cap_remote), local, N(local));
	compare(&c, ss_remote, N(ss_remote), local, N(local));
	assert_int_equal(c.res.differences, 2);
	assert_non_null(strstr(details(&c), "STRASSE.wim: on the share, not in the view"));
	cmp_fini(&c);
	compare(&c, sigma_remote, N(sigma_remote), final_local, N(final_local));
	assert_int_equal(c.res.differences, 2);
	cmp_fini(&c);
}

/* a.txt and A.txt both on a case-sensitive drive, both listed by the share: each pairs with
 * its own spelling, never crosswise, in whatever order the two sides list them. */
static void test_check_pairs_case_twins_exactly(void **state)
{
	static const struct ent remote[] = {{"a.txt", 1},   {"A.txt", 22},   {"d", -1}, {"D", -1},
	                                    {"d/x.wim", 3}, {"D/x.wim", 44}, {"É", 5},  {"é", 66}};
	static const struct ent local[] = {{"A.txt", 22},   {"a.txt", 1},   {"D", -1}, {"d", -1},
	                                   {"D/x.wim", 44}, {"d/x.wim", 3}, {"é", 66}, {"É", 5}};

	(void)state;
	expect_clean(remote, N(remote), local, N(local));
	expect_clean(local, N(local), remote, N(remote));
}

/* One twin gone from one side: the other is paired exactly, the gone one reported. */
static void test_check_case_twin_missing_is_reported(void **state)
{
	static const struct ent both[] = {{"a.txt", 1}, {"A.txt", 22}};
	static const struct ent one[] = {{"A.txt", 22}};
	struct cmp c;

	(void)state;
	compare(&c, both, N(both), one, N(one));
	assert_int_equal(c.res.differences, 1);
	assert_string_equal(details(&c), "a.txt: on the share, not in the view\n");
	cmp_fini(&c);
	compare(&c, one, N(one), both, N(both));
	assert_int_equal(c.res.differences, 1);
	assert_string_equal(details(&c), "a.txt: in the view, missing from the share\n");
	cmp_fini(&c);
}

/* A share's name with no exact spelling in the view but several equal to it ignoring case
 * could pair either way: that is a finding, the same whatever the order, and nothing is
 * compared (no size line from a guessed pair). */
static void test_check_reports_ambiguous_case_variants(void **state)
{
	static const struct ent remote[] = {{"A.txt", 1}};
	static const struct ent local[] = {{"a.txt", 2}, {"a.TXT", 3}};
	static const struct ent rev[] = {{"a.TXT", 3}, {"a.txt", 2}};
	char *first = NULL;
	struct cmp c;

	(void)state;
	compare(&c, remote, N(remote), local, N(local));
	assert_int_equal(c.res.differences, 3);
	assert_non_null(strstr(details(&c), "A.txt: on the share"));
	assert_non_null(strstr(details(&c), "ambiguous"));
	assert_null(strstr(details(&c), "bytes"));
	first = strdup(details(&c));
	assert_non_null(first);
	cmp_fini(&c);
	compare(&c, remote, N(remote), rev, N(rev));
	assert_string_equal(details(&c), first);
	cmp_fini(&c);
	compare(&c, local, N(local), remote, N(remote));
	assert_int_equal(c.res.differences, 3);
	assert_non_null(strstr(details(&c), "ambiguous"));
	assert_null(strstr(details(&c), "bytes"));
	cmp_fini(&c);
	free(first);
}

/* Invalid UTF-8 and control bytes: no crash, each such byte only equal to itself. */
static void test_check_hostile_names_byte_exact(void **state)
{
	static const struct ent same[] = {{"\xff.wim", 1},     {"\x01\x7f\x1b[0m", 2},
	                                  {"\xed\xa0\x80", 3}, {"\xc3", 4},
	                                  {"\xc0\x81", 5},     {"\xf4\x90\x80\x80", 6}};
	static const struct ent r1[] = {{"\xff.wim", 1}};
	static const struct ent l1[] = {{"\xfe.wim", 1}};
	static const struct ent r2[] = {{"\xc3.wim", 1}};
	static const struct ent l2[] = {{"\xc3\x89.wim", 1}};
	static const struct ent r3[] = {{"\xc0\x81", 1}}; /* overlong U+0001 */
	static const struct ent l3[] = {{"\x01", 1}};
	static const struct ent r4[] = {{"\xce", 1}}; /* a cut Σ */
	static const struct ent l4[] = {{"\xcf", 1}}; /* a cut σ */
	struct cmp c;

	(void)state;
	expect_clean(same, N(same), same, N(same));
	compare(&c, r1, 1, l1, 1);
	assert_int_equal(c.res.differences, 2);
	cmp_fini(&c);
	compare(&c, r2, 1, l2, 1);
	assert_int_equal(c.res.differences, 2);
	cmp_fini(&c);
	compare(&c, r3, 1, l3, 1);
	assert_int_equal(c.res.differences, 2);
	cmp_fini(&c);
	compare(&c, r4, 1, l4, 1);
	assert_int_equal(c.res.differences, 2);
	cmp_fini(&c);
}

/* A real difference next to case twins still shows, on the right file. */
static void test_check_size_difference_on_the_right_twin(void **state)
{
	static const struct ent remote[] = {{"a.txt", 1}, {"A.txt", 22}};
	static const struct ent local[] = {{"A.txt", 23}, {"a.txt", 1}};
	struct cmp c;

	(void)state;
	compare(&c, remote, N(remote), local, N(local));
	assert_int_equal(c.res.differences, 1);
	assert_string_equal(details(&c), "A.txt: 22 bytes over SMB, 23 in the view\n");
	cmp_fini(&c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_check_pairs_ascii_case),
    cmocka_unit_test(test_check_pairs_latin1_accents),
    cmocka_unit_test(test_check_pairs_greek_and_cyrillic),
    cmocka_unit_test(test_check_sharp_s_and_final_sigma),
    cmocka_unit_test(test_check_pairs_case_twins_exactly),
    cmocka_unit_test(test_check_case_twin_missing_is_reported),
    cmocka_unit_test(test_check_reports_ambiguous_case_variants),
    cmocka_unit_test(test_check_hostile_names_byte_exact),
    cmocka_unit_test(test_check_size_difference_on_the_right_twin),
};

UNIT_GROUP(tests, NULL, NULL)
