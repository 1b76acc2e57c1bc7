/* fifoswap.c -- an LD_PRELOAD shim for migrate_fifo.sh: makes the race "a regular file is
 * replaced by a FIFO between its stat and its open" happen every time. On the Nth
 * (PXE_FIFOSWAP_AT, default 1) openat(2) for reading (not O_PATH, O_DIRECTORY or O_CREAT) of
 * the name PXE_FIFOSWAP_NAME in the folder PXE_FIFOSWAP_DIR (the folder fd's /proc/self/fd
 * link, an absolute path), it renames the FIFO PXE_FIFOSWAP_FIFO (same filesystem) over that
 * name, appends "swapped" to the file PXE_FIFOSWAP_MARK, and then opens as asked. Every other open is the kernel's as
 * asked (syscall, no symbol lookup). Not part of the product. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int done;
static atomic_int seen;

static bool wanted(int dirfd, const char *name, int flags)
{
	const char *dir = getenv("PXE_FIFOSWAP_DIR");
	const char *want = getenv("PXE_FIFOSWAP_NAME");
	char link[64];
	char path[4096];
	ssize_t n = 0;

	if (!dir || !want || atomic_load(&done) || strcmp(name, want) != 0 ||
	    (flags & (O_PATH | O_DIRECTORY | O_CREAT)) || (flags & O_ACCMODE) != O_RDONLY) {
		return false;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		return false;
	}
	path[n] = '\0';
	if (strcmp(path, dir) != 0) {
		return false;
	}
	return atomic_fetch_add(&seen, 1) + 1 == (getenv("PXE_FIFOSWAP_AT") ? atoi(getenv("PXE_FIFOSWAP_AT")) : 1);
}

static void swap(int dirfd, const char *name)
{
	const char *fifo = getenv("PXE_FIFOSWAP_FIFO");
	const char *mark = getenv("PXE_FIFOSWAP_MARK");
	int fd = -1;

	if (atomic_exchange(&done, 1) || !fifo || renameat(AT_FDCWD, fifo, dirfd, name) != 0) {
		return;
	}
	fd = mark ? (int)syscall(SYS_openat, AT_FDCWD, mark, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
	if (fd >= 0) {
		ssize_t w = write(fd, "swapped\n", 8); /* short: the test finds no mark, says so */
		(void)w;
		close(fd);
	}
}

int openat(int dirfd, const char *name, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (wanted(dirfd, name, flags)) {
		swap(dirfd, name);
	}
	return (int)syscall(SYS_openat, dirfd, name, flags, mode);
}

/* the same entry point under its large-file name */
int openat64(int dirfd, const char *name, int flags, ...) __attribute__((alias("openat")));
