/* test_common_case.c -- one case rule: the resolver (images path), the folder watcher
 * (resolver/watch.c) and the FUSE view (common/walk.c) pick the same on-disk name.
 *
 * The rule (names_match_better in common/names.c): the exact spelling first, else the
 * smallest spelling (strcmp) among the names equal under names_casecmp, which folds
 * non-ASCII letters too. The resolver runs on a fake system holding the same names as a
 * real temporary folder, where walk_open (the view) and watch_follow (the watcher) run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sys.h"
#include "names.h"
#include "unit.h"
#include "walk.h"

#define MAX_TIMER_ROUNDS 3 /* periodic rescans (200 ms each) to wait for a folder event */

struct t {
	char root[PATH_MAX];
	struct fake_sys f;
	struct pxe_config *cfg;
	struct resolver_view *v;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/pxe-case.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	fake_init(&t->f);
	fake_mount(&t->f, "/mnt/c", "/dev/sdb1", "ext4", "1111-aaaa", "C", 0x801, false);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[PATH_MAX + 32];

	resolver_view_free(t->v);
	cfg_free(t->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

/* The folder REL (with its parents) both on the fake drive /mnt/c and below the real root. */
static void both_dir(struct t *t, const char *rel)
{
	char path[PATH_MAX];
	char part[PATH_MAX];

	snprintf(path, sizeof(path), "/mnt/c/%s", rel);
	fake_dir(&t->f, path);
	for (const char *p = rel;; p++) {
		if (*p == '/' || *p == '\0') {
			assert_true(snprintf(part, sizeof(part), "%s/%.*s", t->root, (int)(p - rel),
			                     rel) < (int)sizeof(part));
			assert_true(mkdir(part, 0755) == 0 || errno == EEXIST);
		}
		if (*p == '\0') {
			break;
		}
	}
}

/* The images folder's on-disk spelling as the resolver finds it for IMAGES (a config value). */
static const char *resolver_spelling(struct t *t, const char *images)
{
	char conf[512];
	char err[4096] = "";

	snprintf(conf, sizeof(conf), "[global]\nimages path = %s\n[drive:C]\npath=/mnt/c\n",
	         images);
	if (cfg_load_string(conf, "test.conf", &t->cfg, err, sizeof(err)) != 0) {
		fail_msg("config did not parse: %s", err);
	}
	assert_int_equal(resolver_resolve(t->cfg, &t->f.sys, &t->v), 0);
	assert_int_equal(t->v->n_drives, 1);
	return t->v->drives[0].holds_images ? t->v->drives[0].images_spelling : "(none)";
}

/* The spelling the view's walk finds for the '/'-separated REL below the real root. */
static void view_spelling(struct t *t, const char *rel, char *out, size_t len)
{
	int root = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = -1;

	assert_true(root >= 0);
	fd = walk_open(root, rel, out, len);
	if (fd < 0) {
		snprintf(out, len, "(none)");
	} else {
		close(fd);
	}
	close(root);
}

/* True when a WATCH_FOLDERS event comes before MAX_TIMER_ROUNDS periodic rescans. */
static bool folder_event(struct watch *w)
{
	for (int timers = 0, i = 0; timers < MAX_TIMER_ROUNDS && i < 100; i++) {
		unsigned ev = watch_wait(w);
		if (ev & WATCH_FOLDERS) {
			return true;
		}
		timers += (ev & WATCH_TIMER) != 0;
	}
	return false;
}

static void touch(struct t *t, const char *rel)
{
	char path[PATH_MAX];
	int fd = -1;

	assert_true(snprintf(path, sizeof(path), "%s/%s", t->root, rel) < (int)sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

/* The watcher follows the images path (virtual IMAGES) below the real root: a new name in
 * CHOSEN (the folder the rule picks) is seen, one in each of OTHERS is not. */
static void assert_watcher_follows(struct t *t, const char *images, const char *chosen,
                                   const char *const *others)
{
	struct drive d = {.state = DRIVE_ONLINE, .mount_path = t->root};
	struct resolver_view v = {.images_path = (char *)images, .drives = &d, .n_drives = 1};
	struct watch *w = NULL;
	char rel[PATH_MAX];

	assert_int_equal(watch_new(200, &w), 0);
	assert_int_equal(watch_follow(w, &v), 0);
	for (size_t i = 0; others[i]; i++) {
		snprintf(rel, sizeof(rel), "%s/other-%zu", others[i], i);
		touch(t, rel);
	}
	assert_false(folder_event(w));
	snprintf(rel, sizeof(rel), "%s/new", chosen);
	touch(t, rel);
	assert_true(folder_event(w));
	watch_free(w);
}

/* "Äpfel" in the config, "äpfel" on disk: only a non-ASCII letter's case differs. Then three
 * case variants of the last component and no exact one: the smallest is taken. */
static void test_case_rule_agrees_on_non_ascii_letter(void **state)
{
	struct t *t = *state;
	char spelt[PATH_MAX];
	const char *others[] = {"\xc3\xa4pfel/Images", "\xc3\xa4pfel/images", NULL};

	both_dir(t, "\xc3\xa4pfel/images");
	both_dir(t, "\xc3\xa4pfel/IMAGES");
	both_dir(t, "\xc3\xa4pfel/Images");
	view_spelling(t, "\xc3\x84pfel/imageS", spelt, sizeof(spelt));
	assert_string_equal(spelt, "\xc3\xa4pfel/IMAGES");
	assert_string_equal(resolver_spelling(t, "\xc3\x84pfel\\imageS"), spelt);
	assert_watcher_follows(t, "\xc3\x84pfel/imageS", spelt, others);
}

/* Only ASCII case differs, in five variants, none exact: the watcher takes the smallest
 * spelling as the resolver and the view do, not the first one the folder lists. */
static void test_case_rule_agrees_on_tie_break(void **state)
{
	struct t *t = *state;
	char spelt[PATH_MAX];
	const char *names[] = {"imAges", "Images", "images", "IMAGES", "iMages", "imaGes", NULL};

	for (size_t i = 0; names[i]; i++) {
		both_dir(t, names[i]);
	}
	view_spelling(t, "imageS", spelt, sizeof(spelt));
	assert_string_equal(spelt, "IMAGES");
	assert_string_equal(resolver_spelling(t, "imageS"), spelt);
	assert_watcher_follows(
	    t, "imageS", spelt,
	    (const char *const[]){"imAges", "Images", "images", "iMages", "imaGes", NULL});
}

/* An exact spelling wins over smaller case variants, in all three. */
static void test_case_rule_prefers_exact_spelling(void **state)
{
	struct t *t = *state;
	char spelt[PATH_MAX];

	both_dir(t, "PXE/Boot");
	both_dir(t, "PXE/BOOT");
	both_dir(t, "pxe/boot");
	view_spelling(t, "pxe/Boot", spelt, sizeof(spelt));
	assert_string_equal(spelt, "pxe/boot");
	assert_string_equal(resolver_spelling(t, "pxe\\Boot"), "pxe/boot");
	assert_watcher_follows(t, "pxe/Boot", "pxe/boot", (const char *const[]){"PXE/Boot", NULL});
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_case_rule_agrees_on_non_ascii_letter, setup, teardown),
    cmocka_unit_test_setup_teardown(test_case_rule_agrees_on_tie_break, setup, teardown),
    cmocka_unit_test_setup_teardown(test_case_rule_prefers_exact_spelling, setup, teardown),
};

UNIT_GROUP(tests, NULL, NULL)
