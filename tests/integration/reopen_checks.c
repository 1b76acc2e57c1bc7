/* reopen_checks.c -- a file reopened while it is open: by path, through /proc/self/fd, locked.
 *
 * usage: reopen_checks reopen VIEWDIR FROMDIR TODIR
 *        reopen_checks moves VIEWDIR FROMDIR TODIR ROUNDS [SETTLE_MS]
 *        reopen_checks offline VIEWDIR DRIVEDIR DRIVEMOUNT passthrough|served
 * "reopen": creates VIEWDIR/<name> (it must land in FROMDIR, a drive's folder behind VIEWDIR)
 * and keeps the creating descriptor open, then opens the file again as smbd and lock users
 * do: by path, O_PATH + /proc/self/fd for reading and for writing, the creator's own fd
 * through /proc/self/fd, conflicting POSIX locks from a second process and OFD locks; then
 * "moves" the file to another drive (new bytes in TODIR, the old one unlinked from FROMDIR)
 * and checks a path open sees the new file while a reopen of the old descriptor sees the old.
 * "moves": ROUNDS times (at most 10000) the move alone, counted: create through the view and keep
 * open, move outside, wait for the new size, then O_PATH + /proc reopen and a path open must
 * read the new file and a /proc reopen of the creator's descriptor the old one (a race: the
 * view's name for the old file must be gone before stat shows the new one). FROMDIR ==
 * TODIR: the file is replaced on its drive (temp + rename over it) instead. SETTLE_MS: each
 * round waits that long after the create and stats the path before it writes and moves (the
 * kernel has the name's entry again, so the stat after the move asks GETATTR of the old node).
 * "offline": opens a file of DRIVEDIR through the view, lazily unmounts DRIVEMOUNT, and checks
 * every handle operation fails with EIO (read and write only when daemon-served).
 * Prints "ok - NAME" or "not ok - NAME: detail"; exits 1 if any failed, 2 on bad usage.
 * Single-threaded; the lock checks fork one child at a time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OLD_TAIL  "ld-bytes-of-the-created-file\n"
#define OLD_BYTES "o" OLD_TAIL
#define NEW_BYTES "NEW bytes, and more, on the other drive\n" /* another size */
#define WAIT_MS   10000 /* a change made on a drive shows in the view within this */

static int failures;

static void ok(const char *check)
{
	printf("ok - %s\n", check);
	fflush(stdout);
}

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

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* open("/proc/self/fd/FD", FLAGS), as smbd does it for every file */
static int proc_reopen(int fd, int flags)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, flags | O_CLOEXEC);
}

/* The first LEN bytes of FD at offset 0 equal WANT. */
static bool reads(int fd, const char *want)
{
	char buf[128] = {0};
	size_t len = strlen(want);

	return pread(fd, buf, len, 0) == (ssize_t)len && memcmp(buf, want, len) == 0;
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, cmd, &fl) == 0 ? 0 : -errno;
}

static bool conflict(int rc)
{
	return rc == -EAGAIN || rc == -EACCES;
}

/* ---- reopen --------------------------------------------------------------------------- */

/* Open PATH again (by path, O_PATH + /proc reopen for reading and writing, and the creator's
 * descriptor A through /proc): every one is the same file as A. */
