/* status_probe.h -- the probe of a mounted view by `pxeimagesfs status` (status_probe.c). */
#ifndef PXE_STATUS_PROBE_H
#define PXE_STATUS_PROBE_H

#include <stddef.h>
#include <sys/types.h>

#define STATUS_PROBE_MS 2000 /* the view must answer the probe within this */

/* MP answers a statfs and a stat of MP/IMAGES within STATUS_PROBE_MS: 0 (the time in *MS), else -1
 * with why in WHY (naming DAEMON's state when the view hangs). */
int status_probe_view(const char *mp, const char *images, pid_t daemon, long *ms, char *why,
                      size_t len);

#endif
