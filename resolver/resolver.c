/* resolver.c -- decide which drives are online, hold the images, and form the view.
 *
 * Pure policy over struct rsv_sys: it never touches the system directly, so
 * the unit tests drive it with a fake. Every drive is probed (bounded) before
 * anything else touches it: a hung or failing drive is unavailable. It does
 * not watch for changes (the daemon calls it again) and keeps no state: safe
 * from any thread.
 */
#include <errno.h>
#include <libmount.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "resolver.h"

#define VIEW_FSTYPE "fuse.pxeimagesfs"

struct ctx {
	const struct pxe_config *cfg;
	const struct rsv_sys *sys;
	struct rsv_mount *mounts; /* owned */
	size_t n_mounts;
	int *short_of; /* a lack of this process's own (sys_list): -EMFILE, -ENFILE, -ENOMEM */
};

/* A folder's names (the system's list). A process short of descriptors or memory cannot
 * tell what a drive holds: that is noted (the resolve then fails as a whole, and a running
 * view keeps the drives it has), never taken for a drive without its images. */
static int sys_list(const struct ctx *c, const char *dir, char ***names, size_t *n)
{
	int rc = c->sys->ops->list(c->sys->ctx, dir, names, n);

	if ((rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) && *c->short_of == 0) {
		*c->short_of = rc;
	}
	return rc;
}

