/* test_samba_conf.c -- unit tests of the smb.conf text of export/: the share
 * block, the private smb.conf, and the pure helpers of smbconf.c (lines,
 * the marked include, commenting out a section, finding the share,
 * reading testparm's complaints).
 *
 * Pure string work on configs parsed from text; no files, no Samba tools.
 * Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "smbconf.h"
#include "sys_int.h"
#include "unit.h"

#define IMAGES "/RemoteInstall/SMSImages/SMSPKG"
#define INC    "/etc/samba/pxeimagesfs.conf"

static char errbuf[16384];

/* ---- helpers ----------------------------------------------------------- */

static struct pxe_config *load(const char *text)
{
	struct pxe_config *cfg = NULL;
	int rc = cfg_load_string(text, "t.conf", &cfg, errbuf, sizeof(errbuf));

	if (rc != 0) {
		print_message("unexpected errors:\n%s\n", errbuf);
	}
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	return cfg;
}

static char *block_of(const char *text, const char *mountpoint)
{
	struct pxe_config *cfg = load(text);
	char *b = samba_share_block(cfg, mountpoint ? mountpoint : cfg->mountpoint);

	assert_non_null(b);
	cfg_free(cfg);
	return b;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		print_message("'%s' not found in:\n%s\n", needle, hay);
		fail();
	}
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle)) {
		print_message("'%s' unexpectedly found in:\n%s\n", needle, hay);
		fail();
	}
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* ---- the share block ----------------------------------------------------- */

static void test_share_path_is_images_folder_inside_mount(void **state)
{
	char *b = block_of("[global]\nmountpoint = /srv/pxeimages\n", NULL);
	char path[256];
	struct pxe_config *cfg = load("[global]\nmountpoint = /srv/pxeimages\n");

	(void)state;
	assert_has(b, "\n[SMSPXEIMAGES$]\n");
	assert_has(b, "\tpath = /srv/pxeimages" IMAGES "\n");
	assert_lacks(b, "path = /srv/pxeimages\n");
	assert_int_equal(count(b, "path ="), 1);
	assert_int_equal(samba_share_path(cfg, "/srv/pxeimages", path, sizeof(path)), 0);
	assert_string_equal(path, "/srv/pxeimages" IMAGES);
	assert_int_equal(samba_share_path(cfg, "/", path, sizeof(path)), 0);
	assert_string_equal(path, IMAGES);
	assert_int_equal(samba_share_path(cfg, "/srv/pxeimages", path, 10), -1);
	cfg_free(cfg);
	free(b);
}

static void test_share_block_for_ctdb_has_the_same_file_ids_on_every_node(void **state)
{
	char *sys = block_of("[share]\nsamba = system\n", NULL);
	char *b = block_of("[share]\nsamba = ctdb\n", NULL);
	char *own = block_of("[share]\nsamba = ctdb\nsamba:vfs objects = acl_xattr fileid\n"
	                     "samba:fileid:algorithm = fsname_nodirs\n",
	                     NULL);

	(void)state;
	assert_lacks(sys, "fileid");
	assert_has(b, "\tvfs objects = fileid\n\tfileid:algorithm = fsname\n");
	assert_lacks(b, "clustering"); /* a global parameter: the include file's [global] */
	assert_int_equal(count(own, "vfs objects"), 1);
	assert_int_equal(count(own, "fileid:algorithm"), 1);
	assert_has(own, "\tfileid:algorithm = fsname_nodirs\n");
	free(sys);
	free(b);
	free(own);
}

static void test_share_path_follows_images_path_and_mountpoint(void **state)
{
	char *b = block_of("[global]\nmountpoint = /mnt/view\nimages path = A\\B\n"
	                   "[share]\nname = Images\n",
	                   "/other/mp");

	(void)state;
	assert_has(b, "\n[Images]\n");
	assert_has(b, "\tpath = /other/mp/A/B\n");
	free(b);
}

