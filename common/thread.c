/* thread.c -- start the daemon's own threads with every signal blocked.
 *
 * A signal sent to the process goes to any thread that does not block it. libfuse's SIGTERM and
 * SIGINT handler only sets a flag; the main thread waits in its session loop and is woken only
 * when the signal interrupts it, so a stop signal taken by one of our threads left the daemon
 * mounted until the next FUSE request came (seen under load). libfuse starts its workers with
 * every signal blocked; ours do the same, and the live thread reads SIGHUP and SIGUSR1 from a
 * signalfd, which does not need them unblocked.
 */
#include <pthread.h>
#include <signal.h>

#include "thread.h"

int pxe_thread_start(pthread_t *out, size_t stack, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all;
	sigset_t old;
	int rc = 0;

	sigfillset(&all);
	rc = pthread_attr_init(&attr);
	if (rc != 0) {
		return -rc;
	}
	if (out == NULL) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	}
	if (stack > 0) {
		pthread_attr_setstacksize(&attr, stack);
	}
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(out ? out : &t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -rc;
}
