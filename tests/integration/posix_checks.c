/* posix_checks.c -- POSIX behaviour a pxeimagesfs view must show, checked from inside it.
 *
 * usage: posix_checks [-u UMASK] [-l LEVELS] DIR   (DIR: a writable directory inside the view;
 * run as root; UMASK, octal, 022 unless given: the umask every check runs under; -l: only the
 * long-path check, LEVELS folders deep instead of 20 -- 300 is about 72 KB below DIR)
 * Prints "ok - NAME" or "not ok - NAME: detail" per check; exits 1 if any failed, 2 on bad
 * usage. Works on any local filesystem (run it on tmpfs to see the reference answers). Every
 * file it makes is named "pxc<pid>-..." and removed again. The credential checks fork children
 * that drop to uid/gid 65534. Single-threaded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define KIB 1024L
#define MIB (1024L * 1024L)

#define NOBODY    65534
#define SUPP_GID  4242 /* a supplementary group the child is given */
#define OTHER_GID 4343 /* a group the child is not in */

#define DEEP_COMP_MAX   120
#define DEEP_MAX_LEVELS 64

static int dfd = -1;      /* the directory under test */
static const char *dpath; /* its path, for the calls that take one */
static int failures;

static void ok(const char *check)
{
	printf("ok - %s\n", check);
	fflush(stdout);
}

/* Reports a failed check; always returns -1 so callers can `return not_ok(...)`. */
static int not_ok(const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("not ok - %s: ", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures++;
	return -1;
}

/* "pxc<pid>-TAG", the name of one test file in the directory under test. */
static const char *tname(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "pxc%ld-%s", (long)getpid(), tag);
	return buf;
}

static int create_file(const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, mode);

	if (fd < 0) {
		return -1;
	}
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		close(fd);
		unlinkat(dfd, name, 0);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads NAME whole into buf (at most len bytes); returns bytes read or -1. */
static ssize_t read_file(const char *name, char *buf, size_t len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd < 0) {
		return -1;
	}
	n = pread(fd, buf, len, 0);
	close(fd);
	return n;
}

static long nlink_of(const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return -(long)errno;
	}
	return (long)st.st_nlink;
}

/* --- name length ------------------------------------------------------------------------- */

static void check_name_max(void)
{
	const char *check = "name-max: 255-byte name works, 256 gives ENAMETOOLONG";
	char n255[NAME_MAX + 1];
	char n256[NAME_MAX + 2];
	char prefix[64];
	struct stat st;
	int fd = -1;

	tname(prefix, sizeof(prefix), "name-");
	memset(n256, 'n', sizeof(n256) - 1);
	memcpy(n256, prefix, strlen(prefix));
	n256[sizeof(n256) - 1] = '\0';
	memcpy(n255, n256, NAME_MAX);
	n255[NAME_MAX] = '\0';

	fd = openat(dfd, n256, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlinkat(dfd, n256, 0);
		not_ok(check, "create of a 256-byte name succeeded, want ENAMETOOLONG");
		goto out;
	}
	if (errno != ENAMETOOLONG) {
		not_ok(check, "create of a 256-byte name: %s, want ENAMETOOLONG", strerror(errno));
		goto out;
	}
	if (mkdirat(dfd, n256, 0755) == 0) {
		unlinkat(dfd, n256, AT_REMOVEDIR);
		not_ok(check, "mkdir of a 256-byte name succeeded, want ENAMETOOLONG");
		goto out;
	}
	if (errno != ENAMETOOLONG) {
		not_ok(check, "mkdir of a 256-byte name: %s, want ENAMETOOLONG", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, n256, &st, 0) == 0) {
		not_ok(check, "stat of a 256-byte name succeeded, want ENAMETOOLONG");
		goto out;
	}
	if (errno != ENAMETOOLONG) {
		not_ok(check, "stat of a 256-byte name: %s, want ENAMETOOLONG", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, n255, &st, 0) == 0 || errno != ENOENT) {
		not_ok(check, "the 256-byte create left a 255-byte (truncated) name behind");
		unlinkat(dfd, n255, 0);
		goto out;
	}
	fd = create_file(n255, "x", 1, 0644);
	if (fd < 0) {
		not_ok(check, "create of a 255-byte name: %s", strerror(errno));
		goto out;
	}
	close(fd);
	if (fstatat(dfd, n255, &st, 0) != 0 || st.st_size != 1) {
		not_ok(check, "stat of the 255-byte name: %s", strerror(errno));
	} else {
		ok(check);
	}
	if (unlinkat(dfd, n255, 0) != 0) {
		not_ok(check, "unlink of the 255-byte name: %s", strerror(errno));
	}
out:
	return;
}

/* --- deep paths -------------------------------------------------------------------------- */

/* Builds, level by level with mkdirat/openat, directories whose relative path from DIR plus
 * "/leaf" is PATH_MAX-100 bytes long, then uses the whole path in one openat/fstatat. */
