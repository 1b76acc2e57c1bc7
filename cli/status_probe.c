/* status_probe.c -- `pxeimagesfs status`'s probe: the view answers a statfs and a stat of
 * its images folder, as a client would, within STATUS_PROBE_MS; a forked child asks, so a hung view
 * costs the command the bound, never a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "status_probe.h"

/* One character of /proc/PID/stat: R, S, D, T (stopped) ...; '?' when unknown. */
static char proc_state(pid_t pid)
{
	char path[64];
	char buf[512];
	const char *paren = NULL;
	ssize_t n = 0;
	int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0) {
		close(fd);
	}
	if (n <= 0) {
		return '?';
	}
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] ? paren[2] : '?';
}

/* In the child: statfs of MP, then stat of MP/IMAGES; its exit status is 0 or the
 * errno of the first that failed (ENOENT of the images folder is an answer: 0). */
static void probe_child(const char *mp, const char *images)
{
	char path[2 * PATH_MAX];
	struct statfs sf;
	struct stat st;

	alarm(STATUS_PROBE_MS / 1000 + 5); /* should the parent be gone */
	if (statfs(mp, &sf) < 0) {
		_exit(errno & 0xff ? errno & 0xff : 1);
	}
	snprintf(path, sizeof(path), "%s/%s", mp, images);
	_exit(stat(path, &st) < 0 && errno != ENOENT ? (errno & 0xff ? errno & 0xff : 1) : 0);
}

/* Probe the view at MP: 0 when it answered (time in *ms), else -1 with why in WHY. */
int status_probe_view(const char *mp, const char *images, pid_t daemon, long *ms, char *why,
                      size_t len)
{
	struct timespec nap = {0, 5 * 1000 * 1000};
	struct timespec t0;
	struct timespec t1;
	int status = 0;
	pid_t got = 0;
	pid_t child = 0;

	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	child = fork();
	if (child < 0) {
		return snprintf(why, len, "cannot probe the view: fork: %s", strerror(errno)),
		       -1;
	}
	if (child == 0) {
		probe_child(mp, images);
	}
	do {
		got = waitpid(child, &status, WNOHANG);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		*ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	} while (got == 0 && *ms < STATUS_PROBE_MS && nanosleep(&nap, NULL) == 0);
	if (got == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		return 0;
	}
	if (got == child) {
		return snprintf(why, len,
		                "not responding: the view at %s answers a statfs or a stat "
		                "with an error: %s",
		                mp, WIFEXITED(status) ? strerror(WEXITSTATUS(status)) : "killed"),
		       -1;
	}
	kill(child, SIGKILL); /* a FUSE request waits killably */
	for (int i = 0; i < 100 && waitpid(child, NULL, WNOHANG) == 0; i++) {
		nanosleep(&nap, NULL);
	}
	snprintf(why, len,
	         "not responding: the view at %s did not answer a statfs and a stat of its images "
	         "folder within %d s (daemon pid %d is %s)",
	         mp, STATUS_PROBE_MS / 1000, (int)daemon,
	         proc_state(daemon) == 'T' ? "stopped (SIGSTOP): every access to the view blocks"
	                                   : "running but hung");
	return -1;
}
