/* bhelper.c -- the timed workloads of bench/run.sh, one small program.
 *
 * Each timed mode prints one line "COUNT NANOSECONDS" on stdout (COUNT is
 * bytes, entries, files or lookups) and exits 0, or prints why on stderr and
 * exits 1; the clock is CLOCK_MONOTONIC around the work only (no process
 * start-up). The set-up modes (fill, mktree) create the data; `idle` waits for
 * a quiet machine. Not part of the product; single-threaded except `storm`,
 * which forks its readers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1024 * 1024)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "bhelper: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

/* fill FILE BYTES: pseudo-random, incompressible content (xorshift64). */
static int do_fill(const char *path, long long bytes)
{
	uint64_t *buf = malloc(BUF_SIZE);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || !buf) {
		return fail("cannot create", path);
	}
	for (long long done = 0; done < bytes;) {
		size_t n = bytes - done < BUF_SIZE ? (size_t)(bytes - done) : BUF_SIZE;
		for (size_t i = 0; i < BUF_SIZE / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		if (write(fd, buf, n) != (ssize_t)n) {
			return fail("cannot write", path);
		}
		done += (long long)n;
	}
	free(buf);
	return close(fd) == 0 ? 0 : fail("cannot close", path);
}

/* mktree ROOT NDIRS NPER SIZE: ROOT/dNNN/fNNNNN, SIZE bytes each. */
static int do_mktree(const char *root, int ndirs, int nper, int size)
{
	char path[4096];
	char *data = calloc(1, (size_t)size + 1);

	memset(data, 'x', (size_t)size);
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		return fail("cannot mkdir", root);
	}
	for (int d = 0; d < ndirs; d++) {
		snprintf(path, sizeof(path), "%s/d%03d", root, d);
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			return fail("cannot mkdir", path);
		}
		for (int f = 0; f < nper; f++) {
			snprintf(path, sizeof(path), "%s/d%03d/f%05d", root, d, f);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || (size > 0 && write(fd, data, (size_t)size) != size)) {
				return fail("cannot write", path);
			}
			close(fd);
		}
	}
	free(data);
	return 0;
}

static long long read_all(const char *path, char *buf)
{
	long long total = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		return -1;
	}
	while ((n = read(fd, buf, BUF_SIZE)) > 0) {
		total += n;
	}
	close(fd);
	return n < 0 ? -1 : total;
}

/* read FILE: sequential, 1 MiB reads (as dd bs=1M). */
static int do_read(const char *path)
{
	char *buf = malloc(BUF_SIZE);
	uint64_t t0 = now_ns();
	long long n = read_all(path, buf);
	uint64_t t1 = now_ns();

	if (n < 0) {
		return fail("cannot read", path);
	}
	printf("%lld %llu\n", n, (unsigned long long)(t1 - t0));
	free(buf);
	return 0;
}

/* storm N FILE: N processes open and read FILE at once; wall time of all. */
static int do_storm(int nproc, const char *path)
{
	int gate[2];
	int res[2];
	long long total = 0;
	uint64_t t0 = 0;

	if (pipe(gate) < 0 || pipe(res) < 0) {
		return fail("cannot make a pipe", "");
	}
	for (int i = 0; i < nproc; i++) {
		if (fork() == 0) {
			char c = 0;
			char *buf = malloc(BUF_SIZE);
			close(gate[1]);
			(void)!read(gate[0], &c, 1); /* returns 0 when the parent opens the gate */
			long long n = read_all(path, buf);
			(void)!write(res[1], &n, sizeof(n));
			_exit(n < 0 ? 1 : 0);
		}
	}
	close(gate[0]);
	close(res[1]);
	usleep(50000); /* let every child reach the gate */
	t0 = now_ns();
	close(gate[1]);
	for (int i = 0; i < nproc; i++) {
		int st = 0;
		wait(&st);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			return fail("a reader failed on", path);
		}
	}
	uint64_t t1 = now_ns();
	for (long long n = 0; read(res[0], &n, sizeof(n)) == sizeof(n);) {
		total += n;
	}
	printf("%lld %llu\n", total, (unsigned long long)(t1 - t0));
	return 0;
}

/* Every entry below DIRFD: readdir, then lstat (fstatat NOFOLLOW) each one, as find -printf %s. */
static long walk_dir(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e = NULL;
	long count = 0;

	if (!d) {
		close(dirfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			closedir(d);
			return -1;
		}
		count++;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			long n = sub < 0 ? -1 : walk_dir(sub);
			if (n < 0) {
				closedir(d);
				return -1;
			}
			count += n;
		}
	}
	closedir(d);
	return count;
}

