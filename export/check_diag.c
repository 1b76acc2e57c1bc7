/* check_diag.c -- naming what the check found: what this machine's smb.conf says about the
 * share (testparm, through run.c), why the share root cannot be opened (not defined, a stale or
 * missing path, refused, unreachable, not SMB2/3), and the verdict on the comparison.
 *
 * It lists nothing itself (check_tree.c, check_smb.c do). One struct run per thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_int.h"
#include "resolver.h"
#include "run.h"
#include "smbconf.h"

/* capture -- ARGV (found in PATH, through run.c) within TESTPARM_MS; its stdout, trailing
 * newlines cut, into OUT. Returns its exit status (-1: killed after TESTPARM_MS), or a
 * negative errno when it could not run. */
static int capture(char *const argv[], char *out, size_t len)
{
	struct prog p;
	size_t n = 0;
	int rc = prog_run_within(argv, TESTPARM_MS, &p);

	out[0] = '\0';
	if (rc == 0) {
		n = strlen(p.out);
		while (n > 0 && p.out[n - 1] == '\n') {
			n--;
		}
		samba_copy_out(out, len, p.out, p.out + n);
		rc = p.status;
	}
	prog_fini(&p);
	return rc;
}

static bool port_listed(const char *ports, int port)
{
	char *end = NULL;

	for (const char *p = ports; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p) {
			end = (char *)p + 1;
		} else if (v == port) {
			return true;
		}
	}
	return false;
}

/* On this machine, the smb.conf that pxeimagesfs manages (the private smbd's, or the
 * system one) -- when the server on the URL's port runs it -- and the share's path there. */
void check_read_share_conf(struct run *r, struct share_conf *sc)
{
	char sec[300];
	char out[PATH_MAX];
	char *ports[] = {"testparm", "-s", "--parameter-name=smb ports", sc->file, NULL};
	char *path[] = {"testparm", "-s", sec, "--parameter-name=path", sc->file, NULL};

	if (!r->on_host || r->cfg->share.samba == CFG_SAMBA_NONE) {
		return;
	}
	if (r->cfg->share.samba == CFG_SAMBA_PRIVATE) {
		if (samba_private_dir(r->cfg, out, sizeof(out)) < 0 ||
		    snprintf(sc->file, sizeof(sc->file), "%s/smb.conf", out) >=
		        (int)sizeof(sc->file)) {
			return;
		}
	} else {
		snprintf(sc->file, sizeof(sc->file), "%s", r->cfg->share.smb_conf);
	}
	if (access(sc->file, R_OK) < 0 || capture(ports, out, sizeof(out)) != 0 ||
	    !port_listed(out, r->loc.port)) {
		return;
	}
	sc->known = true;
	snprintf(sec, sizeof(sec), "--section-name=%s", r->loc.share);
	if (capture(path, out, sizeof(out)) == 0 && out[0]) {
		sc->defined = true;
		snprintf(sc->path, sizeof(sc->path), "%s", out);
	}
}

static bool same_path(const char *a, const char *b)
{
	char ra[PATH_MAX];
	char rb[PATH_MAX];

	if (samba_path_eq(a, b)) {
		return true;
	}
	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/* Why the view's images folder is absent, in plain words. */
static void view_state(const struct run *r, char *out, size_t len)
{
	struct rsv_mount *m = NULL;
	size_t n = 0;
	bool mounted = false;

	if (rsv_sys_real()->ops->mounts(NULL, &m, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			mounted |= !strcmp(m[i].target, r->mountpoint) &&
			           !strcmp(m[i].fstype, "fuse.pxeimagesfs");
		}
		rsv_mounts_free(m, n);
	}
	if (!mounted) {
		snprintf(out, len, "the view is not mounted at %s (pxeimagesfs mount)",
		         r->mountpoint);
	} else if (cfg_no_drive_hint(r->cfg)) { /* the words status and resolve use */
		snprintf(out, len, "%s; the view at %s has no images folder until then",
		         cfg_no_drive_hint(r->cfg), r->mountpoint);
	} else {
		snprintf(out, len,
		         "no drive holds the images, so the view at %s has no images folder "
		         "(pxeimagesfs resolve says why)",
		         r->mountpoint);
	}
}

/* "drive D (/mnt/d/...) holds N packages" for the online drive holding the most. */
static bool busiest_drive(const struct run *r, char *out, size_t len)
{
	struct resolver_view *v = NULL;
	const struct drive *best = NULL;

	if (resolver_resolve(r->cfg, rsv_sys_real(), &v) < 0) {
		return false;
	}
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (d->state == DRIVE_ONLINE && d->holds_images && d->n_packages > 0 &&
		    (!best || d->n_packages > best->n_packages)) {
			best = d;
		}
	}
	if (best) {
		snprintf(out, len, "drive %s (%s) holds %zu package%s", best->name,
		         best->images_dir, best->n_packages, best->n_packages == 1 ? "" : "s");
	}
	resolver_view_free(v);
	return best != NULL;
}

