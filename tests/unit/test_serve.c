/* test_serve.c -- unit tests of the TFTP/HTTP server texts of export/ (serve.c): the listen
 * address, what each server's language cannot hold, the quoting of the root, and comments
 * that a hostile configuration name cannot break out of.
 *
 * Pure string work on configs parsed from text; no files, no servers. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "serve_int.h"
#include "unit.h"

static struct pxe_config *cfg_named(const char *name)
{
	struct pxe_config *cfg = NULL;
	char err[4096];

	assert_int_equal(
	    cfg_load_string("[global]\nboot tree = yes\n", name, &cfg, err, sizeof(err)), 0);
	return cfg;
}

/* generate -- the files of server S for ROOT; returns the run (free its files with run_free). */
static void generate(struct serve_run *r, const struct serve_opts *o, const struct pxe_config *cfg,
                     const char *root)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->o = o;
	snprintf(r->root, sizeof(r->root), "%s", root);
	snprintf(r->unit, sizeof(r->unit), "pxeimagesfs.service");
	snprintf(r->base, sizeof(r->base), "pxeimagesfs");
	assert_int_equal(serve_parse_listen(r), 0);
	assert_int_equal(serve_generate(r), 0);
}

static void run_free(struct serve_run *r)
{
	for (size_t i = 0; i < r->n_files; i++) {
		free(r->files[i].text);
	}
	free(r->rep.s);
}

static int listen_of(enum serve_server s, const char *l, char *host, int *port)
{
	struct serve_opts o = {.server = s, .listen = l};
	struct serve_run r = {.o = &o};
	int rc = serve_parse_listen(&r);

	strcpy(host, r.listen_host);
	*port = r.listen_port;
	return rc;
}

