/* test_resolver.c -- resolver policy on a fake system: ranking, union/single,
 * case-insensitive matching, primary choice, uuid/label, discovery filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_sys.h"
#include "unit.h"

#define IMG "RemoteInstall/SMSImages/SMSPKG"

struct t {
	struct fake_sys f;
	struct pxe_config *cfg;
	struct resolver_view *v;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	fake_init(&t->f);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	resolver_view_free(t->v);
	cfg_free(t->cfg);
	free(t);
	return 0;
}

/* Parse CONF and resolve it on the fake system. */
static struct resolver_view *resolve(struct t *t, const char *conf)
{
	char err[4096] = "";

	cfg_free(t->cfg);
	resolver_view_free(t->v);
	t->v = NULL;
	if (cfg_load_string(conf, "test.conf", &t->cfg, err, sizeof(err)) != 0) {
		fail_msg("config did not parse: %s", err);
	}
	assert_int_equal(resolver_resolve(t->cfg, &t->f.sys, &t->v), 0);
	return t->v;
}

static const struct drive *drive(const struct resolver_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_drives; i++) {
		if (strcmp(v->drives[i].name, name) == 0) {
			return &v->drives[i];
		}
	}
	fail_msg("no drive %s", name);
	return NULL;
}

static const char *root_name(const struct resolver_view *v, size_t r)
{
	assert_true(r < v->n_roots);
	return v->drives[v->roots[r]].name;
}

static void two_drives(struct t *t)
{
	fake_mount(&t->f, "/mnt/c", "/dev/sdb1", "ext4", "1111-aaaa", "OLDC", 0x801, false);
	fake_mount(&t->f, "/mnt/d", "/dev/sdc1", "ext4", "2222-bbbb", "PXEIMAGES", 0x821, false);
}

static void test_resolver_ranks_by_priority_then_config_order(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_mount(&t->f, "/mnt/e", "/dev/sdd1", "xfs", NULL, NULL, 0x831, false);
	fake_dir(&t->f, "/mnt/c/" IMG);
	fake_dir(&t->f, "/mnt/d/" IMG);
	fake_dir(&t->f, "/mnt/e/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\npriority=10\n[drive:E]\npath=/mnt/e\n"
	               "priority=20\n[drive:D]\npath=/mnt/d\npriority=10\n");
	assert_int_equal(v->n_drives, 3);
	assert_string_equal(v->drives[0].name, "E");
	assert_string_equal(v->drives[1].name, "C");
	assert_string_equal(v->drives[2].name, "D");
	assert_int_equal(v->n_roots, 3);
	assert_string_equal(root_name(v, 0), "E");
	assert_string_equal(root_name(v, 2), "D");
	assert_true(drive(v, "E")->primary);
}

static void test_resolver_union_takes_every_drive_holding_images(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG "/PKG00001");
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\npriority=5\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "C");
	assert_true(drive(v, "D")->state == DRIVE_ONLINE);
	assert_false(drive(v, "D")->holds_images);
	assert_non_null(strstr(drive(v, "D")->reason, "images path missing"));
	assert_true(resolver_view_has_images(v));

	fake_dir(&t->f, "/mnt/d/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\npriority=5\n");
	assert_int_equal(v->n_roots, 2);
	assert_string_equal(root_name(v, 0), "D");
	assert_string_equal(root_name(v, 1), "C");
	assert_true(drive(v, "D")->primary);
}

