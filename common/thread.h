/* thread.h -- start the daemon's own threads with every signal blocked (thread.c).
 *
 * In common/ because the resolver, the filesystem and the CLI all start threads.
 */
#ifndef PXE_THREAD_H
#define PXE_THREAD_H

#include <pthread.h>
#include <stddef.h>

/* pxe_thread_start -- a thread running FN(ARG) with every signal blocked (only the
 * main thread takes SIGTERM/SIGINT); joinable into *OUT, or detached when OUT is NULL; STACK
 * bytes of stack, or 0 for the default. Returns 0 or -errno. */
int pxe_thread_start(pthread_t *out, size_t stack, void *(*fn)(void *), void *arg);

#endif /* PXE_THREAD_H */