static void set_reason(struct drive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct drive *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *path_join(const char *a, const char *b)
{
	char *out = NULL;
	size_t la = strlen(a);

	if (la > 0 && a[la - 1] == '/') {
		la--;
	}
	if (asprintf(&out, "%.*s/%s", (int)la, a, b) < 0) {
		return NULL;
	}
	return out;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

static bool is_view_mount(const struct rsv_mount *m)
{
	return m->fstype && strcmp(m->fstype, VIEW_FSTYPE) == 0;
}

/* The mount on top at TARGET, or NULL. */
static const struct rsv_mount *mount_at(const struct ctx *c, const char *target)
{
	for (size_t i = c->n_mounts; i-- > 0;) {
		if (strcmp(c->mounts[i].target, target) == 0) {
			return &c->mounts[i];
		}
	}
	return NULL;
}

/* The mount whose target is the longest prefix of PATH (the filesystem PATH lives on). */
static const struct rsv_mount *mount_below(const struct ctx *c, const char *path)
{
	const struct rsv_mount *best = NULL;
	size_t best_len = 0;

	for (size_t i = c->n_mounts; i-- > 0;) {
		const char *t = c->mounts[i].target;
		size_t len = strlen(t);
		bool prefix = strcmp(t, "/") == 0 || (strncmp(path, t, len) == 0 &&
		                                      (path[len] == '/' || path[len] == '\0'));
		if (prefix && (best == NULL || len > best_len)) {
			best = &c->mounts[i];
			best_len = len;
		}
	}
	return best;
}

/* Does mount M carry the identity the drive asks for? Writes why not into D. */
static bool identity_matches(const struct drive *d, const struct rsv_mount *m, char *why,
                             size_t len)
{
	/* a UUID is hex, not a file name: ASCII case only */
	if (d->want_uuid && (!m->uuid || strcasecmp(d->want_uuid, m->uuid) != 0)) {
		snprintf(why, len, "uuid mismatch: %s has uuid %s, want %s", m->target,
		         m->uuid ? m->uuid : "(none)", d->want_uuid);
		return false;
	}
	if (d->want_label && (!m->label || strcmp(d->want_label, m->label) != 0)) {
		snprintf(why, len, "label mismatch: %s has label %s, want %s", m->target,
		         m->label ? m->label : "(none)", d->want_label);
		return false;
	}
	return true;
}

static int take_mount(struct drive *d, const struct rsv_mount *m)
{
	d->state = DRIVE_ONLINE;
	d->mount_path = strdup(m->target);
	d->source = dup_or_null(m->source);
	d->fstype = dup_or_null(m->fstype);
	d->uuid = dup_or_null(m->uuid);
	d->label = dup_or_null(m->label);
	d->dev = m->dev;
	d->read_only = d->want_read_only || m->read_only;
	if (!d->mount_path || (m->source && !d->source) || (m->fstype && !d->fstype) ||
	    (m->uuid && !d->uuid) || (m->label && !d->label)) {
		return -ENOMEM;
	}
	return 0;
}

/* Explain why the directory PATH is not a drive. */
static void explain_bare_dir(const struct ctx *c, struct drive *d, const char *path)
{
	const struct rsv_mount *below = mount_below(c, path);
	char **names = NULL;
	size_t n = 0;
	bool empty = sys_list(c, path, &names, &n) == 0 && n == 0;
	char fs[200];

	free_names(names, n);
	if (!below || strcmp(below->target, "/") == 0) {
		snprintf(fs, sizeof(fs), "the root filesystem");
	} else {
		snprintf(fs, sizeof(fs), "the filesystem mounted at %s", below->target);
	}
	set_reason(d, "not a mount point (%s directory on %s)", empty ? "an empty" : "a", fs);
}

/* A drive with a configured path: it is online when PATH is a mount point. */
static int find_by_path(const struct ctx *c, struct drive *d)
{
	const struct rsv_mount *m = NULL;
	struct stat st;
	char *canon = NULL;
	int rc = c->sys->ops->realpath(c->sys->ctx, d->want_path, &canon);

	if (rc < 0) {
		set_reason(d, "%s: %s", d->want_path,
		           rc == -ENOENT ? "path does not exist" : strerror(-rc));
		return rc == -ENOMEM ? rc : 0;
	}
	m = mount_at(c, canon);
	if (!m) {
		if (c->sys->ops->lstat(c->sys->ctx, canon, &st) == 0 && !S_ISDIR(st.st_mode)) {
			set_reason(d, "not a mount point (not a directory)");
		} else {
			explain_bare_dir(c, d, canon);
		}
	} else if (is_view_mount(m)) {
		set_reason(d, "%s is a pxeimagesfs view, not a drive", canon);
	} else if (identity_matches(d, m, d->reason, sizeof(d->reason))) {
		rc = take_mount(d, m);
	}
	free(canon);
	return rc < 0 ? rc : 0;
}

/* A drive known by uuid/label only: found wherever it is mounted now,
 * preferring a mount of the filesystem's root over a bind of a subdirectory. */
static int find_by_tag(const struct ctx *c, struct drive *d)
{
	const struct rsv_mount *best = NULL;
	char why[160];
	char *dev = NULL;
	const char *tag = d->want_uuid ? "UUID" : "LABEL";
	const char *val = d->want_uuid ? d->want_uuid : d->want_label;

	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rsv_mount *m = &c->mounts[i];
		if (is_view_mount(m) || !identity_matches(d, m, why, sizeof(why))) {
			continue;
		}
		if (!best || (strcmp(best->root, "/") != 0 && strcmp(m->root, "/") == 0)) {
			best = m;
		}
	}
	if (best) {
		return take_mount(d, best);
	}
	if (c->sys->ops->find_device &&
	    c->sys->ops->find_device(c->sys->ctx, tag, val, &dev) == 0) {
		set_reason(d, "not mounted (%s=%s is on %s, which is not mounted anywhere)", tag,
		           val, dev);
		free(dev);
	} else {
		set_reason(d, "no mounted filesystem has %s %s", d->want_uuid ? "uuid" : "label",
		           val);
	}
	return 0;
}

/* Find the entry of DIR that matches NAME by the one rule (names_match_better): exactly
 * first, then ignoring case (the smallest such name when several differ only in case). */
static int match_component(const struct ctx *c, const char *dir, const char *name, char **found)
{
	char **names = NULL;
	size_t n = 0;
	const char *best = NULL;
	int rc = sys_list(c, dir, &names, &n);

	*found = NULL;
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (names_match_better(name, names[i], best)) {
			best = names[i];
		}
	}
	if (best) {
		*found = strdup(best);
		rc = *found ? 0 : -ENOMEM;
	} else {
		rc = -ENOENT;
	}
	free_names(names, n);
	return rc;
}

static size_t count_packages(const struct ctx *c, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	size_t count = 0;

	if (sys_list(c, dir, &names, &n) < 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		count += names[i][0] != '.';
	}
	free_names(names, n);
	return count;
}

/* Explain a failed step of the images-path walk. */
static void explain_walk(struct drive *d, const char *spelt, const char *comp, int rc,
                         const struct stat *st)
{
	const char *at = spelt[0] ? spelt : "the drive root";

	if (rc == -ENOENT) {
		set_reason(d, "images path missing: no '%s' in %s", comp, at);
	} else if (rc < 0) {
		set_reason(d, "images path unreadable: %s: %s", at, strerror(-rc));
	} else if (S_ISLNK(st->st_mode)) {
		set_reason(d, "images path component %s is a symlink (never followed)", spelt);
	} else {
		set_reason(d, "images path component %s is not a directory", spelt);
	}
}