static void test_resolver_single_takes_best_drive_with_packages(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG "/PKG00001");
	fake_dir(&t->f, "/mnt/d/" IMG); /* higher-ranked, but empty */
	fake_file(&t->f, "/mnt/d/" IMG "/.hidden");
	v = resolve(t, "[global]\nmode=single\n[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n"
	               "priority=5\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "C");
	assert_int_equal(drive(v, "D")->n_packages, 0);
	assert_non_null(strstr(drive(v, "D")->reason, "mode single takes drive C"));
	assert_true(drive(v, "C")->primary);

	fake_dir(&t->f, "/mnt/d/" IMG "/PKG00002");
	v = resolve(t, "[global]\nmode=single\n[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n"
	               "priority=5\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "D");
}

static void test_resolver_single_falls_back_to_empty_images_folder(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG);
	fake_dir(&t->f, "/mnt/d/" IMG);
	v = resolve(t, "[global]\nmode=single\n[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "C");
}

static void test_resolver_matches_images_path_case_insensitively(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg/ABC00001");
	v = resolve(t, "[global]\nimages path = RemoteInstall\\SMSImages\\SMSPKG\n"
	               "[drive:C]\npath=/mnt/c\n");
	assert_true(drive(v, "C")->holds_images);
	assert_string_equal(drive(v, "C")->images_spelling, "remoteinstall/SMSIMAGES/SmsPkg");
	assert_string_equal(drive(v, "C")->images_dir, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg");
	assert_int_equal(drive(v, "C")->n_packages, 1);
}

static void test_resolver_boot_tree_merges_the_first_folder_of_the_same_drives(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg/ABC00001");
	fake_dir(&t->f, "/mnt/d/RemoteInstall/SMSBoot/x64"); /* no images: not in the view */
	v = resolve(t, "[global]\nboot tree = yes\n[drive:C]\npath=/mnt/c\n"
	               "[drive:D]\npath=/mnt/d\n");
	assert_string_equal(v->view_path, "RemoteInstall");
	assert_string_equal(v->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "C");
	assert_string_equal(drive(v, "C")->images_dir, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg");
	assert_string_equal(drive(v, "C")->view_spelling, "remoteinstall");
	assert_string_equal(drive(v, "C")->view_dir, "/mnt/c/remoteinstall");
	assert_false(drive(v, "D")->holds_images);
	assert_null(drive(v, "D")->view_dir);
}

static void test_resolver_without_boot_tree_merges_the_images_folder(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg");
	v = resolve(t, "[drive:C]\npath=/mnt/c\n");
	assert_string_equal(v->view_path, IMG);
	assert_string_equal(drive(v, "C")->view_dir, "/mnt/c/remoteinstall/SMSIMAGES/SmsPkg");
	assert_string_equal(drive(v, "C")->view_spelling, "remoteinstall/SMSIMAGES/SmsPkg");
}

static void test_resolver_prefers_exact_spelling_among_case_duplicates(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/remoteinstall/SMSImages/SMSPKG");
	fake_dir(&t->f, "/mnt/c/RemoteInstall/SMSImages/SMSPKG");
	fake_dir(&t->f, "/mnt/c/REMOTEINSTALL/SMSImages/SMSPKG");
	fake_dir(&t->f, "/mnt/d/remoteINSTALL/smsimages/smspkg");
	fake_dir(&t->f, "/mnt/d/REMOTEinstall/smsimages/smspkg");
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n");
	assert_string_equal(drive(v, "C")->images_spelling, IMG);
	/* no exact match: the smallest spelling, so the choice is stable */
	assert_string_equal(drive(v, "D")->images_spelling, "REMOTEinstall/smsimages/smspkg");
}

static void test_resolver_skips_bare_mountpoint(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_mount(&t->f, "/", "/dev/vda1", "ext4", NULL, NULL, 0xfe01, false);
	fake_dir(&t->f, "/mnt/e"); /* an empty directory on the root filesystem */
	fake_dir(&t->f, "/mnt/c/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:E]\npath=/mnt/e\npriority=50\n");
	assert_int_equal(drive(v, "E")->state, DRIVE_OFFLINE);
	assert_string_equal(drive(v, "E")->reason,
	                    "not a mount point (an empty directory on the root filesystem)");
	assert_false(drive(v, "E")->primary);
	assert_true(drive(v, "C")->primary);

	fake_file(&t->f, "/mnt/e/" IMG "/x"); /* images on the root fs do not count */
	v = resolve(t, "[drive:E]\npath=/mnt/e\n");
	assert_int_equal(drive(v, "E")->state, DRIVE_OFFLINE);
	assert_string_equal(drive(v, "E")->reason,
	                    "not a mount point (a directory on the root filesystem)");
	assert_int_equal(v->n_roots, 0);
	assert_int_equal(v->primary, -1);
	assert_false(resolver_view_has_images(v));
}

static void test_resolver_names_filesystem_below_bare_dir(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/", "/dev/vda1", "ext4", NULL, NULL, 0xfe01, false);
	fake_mount(&t->f, "/srv", "/dev/vdb1", "xfs", NULL, NULL, 0xfe11, false);
	fake_dir(&t->f, "/srv/disk");
	v = resolve(t, "[drive:X]\npath=/srv/disk\n");
	assert_string_equal(
	    drive(v, "X")->reason,
	    "not a mount point (an empty directory on the filesystem mounted at /srv)");
}

static void test_resolver_reports_missing_path(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	v = resolve(t, "[drive:C]\npath=/mnt/nowhere\n");
	assert_int_equal(drive(v, "C")->state, DRIVE_OFFLINE);
	assert_string_equal(drive(v, "C")->reason, "/mnt/nowhere: path does not exist");
}

/* A process short of descriptors or memory cannot see what a drive holds: no view (the
 * running one keeps its drives), never drives "without images" (a view that dropped them
 * failed every open file with EIO). Any other error is the drive's own, and says so. */
static void test_resolver_fails_when_short_of_descriptors(void **state)
{
	struct t *t = *state;
	char err[4096] = "";
	struct resolver_view *v = NULL;
	const int errs[] = {-EMFILE, -ENFILE, -ENOMEM};

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG);
	fake_dir(&t->f, "/mnt/d/" IMG);
	assert_int_equal(cfg_load_string("[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n",
	                                 "test.conf", &t->cfg, err, sizeof(err)),
	                 0);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		t->f.list_err = errs[i];
		assert_int_equal(resolver_resolve(t->cfg, &t->f.sys, &v), errs[i]);
		assert_null(v);
	}
	t->f.list_err = -EACCES;
	assert_int_equal(resolver_resolve(t->cfg, &t->f.sys, &t->v), 0);
	assert_false(drive(t->v, "C")->holds_images);
	assert_non_null(strstr(drive(t->v, "C")->reason, "Permission denied"));
	t->f.list_err = 0;
	resolver_view_free(t->v);
	t->v = NULL;
	assert_int_equal(resolver_resolve(t->cfg, &t->f.sys, &t->v), 0);
	assert_true(drive(t->v, "C")->holds_images && drive(t->v, "D")->holds_images);
}

static void test_resolver_primary_skips_read_only_drive(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG);
	fake_dir(&t->f, "/mnt/d/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\npriority=10\nread only=yes\n"
	               "[drive:D]\npath=/mnt/d\n");
	assert_string_equal(root_name(v, 0), "C");
	assert_true(drive(v, "C")->read_only);
	assert_true(drive(v, "D")->primary);
	assert_false(drive(v, "C")->primary);
}

