/* config.h -- pxeimagesfs configuration: INI file -> struct pxe_config.
 *
 * All user-facing validation lives here. Parsing never stops at the first
 * mistake: every error of a file is collected as "file:line: message".
 * Not thread-safe per object; a parsed config is immutable and may be shared
 * read-only between threads.
 */
#ifndef PXE_CONFIG_H
#define PXE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h" /* common/: the level type; and the logger for every module above */

#define CFG_DEFAULT_PATH "/etc/pxeimagesfs/pxeimagesfs.conf"
#define CFG_ENV_PATH     "PXEIMAGESFS_CONFIG"

/* What a configuration without any drive lacks (see cfg_no_drive_hint). */
#define CFG_NO_DRIVE_HINT                                                                          \
	"no drive configured: add a [drive:NAME] section with path=, uuid= or label= "             \
	"(examples in " CFG_DEFAULT_PATH "), or set 'discover = yes' in [global]"

enum cfg_mode { CFG_MODE_UNION = 0, CFG_MODE_SINGLE };
/* how the kernel's FUSE requests reach the daemon: /dev/fuse, or FUSE over io_uring */
enum cfg_transport { CFG_TRANSPORT_DEV = 0, CFG_TRANSPORT_IO_URING };
/* CFG_SAMBA_CTDB: samba = system on a node of a CTDB cluster (clustering = yes, fileid). */
enum cfg_samba { CFG_SAMBA_SYSTEM = 0, CFG_SAMBA_PRIVATE, CFG_SAMBA_NONE, CFG_SAMBA_CTDB };
/* A drive's st_ino in the view: CFG_INO_PATH a hash of the virtual path (kept by a rename
 * through the view, in the state directory); CFG_INO_DRIVE a hash of the drive's name and the
 * backing file's st_ino (the same on every host over a shared store, whoever renamed it). */
enum cfg_inode_numbers { CFG_INO_PATH = 0, CFG_INO_DRIVE };
/* [share] samba config: where samba = system/ctdb puts the share. AUTO: the registry when
 * smb.conf says 'config backend = registry' or 'include = registry', else the file. */
enum cfg_samba_config {
	CFG_SAMBA_CONFIG_AUTO = 0,
	CFG_SAMBA_CONFIG_FILE,
	CFG_SAMBA_CONFIG_REGISTRY
};

/* One [drive:NAME] section. All strings owned by the config. */
struct cfg_drive {
	char *name;     /* as written in the section header */
	char *path;     /* absolute, no trailing '/', or NULL */
	char *uuid;     /* or NULL; compared case-insensitively */
	char *label;    /* or NULL; compared exactly */
	int priority;   /* -1000..1000, default 0; higher ranks first */
	bool read_only; /* default no */
	int line;       /* line of the section header */
	/* default path */
	enum cfg_inode_numbers inode_numbers;
};

/* One verbatim smb.conf parameter from a "samba:KEY = VALUE" line of [share]. */
struct cfg_param {
	char *key;   /* owned, as written after "samba:", trimmed */
	char *value; /* owned */
	int line;
};

struct cfg_share {
	char *name;               /* default "SMSPXEIMAGES$" */
	enum cfg_samba samba;     /* default system */
	int port;                 /* 1..65535, default 445 (private smbd only) */
	char *interfaces;         /* or NULL = all (private smbd only) */
	char *valid_users;        /* or NULL */
	char *write_list;         /* or NULL */
	bool read_only;           /* default no */
	bool guest_ok;            /* default no */
	char *include_file;       /* default "/etc/samba/pxeimagesfs.conf" */
	char *smb_conf;           /* default "/etc/samba/smb.conf" */
	enum cfg_samba_config samba_config; /* default auto */
	struct cfg_param *params; /* owned array */
	size_t n_params;
};

struct pxe_config {
	char *file; /* path the config came from, or "<string>"; owned */

