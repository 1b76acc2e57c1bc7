/* run.c -- running testparm, net, smbcontrol and smbpasswd: posix_spawnp (no shell) with stdin
 * from /dev/null (or a short input through a pipe), stdout and stderr captured, and the child
 * killed after 60 s (or the caller's bound, prog_run_within) or when the calling thread's
 * budget (prog_budget) is spent. The one program runner of export/ (the check uses it too).
 *
 * It does not read what a program says (smbconf.c, system*.c and check_diag.c do). SIGCHLD
 * must not be ignored: the child is reaped with waitpid. No state of its own besides the
 * caller's and the thread-local budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "smbconf.h"

extern char **environ;

/* The environment for a child: ours without NOTIFY_SOCKET (systemd hears from
 * the daemon only). Returns a malloc'd array of borrowed strings. */
static char **child_env(void)
{
	size_t n = 0;
	char **env = NULL;

	while (environ[n]) {
		n++;
	}
	env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0, k = 0; env && i < n; i++) {
		if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0) {
			env[k++] = environ[i];
		}
	}
	return env;
}

#define PROG_TIMEOUT_MS 60000
#define PROG_OUTPUT_MAX (1024 * 1024)

void prog_fini(struct prog *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The calling thread's budget for all its programs (prog_budget), or none. */
static __thread struct timespec budget_t0;
static __thread long budget_ms;

void prog_budget(long ms)
{
	clock_gettime(CLOCK_MONOTONIC, &budget_t0);
	budget_ms = ms > 0 ? ms : 0;
}

/* time_left -- what is left of LIMIT_MS since T0 and of the thread's budget. */
static long time_left(const struct timespec *t0, long limit_ms)
{
	long left = limit_ms - ms_since(t0);
	long budget = budget_ms > 0 ? budget_ms - ms_since(&budget_t0) : left;

	return budget < left ? budget : left;
}

/* prog_collect -- read FO and FE into OUT/ERR until both end; false on timeout (LIMIT_MS). */
static bool prog_collect(int fo, int fe, long limit_ms, struct sbuf *out, struct sbuf *err)
{
	struct pollfd pf[2] = {{.fd = fo, .events = POLLIN}, {.fd = fe, .events = POLLIN}};
	struct timespec t0;
	char chunk[4096];
	ssize_t got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		long left = time_left(&t0, limit_ms);
		if (left <= 0) {
			return false;
		}
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR) {
			return false;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents) {
				continue;
			}
			got = read(pf[i].fd, chunk, sizeof(chunk));
			if (got <= 0 && !(got < 0 && errno == EINTR)) {
				pf[i].fd = -1;
			} else if (got > 0 && (i ? err : out)->len < PROG_OUTPUT_MAX) {
				sb_add(i ? err : out, chunk, (size_t)got);
			}
		}
	}
	return true;
}

