/* live.c -- follow the drives as they come and go, without a remount.
 *
 * One thread waits on the resolver's watch (mount table, folders, SIGHUP,
 * SIGUSR1, timer), resolves again, and when the view differs publishes it,
 * invalidates the kernel's caches, logs one "view: ..." line and rewrites the
 * status file. It is never a FUSE handler, so it may notify the kernel. The
 * configuration is owned by this thread while it runs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"

static void add_part(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_part(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used && used + 2 < len) {
		strcat(buf, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const struct drive *by_name(const struct resolver_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		if (strcmp(v->drives[i].name, name) == 0) {
			return &v->drives[i];
		}
	}
	return NULL;
}

static void describe_drive(const struct drive *o, const struct drive *d, char *buf, size_t len)
{
	if (d->state == DRIVE_ONLINE &&
	    (!o || o->state != DRIVE_ONLINE || strcmp(o->mount_path, d->mount_path) != 0)) {
		if (d->label) {
			add_part(buf, len, "%s online (label %s at %s)", d->name, d->label,
			         d->mount_path);
		} else {
			add_part(buf, len, "%s online (%s)", d->name, d->mount_path);
		}
	} else if (d->state == DRIVE_ONLINE && o && o->dev != d->dev) {
		add_part(buf, len, "%s online (%s, another filesystem than before)", d->name,
		         d->mount_path);
	} else if (d->state != DRIVE_ONLINE && o && o->state == DRIVE_ONLINE) {
		add_part(buf, len, "%s %s (%s)", d->name, drive_state_name(d->state), d->reason);
	}
	if (d->state == DRIVE_ONLINE && o && o->state == DRIVE_ONLINE &&
	    d->holds_images != o->holds_images) {
		add_part(buf, len, "%s %s the images", d->name,
		         d->holds_images ? "holds" : "no longer holds");
	}
}

/* One line naming what changed from OLD to NEW. */
static void describe(const struct resolver_view *old, const struct resolver_view *nv, char *buf,
                     size_t len)
{
	const char *op = old->primary >= 0 ? old->drives[old->primary].name : "none";
	const char *np = nv->primary >= 0 ? nv->drives[nv->primary].name : "none";

	buf[0] = '\0';
	for (size_t i = 0; i < nv->n_drives; i++) {
		describe_drive(by_name(old, nv->drives[i].name), &nv->drives[i], buf, len);
	}
	if (strcmp(op, np) != 0) {
		add_part(buf, len, "primary %s -> %s", op, np);
	}
	if (old->n_roots > 0 && nv->n_roots == 0) {
		add_part(buf, len, "no drive holds the images: the images folder is gone");
	}
	if (nv->no_drive[0] && strcmp(old->no_drive, nv->no_drive) != 0) {
		add_part(buf, len, "%s", nv->no_drive); /* a reload changed what to add */
	}
	if (!buf[0]) {
		add_part(buf, len, "%zu root%s, order or folders changed", nv->n_roots,
		         nv->n_roots == 1 ? "" : "s");
	}
}

/* systemd: a one-line summary of the view (STATUS=). */
static void notify_status(struct fsview *v, const char *prefix)
{
	const struct resolver_view *rv = v->rv;
	char roots[512] = "";

	for (size_t r = 0; r < rv->n_roots; r++) {
		add_part(roots, sizeof(roots), "%s", rv->drives[rv->roots[r]].name);
	}
	if (rv->n_roots == 0) {
		sd_notifyf(0, "%sSTATUS=degraded: %s", prefix,
		           rv->no_drive[0] ? rv->no_drive : "no drive holds the images");
	} else {
		sd_notifyf(0, "%sSTATUS=serving %s; primary %s", prefix, roots,
		           rv->primary >= 0 ? rv->drives[rv->primary].name : "none (read-only)");
	}
}

void live_notify_ready(struct fs *fs)
{
	struct fsview *v = fsview_get(fs);

	notify_status(v, "READY=1\n");
	fsview_put(v);
}

static const char *cause_of(unsigned ev)
{
	return ev & WATCH_RELOAD    ? "SIGHUP (configuration reloaded)"
	       : ev & WATCH_MOUNTS  ? "mount table changed"
	       : ev & WATCH_FOLDERS ? "images folder changed on a drive"
	       : ev & WATCH_RESCAN  ? "SIGUSR1 (rescan)"
	                            : "periodic rescan";
}

/* got_worse -- from OLD to NV a drive that was online is not any more, or the view lost its
 * primary or its last root: logged as a warning, not as news. */
static bool got_worse(const struct resolver_view *old, const struct resolver_view *nv)
{
	for (size_t i = 0; i < old->n_drives; i++) {
		const struct drive *d = by_name(nv, old->drives[i].name);
		if (old->drives[i].state == DRIVE_ONLINE && (!d || d->state != DRIVE_ONLINE)) {
			return true;
		}
	}
	return (old->primary >= 0 && nv->primary < 0) || (old->n_roots > 0 && nv->n_roots == 0);
}