static void test_serve_listen_takes_addresses_and_ports_and_refuses_the_rest(void **state)
{
	static const char *const bad[] = {
	    "x;y", "127.0.0.1:0", "127.0.0.1:65536", "1.2.3:69", "[::1",         "host:69",
	    ":",   "::1:69",      "[::1]x",          "8080x",    "[1.2.3.4]:69", ""};
	char host[64];
	int port = 0;

	(void)state;
	assert_int_equal(listen_of(SERVE_NGINX, "8080", host, &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 8080);
	assert_int_equal(listen_of(SERVE_TFTPD_HPA, ":69", host, &port), 0);
	assert_int_equal(port, 69);
	assert_int_equal(listen_of(SERVE_TFTPD_HPA, "192.0.2.1:6969", host, &port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(listen_of(SERVE_NGINX, "[::1]:8080", host, &port), 0);
	assert_string_equal(host, "[::1]");
	assert_int_equal(port, 8080);
	assert_int_equal(listen_of(SERVE_NGINX, "[::1]", host, &port), 0);
	assert_string_equal(host, "[::1]");
	assert_int_equal(port, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(listen_of(SERVE_NGINX, bad[i], host, &port), -1);
	}
	assert_int_equal(listen_of(SERVE_DNSMASQ, "127.0.0.1:69", host, &port), -1);
}

static void test_serve_refuses_what_each_language_cannot_hold(void **state)
{
	(void)state;
	assert_null(serve_root_bad(SERVE_TFTPD_HPA, "/srv/pxe-images/RemoteInstall"));
	assert_non_null(serve_root_bad(SERVE_TFTPD_HPA, "/srv/pxe images/RemoteInstall"));
	assert_non_null(serve_root_bad(SERVE_TFTPD_HPA, "/srv/pxe*/RemoteInstall"));
	assert_non_null(serve_root_bad(SERVE_TFTPD_HPA, "/srv/pxe[1]/RemoteInstall"));
	assert_null(serve_root_bad(SERVE_TFTPD_HPA, "/srv/a$b'c\"d/RemoteInstall"));
	assert_non_null(serve_root_bad(SERVE_NGINX, "/srv/a$b/RemoteInstall"));
	assert_null(serve_root_bad(SERVE_NGINX, "/srv/a b'c\"d\\e#f;g{h}/RemoteInstall"));
	assert_null(serve_root_bad(SERVE_DNSMASQ, "/srv/a b$c'd\"e\\f#g,h/RemoteInstall"));
	for (int s = SERVE_TFTPD_HPA; s <= SERVE_NGINX; s++) {
		assert_non_null(serve_root_bad((enum serve_server)s, "/srv/a\nb"));
		assert_non_null(serve_root_bad((enum serve_server)s, "/srv/a\tb"));
		assert_non_null(serve_root_bad((enum serve_server)s, "/srv/a\rb"));
	}
}

static void test_serve_quotes_the_root_for_each_language(void **state)
{
	struct pxe_config *cfg = cfg_named("/etc/pxeimagesfs/pxeimagesfs.conf");
	struct serve_opts o = {.server = SERVE_DNSMASQ};
	struct serve_run r;

	(void)state;
	generate(&r, &o, cfg, "/srv/a b\"c'd\\e#f,g/RemoteInstall");
	assert_non_null(
	    strstr(r.files[0].text, "\ntftp-root=\"/srv/a b\\\"c'd\\\\e#f,g/RemoteInstall\"\n"));
	run_free(&r);
	o.server = SERVE_NGINX;
	generate(&r, &o, cfg, "/srv/a b\"c'd\\e#f;g}/RemoteInstall");
	assert_non_null(
	    strstr(r.files[0].text, "\n\troot \"/srv/a b\\\"c'd\\\\e#f;g}/RemoteInstall\";\n"));
	assert_non_null(strstr(r.files[0].text, "\n\tlisten 8080;\n"));
	run_free(&r);
	o.server = SERVE_TFTPD_HPA;
	o.listen = "127.0.0.1:6969";
	generate(&r, &o, cfg, "/srv/a'b$(x)`y`\"\\/RemoteInstall");
	assert_non_null(
	    strstr(r.files[0].text, "\nTFTP_DIRECTORY='/srv/a'\\''b$(x)`y`\"\\/RemoteInstall'\n"));
	assert_non_null(strstr(r.files[0].text, "\nTFTP_ADDRESS='127.0.0.1:6969'\n"));
	assert_string_equal(r.files[1].path, "/etc/pxeimagesfs/pxeimagesfs-tftpd-hpa.map");
	assert_non_null(strstr(r.files[1].text, "\nrg \\\\ /\n"));
	assert_non_null(
	    strstr(r.files[2].text, "\nAfter=pxeimagesfs.service\nRequires=pxeimagesfs.service\n"));
	run_free(&r);
	cfg_free(cfg);
}

static void test_serve_comments_hold_a_hostile_config_name(void **state)
{
	struct pxe_config *cfg = cfg_named("/tmp/x\nTFTP_DIRECTORY=/etc\n[Unit]\rA");
	struct serve_opts o = {.server = SERVE_TFTPD_HPA};
	struct serve_run r;

	(void)state;
	generate(&r, &o, cfg, "/srv/pxeimages/RemoteInstall");
	for (size_t i = 0; i < r.n_files; i++) {
		int units = 0;
		for (const char *l = r.files[i].text; l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			assert_true(strncmp(l, "TFTP_DIRECTORY=/etc", 19) != 0);
			units += strncmp(l, "[Unit]", 6) == 0;
		}
		assert_null(strchr(r.files[i].text, '\r'));
		assert_int_equal(units, i == 2 ? 1 : 0); /* only the drop-in's own [Unit] */
	}
	run_free(&r);
	cfg_free(cfg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_serve_listen_takes_addresses_and_ports_and_refuses_the_rest),
    cmocka_unit_test(test_serve_refuses_what_each_language_cannot_hold),
    cmocka_unit_test(test_serve_quotes_the_root_for_each_language),
    cmocka_unit_test(test_serve_comments_hold_a_hostile_config_name),
};

UNIT_GROUP(tests, NULL, NULL)
