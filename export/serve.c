/* serve.c -- the texts of the TFTP and HTTP servers' configuration over the view: tftpd-hpa
 * (/etc/default/tftpd-hpa and its backslash map), dnsmasq's TFTP server, an nginx server block,
 * and the systemd drop-in that orders each after the view's unit.
 *
 * Every value is quoted for the language that reads it, and a value that language cannot
 * hold is refused (serve_root_bad), never written half-quoted. No I/O (serve_install.c checks
 * and writes); thread-safe on distinct runs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_int.h"

int serve_fail(struct serve_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *serve_server_name(enum serve_server s)
{
	return s == SERVE_DNSMASQ ? "dnsmasq" : s == SERVE_NGINX ? "nginx" : "tftpd-hpa";
}

/* ---- the listen address ---------------------------------------------------------------------- */

static int parse_port(struct serve_run *r, const char *p)
{
	char *end = NULL;
	long v = strtol(p, &end, 10);

	if (!isdigit((unsigned char)*p) || *end != '\0' || v < 1 || v > 65535) {
		return serve_fail(r, "--listen: '%s' is not a port (1-65535)", p);
	}
	r->listen_port = (int)v;
	return 0;
}

/* parse_host -- the N bytes at P: an IPv4 address, or an IPv6 address in [] */
static int parse_host(struct serve_run *r, const char *p, size_t n)
{
	unsigned char buf[16];
	char host[64];

	if (n == 0) {
		return 0;
	}
	if (n >= sizeof(host)) {
		return serve_fail(r, "--listen: the address is too long");
	}
	memcpy(host, p, n);
	host[n] = '\0';
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, buf) != 1) {
			return serve_fail(r, "--listen: '%s]' is not an IPv6 address", host);
		}
		host[n - 1] = ']';
	} else if (inet_pton(AF_INET, host, buf) != 1) {
		return serve_fail(r,
		                  "--listen: '%s' is not an IPv4 address, nor an IPv6 address in "
		                  "[] (e.g. 192.0.2.1:69, [::1]:8080, :69, 8080)",
		                  host);
	}
	snprintf(r->listen_host, sizeof(r->listen_host), "%s", host);
	return 0;
}

int serve_parse_listen(struct serve_run *r)
{
	const char *l = r->o->listen;
	const char *colon = NULL;

	if (!l) {
		return 0;
	}
	if (r->o->server == SERVE_DNSMASQ) {
		return serve_fail(r,
		                  "--listen does not apply to dnsmasq: its TFTP server listens on "
		                  "port 69 of the addresses its own configuration chooses "
		                  "(listen-address, interface)");
	}
	if (strspn(l, "0123456789") == strlen(l)) {
		return parse_port(r, l);
	}
	colon = strrchr(l, ':');
	if (colon && l[0] == '[') { /* [v6]:port, or [v6] alone */
		colon = strchr(l, ']') && colon > strchr(l, ']') ? colon : NULL;
	}
	if (colon) {
		return parse_host(r, l, (size_t)(colon - l)) < 0 ? -1 : parse_port(r, colon + 1);
	}
	return parse_host(r, l, strlen(l));
}

/* ---- quoting --------------------------------------------------------------------------------- */

const char *serve_root_bad(enum serve_server s, const char *root)
{
	for (const char *p = root; *p; p++) {
		if (iscntrl((unsigned char)*p)) {
			return "it holds a control character";
		}
	}
	if (s == SERVE_TFTPD_HPA && root[strcspn(root, " \t*?[")] != '\0') {
		return "tftpd-hpa's start script (/etc/init.d/tftpd-hpa) splits TFTP_DIRECTORY at "
		       "spaces and expands '*', '?' and '[' as file name patterns";
	}
	if (s == SERVE_NGINX && strchr(root, '$')) {
		return "nginx reads '$' in root as a variable, and has no way to escape it";
	}
	return NULL;
}