static void check_deep_path(void)
{
	const char *check = "deep-path: a relative path of PATH_MAX-100 bytes works";
	const size_t target = PATH_MAX - 100; /* strlen of "COMP0/COMP1/.../leaf" */
	static char comps[DEEP_MAX_LEVELS][DEEP_COMP_MAX + 1];
	static char full[PATH_MAX];
	int fds[DEEP_MAX_LEVELS];
	size_t made = 0; /* levels created so far */
	size_t levels = 0;
	size_t remaining = target - strlen("/leaf");
	size_t used = 0;
	char buf[16];
	struct stat st;
	int fd = -1;
	int leaf_made = 0;
	int bad = 0;

	for (size_t i = 0; i < DEEP_MAX_LEVELS; i++) {
		fds[i] = -1;
	}
	/* split `remaining` bytes into components of at most DEEP_COMP_MAX joined by '/' */
	while (remaining > 0 && levels < DEEP_MAX_LEVELS) {
		size_t len;
		char head[32];
		size_t hl;

		if (remaining > 2 * DEEP_COMP_MAX) {
			len = DEEP_COMP_MAX;
		} else if (remaining > DEEP_COMP_MAX) {
			len = remaining / 2;
		} else {
			len = remaining;
		}
		if (levels == 0) {
			tname(head, sizeof(head), "deep");
		} else {
			snprintf(head, sizeof(head), "d%zu", levels);
		}
		hl = strlen(head) < len ? strlen(head) : len;
		memset(comps[levels], 'x', len);
		memcpy(comps[levels], head, hl);
		comps[levels][len] = '\0';
		memcpy(full + used, comps[levels], len);
		used += len;
		full[used++] = '/';
		levels++;
		if (len == remaining) {
			remaining = 0;
		} else {
			remaining -= len + 1; /* the component and its '/' */
		}
	}
	memcpy(full + used, "leaf", 5);
	used += 4;
	if (used < PATH_MAX - 110 || used >= PATH_MAX) {
		not_ok(check, "test bug: built a %zu-byte path", used);
		return;
	}

	for (size_t i = 0; i < levels; i++) {
		int parent = i == 0 ? dfd : fds[i - 1];

		if (mkdirat(parent, comps[i], 0755) != 0) {
			bad = not_ok(check, "mkdirat level %zu: %s", i, strerror(errno));
			goto cleanup;
		}
		made = i + 1;
		fds[i] = openat(parent, comps[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0) {
			bad = not_ok(check, "openat level %zu: %s", i, strerror(errno));
			goto cleanup;
		}
	}
	fd = openat(fds[levels - 1], "leaf", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		bad = not_ok(check, "create of the leaf (depth %zu): %s", levels, strerror(errno));
		goto cleanup;
	}
	leaf_made = 1;
	if (write(fd, "deep\n", 5) != 5) {
		bad = not_ok(check, "write to the leaf (depth %zu): %s", levels, strerror(errno));
		goto cleanup;
	}
	close(fd);
	fd = -1;
	if (fstatat(fds[levels - 1], "leaf", &st, 0) != 0 || st.st_size != 5) {
		bad = not_ok(check, "fstatat of the leaf from its parent: %s", strerror(errno));
		goto cleanup;
	}
	/* now the whole path in single calls */
	if (fstatat(dfd, full, &st, 0) != 0 || st.st_size != 5) {
		bad = not_ok(check, "fstatat of the %zu-byte path: %s", used, strerror(errno));
		goto cleanup;
	}
	fd = openat(dfd, full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		bad = not_ok(check, "openat of the %zu-byte path: %s", used, strerror(errno));
		goto cleanup;
	}
	memset(buf, 0, sizeof(buf));
	if (read(fd, buf, sizeof(buf)) != 5 || memcmp(buf, "deep\n", 5) != 0) {
		bad = not_ok(check, "read through the %zu-byte path: wrong content", used);
		goto cleanup;
	}
cleanup:
	if (fd >= 0) {
		close(fd);
	}
	if (leaf_made && unlinkat(fds[levels - 1], "leaf", 0) != 0 && !bad) {
		bad = not_ok(check, "unlink of the leaf: %s", strerror(errno));
	}
	for (size_t i = made; i-- > 0;) {
		int parent = i == 0 ? dfd : fds[i - 1];

		if (fds[i] >= 0) {
			close(fds[i]);
		}
		if (unlinkat(parent, comps[i], AT_REMOVEDIR) != 0 && !bad) {
			bad = not_ok(check, "rmdir level %zu: %s", i, strerror(errno));
		}
	}
	if (!bad) {
		ok(check);
	}
}

/* --- a tree deeper than PATH_MAX, reached with short relative paths ------------------------ */

#define LONG_LEVELS 20 /* the default: about 4,800 bytes */
#define LONG_COMP   240

static size_t long_levels = LONG_LEVELS; /* -l */
static bool long_only;                   /* -l given: only that check */

/* utimensat, xattrs (where the filesystem has user xattrs), statfs from the deep cwd. */
static int long_path_more(const char *check)
{
	struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1100000000}};
	struct statfs sf;
	struct stat st;
	char val[8] = "";

	if (utimensat(AT_FDCWD, "f", ts, 0) != 0 || stat("f", &st) != 0 ||
	    st.st_mtime != 1100000000) {
		return not_ok(check, "utimensat: %s", strerror(errno));
	}
	if (setxattr("f", "user.pxc", "deep", 4, 0) == 0) {
		if (getxattr("f", "user.pxc", val, sizeof(val)) != 4 || memcmp(val, "deep", 4) ||
		    removexattr("f", "user.pxc") != 0) {
			return not_ok(check, "getxattr/removexattr: %s", strerror(errno));
		}
	} else if (errno != ENOTSUP) {
		return not_ok(check, "setxattr: %s", strerror(errno));
	}
	if (statfs(".", &sf) != 0) {
		return not_ok(check, "statfs: %s", strerror(errno));
	}
	return 0;
}

/* The operations a client deep in the tree does with short names from its working
 * directory; each is checked for the native answer. Returns 0 or -1 (reported). */
