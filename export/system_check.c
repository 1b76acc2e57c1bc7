/* system_check.c -- what the system smbd would make of our change: the other definitions of
 * the share (smb.conf, the files it includes, registry shares) and testparm on the plan.
 *
 * It reads and reports; system.c plans and makes the changes. Runs net and testparm through
 * run.c. Not thread-safe: one struct sys_export is one run, on one thread (the name of the
 * folder of testparm's copies alone is kept under a lock, for export_tmp_cleanup()).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sys_int.h"

#define SYS_MAX_DEPTH 16

/* ---- finding other definitions --------------------------------------------------------------- */

static int push_conflict(struct sys_export *x, long file, int line, const char *section,
                         const char *path, char *saved)
{
	struct sys_conflict *nv = realloc(x->cf, (x->n_cf + 1) * sizeof(*nv));
	struct sys_conflict c = {file, line, strdup(section), path ? strdup(path) : NULL, saved};

	if (nv) {
		x->cf = nv;
	}
	if (!nv || !c.section || (path && !c.path)) {
		free(c.section);
		free(c.path);
		free(saved);
		return sys_fail(x, "out of memory");
	}
	x->cf[x->n_cf++] = c;
	return 0;
}

static bool same_path(const char *a, const char *b)
{
	return samba_path_eq(a, b);
}

static void report_conflict(struct sys_export *x, const struct sys_conflict *c)
{
	char where[PATH_MAX + 64];

	if (c->file < 0) {
		snprintf(where, sizeof(where), "registry (net conf showshare '%s')", c->section);
	} else {
		snprintf(where, sizeof(where), "%s:%d", x->files[c->file].path, c->line);
	}
	if (!c->path) {
		sb_put(&x->rep,
		       "%s: share %s also defined here without a path (a duplicate: its settings "
		       "mix into the share)\n",
		       where, c->section);
	} else if (same_path(c->path, x->share_path)) {
		sb_put(&x->rep,
		       "%s: share %s also defined here with the same path %s (a duplicate: its "
		       "other settings mix into the share)\n",
		       where, c->section, c->path);
	} else {
		sb_put(&x->rep,
		       "%s: share %s also defined here with path %s (the share would not serve "
		       "the view)\n",
		       where, c->section, c->path);
	}
}

/* follow -- the file an include line of file IDX names, when we can read it. */
static int follow(struct sys_export *x, size_t idx, const struct samba_conf_inc *inc, int depth)
{
	char real[PATH_MAX];
	char *text = NULL;
	const char *from = x->files[idx].path;
	int rc = 0;

	if (strchr(inc->file, '%')) {
		sb_put(&x->rep,
		       "note: %s:%d: include = %s has %%-macros (it depends on the client); "
		       "not searched for other definitions of %s\n",
		       from, inc->line, inc->file, x->name);
		return 0;
	}
	if (inc->file[0] != '/') {
		sb_put(&x->rep, "note: %s:%d: include = %s is a relative path; not searched\n",
		       from, inc->line, inc->file);
		return 0;
	}
	sys_real_path(inc->file, real, sizeof(real));
	if (!strcmp(inc->file, x->include) || !strcmp(real, x->inc_real)) {
		return 0;
	}
	for (size_t i = 0; i < x->n_files; i++) {
		if (!strcmp(x->files[i].real, real)) {
			return 0;
		}
	}
	if (depth >= SYS_MAX_DEPTH) {
		return 0;
	}
	rc = sys_file_read(real, &text);
	if (rc == -EINVAL || rc == -EFBIG || rc == -EILSEQ || rc == -EISDIR) {
		return sys_fail(x,
		                "%s:%d: include = %s: %s; smbd cannot use it as configuration: "
		                "fix or remove that line; nothing was changed",
		                from, inc->line, inc->file, sys_read_why(rc));
	}
	if (rc < 0) {
		return 0; /* smbd skips a missing include too */
	}
	if (sys_push_file(x, inc->file, real, text) < 0) {
		return -1;
	}
	return sys_scan_file(x, x->n_files - 1, inc->global, depth + 1);
}

int sys_scan_file(struct sys_export *x, size_t idx, bool global, int depth)
{
	struct samba_conf_facts f = {0};
	int rc = -1;

	if (samba_conf_scan(x->files[idx].text, x->name, global, &f) < 0) {
		sys_fail(x, "out of memory");
		goto out;
	}
	x->registry = x->registry || f.registry;
	for (size_t i = 0; i < f.n_defs; i++) {
		if (push_conflict(x, (long)idx, f.defs[i].line, f.defs[i].section, f.defs[i].path,
		                  NULL) < 0) {
			goto out;
		}
		report_conflict(x, &x->cf[x->n_cf - 1]);
	}
	for (size_t i = 0; i < f.n_incs; i++) {
		if (follow(x, idx, &f.incs[i], depth) < 0) {
			goto out;
		}
	}
	rc = 0;
out:
	samba_conf_facts_fini(&f);
	return rc;
}