/* sh_quote -- S in single quotes for a POSIX shell ('\'' for a quote). */
static void sh_quote(struct sbuf *b, const char *s)
{
	sb_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'') {
			sb_add(b, "'\\''", 4);
		} else {
			sb_add(b, s, 1);
		}
	}
	sb_add(b, "'", 1);
}

/* dq_quote -- S in double quotes with '\' and '"' escaped by '\' (dnsmasq and nginx both
 * read that). */
static void dq_quote(struct sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			sb_add(b, "\\", 1);
		}
		sb_add(b, s, 1);
	}
	sb_add(b, "\"", 1);
}

/* comment_safe -- S for a comment line: control characters become '?'. */
static void comment_safe(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		sb_add(b, iscntrl((unsigned char)*s) ? "?" : s, 1);
	}
}

/* ---- the files ---------------------------------------------------------------------------------
 */

static void header(const struct serve_run *r, struct sbuf *b, const char *path, const char *what)
{
	sb_put(b, "# %s -- %s\n# written by 'pxeimagesfs export --%s=%s' from ", path, what,
	       r->o->server == SERVE_NGINX ? "http" : "tftp", serve_server_name(r->o->server));
	comment_safe(b, r->cfg->file);
	sb_put(b, "\n# Do not edit: run that command again after changing the configuration.\n");
}

static struct serve_file *add_file(struct serve_run *r, const char *path, bool admin)
{
	struct serve_file *f = &r->files[r->n_files++];

	snprintf(f->path, sizeof(f->path), "%s", path);
	f->admin = admin;
	return f;
}

static int take(struct serve_run *r, struct serve_file *f, struct sbuf *b)
{
	f->text = sb_take(b);
	return f->text ? 0 : serve_fail(r, "out of memory");
}

static int dropin(struct serve_run *r, const char *service)
{
	char path[PATH_MAX];
	struct sbuf b = {0};

	snprintf(path, sizeof(path), "/etc/systemd/system/%s.service.d/%s.conf", service, r->base);
	header(r, &b, path, "start after the view, stop with it");
	sb_put(&b,
	       "# %s never serves the bare mountpoint folder: it starts once %s has mounted\n"
	       "# the view and stops (or restarts) with it. Then: systemctl daemon-reload.\n"
	       "[Unit]\nAfter=%s\nRequires=%s\n",
	       service, r->unit, r->unit, r->unit);
	if (!strcmp(service, "nginx")) {
		sb_put(&b, "# nginx serves other sites too? Then Wants= in place of Requires= "
		           "keeps them up\n"
		           "# while the view is down (this site answers 404 then).\n");
	}
	return take(r, add_file(r, path, false), &b);
}

static int tftpd_hpa(struct serve_run *r)
{
	char map[PATH_MAX];
	struct sbuf b = {0};
	struct sbuf opt = {0};
	struct serve_file *f = NULL;
	int rc = 0;

	snprintf(map, sizeof(map), "/etc/pxeimagesfs/%s-tftpd-hpa.map", r->base);
	header(r, &b, "/etc/default/tftpd-hpa", "tftpd-hpa serves the pxeimagesfs view");
	sb_put(&b,
	       "# The root is the view's boot tree: \\SMSBoot\\x64\\wdsnbp.com, \\Boot\\BCD, ... "
	       "in any case.\n# in.tftpd chroots there (--secure) and drops to the tftp user: "
	       "the view is mounted\n# allow_other; SMSTemp's 0600 secrets are not served. The "
	       "map file turns '\\' into '/'.\nTFTP_USERNAME=\"tftp\"\nTFTP_DIRECTORY=");
	sh_quote(&b, r->root);
	sb_put(&b, "\nTFTP_ADDRESS=");
	sb_put(&opt, "%s:%d", r->listen_host, r->listen_port ? r->listen_port : 69);
	sh_quote(&b, opt.s ? opt.s : "");
	free(opt.s);
	sb_put(&b, "\nTFTP_OPTIONS='--secure --map-file %s'\n", map);
	rc = take(r, add_file(r, "/etc/default/tftpd-hpa", true), &b);

	f = add_file(r, map, false);
	header(r, &b, map, "in.tftpd --map-file rules for PXE clients of the view");
	sb_put(&b,
	       "# Windows-style clients (wdsnbp.com, bootmgr) ask for \\SMSBoot\\x64\\pxeboot.com: "
	       "every\n# backslash becomes a slash (r: regex, g: global). Case needs no rule: "
	       "the view matches\n# names ignoring case.\nrg \\\\ /\n");
	rc |= take(r, f, &b);
	return rc < 0 || dropin(r, "tftpd-hpa") < 0 ? -1 : 0;
}

