/* system.c -- samba = system: our include file and a marked include line at the end of smb.conf.
 *
 * Plans every change in memory, has system_check.c look for other definitions and check the plan
 * with testparm on copies, then renames the real files into place (rolling back on failure) and
 * reloads smbd. Files are read and written through sys_file.c, programs run through run.c
 * (SIGCHLD must not be ignored). Not thread-safe;
 * concurrent runs on one smb.conf are not serialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "sys_int.h"

#define SYS_EXPORT_BUDGET_MS 120000 /* all programs of one samba_export together */

/* ---- the run: plan, check, commit ------------------------------------------------------------ */

static const char *verb(const struct sys_export *x, const char *would, const char *did)
{
	return x->o->dry_run ? would : did;
}

/* push_change -- takes ownership of TEXT (and of nothing else). */
static struct sys_change *push_change(struct sys_export *x, const char *path, const char *old,
                                      char *text)
{
	struct sys_change *nv = realloc(x->ch, (x->n_ch + 1) * sizeof(*nv));
	struct sys_change c = {.path = strdup(path), .old = old ? strdup(old) : NULL, .text = text};

	if (nv) {
		x->ch = nv;
	}
	if (!nv || !c.path || (old && !c.old)) {
		free(c.path);
		free(c.old);
		free(text);
		sys_fail(x, "out of memory");
		return NULL;
	}
	if (old && stat(path, &c.st) < 0) {
		c.st.st_mode = 0644;
	}
	x->ch[x->n_ch] = c;
	return &x->ch[x->n_ch++];
}

static void backup_name(const struct sys_export *x, const char *path, const char *suffix, char *out,
                        size_t len)
{
	snprintf(out, len, "%s.pxeimagesfs-bak.%s%s", path, x->stamp, suffix);
	for (int i = 1; i < 100 && access(out, F_OK) == 0; i++) {
		snprintf(out, len, "%s.pxeimagesfs-bak.%s.%d%s", path, x->stamp, i, suffix);
	}
}

/* ---- planning -------------------------------------------------------------------------------- */

/* change_for -- the change of file IDX (an included file), created on first use with a backup. */
static struct sys_change *change_for(struct sys_export *x, long idx)
{
	char bak[PATH_MAX + 64];
	struct sys_change *c = NULL;
	char *copy = NULL;

	for (size_t i = 0; i < x->n_ch; i++) {
		if (!strcmp(x->ch[i].path, x->files[idx].real)) {
			return &x->ch[i];
		}
	}
	copy = strdup(x->files[idx].text);
	c = copy ? push_change(x, x->files[idx].real, x->files[idx].text, copy) : NULL;
	backup_name(x, x->files[idx].real, "", bak, sizeof(bak));
	if (c && !(c->backup = strdup(bak))) {
		sys_fail(x, "out of memory");
		return NULL;
	}
	return c;
}

static int repair_file(struct sys_export *x, const struct sys_conflict *c)
{
	char bak[PATH_MAX + 64];
	struct sys_change *ch = NULL;
	char **text = NULL;
	char *nt = NULL;
	int last = c->line;

	if (c->file == 0) {
		text = &x->conf_base;
		if (!x->conf_backup) {
			backup_name(x, x->files[0].real, "", bak, sizeof(bak));
			x->conf_backup = strdup(bak);
		}
	} else if ((ch = change_for(x, c->file))) {
		text = &ch->text;
	}
	if (!text || (c->file == 0 && !x->conf_backup)) {
		return sys_fail(x, "out of memory");
	}
	nt = samba_conf_comment_section(*text, c->line, x->include, &last);
	if (!nt) {
		return sys_fail(x, "%s:%d: cannot comment out [%s] (out of memory)",
		                x->files[c->file].path, c->line, c->section);
	}
	free(*text);
	*text = nt;
	sb_put(&x->acts,
	       "%s:%d: %s [%s] (lines %d-%d, each now starts with '%s'); backup of "
	       "the old file: %s\n",
	       x->files[c->file].path, c->line, verb(x, "would comment out", "commented out"),
	       c->section, c->line, last, SAMBA_REPAIR_PREFIX,
	       c->file == 0 ? x->conf_backup : ch->backup);
	return 0;
}