/* The folder of drive D the view merges: its images folder, or with 'boot tree = yes' the
 * images path's first folder (the on-disk spelling of both). */
static int set_view_dir(const struct ctx *c, struct drive *d)
{
	const char *cut = c->cfg->boot_tree ? strchr(d->images_spelling, '/') : NULL;
	size_t tail = cut ? strlen(cut) : 0;

	d->view_spelling = strndup(d->images_spelling, strlen(d->images_spelling) - tail);
	d->view_dir = strndup(d->images_dir, strlen(d->images_dir) - tail);
	return d->view_spelling && d->view_dir ? 0 : -ENOMEM;
}

/* Walk the images path under the drive's mount, component by component. */
static int find_images(const struct ctx *c, struct drive *d)
{
	char *path = strdup(c->cfg->images_path);
	char *abs = strdup(d->mount_path);
	char spelt[4096] = "";
	char *save = NULL;
	struct stat st = {0};
	int rc = path && abs ? 0 : -ENOMEM;

	for (char *comp = path ? strtok_r(path, "/", &save) : NULL; comp && rc == 0;
	     comp = strtok_r(NULL, "/", &save)) {
		char *found = NULL;
		char *next = NULL;
		rc = match_component(c, abs, comp, &found);
		if (rc == 0) {
			next = path_join(abs, found);
			snprintf(spelt + strlen(spelt), sizeof(spelt) - strlen(spelt), "%s%s",
			         spelt[0] ? "/" : "", found);
			rc = next ? c->sys->ops->lstat(c->sys->ctx, next, &st) : -ENOMEM;
			free(abs);
			abs = next;
		}
		free(found);
		if (rc == 0 && !S_ISDIR(st.st_mode)) {
			rc = 1;
		}
		if (rc != 0 && rc != -ENOMEM) {
			explain_walk(d, spelt, comp, rc, &st);
		}
	}
	if (rc == 0) {
		d->holds_images = true;
		d->images_dir = abs;
		d->images_spelling = strdup(spelt);
		d->n_packages = count_packages(c, abs);
		abs = NULL;
		rc = d->images_spelling ? set_view_dir(c, d) : -ENOMEM;
	}
	free(abs);
	free(path);
	return rc == -ENOMEM ? rc : 0;
}

/* The bounded health probe of PATH (0 when the system cannot probe). */
static int probe(const struct ctx *c, const char *path, bool write)
{
	if (!c->sys->ops->probe) {
		return 0;
	}
	return c->sys->ops->probe(c->sys->ctx, path, write, RSV_PROBE_TIMEOUT_MS);
}

/* D's filesystem at PATH failed its probe with ERR: out of the view, like an
 * offline drive, but shown as unavailable with why. */
static void mark_unavailable(struct drive *d, const char *path, int err)
{
	d->state = DRIVE_UNAVAILABLE;
	if (err == -ETIMEDOUT) {
		set_reason(d, "%s did not answer within %u ms (hung?)", path, RSV_PROBE_TIMEOUT_MS);
	} else {
		set_reason(d, "%s fails its health probe: %s", path, strerror(-err));
	}
}

/* A configured path that failed its probe before anything else touched it. */
static int unavailable_path(const struct ctx *c, struct drive *d, int err)
{
	const struct rsv_mount *m = mount_at(c, d->want_path);
	int rc = 0;

	if (m && !is_view_mount(m) && identity_matches(d, m, d->reason, sizeof(d->reason))) {
		rc = take_mount(d, m);
	}
	mark_unavailable(d, d->want_path, err);
	if (!m || is_view_mount(m)) {
		d->state = DRIVE_OFFLINE; /* not a drive anyway: say only why it was not examined */
	}
	return rc;
}

static int examine(const struct ctx *c, struct drive *d)
{
	int rc = 0;
	int health = 0;

	/* a hung drive blocks every syscall on it: probe (bounded) before any */
	if (d->configured && d->want_path && (health = probe(c, d->want_path, false)) != 0) {
		return unavailable_path(c, d, health);
	}
	if (d->configured) {
		rc = d->want_path ? find_by_path(c, d) : find_by_tag(c, d);
	}
	/* discovered: the mount was found already */
	if (rc == 0 && d->state == DRIVE_ONLINE) {
		health = probe(c, d->mount_path, !d->read_only);
		if (health == -EROFS) {
			d->read_only = true; /* writable as mounted, but refuses writes */
		} else if (health != 0) {
			mark_unavailable(d, d->mount_path, health);
		}
	}
	if (rc == 0 && d->state == DRIVE_ONLINE) {
		rc = find_images(c, d);
	}
	return rc;
}