static int do_walk(const char *root)
{
	uint64_t t0 = now_ns();
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	long n = fd < 0 ? -1 : walk_dir(fd);
	uint64_t t1 = now_ns();

	if (n < 0) {
		return fail("cannot walk", root);
	}
	printf("%ld %llu\n", n, (unsigned long long)(t1 - t0));
	return 0;
}

/* openread ROOT NDIRS NPER: open + read + close of ROOT/dNNN/fNNNNN, by path from ROOT. */
static int do_openread(const char *root, int ndirs, int nper)
{
	char buf[65536];
	char name[64];
	int rootfd = open(root, O_RDONLY | O_DIRECTORY);
	long files = 0;
	uint64_t t0 = now_ns();

	if (rootfd < 0) {
		return fail("cannot open", root);
	}
	for (int d = 0; d < ndirs; d++) {
		for (int f = 0; f < nper; f++) {
			snprintf(name, sizeof(name), "d%03d/f%05d", d, f);
			int fd = openat(rootfd, name, O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) {
				return fail("cannot read", name);
			}
			close(fd);
			files++;
		}
	}
	uint64_t t1 = now_ns();
	printf("%ld %llu\n", files, (unsigned long long)(t1 - t0));
	close(rootfd);
	return 0;
}

/* neg DIR N TAG: N lstat()s of distinct names that do not exist in DIR. */
static int do_neg(const char *dir, int n, const char *tag)
{
	char name[128];
	struct stat st;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	uint64_t t0 = now_ns();

	if (dirfd < 0) {
		return fail("cannot open", dir);
	}
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "missing-%s-%06d.wim", tag, i);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
			return fail("unexpected answer for", name);
		}
	}
	uint64_t t1 = now_ns();
	printf("%d %llu\n", n, (unsigned long long)(t1 - t0));
	close(dirfd);
	return 0;
}

static int cpu_times(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	                   &v[3], &v[4], &v[5], &v[6], &v[7])
	          : 0;

	if (f) {
		fclose(f);
	}
	if (n < 8) {
		return -1;
	}
	*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* user nice system irq softirq steal */
	*total = *busy + v[3] + v[4];                    /* + idle iowait */
	return 0;
}

/* idle PCT MAX_MS: wait until the CPUs were at most PCT % busy over 200 ms (at most MAX_MS);
 * prints the last busy percentage. Other work on the machine skews every sample. */
static int do_idle(int pct, int max_ms)
{
	unsigned long long b0 = 0, t0 = 0, b1 = 0, t1 = 0;
	int busy = 100;

	for (int waited = 0; waited <= max_ms; waited += 200) {
		if (cpu_times(&b0, &t0) < 0) {
			return fail("cannot read", "/proc/stat");
		}
		usleep(200000);
		if (cpu_times(&b1, &t1) < 0) {
			return fail("cannot read", "/proc/stat");
		}
		busy = t1 > t0 ? (int)((b1 - b0) * 100 / (t1 - t0)) : 0;
		if (busy <= pct) {
			break;
		}
	}
	printf("%d\n", busy);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (strcmp(m, "fill") == 0 && argc == 4) {
		return do_fill(argv[2], atoll(argv[3]));
	}
	if (strcmp(m, "mktree") == 0 && argc == 6) {
		return do_mktree(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	}
	if (strcmp(m, "read") == 0 && argc == 3) {
		return do_read(argv[2]);
	}
	if (strcmp(m, "storm") == 0 && argc == 4) {
		return do_storm(atoi(argv[2]), argv[3]);
	}
	if (strcmp(m, "walk") == 0 && argc == 3) {
		return do_walk(argv[2]);
	}
	if (strcmp(m, "openread") == 0 && argc == 5) {
		return do_openread(argv[2], atoi(argv[3]), atoi(argv[4]));
	}
	if (strcmp(m, "neg") == 0 && argc == 5) {
		return do_neg(argv[2], atoi(argv[3]), argv[4]);
	}
	if (strcmp(m, "idle") == 0 && argc == 4) {
		return do_idle(atoi(argv[2]), atoi(argv[3]));
	}
	fprintf(stderr,
	        "usage: bhelper fill FILE BYTES | mktree ROOT NDIRS NPER SIZE | read FILE |\n"
	        "       storm N FILE | walk ROOT | openread ROOT NDIRS NPER | neg DIR N TAG\n");
	return 2;
}