int sys_net_run(struct sys_export *x, const char *what, const char *a, const char *b,
                struct prog *p)
{
	char cf[PATH_MAX + 32];
	char *argv[] = {(char *)prog_name(x->o->net, "net"),
	                cf,
	                "conf",
	                (char *)what,
	                "--",
	                (char *)a,
	                (char *)b,
	                NULL};

	snprintf(cf, sizeof(cf), "--configfile=%s", x->conf);
	return prog_run(argv, p);
}

static int scan_registry_share(struct sys_export *x, const char *share)
{
	struct samba_conf_facts f = {0};
	struct prog p = {0};
	char msg[512];
	int rc = sys_net_run(x, "showshare", share, NULL, &p);

	if (rc < 0 || p.status != 0) {
		prog_msg(rc, &p, msg, sizeof(msg));
		sb_put(&x->rep, "note: registry share %s: 'net conf showshare' failed (%s)\n",
		       share, msg);
		rc = 0;
		goto out;
	}
	rc = -1;
	if (samba_conf_scan(p.out, share, false, &f) < 0) {
		sys_fail(x, "out of memory");
		goto out;
	}
	if (push_conflict(x, -1, 0, share, f.n_defs ? f.defs[0].path : NULL, p.out) < 0) {
		p.out = NULL;
		goto out;
	}
	p.out = NULL;
	report_conflict(x, &x->cf[x->n_cf - 1]);
	rc = 0;
out:
	samba_conf_facts_fini(&f);
	prog_fini(&p);
	return rc;
}

/* sys_scan_registry -- registry shares of the same name (only when the registry is in use). */
int sys_scan_registry(struct sys_export *x)
{
	struct prog p = {0};
	char name[256];
	char msg[512];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int rc = 0;

	if (!x->registry) {
		return 0;
	}
	rc = sys_net_run(x, "listshares", NULL, NULL, &p);
	if (rc < 0 || p.status != 0) {
		prog_msg(rc, &p, msg, sizeof(msg));
		rc = 0;
		sb_put(&x->rep,
		       "note: registry shares are enabled but 'net conf listshares' failed "
		       "(%s); check them with 'net conf listshares'\n",
		       msg);
		goto out;
	}
	while (rc == 0 && samba_next_line(p.out, &pos, &line, &n)) {
		samba_copy_out(name, sizeof(name), samba_skip_ws(line, line + n),
		               samba_trim_end(line, line + n));
		if (samba_name_eq(name, x->name)) {
			rc = scan_registry_share(x, name);
		}
	}
out:
	prog_fini(&p);
	return rc;
}

/* ---- testparm -------------------------------------------------------------------------------- */

static int tp_run(struct sys_export *x, const char *conf, struct prog *p)
{
	char *argv[] = {(char *)prog_name(x->o->testparm, "testparm"), "-s", "--suppress-prompt",
	                (char *)conf, NULL};
	int rc = prog_run(argv, p);
	char msg[256];

	if (rc == -ETIMEDOUT || (rc == 0 && p->status == -1)) {
		prog_msg(rc, p, msg, sizeof(msg));
		return sys_fail(
		    x,
		    "%s %s (is a file smb.conf includes on a hung filesystem?); nothing "
		    "was changed",
		    argv[0], msg);
	}
	if (rc < 0) {
		return sys_fail(x,
		                "cannot run %s: %s; install Samba's tools (Debian: apt install "
		                "samba-common-bin); nothing was changed",
		                argv[0], strerror(-rc));
	}
	return 0;
}

static bool listed(const char *list, const char *name)
{
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;

	while (samba_next_line(list, &pos, &line, &n)) {
		if (n == strlen(name) && !strncasecmp(line, name, n)) {
			return true;
		}
	}
	return false;
}

static const struct cfg_param *our_param(const struct sys_export *x, const char *name)
{
	for (size_t i = 0; i < x->cfg->share.n_params; i++) {
		if (samba_name_eq(x->cfg->share.params[i].key, name)) {
			return &x->cfg->share.params[i];
		}
	}
	return NULL;
}

