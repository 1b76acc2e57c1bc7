/* check.c -- the check command's flow: the URL and credentials, then the share as an SMB client
 * sees it (check_smb.c) compared with the view (check_tree.c), and the failure named
 * (check_diag.c) into the result (check_report.c).
 *
 * Writes nothing. Not thread-safe: libsmbclient's settings and logging are process-wide, and
 * fd 1 points at /dev/null while check_run() runs (the library prints some errors to stdout;
 * we name them ourselves).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check_int.h"
#include "smbconf.h"

/* ---- the URL, the credentials ------------------------------------------------------------ */

static int load_credentials(struct run *r)
{
	const char *u = r->o->user;
	int rc = 0;

	smb_creds_user(&r->creds, u);
	if (!u && !r->o->guest) {
		check_verdict(
		    r, CHECK_UNKNOWN, "error",
		    "no credentials: give a user and a password file, or ask for guest access");
		return -1;
	}
	if (!u) {
		return 0;
	}
	if (!r->o->password_file) {
		check_verdict(r, CHECK_UNKNOWN, "error", "user %s given without a password file",
		              r->creds.user);
		return -1;
	}
	rc = smb_password_file(r->o->password_file, r->creds.password, sizeof(r->creds.password));
	if (rc < 0) {
		check_verdict(r, CHECK_UNKNOWN, "error", "cannot read the password file %s: %s",
		              r->o->password_file, strerror(-rc));
		return -1;
	}
	return 0;
}

void check_default_url(const struct pxe_config *cfg, char *out, size_t len)
{
	int port = 445;

	if (cfg->share.samba == CFG_SAMBA_PRIVATE) {
		snprintf(out, len, "smb://127.0.0.1:%d/%s", cfg->share.port, cfg->share.name);
	} else if (samba_system_port(cfg, &port) == 0 && port != 445) {
		snprintf(out, len, "smb://localhost:%d/%s", port, cfg->share.name);
	} else {
		snprintf(out, len, "smb://localhost/%s", cfg->share.name);
	}
}

static int setup(struct run *r)
{
	const char *url = r->o->url;
	const char *mp = r->o->mountpoint ? r->o->mountpoint : r->cfg->mountpoint;
	char def[512];

	if (!url) {
		check_default_url(r->cfg, def, sizeof(def));
		url = def;
	}
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (smb_url_parse(url, &r->loc) < 0) {
		check_verdict(r, CHECK_UNKNOWN, "error",
		              "%s: not a share URL: want smb://host[:port]/share", url);
		return -1;
	}
	if (!realpath(mp, r->mountpoint)) {
		snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", mp);
	}
	if (samba_share_path(r->cfg, r->mountpoint, r->view, sizeof(r->view)) < 0) {
		check_verdict(r, CHECK_UNKNOWN, "error", "%s: path too long", r->mountpoint);
		return -1;
	}
	r->timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : 5000;
	return load_credentials(r);
}

/* fd 1 to /dev/null while libsmbclient runs; returns the saved fd (or -1). */
static int stdout_off(void)
{
	int saved = -1;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	fflush(stdout);
	saved = null < 0 ? -1 : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved >= 0 && dup2(null, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	if (null >= 0) {
		close(null);
	}
	return saved;
}

static void stdout_on(int saved)
{
	if (saved >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
}

/* Lists the share and the view and compares them; on a failure at the share root, names
 * it. Returns with r->res filled. */
static void check_share(struct run *r)
{
	struct share_conf sc;
	void *ctx = NULL;
	int e = 0;

	memset(&sc, 0, sizeof(sc));
	check_read_share_conf(r, &sc);
	ctx = check_smb_new(r, !r->creds.guest);
	if (!ctx) {
		check_verdict(r, CHECK_UNKNOWN, "error", "cannot set up libsmbclient: %s",
		              strerror(errno));
		return;
	}
	e = check_walk(r, check_smb_list, ctx, &r->remote, "", 0, "over SMB");
	if (e < 0) {
		check_smb_free(ctx);
		if (e != -ENOMEM) {
			check_classify(r, &sc, -e);
		}
		return;
	}
	e = check_walk(r, check_local_list, NULL, &r->local, "", 0, "in the view");
	if (e != -ENOMEM) {
		r->res->files_remote = check_count_files(&r->remote);
		r->res->files_local = check_count_files(&r->local);
		check_compare(r, check_smb_sha256, ctx);
		check_judge(r, &sc, e);
	}
	check_smb_free(ctx);
}

void check_run(const struct pxe_config *cfg, const struct check_opts *o, struct check_result *res)
{
	struct run r = {.cfg = cfg, .o = o, .res = res};
	int saved = -1;

	memset(res, 0, sizeof(*res));
	res->time_s = res->free_pct = -1;
	check_verdict(&r, CHECK_UNKNOWN, "error", "out of memory");
	saved = stdout_off();
	if (setup(&r) == 0 && check_reach(&r) == 0) {
		check_share(&r);
	}
	if (r.n_details > MAX_DETAILS) {
		char more[64];
		snprintf(more, sizeof(more), "... and %zu more", r.n_details - MAX_DETAILS);
		check_detail(&r, more);
	}
	stdout_on(saved);
	check_tree_fini(&r.remote);
	check_tree_fini(&r.local);
	smb_creds_wipe(&r.creds);
}