/* The share root does not exist for the server: not defined, or its path is missing. */
static void diagnose_missing(struct run *r, const struct share_conf *sc)
{
	char why[2 * PATH_MAX];
	struct stat st;
	bool listed = false;
	int e = 0;

	if (sc->known && !sc->defined) {
		check_verdict(r, CHECK_CRITICAL, "share_not_defined",
		              "share %s not defined on host %s (no [%s] in %s)", r->loc.share, r->loc.host,
		              r->loc.share, sc->file);
	} else if (sc->known && !same_path(sc->path, r->view)) {
		check_verdict(
		    r, CHECK_CRITICAL, "path_stale",
		    "stale: the share %s points at %s (%s), not the view at %s", r->loc.share, sc->path,
		    stat(sc->path, &st) == 0 ? "which smbd cannot open" : "missing", r->view);
	} else if (sc->known && stat(sc->path, &st) < 0) {
		view_state(r, why, sizeof(why));
		check_verdict(r, CHECK_CRITICAL, "path_missing",
		              "share %s is defined but its path %s does not exist: %s", r->loc.share,
		              sc->path, why);
	} else if (sc->known) {
		check_verdict(
		    r, CHECK_CRITICAL, "path_missing",
		    "share %s is defined and its path %s exists here, but smbd cannot open it "
		    "(permissions, or the view mounted without allow_other?)",
		    r->loc.share, sc->path);
	} else if ((e = check_share_listed(r, !r->creds.guest, &listed)) == 0 && listed) {
		check_verdict(
		    r, CHECK_CRITICAL, "path_missing",
		    "share %s is defined on host %s but its path is missing there (the server "
		    "lists the share but cannot open it)",
		    r->loc.share, r->loc.host);
	} else if (e == 0) {
		check_verdict(
		    r, CHECK_CRITICAL, "share_not_defined",
		    "share %s not defined on host %s (its list of shares has no such name)",
		    r->loc.share, r->loc.host);
	} else {
		check_verdict(
		    r, CHECK_CRITICAL, "share_not_defined",
		    "share %s not found on host %s: not defined, or its path is missing there "
		    "(its list of shares cannot be read: %s)",
		    r->loc.share, r->loc.host, strerror(-e));
	}
}

/* The share root is refused: the share's rules, or the logon itself? A logon that the
 * server's share list also refuses failed; one that works only without a keyed session is a
 * guest session. */
static void diagnose_denied(struct run *r)
{
	bool listed = false;

	if (r->creds.guest) {
		bool logon = check_share_listed(r, false, &listed) == 0;
		check_verdict(
		    r, CHECK_CRITICAL, "access_denied", "access denied: %s",
		    logon ? "the share does not allow guest access (give a user and password)"
		          : "the server refuses guest (anonymous) logons");
	} else if (check_share_listed(r, true, &listed) == 0) {
		check_verdict(r, CHECK_CRITICAL, "access_denied",
		              "access denied: user %s may not open share %s (valid users, or the "
		              "permissions of its folder)",
		              r->creds.user, r->loc.share);
	} else if (check_share_listed(r, false, &listed) == 0) {
		check_verdict(
		    r, CHECK_CRITICAL, "wrong_credentials",
		    "wrong credentials: host %s accepts user %s only as a guest session (a "
		    "wrong user name or password, mapped to guest); not taken as a logon",
		    r->loc.host, r->creds.user);
	} else {
		check_verdict(
		    r, CHECK_CRITICAL, "wrong_credentials",
		    "wrong credentials: logon failure for user %s on host %s (user name or "
		    "password)",
		    r->creds.user, r->loc.host);
	}
}

