/* test_walk_race.c -- the walk (common/walk.c) answers right while the drive is renamed under it.
 *
 * openat2(RESOLVE_BENEATH) gives up with EXDEV (or EAGAIN after "..") when a rename or mount
 * change makes it unsure the object is still beneath the folder; that is the kernel asking for
 * a retry, never an answer for a caller. READERS threads look paths up for RACE_SECONDS while
 * MOVERS threads move whole trees out of the images folder and back and rename unrelated
 * folders: a stable path must always be found, a path inside a moving tree found or ENOENT.
 * A real temporary folder; no FUSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "walk.h"

#define READERS 4
#define MOVERS 2
#define TREES_PER_MOVER 2
#define RACE_SECONDS 3
#define MIN_MOVES 100 /* fewer moves in RACE_SECONDS: the race was not run */

struct race {
	char dir[64]; /* holds img/ (the images folder) and park/ (elsewhere on the drive) */
	int img;
	atomic_bool stop;
	atomic_long lookups;
	atomic_long moves;
	atomic_int move_failed; /* errno of a rename that failed (the test's own setup broke) */
	atomic_long wrong; /* answers other than found (or ENOENT inside a moving tree) */
	atomic_int last_err;
	char last_path[PATH_MAX]; /* written under lock */
	pthread_mutex_t lock;
};

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

static void make_tree(const char *root)
{
	char p[PATH_MAX];

	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/x", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/x/y", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/x/y/file.wim", root);
	make_file(p);
}

static void wrong(struct race *r, const char *path, int err)
{
	atomic_fetch_add(&r->wrong, 1);
	atomic_store(&r->last_err, -err);
	pthread_mutex_lock(&r->lock);
	snprintf(r->last_path, sizeof(r->last_path), "%s", path);
	pthread_mutex_unlock(&r->lock);
}

/* One lookup of PATH: found, or (MAY_MISS: inside a moving tree) ENOENT. */
static void look(struct race *r, const char *path, bool may_miss, bool as_file)
{
	char spelt[PATH_MAX];
	bool real = false;
	int fd = as_file ? walk_open_as(r->img, path, O_RDONLY, &real, spelt, sizeof(spelt))
	                 : walk_open(r->img, path, spelt, sizeof(spelt));

	atomic_fetch_add(&r->lookups, 1);
	if (fd >= 0) {
		close(fd);
	} else if (!(may_miss && fd == -ENOENT)) {
		wrong(r, path, fd);
	}
}

static void *reader(void *arg)
{
	struct race *r = arg;
	char path[64];
	unsigned seed = (unsigned)(uintptr_t)pthread_self();

	while (!atomic_load(&r->stop)) {
		int t = rand_r(&seed) % (MOVERS * TREES_PER_MOVER);
		look(r, "stable/x/y/file.wim", false, rand_r(&seed) % 2);
		look(r, "STABLE/x/Y/file.wim", false, false); /* another spelling: the slow walks */
		snprintf(path, sizeof(path), "T%d/x/y/file.wim", t);
		look(r, path, true, rand_r(&seed) % 2);
		snprintf(path, sizeof(path), "t%d/X/y/FILE.wim", t);
		look(r, path, true, false);
	}
	return NULL;
}

/* Moves its trees out of img/ and back, and renames an unrelated folder beside them. */
static void *mover(void *arg)
{
	struct race *r = arg;
	static atomic_int next;
	int me = atomic_fetch_add(&next, 1);
	char in[TREES_PER_MOVER][PATH_MAX];
	char out[TREES_PER_MOVER][PATH_MAX];
	char u0[PATH_MAX];
	char u1[PATH_MAX];

	for (int i = 0; i < TREES_PER_MOVER; i++) {
		int t = me * TREES_PER_MOVER + i;
		snprintf(in[i], sizeof(in[i]), "%s/img/T%d", r->dir, t);
		snprintf(out[i], sizeof(out[i]), "%s/park/T%d", r->dir, t);
	}
	snprintf(u0, sizeof(u0), "%s/img/stable/u%d", r->dir, me);
	snprintf(u1, sizeof(u1), "%s/img/v%d", r->dir, me);
	while (!atomic_load(&r->stop)) {
		bool ok = true;
		for (int i = 0; i < TREES_PER_MOVER; i++) {
			ok = ok && rename(in[i], out[i]) == 0 && rename(out[i], in[i]) == 0;
		}
		ok = ok && rename(u0, u1) == 0 && rename(u1, u0) == 0;
		if (!ok) { /* no cmocka assert off the main thread */
			atomic_store(&r->move_failed, errno);
			break;
		}
		atomic_fetch_add(&r->moves, 1);
	}
	return NULL;
}

static int setup(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	char p[PATH_MAX];

	assert_non_null(r);
	pthread_mutex_init(&r->lock, NULL);
	snprintf(r->dir, sizeof(r->dir), "/tmp/pxe-walk-race.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(p, sizeof(p), "%s/img", r->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/park", r->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/img/stable", r->dir);
	make_tree(p);
	for (int m = 0; m < MOVERS; m++) {
		snprintf(p, sizeof(p), "%s/img/stable/u%d", r->dir, m);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	for (int t = 0; t < MOVERS * TREES_PER_MOVER; t++) {
		snprintf(p, sizeof(p), "%s/img/T%d", r->dir, t);
		make_tree(p);
	}
	snprintf(p, sizeof(p), "%s/img", r->dir);
	r->img = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(r->img >= 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct race *r = *state;
	char cmd[PATH_MAX + 32];

	close(r->img);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return 0;
}

static void test_walk_never_answers_a_rename_race(void **state)
{
	struct race *r = *state;
	pthread_t th[READERS + MOVERS];
	struct timespec end;

	for (int i = 0; i < READERS + MOVERS; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, i < READERS ? reader : mover, r), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += RACE_SECONDS;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR) {
	}
	atomic_store(&r->stop, true);
	for (int i = 0; i < READERS + MOVERS; i++) {
		pthread_join(th[i], NULL);
	}
	print_message("walk race: %ld lookups, %ld rounds of moves, %ld wrong answers\n",
	              atomic_load(&r->lookups), atomic_load(&r->moves), atomic_load(&r->wrong));
	assert_int_equal(atomic_load(&r->move_failed), 0);
	if (atomic_load(&r->wrong) > 0) {
		fail_msg("%ld wrong answers, the last %s for %s", atomic_load(&r->wrong),
		         strerror(atomic_load(&r->last_err)), r->last_path);
	}
	assert_true(atomic_load(&r->moves) >= MIN_MOVES);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_walk_never_answers_a_rename_race, setup, teardown),
};

UNIT_GROUP(tests, NULL, NULL)
