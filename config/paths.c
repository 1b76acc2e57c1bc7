/* paths.c -- file names derived from the configuration.
 *
 * Pure string work; thread-safe.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Append C to OUT (N used of LEN) as systemd-escape does: kept, or \xNN. */
static size_t escape_char(char *out, size_t n, size_t len, char c, bool keep)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u = (unsigned char)c;

	if (keep && n + 1 < len) {
		out[n++] = c;
	} else if (!keep && n + 4 < len) {
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[u >> 4];
		out[n++] = hex[u & 15];
	} else {
		n = len; /* too long */
	}
	return n;
}

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '_' || c == '.';
}

int cfg_escape_path(const char *path, char *out, size_t len)
{
	size_t n = 0;
	bool any = false;

	for (const char *p = path; *p && n < len;) {
		size_t seg = 0;
		while (*p == '/') {
			p++;
		}
		seg = strcspn(p, "/");
		if (seg == 0 || (seg == 1 && p[0] == '.')) { /* "//", "/./" and the ends */
			p += seg;
			continue;
		}
		if (any) {
			n = escape_char(out, n, len, '-', true);
		}
		for (size_t i = 0; i < seg && n < len; i++) {
			bool lead_dot = !any && i == 0 && p[i] == '.';
			n = escape_char(out, n, len, p[i], plain_char(p[i]) && !lead_dot);
		}
		any = true;
		p += seg;
	}
	if (!any && n < len) {
		n = escape_char(out, n, len, '-', true); /* "/" */
	}
	if (n >= len) {
		return -ENAMETOOLONG;
	}
	out[n] = '\0';
	return 0;
}

int cfg_status_path(const struct pxe_config *cfg, const char *mountpoint, char *out, size_t len)
{
	char name[NAME_MAX + 1];

	if (cfg_escape_path(mountpoint, name, sizeof(name) - strlen(".json")) < 0) {
		return -ENAMETOOLONG;
	}
	return snprintf(out, len, "%s/%s.json", cfg->run_dir, name) < (int)len ? 0 : -ENAMETOOLONG;
}