void check_classify(struct run *r, const struct share_conf *sc, int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		diagnose_missing(r, sc);
		break;
	case EACCES:
	case EPERM:
		diagnose_denied(r);
		break;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		check_verdict(r, CHECK_CRITICAL, "unreachable",
		              "server not reachable: %s port %d: %s", r->loc.host, r->loc.port,
		              check_unreachable_why(e));
		break;
	case ETIMEDOUT:
		check_verdict(
		    r, CHECK_CRITICAL, "unreachable",
		    "server not reachable: %s port %d takes the connection but gives no SMB answer "
		    "within %d ms (a hung smbd?)",
		    r->loc.host, r->loc.port, r->timeout_ms);
		break;
	case ENETRESET:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case EPROTO:
	case EPROTONOSUPPORT:
	case ENOTSUP:
	case EINVAL:
	case EIO:
		check_verdict(
		    r, CHECK_CRITICAL, "protocol_mismatch",
		    "protocol mismatch: %s port %d takes the connection but no SMB2/SMB3 session "
		    "(%s): an SMB1-only server, or not an SMB server",
		    r->loc.host, r->loc.port, strerror(e));
		break;
	default:
		check_verdict(r, CHECK_CRITICAL, "error", "cannot open the share: %s", strerror(e));
	}
}

/* The share is empty: is that the KB situation (a drive holds packages), or no images yet? */
static void judge_empty(struct run *r)
{
	char drive[PATH_MAX + 64];

	if (busiest_drive(r, drive, sizeof(drive))) {
		check_verdict(r, CHECK_CRITICAL, "share_empty", "share %s is empty while %s",
		              r->loc.share, drive);
	} else if (r->local.n > 0) {
		check_verdict(r, CHECK_CRITICAL, "share_empty",
		              "share %s is empty while the view at %s holds %zu files", r->loc.share,
		              r->view, r->res->files_local);
	} else {
		check_verdict(
		    r, CHECK_WARNING, "share_empty",
		    "share %s and the view are both empty: no drive holds any package yet",
		    r->loc.share);
	}
}

/* The share root was listed: name what the comparison found. */
void check_judge(struct run *r, const struct share_conf *sc, int local_err)
{
	struct check_result *res = r->res;
	size_t most = r->remote.n > r->local.n ? r->remote.n : r->local.n;
	char why[2 * PATH_MAX];

	if (sc->defined && !same_path(sc->path, r->view)) {
		check_verdict(
		    r, CHECK_CRITICAL, "path_stale",
		    "stale: the share %s points at %s, not the view at %s (%zu files there)",
		    r->loc.share, sc->path, r->view, res->files_remote);
	} else if (r->remote.n == 0) {
		judge_empty(r);
	} else if (local_err < 0) {
		if (local_err == -ENOENT) {
			view_state(r, why, sizeof(why));
		} else {
			snprintf(why, sizeof(why), "%s", strerror(-local_err));
		}
		check_verdict(
		    r, CHECK_CRITICAL, "content_differs",
		    "share %s serves %zu files, but the view's images folder %s cannot be "
		    "listed: %s",
		    r->loc.share, res->files_remote, r->view, why);
	} else if (res->differences == 0) {
		size_t dirs = r->remote.n - res->files_remote;
		check_verdict(r, CHECK_OK, "ok",
		              "%s: %zu file%s in %zu folder%s, names and sizes%s match", r->url,
		              res->files_remote, res->files_remote == 1 ? "" : "s", dirs,
		              dirs == 1 ? "" : "s", r->o->deep ? " and SHA-256 contents" : "");
	} else {
		check_verdict(
		    r, res->differences * 2 > most ? CHECK_CRITICAL : CHECK_WARNING,
		    "content_differs",
		    "content differs: %zu difference%s between the share %s and the view at %s "
		    "(%zu files over SMB, %zu in the view)",
		    res->differences, res->differences == 1 ? "" : "s", r->loc.share, r->view,
		    res->files_remote, res->files_local);
	}
}