static void test_resolver_primary_is_writable_drive_without_images(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	/* the migration case: old C read-only with images, new D still empty */
	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG "/PKG1");
	v = resolve(t, "[drive:C]\npath=/mnt/c\nread only=yes\n[drive:D]\nlabel=PXEIMAGES\n"
	               "priority=20\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "C");
	assert_true(drive(v, "D")->primary);
	assert_non_null(strstr(v->primary_reason, "copied up"));

	/* nothing holds the images yet: the images folder is created on first write */
	t->f.n_nodes = 0;
	two_drives(t);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\npriority=20\n");
	assert_int_equal(v->n_roots, 0);
	assert_true(drive(v, "D")->primary);
	assert_non_null(strstr(v->primary_reason, "created there on first write"));
}

static void test_resolver_no_primary_when_all_read_only(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/mnt/c", "/dev/sdb1", "ext4", NULL, NULL, 0x801, true);
	fake_dir(&t->f, "/mnt/c/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n");
	assert_true(drive(v, "C")->read_only);
	assert_non_null(strstr(drive(v, "C")->reason, "read-only (mounted ro)"));
	assert_int_equal(v->primary, -1);
	assert_non_null(strstr(v->primary_reason, "none"));
}

static void test_resolver_single_read_only_root_has_no_primary(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG "/P");
	v = resolve(t, "[global]\nmode=single\n[drive:C]\npath=/mnt/c\nread only=yes\n"
	               "[drive:D]\npath=/mnt/d\n");
	assert_string_equal(root_name(v, 0), "C");
	assert_int_equal(v->primary, -1);
}

