/* mount_cmd.c -- `pxeimagesfs mount`: resolve the drives and serve the view and its share.
 *
 * Detaches a view left by a daemon that died, then refuses, before changing anything, a
 * mountpoint that is already mounted and one inside one of its own drives; waits for the
 * drives as configured. Runs in the foreground with -f, else daemonizes once mounted.
 * Unmounts on SIGTERM/SIGINT. The share (a private smbd, or the system export on a thread
 * of its own) is tended from the view's live thread through a hook (struct share_ctx).
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
#include "refcount.h"
#include "resolver.h"
#include "thread.h"

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
		const char *inside = root ? d->view_dir : d->mount_path;
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

	if (cfg->require_drives && (*view)->no_drive[0]) {
		fprintf(stderr, "pxeimagesfs mount: 'require drives = yes', and %s\n",
		        (*view)->no_drive);
		return -1;
	}

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

/* The share, tended from the daemon's live thread (see fs_options.hook). samba = private: the
 * hook starts our smbd and restarts it when it dies. samba = system: the export (testparm,
 * smbcontrol, reading smb.conf and what it includes) runs on a thread of its own with its own
 * copy of the configuration, so the live thread never waits on Samba: it goes on following
 * the drives and answers SIGTERM. Both post what they find to `sh` (thread-safe), which the
 * status and metrics files show. */
struct share_ctx {
	const char *mountpoint;
	struct samba_private *smbd; /* samba = private */
	struct fs_share *sh;        /* a reference of ours */
	struct exporter *exp;       /* samba = system: a reference of ours */
};

/* The system export. At most one export thread runs at a time (samba_export does not
 * serialise two runs on one smb.conf): asked for again while it runs, it runs once more. The
 * thread is detached and holds a reference, so a stop never waits for Samba's tools (the
 * export writes smb.conf by rename, so a process that ends mid-export leaves the old or the
 * new file, never half of one). */
struct exporter {
	pthread_mutex_t mu;   /* guards running, again, quiet */
	struct refcount refs; /* share_ctx's and the running thread's (atomic) */
	bool running;         /* an export thread runs */
	bool again;           /* asked for while it ran: one more round */
	bool quiet;           /* the next round is only a retry: log its outcome if it changed */
	char *file;           /* the configuration file (owned; fixed) */
	char *mountpoint;     /* owned; fixed */
	struct fs_share *sh;  /* a reference of ours */
	char last[512];       /* the last outcome: the export thread's alone (one runs at a time;
	                       * the next one is started after `running` was cleared under mu) */
	bool last_failed;
};

static void exporter_drop(struct exporter *e)
{
	if (e && refcount_drop(&e->refs)) {
		fs_share_drop(e->sh);
		free(e->file);
		free(e->mountpoint);
		pthread_mutex_destroy(&e->mu);
		free(e);
	}
}

static struct exporter *exporter_new(const char *file, const char *mountpoint,
                                     struct fs_share *sh)
{
	struct exporter *e = calloc(1, sizeof(*e));

	if (!e || pthread_mutex_init(&e->mu, NULL) != 0) {
		free(e);
		return NULL;
	}
	refcount_init(&e->refs);
	e->sh = fs_share_hold(sh);
	e->file = strdup(file);
	e->mountpoint = strdup(mountpoint);
	if (!e->file || !e->mountpoint) {
		exporter_drop(e);
		return NULL;
	}
	return e;
}

/* export_log -- the report of samba_export at the priority each line asks for. */
static void export_log(char *msg, bool failed)
{
	char *save = NULL;

	for (char *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (failed || strncmp(line, "error: ", 7) == 0) {
			log_error("export: %s", line);
		} else if (strncmp(line, "warning: ", 9) == 0) {
			log_warnx("export: %s", line + 9);
		} else {
			log_info("export: %s", line);
		}
	}
}