static int long_path_ops(const char *check)
{
	char buf[16];
	struct stat st;
	int fd = open("f", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640);

	if (fd < 0) {
		return not_ok(check, "open O_CREAT: %s", strerror(errno));
	}
	if (write(fd, "longpath\n", 9) != 9 || pread(fd, buf, 9, 0) != 9 ||
	    memcmp(buf, "longpath\n", 9)) {
		close(fd);
		return not_ok(check, "write/read: %s", strerror(errno));
	}
	if (ftruncate(fd, 6) != 0) {
		close(fd);
		return not_ok(check, "ftruncate: %s", strerror(errno));
	}
	close(fd);
	if (stat("f", &st) != 0 || st.st_size != 6) {
		return not_ok(check, "stat after ftruncate: %s", strerror(errno));
	}
	if (chmod("f", 0600) != 0 || stat("f", &st) != 0 || (st.st_mode & 07777) != 0600) {
		return not_ok(check, "chmod: %s", strerror(errno));
	}
	if (chown("f", NOBODY, NOBODY) != 0 || stat("f", &st) != 0 || st.st_uid != NOBODY ||
	    st.st_gid != NOBODY) {
		return not_ok(check, "chown: %s", strerror(errno));
	}
	if (truncate("f", 3) != 0 || stat("f", &st) != 0 || st.st_size != 3) {
		return not_ok(check, "truncate: %s", strerror(errno));
	}
	if (link("f", "g") != 0 || stat("g", &st) != 0 || st.st_nlink != 2) {
		return not_ok(check, "link: %s", strerror(errno));
	}
	if (symlink("f", "s") != 0 || readlink("s", buf, sizeof(buf)) != 1) {
		return not_ok(check, "symlink: %s", strerror(errno));
	}
	if (mkfifo("p", 0600) != 0 || lstat("p", &st) != 0 || !S_ISFIFO(st.st_mode)) {
		return not_ok(check, "mkfifo: %s", strerror(errno));
	}
	if (mknod("n", S_IFREG | 0600, 0) != 0 || lstat("n", &st) != 0 || !S_ISREG(st.st_mode)) {
		return not_ok(check, "mknod S_IFREG: %s", strerror(errno));
	}
	if (mkdir("d", 0700) != 0 || lstat("d", &st) != 0 || !S_ISDIR(st.st_mode)) {
		return not_ok(check, "mkdir: %s", strerror(errno));
	}
	if (rename("g", "d/h") != 0 || lstat("d/h", &st) != 0 || lstat("g", &st) == 0) {
		return not_ok(check, "rename: %s", strerror(errno));
	}
	return long_path_more(check);
}

/* readdir of the working directory: exactly the names long_path_ops left. */
static int long_path_list(const char *check)
{
	static const char *const want[] = {"d", "f", "n", "p", "s"};
	DIR *d = opendir(".");
	struct dirent *de = NULL;
	unsigned seen = 0;
	int n = 0;

	if (!d) {
		return not_ok(check, "opendir: %s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			continue;
		}
		n++;
		for (unsigned i = 0; i < 5; i++) {
			seen |= strcmp(de->d_name, want[i]) == 0 ? 1u << i : 0;
		}
	}
	closedir(d);
	return n == 5 && seen == 0x1f ? 0 : not_ok(check, "readdir: %d names, mask %#x", n, seen);
}

/* Remove what long_path_ops made; returns 0 or -1 (reported unless QUIET). */
static int long_path_clean(const char *check, bool quiet)
{
	static const char *const files[] = {"d/h", "f", "s", "p", "n"};
	int bad = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (unlink(files[i]) != 0 && !quiet) {
			bad = not_ok(check, "unlink %s: %s", files[i], strerror(errno));
		}
	}
	if (rmdir("d") != 0 && !quiet) {
		bad = not_ok(check, "rmdir: %s", strerror(errno));
	}
	return bad;
}