/* repair_registry -- save every registry definition into one backup file. */
static int repair_registry(struct sys_export *x)
{
	struct sbuf b = {0};
	char bak[PATH_MAX + 64];
	size_t n = 0;

	backup_name(x, x->conf, ".registry", bak, sizeof(bak));
	sb_put(&b, "# registry shares deleted by 'pxeimagesfs export --repair' (%s)\n", x->stamp);
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file < 0) {
			sb_put(&b, "%s", x->cf[i].saved);
			sb_put(&x->acts,
			       "registry: %s share [%s] (net conf delshare); its settings are "
			       "kept in %s (restore: net conf import %s '%s')\n",
			       verb(x, "would delete", "deleted"), x->cf[i].section, bak, bak,
			       x->cf[i].section);
			n++;
		}
	}
	if (n == 0) {
		free(b.s);
		return 0;
	}
	return push_change(x, bak, NULL, sb_take(&b)) ? 0 : -1;
}

static int plan_repairs(struct sys_export *x)
{
	x->conf_base = strdup(x->conf_old);
	if (!x->conf_base) {
		return sys_fail(x, "out of memory");
	}
	if (!x->o->repair) {
		return 0;
	}
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file >= 0 && repair_file(x, &x->cf[i]) < 0) {
			return -1;
		}
	}
	return repair_registry(x);
}

static char *include_text(const struct sys_export *x)
{
	struct sbuf b = {0};
	char from[PATH_MAX];
	char *block = samba_share_block(x->cfg, x->mountpoint);

	if (!block) {
		return NULL;
	}
	sys_real_path(x->cfg->file, from, sizeof(from));
	samba_comment_safe(from, from, sizeof(from));
	sb_put(&b,
	       "# %s -- written by 'pxeimagesfs export' from %s\n"
	       "# Do not edit: it is rewritten on every export; change [share] there instead.\n",
	       x->include, from);
	if (x->cfg->share.samba == CFG_SAMBA_CTDB) {
		/* the include is the last line of smb.conf: nothing after it undoes this */
		sb_put(&b,
		       "[global]\n"
		       "\t# samba = ctdb: this smbd is one node of a CTDB cluster; ctdbd runs it\n"
		       "\tclustering = yes\n");
	}
	sb_put(&b, "%s", block);
	free(block);
	return sb_take(&b);
}

/* include_act -- what happens to our include line in smb.conf, for the report. */
static int include_act(struct sys_export *x)
{
	int moved = 0;
	char *same = samba_conf_add_include(x->conf_old, x->include, x->include);
	char *stripped = samba_conf_strip_include(x->conf_old, x->include, &moved);
	const char *smb = x->cfg->share.smb_conf;
	int rc = 0;

	if (!same || !stripped) {
		rc = sys_fail(x, "out of memory");
	} else if (!strcmp(same, x->conf_old)) {
		sb_put(&x->acts, "%s already includes %s as its last line\n", smb, x->include);
	} else {
		sb_put(&x->acts, "%s 'include = %s' %s the last line of %s\n",
		       moved ? verb(x, "would move", "moved") : verb(x, "would add", "added"),
		       x->include, moved ? "to" : "as", smb);
	}
	free(same);
	free(stripped);
	return rc;
}

/* conf_change -- replace smb.conf by x->conf_new, keeping a dated backup of the old text
 * (every rewrite of the administrator's file has one, not only a repair). */
static int conf_change(struct sys_export *x)
{
	char bak[PATH_MAX + 64];
	struct sys_change *c = NULL;
	bool fresh = x->conf_backup == NULL;
	char *t = NULL;

	if (fresh) {
		backup_name(x, x->conf, "", bak, sizeof(bak));
		x->conf_backup = strdup(bak);
	}
	t = x->conf_backup ? strdup(x->conf_new) : NULL;
	c = t ? push_change(x, x->conf, x->conf_old, t) : NULL;
	if (!c || !(c->backup = strdup(x->conf_backup))) {
		return sys_fail(x, "out of memory");
	}
	if (fresh) {
		sb_put(&x->acts, "%s a backup of the old %s: %s\n", verb(x, "would keep", "kept"),
		       x->cfg->share.smb_conf, x->conf_backup);
	}
	return 0;
}