static int drive_from_cfg(struct drive *d, const struct cfg_drive *cd, int order)
{
	d->name = strdup(cd->name);
	d->priority = cd->priority;
	d->order = order;
	d->configured = true;
	d->want_path = dup_or_null(cd->path);
	d->want_uuid = dup_or_null(cd->uuid);
	d->want_label = dup_or_null(cd->label);
	d->want_read_only = cd->read_only;
	d->ino_drive = cd->inode_numbers == CFG_INO_DRIVE;
	if (!d->name || (cd->path && !d->want_path) || (cd->uuid && !d->want_uuid) ||
	    (cd->label && !d->want_label)) {
		return -ENOMEM;
	}
	return 0;
}

/* refused()'s answer for the mounts left out without a word: only counted. */
static const char SYSTEM_MOUNT[] = "system tree or pseudo filesystem";

/* Why discovery does not take M, in WHY; NULL when M is a candidate: a local block-device
 * filesystem or tmpfs, never a pseudo filesystem, never a pxeimagesfs view, network
 * filesystems only when asked for. System trees (/proc, /sys, /dev, /run) and pseudo
 * filesystems give SYSTEM_MOUNT (only counted: there are dozens of them). */
static const char *refused(const struct ctx *c, const struct rsv_mount *m, char *why, size_t len)
{
	static const char *const system_trees[] = {"/proc", "/sys", "/dev", "/run"};
	const char *t = m->fstype ? m->fstype : "";

	for (size_t i = 0; i < sizeof(system_trees) / sizeof(system_trees[0]); i++) {
		size_t tl = strlen(system_trees[i]);
		if (strncmp(m->target, system_trees[i], tl) == 0 &&
		    (m->target[tl] == '/' || m->target[tl] == '\0')) {
			return SYSTEM_MOUNT;
		}
	}
	if (is_view_mount(m)) {
		snprintf(why, len, "a pxeimagesfs view");
	} else if (strcmp(t, "tmpfs") == 0) {
		return NULL;
	} else if (mnt_fstype_is_netfs(t)) {
		if (c->cfg->discover_network) {
			return NULL;
		}
		snprintf(why, len, "network filesystem (%s): only with 'discover network = yes'",
		         t);
	} else if (mnt_fstype_is_pseudofs(t)) {
		return SYSTEM_MOUNT;
	} else if (m->source && strncmp(m->source, "/dev/", 5) == 0) {
		return NULL;
	} else {
		snprintf(why, len, "not a local block device (%s from %s)", t,
		         m->source ? m->source : "no source");
	}
	return why;
}

static bool discoverable(const struct ctx *c, const struct rsv_mount *m)
{
	char why[160];

	return refused(c, m, why, sizeof(why)) == NULL;
}

/* Hidden: another mount sits on the same target later in the table, or the
 * same filesystem tree (dev, root) was already taken. */
static bool shadowed(const struct ctx *c, size_t i)
{
	const struct rsv_mount *m = &c->mounts[i];

	for (size_t j = i + 1; j < c->n_mounts; j++) {
		if (strcmp(c->mounts[j].target, m->target) == 0) {
			return true;
		}
	}
	for (size_t j = 0; j < i; j++) {
		const struct rsv_mount *o = &c->mounts[j];
		if (o->dev == m->dev && strcmp(o->root, m->root) == 0 && discoverable(c, o) &&
		    !shadowed(c, j)) {
			return true;
		}
	}
	return false;
}

static int drive_from_mount(struct drive *d, const struct rsv_mount *m, int order)
{
	d->name = strdup(m->label ? m->label : m->target);
	d->order = order;
	d->configured = false;
	if (!d->name) {
		return -ENOMEM;
	}
	return take_mount(d, m);
}

/* Why a configured drive is a candidate: the identity it was given. */
static void configured_origin(struct drive *d)
{
	size_t n = 0;
	const char *sep = "";

	n += (size_t)snprintf(d->origin, sizeof(d->origin), "configured by");
	if (d->want_path) {
		n += (size_t)snprintf(d->origin + n, sizeof(d->origin) - n, " path %s",
		                      d->want_path);
		sep = " and";
	}
	if (d->want_uuid && n < sizeof(d->origin)) {
		n += (size_t)snprintf(d->origin + n, sizeof(d->origin) - n, "%s uuid %s", sep,
		                      d->want_uuid);
		sep = " and";
	}
	if (d->want_label && n < sizeof(d->origin)) {
		snprintf(d->origin + n, sizeof(d->origin) - n, "%s label %s", sep, d->want_label);
	}
}

