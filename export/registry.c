/* registry.c -- samba = system (or ctdb) with the share in Samba's registry (`net conf`), the
 * configuration backend CTDB clusters keep their shares in (CTDB replicates it to every node).
 *
 * Which backend smb.conf uses ([share] samba config = auto), then the share defined, updated or
 * removed with `net conf import` / `delshare` (run through run.c, no shell, a "--" before every
 * name). Only our share is touched: the registry's globals and other shares are left alone. Not
 * thread-safe: one struct sys_export is one run, on one thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sys_int.h"

/* ---- which backend ----------------------------------------------------------------------------
 */

/* scan_global -- the registry settings of smb.conf's global part (before the first section
 * other than [global]): 'config backend = registry', 'include = registry'. */
static void scan_global(struct sys_export *x)
{
	char name[128];
	char value[256];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool global = true;

	while (x->conf_old && samba_next_line(x->conf_old, &pos, &line, &n)) {
		enum samba_line_kind k =
		    samba_conf_line(line, n, name, sizeof(name), value, sizeof(value));
		if (k == SAMBA_LINE_SECTION) {
			global = samba_name_eq(name, "global");
		} else if (k == SAMBA_LINE_PARAM && global) {
			if (samba_name_eq(name, "config backend")) {
				x->reg_backend = !strcasecmp(value, "registry");
			} else if (samba_name_eq(name, "include") &&
			           !strcasecmp(value, "registry")) {
				x->reg_include = true;
			} else if (samba_name_eq(name, "clustering")) {
				x->reg_clustering = !strcasecmp(value, "yes") ||
				                    !strcasecmp(value, "true") ||
				                    !strcmp(value, "1");
			}
		}
	}
}

static const char *backend_words(const struct sys_export *x)
{
	return x->reg_backend   ? "'config backend = registry'"
	       : x->reg_include ? "'include = registry'"
	                        : "no registry setting";
}

int reg_choose(struct sys_export *x)
{
	enum cfg_samba_config want = x->cfg->share.samba_config;
	const char *smb = x->cfg->share.smb_conf;

	scan_global(x);
	if (want == CFG_SAMBA_CONFIG_FILE && x->reg_backend && !x->o->remove) {
		return sys_fail(x,
		                "%s says 'config backend = registry': smbd ignores its other lines "
		                "and every file it includes, so a share written there is never "
		                "served; set 'samba config = registry' (or auto) in [share] of %s; "
		                "nothing was changed",
		                smb, x->cfg->file);
	}
	if (want == CFG_SAMBA_CONFIG_REGISTRY && !x->reg_backend && !x->reg_include &&
	    !x->o->remove) {
		return sys_fail(x,
		                "[share] samba config = registry in %s, but %s reads no registry "
		                "shares: add 'include = registry' (or 'config backend = "
		                "registry') to its [global], or set 'samba config = file'; nothing "
		                "was changed",
		                x->cfg->file, x->conf_old ? smb : "the missing smb.conf");
	}
	x->reg = want == CFG_SAMBA_CONFIG_REGISTRY ||
	         (want == CFG_SAMBA_CONFIG_AUTO && (x->reg_backend || x->reg_include));
	return 0;
}

/* ---- net conf ---------------------------------------------------------------------------------
 */

/* net_fail -- the reason 'net conf WHAT' failed, quoting net. */
static int net_fail(struct sys_export *x, int rc, const struct prog *p, const char *what,
                    const char *after)
{
	char msg[512];

	prog_msg(rc, p, msg, sizeof(msg));
	return sys_fail(
	    x, "'net conf %s %s' failed: %s%s%s", what, x->name, msg,
	    rc == -ENOENT ? " (install Samba's tools: apt install samba-common-bin)" : "", after);
}

/* reg_current -- our share as `net conf showshare` prints it into *OUT (malloc'd), or NULL
 * when the registry has no such share. */
static int reg_current(struct sys_export *x, char **out)
{
	struct prog p = {0};
	int rc = sys_net_run(x, "showshare", x->name, NULL, &p);

	*out = NULL;
	if (rc == 0 && p.status == 0) {
		*out = p.out;
		p.out = NULL;
	} else if (rc == 0 && ((p.err && strstr(p.err, "SBC_ERR_NO_SUCH_SERVICE")) ||
	                       (p.out && strstr(p.out, "SBC_ERR_NO_SUCH_SERVICE")))) {
		rc = 0;
	} else {
		rc = net_fail(x, rc, &p, "showshare", "; nothing was changed");
	}
	prog_fini(&p);
	return rc;
}

/* ---- comparing a share's parameters -----------------------------------------------------------
 */

/* param_of -- the value of parameter NAME in the share text TEXT (one section) into VALUE;
 * false when it has none. */