static void check_long_path(void)
{
	const char *check = "long-path: short relative names below a PATH_MAX+ deep cwd work";
	char comp[LONG_COMP + 1];
	int *fds = calloc(long_levels + 1, sizeof(*fds));
	int home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t made = 0;
	int bad = 0;

	if (home < 0 || !fds) {
		not_ok(check, "open of the cwd: %s", strerror(errno));
		free(fds);
		return;
	}
	for (size_t i = 0; i <= long_levels; i++) {
		fds[i] = i == 0 ? dfd : -1;
	}
	for (size_t i = 0; i < long_levels && !bad; i++) {
		snprintf(comp, sizeof(comp), "pxc%ld-long%02zu-", (long)getpid(), i);
		memset(comp + strlen(comp), 'L', LONG_COMP - strlen(comp));
		comp[LONG_COMP] = '\0';
		if (fchdir(fds[i]) != 0 || mkdir(comp, 0755) != 0) {
			bad = not_ok(check, "mkdir level %zu (%zu bytes deep): %s", i,
			             i * (LONG_COMP + 1), strerror(errno));
			break;
		}
		made = i + 1;
		if (chdir(comp) != 0 ||
		    (fds[i + 1] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			bad = not_ok(check, "chdir level %zu: %s", i, strerror(errno));
		}
	}
	if (!bad) {
		bad = long_path_ops(check);
		bad = bad ? bad : long_path_list(check);
		bad = long_path_clean(check, bad != 0) || bad;
	}
	if (fchdir(home) != 0 && !bad) {
		bad = not_ok(check, "fchdir back: %s", strerror(errno));
	}
	while (made > 0) {
		snprintf(comp, sizeof(comp), "pxc%ld-long%02zu-", (long)getpid(), made - 1);
		memset(comp + strlen(comp), 'L', LONG_COMP - strlen(comp));
		comp[LONG_COMP] = '\0';
		if (fds[made] >= 0) {
			close(fds[made]);
		}
		if (unlinkat(fds[made - 1], comp, AT_REMOVEDIR) != 0 && !bad) {
			bad = not_ok(check, "rmdir level %zu: %s", made - 1, strerror(errno));
		}
		made--;
	}
	close(home);
	free(fds);
	if (!bad) {
		ok(check);
	}
}

/* --- hard links -------------------------------------------------------------------------- */

static int expect_nlink(const char *check, const char *what, const char *name, long want)
{
	long got = nlink_of(name);

	if (got < 0) {
		return not_ok(check, "%s: stat %s: %s", what, name, strerror((int)-got));
	}
	if (got != want) {
		return not_ok(check, "%s: %s has nlink %ld, want %ld", what, name, got, want);
	}
	return 0;
}

static void check_links(void)
{
	const char *check = "nlink: right after link, unlink and rename";
	static const char data[] = "hello link\n";
	char a[64], b[64], c[64];
	char buf[64];
	struct stat st;
	int fd;

	tname(a, sizeof(a), "link-a");
	tname(b, sizeof(b), "link-b");
	tname(c, sizeof(c), "link-c");
	fd = create_file(a, data, sizeof(data) - 1, 0644);
	if (fd < 0) {
		not_ok(check, "create: %s", strerror(errno));
		return;
	}
	close(fd);
	if (expect_nlink(check, "new file", a, 1) != 0) {
		goto out;
	}
	if (linkat(dfd, a, dfd, b, 0) != 0) {
		not_ok(check, "link: %s", strerror(errno));
		goto out;
	}
	if (expect_nlink(check, "after link", a, 2) != 0 ||
	    expect_nlink(check, "after link", b, 2) != 0) {
		goto out;
	}
	if (unlinkat(dfd, b, 0) != 0) {
		not_ok(check, "unlink of the second name: %s", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, b, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
		not_ok(check, "unlinked name still there");
		goto out;
	}
	if (expect_nlink(check, "after unlink", a, 1) != 0) {
		goto out;
	}
	if (linkat(dfd, a, dfd, b, 0) != 0) {
		not_ok(check, "second link: %s", strerror(errno));
		goto out;
	}
	if (renameat(dfd, b, dfd, c) != 0) {
		not_ok(check, "rename: %s", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, b, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
		not_ok(check, "renamed-away name still there");
		goto out;
	}
	if (expect_nlink(check, "after rename", c, 2) != 0 ||
	    expect_nlink(check, "after rename", a, 2) != 0) {
		goto out;
	}
	memset(buf, 0, sizeof(buf));
	if (read_file(c, buf, sizeof(buf)) != (ssize_t)(sizeof(data) - 1) ||
	    memcmp(buf, data, sizeof(data) - 1) != 0) {
		not_ok(check, "content changed by rename");
		goto out;
	}
	if (unlinkat(dfd, a, 0) != 0) {
		not_ok(check, "unlink of the first name: %s", strerror(errno));
		goto out;
	}
	if (expect_nlink(check, "after unlinking the first name", c, 1) != 0) {
		goto out;
	}
	ok(check);
out:
	unlinkat(dfd, a, 0);
	unlinkat(dfd, b, 0);
	unlinkat(dfd, c, 0);
}

/* --- shared writable mmap ---------------------------------------------------------------- */

static void check_mmap_shared(void)
{
	const char *check = "mmap: MAP_SHARED writes reach the file";
	const size_t len = 64 * KIB + 123;
	char name[64];
	unsigned char *map = MAP_FAILED;
	unsigned char *back = NULL;
	int fd;

	tname(name, sizeof(name), "mmap");
	fd = create_file(name, "head", 4, 0644);
	if (fd < 0) {
		not_ok(check, "create: %s", strerror(errno));
		return;
	}
	back = malloc(len);
	if (!back) {
		not_ok(check, "out of memory");
		goto out;
	}
	if (ftruncate(fd, (off_t)len) != 0) {
		not_ok(check, "ftruncate: %s", strerror(errno));
		goto out;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		not_ok(check, "mmap(MAP_SHARED, PROT_WRITE): %s", strerror(errno));
		goto out;
	}
	if (memcmp(map, "head", 4) != 0) {
		not_ok(check, "the mapping does not show what write() wrote");
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		map[i] = (unsigned char)(i * 7 + 3);
	}
	if (msync(map, len, MS_SYNC) != 0) {
		not_ok(check, "msync: %s", strerror(errno));
		goto out;
	}
	munmap(map, len);
	map = MAP_FAILED;
	close(fd);
	fd = -1;
	if (read_file(name, (char *)back, len) != (ssize_t)len) {
		not_ok(check, "read back: short read or %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if (back[i] != (unsigned char)(i * 7 + 3)) {
			not_ok(check, "byte %zu read back as %u, want %u", i, back[i],
			       (unsigned char)(i * 7 + 3));
			goto out;
		}
	}
	ok(check);
out:
	if (map != MAP_FAILED) {
		munmap(map, len);
	}
	if (fd >= 0) {
		close(fd);
	}
	free(back);
	unlinkat(dfd, name, 0);
}

/* --- fallocate, holes -------------------------------------------------------------------- */

static int expect_seek(const char *check, int fd, off_t from, int whence, off_t want)
{
	off_t got = lseek(fd, from, whence);

	if (got != want) {
		return not_ok(check, "lseek(%lld, %s) = %lld (%s), want %lld", (long long)from,
		              whence == SEEK_HOLE ? "SEEK_HOLE" : "SEEK_DATA", (long long)got,
		              got < 0 ? strerror(errno) : "no error", (long long)want);
	}
	return 0;
}

static void check_fallocate(void)
{
	const char *check = "fallocate: punch hole, SEEK_HOLE/SEEK_DATA, preallocate";
	char name[64];
	char *buf = NULL;
	struct stat st;
	int fd;

	tname(name, sizeof(name), "falloc");
	buf = malloc(MIB);
	if (!buf) {
		not_ok(check, "out of memory");
		return;
	}
	memset(buf, 0xab, MIB);
	fd = create_file(name, buf, MIB, 0644);
	if (fd < 0) {
		not_ok(check, "create a 1 MiB file: %s", strerror(errno));
		free(buf);
		return;
	}
	if (fsync(fd) != 0) {
		not_ok(check, "fsync: %s", strerror(errno));
		goto out;
	}
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 256 * KIB, 256 * KIB) != 0) {
		not_ok(check, "fallocate(PUNCH_HOLE|KEEP_SIZE): %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || st.st_size != MIB) {
		not_ok(check, "size after punching: %lld, want %ld", (long long)st.st_size, MIB);
		goto out;
	}
	if (expect_seek(check, fd, 0, SEEK_HOLE, 256 * KIB) != 0 ||
	    expect_seek(check, fd, 256 * KIB, SEEK_HOLE, 256 * KIB) != 0 ||
	    expect_seek(check, fd, 256 * KIB, SEEK_DATA, 512 * KIB) != 0 ||
	    expect_seek(check, fd, 512 * KIB, SEEK_HOLE, MIB) != 0 ||
	    expect_seek(check, fd, 0, SEEK_DATA, 0) != 0) {
		goto out;
	}
	if (pread(fd, buf, MIB, 0) != MIB) {
		not_ok(check, "read back: %s", strerror(errno));
		goto out;
	}
	for (long i = 0; i < MIB; i++) {
		int in_hole = i >= 256 * KIB && i < 512 * KIB;

		if ((unsigned char)buf[i] != (in_hole ? 0 : 0xab)) {
			not_ok(check, "byte %ld is 0x%02x after punching, want 0x%02x", i,
			       (unsigned char)buf[i], in_hole ? 0 : 0xab);
			goto out;
		}
	}
	if (fallocate(fd, 0, MIB, MIB) != 0) {
		not_ok(check, "fallocate(0, 1 MiB, 1 MiB) to grow: %s", strerror(errno));
		goto out;
	}
	if (fstatat(dfd, name, &st, 0) != 0 || st.st_size != 2 * MIB) {
		not_ok(check, "size after preallocating: %lld, want %ld", (long long)st.st_size,
		       2 * MIB);
		goto out;
	}
	ok(check);
out:
	close(fd);
	free(buf);
	unlinkat(dfd, name, 0);
}

/* --- truncate ---------------------------------------------------------------------------- */

static int expect_size(const char *check, const char *what, const char *name, off_t want)
{
	struct stat st;

	if (fstatat(dfd, name, &st, 0) != 0) {
		return not_ok(check, "%s: stat: %s", what, strerror(errno));
	}
	if (st.st_size != want) {
		return not_ok(check, "%s: st_size %lld, want %lld", what, (long long)st.st_size,
		              (long long)want);
	}
	return 0;
}

static void check_truncate(void)
{
	const char *check = "truncate: grow and shrink";
	char name[64];
	char path[PATH_MAX];
	char data[100];
	char buf[128];
	int fd;

	tname(name, sizeof(name), "trunc");
	memset(data, 'z', sizeof(data));
	fd = create_file(name, data, sizeof(data), 0644);
	if (fd < 0) {
		not_ok(check, "create: %s", strerror(errno));
		return;
	}
	if (ftruncate(fd, MIB + 3) != 0) {
		not_ok(check, "ftruncate to grow: %s", strerror(errno));
		goto out;
	}
	if (expect_size(check, "after growing", name, MIB + 3) != 0) {
		goto out;
	}
	if (pread(fd, buf, 8, MIB - 5) != 8 || memcmp(buf, "\0\0\0\0\0\0\0\0", 8) != 0) {
		not_ok(check, "the grown tail does not read as zeros");
		goto out;
	}
	if (ftruncate(fd, 10) != 0) {
		not_ok(check, "ftruncate to shrink: %s", strerror(errno));
		goto out;
	}
	if (expect_size(check, "after shrinking", name, 10) != 0) {
		goto out;
	}
	if (pread(fd, buf, sizeof(buf), 0) != 10 || memcmp(buf, data, 10) != 0) {
		not_ok(check, "the shrunk file does not hold the first 10 bytes");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dpath, name);
	if (truncate(path, 5) != 0) {
		not_ok(check, "truncate(path): %s", strerror(errno));
		goto out;
	}
	if (expect_size(check, "after truncate(path)", name, 5) != 0) {
		goto out;
	}
	ok(check);
out:
	close(fd);
	unlinkat(dfd, name, 0);
}

/* --- credentials: children drop to 65534 ------------------------------------------------- */

/* Makes the calling (child) process uid/gid 65534 with the given supplementary groups. */
static int drop_to_nobody(const gid_t *groups, size_t ngroups)
{
	if (setgroups(ngroups, groups) != 0) {
		fprintf(stderr, "child: setgroups: %s\n", strerror(errno));
		return -1;
	}
	if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
		fprintf(stderr, "child: setgid/setuid: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Runs fn in a forked child; returns its exit status (or -1). */
static int in_child(int (*fn)(const char *), const char *name)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		_exit(fn(name));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status);
}

static int make_owned_file(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	int fd = create_file(name, "original\n", 9, 0600);

	if (fd < 0) {
		return -1;
	}
	/* chown first: it clears set-id bits, the chmod then sets them */
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, mode) != 0) {
		int e = errno;

		close(fd);
		unlinkat(dfd, name, 0);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int child_write(const char *name)
{
	static const gid_t groups[] = {NOBODY};
	int fd;

	if (drop_to_nobody(groups, 1) != 0) {
		return 10;
	}
	fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "child: open for writing as 65534: %s\n", strerror(errno));
		return 11;
	}
	if (write(fd, "changed!\n", 9) != 9) {
		fprintf(stderr, "child: write as 65534: %s\n", strerror(errno));
		close(fd);
		return 12;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "child: close: %s\n", strerror(errno));
		return 13;
	}
	return 0;
}

