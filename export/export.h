/* export.h -- the SMB share of the view: smb.conf text, the system smbd's
 * include, a private smbd, and the client-side check with libsmbclient.
 *
 * Nothing here exits or prints to stdout: results and reasons come back in
 * caller-provided buffers (config/CLI style: 0 or -1 with a message).
 * Functions are not thread-safe unless they say so.
 */
#ifndef PXE_EXPORT_H
#define PXE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* ---- share.c: the text we generate --------------------------------------------------------- */

/* samba_share_path -- the share's path: the images folder inside the view
 * mounted at MOUNTPOINT (never the bare mountpoint). Returns 0 or -1. */
int samba_share_path(const struct pxe_config *cfg, const char *mountpoint, char *out, size_t len);

/* samba_share_block -- the [share] section for CFG, one parameter a line,
 * comments on their own lines. Returns a malloc'd string (caller frees) or
 * NULL when out of memory. */
char *samba_share_block(const struct pxe_config *cfg, const char *mountpoint);

/* samba_private_dir -- <state directory>/samba: the private smbd's tree. */
int samba_private_dir(const struct pxe_config *cfg, char *out, size_t len);

/* samba_private_conf -- the whole smb.conf of the private smbd ([global]
 * with its own private/lock/state/cache/pid directories, passdb, port and
 * interfaces, then the share block). Returns a malloc'd string or NULL. */
char *samba_private_conf(const struct pxe_config *cfg, const char *mountpoint);

/* ---- system.c: samba = system ---------------------------------------------------------------- */

struct samba_export_opts {
	bool dry_run; /* say what would change; change nothing */
	bool repair;  /* comment out conflicting definitions, after a backup */
	bool remove;  /* undo all our changes */
	const char *testparm;   /* program names; NULL = "testparm", ... from PATH */
	const char *smbcontrol;
	const char *net;
	bool no_reload; /* do not run smbcontrol (tests without a running smbd) */
	int timeout_ms; /* all of testparm, net and smbcontrol together; 0 = 120 s (each
	                 * program at most 60 s). Files are read without ever blocking. */
};

/* samba_export -- write our include file atomically, make the marked include
 * line the last line of cfg->share.smb_conf (idempotent), validate with
 * testparm, reload smbd; report conflicting definitions of the share name
 * as file:line. REPORT gets what was done, one line each. Returns 0, or -1
 * with the reason in REPORT; on -1 no file was changed. */
int samba_export(const struct pxe_config *cfg, const char *mountpoint,
                 const struct samba_export_opts *o, char *report, size_t len);

/* samba_export_summary -- from samba_export's REPORT, one line for the status file: FAILED,
 * why (its "error: " line); else what is worth showing beside "exported" (its first warning,
 * else the note that smbd is not running), or "" when nothing is. */
void samba_export_summary(const char *report, bool failed, char *out, size_t len);

/* samba_check_config -- testparm (TESTPARM; NULL: "testparm" from PATH) on the smb.conf text
 * CFG generates, alone: each parameter it does not know or rejects as "file:line: ..."
 * lines in ERR. Returns 0 (valid, or samba = none), -1 (ERR has the lines) or 1 when
 * testparm cannot run (ERR has a note). */
int samba_check_config(const struct pxe_config *cfg, const char *testparm, char *err, size_t len);

/* ---- private.c: samba = private --------------------------------------------------------------- */

struct samba_private;

/* samba_private_start -- write the private smb.conf and start smbd on it;
 * returns 0 once it listens (its own socket), or -1 with the reason in ERR. When
 * smbd cannot start (another program holds the port, or smbd fails), *OUT is set all
 * the same: tend starts smbd once the port is free, or tries again after 2, 4, 8 ...
 * at most 60 s (it signals SIGCHLD to the process when the time comes). Only a
 * private smb.conf that cannot be written leaves *OUT NULL. */
int samba_private_start(const struct pxe_config *cfg, const char *mountpoint,
                        struct samba_private **out, char *err, size_t len);

/* samba_private_tend -- restart smbd if it died, start it once its port is free or
 * its retry is due (call it at each SIGCHLD, from one thread). Returns 0 (nothing new
 * to report), 1 when smbd listens for the first time (its port was taken until now),
 * 2 when it listens for the first time after failed starts, or -1 with the reason in
 * ERR when it cannot (smbd dying 5 times a minute is tried again in 60 s). */
int samba_private_tend(struct samba_private *p, char *err, size_t len);

/* samba_private_update -- CFG replaces the configuration (after a reload):
 * rewrite the private smb.conf and have smbd read it again (SIGHUP). */
int samba_private_update(struct samba_private *p, const struct pxe_config *cfg, char *err,
                         size_t len);

/* samba_private_listening -- does something accept connections on the private
 * smbd's port (the first IPv4 address of `interfaces`, else 127.0.0.1)? */
bool samba_private_listening(const struct pxe_config *cfg);

/* samba_private_port_foreign -- does a program outside the process tree of TREE (a daemon
 * running the private smbd, its smbd, or <= 0: none of ours) listen on the share's port on an
 * address its smbd wants (any address `interfaces` covers, named as an address, a network or
 * an interface)? 1 with "port P on ADDR is in use by pid N (NAME)" in WHO, 0 when none does,
 * or a negative errno when /proc/net/tcp cannot be read. */