static void test_share_block_suits_a_fuse_view(void **state)
{
	char *b = block_of("[global]\n", NULL);

	(void)state;
	assert_has(b, "\tkernel oplocks = no\n");
	assert_has(b, "\tkernel share modes = no\n");
	assert_has(b, "\tposix locking = no\n");
	assert_has(b, "\tea support = no\n");
	assert_has(b, "\tstore dos attributes = yes\n");
	free(b);
}

/* smb.conf has no inline comments: a '#' or ';' anywhere but at the start of
 * a comment line would become part of a value. */
static void test_share_block_has_no_inline_comments(void **state)
{
	char *b = block_of("[share]\nvalid users = alice\nwrite list = @pxe\n"
	                   "samba:hide dot files = yes\n",
	                   NULL);
	const char *line = b;
	int comments = 0;

	(void)state;
	while (*line) {
		size_t n = strcspn(line, "\n");
		size_t ws = strspn(line, " \t");
		bool comment = line[ws] == '#' || line[ws] == ';';
		if (!comment && (memchr(line, '#', n) || memchr(line, ';', n))) {
			print_message("inline comment in line '%.*s'\n", (int)n, line);
			fail();
		}
		comments += comment;
		line += n + (line[n] == '\n');
	}
	assert_true(comments >= 2);
	free(b);
}

static void test_share_block_passes_samba_params_through(void **state)
{
	char *b =
	    block_of("[share]\nsamba:vfs objects = acl_xattr\nsamba:hide dot files = yes\n", NULL);

	(void)state;
	assert_has(b, "\tvfs objects = acl_xattr\n");
	assert_has(b, "\thide dot files = yes\n");
	assert_lacks(b, "samba:");
	/* passed through after our settings, so they can override them */
	assert_true(strstr(b, "vfs objects") > strstr(b, "store dos attributes"));
	free(b);
}

static void test_share_block_access_settings(void **state)
{
	char *def = block_of("[global]\n", NULL);
	char *set = block_of("[share]\nguest ok = yes\nread only = yes\nvalid users = alice, @pxe\n"
	                     "write list = @pxe-writers\n",
	                     NULL);

	(void)state;
	assert_has(def, "\tguest ok = no\n");
	assert_has(def, "\tread only = no\n");
	assert_lacks(def, "valid users");
	assert_lacks(def, "write list");
	assert_has(set, "\tguest ok = yes\n");
	assert_has(set, "\tread only = yes\n");
	assert_has(set, "\tvalid users = alice, @pxe\n");
	assert_has(set, "\twrite list = @pxe-writers\n");
	free(def);
	free(set);
}

/* ---- the private smbd ------------------------------------------------------ */