/* plan_export -- our include file, then smb.conf with the include as its last line. */
static int plan_export(struct sys_export *x)
{
	char *t = NULL;

	x->inc_new = include_text(x);
	x->conf_new = samba_conf_add_include(x->conf_base, x->include, x->include);
	if (!x->inc_new || !x->conf_new) {
		return sys_fail(x, "out of memory");
	}
	if (x->inc_old && !strcmp(x->inc_old, x->inc_new)) {
		sb_put(&x->acts, "%s is up to date (share %s, path %s)\n", x->include, x->name,
		       x->share_path);
	} else if (!(t = strdup(x->inc_new)) || !push_change(x, x->inc_real, x->inc_old, t)) {
		return sys_fail(x, "out of memory");
	} else {
		sb_put(&x->acts, "%s %s: share %s with path %s\n", verb(x, "would write", "wrote"),
		       x->include, x->name, x->share_path);
	}
	if (include_act(x) < 0) {
		return -1;
	}
	if (!strcmp(x->conf_new, x->conf_old)) {
		return 0;
	}
	return conf_change(x);
}

/* plan_remove -- smb.conf without our lines, and no include file. */
static int plan_remove(struct sys_export *x)
{
	const char *smb = x->cfg->share.smb_conf;
	int n = 0;

	if (!x->conf_old) {
		sb_put(&x->acts, "%s does not exist: no include to remove\n", smb);
	} else if (!(x->conf_new = samba_conf_strip_include(x->conf_old, x->include, &n))) {
		return sys_fail(x, "out of memory");
	} else if (!strcmp(x->conf_new, x->conf_old)) {
		sb_put(&x->acts, "%s has no include of %s\n", smb, x->include);
	} else {
		sb_put(&x->acts, "%s the include of %s from %s\n",
		       verb(x, "would remove", "removed"), x->include, smb);
		if (conf_change(x) < 0) {
			return -1;
		}
	}
	if (!x->inc_old) {
		sb_put(&x->acts, "%s does not exist\n", x->include);
	} else if (!push_change(x, x->inc_real, x->inc_old, NULL)) {
		return -1;
	} else {
		sb_put(&x->acts, "%s %s\n", verb(x, "would delete", "deleted"), x->include);
	}
	return 0;
}

static int plan_scan(struct sys_export *x)
{
	if (sys_scan_file(x, 0, true, 0) < 0 || sys_scan_registry(x) < 0) {
		return -1;
	}
	return plan_repairs(x);
}

/* ---- commit ---------------------------------------------------------------------------------- */

static const char *root_hint(int err)
{
	return (err == -EACCES || err == -EPERM) && geteuid() != 0 ? " (run it as root)" : "";
}

static int commit_one(struct sys_export *x, struct sys_change *c)
{
	int rc = 0;

	if (c->backup && (rc = sys_file_write(c->backup, c->old, &c->st, true)) < 0) {
		return sys_fail(x, "cannot write the backup %s: %s%s; nothing was changed",
		                c->backup, strerror(-rc), root_hint(rc));
	}
	c->backup_done = c->backup != NULL;
	if (c->text) {
		rc = sys_file_write(c->path, c->text, c->old ? &c->st : NULL, false);
	} else if (unlink(c->path) < 0 && errno != ENOENT) {
		rc = -errno;
	} else {
		fileio_fsync_dir(c->path);
	}
	if (rc < 0) {
		return sys_fail(x, "cannot %s %s: %s%s; nothing was changed",
		                c->text ? "write" : "delete", c->path, strerror(-rc),
		                root_hint(rc));
	}
	c->applied = true;
	return 0;
}

