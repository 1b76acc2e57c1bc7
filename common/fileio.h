/* fileio.h -- the small file writes every module shares: all of a buffer, a file replaced
 * atomically, the folder of a path fsynced.
 *
 * A replacement is a temporary file beside PATH, written, fsynced, renamed over PATH, and the
 * folder fsynced: a reader (or a crash) sees the old file or the new one, never half of one.
 * Used for the status and metrics files, the inode map's compaction, smb.conf and the
 * private smb.conf. No state of its own; safe from any thread (two replacements of one
 * PATH at once: the last rename wins, with "PATH.tmp" names the loser fails instead).
 */
#ifndef PXE_FILEIO_H
#define PXE_FILEIO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

struct fileio_opts {
	mode_t mode;              /* of the new file, by fchmod (the umask does not apply) */
	const struct stat *owner; /* borrowed; NULL, or its uid and gid for the new file (root) */
	bool unique_tmp; /* the temporary is ".BASE.pxeimagesfs-tmp.XXXXXX" (mkostemp) beside PATH;
	                  * else "PATH.tmp", removed first (what a crash left) and made O_EXCL */
	bool excl;       /* create PATH (a hard link): -EEXIST when it exists already */
};

/* A replacement under way: write the new content to fd between fileio_begin and
 * fileio_commit (or fileio_abort). The fields are read-only for the caller. */
struct fileio_tmp {
	int fd;                  /* the temporary, open for writing; -1 once closed */
	char tmp[PATH_MAX + 64]; /* its name */
	const char *path;        /* borrowed: the file to replace */
	struct fileio_opts o;
};

/* fileio_write_all -- write all LEN bytes of BUF to FD (short writes and EINTR retried).
 * Returns 0 or a negative errno. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* fileio_fsync_dir -- fsync the folder that holds PATH ("/" for "/x", "." for a bare name).
 * Returns 0 or a negative errno. */
int fileio_fsync_dir(const char *path);

/* fileio_begin -- create the temporary for replacing PATH (a symlink is never followed), with
 * O's mode and owner. Returns 0 (T set up), or a negative errno (-ENAMETOOLONG when the
 * temporary's name does not fit; nothing is left behind). */
int fileio_begin(struct fileio_tmp *t, const char *path, const struct fileio_opts *o);

/* fileio_sync -- fsync the temporary (for a caller that reports a failed write apart from a
 * failed rename). Returns 0 or a negative errno. */
int fileio_sync(struct fileio_tmp *t);

/* fileio_commit -- fsync and close the temporary, rename it over PATH (O.excl: link it as
 * PATH), then fsync the folder. The temporary is gone afterwards, whatever the outcome.
 * Returns 0 or a negative errno. */
int fileio_commit(struct fileio_tmp *t);

/* fileio_abort -- close and remove the temporary; PATH is left as it was. */
void fileio_abort(struct fileio_tmp *t);

/* fileio_link_noreplace -- move the non-folder OLDNAME in OLDDIR to NEWNAME in NEWDIR by a hard
 * link and an unlink: -EEXIST (nothing changed) when NEWNAME exists, as the server decides at
 * once. Where renameat2's RENAME_NOREPLACE is unsupported (GlusterFS, NFS: EINVAL). A folder:
 * -EISDIR. When OLDNAME cannot be unlinked the link is undone and the error returned.
 * Returns 0 or a negative errno. */
int fileio_link_noreplace(int olddir, const char *oldname, int newdir, const char *newname);

/* fileio_rename_noreplace -- renameat2(RENAME_NOREPLACE), and where the filesystem does not
 * support that flag (EINVAL), fileio_link_noreplace for a non-folder. A folder there stays
 * -EINVAL: its caller makes it at NEWNAME instead (mkdir's EEXIST keeps the guarantee).
 * NEWNAME is never replaced. Returns 0 or a negative errno. */
int fileio_rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname);

/* Hidden temporaries that several processes, on several hosts over one shared filesystem, may
 * make in one folder carry a tag: "<16 hex: this host>-<8 hex: pid>-<16 hex: random>". The host
 * part is a hash of the boot id, the host name and the PID namespace, so a PID in a tag is
 * meaningful exactly where the host part is this process's own. */
#define FILEIO_TMP_TAG_LEN   42
#define FILEIO_TMP_STALE_SEC (24 * 60 * 60) /* a temporary unchanged this long is abandoned */

/* fileio_tmp_tag -- a fresh tag (see above) into OUT (at least FILEIO_TMP_TAG_LEN + 1 bytes).
 * Returns 0 or a negative errno (-ENAMETOOLONG when LEN is too small). */
int fileio_tmp_tag(char *out, size_t len);

/* fileio_tmp_tag_at -- true when S starts with a tag (FILEIO_TMP_TAG_LEN characters). */
bool fileio_tmp_tag_at(const char *s);

/* fileio_tmp_stale -- true when the temporary whose name carries the tag TAG (see
 * fileio_tmp_tag_at) and whose lstat is ST is provably not being written: its tag names this
 * host and a process that is not running, or neither its mtime nor its ctime changed in the
 * FILEIO_TMP_STALE_SEC before NOW (a file being written has fresh ones). False otherwise: a
 * temporary of another host, or of a live process here, is in progress. */
bool fileio_tmp_stale(const char *tag, const struct stat *st, time_t now);

/* fileio_replace -- all of the above for LEN bytes of DATA. Returns 0 or a negative errno. */
int fileio_replace(const char *path, const void *data, size_t len, const struct fileio_opts *o);

#endif /* PXE_FILEIO_H */
