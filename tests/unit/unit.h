/* unit.h -- one cmocka executable per module: each test file registers its group here.
 *
 * A file ends with UNIT_GROUP(tests, setup, teardown) instead of a main(); unit_main.c, linked
 * into every module's executable (test_config, test_fs, ...), runs the groups of the files
 * listed for that module in tests/CMakeLists.txt, in the order of their names. Registration
 * runs before main() (a constructor); nothing here is thread-safe or needs to be.
 */
#ifndef PXE_UNIT_H
#define PXE_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct unit_group {
	const char *name; /* the file's name: test_inomap.c */
	const struct CMUnitTest *tests;
	size_t n_tests;
	CMFixtureFunction setup, teardown;
};

/* unit_register -- G (borrowed, static) is run by main(); at most UNIT_MAX_GROUPS per module. */
void unit_register(const struct unit_group *g);
#define UNIT_MAX_GROUPS 16

#define UNIT_GROUP(tests_, setup_, teardown_)                                                      \
	static const struct unit_group unit_group_ = {                                             \
	    __FILE__, (tests_), sizeof(tests_) / sizeof((tests_)[0]), (setup_), (teardown_)};      \
	__attribute__((constructor)) static void unit_group_register_(void)                        \
	{                                                                                          \
		unit_register(&unit_group_);                                                       \
	}

#endif
