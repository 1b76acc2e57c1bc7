/* slowxattr.c -- an LD_PRELOAD shim for tests/integration/outside_changes.sh: holds one
 * getxattr() of the daemon back after it has read the value, to open the window between the
 * read of an xattr from a drive and its keeping (fs/xcache.c) wide enough for a test to change
 * the xattr on the drive meanwhile.
 *
 *   PXE_SLOWXATTR_CTL=FILE  when FILE exists, the next call that reads a value (not only its
 *                           size) reads it, removes FILE, creates FILE.in (the test knows the
 *                           value was read) and waits PXE_SLOWXATTR_MS (1000) before
 *                           returning; every other call returns at once
 *
 * Not part of the product.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "shim_hold.h"

ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
	static ssize_t (*real)(const char *, const char *, void *, size_t);
	const char *ctl = getenv("PXE_SLOWXATTR_CTL");
	const char *ms = getenv("PXE_SLOWXATTR_MS");

	if (!real) {
		real = (ssize_t(*)(const char *, const char *, void *, size_t))dlsym(RTLD_NEXT,
		                                                                     "getxattr");
	}
	ssize_t rc = real(path, name, value, size);
	if (size > 0) {
		(void)shim_hold(ctl, ms, 1000);
	}
	return rc;
}
