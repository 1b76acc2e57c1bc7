/* config_check.c -- what no key alone can see: the folders of [global] side by side.
 *
 * After a parse without errors (config.c calls it): the mountpoint, state and run
 * directories are not / nor inside /proc, /sys or /dev, none is inside another, and (for a
 * file, not a string) the run directory cannot be written by another user; with samba =
 * ctdb, the samba:KEY lines keep the fileid module and an algorithm every node agrees on.
 * Messages name the line of the key they are about. Also the hint for a file without drives
 * (cfg_no_drive_hint). No state; it touches the filesystem only with stat.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdio.h>
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

/* cfg_check_run_dir -- nobody but root (or us) may plant a file in the run directory:
 * the status file is written there. When it does not exist yet, its nearest existing
 * parent is checked (another user could create it first). */
void cfg_check_run_dir(struct cfg_parser *p)
{
	char dir[4096];
	struct stat st;
	char *slash = NULL;
	int line = cfg_key_line(p, "run directory");

	snprintf(dir, sizeof(dir), "%s", p->cfg->run_dir);
	while (stat(dir, &st) < 0 && (slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
	}
	if (slash == dir && stat(dir, &st) < 0) {
		snprintf(dir, sizeof(dir), "/");
		if (stat(dir, &st) < 0) {
			return;
		}
	}
	if ((st.st_mode & S_IWOTH) != 0 || (st.st_uid != 0 && st.st_uid != geteuid())) {
		cfg_err_at(
		    p, line,
		    "'run directory' %s%s%s is %s: another user could put a symlink "
		    "where the status file is written; use a folder only root can write, "
		    "such as /run/pxeimagesfs",
		    p->cfg->run_dir, strcmp(dir, p->cfg->run_dir) ? " does not exist and " : "",
		    strcmp(dir, p->cfg->run_dir) ? dir : "",
		    (st.st_mode & S_IWOTH) ? "writable by everyone" : "owned by another user");
	}
}