static void rollback(struct sys_export *x)
{
	struct sys_change *c = NULL;

	for (size_t i = x->n_ch; i-- > 0;) {
		c = &x->ch[i];
		if (c->applied && c->old) {
			sys_file_write(c->path, c->old, &c->st, false);
		} else if (c->applied) {
			unlink(c->path);
		}
		if (c->backup_done) {
			unlink(c->backup);
		}
		c->applied = c->backup_done = false;
	}
}

static int delete_registry(struct sys_export *x)
{
	struct prog p = {0};
	char msg[512];
	int rc = 0;
	int ran = 0;

	for (size_t i = 0; i < x->n_cf && rc == 0 && x->o->repair; i++) {
		if (x->cf[i].file >= 0) {
			continue;
		}
		ran = sys_net_run(x, "delshare", x->cf[i].section, NULL, &p);
		if (ran < 0 || p.status != 0) {
			prog_msg(ran, &p, msg, sizeof(msg));
			rc = sys_fail(
			    x,
			    "'net conf delshare %s' failed (%s): delete the registry share by "
			    "hand; nothing was changed",
			    x->cf[i].section, msg);
		}
		prog_fini(&p);
	}
	return rc;
}

static int commit(struct sys_export *x)
{
	for (size_t i = 0; i < x->n_ch; i++) {
		if (commit_one(x, &x->ch[i]) < 0) {
			rollback(x);
			return -1;
		}
	}
	if (delete_registry(x) < 0) {
		rollback(x);
		return -1;
	}
	return 0;
}

/* ---- after the commit ------------------------------------------------------------------------ */

/* smbd_not_running -- smbcontrol found no smbd to talk to (its pid file names no live
 * process): Samba's own words, "Can't find pid for destination 'smbd'". */
static bool smbd_not_running(const struct prog *p)
{
	return p->status != 0 && ((p->err && strstr(p->err, "Can't find pid for destination")) ||
	                          (p->out && strstr(p->out, "Can't find pid for destination")));
}

static void reload(struct sys_export *x)
{
	char cf[PATH_MAX + 32];
	char msg[512];
	char *argv[] = {(char *)prog_name(x->o->smbcontrol, "smbcontrol"), cf, "smbd",
	                "reload-config", NULL};
	struct prog p = {0};
	int rc = 0;

	if (x->o->no_reload) {
		sb_put(&x->rep, "smbd not reloaded (no reload asked for)\n");
		return;
	}
	if (x->o->dry_run) {
		sb_put(&x->rep, "would reload smbd (smbcontrol smbd reload-config)\n");
		return;
	}
	snprintf(cf, sizeof(cf), "--configfile=%s", x->cfg->share.smb_conf);
	rc = prog_run(argv, &p);
	if (rc == 0 && p.status == 0) {
		sb_put(&x->rep, "reloaded smbd (smbcontrol smbd reload-config)\n");
	} else if (rc == 0 && smbd_not_running(&p)) {
		/* at boot pxeimagesfs starts before smbd (Before=smbd.service): nothing to say
		 * but that it reads the configuration as it starts */
		sb_put(&x->rep, "note: smbd is not running; it reads the new configuration when it "
		                "starts\n");
	} else {
		prog_msg(rc, &p, msg, sizeof(msg));
		sb_put(&x->rep,
		       "warning: smbd was not reloaded (%s: %s): if smbd runs, run "
		       "'smbcontrol smbd reload-config'; otherwise it reads the new configuration "
		       "when it starts\n",
		       argv[0], msg);
	}
	prog_fini(&p);
}

static void summary(struct sys_export *x)
{
	if (x->n_cf == 0 || x->o->repair || x->o->remove) {
		return;
	}
	sb_put(&x->rep,
	       "warning: %zu other definition%s of share %s left in place: run "
	       "'pxeimagesfs export --repair' to comment %s out (a backup is kept)\n",
	       x->n_cf, x->n_cf == 1 ? "" : "s", x->name, x->n_cf == 1 ? "it" : "them");
}

/* ---- the entry point ------------------------------------------------------------------------- */

/* reg_export_run -- the registry backend (registry.c), then what the file mode does after its
 * commit: report, reload. */
