/* test_copyup.c -- copy-up temporaries: fresh in every process, never a sequence a restart repeats.
 *
 * The old names came from an unseeded random(), so every daemon's first copy-up picked the same
 * name, and a leftover of a killed daemon made the restarted one's first copy-up fail (EEXIST).
 * Two processes here stand for two daemon starts. Needs no root and no mounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "fs_int.h"
#include "unit.h"

/* The first temporary name a fresh process makes, into OUT. */
static void first_name_in_child(char *out, size_t len)
{
	int p[2];
	pid_t pid = 0;
	ssize_t n = 0;
	int status = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char name[NAME_MAX + 1];
		close(p[0]);
		if (copyup_tmp_name(name, sizeof(name)) != 0 ||
		    write(p[1], name, strlen(name)) != (ssize_t)strlen(name)) {
			_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	out[n] = '\0';
}

static void test_two_starts_differ(void **state)
{
	char a[NAME_MAX + 1];
	char b[NAME_MAX + 1];
	size_t plen = strlen(COPYUP_TMP_PREFIX);

	(void)state;
	first_name_in_child(a, sizeof(a));
	first_name_in_child(b, sizeof(b));
	assert_string_not_equal(a, b);
	for (const char *s = a; s; s = s == a ? b : NULL) {
		assert_int_equal(strncmp(s, COPYUP_TMP_PREFIX, plen), 0);
		assert_int_equal(strlen(s + plen), FILEIO_TMP_TAG_LEN); /* host, PID, random */
		assert_true(fileio_tmp_tag_at(s + plen));
		assert_true(names_is_hidden_temp(s));
	}
}

static void test_too_short(void **state)
{
	char small[8];

	(void)state;
	assert_int_equal(copyup_tmp_name(small, sizeof(small)), -ENAMETOOLONG);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_two_starts_differ),
    cmocka_unit_test(test_too_short),
};

UNIT_GROUP(tests, NULL, NULL)