static void test_resolver_checks_uuid_and_label_at_path(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\nuuid=9999-ffff\n");
	assert_int_equal(drive(v, "C")->state, DRIVE_OFFLINE);
	assert_string_equal(drive(v, "C")->reason,
	                    "uuid mismatch: /mnt/c has uuid 1111-aaaa, want 9999-ffff");

	v = resolve(t, "[drive:C]\npath=/mnt/c\nuuid=1111-AAAA\nlabel=OLDC\n");
	assert_int_equal(drive(v, "C")->state, DRIVE_ONLINE);

	v = resolve(t, "[drive:C]\npath=/mnt/c\nlabel=oldc\n");
	assert_int_equal(drive(v, "C")->state, DRIVE_OFFLINE);
	assert_non_null(strstr(drive(v, "C")->reason, "label mismatch"));
}

static void test_resolver_finds_label_wherever_mounted(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/media/x", "/dev/sdc1", "ext4", "2222-bbbb", "PXEIMAGES", 0x821, false);
	fake_dir(&t->f, "/media/x/" IMG);
	v = resolve(t, "[drive:D]\nlabel=PXEIMAGES\n");
	assert_int_equal(drive(v, "D")->state, DRIVE_ONLINE);
	assert_string_equal(drive(v, "D")->mount_path, "/media/x");
	assert_string_equal(drive(v, "D")->images_dir, "/media/x/" IMG);

	v = resolve(t, "[drive:D]\nuuid=2222-BBBB\n");
	assert_string_equal(drive(v, "D")->mount_path, "/media/x");
}

static void test_resolver_label_prefers_filesystem_root_over_bind(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/media/x", "/dev/sdc1", "ext4", NULL, "PXEIMAGES", 0x821, false);
	fake_bind(&t->f, "/srv/sub", "/sub", 0x821);
	t->f.mounts[0].root = "/sub"; /* the first mount is of a subdirectory */
	t->f.mounts[1].root = "/";
	t->f.mounts[1].target = "/media/root";
	fake_dir(&t->f, "/media/root");
	v = resolve(t, "[drive:D]\nlabel=PXEIMAGES\n");
	assert_string_equal(drive(v, "D")->mount_path, "/media/root");
}

static void test_resolver_label_not_mounted_names_device(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	t->f.unmounted_tag = "LABEL=PXEIMAGES";
	t->f.unmounted_dev = "/dev/sdz9";
	v = resolve(t, "[drive:D]\nlabel=PXEIMAGES\n[drive:E]\nuuid=abcd\n");
	assert_string_equal(drive(v, "D")->reason, "not mounted (LABEL=PXEIMAGES is on /dev/sdz9, "
	                                           "which is not mounted anywhere)");
	assert_string_equal(drive(v, "E")->reason, "no mounted filesystem has uuid abcd");
}

static void test_resolver_bind_mount_counts_and_top_mount_wins(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/data", "/dev/sdb1", "ext4", NULL, NULL, 0x801, false);
	fake_bind(&t->f, "/mnt/c", "/images-c", 0x801);
	fake_dir(&t->f, "/mnt/c/" IMG);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n");
	assert_int_equal(drive(v, "C")->state, DRIVE_ONLINE);

	/* a read-only filesystem mounted over it later hides it */
	fake_mount(&t->f, "/mnt/c", "/dev/sdq1", "iso9660", NULL, NULL, 0x8f1, true);
	v = resolve(t, "[drive:C]\npath=/mnt/c\n");
	assert_string_equal(drive(v, "C")->source, "/dev/sdq1");
	assert_true(drive(v, "C")->read_only);
}

static void test_resolver_never_takes_a_view_as_drive(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	fake_mount(&t->f, "/srv/pxeimages", "pxeimagesfs", "fuse.pxeimagesfs", NULL, NULL, 0x2f,
	           false);
	fake_dir(&t->f, "/srv/pxeimages/" IMG);
	v = resolve(t, "[drive:V]\npath=/srv/pxeimages\n");
	assert_int_equal(drive(v, "V")->state, DRIVE_OFFLINE);
	assert_non_null(strstr(drive(v, "V")->reason, "pxeimagesfs view"));
	v = resolve(t, "");
	assert_int_equal(v->n_drives, 0);
}

static void test_resolver_symlink_component_not_followed(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/RemoteInstall/SMSImages");
	fake_symlink(&t->f, "/mnt/c/RemoteInstall/SMSImages/SMSPKG");
	v = resolve(t, "[drive:C]\npath=/mnt/c\n");
	assert_false(drive(v, "C")->holds_images);
	assert_string_equal(drive(v, "C")->reason, "images path component "
	                                           "RemoteInstall/SMSImages/SMSPKG is a symlink "
	                                           "(never followed)");
}