static int reg_export_run(struct sys_export *x)
{
	if (reg_run(x) < 0) {
		return -1;
	}
	sb_put(&x->rep, "%s", x->acts.s ? x->acts.s : "");
	if (!x->o->remove || x->reg_changed) {
		reload(x);
	}
	return 0;
}

static int mode_fail(struct sys_export *x)
{
	const char *why = x->cfg->share.samba == CFG_SAMBA_PRIVATE
	                      ? "the private smbd of 'pxeimagesfs mount' serves the share itself"
	                      : "no share is wanted";

	return sys_fail(
	    x,
	    "[share] samba = %s in %s: %s, so there is nothing to export to the system "
	    "smbd; set 'samba = system' (or ctdb) in [share] to share the view through it (or run "
	    "'pxeimagesfs export --remove' to take an earlier export out)",
	    cfg_samba_name(x->cfg->share.samba), x->cfg->file, why);
}

static int read_current(struct sys_export *x)
{
	const char *smb = x->cfg->share.smb_conf;
	char dir[PATH_MAX];
	char *copy = NULL;
	int rc = sys_file_read(x->conf, &x->conf_old);

	if (rc == -ENOENT && !x->o->remove) {
		return sys_fail(
		    x,
		    "%s does not exist: install Samba (Debian: apt install samba) or set "
		    "'smb.conf =' in [share] of %s; nothing was changed",
		    smb, x->cfg->file);
	}
	if (rc < 0 && rc != -ENOENT) {
		return sys_fail(x, "cannot read %s: %s%s; nothing was changed", smb,
		                sys_read_why(rc), root_hint(rc));
	}
	if (reg_choose(x) < 0) {
		return -1;
	}
	rc = sys_file_read(x->inc_real, &x->inc_old);
	if (rc < 0 && rc != -ENOENT) {
		return sys_fail(x, "cannot read %s: %s%s; nothing was changed", x->include,
		                sys_read_why(rc), root_hint(rc));
	}
	sys_dir_of(x->inc_real, dir, sizeof(dir));
	if (!x->o->remove && !x->reg && access(dir, F_OK) < 0) {
		return sys_fail(
		    x,
		    "the folder %s of the include file does not exist: create it or set "
		    "'include file =' in [share] of %s",
		    dir, x->cfg->file);
	}
	if (!x->conf_old) {
		return 0;
	}
	copy = strdup(x->conf_old);
	return copy ? sys_push_file(x, smb, x->conf, copy) : sys_fail(x, "out of memory");
}

static int exp_init(struct sys_export *x, const struct pxe_config *cfg, const char *mountpoint,
                    const struct samba_export_opts *o)
{
	static const struct samba_export_opts defaults = {0};
	time_t now = time(NULL);
	struct tm tm;

	x->cfg = cfg;
	x->o = o ? o : &defaults;
	x->name = cfg->share.name;
	x->include = cfg->share.include_file;
	x->mountpoint = mountpoint ? mountpoint : cfg->mountpoint;
	localtime_r(&now, &tm);
	strftime(x->stamp, sizeof(x->stamp), "%Y%m%d-%H%M%S", &tm);
	if (!cfg_samba_system(cfg) && !x->o->remove) {
		return mode_fail(x);
	}
	if (samba_share_path(cfg, x->mountpoint, x->share_path, sizeof(x->share_path)) < 0) {
		return sys_fail(x,
		                "the share path under %s is too long, or holds what smb.conf would "
		                "read otherwise (a control character, '%%', a '\\' at the end): "
		                "choose another mountpoint",
		                x->mountpoint);
	}
	sys_real_path(cfg->share.smb_conf, x->conf, sizeof(x->conf));
	sys_real_path(x->include, x->inc_real, sizeof(x->inc_real));
	if (!strcmp(x->conf, x->inc_real)) {
		return sys_fail(
		    x,
		    "[share] 'include file' and 'smb.conf' are the same file (%s) in %s: "
		    "give the include file a name of its own, e.g. "
		    "/etc/samba/pxeimagesfs.conf",
		    x->conf, cfg->file);
	}
	return read_current(x);
}

