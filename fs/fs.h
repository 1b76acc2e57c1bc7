/* fs.h -- the FUSE filesystem over the resolver's current view.
 *
 * fs_new() builds a filesystem object from a config and a first view;
 * fs_mount_run() mounts it and serves requests on a multi-threaded libfuse
 * low-level session until SIGTERM/SIGINT or an unmount. fs_publish() swaps in
 * a new view atomically while it runs: new operations see the new view,
 * operations in flight finish on the old one, open files keep their drive.
 */
#ifndef PXE_FS_H
#define PXE_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "resolver.h"

struct fs;

struct fs_options {
	const char *mountpoint; /* borrowed */
	const char *fuse_opts;  /* extra -o options, comma-separated, or NULL; borrowed */
	bool foreground;        /* false: daemonize once mounted */
	bool debug;             /* libfuse debug output */
	double entry_timeout;   /* seconds the kernel may cache names and attributes */
	double attr_timeout;
	/* Live following (SPEC section 5): the current configuration, replaced on
	 * SIGHUP (the old one is freed; the caller frees the last one). NULL: the
	 * view never changes. */
	struct pxe_config **live_cfg;
	/* Called on the live thread: once with FS_EVENT_START after mounting, then
	 * after every event with its WATCH_* mask (resolver.h), with the current
	 * configuration (borrowed; valid until the next call). */
	void (*hook)(void *arg, const struct pxe_config *cfg, unsigned events);
	void *hook_arg;
};

#define FS_EVENT_START (1u << 16)

/* fs_new -- a filesystem for CFG (borrowed; must outlive the fs) serving VIEW
 * (takes ownership). Returns 0, or -1 with a message in errbuf. */
int fs_new(const struct pxe_config *cfg, struct resolver_view *view, struct fs **out, char *errbuf,
           size_t errlen);

/* fs_publish -- replace the view (takes ownership of VIEW). Returns 0 or a
 * negative errno (the old view stays). Thread-safe. */
int fs_publish(struct fs *fs, struct resolver_view *view);

/* fs_mount_run -- mount at opts->mountpoint and serve until unmounted or
 * signalled. Returns 0 after a clean unmount, or -1 with a message in errbuf
 * (nothing is left mounted). */
int fs_mount_run(struct fs *fs, const struct fs_options *opts, char *errbuf, size_t errlen);

/* fs_free -- NULL is a no-op. */
void fs_free(struct fs *fs);

#endif /* PXE_FS_H */