int samba_private_port_foreign(const struct pxe_config *cfg, pid_t tree, char *who, size_t len);

/* samba_private_serving -- does the process tree of TREE hold a socket listening on the share's
 * port (a connect cannot tell it from another program's)? */
bool samba_private_serving(const struct pxe_config *cfg, pid_t tree);

/* samba_private_pid -- the running smbd's pid, or -1 (none: it died and was not
 * restarted, or P is NULL). */
pid_t samba_private_pid(const struct samba_private *p);

/* samba_private_stop -- stop smbd by its pid and free P (NULL is a no-op). */
void samba_private_stop(struct samba_private *p);

/* samba_passwd -- add or update USER with PASSWORD in the private smbd's
 * passdb (the Unix user must exist). Returns 0 or -1 with the reason. */
int samba_passwd(const struct pxe_config *cfg, const char *user, const char *password, char *err,
                 size_t len);

/* ---- check.c: the client side ---------------------------------------------------------------- */

/* The monitoring-plugin statuses: UNKNOWN for usage and configuration errors and for a
 * prerequisite the check cannot reach (never for the share being down: that is CRITICAL). */
enum check_status { CHECK_OK = 0, CHECK_WARNING = 1, CHECK_CRITICAL = 2, CHECK_UNKNOWN = 3 };

struct check_opts {
	const char *url;           /* smb://host[:port]/share; NULL: from the config */
	const char *user;          /* NULL: guest (only with guest = true) */
	const char *password_file; /* first line is the password */
	bool guest;
	bool deep;                 /* also compare SHA-256 of every file */
	const char *mountpoint;    /* the local view to compare with */
	int timeout_ms;            /* per connection attempt; 0 = 5000 */
};

struct check_result {
	enum check_status status;
	char kind[48];     /* ok, share_not_defined, path_missing, path_stale, share_empty,
	                    * access_denied, wrong_credentials, unreachable, protocol_mismatch,
	                    * content_differs, error */
	char message[1024]; /* plain words: what is wrong and what to do */
	size_t files_remote;
	size_t files_local;
	size_t differences;
	char *details;     /* malloc'd: one line per difference (may be NULL) */
	double time_s;     /* the whole check's wall time; < 0: not measured */
	double free_pct;   /* free space of the view (its primary drive); < 0: unknown */
};

/* export_tmp_cleanup -- remove the folder of testparm's copies an export made, if one is
 * still there: for a daemon that stops while its export thread waits on testparm. */
void export_tmp_cleanup(void);

/* samba_system_port -- the first of the system smbd's `smb ports` (testparm on the
 * config's smb.conf): 0, or a negative errno when testparm cannot tell. */
int samba_system_port(const struct pxe_config *cfg, int *port);

/* check_default_url -- the share check_run() reads when no URL is given: the private smbd on
 * 127.0.0.1 and its port, else the system smbd on this machine (its port when not 445). */
void check_default_url(const struct pxe_config *cfg, char *out, size_t len);

/* check_run -- connect with libsmbclient (a fresh context), list the share
 * recursively and compare it with the local view. Always fills RES. */
void check_run(const struct pxe_config *cfg, const struct check_opts *o, struct check_result *res);

/* check_result_json -- RES as JSON (malloc'd), or NULL when out of memory. */
char *check_result_json(const struct check_result *res, const struct check_opts *o);

void check_result_fini(struct check_result *res);

/* ---- serve.c, serve_install.c: TFTP and HTTP servers rooted at the view ---------------------- */

enum serve_server { SERVE_TFTPD_HPA = 0, SERVE_DNSMASQ, SERVE_NGINX };

struct serve_opts {
	enum serve_server server;
	const char *root;    /* NULL: <mountpoint>/<the images path's first folder> */
	const char *listen;  /* [ADDR][:PORT]; NULL: the server's default (tftpd-hpa :69,
	                      * nginx 8080; dnsmasq takes none: its TFTP port is 69) */
	const char *unit;    /* the view's systemd unit; NULL: pxeimagesfs.service, or
	                      * pxeimagesfs@NAME.service for a config /etc/pxeimagesfs/NAME.conf */
	bool write;          /* install the files; else *TEXT gets them */
	bool dry_run;        /* with write: say what would change, change nothing */
	const char *destdir; /* with write: install below this folder instead of / (NULL: /) */
};

/* serve_export -- the configuration of server O->server for the view of CFG: its files
 * (the server's own configuration, a systemd drop-in ordering it after the view's unit, for
 * tftpd-hpa the backslash map). Without O->write *TEXT gets every file, each after a line
 * "# ==> PATH <==" (malloc'd; the caller frees it); with it they are installed (a file
 * that is not ours is kept as PATH.pxeimagesfs-bak.STAMP first; an unchanged file is left
 * alone). A root that is one of the view's drives, inside one or above one (symlinks
 * resolved), or that the server's configuration could not hold, is refused; writing also
 * needs the view mounted at the mountpoint. REPORT gets "warning: " / "note: " lines, what
 * was done, and on failure a last "error: " line. Returns 0 or -1 (nothing was changed). */
int serve_export(const struct pxe_config *cfg, const struct serve_opts *o, char **text,
                 char *report, size_t len);

#endif /* PXE_EXPORT_H */