static void test_resolver_same_mount_twice_is_skipped(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/d/" IMG);
	v = resolve(t, "[drive:D]\npath=/mnt/d\n[drive:P]\nlabel=PXEIMAGES\n");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(drive(v, "P")->reason, "skipped: same images folder as drive D");
}

/* The mount table of the discovery tests: system trees, a tmpfs, NFS, an overlay, a drive
 * with the images and a bind of it, a pxeimagesfs view, an NTFS drive. */
static void discovery_mounts(struct t *t)
{
	fake_mount(&t->f, "/", "/dev/vda1", "ext4", NULL, NULL, 0xfe01, false);
	fake_mount(&t->f, "/proc", "proc", "proc", NULL, NULL, 0x04, false);
	fake_mount(&t->f, "/sys", "sysfs", "sysfs", NULL, NULL, 0x05, false);
	fake_mount(&t->f, "/run", "tmpfs", "tmpfs", NULL, NULL, 0x06, false);
	fake_mount(&t->f, "/mnt/t", "tmpfs", "tmpfs", NULL, NULL, 0x07, false);
	fake_mount(&t->f, "/mnt/nfs", "srv:/x", "nfs4", NULL, NULL, 0x08, false);
	fake_mount(&t->f, "/mnt/ov", "overlay", "overlay", NULL, NULL, 0x09, false);
	fake_mount(&t->f, "/mnt/d", "/dev/sdc1", "ext4", NULL, "PXEIMAGES", 0x821, false);
	fake_bind(&t->f, "/mnt/d2", "/", 0x821); /* the same filesystem again */
	fake_mount(&t->f, "/srv/pxeimages", "pxeimagesfs", "fuse.pxeimagesfs", NULL, NULL, 0x2f,
	           false);
	fake_mount(&t->f, "/mnt/ntfs", "/dev/sde1", "fuseblk", NULL, "WIN", 0x841, false);
	fake_mount(&t->f, "/mnt/h", "hangfs", "fuse.hangfs", NULL, NULL, 0x851, false);
	fake_dir(&t->f, "/mnt/d/" IMG "/PKG1");
	fake_dir(&t->f, "/mnt/nfs/" IMG "/PKG1");
	fake_dir(&t->f, "/srv/pxeimages/" IMG "/PKG1");
}

static void test_resolver_discovery_filters(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	discovery_mounts(t);
	v = resolve(t, "[global]\ndiscover = yes\n");
	assert_true(v->discovery);
	assert_string_equal(v->no_drive, "");
	assert_int_equal(v->n_drives, 4); /* /, /mnt/t, PXEIMAGES, WIN */
	assert_string_equal(v->drives[0].name, "/");
	assert_string_equal(v->drives[1].name, "/mnt/t");
	assert_string_equal(v->drives[2].name, "PXEIMAGES");
	assert_string_equal(v->drives[3].name, "WIN");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "PXEIMAGES");

	v = resolve(t, "[global]\ndiscover = yes\ndiscover network = yes\n");
	assert_int_equal(v->n_drives, 5);
	assert_int_equal(v->n_roots, 2);
	assert_string_equal(root_name(v, 0), "/mnt/nfs"); /* mount-table order */
	assert_string_equal(root_name(v, 1), "PXEIMAGES");
}

/* No [drive:*] and no discover = yes: not one mount is taken, and the view says what to add
 * (with the migration note only when "discover" is not written at all). */
static void test_resolver_takes_no_mount_without_drives_or_discover(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	discovery_mounts(t);
	v = resolve(t, "");
	assert_false(v->discovery);
	assert_int_equal(v->n_drives, 0);
	assert_int_equal(v->n_roots, 0);
	assert_int_equal(v->primary, -1);
	assert_false(resolver_view_has_images(v));
	assert_non_null(strstr(v->no_drive, "no drive configured: add a [drive:NAME] section"));
	assert_non_null(strstr(v->no_drive, "set 'discover = yes'"));
	assert_non_null(strstr(v->no_drive, "no longer discovers drives by itself"));

	v = resolve(t, "[global]\ndiscover = no\ndiscover network = yes\n");
	assert_int_equal(v->n_drives, 0);
	assert_string_equal(v->no_drive, CFG_NO_DRIVE_HINT);

	v = resolve(t, "[drive:D]\nlabel = PXEIMAGES\n");
	assert_int_equal(v->n_drives, 1);
	assert_string_equal(v->no_drive, "");
}

