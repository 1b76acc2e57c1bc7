/* serve_install.c -- serve_export: where the TFTP/HTTP root is, whether it is safe to serve
 * (never one of the view's drives, inside one or above one; the view mounted there, with
 * allow_other), and installing the files serve.c writes (a backup of a file that is not ours,
 * an unchanged file left alone, every change rolled back when one fails).
 *
 * It starts no server and runs no systemctl: the report says what to run. Reads the mount
 * table and the drives through the resolver. Not thread-safe (one run per thread).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "resolver.h"
#include "serve_int.h"
#include "sys_int.h"

#define UNIT_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
#define SERVE_MARK "# written by 'pxeimagesfs export --"

/* ---- paths ----------------------------------------------------------------------------------- */

/* inside -- A is B or below B (both absolute, canonical). */
static bool inside(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (!strcmp(b, "/")) {
		return true;
	}
	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* under -- A is B or below B: by path, or by identity (a prefix of A is the very folder B, as a
 * bind mount shows it elsewhere). */
static bool under(const char *a, const char *b)
{
	char p[PATH_MAX];
	struct stat sb;
	struct stat sp;
	char *slash = NULL;

	if (inside(a, b)) {
		return true;
	}
	if (stat(b, &sb) < 0 || strlen(a) >= sizeof(p)) {
		return false;
	}
	snprintf(p, sizeof(p), "%s", a);
	for (;;) {
		if (stat(p, &sp) == 0 && sp.st_dev == sb.st_dev && sp.st_ino == sb.st_ino) {
			return true;
		}
		slash = strrchr(p, '/');
		if (!slash || (slash == p && p[1] == '\0')) {
			return false;
		}
		slash[slash == p] = '\0';
	}
}

/* real_path -- PATH with symlinks resolved; a part that does not exist (yet) is kept as
 * written after the longest existing folder's real path. */
static void real_path(const char *path, char *out, size_t len)
{
	char head[PATH_MAX];
	char *slash = NULL;
	char *r = realpath(path, NULL);

	if (r || strlen(path) >= sizeof(head)) {
		snprintf(out, len, "%s", r ? r : path);
		free(r);
		return;
	}
	snprintf(head, sizeof(head), "%s", path);
	while ((slash = strrchr(head, '/')) && slash != head) {
		*slash = '\0';
		r = realpath(head, NULL);
		if (r) {
			snprintf(out, len, "%s%s", strcmp(r, "/") ? r : "", path + strlen(head));
			free(r);
			return;
		}
	}
	snprintf(out, len, "%s", path);
}

/* ---- the mount table ------------------------------------------------------------------------- */

/* unescape -- a mountinfo field (\040 for a space, ...) at P (ending at a space) into OUT. */
static const char *unescape(const char *p, char *out, size_t len)
{
	size_t n = 0;

	while (*p && *p != ' ' && *p != '\n') {
		char c = *p++;
		if (c == '\\' && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] >= '0' && p[2] <= '7') {
			c = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
		}
		if (n + 1 < len) {
			out[n++] = c;
		}
	}
	out[n] = '\0';
	return p;
}

struct mount_at {
	char fstype[64];
	char opts[1024];
	bool found;
};

/* mount_at -- the topmost mount (the last entry) at exactly PATH into M. */
static void mount_at(const char *path, struct mount_at *m)
{
	char target[PATH_MAX];
	char *text = NULL;

	memset(m, 0, sizeof(*m));
	if (sys_file_read("/proc/self/mountinfo", &text) < 0) {
		return;
	}
	for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l;
		const char *end = l + strcspn(l, "\n");
		const char *dash = strstr(l, " - ");
		for (int f = 0; f < 4 && p; f++) { /* field 5: the mount point */
			p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
		}
		if (!p || !dash || dash > end || p > end) {
			continue;
		}
		unescape(p, target, sizeof(target));
		if (strcmp(target, path) != 0) {
			continue;
		}
		m->found = true;
		p = unescape(dash + 3, m->fstype, sizeof(m->fstype));
		p = *p == ' ' ? strchr(p + 1, ' ') : NULL; /* past the source */
		m->opts[0] = '\0';
		if (p && p < end) {
			unescape(p + 1, m->opts, sizeof(m->opts));
		}
	}
	free(text);
}

