/* config_check.c -- what no key alone can see: the folders of [global] side by side.
 *
 * After a parse without errors (config.c calls it): the mountpoint, state and run
 * directories are not / nor inside /proc, /sys or /dev, none is inside another, and (for a
 * file, not a string) neither the run nor the state directory, nor any folder above them, can
 * be changed by another user (OpenSSH's StrictModes: a sticky bit is enough for a folder
 * above, not for the one written into); with samba =
 * ctdb, the samba:KEY lines keep the fileid module and an algorithm every node agrees on.
 * Messages name the line of the key they are about. Also the hint for a file without drives
 * (cfg_no_drive_hint). No state; it touches the filesystem only with lstat and realpath.
 */
#include "config_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* cfg_key_line -- the line where key NAME of [global] was set, 0 when not set. */
int cfg_key_line(const struct cfg_parser *p, const char *name)
{
	int idx = cfg_find_key(CFG_SEC_GLOBAL, name);

	return idx < 0 ? 0 : p->seen[CFG_SEC_GLOBAL][idx];
}

/* cfg_inside -- A is B or a folder below B (both absolute, no trailing '/'). */
static bool cfg_inside(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (strcmp(b, "/") == 0) {
		return true;
	}
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* cfg_err_at -- cfg_err at LINE (the line of the key the message is about). */
#define cfg_err_at(p, at, ...)                                                                     \
	do {                                                                                       \
		int cfg_saved_line_ = (p)->line;                                                   \
		(p)->line = (at);                                                                  \
		cfg_err((p), __VA_ARGS__);                                                         \
		(p)->line = cfg_saved_line_;                                                       \
	} while (0)

/* cfg_check_folder -- the folder of key NAME cannot be / or inside a kernel filesystem. */
static bool cfg_check_folder(struct cfg_parser *p, const char *name, const char *dir,
                             const char *example)
{
	static const char *const kernel[] = {"/proc", "/sys", "/dev"};
	int line = cfg_key_line(p, name);

	if (strcmp(dir, "/") == 0) {
		cfg_err_at(p, line, "'%s' cannot be /: use a folder of its own, such as %s", name,
		           example);
		return false;
	}
	for (size_t i = 0; i < CFG_N(kernel); i++) {
		if (cfg_inside(dir, kernel[i])) {
			cfg_err_at(
			    p, line,
			    "'%s' %s is inside %s, a kernel filesystem: use a folder such as %s",
			    name, dir, kernel[i], example);
			return false;
		}
	}
	return true;
}

/* cfg_check_apart -- folders A (key NA) and B (key NB) may not be one inside the other. */
static void cfg_check_apart(struct cfg_parser *p, const char *na, const char *a, const char *nb,
                            const char *b)
{
	int la = cfg_key_line(p, na);
	int lb = cfg_key_line(p, nb);
	int line = la > lb ? la : lb;

	if (strcmp(a, b) == 0) {
		cfg_err_at(
		    p, line,
		    "'%s' and '%s' are the same folder %s: the view mounted there would hide "
		    "the other; give each a folder of its own",
		    na, nb, a);
	} else if (cfg_inside(a, b) || cfg_inside(b, a)) {
		cfg_err_at(p, line,
		           "'%s' %s is inside '%s' %s: the view mounted there would hide it, or "
		           "show it; give each a folder of its own, side by side",
		           cfg_inside(a, b) ? na : nb, cfg_inside(a, b) ? a : b,
		           cfg_inside(a, b) ? nb : na, cfg_inside(a, b) ? b : a);
	}
}

/* cfg_check_boot_tree -- "boot tree = yes" merges the images path's first folder: the images
 * path needs a folder below it (else the option would change nothing, silently). */
static void cfg_check_boot_tree(struct cfg_parser *p)
{
	const struct pxe_config *c = p->cfg;

	if (c->boot_tree && c->images_path != NULL && strchr(c->images_path, '/') == NULL) {
		cfg_err_at(
		    p, cfg_key_line(p, "boot tree"),
		    "'boot tree = yes' serves the images path's first folder with all it holds, "
		    "but 'images path' %s is one folder only: use a path such as "
		    "RemoteInstall\\SMSImages\\SMSPKG, or leave 'boot tree' out",
		    c->images_path);
	}
}

/* cfg_param_is -- samba:KEY names smb.conf parameter NAME (lower case, no spaces)? */
static bool cfg_param_is(const char *key, const char *name)
{
	for (; *key != '\0'; key++) {
		if (isspace((unsigned char)*key)) {
			continue;
		}
		if (tolower((unsigned char)*key) != *name++) {
			return false;
		}
	}
	return *name == '\0';
}

/* cfg_has_word -- the smb.conf list V (space or comma separated) holds WORD? */
static bool cfg_has_word(const char *v, const char *word)
{
	size_t n = strlen(word);

	while (*v != '\0') {
		size_t len = strcspn(v, " \t,");
		if (len == n && strncasecmp(v, word, n) == 0) {
			return true;
		}
		v += len;
		v += strspn(v, " \t,");
	}
	return false;
}

/* cfg_check_ctdb -- samba = ctdb: every node must give a file the same id, so the fileid
 * module stays loaded and its algorithm is one that agrees across nodes on a FUSE view. */
static void cfg_check_ctdb(struct cfg_parser *p)
{
	const struct cfg_share *s = &p->cfg->share;

	for (size_t i = 0; s->samba == CFG_SAMBA_CTDB && i < s->n_params; i++) {
		const struct cfg_param *q = &s->params[i];
		if (cfg_param_is(q->key, "vfsobjects") && !cfg_has_word(q->value, "fileid")) {
			cfg_err_at(
			    p, q->line,
			    "'samba:%s' leaves out fileid, which samba = ctdb needs so that "
			    "every node gives a file the same id: add fileid to the list (or "
			    "remove the line: pxeimagesfs sets 'vfs objects = fileid')",
			    q->key);
		} else if (cfg_param_is(q->key, "fileid:algorithm") &&
		           strcasecmp(q->value, "fsname") != 0 &&
		           strcasecmp(q->value, "fsname_nodirs") != 0) {
			cfg_err_at(
			    p, q->line,
			    "'samba:%s = %s' does not give a file one id on every node and no "
			    "other (the view's device number differs per node and mount; its "
			    "fsid is 0, as every FUSE mount's): use fsname or fsname_nodirs, or "
			    "remove the line (pxeimagesfs sets fsname)",
			    q->key, q->value);
		}
	}
}

/* cfg_check_config -- what no key alone can see; the defaults are filled in. */
void cfg_check_config(struct cfg_parser *p)
{
	const struct pxe_config *c = p->cfg;

	cfg_check_boot_tree(p);
	cfg_check_ctdb(p);

	if (c->mountpoint == NULL || c->state_dir == NULL || c->run_dir == NULL) {
		return; /* out of memory, already reported */
	}
	bool mp = cfg_check_folder(p, "mountpoint", c->mountpoint, "/srv/pxeimages");
	bool st = cfg_check_folder(p, "state directory", c->state_dir, "/var/lib/pxeimagesfs");
	bool run = cfg_check_folder(p, "run directory", c->run_dir, "/run/pxeimagesfs");

	if (!mp || !st || !run) {
		return;
	}
	cfg_check_apart(p, "mountpoint", c->mountpoint, "state directory", c->state_dir);
	cfg_check_apart(p, "mountpoint", c->mountpoint, "run directory", c->run_dir);
}

const char *cfg_no_drive_hint(const struct pxe_config *cfg)
{
	if (cfg->n_drives > 0 || cfg->discover) {
		return NULL;
	}
	if (cfg->discover_set) {
		return CFG_NO_DRIVE_HINT;
	}
	return CFG_NO_DRIVE_HINT " (a file without [drive:*] no longer discovers drives by itself)";
}

/* ---- who may change the run and state directories (OpenSSH's StrictModes) ---------- */

/* A folder on the way to the run or state directory that another user could change. */
struct cfg_unsafe {
	char dir[PATH_MAX];          /* the folder (or symlink) */
	bool leaf;                   /* the folder itself, or the one it would be made in */
	char what[96];               /* "is writable by everyone", "is owned by uid 1000", ... */
	char fix[2 * PATH_MAX + 32]; /* what to run */
};

static bool cfg_ours(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* cfg_folder_unsafe -- can another user change the entries of DIR (lstat in ST)? LEAF: the
 * folder written or created into, where a sticky bit does not help (another user could put
 * the names there first). Fills U and returns true when they can. */
static bool cfg_folder_unsafe(const char *dir, const struct stat *st, bool leaf,
                              struct cfg_unsafe *u)
{
	bool sticky = !leaf && (st->st_mode & S_ISVTX) != 0;
	bool group = (st->st_mode & S_IWGRP) != 0 && st->st_gid != 0 && st->st_gid != getegid();

	if (S_ISLNK(st->st_mode) && !cfg_ours(st->st_uid)) {
		snprintf(u->what, sizeof(u->what), "is a symlink owned by uid %u",
		         (unsigned)st->st_uid);
		snprintf(u->fix, sizeof(u->fix), "rm %s and make it the folder it names", dir);
	} else if (S_ISLNK(st->st_mode)) {
		return false; /* where it leads is checked apart (the real path) */
	} else if (!cfg_ours(st->st_uid)) {
		snprintf(u->what, sizeof(u->what), "is owned by uid %u", (unsigned)st->st_uid);
		snprintf(u->fix, sizeof(u->fix), "chown root %s", dir);
	} else if ((st->st_mode & S_IWOTH) != 0 && !sticky) {
		snprintf(u->what, sizeof(u->what), "is writable by everyone%s",
		         leaf ? "" : " and has no sticky bit");
		snprintf(u->fix, sizeof(u->fix), "chmod o-w %s%s%s%s", dir,
		         leaf ? "" : " (or chmod +t ", leaf ? "" : dir, leaf ? "" : ")");
	} else if (group && !sticky) {
		snprintf(u->what, sizeof(u->what), "is writable by group %u", (unsigned)st->st_gid);
		snprintf(u->fix, sizeof(u->fix), "chmod g-w %s", dir);
	} else {
		return false;
	}
	snprintf(u->dir, sizeof(u->dir), "%s", dir);
	u->leaf = leaf;
	return true;
}

/* cfg_path_unsafe -- PATH (absolute) and every folder above it up to /, by lstat: the first
 * one another user could change into U (true). A missing PATH is skipped up to the nearest
 * existing folder, which is then the leaf (the folder PATH would be made in). */
static bool cfg_path_unsafe(const char *path, struct cfg_unsafe *u)
{
	char dir[PATH_MAX];
	struct stat st;
	bool leaf = true;
	char *slash = NULL;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		return false; /* cannot be made either; the write reports it */
	}
	for (;;) {
		if (lstat(dir, &st) == 0) {
			if (cfg_folder_unsafe(dir, &st, leaf, u)) {
				return true;
			}
			leaf = false;
		}
		slash = strrchr(dir, '/');
		if (slash == NULL || strcmp(dir, "/") == 0) {
			return false;
		}
		if (slash == dir) {
			slash[1] = '\0'; /* "/x" -> "/" */
		} else {
			*slash = '\0';
		}
	}
}

/* cfg_real_unsafe -- cfg_path_unsafe of the real path of PATH's nearest existing folder,
 * when that differs from it (a symlink on the way). */
static bool cfg_real_unsafe(const char *path, struct cfg_unsafe *u)
{
	char near[PATH_MAX];
	char real[PATH_MAX];
	char *slash = NULL;

	if (snprintf(near, sizeof(near), "%s", path) >= (int)sizeof(near)) {
		return false;
	}
	while (realpath(near, real) == NULL) {
		slash = strrchr(near, '/');
		if (slash == NULL || slash == near) {
			return false;
		}
		*slash = '\0';
	}
	return strcmp(real, near) != 0 && cfg_path_unsafe(real, u);
}

/* cfg_check_private_dir -- nobody but root (or us) may change the folder DIR of key NAME
 * (it holds WHY) nor any folder above it: on its path as written (a symlink there owned by
 * another user is refused) and on its real path. Another user could otherwise swap it or
 * plant symlinks in it and make the daemon (root) write where they want, or `status` lie.
 * Returns true when DIR is safe (else the error is reported). */
static bool cfg_check_private_dir(struct cfg_parser *p, const char *name, const char *dir,
                                  const char *why, const char *example)
{
	struct cfg_unsafe u;
	char where[2 * PATH_MAX + 64];
	struct stat st;
	bool real = false;

	if (!cfg_path_unsafe(dir, &u)) {
		real = true;
		if (!cfg_real_unsafe(dir, &u)) {
			return true;
		}
	}
	if (real) {
		snprintf(where, sizeof(where), "%s leads to %s, which", dir, u.dir);
	} else if (strcmp(u.dir, dir) == 0) {
		snprintf(where, sizeof(where), "%s", dir);
	} else if (u.leaf && lstat(dir, &st) < 0) {
		snprintf(where, sizeof(where), "%s does not exist and %s, where it would be made,",
		         dir, u.dir);
	} else {
		snprintf(where, sizeof(where), "%s: %s, on the way to it,", dir, u.dir);
	}
	cfg_err_at(p, cfg_key_line(p, name),
	           "'%s' %s %s: %s, and another user could swap a folder or plant symlinks there "
	           "(the daemon runs as root); run %s, or use a folder only root can write, such "
	           "as %s",
	           name, where, u.what, why, u.fix, example);
	return false;
}

/* cfg_check_run_link -- the daemon opens the run directory without following a symlink (it
 * writes relative to that folder): the run directory itself may not be one. */
static void cfg_check_run_link(struct cfg_parser *p)
{
	const char *dir = p->cfg->run_dir;
	char real[PATH_MAX];
	struct stat st;

	if (lstat(dir, &st) < 0 || !S_ISLNK(st.st_mode)) {
		return;
	}
	if (realpath(dir, real) == NULL) {
		snprintf(real, sizeof(real), "the folder it names");
	}
	cfg_err_at(p, cfg_key_line(p, "run directory"),
	           "'run directory' %s is a symlink: the daemon writes into the folder itself, "
	           "never through a symlink; set 'run directory = %s'",
	           dir, real);
}

/* cfg_check_run_dir -- the run and state directories (see config_int.h). */
void cfg_check_run_dir(struct cfg_parser *p)
{
	if (cfg_check_private_dir(p, "run directory", p->cfg->run_dir,
	                          "the status and metrics files are written there",
	                          "/run/pxeimagesfs")) {
		cfg_check_run_link(p);
	}
	cfg_check_private_dir(p, "state directory", p->cfg->state_dir,
	                      "the inode map and the private smbd's state are kept there",
	                      "/var/lib/pxeimagesfs");
}