static void test_private_conf_basics(void **state)
{
	struct pxe_config *cfg = load("[global]\nstate directory = /var/lib/px\n"
	                              "[share]\nsamba = private\nport = 44455\n"
	                              "interfaces = 127.0.0.1\n");
	char *c = samba_private_conf(cfg, cfg->mountpoint);
	char dir[256];

	(void)state;
	assert_non_null(c);
	assert_int_equal(samba_private_dir(cfg, dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/var/lib/px/samba");
	assert_true(strstr(c, "[global]\n") < strstr(c, "[SMSPXEIMAGES$]\n"));
	assert_has(c, "\tsmb ports = 44455\n");
	assert_has(c, "\tinterfaces = 127.0.0.1\n\tbind interfaces only = yes\n");
	assert_has(c, "\tprivate dir = /var/lib/px/samba/private\n");
	assert_has(c, "\tlock directory = /var/lib/px/samba/lock\n");
	assert_has(c, "\tpid directory = /var/lib/px/samba/pid\n");
	assert_has(c, "\tregistry shares = no\n");
	assert_has(c, "\tpath = /srv/pxeimages" IMAGES "\n");
	assert_has(c, "\tkernel oplocks = no\n");
	free(c);
	cfg_free(cfg);
}

static void test_private_conf_without_interfaces_listens_everywhere(void **state)
{
	struct pxe_config *cfg = load("[share]\nsamba = private\n");
	char *c = samba_private_conf(cfg, "/mnt/v");

	(void)state;
	assert_non_null(c);
	assert_has(c, "\tsmb ports = 445\n");
	assert_lacks(c, "bind interfaces only");
	assert_has(c, "\tpath = /mnt/v" IMAGES "\n");
	free(c);
	cfg_free(cfg);
}

/* ---- smb.conf lines ---------------------------------------------------------- */

static enum samba_line_kind kind(const char *line, char *name, char *value)
{
	return samba_conf_line(line, strlen(line), name, 128, value, 128);
}

static void test_conf_line_kinds(void **state)
{
	char name[128];
	char value[128];

	(void)state;
	assert_int_equal(kind("   \t", name, value), SAMBA_LINE_BLANK);
	assert_int_equal(kind("  # x = y", name, value), SAMBA_LINE_COMMENT);
	assert_int_equal(kind("; [global]", name, value), SAMBA_LINE_COMMENT);
	assert_int_equal(kind(" [ SMSPXEIMAGES$ ] trailing", name, value), SAMBA_LINE_SECTION);
	assert_string_equal(name, "SMSPXEIMAGES$");
	assert_int_equal(kind("\tRead Only =  no # not a comment\r", name, value),
	                 SAMBA_LINE_PARAM);
	assert_string_equal(name, "Read Only");
	assert_string_equal(value, "no # not a comment");
	assert_int_equal(kind("path =", name, value), SAMBA_LINE_PARAM);
	assert_string_equal(value, "");
	assert_int_equal(kind("just words", name, value), SAMBA_LINE_OTHER);
	assert_int_equal(kind("[unclosed", name, value), SAMBA_LINE_OTHER);
}

static void test_conf_line_truncates_long_values(void **state)
{
	char name[4];
	char value[4];

	(void)state;
	assert_int_equal(
	    samba_conf_line("include = /long", 15, name, sizeof(name), value, sizeof(value)),
	    SAMBA_LINE_PARAM);
	assert_string_equal(name, "inc");
	assert_string_equal(value, "/lo");
}

static void test_name_eq_ignores_case_and_spaces(void **state)
{
	(void)state;
	assert_true(samba_name_eq("Read Only", "readonly"));
	assert_true(samba_name_eq("smspxeimages$", "SMSPXEIMAGES$"));
	assert_true(samba_name_eq(" include ", "INCLUDE"));
	assert_false(samba_name_eq("include", "includes"));
	assert_false(samba_name_eq("path", ""));
}

/* ---- the marked include ---------------------------------------------------------- */

static const char *const base_conf = "[global]\n   workgroup = W\n\n[print$]\n   path = /x\n";

static void test_add_include_makes_it_the_last_line(void **state)
{
	char *t = samba_conf_add_include(base_conf, INC, INC);
	char want[512];

	(void)state;
	assert_non_null(t);
	snprintf(want, sizeof(want), "%s%s\ninclude = %s\n", base_conf, SAMBA_INCLUDE_MARKER, INC);
	assert_string_equal(t, want);
	free(t);
}

static void test_add_include_is_idempotent(void **state)
{
	char *once = samba_conf_add_include(base_conf, INC, INC);
	char *twice = samba_conf_add_include(once, INC, INC);

	(void)state;
	assert_string_equal(once, twice);
	free(once);
	free(twice);
}

static void test_add_include_moves_it_to_the_end(void **state)
{
	const char *text = "[global]\n" SAMBA_INCLUDE_MARKER "\ninclude = " INC "\n"
	                   "   include = " INC "\n[x]\n path = /y";
	char *t = samba_conf_add_include(text, INC, "/tmp/cand.conf");

	(void)state;
	assert_string_equal(t, "[global]\n[x]\n path = /y\n" SAMBA_INCLUDE_MARKER
	                       "\ninclude = /tmp/cand.conf\n");
	free(t);
}

static void test_strip_include_keeps_other_includes(void **state)
{
	const char *text = "[global]\ninclude = /etc/samba/other.conf\n# a comment\n"
	                   "include = " INC ".bak\n" SAMBA_INCLUDE_MARKER "\ninclude = " INC "\n";
	int removed = -1;
	char *t = samba_conf_strip_include(text, INC, &removed);

	(void)state;
	assert_int_equal(removed, 1);
	assert_string_equal(t, "[global]\ninclude = /etc/samba/other.conf\n# a comment\n"
	                       "include = " INC ".bak\n");
	free(t);
}

static void test_strip_undoes_add(void **state)
{
	char *added = samba_conf_add_include(base_conf, INC, INC);
	int removed = 0;
	char *back = samba_conf_strip_include(added, INC, &removed);

	(void)state;
	assert_int_equal(removed, 1);
	assert_string_equal(back, base_conf);
	free(added);
	free(back);
}

/* ---- commenting out a definition ---------------------------------------------------- */

static void test_comment_section_stops_at_next_section(void **state)
{
	const char *text = "[global]\n w = x\n[SMSPXEIMAGES$]\n path = /old\n\n read only = no\n"
	                   "[print$]\n path = /p\n";
	int last = 0;
	char *t = samba_conf_comment_section(text, 3, INC, &last);

	(void)state;
	assert_int_equal(last, 6);
	assert_string_equal(
	    t, "[global]\n w = x\n" SAMBA_REPAIR_PREFIX "[SMSPXEIMAGES$]\n" SAMBA_REPAIR_PREFIX
	       " path = /old\n\n" SAMBA_REPAIR_PREFIX " read only = no\n[print$]\n path = /p\n");
	free(t);
}

static void test_comment_section_spares_our_include(void **state)
{
	const char *text = "[SMSPXEIMAGES$]\n path = /old\n" SAMBA_INCLUDE_MARKER "\n"
	                   "include = " INC "\n";
	int last = 0;
	char *t = samba_conf_comment_section(text, 1, INC, &last);

	(void)state;
	assert_int_equal(last, 2);
	assert_string_equal(t, SAMBA_REPAIR_PREFIX "[SMSPXEIMAGES$]\n" SAMBA_REPAIR_PREFIX
	                                           " path = /old\n" SAMBA_INCLUDE_MARKER
	                                           "\ninclude = " INC "\n");
	free(t);
}

static void test_comment_section_refuses_a_non_section_line(void **state)
{
	int last = 0;

	(void)state;
	assert_null(samba_conf_comment_section("[a]\n path = /x\n", 2, INC, &last));
	assert_null(samba_conf_comment_section("[a]\n", 5, INC, &last));
}

/* ---- finding the share ----------------------------------------------------------------- */

static void test_scan_finds_every_definition_case_insensitively(void **state)
{
	const char *text = "[global]\n include = /etc/samba/a.conf\n"
	                   "[smspxeimages$]\n path = /old/C\n"
	                   "[other]\n path = /x\n include = /etc/samba/b.conf\n"
	                   "[SMS PXEIMAGES$]\n directory = /old/D\n"
	                   "[SMSPXEIMAGES$]\n comment = no path\n";
	struct samba_conf_facts f;

	(void)state;
	assert_int_equal(samba_conf_scan(text, "SMSPXEIMAGES$", true, &f), 0);
	assert_int_equal(f.n_defs, 3);
	assert_int_equal(f.defs[0].line, 3);
	assert_string_equal(f.defs[0].section, "smspxeimages$");
	assert_string_equal(f.defs[0].path, "/old/C");
	assert_int_equal(f.defs[1].line, 8);
	assert_string_equal(f.defs[1].path, "/old/D");
	assert_null(f.defs[2].path);
	assert_int_equal(f.n_incs, 2);
	assert_string_equal(f.incs[0].file, "/etc/samba/a.conf");
	assert_true(f.incs[0].global);
	assert_int_equal(f.incs[1].line, 7);
	assert_false(f.incs[1].global);
	assert_false(f.registry);
	samba_conf_facts_fini(&f);
}

static void test_scan_joins_continuation_lines(void **state)
{
	const char *text = "# a comment \\\n[SMSPXEIMAGES$]\n path = /old/\\\nD \n[x]\n";
	struct samba_conf_facts f;

	(void)state;
	assert_int_equal(samba_conf_scan(text, "SMSPXEIMAGES$", true, &f), 0);
	assert_int_equal(f.n_defs, 1);
	assert_int_equal(f.defs[0].line, 2);
	assert_string_equal(f.defs[0].path, "/old/D");
	samba_conf_facts_fini(&f);
}

/* Found by tests/fuzz (corpus/smbconf/bogus-backslash.conf): a line that starts with '\\'
 * does not go on at the next line (smbd drops that backslash), a section header does, and
 * a header whose ']' is on the next line can still be commented out (as testparm reads it). */
static void test_scan_joins_only_what_smbd_joins(void **state)
{
	static const char text[] = " \\\n"
	                           "[SMSPXEIMAGES$]\n"
	                           "\tpath = /old/D\n"
	                           "[smspxeimages$] \\\n"
	                           "\tpath = /old/E\n"
	                           "[ SMSPXEIMAGES$ \\\n"
	                           "]\n";
	struct samba_conf_facts f;
	char *out = NULL;
	int last = 0;

	(void)state;
	assert_int_equal(samba_conf_scan(text, "SMSPXEIMAGES$", true, &f), 0);
	assert_int_equal(f.n_defs, 3);
	assert_int_equal(f.defs[0].line, 2);
	assert_string_equal(f.defs[0].path, "/old/D");
	assert_int_equal(f.defs[1].line, 4);
	assert_null(f.defs[1].path); /* testparm: the path line is part of the header line */
	assert_int_equal(f.defs[2].line, 6);
	for (size_t i = 0; i < f.n_defs; i++) {
		out = samba_conf_comment_section(text, f.defs[i].line, INC, &last);
		assert_non_null(out);
		assert_int_equal(last, f.defs[i].line + 1);
		free(out);
	}
	samba_conf_facts_fini(&f);
}

static void test_scan_sees_registry_only_in_global(void **state)
{
	struct samba_conf_facts f;

	(void)state;
	assert_int_equal(samba_conf_scan("[x]\nregistry shares = yes\n", "S", true, &f), 0);
	assert_false(f.registry);
	samba_conf_facts_fini(&f);
	assert_int_equal(samba_conf_scan("[global]\nregistry shares = no\n", "S", true, &f), 0);
	assert_false(f.registry);
	samba_conf_facts_fini(&f);
	assert_int_equal(samba_conf_scan("registry shares = Yes\n[x]\n", "S", true, &f), 0);
	assert_true(f.registry);
	samba_conf_facts_fini(&f);
	assert_int_equal(samba_conf_scan("[GLOBAL]\nconfig backend = registry\n", "S", true, &f),
	                 0);
	assert_true(f.registry);
	samba_conf_facts_fini(&f);
	assert_int_equal(samba_conf_scan("[global]\ninclude = registry\n", "S", true, &f), 0);
	assert_true(f.registry);
	assert_int_equal(f.n_incs, 0);
	samba_conf_facts_fini(&f);
	/* an included file that starts outside [global] */
	assert_int_equal(samba_conf_scan("registry shares = yes\n", "S", false, &f), 0);
	assert_false(f.registry);
	samba_conf_facts_fini(&f);
}

/* ---- testparm's output ------------------------------------------------------------------- */

static const char *const tp_err =
    "Load smb config files from /tmp/x/smb.conf\n"
    "Unknown parameter encountered: \"bogus parameter\"\n"
    "Ignoring unknown parameter \"bogus parameter\"\n"
    "Unknown parameter encountered: \"other\"\n"
    "Ignoring unknown parameter \"Other\"\n"
    "Loaded services file OK.\n"
    "Weak crypto is allowed by GnuTLS (e.g. NTLM as a compatibility fallback)\n"
    "\n"
    "WARNING: lock directory /x does not exist\n"
    "\n"
    "Server role: ROLE_STANDALONE\n\n";

static void test_testparm_unknown_names_each_parameter_once(void **state)
{
	char *u = samba_testparm_unknown(tp_err);
	char *none =
	    samba_testparm_unknown("Load smb config files from x\nLoaded services file OK.\n");

	(void)state;
	assert_string_equal(u, "bogus parameter\nother\n");
	assert_string_equal(none, "");
	free(u);
	free(none);
}

static void test_testparm_errors_drop_the_chatter(void **state)
{
	char *e = samba_testparm_errors("Load smb config files from x\n"
	                                "set_variable_helper(maybe): value is not boolean!\n"
	                                "Error loading services.\n");
	char *w = samba_testparm_errors(tp_err);

	(void)state;
	assert_string_equal(e, "set_variable_helper(maybe): value is not boolean!; "
	                       "Error loading services.");
	assert_has(w, "WARNING: lock directory /x does not exist");
	assert_lacks(w, "Load smb config");
	assert_lacks(w, "Server role");
	assert_lacks(w, "bogus parameter");
	free(e);
	free(w);
}

/* ---- reading and rewriting the administrator's smb.conf (issue 14) ------------------------- */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pxe-samba-conf.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	static const char *const files[] = {"ok.conf",  "nul.conf", "utf16.conf", "fifo",
	                                    "big.conf", "smb.conf", "pxe.conf",   "testparm"};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unlink(tmp_path(files[i]));
	}
	return rmdir(tmpdir);
}