static bool has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, opt, n) && (p[n] == ',' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

/* ---- checks ---------------------------------------------------------------------------------- */

/* problem -- an error when writing, a warning when printing. */
static int problem(struct serve_run *r, const char *what)
{
	if (r->o->write) {
		return serve_fail(r, "%s; nothing was written", what);
	}
	sb_put(&r->rep, "warning: %s\n", what);
	return 0;
}

/* check_drive -- the real root RR against drive D; MR: the real mountpoint. */
static int check_drive(struct serve_run *r, const struct drive *d, const char *rr, const char *mr,
                       bool on_view)
{
	const char *at[] = {d->view_dir, d->mount_path, d->want_path};
	char dr[PATH_MAX];

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		if (!at[i]) {
			continue;
		}
		real_path(at[i], dr, sizeof(dr));
		if (under(dr, rr) || (under(rr, dr) && (i == 0 || !(on_view || inside(rr, mr))))) {
			return serve_fail(
			    r,
			    "the root %s (%s) %s drive %s of the view (%s): a server rooted there "
			    "hands out the drive's own files, bypassing the view (no merge, no "
			    "case rule, no drive switch); root it at the view: leave --root out "
			    "(%s/%.*s) or give a folder inside the view mounted at %s",
			    r->root, rr,
			    under(rr, dr) && under(dr, rr) ? "is"
			    : under(dr, rr)                ? "holds"
			                                   : "is inside",
			    d->name, dr, r->cfg->mountpoint, (int)strcspn(r->cfg->images_path, "/"),
			    r->cfg->images_path, r->cfg->mountpoint);
		}
	}
	return 0;
}

/* check_drives -- the root is none of the view's drives (configured or discovered, online or
 * not), nor inside or above one. */
static int check_drives(struct serve_run *r, const char *rr, const char *mr, bool on_view)
{
	struct resolver_view *v = NULL;
	int rc = resolver_resolve(r->cfg, rsv_sys_real(), &v);

	if (rc < 0) {
		return serve_fail(r, "cannot read the mount table to find the view's drives: %s",
		                  strerror(-rc));
	}
	for (size_t i = 0; i < v->n_drives && rc == 0; i++) {
		rc = check_drive(r, &v->drives[i], rr, mr, on_view);
	}
	resolver_view_free(v);
	return rc;
}

/* check_reach -- every folder above the mountpoint lets other users through (the servers run
 * as tftp, dnsmasq, www-data). */
static void check_reach(struct serve_run *r, const char *mr)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash = NULL;

	snprintf(dir, sizeof(dir), "%s", mr);
	while ((slash = strrchr(dir, '/'))) {
		slash[slash == dir] = '\0';
		if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH)) {
			sb_put(
			    &r->rep,
			    "warning: the folder %s (mode %04o) keeps %s's user out of the view: "
			    "chmod o+x %s\n",
			    dir, (unsigned)(st.st_mode & 07777), serve_server_name(r->o->server),
			    dir);
		}
		if (slash == dir) {
			break;
		}
	}
}

/* same_fs -- A and B are on one filesystem (the view: a folder, symlink or bind mount of it). */
static bool same_fs(const char *a, const char *b)
{
	struct stat sa;
	struct stat sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev;
}

