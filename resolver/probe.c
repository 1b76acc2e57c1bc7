/* probe.c -- a bounded health probe of a drive: does it answer, and without errors?
 *
 * A hung filesystem (a network drive whose server is gone, a FUSE daemon that stopped)
 * blocks every syscall on it, for ever. So the probe runs its syscalls on a short-lived
 * detached thread and waits for it at most a given time; a probe that did not answer is
 * left behind, remembered by path, and any later probe of that path says "still hung" at
 * once instead of leaving another thread behind. At most PROBE_MAX_HUNG threads are ever
 * left. Safe from any thread; the state is the list of hung probes (reset in a forked
 * child, where their threads do not exist).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "resolver.h"
#include "thread.h"

#define PROBE_MAX_HUNG 16

struct probe {
	atomic_int refs;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool done;           /* protected by lock */
	int rc;              /* protected by lock */
	bool write;
	char path[];
};

static pthread_mutex_t hung_lock = PTHREAD_MUTEX_INITIALIZER;
static struct probe *hung[PROBE_MAX_HUNG]; /* protected by hung_lock */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void probe_put(struct probe *p)
{
	if (atomic_fetch_sub(&p->refs, 1) == 1) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
	}
}

/* In a forked child the probe threads do not exist: forget them (their
 * memory is left, a few hundred bytes at most). */
static void forget_hung(void)
{
	pthread_mutex_init(&hung_lock, NULL);
	memset(hung, 0, sizeof(hung));
}

static void at_fork_setup(void)
{
	pthread_atfork(NULL, NULL, forget_hung);
}

/* Errors that make a filesystem unusable; anything else is no verdict. */
static int verdict(int err, bool writing)
{
	switch (err) {
	case EIO:
	case EUCLEAN:
	case ENOTCONN:
	case ESTALE:
	case EREMOTEIO:
	case ENXIO:
	case ENODEV:
	case ESHUTDOWN:
		return -err;
	case EROFS:
		return writing ? -EROFS : 0;
	default:
		return 0;
	}
}

static int run_probe(const char *path, bool write)
{
	struct statfs sf;
	struct stat st;
	DIR *d = NULL;
	int fd = -1;

	if (statfs(path, &sf) < 0 || stat(path, &st) < 0) {
		return verdict(errno, false);
	}
	d = opendir(path);
	if (!d) {
		return verdict(errno, false);
	}
	errno = 0;
	if (!readdir(d) && errno != 0) {
		int err = errno;
		closedir(d);
		return verdict(err, false);
	}
	closedir(d);
	if (!write) {
		return 0;
	}
	fd = open(path, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		return verdict(errno, true);
	}
	close(fd);
	return 0;
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	int rc = run_probe(p->path, p->write);

	pthread_mutex_lock(&p->lock);
	p->done = true;
	p->rc = rc;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	probe_put(p);
	return NULL;
}

/* Drop the hung probes that finished; true when PATH still has one waiting
 * (or no room is left to remember another). */
static bool still_hung(const char *path, int *slot)
{
	bool found = false;

	*slot = -1;
	pthread_mutex_lock(&hung_lock);
	for (int i = 0; i < PROBE_MAX_HUNG; i++) {
		struct probe *p = hung[i];
		bool done = false;
		if (p) {
			pthread_mutex_lock(&p->lock);
			done = p->done;
			pthread_mutex_unlock(&p->lock);
		}
		if (p && done) {
			hung[i] = NULL;
			probe_put(p);
			p = NULL;
		}
		if (p && strcmp(p->path, path) == 0) {
			found = true;
		}
		if (!p && *slot < 0) {
			*slot = i;
		}
	}
	pthread_mutex_unlock(&hung_lock);
	return found || *slot < 0;
}

static struct probe *probe_new(const char *path, bool write)
{
	struct probe *p = calloc(1, sizeof(*p) + strlen(path) + 1);
	pthread_condattr_t ca;

	if (!p) {
		return NULL;
	}
	atomic_init(&p->refs, 2); /* the caller's and the thread's */
	p->write = write;
	strcpy(p->path, path);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	return p;
}

/* Start P's thread with every signal blocked (it may stay blocked for ever:
 * no signal meant for the process may land on it). */
static int probe_start(struct probe *p)
{
	return pxe_thread_start(NULL, 128 * 1024, probe_main, p);
}

int rsv_probe(const char *path, bool write, unsigned timeout_ms)
{
	struct timespec until;
	struct probe *p = NULL;
	int slot = -1;
	int rc = 0;

	pthread_once(&once, at_fork_setup);
	if (still_hung(path, &slot)) {
		return -ETIMEDOUT;
	}
	p = probe_new(path, write);
	if (!p || probe_start(p) < 0) {
		free(p);
		return 0; /* cannot tell */
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->done && rc == 0) {
		rc = pthread_cond_timedwait(&p->cond, &p->lock, &until);
	}
	rc = p->done ? p->rc : -ETIMEDOUT;
	pthread_mutex_unlock(&p->lock);
	if (rc != -ETIMEDOUT) {
		probe_put(p);
		return rc;
	}
	pthread_mutex_lock(&hung_lock);
	if (!hung[slot]) {
		hung[slot] = p; /* takes the caller's reference */
		p = NULL;
	}
	pthread_mutex_unlock(&hung_lock);
	if (p) {
		probe_put(p); /* no room after all: its thread frees it when it ends */
	}
	return -ETIMEDOUT;
}
