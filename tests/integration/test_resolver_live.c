/* test_resolver_live.c -- the resolver on real mounts: tmpfs drives, a bare
 * directory, a bind mount, and an ext4 image found by label and uuid wherever
 * it is mounted. Needs root; see live.h for skip/fail rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live.h"
#include "resolver.h"

#define IMG "RemoteInstall/SMSImages/SMSPKG"

static char label[17];
static char uuid[64];

static struct resolver_view *resolve(const char *fmt, ...)
{
	char text[4096];
	char err[4096] = "";
	struct pxe_config *cfg = NULL;
	struct resolver_view *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (cfg_load_string(text, "live.conf", &cfg, err, sizeof(err)) != 0) {
		fail_msg("config: %s", err);
	}
	assert_int_equal(resolver_resolve(cfg, rsv_sys_real(), &v), 0);
	cfg_free(cfg);
	return v;
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

static int group_setup(void **state)
{
	(void)state;
	live_tmpdir();
	assert_int_equal(live_mount_tmpfs("c"), 0);
	assert_int_equal(live_mount_tmpfs("d"), 0);
	assert_int_equal(live_mkdirs("c/" IMG "/PKG00001"), 0);
	assert_int_equal(live_mkdirs("e"), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	live_cleanup();
	return 0;
}

static void test_live_two_tmpfs_drives_and_a_bare_directory(void **state)
{
	struct resolver_view *v = NULL;

	(void)state;
	v = resolve("[drive:C]\npath=%s\npriority=10\n[drive:D]\npath=%s\npriority=20\n"
	            "[drive:E]\npath=%s\npriority=30\n",
	            live_path("c"), live_path("d"), live_path("e"));
	assert_int_equal(drive(v, "C")->state, DRIVE_ONLINE);
	assert_string_equal(drive(v, "C")->fstype, "tmpfs");
	assert_true(drive(v, "C")->holds_images);
	assert_int_equal(drive(v, "C")->n_packages, 1);
	assert_int_equal(drive(v, "D")->state, DRIVE_ONLINE);
	assert_false(drive(v, "D")->holds_images);
	assert_int_equal(drive(v, "E")->state, DRIVE_OFFLINE);
	assert_non_null(strstr(drive(v, "E")->reason, "not a mount point (an empty directory on "));
	assert_int_equal(v->n_roots, 1);
	assert_string_equal(v->drives[v->roots[0]].name, "C");
	assert_true(drive(v, "C")->primary);
	resolver_view_free(v);
}

static void test_live_case_insensitive_images_path(void **state)
{
	struct resolver_view *v = NULL;

	(void)state;
	assert_int_equal(live_mkdirs("d/remoteinstall/smsimages/smspkg"), 0);
	v = resolve("[drive:C]\npath=%s\n[drive:D]\npath=%s\n", live_path("c"), live_path("d"));
	assert_true(drive(v, "D")->holds_images);
	assert_string_equal(drive(v, "D")->images_spelling, "remoteinstall/smsimages/smspkg");
	assert_int_equal(v->n_roots, 2);
	resolver_view_free(v);
	assert_int_equal(live_sh("rm -rf '%s'", live_path("d/remoteinstall")), 0);
}

static void test_live_bind_mount_counts(void **state)
{
	struct resolver_view *v = NULL;

	(void)state;
	assert_int_equal(live_mkdirs("b"), 0);
	assert_int_equal(live_sh("mount --bind '%s' '%s'", live_path("c"), live_path("b")), 0);
	live_remember("b");
	v = resolve("[drive:B]\npath=%s/\n", live_path("b"));
	assert_int_equal(drive(v, "B")->state, DRIVE_ONLINE);
	assert_true(drive(v, "B")->holds_images);
	resolver_view_free(v);
	assert_int_equal(live_umount("b"), 0);
	v = resolve("[drive:B]\npath=%s\n", live_path("b"));
	assert_int_equal(drive(v, "B")->state, DRIVE_OFFLINE);
	resolver_view_free(v);
}

static void make_ext4(void)
{
	FILE *p = NULL;
	char cmd[1200];

	snprintf(label, sizeof(label), "PXT%08x", (unsigned)getpid());
	assert_int_equal(live_sh("truncate -s 16M '%s' && mkfs.ext4 -q -F -L %s '%s' >/dev/null",
	                         live_path("ext4.img"), label, live_path("ext4.img")),
	                 0);
	snprintf(cmd, sizeof(cmd), "blkid -o value -s UUID '%s'", live_path("ext4.img"));
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(uuid, sizeof(uuid), p));
	uuid[strcspn(uuid, "\n")] = '\0';
	pclose(p);
}

static void mount_ext4(const char *at)
{
	assert_int_equal(live_mkdirs(at), 0);
	assert_int_equal(live_sh("mount -o loop '%s' '%s'", live_path("ext4.img"), live_path(at)),
	                 0);
	live_remember(at);
}

static void test_live_ext4_found_by_label_wherever_mounted(void **state)
{
	struct resolver_view *v = NULL;

	(void)state;
	make_ext4();
	mount_ext4("m1");
	assert_int_equal(live_mkdirs("m1/RemoteInstall/SMSImages/SMSPKG/PKG2"), 0);
	v = resolve("[drive:D]\nlabel=%s\n[drive:U]\nuuid=%s\n", label, uuid);
	assert_int_equal(drive(v, "D")->state, DRIVE_ONLINE);
	assert_string_equal(drive(v, "D")->mount_path, live_path("m1"));
	assert_string_equal(drive(v, "D")->fstype, "ext4");
	assert_string_equal(drive(v, "D")->label, label);
	assert_true(drive(v, "D")->holds_images);
	assert_string_equal(drive(v, "U")->mount_path, live_path("m1"));
	resolver_view_free(v);

	assert_int_equal(live_umount("m1"), 0);
	v = resolve("[drive:D]\nlabel=%s\n", label);
	assert_int_equal(drive(v, "D")->state, DRIVE_OFFLINE);
	assert_non_null(strstr(drive(v, "D")->reason, label));
	resolver_view_free(v);

	mount_ext4("m2");
	v = resolve("[drive:D]\nlabel=%s\n", label);
	assert_int_equal(drive(v, "D")->state, DRIVE_ONLINE);
	assert_string_equal(drive(v, "D")->mount_path, live_path("m2"));
	assert_string_equal(drive(v, "D")->images_dir, live_path("m2/" IMG));
	resolver_view_free(v);

	/* the right path with the wrong label is not the drive */
	v = resolve("[drive:D]\npath=%s\nlabel=NOT%s\n", live_path("m2"), label);
	assert_int_equal(drive(v, "D")->state, DRIVE_OFFLINE);
	assert_non_null(strstr(drive(v, "D")->reason, "label mismatch"));
	resolver_view_free(v);
}

