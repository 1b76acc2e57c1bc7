/* watch.c -- what makes the daemon look again: mount-table changes, the
 * images folders appearing or vanishing, SIGHUP, SIGUSR1, SIGCHLD and a timer.
 *
 * One poll() over a libmount kernel monitor, an inotify fd (drive roots and
 * the folders down to each images folder), a signalfd, two timerfds (the rescan
 * and the heartbeat of watch_set_tick) and an eventfd for watch_stop(). It reports events; it does not resolve. One
 * thread waits; watch_stop() may be called from any thread.
 */
#include <dirent.h>
#include <errno.h>
#include <libmount.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "names.h"
#include "resolver.h"

#define DEBOUNCE_MS     25
#define DEBOUNCE_MAX_MS 150
#define DIR_MASK                                                                                   \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR | IN_DONT_FOLLOW)

struct watch {
	struct libmnt_monitor *mon;
	int mon_fd;
	int ino_fd;
	int sig_fd;
	int timer_fd;
	int tick_fd; /* watch_set_tick: a heartbeat that is not a rescan */
	int stop_fd;
};

void watch_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int set_timer(int fd, unsigned ms)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL) == 0 ? 0 : -errno;
}

int watch_set_interval(struct watch *w, unsigned ms)
{
	return set_timer(w->timer_fd, ms);
}

int watch_set_tick(struct watch *w, unsigned ms)
{
	return set_timer(w->tick_fd, ms);
}

void watch_free(struct watch *w)
{
	if (!w) {
		return;
	}
	mnt_unref_monitor(w->mon);
	for (int *fd = &w->ino_fd; fd <= &w->stop_fd; fd++) {
		if (*fd >= 0) {
			close(*fd);
		}
	}
	free(w);
}

int watch_new(unsigned interval_ms, struct watch **out)
{
	struct watch *w = calloc(1, sizeof(*w));
	sigset_t set;
	int rc = 0;

	*out = NULL;
	if (!w) {
		return -ENOMEM;
	}
	w->ino_fd = w->sig_fd = w->timer_fd = w->tick_fd = w->stop_fd = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	w->mon = mnt_new_monitor();
	if (!w->mon || mnt_monitor_enable_kernel(w->mon, 1) < 0 ||
	    (w->mon_fd = mnt_monitor_get_fd(w->mon)) < 0) {
		rc = -EIO;
	}
	w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rc == 0 && (w->ino_fd < 0 || w->sig_fd < 0 || w->timer_fd < 0 || w->tick_fd < 0 ||
	                w->stop_fd < 0)) {
		rc = -errno;
	}
	rc = rc < 0 || interval_ms == 0 ? rc : watch_set_interval(w, interval_ms);
	if (rc < 0) {
		watch_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Watch PATH and the folders below it down to the images path, as far as they exist,
 * matching each name by the resolver's rule (names_match_better). */
static void follow_tree(struct watch *w, const char *root, const char *images_path)
{
	char path[PATH_MAX];
	char buf[PATH_MAX];
	char *save = NULL;

	snprintf(path, sizeof(path), "%s", root);
	snprintf(buf, sizeof(buf), "%s", images_path);
	inotify_add_watch(w->ino_fd, path, DIR_MASK);
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		char best[NAME_MAX + 1] = "";
		DIR *d = opendir(path);
		struct dirent *de = NULL;
		while (d && (de = readdir(d)) != NULL) {
			if (names_match_better(c, de->d_name, best[0] ? best : NULL)) {
				snprintf(best, sizeof(best), "%s", de->d_name);
			}
		}
		if (d) {
			closedir(d);
		}
		if (!best[0] || strlen(path) + strlen(best) + 2 > sizeof(path)) {
			break;
		}
		strcat(strcat(path, "/"), best);
		if (inotify_add_watch(w->ino_fd, path, DIR_MASK) < 0) {
			break;
		}
	}
}

int watch_follow(struct watch *w, const struct resolver_view *v)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	close(w->ino_fd); /* drops every old watch at once */
	w->ino_fd = fd;
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (d->state == DRIVE_ONLINE) {
			follow_tree(w, d->mount_path, v->images_path);
		}
	}
	return 0;
}

void watch_stop(struct watch *w)
{
	uint64_t one = 1;

	if (write(w->stop_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: a stop is pending already */
	}
}

/* Drain the ready fds of FDS into an event mask. */
static unsigned drain(struct watch *w, const struct pollfd *fds)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct signalfd_siginfo si;
	unsigned ev = 0;

	if (fds[0].revents) {
		while (mnt_monitor_next_change(w->mon, NULL, NULL) == 0) {
		}
		ev |= WATCH_MOUNTS;
	}
	if (fds[1].revents) {
		while (read(w->ino_fd, buf, sizeof(buf)) > 0) {
		}
		ev |= WATCH_FOLDERS;
	}
	while (fds[2].revents && read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		ev |= si.ssi_signo == SIGHUP    ? WATCH_RELOAD
		      : si.ssi_signo == SIGCHLD ? WATCH_CHILD
		                                : WATCH_RESCAN;
	}
	if (fds[3].revents && read(w->timer_fd, buf, 8) > 0) {
		ev |= WATCH_TIMER;
	}
	if (fds[4].revents && read(w->tick_fd, buf, 8) > 0) {
		ev |= WATCH_TICK;
	}
	if (fds[5].revents) {
		ev |= WATCH_STOP;
	}
	return ev;
}

unsigned watch_wait(struct watch *w)
{
	struct pollfd fds[6] = {
	    {.fd = w->mon_fd, .events = POLLIN},   {.fd = w->ino_fd, .events = POLLIN},
	    {.fd = w->sig_fd, .events = POLLIN},   {.fd = w->timer_fd, .events = POLLIN},
	    {.fd = w->tick_fd, .events = POLLIN},  {.fd = w->stop_fd, .events = POLLIN},
	};
	unsigned ev = 0;
	int waited = 0;

	while (poll(fds, 6, -1) < 0 && errno == EINTR) {
	}
	ev = drain(w, fds);
	/* a mount or a copy makes several events: take them as one (not a lone tick) */
	while (!(ev & (WATCH_STOP | WATCH_TICK)) && waited < DEBOUNCE_MAX_MS &&
	       poll(fds, 6, DEBOUNCE_MS) > 0) {
		ev |= drain(w, fds);
		waited += DEBOUNCE_MS;
	}
	return ev;
}