static void check_setid_cleared(void)
{
	const char *check = "suid-sgid: cleared when a non-root user writes";
	char name[64];
	struct stat st;
	int rc;

	tname(name, sizeof(name), "suid");
	if (geteuid() != 0) {
		not_ok(check, "needs root");
		return;
	}
	if (make_owned_file(name, NOBODY, NOBODY, 06755) != 0) {
		not_ok(check, "set up a 65534:65534 file with mode 6755: %s", strerror(errno));
		return;
	}
	if (fstatat(dfd, name, &st, 0) != 0 || (st.st_mode & 07777) != 06755) {
		not_ok(check, "set-up mode is %o, want 6755", (unsigned)(st.st_mode & 07777));
		goto out;
	}
	rc = in_child(child_write, name);
	if (rc != 0) {
		not_ok(check, "the unprivileged writer failed (child status %d)", rc);
		goto out;
	}
	if (fstatat(dfd, name, &st, 0) != 0) {
		not_ok(check, "stat after the write: %s", strerror(errno));
		goto out;
	}
	if ((st.st_mode & 07777) != 0755) {
		not_ok(check, "mode after the write is %o, want 755 (S_ISUID and S_ISGID cleared)",
		       (unsigned)(st.st_mode & 07777));
		goto out;
	}
	ok(check);
out:
	unlinkat(dfd, name, 0);
}

