/* createmode.c -- an LD_PRELOAD shim for posix_acl.sh: records the mode every entry is made
 * with on a drive, before anything else can change it. For each openat(2) with O_CREAT (not
 * O_TMPFILE), mkdirat(2) and mknodat(2) in a folder whose path (the folder fd's /proc/self/fd
 * link) begins with PXE_CREATEMODE_DIR, it appends "NAME MODE" to the file PXE_CREATEMODE_LOG:
 * the mode asked less the calling thread's umask (octal, permission bits), what the drive gives
 * the entry in a folder without a default ACL. Then it makes the entry as asked (syscall, no
 * symbol lookup). A mode wider than the entry's final one is a window in which another user
 * may open the new entry and keep it open. Not part of the product. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The calling thread's umask, from /proc/thread-self/status (umask(2) would change it). */
static mode_t thread_umask(void)
{
	char buf[4096];
	int fd =
	    (int)syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	const char *u = NULL;

	if (fd >= 0) {
		close(fd);
	}
	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	u = strstr(buf, "\nUmask:");
	return u ? (mode_t)strtoul(u + 7, NULL, 8) : 0;
}

static void note(int dirfd, const char *name, mode_t mode)
{
	const char *dir = getenv("PXE_CREATEMODE_DIR");
	const char *logf = getenv("PXE_CREATEMODE_LOG");
	char link[64];
	char path[4096];
	char line[4200];
	ssize_t n = 0;
	int fd = -1;

	if (!dir || !logf) {
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		return;
	}
	path[n] = '\0';
	if (strncmp(path, dir, strlen(dir)) != 0) {
		return;
	}
	n = snprintf(line, sizeof(line), "%s %o\n", name,
	             (unsigned)(mode & ~thread_umask() & 07777));
	fd = (int)syscall(SYS_openat, AT_FDCWD, logf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	                  0600);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)n); /* short: the test finds no line, says so */
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
	if ((flags & O_CREAT) && (flags & O_TMPFILE) != O_TMPFILE) {
		note(dirfd, name, mode);
	}
	return (int)syscall(SYS_openat, dirfd, name, flags, mode);
}

/* the same entry point under its large-file name */
int openat64(int dirfd, const char *name, int flags, ...) __attribute__((alias("openat")));

int mkdirat(int dirfd, const char *name, mode_t mode)
{
	note(dirfd, name, mode);
	return (int)syscall(SYS_mkdirat, dirfd, name, mode);
}

int mknodat(int dirfd, const char *name, mode_t mode, dev_t dev)
{
	note(dirfd, name, mode);
	return (int)syscall(SYS_mknodat, dirfd, name, mode, dev);
}