	/* [global] */
	char *mountpoint;             /* absolute; default "/srv/pxeimages" */
	char *images_path;            /* '/'-separated, relative, no empty/./.. parts;
	                               * default "RemoteInstall/SMSImages/SMSPKG" */
	enum cfg_mode mode;           /* default union */
	char *state_dir;              /* absolute; default "/var/lib/pxeimagesfs" */
	char *run_dir;                /* absolute; default "/run/pxeimagesfs" */
	unsigned mount_timeout_ms;    /* 0..1h, default 30 s */
	unsigned rescan_interval_ms;  /* 0 (off) or 1 s..1 day, default 30 s */
	bool require_drives;          /* default no */
	bool discover;                /* discovery: mounted filesystems holding the images are
	                               * drives too; default no */
	bool discover_set;            /* "discover" was written in the file (yes or no) */
	bool discover_network;        /* discovery also takes network filesystems; default no */
	bool passthrough;             /* kernel FUSE passthrough when offered; default yes */
	enum cfg_transport transport; /* "fuse transport"; default dev */
	bool boot_tree;               /* the view merges the images path's first folder
	                               * (RemoteInstall: SMSBoot, SMSImages, SMSTemp, Boot, ...)
	                               * of every drive, not the images folder only; default no */
	enum log_level log_level;     /* default info */

	struct cfg_drive *drives; /* owned array, in config order */
	size_t n_drives;

	struct cfg_share share;
};

/* cfg_load_file -- parse FILE. On success returns 0 and stores a new config
 * in *out (owned by the caller, free with cfg_free). On failure returns -1,
 * *out is NULL, and errbuf holds every error, one "file:line: message" per
 * line (a file that cannot be read gives one "file: reason" line). */
int cfg_load_file(const char *file, struct pxe_config **out, char *errbuf, size_t errlen);

/* cfg_load_string -- the same for TEXT; NAME is used as the file name in
 * messages and stored as cfg->file. */
int cfg_load_string(const char *text, const char *name, struct pxe_config **out, char *errbuf,
                    size_t errlen);

/* cfg_default_path -- the config path to use when -c is not given:
 * $PXEIMAGESFS_CONFIG when set and non-empty, else CFG_DEFAULT_PATH.
 * Returns a borrowed string. */
const char *cfg_default_path(void);

/* cfg_free -- free a config; NULL is a no-op. */
void cfg_free(struct pxe_config *cfg);

/* Helpers shared with other modules; all return 0 or -1 (bad input). */
int cfg_parse_bool(const char *s, bool *out);
int cfg_parse_duration_ms(const char *s, unsigned *out); /* "30", "30s", "500ms", "2m", "1h" */

const char *cfg_mode_name(enum cfg_mode mode);
const char *cfg_transport_name(enum cfg_transport transport);

/* cfg_no_drive_hint -- when CFG can have no drive at all (no [drive:*] section and no
 * discover = yes), what to add, in one line; NULL when it names drives or discovers them.
 * When "discover" is not written at all, the line also says that such a file discovered
 * drives by itself in earlier versions (the migration hint). Returns a borrowed, constant string.
 */
const char *cfg_no_drive_hint(const struct pxe_config *cfg);
const char *cfg_samba_name(enum cfg_samba samba);
const char *cfg_samba_config_name(enum cfg_samba_config c);
const char *cfg_inode_numbers_name(enum cfg_inode_numbers n);
/* cfg_drive_ids_differ -- D (of CFG) gives a file another id on each CTDB node once renamed:
 * samba = ctdb and D keeps path numbers (`config check` warns; docs/scale-out.md). */
bool cfg_drive_ids_differ(const struct pxe_config *cfg, const struct cfg_drive *d);
/* cfg_samba_system -- the share goes into the system smbd's smb.conf (system or ctdb). */
bool cfg_samba_system(const struct pxe_config *cfg);

/* cfg_status_path -- the live status file of the view mounted at MOUNTPOINT:
 * <run directory>/<cfg_escape_path(MOUNTPOINT)>.json, e.g. /srv/pxe-images ->
 * srv-pxe\x2dimages.json, / -> -.json. The daemon writes it and `status` reads it
 * by this one function. Returns 0 or -ENAMETOOLONG. */
int cfg_status_path(const struct pxe_config *cfg, const char *mountpoint, char *out, size_t len);

/* cfg_escape_path -- PATH as `systemd-escape --path` gives it: empty and "."
 * components dropped, '/' between components made '-', every byte but [A-Za-z0-9:_.]
 * (and a leading '.') made \xNN; "/" is "-". Two paths give one name only when they
 * are the same path. Returns 0 or -ENAMETOOLONG (LEN too small). */
int cfg_escape_path(const char *path, char *out, size_t len);

#endif /* PXE_CONFIG_H */
