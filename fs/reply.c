/* reply.c -- what every FUSE handler shares: its state, and the error reply.
 *
 * fs_of gives a request's filesystem (the one place state comes from);
 * ops_reply_err answers an error and counts the ones that are not routine
 * (the status file's "errors"). No lock, no drive.
 */
#include <errno.h>

#include "fs_int.h"

struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

void ops_reply_err(fuse_req_t req, int err)
{
	if (err != 0 && err != ENOENT && err != ENODATA && err != EEXIST && err != ENOTEMPTY &&
	    err != ESTALE) { /* ESTALE: counted as stale_opens */
		atomic_fetch_add(&fs_of(req)->n_errors, 1);
	}
	fuse_reply_err(req, err);
}
