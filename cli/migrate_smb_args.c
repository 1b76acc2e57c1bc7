/* migrate_smb_args.c -- the options of `pxeimagesfs migrate --from smb://...` (see the header):
 * credentials as `check` takes them, or a Samba credentials file (username=, password=,
 * domain= lines, as smbclient -A reads), and the bounds on the network's faults.
 * Single-threaded; prints only to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrate_smb_args.h"
#include "smb_ctx.h"

void migrate_smb_usage(FILE *out)
{
	fprintf(out,
	        "A share as the source: --from smb://SERVER[:PORT]/SHARE[/PATH] (PATH: the images\n"
	        "folder on the share, e.g. smb://oldsrv/REMINST/SMSImages/SMSPKG), read with\n"
	        "libsmbclient, never written to (no --move with it):\n"
	        "  -u, --user [DOMAIN\\]USER  log on as USER, the password from --password-file\n"
	        "  -p, --password-file FILE  the password: the first line of FILE\n"
	        "  -g, --guest               connect as guest (anonymous)\n"
	        "  -A, --credentials FILE    a Samba credentials file (username=, password=,\n"
	        "                            domain= lines, as smbclient -A reads)\n"
	        "  -T, --timeout SECONDS     per request to the server (default 20)\n"
	        "  -R, --retries N           retries of a request on a network fault, each on a\n"
	        "                            fresh connection after a pause of 0.5 s doubling to\n"
	        "                            8 s (default 4; 0: none)\n"
	        "      --retry-time SECONDS  no retry after this long (default 60)\n");
}

static int number(const char *opt, const char *arg, int lo, int hi, int *out)
{
	char *end = NULL;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "pxeimagesfs migrate: %s %s: want a whole number from %d to %d\n",
		        opt, arg, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int migrate_smb_option(int c, const char *arg, struct migrate_smb_args *a)
{
	int v = 0;
	int rc = 0;

	switch (c) {
	case 'u':
		a->user = arg;
		break;
	case 'p':
		a->password_file = arg;
		break;
	case 'g':
		a->guest = true;
		break;
	case 'A':
		a->cred_file = arg;
		break;
	case 'T':
		rc = number("--timeout", arg, 1, 3600, &v);
		a->o.timeout_ms = v * 1000;
		break;
	case 'R':
		rc = number("--retries", arg, 0, 100, &a->o.retries);
		break;
	case 'Y':
		rc = number("--retry-time", arg, 1, 86400, &a->o.retry_s);
		break;
	default:
		return 0;
	}
	a->any = true;
	return rc < 0 ? -1 : 1;
}

/* The first line of FILE into OUT (as `check` reads it). */
static int first_line(const char *file, char *out, size_t len)
{
	int rc = smb_password_file(file, out, len);

	if (rc < 0) {
		fprintf(stderr, "pxeimagesfs migrate: cannot read %s: %s\n", file, strerror(-rc));
		return -1;
	}
	return 0;
}

/* "KEY = VALUE" (spaces around either trimmed): VALUE when LINE's key is KEY, else NULL. */
static char *value_of(char *line, const char *key)
{
	char *eq = strchr(line, '=');
	char *k = line + strspn(line, " \t");
	size_t n = eq ? (size_t)(eq - k) : 0;
	char *v = NULL;

	while (n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t')) {
		n--;
	}
	if (!eq || n != strlen(key) || strncasecmp(k, key, n) != 0) {
		return NULL;
	}
	v = eq + 1 + strspn(eq + 1, " \t");
	v[strcspn(v, "\r\n")] = '\0';
	for (n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--) {
		v[n - 1] = '\0';
	}
	return v;
}

static int read_credentials(struct migrate_smb_args *a)
{
	char line[1024];
	char user[256] = "";
	char domain[128] = "";
	FILE *f = fopen(a->cred_file, "re");
	char *v = NULL;

	if (!f) {
		fprintf(stderr, "pxeimagesfs migrate: cannot read %s: %s\n", a->cred_file,
		        strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if ((v = value_of(line, "username"))) {
			snprintf(user, sizeof(user), "%s", v);
		} else if ((v = value_of(line, "password"))) {
			snprintf(a->password, sizeof(a->password), "%s", v);
		} else if ((v = value_of(line, "domain"))) {
			snprintf(domain, sizeof(domain), "%s", v);
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (!user[0]) {
		fprintf(stderr, "pxeimagesfs migrate: %s: no 'username = ...' line\n",
		        a->cred_file);
		return -1;
	}
	snprintf(a->user_buf, sizeof(a->user_buf), "%s%s%s", domain, domain[0] ? "\\" : "", user);
	a->o.user = a->user_buf;
	a->o.password = a->password;
	return 0;
}

int migrate_smb_finish(struct migrate_smb_args *a, const char *url)
{
	int ways = (a->user != NULL) + a->guest + (a->cred_file != NULL);

	if (!url) {
		if (a->any) {
			fprintf(
			    stderr,
			    "pxeimagesfs migrate: --user, --password-file, --guest, "
			    "--credentials, --timeout and --retries go with --from smb://...\n");
		}
		return a->any ? -1 : 0;
	}
	a->o.url = url;
	if (ways != 1 || (a->password_file && !a->user)) {
		fprintf(stderr,
		        "pxeimagesfs migrate: %s: say how to log on: --user USER with "
		        "--password-file FILE, --credentials FILE, or --guest (one of them)\n",
		        url);
		return -1;
	}
	if (a->cred_file) {
		return read_credentials(a);
	}
	if (a->user && !a->password_file) {
		fprintf(stderr, "pxeimagesfs migrate: --user %s given without --password-file\n",
		        a->user);
		return -1;
	}
	a->o.user = a->user;
	if (a->user && first_line(a->password_file, a->password, sizeof(a->password)) < 0) {
		return -1;
	}
	a->o.password = a->user ? a->password : NULL;
	return 0;
}

void migrate_smb_wipe(struct migrate_smb_args *a)
{
	explicit_bzero(a->password, sizeof(a->password));
}

int migrate_smb_source(struct migrate_options *o, struct migrate_smb_args *sa)
{
	const char *url = NULL;

	for (size_t i = 0; i < o->n_from; i++) {
		url = strncasecmp(o->from[i], "smb://", 6) == 0 ? o->from[i] : url;
	}
	if (url && o->n_from > 1) {
		fprintf(stderr,
		        "pxeimagesfs migrate: %s: a share is the only source (one --from)\n", url);
		return 2;
	}
	if (migrate_smb_finish(sa, url) < 0) {
		return 2;
	}
	if (url) {
		o->n_from = 0;
		o->smb = &sa->o;
	}
	return -1;
}
