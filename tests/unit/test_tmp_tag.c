/* test_tmp_tag.c -- the tags of hidden temporaries (common/fileio.c): fresh per call, this
 * host's, and when a tagged temporary counts as abandoned (its process gone here, or
 * unchanged for a day) or as another run's work in progress.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "unit.h"

/* A PID of this host that is not running: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(0);
	}
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void test_tags_are_fresh_and_name_this_host_and_process(void **state)
{
	char a[FILEIO_TMP_TAG_LEN + 1];
	char b[FILEIO_TMP_TAG_LEN + 1];
	char pid[16];
	char small[FILEIO_TMP_TAG_LEN];

	(void)state;
	assert_int_equal(fileio_tmp_tag(a, sizeof(a)), 0);
	assert_int_equal(fileio_tmp_tag(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), FILEIO_TMP_TAG_LEN);
	assert_true(fileio_tmp_tag_at(a) && fileio_tmp_tag_at(b));
	assert_string_not_equal(a, b); /* the random part */
	assert_memory_equal(a, b, 26); /* the same host and process */
	snprintf(pid, sizeof(pid), "-%08x-", (unsigned int)getpid());
	assert_memory_equal(a + 16, pid, 10);
	assert_int_equal(fileio_tmp_tag(small, sizeof(small)), -ENAMETOOLONG);
	assert_false(fileio_tmp_tag_at("0123456789abcdef-0000000a-0123456789abcde"));  /* short */
	assert_false(fileio_tmp_tag_at("0123456789ABCDEF-0000000a-0123456789abcdef")); /* case */
	assert_false(fileio_tmp_tag_at("0123456789abcdef_0000000a-0123456789abcdef"));
}

static void test_a_temporary_is_stale_only_when_provably_abandoned(void **state)
{
	char mine[FILEIO_TMP_TAG_LEN + 1];
	char dead[FILEIO_TMP_TAG_LEN + 1];
	const char *other = "0000000000000000-00000001-0123456789abcdef"; /* another host */
	time_t now = time(NULL);
	struct stat fresh = {0};
	struct stat old = {0};
	struct stat touched = {0};

	(void)state;
	fresh.st_mtim.tv_sec = fresh.st_ctim.tv_sec = now - 5;
	old.st_mtim.tv_sec = old.st_ctim.tv_sec = now - FILEIO_TMP_STALE_SEC - 60;
	touched = old; /* mtime set back (futimens before a landing), ctime fresh */
	touched.st_ctim.tv_sec = now - 5;
	assert_int_equal(fileio_tmp_tag(mine, sizeof(mine)), 0);
	snprintf(dead, sizeof(dead), "%.16s-%08x-%s", mine, (unsigned int)dead_pid(), mine + 26);
	assert_true(fileio_tmp_tag_at(dead));

	assert_false(fileio_tmp_stale(mine, &fresh, now));  /* this process: in progress */
	assert_true(fileio_tmp_stale(dead, &fresh, now));   /* this host, its process gone */
	assert_false(fileio_tmp_stale(other, &fresh, now)); /* another host's, fresh */
	assert_false(fileio_tmp_stale(other, &touched, now));
	assert_true(fileio_tmp_stale(other, &old, now)); /* unchanged for a day */
	assert_true(fileio_tmp_stale(other, &fresh, now + FILEIO_TMP_STALE_SEC + 60));
	assert_false(fileio_tmp_stale("no tag", &fresh, now));
	assert_true(fileio_tmp_stale("no tag", &old, now));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tags_are_fresh_and_name_this_host_and_process),
    cmocka_unit_test(test_a_temporary_is_stale_only_when_provably_abandoned),
};

UNIT_GROUP(tests, NULL, NULL)
