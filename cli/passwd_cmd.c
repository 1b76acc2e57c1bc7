/* passwd_cmd.c -- `pxeimagesfs passwd USER`: a user of the private smbd.
 *
 * Reads the password from the terminal (twice, without echo) or, when stdin
 * is not a terminal, from its first line. Only for samba = private; the
 * system smbd has smbpasswd.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"

static void passwd_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs passwd [-c FILE] USER\n\n"
	        "Add USER (an existing Unix user) to the private smbd's users, or change the\n"
	        "password, for [share] samba = private. The password is read from the terminal,\n"
	        "or from the first line of standard input.\n"
	        "  -c, --config FILE  configuration (default: $%s, else %s)\n\n"
	        "exit status: 0 done, 2 failed\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

static int read_line(const char *prompt, char *buf, size_t len)
{
	struct termios old;
	struct termios quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *ok = NULL;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok) {
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int get_password(char *pw, size_t len)
{
	char again[256];

	if (read_line("New SMB password: ", pw, len) < 0 || !pw[0]) {
		fprintf(stderr, "pxeimagesfs passwd: no password given\n");
		return -1;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_line("Retype new SMB password: ", again, sizeof(again)) < 0 ||
		    strcmp(pw, again) != 0) {
			fprintf(stderr, "pxeimagesfs passwd: the passwords do not match\n");
			return -1;
		}
	}
	return 0;
}

int cmd_passwd(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct pxe_config *cfg = NULL;
	char pw[256];
	char err[1024];
	int rc = 2;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else {
			passwd_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc) {
		passwd_usage(stderr);
		return 2;
	}
	cfg = cli_load_config(config);
	if (!cfg) {
		return 2;
	}
	if (cfg->share.samba != CFG_SAMBA_PRIVATE) {
		fprintf(stderr, "pxeimagesfs passwd: %s has 'samba = %s'; passwd is for the private smbd "
		                "(samba = private). For the system smbd use 'smbpasswd -a %s'\n",
		        cfg->file, cfg_samba_name(cfg->share.samba), argv[optind]);
	} else if (get_password(pw, sizeof(pw)) == 0) {
		if (samba_passwd(cfg, argv[optind], pw, err, sizeof(err)) < 0) {
			fprintf(stderr, "pxeimagesfs passwd: %s\n", err);
		} else {
			printf("%s can now connect to the private smbd\n", argv[optind]);
			rc = 0;
		}
		memset(pw, 0, sizeof(pw));
	}
	cfg_free(cfg);
	return rc;
}