static void check_reopens(const char *path, int a)
{
	struct stat sa;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int p = -1;

	fstat(a, &sa);
	if (fd < 0) {
		not_ok("open by path while the creator holds it", "%s", strerror(errno));
	} else if (fstat(fd, &sb) != 0 || sb.st_ino != sa.st_ino || !reads(fd, OLD_BYTES)) {
		not_ok("open by path while the creator holds it", "another file (st_ino %ju vs %ju)",
		       (uintmax_t)sb.st_ino, (uintmax_t)sa.st_ino);
	} else {
		ok("open by path while the creator holds it: same st_ino, same bytes");
	}
	if (fd >= 0) {
		close(fd);
	}
	p = open(path, O_PATH | O_CLOEXEC);
	fd = p < 0 ? -1 : proc_reopen(p, O_RDONLY);
	if (fd < 0 || !reads(fd, OLD_BYTES)) {
		not_ok("O_PATH + /proc/self/fd reopen for reading", "%s",
		       fd < 0 ? strerror(errno) : "wrong bytes");
	} else {
		ok("O_PATH + /proc/self/fd reopen for reading");
	}
	if (fd >= 0) {
		close(fd);
	}
	fd = p < 0 ? -1 : proc_reopen(p, O_RDWR);
	if (fd < 0) {
		not_ok("O_PATH + /proc/self/fd reopen for writing", "%s", strerror(errno));
	} else if (pwrite(fd, "0", 1, 0) != 1 || !reads(a, "0" OLD_TAIL)) {
		not_ok("O_PATH + /proc/self/fd reopen for writing", "a write not seen by the creator");
	} else {
		ok("O_PATH + /proc/self/fd reopen for writing: the creator sees the write");
	}
	if (pwrite(a, "o", 1, 0) != 1) {
		not_ok("restore the first byte", "%s", strerror(errno));
	}
	if (fd >= 0) {
		close(fd);
	}
	if (p >= 0) {
		close(p);
	}
	fd = proc_reopen(a, O_RDWR);
	if (fd < 0 || !reads(fd, OLD_BYTES)) {
		not_ok("/proc/self/fd reopen of the creating descriptor", "%s",
		       fd < 0 ? strerror(errno) : "wrong bytes");
	} else {
		ok("/proc/self/fd reopen of the creating descriptor");
	}
	if (fd >= 0) {
		close(fd);
	}
}

/* In a child: each way of opening the file must meet the parent's write lock on [0,100). */
static int child_locks(const char *path, int a, bool by_path)
{
	int bad = 0;
	int fd = by_path ? open(path, O_RDWR | O_CLOEXEC) : -1;
	int p = by_path ? open(path, O_PATH | O_CLOEXEC) : -1;
	int r = p >= 0 ? proc_reopen(p, O_RDWR) : -1;
	int ra = proc_reopen(a, O_RDONLY);
	int rc = 0;

	if (by_path && (fd < 0 || !conflict(rc = lock(fd, F_SETLK, F_WRLCK, 0, 100)))) {
		printf("#   child: open by path: %s\n", fd < 0 ? strerror(errno) : strerror(-rc));
		bad++;
	}
	if (by_path && (r < 0 || !conflict(rc = lock(r, F_SETLK, F_WRLCK, 10, 10)))) {
		printf("#   child: O_PATH + /proc reopen: %s\n", r < 0 ? strerror(errno) : strerror(-rc));
		bad++;
	}
	if (ra < 0 || !conflict(rc = lock(ra, F_SETLK, F_RDLCK, 50, 1))) {
		printf("#   child: /proc reopen of the creator's fd: %s\n",
		       ra < 0 ? strerror(errno) : strerror(-rc));
		bad++;
	}
	fflush(stdout);
	return bad;
}

