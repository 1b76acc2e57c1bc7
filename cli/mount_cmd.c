/* mount_cmd.c -- `pxeimagesfs mount`: resolve the drives and serve the view.
 *
 * Refuses, before changing anything, a mountpoint that is already mounted and
 * one inside one of its own drives. Runs in the foreground with -f, else
 * daemonizes once mounted. Unmounts on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "cli.h"
#include "export.h"
#include "fs.h"
#include "resolver.h"

static void mount_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs mount [-c FILE] [-f] [-d] [-o OPTIONS] [MOUNTPOINT]\n\n"
	        "Mount the stable view of the images at MOUNTPOINT (default: the config's\n"
	        "mountpoint) and serve it until unmounted, SIGTERM or SIGINT.\n"
	        "  -c, --config FILE   configuration (default: $%s, else %s)\n"
	        "  -f, --foreground    stay in the foreground (default: daemonize once mounted)\n"
	        "  -d, --debug         print every FUSE request (implies -f)\n"
	        "  -o OPTIONS          extra FUSE mount options, comma-separated\n\n"
	        "exit status: 0 after a clean unmount, 2 when it cannot mount\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH);
}

struct mount_args {
	const char *config;
	const char *mountpoint;
	const char *opts;
	bool foreground;
	bool debug;
};

static int parse(int argc, char **argv, struct mount_args *a)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"foreground", no_argument, NULL, 'f'},
	                                     {"debug", no_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:fdo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'd':
			a->debug = a->foreground = true;
			break;
		case 'o':
			a->opts = optarg;
			break;
		case 'h':
			mount_usage(stdout);
			return 0;
		default:
			mount_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		a->mountpoint = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "pxeimagesfs mount: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return -1;
}

/* Is PATH equal to or below DIR? */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0) {
		return true;
	}
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Refuse a mountpoint that is mounted already or lies inside one of our drives. */
static int check_mountpoint(const char *mp, const struct resolver_view *v)
{
	struct rsv_mount *m = NULL;
	size_t n = 0;
	int rc = rsv_sys_real()->ops->mounts(NULL, &m, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (strcmp(m[i].target, mp) == 0) {
			fprintf(stderr,
			        "pxeimagesfs mount: %s is already mounted (%s from %s); unmount it "
			        "first ('umount %s') or choose another mountpoint\n",
			        mp, m[i].fstype, m[i].source ? m[i].source : "?", mp);
			rc = -EBUSY;
		}
	}
	rsv_mounts_free(m, n);
	for (size_t i = 0; rc == 0 && i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		bool root = d->mount_path && strcmp(d->mount_path, "/") == 0;
		const char *inside = root ? d->images_dir : d->mount_path;
		if ((d->configured || d->in_view) && inside && below(mp, inside)) {
			fprintf(
			    stderr,
			    "pxeimagesfs mount: %s is inside drive %s (%s); the view cannot be "
			    "mounted on one of its own drives: choose a mountpoint outside them\n",
			    mp, d->name, inside);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* A view left behind by a daemon that crashed answers ENOTCONN: detach it so
 * the new daemon can mount (systemd's Restart= after a kill -9). statfs, not
 * stat: the kernel may answer stat from attributes it cached for a minute. */
static void detach_dead_view(const char *want)
{
	struct rsv_mount *m = NULL;
	struct statfs sf;
	size_t n = 0;
	bool ours = false;

	if (statfs(want, &sf) == 0 || errno != ENOTCONN) {
		return;
	}
	if (rsv_sys_real()->ops->mounts(NULL, &m, &n) == 0) {
		for (size_t i = n; i-- > 0 && !ours;) {
			ours = strcmp(m[i].target, want) == 0 && !strcmp(m[i].fstype, "fuse.pxeimagesfs");
		}
		rsv_mounts_free(m, n);
	}
	if (ours && umount2(want, MNT_DETACH) == 0) {
		log_warnx("%s: a view left by a daemon that died (not connected); detached it", want);
	}
}

/* The canonical mountpoint, created when missing. */
static int prepare_mountpoint(const char *want, char *out)
{
	struct stat st;

	detach_dead_view(want);
	if (stat(want, &st) < 0 && errno == ENOENT && mkdir(want, 0755) < 0) {
		fprintf(stderr, "pxeimagesfs mount: cannot create mountpoint %s: %s\n", want,
		        strerror(errno));
		return -1;
	}
	if (!realpath(want, out) || stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pxeimagesfs mount: mountpoint %s is not a directory\n", want);
		return -1;
	}
	return 0;
}

static bool all_online(const struct resolver_view *v)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		if (v->drives[i].configured && v->drives[i].state != DRIVE_ONLINE) {
			return false;
		}
	}
	return true;
}

/* Boot ordering: wait up to `mount timeout` for the configured drives, then
 * go on degraded (a warning per drive) or, with `require drives`, give up. */
static int wait_for_drives(const struct pxe_config *cfg, struct resolver_view **view)
{
	struct timespec nap = {0, 100 * 1000 * 1000};
	unsigned waited = 0;

	while (!all_online(*view) && waited < cfg->mount_timeout_ms) {
		struct resolver_view *nv = NULL;
		nanosleep(&nap, NULL);
		waited += 100;
		if (resolver_resolve(cfg, rsv_sys_real(), &nv) == 0) {
			resolver_view_free(*view);
			*view = nv;
		}
	}
	for (size_t i = 0; i < (*view)->n_drives; i++) {
		const struct drive *d = &(*view)->drives[i];
		if (!d->configured || d->state == DRIVE_ONLINE) {
			continue;
		}
		if (cfg->require_drives) {
			fprintf(
			    stderr,
			    "pxeimagesfs mount: drive %s is still %s after %u ms (%s), and "
			    "'require drives = yes'; mount it or set 'require drives = no'\n",
			    d->name, drive_state_name(d->state), cfg->mount_timeout_ms, d->reason);
		} else {
			log_warnx("drive %s is %s (%s); serving without it until it comes online",
			          d->name, drive_state_name(d->state), d->reason);
		}
	}
	return cfg->require_drives && !all_online(*view) ? -1 : 0;
}

/* The share, tended from the daemon's live thread (see fs_options.hook). The system export
 * (testparm, smbcontrol, reading smb.conf and what it includes) runs on a thread of its own,
 * with its own copy of the configuration, so the live thread never waits on Samba: it goes on
 * following the drives and answers SIGTERM. What it
 * finds of samba = private goes to `state`, which the status and metrics files report
 * (samba = system: not reported yet, the export runs on its own thread). */
struct share_ctx {
	const char *mountpoint;
	struct samba_private *smbd; /* samba = private */
	struct fs_share_state state;
};

/* One export, owned by its detached thread: a stop never waits for Samba's tools (the
 * export writes smb.conf by rename, so a process that ends mid-export leaves the old or the
 * new file, never half of one). */
struct export_job {
	char *file;       /* the configuration file (owned) */
	char *mountpoint; /* owned */
};

/* export_log -- the report of samba_export at the priority each line asks for. */
static void export_log(char *msg, bool failed)
{
	for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n")) {
		if (failed || strncmp(line, "error: ", 7) == 0) {
			log_error("export: %s", line);
		} else if (strncmp(line, "warning: ", 9) == 0) {
			log_warnx("export: %s", line + 9);
		} else {
			log_info("export: %s", line);
		}
	}
}

static void *export_main(void *arg)
{
	struct export_job *j = arg;
	struct pxe_config *cfg = NULL;
	struct samba_export_opts eo = {0};
	char *msg = calloc(1, 65536);

	if (!msg || cfg_load_file(j->file, &cfg, msg, 65536) < 0) {
		log_error("export: cannot read %s again: %s", j->file, msg ? msg : "out of memory");
	} else {
		int rc = samba_export(cfg, j->mountpoint, &eo, msg, 65536);
		export_log(msg, rc < 0);
	}
	cfg_free(cfg);
	free(msg);
	free(j->file);
	free(j->mountpoint);
	free(j);
	return NULL;
}

/* Record the share's state: UP, else why not (WHY: its first line). */
static void share_set(struct share_ctx *s, bool up, const char *why)
{
	s->state.up = up;
	snprintf(s->state.reason, sizeof(s->state.reason), "%.*s", (int)strcspn(why, "\n"), why);
	s->state.changed = true;
}

static void share_start(struct share_ctx *s, const struct pxe_config *cfg)
{
	char msg[8192] = "";
	char first[512] = "";

	if (cfg->share.samba == CFG_SAMBA_PRIVATE) {
		s->state.kind = FS_SHARE_PRIVATE;
		if (samba_private_start(cfg, s->mountpoint, &s->smbd, msg, sizeof(msg)) < 0) {
			log_error("share: cannot start the private smbd: %s", msg);
			snprintf(first, sizeof(first), "cannot start the private smbd: %.400s", msg);
			share_set(s, false, first);
		} else {
			log_info("share: private smbd serves %s on port %d", cfg->share.name,
			         cfg->share.port);
			share_set(s, true, "");
		}
	} else if (cfg->share.samba == CFG_SAMBA_SYSTEM) {
		struct export_job *j = calloc(1, sizeof(*j));
		if (!j || !(j->file = strdup(cfg->file)) || !(j->mountpoint = strdup(s->mountpoint)) ||
		    pxe_thread_start(NULL, 0, export_main, j) != 0) {
			log_error("export: cannot start the export (out of memory or threads)");
			if (j) {
				free(j->file);
				free(j->mountpoint);
			}
			free(j);
		}
	}
}

/* samba = private: restart smbd if it died; count the restarts. */
static void share_tend(struct share_ctx *s)
{
	char msg[1024] = "";
	pid_t before = samba_private_pid(s->smbd);
	int rc = samba_private_tend(s->smbd, msg, sizeof(msg));
	pid_t after = samba_private_pid(s->smbd);

	if (after > 0 && after != before) {
		s->state.restarts++;
		share_set(s, true, "");
	} else if (rc < 0) {
		log_error("share: %s", msg);
		share_set(s, false, msg);
	}
}

static void share_hook(void *arg, const struct pxe_config *cfg, unsigned events)
{
	struct share_ctx *s = arg;
	char msg[1024] = "";

	if (events & FS_EVENT_START) {
		share_start(s, cfg);
		return;
	}
	if ((events & WATCH_RELOAD) && s->smbd &&
	    samba_private_update(s->smbd, cfg, msg, sizeof(msg)) < 0) {
		log_error("share: %s", msg);
	}
	if ((events & WATCH_CHILD) && s->smbd) {
		share_tend(s);
	}
}

static void announce(const char *mp, const struct resolver_view *v)
{
	char roots[512] = "";
	size_t n = 0;

	for (size_t r = 0; r < v->n_roots && n < sizeof(roots); r++) {
		int w = snprintf(roots + n, sizeof(roots) - n, " %s%s", v->drives[v->roots[r]].name,
		                 r + 1 < v->n_roots ? "," : "");
		n += w > 0 ? (size_t)w : 0;
	}
	log_info("serving %s/%s from%s; primary %s", mp, v->images_path,
	         v->n_roots ? roots : " no drive (images absent)",
	         v->primary >= 0 ? v->drives[v->primary].name : "none (read-only)");
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = {0};
	struct pxe_config *cfg = NULL;
	struct resolver_view *view = NULL;
	struct fs *fs = NULL;
	struct share_ctx share = {0};
	char mp[PATH_MAX];
	char err[512] = "";
	int rc = parse(argc, argv, &a);

	if (rc >= 0) {
		return rc;
	}
	rc = 2;
	cfg = cli_load_config(a.config);
	if (!cfg || prepare_mountpoint(a.mountpoint ? a.mountpoint : cfg->mountpoint, mp) < 0) {
		goto out;
	}
	if (resolver_resolve(cfg, rsv_sys_real(), &view) < 0) {
		fprintf(stderr, "pxeimagesfs mount: cannot read the mount table\n");
		goto out;
	}
	if (check_mountpoint(mp, view) < 0 || wait_for_drives(cfg, &view) < 0) {
		goto out;
	}
	announce(mp, view);
	share.mountpoint = mp;
	if (fs_new(cfg, view, &fs, err, sizeof(err)) < 0) {
		view = NULL;
		fprintf(stderr, "pxeimagesfs mount: %s\n", err);
		goto out;
	}
	view = NULL;
	struct fs_options o = {.mountpoint = mp,
	                       .fuse_opts = a.opts,
	                       .foreground = a.foreground,
	                       .debug = a.debug,
	                       .live_cfg = &cfg,
	                       .hook = share_hook,
	                       .hook_arg = &share,
	                       .share = &share.state};
	if (fs_mount_run(fs, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "pxeimagesfs mount: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	samba_private_stop(share.smbd);
	fs_free(fs);
	resolver_view_free(view);
	cfg_free(cfg);
	return rc;
}
