/* test_transport.c -- the -o io_uring option the daemon takes for itself (fs/transport.c).
 *
 * tr_take_opt finds "io_uring" among the comma-separated -o options and hands the others on
 * to libfuse unchanged, in order; nothing else that merely contains the word is taken. Needs
 * no root and no mounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "fs_int.h"
#include "unit.h"

static void test_tr_takes_io_uring_and_keeps_the_others(void **state)
{
	char rest[64];

	(void)state;
	assert_true(tr_take_opt("ro,io_uring,max_read=4096", rest, sizeof(rest)));
	assert_string_equal(rest, "ro,max_read=4096");
	assert_true(tr_take_opt("io_uring", rest, sizeof(rest)));
	assert_string_equal(rest, "");
	assert_true(tr_take_opt("io_uring,,ro,io_uring", rest, sizeof(rest)));
	assert_string_equal(rest, "ro");
}

static void test_tr_leaves_options_without_io_uring(void **state)
{
	char rest[64];

	(void)state;
	assert_false(tr_take_opt(NULL, rest, sizeof(rest)));
	assert_string_equal(rest, "");
	assert_false(tr_take_opt("ro,io_uring_q_depth=8,no_io_uring", rest, sizeof(rest)));
	assert_string_equal(rest, "ro,io_uring_q_depth=8,no_io_uring");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tr_takes_io_uring_and_keeps_the_others),
    cmocka_unit_test(test_tr_leaves_options_without_io_uring),
};
UNIT_GROUP(tests, NULL, NULL)