static void test_file_read_takes_only_bounded_regular_text(void **state)
{
	static const char nul[] = "[global]\n\0[data]\npath = /srv/data\n";
	char *text = NULL;
	int fd = -1;

	(void)state;
	write_file(tmp_path("ok.conf"), "[global]\n", 9);
	assert_int_equal(sys_file_read(tmp_path("ok.conf"), &text), 0);
	assert_string_equal(text, "[global]\n");
	free(text);
	write_file(tmp_path("nul.conf"), nul, sizeof(nul) - 1);
	assert_int_equal(sys_file_read(tmp_path("nul.conf"), &text), -EILSEQ);
	assert_null(text);
	write_file(tmp_path("utf16.conf"), "\xff\xfe[\0g\0]\0\n\0", 10);
	assert_int_equal(sys_file_read(tmp_path("utf16.conf"), &text), -EILSEQ);
	assert_int_equal(mkfifo(tmp_path("fifo"), 0600), 0);
	alarm(10); /* a blocking open or read kills the test instead of hanging it */
	assert_int_equal(sys_file_read(tmp_path("fifo"), &text), -EINVAL);
	assert_int_equal(sys_file_read("/dev/zero", &text), -EINVAL);
	fd = open(tmp_path("big.conf"), O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SYS_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(sys_file_read(tmp_path("big.conf"), &text), -EFBIG);
	alarm(0);
	assert_int_equal(sys_file_read(tmpdir, &text), -EISDIR);
	assert_non_null(strstr(sys_read_why(-EILSEQ), "not a text file"));
}

/* export_cfg -- samba = system on smb.conf and include file in the temporary folder. */
static struct pxe_config *export_cfg(void)
{
	char text[1024];

	snprintf(text, sizeof(text),
	         "[global]\nmountpoint = %s/view\nstate directory = %s/state\n"
	         "[share]\nsamba = system\nsmb.conf = %s/smb.conf\ninclude file = %s/pxe.conf\n",
	         tmpdir, tmpdir, tmpdir, tmpdir);
	return load(text);
}

static void assert_file_is(const char *path, const char *data, size_t n)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t got = 0;

	assert_non_null(f);
	got = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(got, n);
	assert_memory_equal(buf, data, n);
}

