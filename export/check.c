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

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The share name from URL bytes [P, END), percent escapes decoded. */
static int url_share(struct run *r, const char *p, const char *end)
{
	size_t n = 0;

	for (; p < end && n + 1 < sizeof(r->share); p++) {
		if (*p == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			r->share[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			r->share[n++] = *p;
		}
	}
	r->share[n] = '\0';
	return p == end && n > 0 ? 0 : -1;
}

/* The folder below the share from the rest P of the URL, percent escapes decoded, no slash
 * at its end; "." and ".." refused. */
static int url_base(struct run *r, const char *p)
{
	size_t n = 0;

	for (; *p && n + 1 < sizeof(r->base); p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			r->base[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			r->base[n++] = *p;
		}
	}
	while (n > 0 && r->base[n - 1] == '/') {
		n--;
	}
	r->base[n] = '\0';
	return *p || strstr(r->base, "//") || !strcmp(r->base, ".") || !strcmp(r->base, "..") ||
	               !strncmp(r->base, "../", 3) || strstr(r->base, "/../") ||
	               (n >= 3 && !strcmp(r->base + n - 3, "/.."))
	           ? -1
	           : 0;
}

/* smb://host[:port]/share[/folder] -- no user; FOLDER: what to compare below the share. */
static int parse_url(struct run *r, const char *url)
{
	const char *p = url + 6;
	const char *end = NULL;
	char *num = NULL;
	long port = 445;

	if (strncasecmp(url, "smb://", 6) != 0 || strchr(p, '@')) {
		return -1;
	}
	end = p + strcspn(p, *p == '[' ? "]" : ":/");
	end += *p == '[' && *end == ']';
	if (end == p || (size_t)(end - p) >= sizeof(r->host)) {
		return -1;
	}
	snprintf(r->host, sizeof(r->host), "%.*s", (int)(end - p), p);
	p = end;
	if (*p == ':') {
		port = strtol(p + 1, &num, 10);
		if (num == p + 1 || port < 1 || port > 65535) {
			return -1;
		}
		p = num;
	}
	if (*p != '/') {
		return -1;
	}
	end = p + 1 + strcspn(p + 1, "/");
	if (url_share(r, p + 1, end) < 0 || url_base(r, end + strspn(end, "/")) < 0) {
		return -1;
	}
	r->port = (int)port;
	return 0;
}

static int load_password(struct run *r, const char *file)
{
	FILE *f = fopen(file, "re");

	if (!f) {
		check_verdict(r, CHECK_UNKNOWN, "error", "cannot read the password file %s: %s",
		              file, strerror(errno));
		return -1;
	}
	if (!fgets(r->password, sizeof(r->password), f)) {
		r->password[0] = '\0';
	}
	r->password[strcspn(r->password, "\r\n")] = '\0';
	fclose(f);
	return 0;
}

static int load_credentials(struct run *r)
{
	const char *u = r->o->user;
	const char *sep = u ? strpbrk(u, "\\/") : NULL;

	r->guest = !u;
	if (!u && !r->o->guest) {
		check_verdict(
		    r, CHECK_UNKNOWN, "error",
		    "no credentials: give a user and a password file, or ask for guest access");
		return -1;
	}
	if (!u) {
		return 0;
	}
	if (sep) {
		snprintf(r->domain, sizeof(r->domain), "%.*s", (int)(sep - u), u);
		u = sep + 1;
	}
	snprintf(r->user, sizeof(r->user), "%s", u);
	if (!r->o->password_file) {
		check_verdict(r, CHECK_UNKNOWN, "error", "user %s given without a password file",
		              u);
		return -1;
	}
	return load_password(r, r->o->password_file);
}

/* The default URL: the private smbd on 127.0.0.1 and its port, else the system smbd on
 * this machine. (cli/check_cmd.c shows the same.) */
static void default_url(const struct pxe_config *cfg, char *out, size_t len)
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
		default_url(r->cfg, def, sizeof(def));
		url = def;
	}
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (parse_url(r, url) < 0) {
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
	ctx = check_smb_new(r, !r->guest);
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
	explicit_bzero(r.password, sizeof(r.password));
}