static bool param_of(const char *text, const char *name, char *value, size_t vlen)
{
	char k[256];
	char v[PATH_MAX + 256];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool found = false;

	while (text && samba_next_line(text, &pos, &line, &n)) {
		if (samba_conf_line(line, n, k, sizeof(k), v, sizeof(v)) == SAMBA_LINE_PARAM &&
		    samba_name_eq(k, name)) {
			snprintf(value, vlen, "%s", v);
			found = true;
		}
	}
	return found;
}

/* diff -- into x->acts each parameter of FROM whose value in TO differs (WHAT: "set") or that
 * TO lacks (WHAT: "remove"); returns how many. */
static size_t diff(struct sys_export *x, const char *from, const char *to, bool set)
{
	char k[256];
	char v[PATH_MAX + 256];
	char other[PATH_MAX + 256];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	size_t count = 0;

	while (from && samba_next_line(from, &pos, &line, &n)) {
		if (samba_conf_line(line, n, k, sizeof(k), v, sizeof(v)) != SAMBA_LINE_PARAM) {
			continue;
		}
		if (set && (!param_of(to, k, other, sizeof(other)) || strcmp(other, v) != 0)) {
			sb_put(&x->acts, "registry: share %s: %s %s = %s\n", x->name,
			       x->o->dry_run ? "would set" : "set", k, v);
			count++;
		} else if (!set && !param_of(to, k, other, sizeof(other))) {
			sb_put(&x->acts, "registry: share %s: %s %s (not in the generated share)\n",
			       x->name, x->o->dry_run ? "would remove" : "removed", k);
			count++;
		}
	}
	return count;
}

/* ---- export -----------------------------------------------------------------------------------
 */

/* import -- TEXT (one share section) into the registry as our share: `net conf import FILE
 * NAME` replaces the share in one registry transaction. */
static int import(struct sys_export *x, const char *text, const char *after)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];
	struct prog p = {0};
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/pxeimagesfs-registry.XXXXXX",
	         tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		return sys_fail(x, "cannot create a temporary folder (%s): %s; nothing was changed",
		                dir, strerror(errno));
	}
	snprintf(file, sizeof(file), "%s/share.conf", dir);
	rc = sys_file_write(file, text, NULL, true);
	if (rc < 0) {
		rc = sys_fail(x, "cannot write %s: %s; nothing was changed", file, strerror(-rc));
	} else if ((rc = sys_net_run(x, "import", file, x->name, &p)) < 0 || p.status != 0) {
		rc = net_fail(x, rc, &p, "import FILE", after);
	}
	prog_fini(&p);
	unlink(file);
	rmdir(dir);
	return rc;
}

static int delshare(struct sys_export *x, const char *after)
{
	struct prog p = {0};
	int rc = sys_net_run(x, "delshare", x->name, NULL, &p);

	if (rc < 0 || p.status != 0) {
		rc = net_fail(x, rc, &p, "delshare", after);
	}
	prog_fini(&p);
	return rc;
}

/* undo -- put back the share as it was (OLD, or no share), after a failed check. */
static void undo(struct sys_export *x, const char *old)
{
	char keep[SYS_ERR_MAX];

	memcpy(keep, x->err, sizeof(keep));
	if ((old ? import(x, old, "") : delshare(x, "")) < 0) {
		snprintf(keep + strlen(keep), sizeof(keep) - strlen(keep),
		         "; putting the registry share back failed too (%.900s): check 'net conf "
		         "showshare %s'",
		         x->err, x->name);
	} else {
		snprintf(keep + strlen(keep), sizeof(keep) - strlen(keep),
		         "; the registry share was put back as it was");
	}
	memcpy(x->err, keep, sizeof(keep));
}

/* backup_old -- a foreign share of our name (another path): kept in a file before --repair
 * replaces it. */
static int backup_old(struct sys_export *x, const char *old, const char *path)
{
	char bak[PATH_MAX + 64];
	int rc = 0;

	snprintf(bak, sizeof(bak), "%s.pxeimagesfs-bak.%s.registry", x->conf, x->stamp);
	if (x->o->dry_run) {
		sb_put(&x->acts, "registry: would save share %s (path %s) to %s and replace it\n",
		       x->name, path, bak);
		return 0;
	}
	if ((rc = sys_file_write(bak, old, NULL, true)) < 0) {
		return sys_fail(x, "cannot write the backup %s: %s; nothing was changed", bak,
		                strerror(-rc));
	}
	sb_put(&x->acts,
	       "registry: saved share %s (path %s) to %s before replacing it (restore: net conf "
	       "import %s '%s')\n",
	       x->name, path, bak, bak, x->name);
	return 0;
}

/* owned -- may we replace OLD (the registry's share of our name)? Its path is ours, or --repair. */
static int owned(struct sys_export *x, const char *old)
{
	char path[PATH_MAX];

	if (!old ||
	    (param_of(old, "path", path, sizeof(path)) && samba_path_eq(path, x->share_path))) {
		return 0;
	}
	if (!param_of(old, "path", path, sizeof(path))) {
		snprintf(path, sizeof(path), "(none)");
	}
	if (!x->o->repair) {
		return sys_fail(
		    x,
		    "registry: share %s already exists with path %s, not the view's %s "
		    "(net conf showshare '%s'): it is not ours; run 'pxeimagesfs export "
		    "--repair' to replace it (its settings are saved first); nothing was "
		    "changed",
		    x->name, path, x->share_path, x->name);
	}
	return backup_old(x, old, path);
}