static void test_export_refuses_an_smb_conf_that_is_not_text(void **state)
{
	static const char nul[] = "[global]\n\tworkgroup = W\n\0\n[data]\n\tpath = /srv/data\n";
	struct samba_export_opts o = {.no_reload = true, .testparm = "/nonexistent/testparm"};
	struct pxe_config *cfg = export_cfg();
	char report[8192];

	(void)state;
	write_file(tmp_path("smb.conf"), nul, sizeof(nul) - 1);
	assert_int_equal(samba_export(cfg, NULL, &o, report, sizeof(report)), -1);
	assert_has(report, "error: cannot read ");
	assert_has(report, "not a text file");
	assert_file_is(tmp_path("smb.conf"), nul, sizeof(nul) - 1);
	assert_int_equal(access(tmp_path("pxe.conf"), F_OK), -1);
	o.remove = true;
	assert_int_equal(samba_export(cfg, NULL, &o, report, sizeof(report)), -1);
	assert_file_is(tmp_path("smb.conf"), nul, sizeof(nul) - 1);
	cfg_free(cfg);
}

static void test_export_refuses_an_include_it_cannot_read_to_the_end(void **state)
{
	struct samba_export_opts o = {.no_reload = true, .testparm = "/nonexistent/testparm"};
	struct pxe_config *cfg = export_cfg();
	char report[8192];
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "[global]\n\tworkgroup = W\n\tinclude = /dev/zero\n");
	write_file(tmp_path("smb.conf"), text, strlen(text));
	alarm(10);
	assert_int_equal(samba_export(cfg, NULL, &o, report, sizeof(report)), -1);
	assert_has(report, ":3: include = /dev/zero: it is not a regular file");
	unlink(tmp_path("fifo"));
	assert_int_equal(mkfifo(tmp_path("fifo"), 0600), 0);
	snprintf(text, sizeof(text), "[global]\n\tinclude = %s\n", tmp_path("fifo"));
	write_file(tmp_path("smb.conf"), text, strlen(text));
	assert_int_equal(samba_export(cfg, NULL, &o, report, sizeof(report)), -1);
	assert_has(report, "it is not a regular file");
	alarm(0);
	assert_file_is(tmp_path("smb.conf"), text, strlen(text));
	cfg_free(cfg);
}