/* export_once -- one samba_export, its outcome posted to the share's state. */
static void export_once(struct exporter *e, bool quiet)
{
	struct samba_export_opts eo = {0};
	struct pxe_config *cfg = NULL;
	char *msg = calloc(1, 65536);
	char sum[512] = "";
	int rc = -1;

	if (!msg || cfg_load_file(e->file, &cfg, msg, 65536) < 0) {
		log_error("export: cannot read %s again: %s", e->file, msg ? msg : "out of memory");
		snprintf(sum, sizeof(sum), "cannot read %s again (see the journal)", e->file);
	} else if (!cfg_samba_system(cfg)) {
		log_warnx("export: [share] samba = %s in %s now: restart the daemon to apply it",
		          cfg_samba_name(cfg->share.samba), e->file);
		goto out; /* the state stays what the last export made it */
	} else {
		rc = samba_export(cfg, e->mountpoint, &eo, msg, 65536);
		samba_export_summary(msg, rc < 0, sum, sizeof(sum));
		if (!quiet || (rc < 0) != e->last_failed || strcmp(sum, e->last) != 0) {
			export_log(msg, rc < 0);
		} else {
			log_debug("export: %s again: %s", rc < 0 ? "failed" : "done", sum);
		}
	}
	snprintf(e->last, sizeof(e->last), "%s", sum);
	e->last_failed = rc < 0;
	fs_share_post(e->sh, rc == 0, sum, sum);
out:
	cfg_free(cfg);
	free(msg);
}

static void *export_main(void *arg)
{
	struct exporter *e = arg;
	bool quiet = false;
	bool more = true;

	pthread_mutex_lock(&e->mu);
	quiet = e->quiet;
	pthread_mutex_unlock(&e->mu);
	while (more) {
		export_once(e, quiet);
		pthread_mutex_lock(&e->mu);
		more = e->again;
		quiet = e->quiet;
		e->again = false;
		e->running = more;
		pthread_mutex_unlock(&e->mu);
	}
	exporter_drop(e);
	return NULL;
}

/* export_request -- export now, on the export thread (started unless it runs: then once more
 * when it is done). QUIET: a retry of a failed export (logged only when the outcome changes). */
static void export_request(struct exporter *e, bool quiet)
{
	bool start = false;

	pthread_mutex_lock(&e->mu);
	e->quiet = (e->running && e->again ? e->quiet : true) && quiet;
	e->again = e->running;
	start = !e->running;
	e->running = true;
	pthread_mutex_unlock(&e->mu);
	if (!start) {
		return;
	}
	/* the export thread's reference */
	refcount_hold(&e->refs);
	if (pxe_thread_start(NULL, 0, export_main, e) != 0) { /* detached, signals blocked */
		pthread_mutex_lock(&e->mu);
		e->running = false;
		pthread_mutex_unlock(&e->mu);
		exporter_drop(e); /* the thread's; share_ctx holds one still */
		log_error("export: cannot start a thread for the export");
		fs_share_set(e->sh, false, "cannot start a thread for the export", NULL);
	}
}

static void share_start(struct share_ctx *s, const struct pxe_config *cfg)
{
	char msg[8192] = "";
	char first[512] = "";

	if (cfg->share.samba == CFG_SAMBA_PRIVATE) {
		if (samba_private_start(cfg, s->mountpoint, &s->smbd, msg, sizeof(msg)) < 0) {
			log_error("share: cannot start the private smbd: %s", msg);
			snprintf(first, sizeof(first), "cannot start the private smbd: %.400s", msg);
			fs_share_set(s->sh, false, first, NULL);
		} else {
			log_info("share: private smbd serves %s on port %d", cfg->share.name,
			         cfg->share.port);
			fs_share_set(s->sh, true, NULL, NULL);
		}
	} else if (cfg_samba_system(cfg)) {
		s->exp = exporter_new(cfg->file, s->mountpoint, s->sh);
		if (!s->exp) {
			log_error("export: cannot start the export (out of memory)");
			fs_share_set(s->sh, false, "cannot start the export (out of memory)", NULL);
		} else {
			export_request(s->exp, false);
		}
	}
}

/* samba = private: restart smbd if it died (count the restarts); start it once its port is
 * free. */