static void exp_fini(struct sys_export *x)
{
	for (size_t i = 0; i < x->n_files; i++) {
		free(x->files[i].path);
		free(x->files[i].real);
		free(x->files[i].text);
	}
	for (size_t i = 0; i < x->n_cf; i++) {
		free(x->cf[i].section);
		free(x->cf[i].path);
		free(x->cf[i].saved);
	}
	for (size_t i = 0; i < x->n_ch; i++) {
		free(x->ch[i].path);
		free(x->ch[i].old);
		free(x->ch[i].text);
		free(x->ch[i].backup);
	}
	free(x->files);
	free(x->cf);
	free(x->ch);
	free(x->conf_old);
	free(x->conf_base);
	free(x->conf_backup);
	free(x->inc_old);
	free(x->inc_new);
	free(x->conf_new);
	free(x->rep.s);
	free(x->acts.s);
}

static void report_copy(const struct sys_export *x, char *report, size_t len)
{
	static const char cut[] = "...(report truncated)\n";
	const char *s = x->rep.failed ? "error: out of memory\n" : x->rep.s ? x->rep.s : "";

	if (!report || len == 0) {
		return;
	}
	snprintf(report, len, "%s", s);
	if (strlen(s) >= len && len > sizeof(cut)) {
		memcpy(report + len - sizeof(cut), cut, sizeof(cut));
	}
}

/* samba_export -- see export.h. REPORT lines: "file:line: share ... also defined here ..."
 * (other definitions), "note: ..." (information), "warning: ..." (done, but the caller should
 * exit 1: definitions left in place, smbd not reloaded, testparm complaints that were there
 * before), plain lines for what was (or with dry_run would be) done, and on failure a last
 * "error: ..." line saying what is wrong and what to do. */
int samba_export(const struct pxe_config *cfg, const char *mountpoint,
                 const struct samba_export_opts *o, char *report, size_t len)
{
	struct sys_export x = {0};
	int rc = -1;

	prog_budget(o && o->timeout_ms > 0 ? o->timeout_ms : SYS_EXPORT_BUDGET_MS);
	if (exp_init(&x, cfg, mountpoint, o) < 0) {
		goto out;
	}
	if (x.reg) {
		rc = reg_export_run(&x);
		goto out;
	}
	if (!x.o->remove && plan_scan(&x) < 0) {
		goto out;
	}
	if ((x.o->remove ? plan_remove(&x) : plan_export(&x)) < 0 || sys_validate(&x) < 0) {
		goto out;
	}
	if (!x.o->dry_run && commit(&x) < 0) {
		goto out;
	}
	sb_put(&x.rep, "%s", x.acts.s ? x.acts.s : "");
	if (x.recheck && !x.o->dry_run) {
		sys_tp_path(&x, x.conf, true);
	}
	if (!x.o->remove || x.n_ch > 0) {
		reload(&x);
	}
	summary(&x);
	rc = 0;
out:
	if (rc < 0) {
		sb_put(&x.rep, "error: %s\n", x.err[0] ? x.err : "failed");
	}
	report_copy(&x, report, len);
	exp_fini(&x);
	prog_budget(0);
	return rc;
}

/* report_line -- the first line of REPORT starting with PREFIX, from its SKIP-th byte on,
 * into OUT; false when there is none. */
static bool report_line(const char *report, const char *prefix, size_t skip, char *out, size_t len)
{
	for (const char *l = report; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, prefix, strlen(prefix)) == 0) {
			samba_copy_out(out, len, l + skip, l + skip + strcspn(l + skip, "\n"));
			return true;
		}
	}
	return false;
}

void samba_export_summary(const char *report, bool failed, char *out, size_t len)
{
	if (len == 0) {
		return;
	}
	out[0] = '\0';
	if (failed && !report_line(report, "error: ", 7, out, len)) {
		snprintf(out, len, "failed");
	} else if (!failed && !report_line(report, "warning: ", 9, out, len)) {
		report_line(report, "note: smbd is not running", 6, out, len);
	}
}