static int check_view(struct serve_run *r)
{
	char rr[PATH_MAX];
	char mr[PATH_MAX];
	char msg[PATH_MAX * 2 + 256];
	struct mount_at mp;
	struct stat st;
	bool mounted = false;
	bool on_view = false;

	real_path(r->root, rr, sizeof(rr));
	real_path(r->cfg->mountpoint, mr, sizeof(mr));
	mount_at(mr, &mp);
	mounted = mp.found && !strcmp(mp.fstype, "fuse.pxeimagesfs");
	on_view = mounted && (inside(rr, mr) || same_fs(r->root, mr));
	if (check_drives(r, rr, mr, on_view) < 0) {
		return -1;
	}
	if (!mounted) {
		snprintf(msg, sizeof(msg),
		         "the view is not mounted at %s: start it first (systemctl start %s, or "
		         "pxeimagesfs mount); until then %s would serve the bare folder",
		         r->cfg->mountpoint, r->unit, serve_server_name(r->o->server));
		return problem(r, msg);
	}
	if (!has_opt(mp.opts, "allow_other")) {
		snprintf(
		    msg, sizeof(msg),
		    "the view at %s is mounted without allow_other: %s runs as its own user and "
		    "would be refused every file; mount it with pxeimagesfs's own options",
		    r->cfg->mountpoint, serve_server_name(r->o->server));
		return problem(r, msg);
	}
	if (!on_view) {
		snprintf(msg, sizeof(msg), "the root %s (%s) is not inside the view mounted at %s",
		         r->root, rr, r->cfg->mountpoint);
		return problem(r, msg);
	}
	if (stat(r->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sb_put(&r->rep,
		       "warning: %s is not a folder of the view now (no drive holds the images?): "
		       "%s fails to start until one does ('pxeimagesfs resolve' says why)\n",
		       r->root, serve_server_name(r->o->server));
	}
	check_reach(r, mr);
	return 0;
}

/* ---- the run --------------------------------------------------------------------------------- */

/* set_unit -- the view's unit: given, else from the config's name. */
static int set_unit(struct serve_run *r)
{
	const char *u = r->o->unit;
	const char *f = r->cfg->file;
	const char *name = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
	size_t n = strlen(name);

	if (u) {
		if (!*u || strspn(u, UNIT_CHARS ":@\\") != strlen(u) || strlen(u) > 200) {
			return serve_fail(r, "--unit: '%s' is not a systemd unit name", u);
		}
		snprintf(r->unit, sizeof(r->unit), "%s%s", u, strchr(u, '.') ? "" : ".service");
	} else if (!strncmp(f, "/etc/pxeimagesfs/", 17) && name == f + 17 && n > 5 && n < 100 &&
	           !strcmp(name + n - 5, ".conf") && strcmp(name, "pxeimagesfs.conf") != 0 &&
	           strspn(name, UNIT_CHARS) == n) {
		snprintf(r->unit, sizeof(r->unit), "pxeimagesfs@%.*s.service", (int)(n - 5), name);
	} else {
		snprintf(r->unit, sizeof(r->unit), "pxeimagesfs.service");
	}
	snprintf(r->base, sizeof(r->base), "%.*s", (int)strcspn(r->unit, "."), r->unit);
	for (char *p = r->base; *p; p++) {
		*p = strchr("@\\:", *p) ? '-' : *p;
	}
	return 0;
}

static int set_root(struct serve_run *r)
{
	const char *ip = r->cfg->images_path;

	if (r->o->root && r->o->root[0] != '/') {
		return serve_fail(r, "--root: '%s' is not an absolute path", r->o->root);
	}
	if (r->o->root) {
		snprintf(r->root, sizeof(r->root), "%s", r->o->root);
	} else {
		snprintf(r->root, sizeof(r->root), "%s%s%.*s", r->cfg->mountpoint,
		         strcmp(r->cfg->mountpoint, "/") ? "/" : "", (int)strcspn(ip, "/"), ip);
	}
	if (strlen(r->root) >= sizeof(r->root) - 1) {
		return serve_fail(r, "the root path is too long");
	}
	if (!r->cfg->boot_tree) {
		sb_put(
		    &r->rep,
		    "warning: 'boot tree' is not set in %s: the view holds only %s, so the root "
		    "%s serves the images but not SMSBoot, Boot, ... that PXE clients ask for "
		    "first; set 'boot tree = yes' in [global] (README \"Serving PXE clients\")\n",
		    r->cfg->file, ip, r->root);
	}
	return 0;
}

/* ---- writing --------------------------------------------------------------------------------- */

/* One file being installed: where, what was there, what happened (for the rollback). */
struct serve_put {
	char dest[PATH_MAX]; /* destdir + path, symlinks resolved */
	char backup[PATH_MAX + 64];
	char *old;         /* NULL: absent */
	struct stat st;    /* of the old file */
	bool mkdir_parent; /* its folder (a .service.d or /etc/pxeimagesfs) is ours to create */
	bool same;
	bool made_dir;
	bool backup_done;
	bool applied;
};

static bool ours(const char *text)
{
	const char *nl = strchr(text, '\n');

	return nl && !strncmp(nl + 1, SERVE_MARK, strlen(SERVE_MARK));
}

/* plan_put -- read what is at F's place now; decide. */
static int plan_put(struct serve_run *r, const struct serve_file *f, struct serve_put *p,
                    const char *stamp)
{
	const char *dd = r->o->destdir ? r->o->destdir : "";
	char full[PATH_MAX];
	char dir[PATH_MAX];
	int rc = 0;

	if ((size_t)snprintf(full, sizeof(full), "%s%s", strcmp(dd, "/") ? dd : "", f->path) >=
	    sizeof(full)) {
		return serve_fail(r, "%s%s: the path is too long", dd, f->path);
	}
	sys_real_path(full, p->dest, sizeof(p->dest));
	sys_dir_of(p->dest, dir, sizeof(dir));
	p->mkdir_parent =
	    strstr(f->path, ".service.d/") || !strncmp(f->path, "/etc/pxeimagesfs/", 17);
	if (access(dir, F_OK) < 0 && !p->mkdir_parent) {
		return serve_fail(
		    r, "the folder %s does not exist: is %s installed? (Debian: apt install %s)",
		    dir, serve_server_name(r->o->server),
		    r->o->server == SERVE_DNSMASQ ? "dnsmasq" : serve_server_name(r->o->server));
	}
	rc = sys_file_read(p->dest, &p->old);
	if (rc < 0 && rc != -ENOENT) {
		return serve_fail(r, "cannot read %s: %s; nothing was written", p->dest,
		                  sys_read_why(rc));
	}
	if (p->old && stat(p->dest, &p->st) < 0) {
		p->st.st_mode = 0644;
	}
	p->same = p->old && !strcmp(p->old, f->text);
	if (p->old && !p->same && !ours(p->old)) {
		bool cut = (size_t)snprintf(p->backup, sizeof(p->backup), "%s.pxeimagesfs-bak.%s",
		                            p->dest, stamp) >= sizeof(p->backup);
		for (int i = 1; i < 100 && !cut && access(p->backup, F_OK) == 0; i++) {
			cut = (size_t)snprintf(p->backup, sizeof(p->backup),
			                       "%s.pxeimagesfs-bak.%s.%d", p->dest, stamp,
			                       i) >= sizeof(p->backup);
		}
		if (cut) {
			return serve_fail(r, "%s: the name of its backup is too long", p->dest);
		}
	}
	return 0;
}

static int apply_put(struct serve_run *r, const struct serve_file *f, struct serve_put *p)
{
	char dir[PATH_MAX];
	int rc = 0;

	sys_dir_of(p->dest, dir, sizeof(dir));
	if (p->mkdir_parent && mkdir(dir, 0755) == 0) {
		p->made_dir = true;
	} else if (p->mkdir_parent && errno != EEXIST) {
		return serve_fail(r, "cannot create %s: %s", dir, strerror(errno));
	}
	if (p->backup[0] && (rc = sys_file_write(p->backup, p->old, &p->st, true)) < 0) {
		return serve_fail(r, "cannot write the backup %s: %s", p->backup, strerror(-rc));
	}
	p->backup_done = p->backup[0] != '\0';
	rc = sys_file_write(p->dest, f->text, p->old ? &p->st : NULL, false);
	if (rc < 0) {
		return serve_fail(r, "cannot write %s: %s%s", p->dest, strerror(-rc),
		                  (rc == -EACCES || rc == -EPERM) && geteuid() ? " (run it as root)"
		                                                               : "");
	}
	p->applied = true;
	return 0;
}

static void rollback(struct serve_put *p, size_t n)
{
	char dir[PATH_MAX];

	for (size_t i = n; i-- > 0;) {
		if (p[i].applied && p[i].old) {
			sys_file_write(p[i].dest, p[i].old, &p[i].st, false);
		} else if (p[i].applied) {
			unlink(p[i].dest);
		}
		if (p[i].backup_done) {
			unlink(p[i].backup);
		}
		sys_dir_of(p[i].dest, dir, sizeof(dir));
		if (p[i].made_dir) {
			rmdir(dir);
		}
	}
}

static void report_put(struct serve_run *r, const struct serve_put *p)
{
	bool dry = r->o->dry_run;

	if (p->same) {
		sb_put(&r->rep, "%s is up to date\n", p->dest);
	} else if (p->backup[0]) {
		sb_put(&r->rep, "%s %s (it was not written by pxeimagesfs: the old file %s %s)\n",
		       dry ? "would replace" : "replaced", p->dest,
		       dry ? "would be kept as" : "is kept as", p->backup);
	} else {
		sb_put(&r->rep, "%s %s\n", dry ? "would write" : "wrote", p->dest);
	}
}

static const char *service_of(enum serve_server s)
{
	return s == SERVE_DNSMASQ ? "dnsmasq" : s == SERVE_NGINX ? "nginx" : "tftpd-hpa";
}

static int install(struct serve_run *r)
{
	struct serve_put p[SERVE_FILES_MAX];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t changed = 0;
	int rc = 0;

	memset(p, 0, sizeof(p));
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (size_t i = 0; i < r->n_files && rc == 0; i++) {
		rc = plan_put(r, &r->files[i], &p[i], stamp);
	}
	for (size_t i = 0; i < r->n_files && rc == 0 && !r->o->dry_run; i++) {
		if (!p[i].same && (rc = apply_put(r, &r->files[i], &p[i])) < 0) {
			rollback(p, i + 1);
		}
	}
	for (size_t i = 0; i < r->n_files && rc == 0; i++) {
		report_put(r, &p[i]);
		changed += !p[i].same;
	}
	if (rc == 0 && changed > 0) {
		sb_put(&r->rep, "note: %s run: systemctl daemon-reload && systemctl restart %s\n",
		       r->o->dry_run ? "then" : "now", service_of(r->o->server));
	}
	for (size_t i = 0; i < r->n_files; i++) {
		free(p[i].old);
	}
	return rc;
}

/* print -- every file after a "# ==> PATH <==" line. */
static int print(struct serve_run *r, char **text)
{
	struct sbuf b = {0};

	for (size_t i = 0; i < r->n_files; i++) {
		sb_put(&b, "%s# ==> %s <==\n%s", i ? "\n" : "", r->files[i].path, r->files[i].text);
	}
	*text = sb_take(&b);
	return *text ? 0 : serve_fail(r, "out of memory");
}

static void report_copy(struct serve_run *r, int rc, char *report, size_t len)
{
	if (rc < 0) {
		sb_put(&r->rep, "error: %s\n", r->err[0] ? r->err : "failed");
	}
	if (report && len > 0) {
		snprintf(report, len, "%s",
		         r->rep.failed ? "error: out of memory\n"
		         : r->rep.s    ? r->rep.s
		                       : "");
	}
}

int serve_export(const struct pxe_config *cfg, const struct serve_opts *o, char **text,
                 char *report, size_t len)
{
	struct serve_run r = {.cfg = cfg, .o = o};
	int rc = 0;

	if (text) {
		*text = NULL;
	}
	if (o->destdir && o->destdir[0] != '/') {
		rc = serve_fail(&r, "--destdir: '%s' is not an absolute path", o->destdir);
	}
	if (rc == 0) {
		rc = set_unit(&r) < 0 || set_root(&r) < 0 || serve_parse_listen(&r) < 0 ? -1 : 0;
	}
	if (rc == 0) {
		rc = serve_generate(&r) < 0 || check_view(&r) < 0 ? -1 : 0;
	}
	if (rc == 0) {
		rc = o->write ? install(&r) : print(&r, text);
	}
	report_copy(&r, rc, report, len);
	for (size_t i = 0; i < r.n_files; i++) {
		free(r.files[i].text);
	}
	free(r.rep.s);
	return rc;
}