static int child_chgrp(const char *name)
{
	static const gid_t groups[] = {NOBODY, SUPP_GID};
	struct stat st;
	int fd;
	int rc = 0;

	if (drop_to_nobody(groups, 2) != 0) {
		return 10;
	}
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "child: open as 65534: %s\n", strerror(errno));
		return 11;
	}
	if (fchown(fd, (uid_t)-1, SUPP_GID) != 0) {
		fprintf(stderr, "child: fchown to supplementary group %d: %s\n", SUPP_GID,
		        strerror(errno));
		rc = 12;
	} else if (fstat(fd, &st) != 0 || st.st_gid != SUPP_GID) {
		fprintf(stderr, "child: gid after fchown is %ld, want %d\n", (long)st.st_gid,
		        SUPP_GID);
		rc = 13;
	} else if (fchown(fd, (uid_t)-1, OTHER_GID) == 0) {
		fprintf(stderr, "child: fchown to group %d (not a member) succeeded\n", OTHER_GID);
		rc = 14;
	} else if (errno != EPERM) {
		fprintf(stderr, "child: fchown to group %d: %s, want EPERM\n", OTHER_GID,
		        strerror(errno));
		rc = 15;
	}
	close(fd);
	return rc;
}

static void check_chgrp_supplementary(void)
{
	const char *check = "chown: owner may change to a supplementary group, not to others";
	char name[64];
	struct stat st;
	int rc;

	tname(name, sizeof(name), "chgrp");
	if (geteuid() != 0) {
		not_ok(check, "needs root");
		return;
	}
	if (make_owned_file(name, NOBODY, NOBODY, 0644) != 0) {
		not_ok(check, "set up a 65534:65534 file: %s", strerror(errno));
		return;
	}
	rc = in_child(child_chgrp, name);
	if (rc != 0) {
		not_ok(check, "the unprivileged owner failed (child status %d, see stderr)", rc);
		goto out;
	}
	if (fstatat(dfd, name, &st, 0) != 0) {
		not_ok(check, "stat: %s", strerror(errno));
		goto out;
	}
	if (st.st_uid != NOBODY || st.st_gid != SUPP_GID) {
		not_ok(check, "owner is %ld:%ld, want %d:%d", (long)st.st_uid, (long)st.st_gid,
		       NOBODY, SUPP_GID);
		goto out;
	}
	ok(check);
out:
	unlinkat(dfd, name, 0);
}

/* --- set-id bits after a write by another user, seen at once ----------------------------- */

/* The child's side: open NAME for writing as 65534 (not its owner), write, and see the
 * set-id bits gone at once through fstat of the same descriptor, then through stat. */
static int child_write_fstat(const char *name)
{
	static const gid_t groups[] = {NOBODY};
	struct stat st;
	int fd;
	int rc = 0;

	if (drop_to_nobody(groups, 1) != 0) {
		return 10;
	}
	fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "child: open for writing as 65534: %s\n", strerror(errno));
		return 11;
	}
	if (write(fd, "changed!\n", 9) != 9) {
		fprintf(stderr, "child: write as 65534: %s\n", strerror(errno));
		rc = 12;
	} else if (fstat(fd, &st) != 0 || (st.st_mode & 07777) != 0777) {
		fprintf(stderr,
		        "child: %s: fstat of the written descriptor shows mode %o, want 777\n",
		        name, (unsigned)(st.st_mode & 07777));
		rc = 13;
	} else if (fstatat(dfd, name, &st, 0) != 0 || (st.st_mode & 07777) != 0777) {
		fprintf(stderr, "child: %s: stat after the write shows mode %o, want 777\n", name,
		        (unsigned)(st.st_mode & 07777));
		rc = 14;
	}
	close(fd);
	return rc;
}

static void check_setid_write_fstat(void)
{
	const char *check =
	    "suid-sgid: a write by another user clears them, fstat and stat at once";
	static const mode_t modes[] = {04777, 02777, 06777};
	char name[64];
	struct stat st;
	int bad = 0;

	if (geteuid() != 0) {
		not_ok(check, "needs root");
		return;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && !bad; i++) {
		char tag[32];
		int rc;

		snprintf(tag, sizeof(tag), "setid%o", (unsigned)modes[i]);
		tname(name, sizeof(name), tag);
		if (make_owned_file(name, 0, 0, modes[i]) != 0) {
			bad = not_ok(check, "set up a root file with mode %o: %s",
			             (unsigned)modes[i], strerror(errno));
			break;
		}
		/* cache the attributes with the bits, as any earlier stat would */
		if (fstatat(dfd, name, &st, 0) != 0 || (st.st_mode & 07777) != modes[i]) {
			bad = not_ok(check, "set-up mode is %o, want %o",
			             (unsigned)(st.st_mode & 07777), (unsigned)modes[i]);
		} else if ((rc = in_child(child_write_fstat, name)) != 0) {
			bad = not_ok(check,
			             "mode %o: the writer (65534) saw the bits (child status %d, "
			             "see stderr)",
			             (unsigned)modes[i], rc);
		} else if (fstatat(dfd, name, &st, 0) != 0 || (st.st_mode & 07777) != 0777) {
			bad = not_ok(check,
			             "mode %o: the owner's stat shows %o after the write, want 777",
			             (unsigned)modes[i], (unsigned)(st.st_mode & 07777));
		}
		unlinkat(dfd, name, 0);
	}
	if (!bad) {
		ok(check);
	}
}

