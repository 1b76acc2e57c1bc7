/* live.c -- helpers for integration tests on the real system (see live.h).
 *
 * Unmounts only what it mounted itself (tracked in a list), newest first.
 * Single-threaded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"

#define MAX_MOUNTS 32

static char tmpdir[256];
static char *mounted[MAX_MOUNTS];
static size_t n_mounted;

static void give_up(const char *what, const char *why)
{
	const char *ci = getenv("CI");

	if (ci && strcmp(ci, "true") == 0) {
		fprintf(stderr, "%s: FAILED: %s (CI=true: a missing prerequisite is a failure)\n",
		        what, why);
		exit(1);
	}
	fprintf(stderr, "%s: SKIPPED: %s\n", what, why);
	exit(LIVE_SKIP);
}

void live_require(const char *what)
{
	char probe[] = "/tmp/pxeprobe.XXXXXX";

	if (geteuid() != 0) {
		give_up(what, "needs root to mount filesystems");
	}
	if (!mkdtemp(probe)) {
		give_up(what, "cannot create a temporary directory");
	}
	if (mount("tmpfs", probe, "tmpfs", 0, "size=1m") != 0) {
		rmdir(probe);
		give_up(what, "cannot mount tmpfs (no CAP_SYS_ADMIN?)");
	}
	umount(probe);
	rmdir(probe);
}

const char *live_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/pxeimagesfs-test.XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return tmpdir;
}

const char *live_path(const char *name)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", live_tmpdir(), name);
	return b;
}

int live_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

int live_mkdirs(const char *rel)
{
	return live_sh("mkdir -p '%s'", live_path(rel));
}

static void remember(const char *path)
{
	if (n_mounted < MAX_MOUNTS) {
		mounted[n_mounted++] = strdup(path);
	}
}

int live_mount_tmpfs(const char *name)
{
	const char *p = live_path(name);

	mkdir(p, 0755);
	if (mount("tmpfs", p, "tmpfs", 0, "size=16m,mode=0755") != 0) {
		return -errno;
	}
	remember(p);
	return 0;
}

int live_umount(const char *name)
{
	const char *p = live_path(name);

	for (size_t i = n_mounted; i-- > 0;) {
		if (mounted[i] && strcmp(mounted[i], p) == 0) {
			free(mounted[i]);
			mounted[i] = NULL;
			return umount(p) == 0 ? 0 : -errno;
		}
	}
	return -EINVAL;
}

void live_remember(const char *name)
{
	remember(live_path(name));
}

void live_cleanup(void)
{
	for (size_t i = n_mounted; i-- > 0;) {
		if (mounted[i] && umount(mounted[i]) != 0) {
			umount2(mounted[i], MNT_DETACH);
		}
		free(mounted[i]);
		mounted[i] = NULL;
	}
	n_mounted = 0;
	if (tmpdir[0]) {
		live_sh("rm -rf --one-file-system '%s'", tmpdir);
		tmpdir[0] = '\0';
	}
}