static void check_posix_locks(const char *path, int a, bool by_path, const char *check)
{
	int status = 0;
	pid_t pid = -1;

	if (lock(a, F_SETLK, F_WRLCK, 0, 100) < 0) {
		not_ok(check, "the creator's own lock: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		_exit(child_locks(path, a, by_path));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		not_ok(check, "a second process was granted a conflicting lock (%d way(s))",
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else {
		ok(check);
	}
	lock(a, F_SETLK, F_UNLCK, 0, 0);
}

static void check_ofd_locks(const char *path, int a)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int rc = 0;

	if (lock(a, F_OFD_SETLK, F_WRLCK, 200, 100) < 0) {
		not_ok("OFD locks", "the creator's own lock: %s", strerror(errno));
	} else if (fd < 0 || !conflict(rc = lock(fd, F_OFD_SETLK, F_WRLCK, 250, 1))) {
		not_ok("OFD locks", "a second open file description: %s",
		       fd < 0 ? strerror(errno) : rc == 0 ? "granted" : strerror(-rc));
	} else {
		ok("OFD lock of the creator conflicts with a second open file description");
	}
	lock(a, F_OFD_SETLK, F_UNLCK, 0, 0);
	if (fd >= 0) {
		close(fd);
	}
}

/* Put NEW_BYTES under NAME in TODIR (temp + rename) and unlink it from FROMDIR (unless
 * it is TODIR: then the file was replaced on its drive). */
static int move_outside(const char *name, const char *fromdir, const char *todir)
{
	char path[4096];
	char tmp[4096];
	int fd = -1;

	snprintf(tmp, sizeof(tmp), "%s/.moving-%d", todir, (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", todir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, NEW_BYTES, strlen(NEW_BYTES)) != (ssize_t)strlen(NEW_BYTES) ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		return -errno;
	}
	if (strcmp(fromdir, todir) == 0) {
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", fromdir, name);
	return unlink(path) == 0 ? 0 : -errno;
}

/* stat of PATH shows the new file's size within WAIT_MS (the view learns of changes on
 * drives). Nothing opens it before: the first open after the move must be right. */
static bool wait_new_size(const char *path)
{
	struct stat st;

	for (long ms = 0; ms < WAIT_MS; ms += 20) {
		if (stat(path, &st) == 0 && st.st_size == (off_t)strlen(NEW_BYTES)) {
			return true;
		}
		sleep_ms(20);
	}
	return false;
}

static void check_after_move(const char *path, const char *name, const char *from, const char *to,
                             int a)
{
	int rc = move_outside(name, from, to);
	int fd = -1;
	int p = -1;

	if (rc < 0) {
		not_ok("move to another drive", "%s", strerror(-rc));
		return;
	}
	if (!wait_new_size(path)) {
		not_ok("after the move: stat", "not the new size within %d ms", WAIT_MS);
		return;
	}
	/* smbd's way first: O_PATH by name, then the reopen */
	p = open(path, O_PATH | O_CLOEXEC);
	fd = p < 0 ? -1 : proc_reopen(p, O_RDONLY);
	if (fd < 0 || !reads(fd, NEW_BYTES)) {
		not_ok("after the move: O_PATH by path + /proc reopen", "%s",
		       fd < 0 ? strerror(errno) : "not the new file");
	} else {
		ok("after the move: O_PATH by path + /proc reopen reads the new file");
	}
	if (fd >= 0) {
		close(fd);
	}
	if (p >= 0) {
		close(p);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !reads(fd, NEW_BYTES)) {
		not_ok("after the move: a path open", "%s",
		       fd < 0 ? strerror(errno) : "not the new file");
	} else {
		ok("after the move: a path open reads the other drive's file");
	}
	if (fd >= 0) {
		close(fd);
	}
	fd = proc_reopen(a, O_RDONLY);
	if (fd < 0 || !reads(fd, OLD_BYTES)) {
		not_ok("after the move: /proc reopen of the old descriptor for reading", "%s",
		       fd < 0 ? strerror(errno) : "not the file the descriptor has open");
	} else {
		ok("after the move: /proc reopen of the old descriptor for reading: its own file");
	}
	if (fd >= 0) {
		close(fd);
	}
	fd = proc_reopen(a, O_RDWR);
	if (fd < 0 || pwrite(fd, "O", 1, 0) != 1 || !reads(a, "O" OLD_TAIL)) {
		not_ok("after the move: /proc reopen of the old descriptor for writing", "%s",
		       fd < 0 ? strerror(errno) : "the write did not reach the descriptor's file");
	} else {
		ok("after the move: /proc reopen of the old descriptor for writing: its own file");
	}
	if (fd >= 0) {
		close(fd);
	}
	check_posix_locks(path, a, false, "after the move: a reopen of the old descriptor in a "
	                                  "second process meets the creator's lock");
}

static int run_reopen(const char *dir, const char *from, const char *to)
{
	char name[64];
	char path[4096];
	char drive[4096];
	int a = -1;
	struct stat st;

	snprintf(name, sizeof(name), "reopen-%d.bin", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(drive, sizeof(drive), "%s/%s", from, name);
	a = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (a < 0 || pwrite(a, OLD_BYTES, strlen(OLD_BYTES), 0) != (ssize_t)strlen(OLD_BYTES)) {
		not_ok("create", "%s", strerror(errno));
		return 1;
	}
	if (stat(drive, &st) != 0) {
		not_ok("create", "not on the first drive (%s): %s", drive, strerror(errno));
	}
	check_reopens(path, a);
	check_posix_locks(path, a, true, "POSIX lock of the creator meets a second process "
	                                 "(by path, O_PATH + /proc, /proc of the creator's fd)");
	check_ofd_locks(path, a);
	check_after_move(path, name, from, to, a);
	close(a);
	unlink(path);
	return failures ? 1 : 0;
}

/* Print why check WHAT of round NAME failed (the open's errno, or the inode, size and first
 * bytes it has; FROM: the descriptor it was reopened from, or -1); returns BIT. */
static int explain(const char *name, const char *what, int from, int fd, int bit)
{
	int err = errno;
	char buf[8] = {0};
	struct stat sf = {0};
	struct stat sd = {0};

	if (from >= 0) {
		fstat(from, &sf);
	}
	if (fd < 0) {
		printf("# %s: %s: %s (from ino %ju)\n", name, what, strerror(err), (uintmax_t)sf.st_ino);
	} else {
		fstat(fd, &sd);
		ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
		printf("# %s: %s: ino %ju (from %ju) size %jd reads %zd \"%s\"\n", name, what,
		       (uintmax_t)sd.st_ino, (uintmax_t)sf.st_ino, (intmax_t)sd.st_size, got, buf);
	}
	return bit;
}

/* One round of "moves" in VIEWDIR (file PATH, NAME): 0, or a bit per check that failed. */
static int move_round(const char *path, const char *name, const char *from, const char *to,
                      long settle_ms)
{
	int bad = 0;
	int a = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int p = -1;
	int fd = -1;
	struct stat st = {0};

	if (settle_ms > 0) {
		sleep_ms(settle_ms);
		stat(path, &st);
	}
	int rc = a < 0 || pwrite(a, OLD_BYTES, strlen(OLD_BYTES), 0) != (ssize_t)strlen(OLD_BYTES)
	             ? -errno
	             : move_outside(name, from, to);

	if (rc < 0 || !wait_new_size(path)) {
		stat(path, &st);
		printf("# %s: %s (size %jd)\n", name, rc < 0 ? strerror(-rc) : "not the new size",
		       (intmax_t)st.st_size);
		bad = 1;
		goto out;
	}
	p = open(path, O_PATH | O_CLOEXEC);
	fd = p < 0 ? -1 : proc_reopen(p, O_RDONLY);
	bad |= fd < 0 || !reads(fd, NEW_BYTES) ? explain(name, "O_PATH + /proc", p, fd, 2) : 0;
	if (fd >= 0) {
		close(fd);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	bad |= fd < 0 || !reads(fd, NEW_BYTES) ? explain(name, "path open", -1, fd, 4) : 0;
	if (fd >= 0) {
		close(fd);
	}
	fd = proc_reopen(a, O_RDONLY);
	bad |= fd < 0 || !reads(fd, OLD_BYTES) ? explain(name, "old fd reopen", a, fd, 8) : 0;
	if (fd >= 0) {
		close(fd);
	}
out:
	if (p >= 0) {
		close(p);
	}
	if (a >= 0) {
		close(a);
	}
	unlink(path);
	return bad;
}

static int run_moves(const char *dir, const char *from, const char *to, const char *rounds,
                     const char *settle)
{
	static const char *what[] = {"setup (create, move, new size within the wait)",
	                             "O_PATH by path + /proc reopen: not the new file",
	                             "a path open: not the new file",
	                             "/proc reopen of the old descriptor: not its own file"};
	unsigned counts[4] = {0};
	char name[64];
	char path[4096];
	long n = strtol(rounds, NULL, 10);
	long settle_ms = settle ? strtol(settle, NULL, 10) : 0;
	struct timespec t0;
	struct timespec t1;

	if (n < 1 || n > 10000) {
		return not_ok("moves", "ROUNDS %s: want 1..10000", rounds), 2;
	}
	if (settle_ms < 0 || settle_ms > 1000) {
		return not_ok("moves", "SETTLE_MS %s: want 0..1000", settle), 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "move-%d-%ld.bin", (int)getpid(), i);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		int bad = move_round(path, name, from, to, settle_ms);
		for (int b = 0; b < 4; b++) {
			counts[b] += (bad >> b) & 1;
		}
		if (bad & 1) {
			n = i + 1; /* each may wait WAIT_MS: stop at the first */
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# moves: %ld rounds in %.1f s\n", n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (int b = 0; b < 4; b++) {
		if (counts[b]) {
			not_ok("moves", "%u of %ld rounds: %s", counts[b], n, what[b]);
		}
	}
	if (!failures) {
		ok("moves: every round read the new file by path and the old one by the old fd");
	}
	return failures ? 1 : 0;
}

/* ---- offline -------------------------------------------------------------------------- */

static void expect_eio(const char *what, int rc)
{
	if (rc == -EIO) {
		ok(what);
	} else {
		not_ok(what, "%s, want EIO", rc == 0 ? "succeeded" : strerror(-rc));
	}
}

static int run_offline(const char *dir, const char *drive, const char *mnt, bool passthrough)
{
	char path[4096];
	char buf[16];
	int fd = -1;
	int rc = 0;
	long ms = 0;

	snprintf(path, sizeof(path), "%s/offline-%d.bin", drive, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, OLD_BYTES, strlen(OLD_BYTES)) < 0 || close(fd) != 0) {
		return not_ok("offline: setup", "%s: %s", path, strerror(errno)), 1;
	}
	snprintf(path, sizeof(path), "%s/offline-%d.bin", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		return not_ok("offline: open through the view", "%s", strerror(errno)), 1;
	}
	if (umount2(mnt, MNT_DETACH) != 0) {
		return not_ok("offline: umount -l", "%s: %s", mnt, strerror(errno)), 1;
	}
	/* the view publishes the drive's loss asynchronously: until then fsync still works
	 * (and never fails if handles ignore it: the checks below then fail) */
	for (ms = 0; ms < WAIT_MS && fsync(fd) == 0; ms += 20) {
		sleep_ms(20);
	}
	expect_eio("offline: fsync", fsync(fd) == 0 ? 0 : -errno);
	expect_eio("offline: fdatasync", fdatasync(fd) == 0 ? 0 : -errno);
	expect_eio("offline: fallocate", fallocate(fd, 0, 0, 8192) == 0 ? 0 : -errno);
	expect_eio("offline: lseek SEEK_DATA", lseek(fd, 0, SEEK_DATA) >= 0 ? 0 : -errno);
	expect_eio("offline: ftruncate", ftruncate(fd, 4) == 0 ? 0 : -errno);
	expect_eio("offline: fchmod", fchmod(fd, 0600) == 0 ? 0 : -errno);
	expect_eio("offline: futimens", futimens(fd, NULL) == 0 ? 0 : -errno);
	if (!passthrough) {
		expect_eio("offline: pwrite (daemon-served)", pwrite(fd, "x", 1, 0) == 1 ? 0 : -errno);
		expect_eio("offline: pread (daemon-served)",
		           pread(fd, buf, sizeof(buf), 0) >= 0 ? 0 : -errno);
	} else {
		/* the kernel writes the backing file itself: what the README says */
		rc = pwrite(fd, "x", 1, 0) == 1 ? 0 : -errno;
		printf("# passthrough: pwrite on the lazily unmounted drive: %s\n",
		       rc == 0 ? "succeeded (the detached filesystem)" : strerror(-rc));
	}
	printf("# fsync failed %ld ms after the umount\n", ms);
	close(fd);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "reopen") == 0) {
		return run_reopen(argv[2], argv[3], argv[4]);
	}
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "moves") == 0) {
		return run_moves(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	}
	if (argc == 6 && strcmp(argv[1], "offline") == 0) {
		return run_offline(argv[2], argv[3], argv[4], strcmp(argv[5], "passthrough") == 0);
	}
	fprintf(stderr, "usage: reopen_checks reopen VIEWDIR FROMDIR TODIR\n"
	                "       reopen_checks moves VIEWDIR FROMDIR TODIR ROUNDS [SETTLE_MS]\n"
	                "       reopen_checks offline VIEWDIR DRIVEDIR DRIVEMOUNT "
	                "passthrough|served\n");
	return 2;
}
