/* cli.h -- subcommands of the pxeimagesfs binary (internal to cli/).
 *
 * Each cmd_* gets the arguments after its name (argv[0] is the command name)
 * and returns the process exit status; only main() exits. Called on the main thread;
 * only cmd_mount starts threads (the view's and the system export's).
 */
#ifndef PXE_CLI_H
#define PXE_CLI_H

#include "config.h"

int cmd_resolve(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* cmd_export_serve -- `export --tftp/--http` (serve_cmd.c); cli_serve_wanted -- argv asks
 * for it. */
int cmd_export_serve(int argc, char **argv);
int cli_serve_wanted(int argc, char **argv);

/* cli_load_config -- load PATH (or the default path when NULL), printing
 * every error to stderr. Returns NULL on failure. */
struct pxe_config *cli_load_config(const char *path);

/* cli_wants_help -- true when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif /* PXE_CLI_H */