/* tp_unknown -- parameters testparm ignores: ours (or new) sys_fail, old ones are warnings. */
static int tp_unknown(struct sys_export *x, const char *unk, const char *base)
{
	struct sbuf bad = {0};
	char name[512];
	const struct cfg_param *cp = NULL;
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;

	while (samba_next_line(unk, &pos, &line, &n)) {
		samba_copy_out(name, sizeof(name), line, line + n);
		if ((cp = our_param(x, name))) {
			sb_put(&bad, "%s'%s' (samba:%s at %s:%d)", bad.len ? ", " : "", name,
			       cp->key, x->cfg->file, cp->line);
		} else if (listed(base, name)) {
			sb_put(&x->rep,
			       "warning: testparm: unknown parameter '%s' in %s or a file it "
			       "includes (there before this change, not ours): fix or remove it\n",
			       name, x->cfg->share.smb_conf);
		} else {
			sb_put(&bad,
			       "%s'%s' (in the generated share block: this Samba does not "
			       "know it)",
			       bad.len ? ", " : "", name);
		}
	}
	if (bad.len == 0) {
		free(bad.s);
		return 0;
	}
	sys_fail(x,
	         "testparm does not know the parameter %s: correct or remove it in [share] of %s; "
	         "nothing was changed",
	         bad.s ? bad.s : "?", x->cfg->file);
	free(bad.s);
	return -1;
}

static int tp_check(struct sys_export *x, const char *conf)
{
	struct prog p = {0};
	struct prog base = {0};
	char *unk = NULL;
	char *base_unk = NULL;
	char *why = NULL;
	int rc = -1;

	if (tp_run(x, conf, &p) < 0) {
		goto out;
	}
	unk = samba_testparm_unknown(p.err);
	if (unk && (*unk || p.status != 0) && tp_run(x, x->conf, &base) < 0) {
		goto out;
	}
	base_unk = samba_testparm_unknown(base.err ? base.err : "");
	why = samba_testparm_errors(p.err);
	if (!unk || !base_unk || !why) {
		sys_fail(x, "out of memory");
	} else if (tp_unknown(x, unk, base_unk) < 0) {
		rc = -1; /* the reason is in x->err */
	} else if (p.status == 0) {
		rc = 0;
	} else if (x->o->remove && base.status != 0) {
		/* taking our lines out cannot make a broken smb.conf worse */
		sb_put(&x->rep,
		       "warning: testparm rejects %s with and without our include: %s; fix "
		       "it ('testparm -s' shows why)\n",
		       x->cfg->share.smb_conf, *why ? why : "?");
		rc = 0;
	} else {
		sys_fail(
		    x,
		    "testparm rejects the new configuration (exit %d): %s%s; nothing was changed",
		    p.status, *why ? why : "no reason given",
		    base.status != 0
		        ? " -- smb.conf fails testparm already without our change: fix "
		          "that first ('testparm -s' shows why)"
		        : "");
	}
out:
	free(unk);
	free(base_unk);
	free(why);
	prog_fini(&p);
	prog_fini(&base);
	return rc;
}

static bool registry_has(const struct sys_export *x, const char *path)
{
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file < 0 && x->cf[i].path && same_path(x->cf[i].path, path)) {
			return true;
		}
	}
	return false;
}

static void tp_path_fail(struct sys_export *x, const char *got, bool after)
{
	const char *hint = "see the other definitions listed above";

	if (our_param(x, "path") || our_param(x, "directory")) {
		hint = "a 'samba:path' line in [share] replaces the view's path: remove it";
	} else if (registry_has(x, got)) {
		hint =
		    "the registry share wins: run 'pxeimagesfs export --repair' to delete it (its "
		    "settings are saved first)";
	}

	if (after) {
		sb_put(&x->rep,
		       "warning: after deleting the registry share testparm sees share %s "
		       "with path '%s', not %s: check 'testparm -s %s'\n",
		       x->name, got, x->share_path, x->cfg->share.smb_conf);
	} else if (!*got) {
		sys_fail(x,
		         "with our %s, testparm does not see share %s at all: is smb.conf read "
		         "from %s ('config backend', 'config file' in %s)? nothing was changed",
		         x->reg ? "registry share" : "include", x->name,
		         x->reg ? "the registry" : "files", x->cfg->share.smb_conf);
	} else {
		sys_fail(x,
		         "with our %s, testparm sees share %s with path %s, not %s: another "
		         "definition overrides ours; %s; nothing was changed",
		         x->reg ? "registry share" : "include", x->name, got, x->share_path, hint);
	}
}

/* sys_tp_path -- the effective path of the share in CONF must be ours. AFTER: the
 * real files, after a repair (a mismatch is then only a warning). */
