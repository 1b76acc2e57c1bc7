/* transport.c -- how the kernel's requests reach the daemon: /dev/fuse or FUSE over io_uring.
 *
 * io_uring is opt-in (fuse transport = io_uring, or -o io_uring). It needs libfuse 3.18 built
 * with it (the bundled one) and a kernel that offers it (Linux 6.14+, enable_uring = Y); when
 * one is missing, the daemon says once what is wrong and what to do, and serves on /dev/fuse.
 * Decided in three steps, all on the main thread: before the session (tr_prepare), at the
 * kernel's INIT (tr_init) and once INIT is answered (tr_check: libfuse falls back to /dev/fuse
 * by itself when its rings do not start, so the rings are looked for). Status reads the result
 * anywhere (atomics). Does not serve requests: libfuse's ring threads do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

#define TR_PARAM "/sys/module/fuse/parameters/enable_uring"

#define TR_STR2(x) #x
#define TR_STR(x)  TR_STR2(x)
#define TR_OFF_BUILD_TEXT                                                                          \
	"this build has libfuse " TR_STR(FUSE_MAJOR_VERSION) "." TR_STR(                           \
	    FUSE_MINOR_VERSION) ", older than 3.18 (configure with -DPXE_LIBFUSE=bundled)"
#if !PXE_HAVE_URING
static const char TR_OFF_BUILD[] = TR_OFF_BUILD_TEXT;
#else
static const char TR_OFF_KERNEL[] = "the kernel has no FUSE over io_uring (" TR_PARAM
                                    " is missing: needs Linux 6.14 or newer built with "
                                    "CONFIG_FUSE_IO_URING)";
static const char TR_OFF_PARAM[] = "the kernel has FUSE over io_uring turned off (" TR_PARAM
                                   " is N); as root: echo Y > " TR_PARAM ", then mount again";
static const char TR_OFF_INIT[] = "the kernel did not offer FUSE over io_uring at INIT";
static const char TR_OFF_RINGS[] =
    "libfuse could not start its io_uring queues (its message says why)";
#endif

const char *fs_transport_info(void)
{
#if PXE_HAVE_URING
	return "FUSE over io_uring: built in; used with fuse transport = io_uring (or -o io_uring) "
	       "when the kernel offers it (" TR_PARAM " = Y)";
#else
	return "FUSE over io_uring: not available: " TR_OFF_BUILD_TEXT;
#endif
}

bool tr_take_opt(const char *opts, char *rest, size_t len)
{
	bool found = false;
	size_t used = 0;
	const char *p = opts;

	if (len > 0) {
		rest[0] = '\0';
	}
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == strlen("io_uring") && strncmp(p, "io_uring", n) == 0) {
			found = true;
		} else if (n > 0 && used + n + 2 <= len) {
			used += (size_t)snprintf(rest + used, len - used, "%s%.*s", used ? "," : "",
			                         (int)n, p);
		}
		p = end ? end + 1 : NULL;
	}
	return found;
}

#if PXE_HAVE_URING
/* The kernel's switch: 1 on (Y), 0 off (N), -1 no such parameter. */
static int tr_kernel_param(void)
{
	char c = 0;
	int fd = open(TR_PARAM, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, &c, 1) : -1;

	if (fd >= 0) {
		close(fd);
	}
	if (n != 1) {
		return -1;
	}
	return c == 'Y' || c == 'y' || c == '1';
}
#endif

void tr_prepare(struct fs *fs)
{
	const char *why = NULL; /* not asked for: no reason to give */

	if (fs->ur_want) {
#if PXE_HAVE_URING
		int on = tr_kernel_param();

		why = on < 0 ? TR_OFF_KERNEL : on == 0 ? TR_OFF_PARAM : NULL;
#else
		why = TR_OFF_BUILD;
#endif
		if (why) {
			log_warnx("FUSE over io_uring asked for, but %s; serving on /dev/fuse",
			          why);
		}
	}
	fs->ur_try = fs->ur_want && !why;
	why =
	    fs->ur_want && !why ? "not decided yet: the kernel has not initialised the mount" : why;
	atomic_store(&fs->ur_reason, why);
}

void tr_init(struct fs *fs, struct fuse_conn_info *conn)
{
#if PXE_HAVE_URING
	if (fs->ur_try && (conn->capable & FUSE_CAP_OVER_IO_URING)) {
		conn->want |= FUSE_CAP_OVER_IO_URING;
		return;
	}
	/* never by libfuse's own switch (FUSE_URING_ENABLE) behind the config's back */
	conn->want &= ~FUSE_CAP_OVER_IO_URING;
	if (fs->ur_try) {
		fs->ur_try = false;
		atomic_store(&fs->ur_reason, TR_OFF_INIT);
		log_warnx("FUSE over io_uring asked for, but %s; serving on /dev/fuse",
		          TR_OFF_INIT);
	}
#else
	(void)fs;
	(void)conn;
#endif
}

unsigned tr_count_rings(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de = NULL;
	unsigned n = 0;
	char link[64];
	char path[300];

	while (d && (de = readdir(d)) != NULL) {
		ssize_t len = 0;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = '\0';
			n += strcmp(link, "anon_inode:[io_uring]") == 0;
		}
	}
	if (d) {
		closedir(d);
	}
	return n;
}

void tr_check(struct fs *fs)
{
#if PXE_HAVE_URING
	unsigned rings = fs->ur_try ? tr_count_rings() : 0;

	if (!fs->ur_try) {
		return;
	}
	if (rings == 0) {
		atomic_store(&fs->ur_reason, TR_OFF_RINGS);
		log_warnx("FUSE over io_uring asked for, but %s; serving on /dev/fuse",
		          TR_OFF_RINGS);
		return;
	}
	atomic_store(&fs->ur_reason, NULL);
	atomic_store(&fs->ur_active, true);
	log_info("transport: FUSE over io_uring (%u queues)", rings);
#else
	(void)fs;
#endif
}