/* Why a discovered drive is a candidate (after its images were looked for):
 * "discovered: /mnt/x (ext4, /dev/sdb1) has RemoteInstall/SMSImages/SMSPKG". */
static void discovered_origin(const struct ctx *c, struct drive *d)
{
	const char *type = d->fstype ? d->fstype : "?";
	bool own_source = d->source && strcmp(d->source, type) != 0;
	const char *images =
	    d->holds_images && d->images_spelling ? d->images_spelling : c->cfg->images_path;

	snprintf(d->origin, sizeof(d->origin), "discovered: %s (%s%s%s) %s %s", d->mount_path, type,
	         own_source ? ", " : "", own_source ? d->source : "",
	         d->holds_images ? "has" : "is mounted but lacks", images);
}

static int build_configured(const struct ctx *c, struct resolver_view *v)
{
	int rc = 0;

	for (size_t i = 0; i < c->cfg->n_drives && rc == 0; i++) {
		struct drive *d = &v->drives[v->n_drives++];
		rc = drive_from_cfg(d, &c->cfg->drives[i], (int)i);
		if (rc == 0) {
			configured_origin(d);
			rc = examine(c, d);
		}
	}
	return rc;
}

/* The configured drive already on mount M's filesystem, or NULL. */
static const struct drive *configured_on(const struct resolver_view *v, const struct rsv_mount *m)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (d->configured && d->mount_path &&
		    (strcmp(d->mount_path, m->target) == 0 || d->dev == m->dev)) {
			return d;
		}
	}
	return NULL;
}

static int left_out(struct resolver_view *v, const struct rsv_mount *m, const char *why)
{
	struct rsv_left_out *l = &v->left_out[v->n_left_out];

	if (why == SYSTEM_MOUNT) {
		v->n_left_system++;
		return 0;
	}
	l->target = strdup(m->target);
	snprintf(l->why, sizeof(l->why), "%s", why);
	v->n_left_out++;
	return l->target ? 0 : -ENOMEM;
}

/* discover = yes: every mount that may be a drive and is not one already is a candidate. */
static int build_discovered(const struct ctx *c, struct resolver_view *v)
{
	int rc = 0;
	char why[160];

	v->left_out = calloc(c->n_mounts + 1, sizeof(*v->left_out));
	if (!v->left_out) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_mounts && rc == 0; i++) {
		const struct rsv_mount *m = &c->mounts[i];
		const char *no = refused(c, m, why, sizeof(why));
		const struct drive *cd = no ? NULL : configured_on(v, m);
		if (!no && cd) {
			snprintf(why, sizeof(why), "the filesystem of drive %s", cd->name);
			no = why;
		} else if (!no && shadowed(c, i)) {
			no = "hidden: another mount on the same path, or the same filesystem as an "
			     "earlier candidate";
		}
		if (no) {
			rc = left_out(v, m, no);
			continue;
		}
		struct drive *d = &v->drives[v->n_drives];
		rc = drive_from_mount(d, m, (int)v->n_drives);
		v->n_drives++;
		if (rc == 0) {
			rc = examine(c, d);
		}
		if (rc == 0) {
			discovered_origin(c, d);
		}
	}
	return rc;
}

static int build_candidates(const struct ctx *c, struct resolver_view *v)
{
	const char *hint = cfg_no_drive_hint(c->cfg);
	int rc = 0;

	v->drives = calloc(c->cfg->n_drives + c->n_mounts + 1, sizeof(*v->drives));
	if (!v->drives) {
		return -ENOMEM;
	}
	v->discovery = c->cfg->discover;
	snprintf(v->no_drive, sizeof(v->no_drive), "%s", hint ? hint : "");
	rc = build_configured(c, v);
	if (rc == 0 && v->discovery) {
		rc = build_discovered(c, v);
	}
	return rc;
}

static int rank_cmp(const void *pa, const void *pb)
{
	const struct drive *a = pa;
	const struct drive *b = pb;

	if (a->priority != b->priority) {
		return a->priority > b->priority ? -1 : 1;
	}
	return (a->order > b->order) - (a->order < b->order);
}