int sys_tp_path(struct sys_export *x, const char *conf, bool after)
{
	char sect[512];
	char got[PATH_MAX];
	char *argv[] = {(char *)prog_name(x->o->testparm, "testparm"),
	                "-s",
	                sect,
	                "--parameter-name=path",
	                (char *)conf,
	                NULL};
	struct prog p = {0};
	int rc = -1;

	snprintf(sect, sizeof(sect), "--section-name=%s", x->name);
	rc = prog_run(argv, &p);
	if (rc < 0) {
		rc = sys_fail(x, "cannot run %s: %s; nothing was changed", argv[0], strerror(-rc));
		goto out;
	}
	samba_first_line(p.status == 0 ? p.out : "", got, sizeof(got));
	rc = 0;
	if (*got && same_path(got, x->share_path)) {
		sb_put(&x->rep, "testparm: the %s configuration is valid; share %s has path %s\n",
		       after ? "repaired" : "new", x->name, got);
	} else if (!after && x->o->repair && registry_has(x, got)) {
		x->recheck = true;
		sb_put(&x->rep,
		       "testparm: the new configuration is valid; share %s has path %s "
		       "until the registry share is deleted\n",
		       x->name, got);
	} else {
		tp_path_fail(x, got, after);
		rc = after ? 0 : -1;
	}
out:
	prog_fini(&p);
	return rc;
}

/* The folder of testparm's copies while it exists (one export runs at a time in a process), so
 * that a daemon stopping while its export thread waits on testparm removes it. */
static pthread_mutex_t tmp_mu = PTHREAD_MUTEX_INITIALIZER;
static char tmp_dir[PATH_MAX];

static void tmp_remove_locked(void)
{
	char path[PATH_MAX + 32];

	if (!tmp_dir[0]) {
		return;
	}
	snprintf(path, sizeof(path), "%s/pxeimagesfs.conf", tmp_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/smb.conf", tmp_dir);
	unlink(path);
	rmdir(tmp_dir);
	tmp_dir[0] = '\0';
}

void export_tmp_cleanup(void)
{
	pthread_mutex_lock(&tmp_mu);
	tmp_remove_locked();
	pthread_mutex_unlock(&tmp_mu);
}

/* mkdtemp DIR, remembered for export_tmp_cleanup(); -1 with errno when it fails */
static int tmp_make(char *dir)
{
	int rc = 0;

	pthread_mutex_lock(&tmp_mu);
	tmp_remove_locked(); /* one at a time: an earlier run's, if any, is over */
	if (!mkdtemp(dir)) {
		rc = -1;
	} else {
		snprintf(tmp_dir, sizeof(tmp_dir), "%s", dir);
	}
	pthread_mutex_unlock(&tmp_mu);
	return rc;
}

/* sys_validate -- testparm on copies of the new smb.conf and include file in a temporary folder. */
int sys_validate(struct sys_export *x)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	char conf[PATH_MAX + 16];
	char inc[PATH_MAX + 32];
	char *cand = NULL;
	int rc = -1;

	if (!x->conf_new || (x->o->remove && !strcmp(x->conf_new, x->conf_old))) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/pxeimagesfs-export.XXXXXX",
	         tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (tmp_make(dir) < 0) {
		return sys_fail(x, "cannot create a temporary folder for testparm (%s): %s", dir,
		                strerror(errno));
	}
	snprintf(conf, sizeof(conf), "%s/smb.conf", dir);
	snprintf(inc, sizeof(inc), "%s/pxeimagesfs.conf", dir);
	cand = x->o->remove ? strdup(x->conf_new)
	                    : samba_conf_add_include(x->conf_base, x->include, inc);
	if (!cand) {
		sys_fail(x, "out of memory");
	} else if ((!x->o->remove && (rc = sys_file_write(inc, x->inc_new, NULL, false)) < 0) ||
	           (rc = sys_file_write(conf, cand, NULL, false)) < 0) {
		rc = sys_fail(x, "cannot write the copies for testparm in %s: %s", dir,
		              strerror(-rc));
	} else {
		rc = tp_check(x, conf);
		rc = rc == 0 && !x->o->remove ? sys_tp_path(x, conf, false) : rc;
	}
	export_tmp_cleanup();
	free(cand);
	return rc;
}

/* ---- config check: the generated text alone ---------------------------------------------------
 */

/* conf_text -- the smb.conf testparm checks for CFG: an empty [global] and the generated
 * share block (the private smbd's [global] is ours; its folders need not exist yet).
 * Malloc'd, or NULL. */