/* check_block -- testparm on the generated share alone, as `config check` does. */
static int check_block(struct sys_export *x)
{
	char err[SYS_ERR_MAX - 64];
	int rc = samba_check_config(x->cfg, x->o->testparm, err, sizeof(err));

	if (rc == 1) {
		return sys_fail(x, "%s; nothing was changed", err + strlen("note: "));
	}
	if (rc < 0) {
		return sys_fail(x, "testparm rejects the generated share: %s; nothing was changed",
		                err);
	}
	return 0;
}

static int reg_define(struct sys_export *x, const char *old, const char *block)
{
	size_t n = diff(x, block, old, true) + diff(x, old, block, false);

	if (old && n == 0) {
		sb_put(&x->acts, "registry: share %s is up to date (path %s)\n", x->name,
		       x->share_path);
		return 0;
	}
	if (!old) {
		sb_put(&x->acts, "registry: %s share %s with path %s (net conf import)\n",
		       x->o->dry_run ? "would create" : "created", x->name, x->share_path);
	}
	if (x->o->dry_run) {
		return 0;
	}
	x->reg_changed = true;
	return import(x, block, "; the registry is unchanged (net conf import is one transaction)");
}

static int reg_export(struct sys_export *x)
{
	char *old = NULL;
	char *block = samba_share_block(x->cfg, x->mountpoint);
	int rc = -1;

	if (!block) {
		sys_fail(x, "out of memory");
		goto out;
	}
	if (reg_current(x, &old) < 0 || owned(x, old) < 0 || check_block(x) < 0 ||
	    reg_define(x, old, block) < 0) {
		goto out;
	}
	if (x->reg_changed && sys_tp_path(x, x->conf, false) < 0) {
		undo(x, old);
		goto out;
	}
	if (!x->reg_changed && !x->o->dry_run && sys_tp_path(x, x->conf, false) < 0) {
		goto out;
	}
	rc = 0;
out:
	free(old);
	free(block);
	return rc;
}

/* ---- remove -----------------------------------------------------------------------------------
 */

static int reg_remove(struct sys_export *x)
{
	char path[PATH_MAX];
	char *old = NULL;
	int rc = reg_current(x, &old);

	if (rc < 0) {
		return -1;
	}
	if (!old) {
		sb_put(&x->acts, "registry: no share %s to remove\n", x->name);
	} else if (!param_of(old, "path", path, sizeof(path)) ||
	           !samba_path_eq(path, x->share_path)) {
		sb_put(&x->rep,
		       "warning: registry: share %s has path %s, not the view's %s: not ours, "
		       "left in place\n",
		       x->name, param_of(old, "path", path, sizeof(path)) ? path : "(none)",
		       x->share_path);
	} else if (x->o->dry_run) {
		sb_put(&x->acts, "registry: would delete share %s (net conf delshare)\n", x->name);
	} else if ((rc = delshare(x, "; nothing was changed")) == 0) {
		x->reg_changed = true;
		sb_put(&x->acts, "registry: deleted share %s (net conf delshare)\n", x->name);
	}
	free(old);
	return rc;
}

/* ---- the entry point --------------------------------------------------------------------------
 */

static void notes(struct sys_export *x)
{
	int n = 0;
	char *stripped = x->conf_old ? samba_conf_strip_include(x->conf_old, x->include, &n) : NULL;

	sb_put(&x->rep,
	       "note: share %s is kept in Samba's registry (samba config = %s; %s in %s; net "
	       "conf)\n",
	       x->name, cfg_samba_config_name(x->cfg->share.samba_config), backend_words(x),
	       x->cfg->share.smb_conf);
	if (n > 0) {
		sb_put(&x->rep,
		       "warning: %s still includes %s (an export with samba config = file): run "
		       "'pxeimagesfs export --remove' with 'samba config = file' to take it out\n",
		       x->cfg->share.smb_conf, x->include);
	}
	free(stripped);
	if (x->cfg->share.samba == CFG_SAMBA_CTDB && !x->reg_clustering && !x->o->remove) {
		sb_put(&x->rep,
		       "warning: samba = ctdb: %s does not say 'clustering = yes' in [global], and "
		       "the registry mode writes only the share: add it there\n",
		       x->cfg->share.smb_conf);
	}
}

int reg_run(struct sys_export *x)
{
	notes(x);
	if (x->reg_backend && !x->o->remove) {
		/* smbd reads no file but smb.conf's [global]: other file definitions do not count
		 */
	} else if (!x->o->remove && sys_scan_file(x, 0, true, 0) < 0) {
		return -1;
	}
	return x->o->remove ? reg_remove(x) : reg_export(x);
}
