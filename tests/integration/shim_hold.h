/* shim_hold.h -- the hold of the LD_PRELOAD test shims (slowwatch.c, slowxattr.c): one call of
 * the daemon's held back while a test changes the drive.
 *
 * shim_hold(CTL, MS, DEFAULT_MS): when the file CTL exists, removes it, creates CTL.in (the
 * test knows the call is held) and waits MS milliseconds (DEFAULT_MS when MS is NULL); true
 * when it held. Not part of the product.
 */
#ifndef PXE_SHIM_HOLD_H
#define PXE_SHIM_HOLD_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline bool shim_hold(const char *ctl, const char *ms, long default_ms)
{
	char in[4096];
	long wait = ms ? atol(ms) : default_ms;
	struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};

	if (!ctl || unlink(ctl) != 0) {
		return false;
	}
	snprintf(in, sizeof(in), "%s.in", ctl);
	int m = open(in, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (m >= 0) {
		close(m);
	}
	nanosleep(&ts, NULL);
	return true;
}

#endif /* PXE_SHIM_HOLD_H */