/* Discovery says why it left each mount out; system trees and pseudo filesystems are counted. */
static void test_resolver_discovery_says_what_it_left_out(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;
	const char *want[][2] = {
	    {"/mnt/nfs", "network filesystem (nfs4): only with 'discover network = yes'"},
	    {"/mnt/d2", "hidden: another mount on the same path, or the same filesystem as an "
	                "earlier candidate"},
	    {"/srv/pxeimages", "a pxeimagesfs view"},
	    {"/mnt/h", "not a local block device (fuse.hangfs from hangfs)"},
	};

	discovery_mounts(t);
	v = resolve(t, "[global]\ndiscover = yes\n");
	assert_int_equal(v->n_left_system, 4); /* /proc, /sys, /run, overlay (libmount: pseudo) */
	assert_int_equal(v->n_left_out, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(v->left_out[i].target, want[i][0]);
		assert_string_equal(v->left_out[i].why, want[i][1]);
	}
	assert_string_equal(drive(v, "PXEIMAGES")->origin,
	                    "discovered: /mnt/d (ext4, /dev/sdc1) has " IMG);
	assert_string_equal(drive(v, "/mnt/t")->origin,
	                    "discovered: /mnt/t (tmpfs) is mounted but lacks " IMG);
	v = resolve(t, "[global]\ndiscover = yes\ndiscover network = yes\n");
	assert_int_equal(v->n_left_out, 3);
	assert_string_equal(drive(v, "/mnt/nfs")->origin,
	                    "discovered: /mnt/nfs (nfs4, srv:/x) has " IMG);
}

/* discover = yes beside [drive:*]: the configured drives keep their identity and rank; a
 * mount that is a configured drive's filesystem is not taken twice. */
static void test_resolver_discovery_joins_configured_drives(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	discovery_mounts(t);
	v = resolve(t, "[global]\ndiscover = yes\n[drive:D]\npath = /mnt/d\npriority = 5\n");
	assert_int_equal(v->n_drives, 4); /* D, /, /mnt/t, WIN */
	assert_string_equal(v->drives[0].name, "D");
	assert_true(v->drives[0].configured);
	assert_string_equal(v->drives[0].origin, "configured by path /mnt/d");
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(root_name(v, 0), "D");
	assert_int_equal(v->n_left_out, 5); /* /mnt/nfs, /mnt/d, /mnt/d2, the view, /mnt/h */
	assert_string_equal(v->left_out[1].target, "/mnt/d");
	assert_string_equal(v->left_out[1].why, "the filesystem of drive D");
	assert_string_equal(v->left_out[2].target, "/mnt/d2");
	assert_string_equal(v->left_out[2].why, "the filesystem of drive D");
}

/* Each configured drive says which identity made it a candidate. */
static void test_resolver_configured_drive_says_how(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;

	two_drives(t);
	v = resolve(t, "[drive:C]\npath = /mnt/c\n[drive:U]\nuuid = 2222-BBBB\n"
	               "[drive:L]\nlabel = PXEIMAGES\n[drive:A]\nuuid = 1111-aaaa\nlabel = OLDC\n"
	               "[drive:E]\npath = /mnt/e\nuuid = 3333\nlabel = NEW\n[drive:X]\n"
	               "label = NOWHERE\n");
	assert_string_equal(drive(v, "C")->origin, "configured by path /mnt/c");
	assert_string_equal(drive(v, "U")->origin, "configured by uuid 2222-BBBB");
	assert_string_equal(drive(v, "L")->origin, "configured by label PXEIMAGES");
	assert_string_equal(drive(v, "A")->origin, "configured by uuid 1111-aaaa and label OLDC");
	assert_string_equal(drive(v, "E")->origin,
	                    "configured by path /mnt/e and uuid 3333 and label NEW");
	assert_string_equal(drive(v, "X")->origin, "configured by label NOWHERE");
	assert_int_equal(drive(v, "X")->state, DRIVE_OFFLINE);
	assert_int_equal(v->n_left_out, 0);
	assert_false(v->discovery);
}