static int prog_wait(pid_t pid, bool in_time)
{
	int ws = 0;

	if (!in_time) {
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	if (!in_time) {
		return -1;
	}
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* feed -- write INPUT into FD (the child's stdin; INPUT fits the pipe) and close FD.
 * SIGPIPE (a child that exits without reading) is held back and dropped. */
static void feed(int fd, const char *input)
{
	sigset_t pipe_set;
	sigset_t old;
	struct timespec zero = {0, 0};
	size_t len = strlen(input);
	ssize_t n = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (len > 0 && ((n = write(fd, input, len)) > 0 || (n < 0 && errno == EINTR))) {
		input += n > 0 ? n : 0;
		len -= n > 0 ? (size_t)n : 0;
	}
	close(fd);
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The pipes of one child: stdout, stderr and (with an input) stdin; -1 when closed. */
struct pipes {
	int po[2];
	int pe[2];
	int pi[2];
};

static void pipes_close(struct pipes *pp)
{
	for (int i = 0; i < 2; i++) {
		if (pp->po[i] >= 0) {
			close(pp->po[i]);
		}
		if (pp->pe[i] >= 0) {
			close(pp->pe[i]);
		}
		if (pp->pi[i] >= 0) {
			close(pp->pi[i]);
		}
	}
}

/* spawn -- start ARGV with its stdin from PP->pi (INPUT) or /dev/null, stdout and stderr
 * into PP's pipes. Returns 0 or a negative errno. */
static int spawn(char *const argv[], const char *input, struct pipes *pp, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char **env = NULL;
	int rc = 0;

	posix_spawn_file_actions_init(&fa);
	if (input) {
		posix_spawn_file_actions_adddup2(&fa, pp->pi[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	}
	posix_spawn_file_actions_adddup2(&fa, pp->po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pp->pe[1], 2);
	env = child_env();
	rc = env ? -posix_spawnp(pid, argv[0], &fa, NULL, argv, env) : -ENOMEM;
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* prog_spawn -- run ARGV with INPUT (NULL: /dev/null) as its stdin, killed after
 * LIMIT_MS; see prog_run. */
static int prog_spawn(char *const argv[], const char *input, long limit_ms, struct prog *p)
{
	struct pipes pp = {{-1, -1}, {-1, -1}, {-1, -1}};
	struct sbuf out = {0};
	struct sbuf err = {0};
	pid_t pid = -1;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (input && strlen(input) > PROG_INPUT_MAX) {
		return -E2BIG;
	}
	if (budget_ms > 0 && ms_since(&budget_t0) >= budget_ms) {
		return -ETIMEDOUT; /* the thread's budget is spent: start nothing more */
	}
	if (pipe2(pp.po, O_CLOEXEC) < 0 || pipe2(pp.pe, O_CLOEXEC) < 0 ||
	    (input && pipe2(pp.pi, O_CLOEXEC) < 0)) {
		rc = -errno;
		goto out;
	}
	rc = spawn(argv, input, &pp, &pid);
	if (rc < 0) {
		goto out;
	}
	close(pp.po[1]);
	close(pp.pe[1]);
	pp.po[1] = pp.pe[1] = -1;
	if (input) {
		close(pp.pi[0]);
		feed(pp.pi[1], input);
		pp.pi[0] = pp.pi[1] = -1;
	}
	p->status = prog_wait(pid, prog_collect(pp.po[0], pp.pe[0], limit_ms, &out, &err));
	p->out = sb_take(&out);
	p->err = sb_take(&err);
	rc = p->out && p->err ? 0 : -ENOMEM;
out:
	pipes_close(&pp);
	free(out.s);
	free(err.s);
	return rc;
}

/* prog_run -- run ARGV (found in PATH), stdin /dev/null, capturing its output.
 * Returns 0 when it ran (see P->status) or a negative errno when it could not start. */
int prog_run(char *const argv[], struct prog *p)
{
	return prog_run_input(argv, NULL, p);
}

/* prog_run_within -- prog_run with the child killed after TIMEOUT_MS instead of 60 s. */
int prog_run_within(char *const argv[], long timeout_ms, struct prog *p)
{
	return prog_spawn(argv, NULL, timeout_ms, p);
}

/* prog_run_input -- prog_run with INPUT (NULL: /dev/null) as the child's stdin. */
int prog_run_input(char *const argv[], const char *input, struct prog *p)
{
	return prog_spawn(argv, input, PROG_TIMEOUT_MS, p);
}

/* prog_msg -- why a program failed: RC from prog_run, else its first line of output. */
void prog_msg(int rc, const struct prog *p, char *out, size_t len)
{
	if (rc == -ETIMEDOUT) {
		snprintf(out, len, "was not started: the time for Samba's tools is spent");
	} else if (rc < 0) {
		samba_copy_out(out, len, strerror(-rc), strerror(-rc) + strlen(strerror(-rc)));
	} else if (p->status == -1) {
		snprintf(out, len, "did not finish in time and was killed");
	} else {
		samba_first_line(p->err && *p->err ? p->err : p->out, out, len);
	}
	if (!*out) {
		snprintf(out, len, "exit status %d", p->status);
	}
}

const char *prog_name(const char *name, const char *def)
{
	return name ? name : def;
}
