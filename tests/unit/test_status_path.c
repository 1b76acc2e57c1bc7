/* test_status_path.c -- the status file's name: one per mountpoint, as systemd-escape --path.
 *
 * cfg_status_path() is what the daemon writes and `pxeimagesfs status` reads; two
 * mountpoints must never share a file. The expected names are those of systemd-escape
 * --path (systemd 252); when the tool is installed, it is asked too.
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
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static const char *const cases[][2] = {
    {"/", "-"},
    {"/srv/pxeimages", "srv-pxeimages"},
    {"/srv/pxe-images", "srv-pxe\\x2dimages"},
    {"/srv/pxe/images", "srv-pxe-images"},
    {"//srv//x/", "srv-x"},
    {"/srv/./a", "srv-a"},
    {"/.hidden/x", "\\x2ehidden-x"},
    {"/srv/a b", "srv-a\\x20b"},
    {"/srv/\xc3\xbcmlaut", "srv-\\xc3\\xbcmlaut"},
    {"/srv/a\\b", "srv-a\\x5cb"},
    {"/srv/x:y_z.1", "srv-x:y_z.1"},
    {"/srv/-", "srv-\\x2d"},
    {"/tmp/pxeimagesfs-live.Ab12/view", "tmp-pxeimagesfs\\x2dlive.Ab12-view"},
};

static struct pxe_config *defaults(void)
{
	struct pxe_config *cfg = NULL;
	char err[1024];

	if (cfg_load_string("", "(defaults)", &cfg, err, sizeof(err)) < 0) {
		fail_msg("defaults: %s", err);
	}
	return cfg;
}

static void test_status_path_escapes_like_systemd_escape(void **state)
{
	struct pxe_config *cfg = defaults();
	char path[PATH_MAX];
	char want[PATH_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cfg_status_path(cfg, cases[i][0], path, sizeof(path)), 0);
		snprintf(want, sizeof(want), "/run/pxeimagesfs/%s.json", cases[i][1]);
		if (strcmp(path, want) != 0) {
			fail_msg("%s: %s, want %s", cases[i][0], path, want);
		}
	}
	cfg_free(cfg);
}

/* The names systemd-escape itself gives, when it is installed. */
static void test_status_path_agrees_with_the_installed_systemd_escape(void **state)
{
	char name[PATH_MAX];
	char got[PATH_MAX];

	(void)state;
	if (access("/usr/bin/systemd-escape", X_OK) != 0) {
		if (getenv("CI") && strcmp(getenv("CI"), "true") == 0) {
			fail_msg("/usr/bin/systemd-escape missing (package systemd; CI=true)");
		}
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fds[2];
		pid_t pid = 0;
		ssize_t n = 0;
		int st = 0;
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		if (pid == 0) {
			dup2(fds[1], 1);
			execl("/usr/bin/systemd-escape", "systemd-escape", "--path", "--",
			      cases[i][0], (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		n = read(fds[0], got, sizeof(got) - 1);
		close(fds[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(n > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		got[n] = '\0';
		got[strcspn(got, "\n")] = '\0';
		assert_int_equal(cfg_escape_path(cases[i][0], name, sizeof(name)), 0);
		if (strcmp(name, got) != 0) {
			fail_msg("%s: %s, systemd-escape --path says %s", cases[i][0], name, got);
		}
	}
}

/* /srv/pxe-images and /srv/pxe/images shared srv-pxe-images.json */
static void test_status_path_differs_for_slash_and_dash(void **state)
{
	struct pxe_config *cfg = defaults();
	char a[PATH_MAX];
	char b[PATH_MAX];

	(void)state;
	assert_int_equal(cfg_status_path(cfg, "/srv/pxe-images", a, sizeof(a)), 0);
	assert_int_equal(cfg_status_path(cfg, "/srv/pxe/images", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	cfg_free(cfg);
}

static void test_status_path_refuses_a_name_too_long(void **state)
{
	struct pxe_config *cfg = defaults();
	char mp[400] = "/";
	char path[PATH_MAX];

	(void)state;
	memset(mp + 1, '-', 100); /* each '-' is 4 bytes escaped: over NAME_MAX */
	assert_int_equal(cfg_status_path(cfg, mp, path, sizeof(path)), -ENAMETOOLONG);
	assert_int_equal(cfg_status_path(cfg, "/srv/pxeimages", path, 20), -ENAMETOOLONG);
	cfg_free(cfg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_status_path_escapes_like_systemd_escape),
    cmocka_unit_test(test_status_path_agrees_with_the_installed_systemd_escape),
    cmocka_unit_test(test_status_path_differs_for_slash_and_dash),
    cmocka_unit_test(test_status_path_refuses_a_name_too_long),
};

UNIT_GROUP(tests, NULL, NULL)