/* --- modes as asked, under the caller's umask -------------------------------------------- */

static mode_t cur_umask; /* the umask the checks run under (-u) */

/* Expect NAME (in DIRFD) to have exactly mode WANT (& ~umask unless a symlink) and owner UID. */
static int expect_mode(int dirfd, const char *name, const char *what, mode_t want, uid_t uid)
{
	struct stat st;

	if (strcmp(name, "l") != 0) {
		want &= ~cur_umask;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		fprintf(stderr, "%s: stat: %s\n", what, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777) != want || st.st_uid != uid) {
		fprintf(stderr, "%s: mode %04o owner %ld, want %04o owner %ld (umask %03o)\n", what,
		        (unsigned)(st.st_mode & 07777), (long)st.st_uid, (unsigned)want, (long)uid,
		        (unsigned)cur_umask);
		return -1;
	}
	return 0;
}

/* Creates every kind of entry in the folder DIR (below dfd) and checks each one's mode
 * and owner; removes them again. Returns the number of wrong ones. */
static int create_modes_in(const char *dir)
{
	uid_t uid = geteuid();
	int bad = 0;
	int d = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = -1;

	if (d < 0) {
		fprintf(stderr, "open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = {"f0620", "f4755", "f0777"};
		static const mode_t modes[] = {0620, 04755, 0777};

		fd = openat(d, names[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, modes[i]);
		if (fd < 0) {
			fprintf(stderr, "create %s: %s\n", names[i], strerror(errno));
			bad++;
			continue;
		}
		bad += expect_mode(d, names[i], names[i], modes[i], uid) != 0;
		close(fd);
	}
	bad +=
	    mkdirat(d, "d1777", 01777) != 0 || expect_mode(d, "d1777", "mkdir 01777", 01777, uid);
	bad += mkdirat(d, "d0775", 0775) != 0 || expect_mode(d, "d0775", "mkdir 0775", 0775, uid);
	bad += mkfifoat(d, "p0662", 0662) != 0 || expect_mode(d, "p0662", "mkfifo 0662", 0662, uid);
	bad += mknodat(d, "n0646", S_IFREG | 0646, 0) != 0 ||
	       expect_mode(d, "n0646", "mknod S_IFREG 0646", 0646, uid);
	bad += symlinkat("f0620", d, "l") != 0 ||
	       expect_mode(d, "l", "symlink", 0777, uid); /* always 0777 */
	for (const char *const *n =
	         (const char *const[]){"f0620", "f4755", "f0777", "p0662", "n0646", "l", NULL};
	     *n; n++) {
		unlinkat(d, *n, 0);
	}
	unlinkat(d, "d1777", AT_REMOVEDIR);
	unlinkat(d, "d0775", AT_REMOVEDIR);
	close(d);
	return bad;
}

static int child_create_modes(const char *dir)
{
	static const gid_t groups[] = {NOBODY};

	if (drop_to_nobody(groups, 1) != 0) {
		return 100;
	}
	return create_modes_in(dir);
}

static void check_create_modes(void)
{
	char check[128];
	char dir[64];
	int bad = 0;
	int rc;

	snprintf(check, sizeof(check),
	         "modes: create, mkdir, mkfifo, mknod, symlink keep the mode asked (umask %03o)",
	         (unsigned)cur_umask);
	tname(dir, sizeof(dir), "modes");
	if (mkdirat(dfd, dir, 0700) != 0 || fchmodat(dfd, dir, 0777, 0) != 0) {
		not_ok(check, "mkdir %s: %s", dir, strerror(errno));
		return;
	}
	rc = create_modes_in(dir);
	if (rc != 0) {
		bad = not_ok(check, "%d wrong as root (see stderr)", rc);
	}
	rc = geteuid() == 0 ? in_child(child_create_modes, dir) : 0;
	if (rc != 0 && !bad) {
		bad = not_ok(check, "%d wrong as 65534 (see stderr)", rc);
	}
	unlinkat(dfd, dir, AT_REMOVEDIR);
	if (!bad) {
		ok(check);
	}
}

/* --- an open, unlinked file -------------------------------------------------------------- */

static int unlinked_ops(const char *check, int fd)
{
	struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 5}, {.tv_sec = 1100000000}};
	struct stat st;

	if (fstat(fd, &st) != 0) {
		return not_ok(check, "fstat: %s", strerror(errno));
	}
	if (st.st_nlink != 0 || st.st_size != 6) {
		return not_ok(check, "fstat: nlink %ld size %lld, want 0 and 6", (long)st.st_nlink,
		              (long long)st.st_size);
	}
	if (fchmod(fd, 0640) != 0) {
		return not_ok(check, "fchmod: %s", strerror(errno));
	}
	if (fchown(fd, NOBODY, NOBODY) != 0) {
		return not_ok(check, "fchown: %s", strerror(errno));
	}
	if (futimens(fd, ts) != 0) {
		return not_ok(check, "futimens: %s", strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		return not_ok(check, "fstat after the changes: %s", strerror(errno));
	}
	if ((st.st_mode & 07777) != 0640 || st.st_uid != NOBODY || st.st_gid != NOBODY ||
	    st.st_atim.tv_sec != ts[0].tv_sec || st.st_atim.tv_nsec != ts[0].tv_nsec ||
	    st.st_mtim.tv_sec != ts[1].tv_sec || st.st_nlink != 0) {
		return not_ok(check,
		              "fstat after the changes: mode %o owner %ld:%ld atime %lld.%ld "
		              "mtime %lld nlink %ld",
		              (unsigned)(st.st_mode & 07777), (long)st.st_uid, (long)st.st_gid,
		              (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		              (long long)st.st_mtim.tv_sec, (long)st.st_nlink);
	}
	return 0;
}

static void check_unlinked_open(void)
{
	const char *check = "unlinked: fstat, fchmod, fchown, futimens on an open, unlinked file";
	char name[64];
	int fd;
	int fd2 = -1;

	tname(name, sizeof(name), "unlinked");
	fd = create_file(name, "hello\n", 6, 0644);
	if (fd < 0) {
		not_ok(check, "create: %s", strerror(errno));
		return;
	}
	/* opened again (the creating handle is another matter: reopen checks it), and a
	 * second, read-only open, both made before the unlink */
	close(fd);
	fd = openat(dfd, name, O_RDWR | O_CLOEXEC);
	fd2 = fd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd2 < 0 || unlinkat(dfd, name, 0) != 0) {
		not_ok(check, "open again and unlink: %s", strerror(errno));
		goto out;
	}
	if (unlinked_ops(check, fd) == 0 && unlinked_ops(check, fd2) == 0) {
		ok(check);
	}
out:
	if (fd2 >= 0) {
		close(fd2);
	}
	if (fd >= 0) {
		close(fd);
	}
	unlinkat(dfd, name, 0);
}

/* --- times of a symlink ------------------------------------------------------------------ */

static int mtime_of(const char *name, int flags, time_t want, const char *what, const char *check)
{
	struct stat st;

	if (fstatat(dfd, name, &st, flags) != 0) {
		return not_ok(check, "%s: stat: %s", what, strerror(errno));
	}
	if (st.st_mtim.tv_sec != want) {
		return not_ok(check, "%s: mtime %lld, want %lld", what,
		              (long long)st.st_mtim.tv_sec, (long long)want);
	}
	return 0;
}

static void check_symlink_times(void)
{
	const char *check =
	    "utimensat: AT_SYMLINK_NOFOLLOW sets the link's times, without it the target's";
	struct timespec t1[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	struct timespec t2[2] = {{.tv_sec = 1200000000}, {.tv_sec = 1200000000}};
	struct timespec t3[2] = {{.tv_sec = 1300000000}, {.tv_sec = 1300000000}};
	char target[64];
	char link[64];
	int fd;

	tname(target, sizeof(target), "lt-target");
	tname(link, sizeof(link), "lt-link");
	fd = create_file(target, "t", 1, 0644);
	if (fd < 0) {
		not_ok(check, "create: %s", strerror(errno));
		return;
	}
	close(fd);
	if (symlinkat(target, dfd, link) != 0 || utimensat(dfd, target, t1, 0) != 0) {
		not_ok(check, "set up: %s", strerror(errno));
		goto out;
	}
	if (utimensat(dfd, link, t2, AT_SYMLINK_NOFOLLOW) != 0) {
		not_ok(check, "utimensat(link, AT_SYMLINK_NOFOLLOW): %s", strerror(errno));
		goto out;
	}
	if (mtime_of(link, AT_SYMLINK_NOFOLLOW, t2[1].tv_sec, "the link after NOFOLLOW", check) ||
	    mtime_of(target, 0, t1[1].tv_sec, "the target after NOFOLLOW", check)) {
		goto out;
	}
	if (utimensat(dfd, link, t3, 0) != 0) {
		not_ok(check, "utimensat(link, 0): %s", strerror(errno));
		goto out;
	}
	if (mtime_of(link, AT_SYMLINK_NOFOLLOW, t2[1].tv_sec, "the link after following", check) ||
	    mtime_of(target, 0, t3[1].tv_sec, "the target after following", check)) {
		goto out;
	}
	ok(check);
out:
	unlinkat(dfd, link, 0);
	unlinkat(dfd, target, 0);
}

int main(int argc, char **argv)
{
	char *end = NULL;

	cur_umask = 022;
	while (argc >= 4 && (!strcmp(argv[1], "-u") || !strcmp(argv[1], "-l"))) {
		unsigned long val = strtoul(argv[2], &end, !strcmp(argv[1], "-u") ? 8 : 10);
		if (*end || (argv[1][1] == 'u' ? val > 0777 : val < 1 || val > 100000)) {
			argc = 0;
			break;
		}
		if (argv[1][1] == 'u') {
			cur_umask = (mode_t)val;
		} else {
			long_levels = (size_t)val;
			long_only = true;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: posix_checks [-u UMASK] [-l LEVELS] DIR\n");
		return 2;
	}
	dpath = argv[1];
	dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "posix_checks: %s: %s\n", dpath, strerror(errno));
		return 2;
	}
	umask(cur_umask);
	if (long_only) {
		check_long_path();
		close(dfd);
		printf("posix_checks: %s\n", failures ? "the long-path check failed" : "passed");
		return failures ? 1 : 0;
	}
	check_name_max();
	check_deep_path();
	check_long_path();
	check_links();
	check_mmap_shared();
	check_fallocate();
	check_truncate();
	check_setid_cleared();
	check_setid_write_fstat();
	check_chgrp_supplementary();
	check_create_modes();
	check_unlinked_open();
	check_symlink_times();
	close(dfd);
	if (failures) {
		printf("posix_checks: %d check(s) failed\n", failures);
		return 1;
	}
	printf("posix_checks: all checks passed\n");
	return 0;
}
