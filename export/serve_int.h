/* serve_int.h -- internals of the TFTP/HTTP service configuration shared by serve.c (the
 * texts) and serve_install.c (the checks and the writing); not a public header (export.h has
 * serve_export).
 *
 * One struct serve_run is one run of serve_export on the calling thread; nothing here locks.
 */
#ifndef PXE_SERVE_INT_H
#define PXE_SERVE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "export.h"
#include "smbconf.h"

#define SERVE_ERR_MAX   2048
#define SERVE_FILES_MAX 4

/* One file the run generates: where it goes (without the destdir) and its text. */
struct serve_file {
	char path[PATH_MAX]; /* absolute, as installed */
	char *text;          /* owned */
	bool admin;          /* a file the server's package ships (/etc/default/tftpd-hpa) */
};

struct serve_run {
	const struct pxe_config *cfg;
	const struct serve_opts *o;
	char root[PATH_MAX];  /* the TFTP/HTTP root, as written into the configuration */
	char unit[256];       /* the view's systemd unit, e.g. pxeimagesfs.service */
	char base[256];       /* file name stem from the unit: pxeimagesfs, pxeimagesfs-lab */
	char listen_host[64]; /* "" = every address; an IPv6 address keeps its [] */
	int listen_port;      /* 0: the server's default */
	struct serve_file files[SERVE_FILES_MAX];
	size_t n_files;
	struct sbuf rep; /* report lines so far */
	char err[SERVE_ERR_MAX];
};

/* serve_fail -- the reason of a failure into r->err; returns -1. */
int serve_fail(struct serve_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* serve_server_name -- "tftpd-hpa", "dnsmasq", "nginx". */
const char *serve_server_name(enum serve_server s);

/* serve_parse_listen -- O->listen ("[ADDR][:PORT]", "PORT", an IPv6 address in []) into
 * r->listen_host/listen_port. Returns 0 or -1 (reason in r->err). */
int serve_parse_listen(struct serve_run *r);

/* serve_root_bad -- why ROOT cannot be written into server S's configuration (a character
 * its configuration language or its start script would read otherwise), or NULL. */
const char *serve_root_bad(enum serve_server s, const char *root);

/* serve_generate -- the files of r->o->server into r->files (r->root, r->unit, r->base and
 * the listen address set). Returns 0 or -1 (reason in r->err). */
int serve_generate(struct serve_run *r);

#endif /* PXE_SERVE_INT_H */