static void rescan(struct live *l, unsigned ev)
{
	struct resolver_view *nv = NULL;
	struct fsview *cur = NULL;
	char what[900];
	bool worse = false;
	int rc = resolver_resolve(*l->cfg, rsv_sys_real(), &nv);

	if (rc < 0) {
		log_warnx("rescan: cannot look at the drives: %s; keeping the view", strerror(-rc));
		return;
	}
	cur = fsview_get(l->fs);
	if (resolver_view_same(cur->rv, nv)) {
		fsview_put(cur);
		resolver_view_free(nv);
		if (ev & (WATCH_TIMER | WATCH_RESCAN)) {
			status_write(l); /* fresh counters */
		}
		return;
	}
	describe(cur->rv, nv, what, sizeof(what));
	worse = got_worse(cur->rv, nv);
	fsview_put(cur);
	watch_follow(l->w, nv);
	rc = fs_publish(l->fs, nv);
	if (rc < 0) {
		log_warnx("view: cannot publish the new view (%s); keeping the old one",
		          strerror(-rc));
		return;
	}
	dw_reset(l->fs); /* folders are watched again on the new set of drives */
	nodes_invalidate_all(l->fs);
	if (worse) {
		log_warnx("view: %s", what); /* a drive lost, or no primary: an administrator's matter */
	} else {
		log_info("view: %s", what);
	}
	cur = fsview_get(l->fs);
	notify_status(cur, "");
	fsview_put(cur);
	clock_gettime(CLOCK_REALTIME, &l->changed);
	snprintf(l->cause, sizeof(l->cause), "%s", cause_of(ev));
	snprintf(l->summary, sizeof(l->summary), "%s", what);
	status_write(l);
}

/* SIGHUP: load the file again; keep the old configuration on any error. */
static void reload(struct live *l)
{
	struct pxe_config *old = *l->cfg;
	struct pxe_config *nc = NULL;
	char *err = calloc(1, 65536);

	if (!err || cfg_load_file(old->file, &nc, err, 65536) < 0) {
		for (char *line = err ? strtok(err, "\n") : NULL; line; line = strtok(NULL, "\n")) {
			log_error("%s", line);
		}
		log_error("reload: %s has errors; keeping the previous configuration", old->file);
	} else if (strcmp(nc->images_path, old->images_path) != 0 ||
	           strcmp(nc->mountpoint, old->mountpoint) != 0 ||
	           nc->boot_tree != old->boot_tree) {
		log_error("reload: a new images path, mountpoint or boot tree needs a restart; "
		          "keeping the previous configuration");
		cfg_free(nc);
	} else {
		*l->cfg = nc;
		cfg_free(old);
		log_set_level(nc->log_level);
		watch_set_interval(l->w, nc->rescan_interval_ms);
		log_info("reload: %s loaded", nc->file);
		if (cfg_no_drive_hint(nc)) {
			log_warnx("reload: %s", cfg_no_drive_hint(nc));
		}
	}
	free(err);
}

static void *live_main(void *arg)
{
	struct live *l = arg;
	unsigned ev = 0;

	/* the status written at start predates the kernel's INIT (what passthrough
	 * is decided there): write it again once the mount is initialised */
	for (int i = 0; i < 200 && !atomic_load(&l->fs->inited); i++) {
		usleep(10000);
	}
	status_write(l);
	if (l->hook) {
		l->hook(l->hook_arg, *l->cfg, FS_EVENT_START);
	}
	if (fs_share_changed(l->share)) {
		status_write(l); /* the share's state at start */
	}
	while (!((ev = watch_wait(l->w)) & WATCH_STOP)) {
		if (ev & WATCH_TICK) {
			sd_notify(0, "WATCHDOG=1");
		}
		if (ev & WATCH_RELOAD) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			           (unsigned long long)now.tv_sec * 1000000ULL +
			               (unsigned long long)now.tv_nsec / 1000);
			reload(l);
			live_notify_ready(l->fs);
		}
		if (ev & WATCH_RESCAN) {
			log_info("SIGUSR1: looking at the drives again");
		}
		if (l->hook) {
			l->hook(l->hook_arg, *l->cfg, ev);
		}
		if (ev & ~(unsigned)(WATCH_CHILD | WATCH_TICK)) {
			rescan(l, ev);
		}
		if (fs_share_changed(l->share)) {
			status_write(l); /* smbd died, restarted or given up; an export's outcome */
		}
	}
	return NULL;
}

int live_start(struct fs *fs, const struct fs_options *o)
{
	struct live *l = calloc(1, sizeof(*l));
	struct fsview *v = NULL;
	int rc = l ? watch_new((*o->live_cfg)->rescan_interval_ms, &l->w) : -ENOMEM;

	if (rc < 0) {
		free(l);
		return rc;
	}
	l->fs = fs;
	l->cfg = o->live_cfg;
	l->hook = o->hook;
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0) {
		watch_set_tick(l->w, (unsigned)(usec / 2000)); /* ping twice per period */
	}
	l->hook_arg = o->hook_arg;
	l->share = o->share;
	snprintf(l->mountpoint, sizeof(l->mountpoint), "%s", o->mountpoint);
	clock_gettime(CLOCK_REALTIME, &l->started);
	l->changed = l->started;
	snprintf(l->cause, sizeof(l->cause), "start");
	snprintf(l->summary, sizeof(l->summary), "mounted");
	v = fsview_get(fs);
	watch_follow(l->w, v->rv);
	fsview_put(v);
	status_write(l);
	rc = pxe_thread_start(&l->thread, 0, live_main, l);
	if (rc != 0) {
		status_remove(l);
		watch_free(l->w);
		free(l);
		return rc;
	}
	fs->live = l;
	return 0;
}

void live_stop(struct fs *fs)
{
	struct live *l = fs->live;

	if (!l) {
		return;
	}
	watch_stop(l->w);
	pthread_join(l->thread, NULL);
	status_remove(l);
	watch_free(l->w);
	free(l);
	fs->live = NULL;
}
