/* smb_ports.c -- which port the system smbd listens on, from its own configuration.
 *
 * `check` must knock where smbd really listens: testparm reads smb.conf (and what it
 * includes) as smbd does, and its first `smb ports` entry is the port. Runs testparm
 * through run.c (no shell, bounded). Any thread; no state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sys_int.h"

int samba_system_port(const struct pxe_config *cfg, int *port)
{
	char *argv[] = {"testparm", "-s", "--suppress-prompt", "--parameter-name=smb ports",
	                cfg->share.smb_conf, NULL};
	struct prog p;
	char *end = NULL;
	long v = 0;
	int rc = prog_run(argv, &p);

	if (rc == 0 && p.status != 0) {
		rc = -EINVAL;
	}
	if (rc == 0) {
		const char *s = p.out + strspn(p.out, " \t");
		v = strtol(s, &end, 10);
		rc = end != s && v >= 1 && v <= 65535 ? 0 : -EINVAL;
	}
	if (rc == 0) {
		*port = (int)v;
	}
	prog_fini(&p);
	return rc;
}
