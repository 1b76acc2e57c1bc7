/* paths.c -- file names derived from the configuration.
 *
 * Pure string work; thread-safe.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "config.h"

int cfg_status_path(const struct pxe_config *cfg, const char *mountpoint, char *out, size_t len)
{
	char name[PATH_MAX];
	size_t n = 0;

	for (const char *p = mountpoint; *p && n + 6 < sizeof(name); p++) {
		if (!(p == mountpoint && *p == '/')) {
			name[n++] = *p == '/' ? '-' : *p;
		}
	}
	snprintf(name + n, sizeof(name) - n, "%s.json", n ? "" : "-");
	return snprintf(out, len, "%s/%s", cfg->run_dir, name) < (int)len ? 0 : -ENAMETOOLONG;
}