static int dnsmasq(struct serve_run *r)
{
	char path[PATH_MAX];
	struct sbuf b = {0};

	snprintf(path, sizeof(path), "/etc/dnsmasq.d/%s-tftp.conf", r->base);
	header(r, &b, path, "dnsmasq's TFTP server serves the pxeimagesfs view");
	sb_put(&b, "# dnsmasq turns every '\\' of a TFTP name into '/' by itself and refuses '..'; "
	           "the view\n# matches names ignoring case (no tftp-lowercase). It runs as user "
	           "dnsmasq: the view is\n# mounted allow_other; SMSTemp's 0600 secrets are not "
	           "served. It has no chroot and\n# follows a symlink a drive holds: keep symlinks "
	           "out of the boot tree.\nenable-tftp\ntftp-root=");
	dq_quote(&b, r->root);
	sb_put(&b, "\n");
	if (take(r, add_file(r, path, false), &b) < 0) {
		return -1;
	}
	return dropin(r, "dnsmasq");
}

static int nginx(struct serve_run *r)
{
	char path[PATH_MAX];
	struct sbuf b = {0};

	snprintf(path, sizeof(path), "/etc/nginx/conf.d/%s.conf", r->base);
	header(r, &b, path, "nginx serves the pxeimagesfs view over HTTP (iPXE, wimboot)");
	sb_put(&b, "# Names are matched ignoring case by the view. GET and HEAD only; Range "
	           "requests are\n# answered as usual; no listings. nginx's workers run as "
	           "www-data: the view is mounted\n# allow_other; SMSTemp is refused here as well. "
	           "No symlink below the root is followed.\nserver {\n\tlisten ");
	if (r->listen_host[0]) {
		sb_put(&b, "%s:", r->listen_host);
	}
	sb_put(&b, "%d;\n\troot ", r->listen_port ? r->listen_port : 8080);
	dq_quote(&b, r->root);
	sb_put(&b, ";\n\tdisable_symlinks on from=$document_root;\n\tautoindex off;\n"
	           "\tsendfile on;\n"
	           "\tlocation ~* ^/smstemp(/|$) {\n\t\treturn 403;\n\t}\n"
	           "\tlocation / {\n\t\tlimit_except GET {\n\t\t\tdeny all;\n\t\t}\n"
	           "\t\ttry_files $uri =404;\n\t}\n}\n");
	if (take(r, add_file(r, path, false), &b) < 0) {
		return -1;
	}
	return dropin(r, "nginx");
}

int serve_generate(struct serve_run *r)
{
	const char *why = serve_root_bad(r->o->server, r->root);

	if (why) {
		return serve_fail(
		    r,
		    "the root %s cannot be written into %s's configuration: %s; choose "
		    "another mountpoint, or give --root a symlink to it (or a bind "
		    "mount of it) without such characters",
		    r->root, serve_server_name(r->o->server), why);
	}
	switch (r->o->server) {
	case SERVE_DNSMASQ:
		return dnsmasq(r);
	case SERVE_NGINX:
		return nginx(r);
	default:
		return tftpd_hpa(r);
	}
}
