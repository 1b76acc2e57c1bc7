/* share.c -- the smb.conf text pxeimagesfs generates.
 *
 * The share points at the images folder inside the view, never the bare
 * mountpoint, so an unmounted view fails loudly instead of serving an empty
 * folder. Settings suit a FUSE view (no kernel oplocks/share modes, no POSIX
 * locking, DOS attributes in xattrs). smb.conf has no inline comments, so
 * every comment is a line of its own. samba = ctdb adds the fileid module, so every
 * node of the cluster gives a file the same id. Pure string work; thread-safe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "smbconf.h"

struct buf {
	char *s;
	size_t len;
	size_t cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (b->failed) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static char *done(struct buf *b)
{
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

int samba_share_path(const struct pxe_config *cfg, const char *mountpoint, char *out, size_t len)
{
	bool root = strcmp(mountpoint, "/") == 0;

	if (snprintf(out, len, "%s/%s", root ? "" : mountpoint, cfg->images_path) >= (int)len) {
		return -1;
	}
	/* a path smb.conf would read otherwise: a control character, '\' at the end, macros */
	return samba_text_bad(out) || strchr(out, '%') ? -1 : 0;
}

/* has_param -- a samba:KEY line of S names parameter NAME (lower case, no spaces)? */
static bool has_param(const struct cfg_share *s, const char *name)
{
	for (size_t i = 0; i < s->n_params; i++) {
		const char *k = s->params[i].key;
		const char *n = name;
		for (; *k != '\0'; k++) {
			if (*k == ' ' || *k == '\t') {
				continue;
			}
			if (*n == '\0' || (*k | 0x20) != *n) {
				break;
			}
			n++;
		}
		if (*k == '\0' && *n == '\0') {
			return true;
		}
	}
	return false;
}

/* ctdb_lines -- samba = ctdb: the same file id on every node. st_ino of the view is a hash
 * of the path (the same on every node over the same store); st_dev is not (each kernel
 * numbers its FUSE mounts), so the id's device part comes from the mount's name (fsname). */
static void ctdb_lines(struct buf *b, const struct cfg_share *s)
{
	if (s->samba != CFG_SAMBA_CTDB) {
		return;
	}
	put(b, "\t# samba = ctdb: every node gives a file the same id (the view's name)\n");
	if (!has_param(s, "vfsobjects")) {
		put(b, "\tvfs objects = fileid\n");
	}
	if (!has_param(s, "fileid:algorithm")) {
		put(b, "\tfileid:algorithm = fsname\n");
	}
}

static void share_lines(struct buf *b, const struct pxe_config *cfg, const char *path)
{
	const struct cfg_share *s = &cfg->share;

	put(b, "# pxeimagesfs: the stable view of the PXE boot images (generated; do not edit)\n");
	put(b, "[%s]\n", s->name);
	put(b, "\tcomment = PXE boot images (pxeimagesfs view)\n");
	put(b, "\tpath = %s\n", path);
	put(b, "\tread only = %s\n", s->read_only ? "yes" : "no");
	put(b, "\tguest ok = %s\n", s->guest_ok ? "yes" : "no");
	if (s->valid_users) {
		put(b, "\tvalid users = %s\n", s->valid_users);
	}
	if (s->write_list) {
		put(b, "\twrite list = %s\n", s->write_list);
	}
	put(b, "\t# a FUSE view: locks and share modes stay in smbd, DOS attributes in xattrs\n");
	put(b, "\tkernel oplocks = no\n\tkernel share modes = no\n\tposix locking = no\n");
	/* No EAs for SMB clients: with them, every entry of a listing costs smbd a listxattr and
	 * a getxattr per EA, FUSE round trips the kernel does not cache (a listing of 2,000
	 * files: 2.83x the native share's time with them, 1.85x without). DOS attributes are
	 * kept in user.DOSATTRIB all the same (store dos attributes). */
	put(b, "\t# no EAs for clients (a listing would read every file's xattrs); DOS attributes kept\n");
	put(b, "\tea support = no\n\tstore dos attributes = yes\n");
	ctdb_lines(b, s);
	if (s->n_params) {
		char from[4096];
		samba_comment_safe(cfg->file, from, sizeof(from));
		put(b, "\t# passed through from %s\n", from);
	}
	for (size_t i = 0; i < s->n_params; i++) {
		put(b, "\t%s = %s\n", s->params[i].key, s->params[i].value);
	}
}

char *samba_share_block(const struct pxe_config *cfg, const char *mountpoint)
{
	struct buf b = {0};
	char path[8192];

	if (samba_share_path(cfg, mountpoint, path, sizeof(path)) < 0) {
		return NULL;
	}
	share_lines(&b, cfg, path);
	return done(&b);
}

int samba_private_dir(const struct pxe_config *cfg, char *out, size_t len)
{
	return snprintf(out, len, "%s/samba", cfg->state_dir) < (int)len ? 0 : -1;
}

static void private_global(struct buf *b, const struct pxe_config *cfg, const char *dir)
{
	const struct cfg_share *s = &cfg->share;

	put(b, "# pxeimagesfs: smb.conf of the private smbd (generated; do not edit)\n[global]\n");
	put(b, "\tserver role = standalone server\n\tworkgroup = WORKGROUP\n");
	put(b, "\tnetbios name = PXEIMAGESFS\n\tserver string = pxeimagesfs\n");
	put(b, "\tsmb ports = %d\n", s->port);
	if (s->interfaces) {
		put(b, "\tinterfaces = %s\n\tbind interfaces only = yes\n", s->interfaces);
	}
	put(b, "\tprivate dir = %s/private\n\tlock directory = %s/lock\n", dir, dir);
	put(b, "\tstate directory = %s/state\n\tcache directory = %s/cache\n", dir, dir);
	put(b, "\tpid directory = %s/pid\n\tncalrpc dir = %s/ncalrpc\n", dir, dir);
	put(b, "\tbinddns dir = %s/bind-dns\n", dir);
	put(b, "\tpassdb backend = tdbsam:%s/private/passdb.tdb\n", dir);
	put(b, "\tlog file = %s/log.smbd\n\tmax log size = 1000\n\tlog level = 1\n", dir);
	put(b, "\tmap to guest = %s\n\tguest account = nobody\n", s->guest_ok ? "Bad User" : "Never");
	put(b, "\tserver min protocol = SMB2_02\n");
	put(b, "\tload printers = no\n\tprinting = bsd\n\tprintcap name = /dev/null\n");
	put(b, "\tdisable spoolss = yes\n\tdisable netbios = yes\n");
	put(b, "\tusershare path =\n\tregistry shares = no\n\tconfig backend = file\n\n");
}

char *samba_private_conf(const struct pxe_config *cfg, const char *mountpoint)
{
	struct buf b = {0};
	char dir[4096];
	char path[8192];

	if (samba_private_dir(cfg, dir, sizeof(dir)) < 0 ||
	    samba_share_path(cfg, mountpoint, path, sizeof(path)) < 0) {
		return NULL;
	}
	private_global(&b, cfg, dir);
	share_lines(&b, cfg, path);
	return done(&b);
}