/* A lower-ranked drive on the same mount as a higher-ranked one adds nothing. */
static void skip_duplicates(struct resolver_view *v)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		struct drive *d = &v->drives[i];
		for (size_t j = 0; j < i && d->holds_images; j++) {
			const struct drive *o = &v->drives[j];
			if (o->holds_images && strcmp(o->images_dir, d->images_dir) == 0) {
				d->holds_images = false;
				set_reason(d, "skipped: same images folder as drive %s", o->name);
			}
		}
	}
}

/* Take the drives that form the view: union takes every online drive that
 * holds the images; single takes the best one holding at least one package
 * (or, when none has a package yet, the best one holding the folder). */
static void choose_roots(struct resolver_view *v)
{
	int single = -1;

	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (!d->holds_images) {
			continue;
		}
		if (v->mode == CFG_MODE_UNION) {
			v->roots[v->n_roots++] = i;
		} else if (single < 0 || (d->n_packages > 0 && v->drives[single].n_packages == 0)) {
			single = (int)i;
		}
	}
	if (single >= 0) {
		v->roots[v->n_roots++] = (size_t)single;
	}
	for (size_t r = 0; r < v->n_roots; r++) {
		v->drives[v->roots[r]].in_view = true;
	}
}

static const char *pick_primary(struct resolver_view *v)
{
	for (size_t r = 0; r < v->n_roots; r++) {
		if (!v->drives[v->roots[r]].read_only) {
			v->primary = (int)v->roots[r];
			return "the highest-ranked writable drive that holds the images";
		}
	}
	if (v->mode == CFG_MODE_SINGLE && v->n_roots > 0) {
		return "none: mode single serves one read-only drive; writes fail with EROFS";
	}
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (d->state == DRIVE_ONLINE && !d->read_only) {
			v->primary = (int)i;
			return v->n_roots ? "the highest-ranked writable drive online (the drives "
			                    "holding the images are read-only); files are copied "
			                    "up to it before they are written"
			                  : "the highest-ranked writable drive online; the images "
			                    "folder is created there on first write";
		}
	}
	return "none: no writable drive is online; writes fail with EROFS";
}

static void choose_primary(struct resolver_view *v)
{
	v->primary = -1;
	snprintf(v->primary_reason, sizeof(v->primary_reason), "%s", pick_primary(v));
	if (v->primary >= 0) {
		v->drives[v->primary].primary = true;
	}
}

/* Say why each online drive was taken or left out. */
static void explain_choice(struct resolver_view *v)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		struct drive *d = &v->drives[i];
		const char *ro = d->want_read_only ? ", read-only (configured)"
		                 : d->read_only    ? ", read-only (mounted ro)"
		                                   : "";
		if (d->state != DRIVE_ONLINE || d->reason[0]) {
			continue;
		}
		if (d->in_view) {
			set_reason(d, "in view: holds the images (%zu package%s)%s%s",
			           d->n_packages, d->n_packages == 1 ? "" : "s", ro,
			           d->primary ? ", primary" : "");
		} else if (d->holds_images) {
			set_reason(d, "skipped: mode single takes drive %s",
			           v->drives[v->roots[0]].name);
		} else {
			set_reason(d, "online%s%s", ro, d->primary ? ", primary" : "");
		}
	}
}

int resolver_resolve(const struct pxe_config *cfg, const struct rsv_sys *sys,
                     struct resolver_view **out)
{
	int short_of = 0;
	struct ctx c = {.cfg = cfg, .sys = sys, .short_of = &short_of};
	struct resolver_view *v = NULL;
	int rc = 0;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	v->mode = cfg->mode;
	v->images_path = strdup(cfg->images_path);
	v->view_path = cfg->boot_tree ? strndup(cfg->images_path, strcspn(cfg->images_path, "/"))
	                              : strdup(cfg->images_path);
	rc = v->images_path && v->view_path ? sys->ops->mounts(sys->ctx, &c.mounts, &c.n_mounts)
	                                    : -ENOMEM;
	if (rc == 0) {
		rc = build_candidates(&c, v);
	}
	if (rc == 0) {
		qsort(v->drives, v->n_drives, sizeof(*v->drives), rank_cmp);
		skip_duplicates(v);
		v->roots = calloc(v->n_drives + 1, sizeof(*v->roots));
		rc = v->roots ? 0 : -ENOMEM;
	}
	rc = rc == 0 ? short_of : rc; /* no view from a look that could not see */
	if (rc == 0) {
		choose_roots(v);
		choose_primary(v);
		explain_choice(v);
		*out = v;
		v = NULL;
	}
	rsv_mounts_free(c.mounts, c.n_mounts);
	resolver_view_free(v);
	return rc;
}
