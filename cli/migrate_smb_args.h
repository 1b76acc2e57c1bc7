/* migrate_smb_args.h -- the options of `pxeimagesfs migrate --from smb://...`: credentials
 * (--user/--password-file, --guest, --credentials FILE) and the network bounds. cli/ only.
 */
#ifndef PXE_MIGRATE_SMB_ARGS_H
#define PXE_MIGRATE_SMB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "migrate.h"

/* The SMB options as given; o is what migrate gets (its strings point in here). Start
 * with MIGRATE_SMB_ARGS_INIT. */
#define MIGRATE_SMB_ARGS_INIT {.o = {.retries = -1}}
struct migrate_smb_args {
	struct migrate_smb_opts o;
	const char *user;          /* --user (borrowed from argv) */
	const char *password_file; /* --password-file */
	const char *cred_file;     /* --credentials */
	bool guest;
	bool any; /* some SMB option was given */
	char user_buf[400];
	char password[512];
};

/* getopt_long's long options for these (to append to the command's), and their short letters */
#define MIGRATE_SMB_SHORTOPTS "u:p:gA:T:R:"
#define MIGRATE_SMB_LONGOPTS                                                                       \
	{"user", required_argument, NULL, 'u'}, {"password-file", required_argument, NULL, 'p'},   \
	    {"guest", no_argument, NULL, 'g'}, {"credentials", required_argument, NULL, 'A'},      \
	    {"timeout", required_argument, NULL, 'T'}, {"retries", required_argument, NULL, 'R'},  \
	{                                                                                          \
		"retry-time", required_argument, NULL, 'Y'                                         \
	}

/* migrate_smb_usage -- the lines of the usage text about a share source. */
void migrate_smb_usage(FILE *out);

/* migrate_smb_option -- option C with ARG into A: 1 when it is one of these, 0 when not,
 * -1 with a message on stderr for a bad value. */
int migrate_smb_option(int c, const char *arg, struct migrate_smb_args *a);

/* migrate_smb_finish -- the share URL and the credentials (files read) into a->o; -1 with a
 * message on stderr. URL NULL: no share source; then no SMB option may be given. */
int migrate_smb_finish(struct migrate_smb_args *a, const char *url);

/* migrate_smb_source -- a --from smb://... among O's --from is the one source (o->smb set to
 * SA's, read with its credentials: migrate_smb_finish); -1, or the exit status (2) after a
 * message on stderr. */
int migrate_smb_source(struct migrate_options *o, struct migrate_smb_args *sa);

/* migrate_smb_wipe -- the password forgotten. */
void migrate_smb_wipe(struct migrate_smb_args *a);

#endif /* PXE_MIGRATE_SMB_ARGS_H */