static void test_export_is_time_bounded(void **state)
{
	static const char hang[] = "#!/bin/sh\nexec sleep 30\n";
	struct samba_export_opts o = {.no_reload = true, .timeout_ms = 1500};
	struct pxe_config *cfg = export_cfg();
	struct timespec t0;
	struct timespec t1;
	char report[8192];

	(void)state;
	write_file(tmp_path("smb.conf"), "[global]\n", 9);
	write_file(tmp_path("testparm"), hang, sizeof(hang) - 1);
	assert_int_equal(chmod(tmp_path("testparm"), 0755), 0);
	o.testparm = tmp_path("testparm");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(samba_export(cfg, NULL, &o, report, sizeof(report)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_has(report, "did not finish in time and was killed");
	assert_true(t1.tv_sec - t0.tv_sec < 10); /* a hung testparm held it 60 s */
	assert_file_is(tmp_path("smb.conf"), "[global]\n", 9);
	cfg_free(cfg);
}

static void test_generated_text_never_continues_a_line(void **state)
{
	struct pxe_config *cfg = load("[share]\nsamba:comment = x\n");
	char path[256];

	(void)state;
	assert_true(samba_text_bad("a \\"));
	assert_true(samba_text_bad("a\rb"));
	assert_false(samba_text_bad("a\tb \\ c"));
	assert_int_equal(samba_share_path(cfg, "/srv/x\\", path, sizeof(path)), 0);
	assert_int_equal(samba_share_path(cfg, "/srv/%U", path, sizeof(path)), -1);
	assert_int_equal(samba_share_path(cfg, "/srv/a\nb", path, sizeof(path)), -1);
	cfg_free(cfg);
}

static void test_export_summary_takes_the_error_else_a_warning_else_smbd_down(void **state)
{
	char out[128];

	(void)state;
	samba_export_summary("wrote x\nnote: a macro\nerror: cannot write x: EROFS\n", true, out,
	                     sizeof(out));
	assert_string_equal(out, "cannot write x: EROFS");
	samba_export_summary("", true, out, sizeof(out));
	assert_string_equal(out, "failed");
	samba_export_summary("note: a macro\nnote: smbd is not running; it reads\n", false, out,
	                     sizeof(out));
	assert_string_equal(out, "smbd is not running; it reads");
	samba_export_summary("note: smbd is not running\nwarning: 1 other definition\n", false,
	                     out, sizeof(out));
	assert_string_equal(out, "1 other definition");
	samba_export_summary("wrote x\nnote: a macro\nreloaded smbd\n", false, out, sizeof(out));
	assert_string_equal(out, "");
	samba_export_summary("error: a very long reason that does not fit", true, out, 8);
	assert_string_equal(out, "a very ");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_share_path_is_images_folder_inside_mount),
    cmocka_unit_test(test_share_path_follows_images_path_and_mountpoint),
    cmocka_unit_test(test_share_block_for_ctdb_has_the_same_file_ids_on_every_node),
    cmocka_unit_test(test_share_block_suits_a_fuse_view),
    cmocka_unit_test(test_share_block_has_no_inline_comments),
    cmocka_unit_test(test_share_block_passes_samba_params_through),
    cmocka_unit_test(test_share_block_access_settings),
    cmocka_unit_test(test_private_conf_basics),
    cmocka_unit_test(test_private_conf_without_interfaces_listens_everywhere),
    cmocka_unit_test(test_conf_line_kinds),
    cmocka_unit_test(test_conf_line_truncates_long_values),
    cmocka_unit_test(test_name_eq_ignores_case_and_spaces),
    cmocka_unit_test(test_add_include_makes_it_the_last_line),
    cmocka_unit_test(test_add_include_is_idempotent),
    cmocka_unit_test(test_add_include_moves_it_to_the_end),
    cmocka_unit_test(test_strip_include_keeps_other_includes),
    cmocka_unit_test(test_strip_undoes_add),
    cmocka_unit_test(test_comment_section_stops_at_next_section),
    cmocka_unit_test(test_comment_section_spares_our_include),
    cmocka_unit_test(test_comment_section_refuses_a_non_section_line),
    cmocka_unit_test(test_scan_finds_every_definition_case_insensitively),
    cmocka_unit_test(test_scan_joins_continuation_lines),
    cmocka_unit_test(test_scan_joins_only_what_smbd_joins),
    cmocka_unit_test(test_scan_sees_registry_only_in_global),
    cmocka_unit_test(test_testparm_unknown_names_each_parameter_once),
    cmocka_unit_test(test_testparm_errors_drop_the_chatter),
    cmocka_unit_test_setup_teardown(test_file_read_takes_only_bounded_regular_text, tmp_setup,
                                    tmp_teardown),
    cmocka_unit_test_setup_teardown(test_export_refuses_an_smb_conf_that_is_not_text, tmp_setup,
                                    tmp_teardown),
    cmocka_unit_test_setup_teardown(test_export_refuses_an_include_it_cannot_read_to_the_end,
                                    tmp_setup, tmp_teardown),
    cmocka_unit_test_setup_teardown(test_export_is_time_bounded, tmp_setup, tmp_teardown),
    cmocka_unit_test(test_generated_text_never_continues_a_line),
    cmocka_unit_test(test_export_summary_takes_the_error_else_a_warning_else_smbd_down),
};

UNIT_GROUP(tests, NULL, NULL)
