/* smb_url.h -- an smb://host[:port]/share[/folder] URL split into its parts, percent escapes
 * decoded: the one parser for `check` (the share to read back) and `migrate --from` (the old
 * server). No user part (credentials come from options); an IPv6 host stays in brackets.
 * Pure string work: no state, no I/O.
 */
#ifndef PXE_SMB_URL_H
#define PXE_SMB_URL_H

#include <limits.h>

struct smb_url {
	char host[256];      /* as written; IPv6 in brackets */
	int port;            /* 445 when the URL names none */
	char share[256];     /* decoded, never empty */
	char base[PATH_MAX]; /* the folder below the share, decoded, no slash at either end ("":
	                      * the share's root); never ".", "..", or with a ".." piece */
};

/* smb_url_parse -- URL into *U; -1 when it is not such a URL (no "smb://", a user part, an
 * empty host or share, a bad port, a part too long, a ".." piece). */
int smb_url_parse(const char *url, struct smb_url *u);

#endif
