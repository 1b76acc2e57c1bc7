/* slowwatch.c -- an LD_PRELOAD shim for tests/integration/watch_tree.sh: holds one
 * inotify_add_watch() of the daemon back, to open the window between a folder's walk and its
 * watch (fs/dirwatch.c dw_watch_dir) wide enough for a test to move the tree meanwhile.
 *
 *   PXE_SLOWWATCH_CTL=FILE  when FILE exists, the next call removes it, creates FILE.in (the
 *                           test knows the call is held), and waits PXE_SLOWWATCH_MS (1500)
 *                           before watching; every other call watches at once
 *
 * Not part of the product.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "shim_hold.h"

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	static int (*real)(int, const char *, uint32_t);
	const char *ctl = getenv("PXE_SLOWWATCH_CTL");
	const char *ms = getenv("PXE_SLOWWATCH_MS");

	if (!real) {
		real = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
	}
	(void)shim_hold(ctl, ms, 1500);
	return real(fd, path, mask);
}
