/* rename_stress.c -- the write-a-temporary-then-rename pattern of distribution tools, raced.
 *
 * usage: rename_stress DIR CLIENTS RENAMES SECONDS [LISTERS]
 *
 * CLIENTS processes, each in its own folder DIR/cN (made here), loop: create a temporary
 * name, write a tag, close, rename it to a final name (one of 8, so most renames replace an
 * older file), then stat and open the final name and read the tag back. Any ENOENT (or any
 * other failure) of the stat or the open right after the rename is an error; the name is then
 * polled (every 10 ms, up to 3 s) to report how long it stayed missing. LISTERS more processes
 * list the client folders meanwhile (as a file manager or Samba would). Stops after RENAMES
 * renames in all or after SECONDS, whichever comes first; prints what it did. Exit status: 0
 * when every rename was followed by a good stat and open, 1 otherwise, 2 on bad usage or setup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define N_FINAL 8

struct shared {
	atomic_long renames;  /* renames done, all clients */
	atomic_long failures; /* stat/open failures right after a rename */
	atomic_long enoent;   /* of which ENOENT */
	atomic_long listings;
	atomic_long worst_ms; /* longest time a renamed name stayed missing */
	atomic_int stop;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The final name is missing right after its rename: how long until it shows (ms), -1 never. */
static long missing_for(const char *path)
{
	double t0 = now_s();
	struct stat st;

	for (int i = 0; i < 300; i++) {
		if (stat(path, &st) == 0) {
			return (long)((now_s() - t0) * 1000);
		}
		usleep(10000);
	}
	return -1;
}

static void report(struct shared *sh, const char *what, const char *path, int err)
{
	long ms = -1;

	atomic_fetch_add(&sh->failures, 1);
	if (err == ENOENT) {
		atomic_fetch_add(&sh->enoent, 1);
		ms = missing_for(path);
		long worst = atomic_load(&sh->worst_ms);
		while (ms > worst && !atomic_compare_exchange_weak(&sh->worst_ms, &worst, ms)) {
		}
	}
	fprintf(stderr, "rename_stress: %s %s after its rename: %s (missing for %ld ms)\n", what,
	        path, strerror(err), ms);
}

/* One iteration: 0, or 1 after a failure was reported. */
static int one(struct shared *sh, const char *dir, long j)
{
	char tmp[4200];
	char fin[4200];
	char tag[64];
	char back[64];
	struct stat st;
	int len = snprintf(tag, sizeof(tag), "%.20s %ld\n", strrchr(dir, '/') + 1, j);
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), "%s/.tmp%ld.part", dir, j) >= (int)sizeof(tmp) ||
	    snprintf(fin, sizeof(fin), "%s/final%ld.wim", dir, j % N_FINAL) >= (int)sizeof(fin)) {
		atomic_fetch_add(&sh->failures, 1);
		return 1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, tag, (size_t)len) != len || close(fd) < 0) {
		fprintf(stderr, "rename_stress: create %s: %s\n", tmp, strerror(errno));
		atomic_fetch_add(&sh->failures, 1);
		return 1;
	}
	if (rename(tmp, fin) < 0) {
		fprintf(stderr, "rename_stress: rename %s: %s\n", tmp, strerror(errno));
		atomic_fetch_add(&sh->failures, 1);
		return 1;
	}
	atomic_fetch_add(&sh->renames, 1);
	if (stat(fin, &st) < 0) {
		report(sh, "stat", fin, errno);
		return 1;
	}
	fd = open(fin, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		report(sh, "open", fin, errno);
		return 1;
	}
	ssize_t got = read(fd, back, sizeof(back));
	close(fd);
	if (got != len || memcmp(back, tag, (size_t)len) != 0) {
		fprintf(stderr, "rename_stress: %s reads %zd bytes, not the %d just written\n", fin,
		        got, len);
		atomic_fetch_add(&sh->failures, 1);
		return 1;
	}
	return 0;
}

static void client(struct shared *sh, const char *dir, long max, double until)
{
	for (long j = 0; !atomic_load(&sh->stop) && now_s() < until; j++) {
		if (atomic_load(&sh->renames) >= max) {
			break;
		}
		if (one(sh, dir, j) != 0 && atomic_load(&sh->failures) > 20) {
			atomic_store(&sh->stop, 1); /* enough said */
		}
	}
}

static void lister(struct shared *sh, const char *base, int clients, double until)
{
	char dir[4096];

	for (long k = 0; !atomic_load(&sh->stop) && now_s() < until; k++) {
		snprintf(dir, sizeof(dir), "%s/c%ld", base, k % clients);
		DIR *d = opendir(dir);
		if (!d) {
			continue;
		}
		while (readdir(d)) {
		}
		closedir(d);
		atomic_fetch_add(&sh->listings, 1);
	}
}

int main(int argc, char **argv)
{
	pid_t pids[MAX_PROCS];
	int n = 0;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: rename_stress DIR CLIENTS RENAMES SECONDS [LISTERS]\n");
		return 2;
	}
	const char *base = argv[1];
	int clients = atoi(argv[2]);
	long max = atol(argv[3]);
	double seconds = atof(argv[4]);
	int listers = argc == 6 ? atoi(argv[5]) : 0;
	if (clients < 1 || listers < 0 || clients + listers > MAX_PROCS || max < 1 || seconds <= 0) {
		fprintf(stderr, "rename_stress: bad arguments\n");
		return 2;
	}
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (int i = 0; i < clients; i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/c%d", base, i);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "rename_stress: mkdir %s: %s\n", dir, strerror(errno));
			return 2;
		}
	}
	double t0 = now_s();
	double until = t0 + seconds;
	for (int i = 0; i < clients + listers; i++) {
		pid_t p = fork();
		if (p < 0) {
			perror("fork");
			atomic_store(&sh->stop, 1);
			break;
		}
		if (p == 0) {
			char dir[4096];
			snprintf(dir, sizeof(dir), "%s/c%d", base, i);
			if (i < clients) {
				client(sh, dir, max, until);
			} else {
				lister(sh, base, clients, until);
			}
			_exit(0);
		}
		pids[n++] = p;
	}
	int bad = 0;
	for (int i = 0; i < n; i++) {
		int status = 0;
		if (i == clients) {
			atomic_store(&sh->stop, 1); /* the clients are done: so are the listers */
		}
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			bad = 1;
		}
	}
	double took = now_s() - t0;
	long renames = atomic_load(&sh->renames);
	printf("rename_stress: %ld renames by %d clients (%d listers, %ld listings) in %.1f s "
	       "(%.0f/s): %ld failures, %ld ENOENT (longest missing %ld ms)\n",
	       renames, clients, listers, atomic_load(&sh->listings), took,
	       took > 0 ? (double)renames / took : 0.0, atomic_load(&sh->failures),
	       atomic_load(&sh->enoent), atomic_load(&sh->worst_ms));
	return bad || atomic_load(&sh->failures) ? 1 : 0;
}
