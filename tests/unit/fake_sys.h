/* fake_sys.h -- an in-memory system for resolver unit tests.
 *
 * Holds a mount table and a tree of paths (directories, files, symlinks);
 * rsv_sys calls answer from it. Paths are absolute and canonical. Not
 * thread-safe; one per test.
 */
#ifndef PXE_FAKE_SYS_H
#define PXE_FAKE_SYS_H

#include <stdbool.h>
#include <sys/types.h>

#include "resolver.h"

#define FAKE_MAX 128

struct fake_mount {
	const char *target, *source, *fstype, *root, *uuid, *label;
	dev_t dev;
	bool read_only;
};

struct fake_node {
	char path[512];
	char type; /* 'd', 'f' or 'l' */
};

struct fake_sys {
	struct fake_mount mounts[FAKE_MAX];
	size_t n_mounts;
	struct fake_node nodes[FAKE_MAX];
	size_t n_nodes;
	struct rsv_sys sys;
	const char *unmounted_tag; /* "LABEL=X" known to find_device, or NULL */
	const char *unmounted_dev;
	int list_err; /* -errno every list answers instead (0: none) */
};

void fake_init(struct fake_sys *f);
/* Add a mount (strings borrowed: use literals); its target becomes a directory. */
void fake_mount(struct fake_sys *f, const char *target, const char *source, const char *fstype,
                const char *uuid, const char *label, dev_t dev, bool read_only);
/* Like fake_mount, for a bind of ROOT inside the filesystem of device DEV. */
void fake_bind(struct fake_sys *f, const char *target, const char *root, dev_t dev);
void fake_dir(struct fake_sys *f, const char *path);  /* and its parents */
void fake_file(struct fake_sys *f, const char *path); /* parents become dirs */
void fake_symlink(struct fake_sys *f, const char *path);

#endif