static char *conf_text(const struct pxe_config *cfg)
{
	struct sbuf b = {0};
	char *block = NULL;

	block = samba_share_block(cfg, cfg->mountpoint);
	if (!block) {
		return NULL;
	}
	sb_put(&b, "[global]\n%s", block);
	free(block);
	return sb_take(&b);
}

/* tp_text -- testparm on CFG's generated text, written to a temporary folder. */
static int tp_text(const struct pxe_config *cfg, const char *testparm, struct prog *p)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	char conf[PATH_MAX + 16];
	char *argv[] = {(char *)prog_name(testparm, "testparm"), "-s", "--suppress-prompt", conf,
	                NULL};
	char *text = conf_text(cfg);
	int rc = 0;

	memset(p, 0, sizeof(*p));
	snprintf(dir, sizeof(dir), "%s/pxeimagesfs-check.XXXXXX",
	         tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!text) {
		return -ENOMEM;
	}
	if (!mkdtemp(dir)) {
		free(text);
		return -errno;
	}
	snprintf(conf, sizeof(conf), "%s/smb.conf", dir);
	rc = sys_file_write(conf, text, NULL, false);
	rc = rc == 0 ? prog_run(argv, p) : rc;
	unlink(conf);
	rmdir(dir);
	free(text);
	return rc;
}

/* check_unknown -- each parameter testparm does not know, at its samba: line. */
static int check_unknown(const struct pxe_config *cfg, const char *unk, struct sbuf *out)
{
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int bad = 0;

	while (samba_next_line(unk, &pos, &line, &n)) {
		for (size_t i = 0; i < cfg->share.n_params; i++) {
			const struct cfg_param *cp = &cfg->share.params[i];
			char name[512];
			samba_copy_out(name, sizeof(name), line, line + n);
			if (samba_name_eq(cp->key, name)) {
				sb_put(out,
				       "%s:%d: testparm does not know the smb.conf parameter '%s' "
				       "(samba:%s): correct or remove it\n",
				       cfg->file, cp->line, name, cp->key);
				bad++;
			}
		}
	}
	return bad;
}

/* check_each -- testparm rejects the text: find the samba: lines it rejects one by one. */
static int check_each(const struct pxe_config *cfg, const char *testparm, struct sbuf *out)
{
	struct pxe_config one = *cfg;
	struct prog p = {0};
	char *why = NULL;
	int bad = 0;

	for (size_t i = 0; i < cfg->share.n_params; i++) {
		one.share.params = &cfg->share.params[i];
		one.share.n_params = 1;
		if (tp_text(&one, testparm, &p) < 0) {
			continue;
		}
		if (p.status != 0 && (why = samba_testparm_errors(p.err))) {
			sb_put(out, "%s:%d: testparm rejects 'samba:%s = %s': %s\n", cfg->file,
			       cfg->share.params[i].line, cfg->share.params[i].key,
			       cfg->share.params[i].value, *why ? why : "no reason given");
			bad++;
		} else if ((why = samba_testparm_unknown(p.err))) {
			bad += check_unknown(&one, why, out);
		}
		free(why);
		why = NULL;
		prog_fini(&p);
	}
	return bad;
}

int samba_check_config(const struct pxe_config *cfg, const char *testparm, char *err, size_t len)
{
	struct sbuf out = {0};
	struct prog p = {0};
	char *unk = NULL;
	char *why = NULL;
	int rc = 0;

	snprintf(err, len, "%s", "");
	if (cfg->share.samba == CFG_SAMBA_NONE) {
		return 0;
	}
	rc = tp_text(cfg, testparm, &p);
	if (rc < 0) {
		snprintf(err, len,
		         "note: cannot run %s (%s): the [share] parameters were not checked by "
		         "Samba; install Samba's tools (Debian: apt install samba-common-bin)",
		         prog_name(testparm, "testparm"), strerror(-rc));
		prog_fini(&p);
		return 1;
	}
	unk = samba_testparm_unknown(p.err ? p.err : "");
	why = samba_testparm_errors(p.err ? p.err : "");
	rc = unk && why && p.status == 0 ? check_unknown(cfg, unk, &out) : 0;
	if (p.status != 0 && check_each(cfg, testparm, &out) == 0) {
		sb_put(&out, "%s: testparm rejects the generated [share] block (exit %d): %s\n",
		       cfg->file, p.status, *why ? why : "no reason given");
	}
	if (!unk || !why || out.failed) {
		snprintf(err, len, "%s: out of memory", cfg->file);
		rc = -1;
	} else if (out.len > 0) {
		snprintf(err, len, "%s", out.s);
		rc = -1;
	}
	free(unk);
	free(why);
	free(out.s);
	prog_fini(&p);
	return rc;
}
