/* test_share_state.c -- the share's state (fs/status.c): posted from other threads, read as
 * snapshots, freed by the last holder, and every post from another thread wakes a reader of
 * SIGCHLD (the live thread's signalfd).
 *
 * Bounded: 4 posting threads x 2000 posts against a reader taking snapshots. Run it under the
 * ASan+UBSan build (CI does) for a use after free; the field-level rule (one mutex) is in the
 * comment of struct fs_share. Needs no root and no mounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fs_int.h"
#include "unit.h"

#define POSTERS 4
#define POSTS   2000

static void test_new_share_is_pending_and_not_up(void **state)
{
	struct fs_share *sh = fs_share_new(FS_SHARE_SYSTEM);
	struct fs_share_state st;

	(void)state;
	assert_non_null(sh);
	fs_share_get(sh, &st);
	assert_int_equal(st.kind, FS_SHARE_SYSTEM);
	assert_true(st.pending);
	assert_false(st.up);
	assert_false(fs_share_changed(sh));
	fs_share_get(NULL, &st);
	assert_int_equal(st.kind, FS_SHARE_NONE);
	fs_share_drop(sh);
	fs_share_drop(NULL);
}

static void test_set_keeps_the_first_line_and_the_note_only_while_up(void **state)
{
	struct fs_share *sh = fs_share_new(FS_SHARE_SYSTEM);
	struct fs_share_state st;

	(void)state;
	fs_share_set(sh, false, "smb.conf does not exist\nsecond line", "ignored while down");
	fs_share_get(sh, &st);
	assert_false(st.up);
	assert_false(st.pending);
	assert_string_equal(st.reason, "smb.conf does not exist");
	assert_string_equal(st.note, "");
	assert_true(fs_share_changed(sh));
	fs_share_set(sh, true, "ignored while up", "smbd is not running");
	fs_share_get(sh, &st);
	assert_true(st.up);
	assert_string_equal(st.reason, "");
	assert_string_equal(st.note, "smbd is not running");
	fs_share_drop(sh);
}

static void test_restarts_are_counted(void **state)
{
	struct fs_share *sh = fs_share_new(FS_SHARE_PRIVATE);
	struct fs_share_state st;

	(void)state;
	fs_share_set(sh, false, "smbd died", NULL);
	fs_share_restarted(sh);
	fs_share_restarted(sh);
	fs_share_get(sh, &st);
	assert_int_equal(st.restarts, 2);
	assert_true(st.up);
	fs_share_drop(sh);
}

static void *poster(void *arg)
{
	struct fs_share *sh = arg;
	char why[64];

	for (int i = 0; i < POSTS; i++) {
		snprintf(why, sizeof(why), "failure %d", i);
		fs_share_post(sh, i % 2 == 0, why, "note");
	}
	fs_share_drop(sh); /* the last holder frees it: the test's reference went first */
	return NULL;
}

/* A snapshot is never torn: up goes with an empty reason and the note, down with a reason. */
static void test_posts_from_threads_are_whole_and_wake_the_reader(void **state)
{
	struct fs_share *sh = fs_share_new(FS_SHARE_SYSTEM);
	struct fs_share_state st;
	struct signalfd_siginfo si;
	pthread_t t[POSTERS];
	sigset_t set, old;
	int sfd = -1;
	int woken = 0;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0); /* before any thread */
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	assert_true(sfd >= 0);
	for (int i = 0; i < POSTERS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, poster, fs_share_hold(sh)), 0);
	}
	for (int i = 0; i < POSTS; i++) {
		fs_share_get(sh, &st);
		assert_true(st.up ? !st.reason[0] && !strcmp(st.note, "note")
		                  : st.pending || (!strncmp(st.reason, "failure ", 8) && !st.note[0]));
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			woken += si.ssi_signo == SIGCHLD;
		}
	}
	fs_share_drop(sh); /* the posters may still run: they hold theirs */
	for (int i = 0; i < POSTERS; i++) {
		pthread_join(t[i], NULL);
	}
	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		woken += si.ssi_signo == SIGCHLD;
	}
	close(sfd);
	/* the other groups of test_fs run in this process: SIGCHLD as it was (ignored) */
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	assert_true(woken > 0); /* SIGCHLD coalesces: at least one, not one per post */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_share_is_pending_and_not_up),
    cmocka_unit_test(test_set_keeps_the_first_line_and_the_note_only_while_up),
    cmocka_unit_test(test_restarts_are_counted),
    cmocka_unit_test(test_posts_from_threads_are_whole_and_wake_the_reader),
};

UNIT_GROUP(tests, NULL, NULL)