static void share_tend(struct share_ctx *s, const struct pxe_config *cfg)
{
	char msg[1024] = "";
	pid_t before = samba_private_pid(s->smbd);
	int rc = samba_private_tend(s->smbd, msg, sizeof(msg));
	pid_t after = samba_private_pid(s->smbd);

	if (rc == 1 || rc == 2) {
		log_info(rc == 1 ? "share: port %d is free: private smbd serves %s"
		                 : "share: smbd started on port %d after all: private smbd serves %s",
		         cfg->share.port, cfg->share.name);
		fs_share_set(s->sh, true, NULL, NULL);
	} else if (after > 0 && after != before) {
		fs_share_restarted(s->sh);
	} else if (rc < 0) {
		log_error("share: %s", msg);
		fs_share_set(s->sh, false, msg, NULL);
	}
}

/* samba = system: export again after a reload (the share may have changed) and on SIGUSR1;
 * retry a failed export at each periodic rescan (Samba installed, smb.conf fixed). */
static void share_reexport(struct share_ctx *s, unsigned events)
{
	struct fs_share_state st;

	fs_share_get(s->sh, &st);
	if (events & (WATCH_RELOAD | WATCH_RESCAN)) {
		export_request(s->exp, false);
	} else if ((events & WATCH_TIMER) && !st.up && !st.pending) {
		export_request(s->exp, true);
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
	if (s->exp) {
		share_reexport(s, events);
	}
	if ((events & WATCH_RELOAD) && s->smbd &&
	    samba_private_update(s->smbd, cfg, msg, sizeof(msg)) < 0) {
		log_error("share: %s", msg);
	}
	if ((events & WATCH_CHILD) && s->smbd) {
		share_tend(s, cfg);
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
	if (v->no_drive[0]) {
		log_warnx("%s", v->no_drive);
	}
	log_info("serving %s/%s from%s; primary %s", mp, v->images_path,
	         v->n_roots ? roots : " no drive (images absent)",
	         v->primary >= 0 ? v->drives[v->primary].name : "none (read-only)");
	if (strcmp(v->view_path, v->images_path) != 0) {
		log_info("boot tree: %s/%s merges the whole %s folder of the same drives", mp,
		         v->view_path, v->view_path);
	}
}

/* resolve_drives -- CFG's drives resolved into *VIEW (the caller's to free, also on
 * failure), the mountpoint MP checked against them and, as configured, the drives waited
 * for; -1 when the mount cannot go on (the reason is already told). */
static int resolve_drives(const struct pxe_config *cfg, const char *mp, struct resolver_view **view)
{
	if (resolver_resolve(cfg, rsv_sys_real(), view) < 0) {
		fprintf(stderr, "pxeimagesfs mount: cannot read the mount table\n");
		return -1;
	}
	return check_mountpoint(mp, *view) < 0 || wait_for_drives(cfg, view) < 0 ? -1 : 0;
}

/* share_kind -- what the view reports as its share, from [share] samba. */
static enum fs_share_kind share_kind(const struct pxe_config *cfg)
{
	return cfg->share.samba == CFG_SAMBA_CTDB      ? FS_SHARE_CTDB
	       : cfg_samba_system(cfg)                 ? FS_SHARE_SYSTEM
	       : cfg->share.samba == CFG_SAMBA_PRIVATE ? FS_SHARE_PRIVATE
	                                               : FS_SHARE_NONE;
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
	if (resolve_drives(cfg, mp, &view) < 0) {
		goto out;
	}
	announce(mp, view);
	share.mountpoint = mp;
	share.sh = fs_share_new(share_kind(cfg));
	if (!share.sh) {
		fprintf(stderr, "pxeimagesfs mount: out of memory\n");
		goto out;
	}
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
	                       .share = share.sh};
	if (fs_mount_run(fs, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "pxeimagesfs mount: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	samba_private_stop(share.smbd);
	exporter_drop(share.exp); /* a running export thread keeps its reference */
	export_tmp_cleanup();     /* and the copies it hands testparm, if it waits on it */
	fs_share_drop(share.sh);
	fs_free(fs);
	resolver_view_free(view);
	cfg_free(cfg);
	return rc;
}
