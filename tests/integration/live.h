/* live.h -- helpers for integration tests on the real system (root, real mounts).
 *
 * Everything a test creates lives under one mkdtemp() directory and is
 * unmounted and removed by live_cleanup(). A missing prerequisite skips the
 * test (exit 77) on a developer machine and fails it under CI=true.
 */
#ifndef PXE_LIVE_H
#define PXE_LIVE_H

#include <stddef.h>

#define LIVE_SKIP 77

/* live_require -- exit(77), or exit(1) under CI=true, unless running as root
 * with the right to mount. WHAT names the test in the message. */
void live_require(const char *what);

/* live_tmpdir -- a new private directory; remembered for live_cleanup. */
const char *live_tmpdir(void);

/* live_path -- "<tmpdir>/<name>" in a static rotating buffer. */
const char *live_path(const char *name);

/* live_sh -- run a shell command (printf-style); returns its exit status. */
int live_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* live_mount_tmpfs -- mount a fresh tmpfs at <tmpdir>/<name> (created). */
int live_mount_tmpfs(const char *name);

/* live_mkdirs -- mkdir -p <tmpdir>/<rel>. */
int live_mkdirs(const char *rel);

/* live_umount -- unmount <tmpdir>/<name> if we mounted it. */
int live_umount(const char *name);

/* live_remember -- record a mount made by a shell command (e.g. mount -o loop)
 * at <tmpdir>/<name> so live_cleanup unmounts it. */
void live_remember(const char *name);

/* live_cleanup -- unmount everything we mounted (reverse order), remove the tree. */
void live_cleanup(void);

#endif