static void test_live_discovery_sees_tmpfs_drives(void **state)
{
	struct resolver_view *v = NULL;
	bool found = false;

	(void)state;
	v = resolve("[global]\nmode=union\ndiscover=yes\n");
	assert_true(v->discovery);
	for (size_t r = 0; r < v->n_roots; r++) {
		found |= strcmp(v->drives[v->roots[r]].mount_path, live_path("c")) == 0;
	}
	assert_true(found);
	for (size_t i = 0; i < v->n_drives; i++) {
		assert_string_not_equal(v->drives[i].fstype, "proc");
		assert_string_not_equal(v->drives[i].fstype, "sysfs");
	}
	resolver_view_free(v);

	/* without discover = yes, the same tmpfs is no drive */
	v = resolve("[global]\nmode=union\n");
	assert_false(v->discovery);
	assert_int_equal(v->n_drives, 0);
	assert_non_null(strstr(v->no_drive, "no drive configured"));
	resolver_view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live_two_tmpfs_drives_and_a_bare_directory),
	    cmocka_unit_test(test_live_case_insensitive_images_path),
	    cmocka_unit_test(test_live_bind_mount_counts),
	    cmocka_unit_test(test_live_ext4_found_by_label_wherever_mounted),
	    cmocka_unit_test(test_live_discovery_sees_tmpfs_drives),
	};

	live_require("test_resolver_live");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