static void test_resolver_json_carries_the_same_facts(void **state)
{
	struct t *t = *state;
	const struct resolver_view *v = NULL;
	json_object *top = NULL;
	json_object *o = NULL;
	char *text = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG "/PKG1");
	v = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:E]\npath=/mnt/e\n");
	text = resolver_view_json(v, "test.conf", false);
	top = json_tokener_parse(text);
	assert_non_null(top);
	assert_true(json_object_object_get_ex(top, "schema", &o));
	assert_int_equal(json_object_get_int(o), 1);
	assert_true(json_object_object_get_ex(top, "drives", &o));
	assert_int_equal(json_object_array_length(o), 2);
	o = json_object_array_get_idx(o, 1);
	assert_true(json_object_object_get_ex(o, "state", &o));
	assert_string_equal(json_object_get_string(o), "offline");
	assert_true(json_object_object_get_ex(top, "view", &o));
	assert_true(json_object_object_get_ex(o, "primary", &o));
	assert_string_equal(json_object_get_string(o), "C");
	json_object_put(top);
	free(text);
}

static void test_resolver_view_same_detects_changes(void **state)
{
	struct t *t = *state;
	struct resolver_view *a = NULL;

	two_drives(t);
	fake_dir(&t->f, "/mnt/c/" IMG);
	a = resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n");
	t->v = NULL;
	assert_true(
	    resolver_view_same(a, resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n")));
	fake_dir(&t->f, "/mnt/d/" IMG);
	assert_false(
	    resolver_view_same(a, resolve(t, "[drive:C]\npath=/mnt/c\n[drive:D]\npath=/mnt/d\n")));
	resolver_view_free(a);
}

/* A reload from a file without 'discover' to one with 'discover = no': no drive either way,
 * but the view's no-drive hint loses its migration note, so the view is not the same. */
static void test_resolver_view_same_compares_the_no_drive_hint(void **state)
{
	struct t *t = *state;
	struct resolver_view *a = NULL;

	discovery_mounts(t);
	a = resolve(t, "");
	t->v = NULL;
	assert_true(resolver_view_same(a, resolve(t, "[global]\nrescan interval = 5s\n")));
	assert_false(resolver_view_same(a, resolve(t, "[global]\ndiscover = no\n")));
	resolver_view_free(a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest tests[] = {
    T(test_resolver_ranks_by_priority_then_config_order),
    T(test_resolver_union_takes_every_drive_holding_images),
    T(test_resolver_single_takes_best_drive_with_packages),
    T(test_resolver_single_falls_back_to_empty_images_folder),
    T(test_resolver_matches_images_path_case_insensitively),
    T(test_resolver_boot_tree_merges_the_first_folder_of_the_same_drives),
    T(test_resolver_without_boot_tree_merges_the_images_folder),
    T(test_resolver_prefers_exact_spelling_among_case_duplicates),
    T(test_resolver_skips_bare_mountpoint),
    T(test_resolver_names_filesystem_below_bare_dir),
    T(test_resolver_reports_missing_path),
    T(test_resolver_fails_when_short_of_descriptors),
    T(test_resolver_primary_skips_read_only_drive),
    T(test_resolver_primary_is_writable_drive_without_images),
    T(test_resolver_no_primary_when_all_read_only),
    T(test_resolver_single_read_only_root_has_no_primary),
    T(test_resolver_checks_uuid_and_label_at_path),
    T(test_resolver_finds_label_wherever_mounted),
    T(test_resolver_label_prefers_filesystem_root_over_bind),
    T(test_resolver_label_not_mounted_names_device),
    T(test_resolver_bind_mount_counts_and_top_mount_wins),
    T(test_resolver_never_takes_a_view_as_drive),
    T(test_resolver_symlink_component_not_followed),
    T(test_resolver_same_mount_twice_is_skipped),
    T(test_resolver_discovery_filters),
    T(test_resolver_takes_no_mount_without_drives_or_discover),
    T(test_resolver_discovery_says_what_it_left_out),
    T(test_resolver_discovery_joins_configured_drives),
    T(test_resolver_configured_drive_says_how),
    T(test_resolver_json_carries_the_same_facts),
    T(test_resolver_view_same_detects_changes),
    T(test_resolver_view_same_compares_the_no_drive_hint),
};

UNIT_GROUP(tests, NULL, NULL)
