/* test_config.c -- unit tests of config/: every key, every error, strings and files.
 *
 * Each case is written as config text and checked on the parsed struct or on
 * the exact "file:line: message" lines. Cases that differ only in data are rows
 * of a table {name, config text, expected} (struct cfg_case, run by run_cases);
 * the rest are functions. The sample files under tests/data are loaded both with
 * cfg_load_file and, read by hand, with cfg_load_string.
 * Single-threaded; uses setenv/unsetenv and temporary files under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

#define T_NAME  "t.conf"
#define DATA(f) PXE_TEST_DATA_DIR "/" f

static char errbuf[16384];

/* ---- helpers ----------------------------------------------------------- */

static struct pxe_config *load_ok(const char *text)
{
	struct pxe_config *cfg = NULL;
	int rc = cfg_load_string(text, T_NAME, &cfg, errbuf, sizeof(errbuf));

	if (rc != 0) {
		print_message("unexpected errors:\n%s\n", errbuf);
	}
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	assert_string_equal(errbuf, "");
	return cfg;
}

/* load_fails -- TEXT must be rejected; its errors are left in errbuf. */
static void load_fails(const char *text)
{
	struct pxe_config *cfg = NULL;
	int rc = cfg_load_string(text, T_NAME, &cfg, errbuf, sizeof(errbuf));

	if (rc != -1) {
		print_message("unexpectedly accepted:\n%s\n", text);
	}
	assert_int_equal(rc, -1);
	assert_null(cfg);
	assert_true(errbuf[0] != '\0');
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	if (*s == '\0') {
		return 0;
	}
	for (n = 1; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

/* has_line -- ERRORS holds LINE as one whole line. */
static bool has_line(const char *errors, const char *line)
{
	size_t len = strlen(line);
	const char *at = errors;

	while ((at = strstr(at, line)) != NULL) {
		if ((at == errors || at[-1] == '\n') && (at[len] == '\0' || at[len] == '\n')) {
			return true;
		}
		at++;
	}
	return false;
}

static void assert_has_line(const char *errors, const char *line)
{
	if (!has_line(errors, line)) {
		print_message("missing line:\n  %s\nin:\n%s\n", line, errors);
	}
	assert_true(has_line(errors, line));
}

/* expect_error -- TEXT fails with exactly one error, LINE. */
static void expect_error(const char *text, const char *line)
{
	load_fails(text);
	if (strcmp(errbuf, line) != 0) {
		print_message("text:\n%s\n", text);
	}
	assert_string_equal(errbuf, line);
}

/* assert_errors_equal -- errbuf holds exactly the N given lines, in order. */
static void assert_errors_equal(const char *const *lines, size_t n)
{
	char want[8192] = "";
	size_t i = 0;

	for (i = 0; i < n; i++) {
		strcat(want, lines[i]);
		strcat(want, i + 1 < n ? "\n" : "");
	}
	assert_string_equal(errbuf, want);
}

/* section_text -- "[SECTION]\nKEY = VALUE\n": the value sits on line 2. */
static const char *section_text(const char *section, const char *key, const char *value)
{
	static char text[4096];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	return text;
}

/* drive_text -- [drive:C] with KEY = VALUE on line 2 and an identity on line 3. */
static const char *drive_text(const char *key, const char *value)
{
	static char text[4096];

	snprintf(text, sizeof(text), "[drive:C]\n%s = %s\n%s", key, value,
	         strcmp(key, "path") == 0 ? "label = X\n" : "path = /mnt/c\n");
	return text;
}

static char *read_all(const char *file)
{
	FILE *f = fopen(file, "rb");
	char *buf = calloc(1, 65536);
	size_t n = 0;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	assert_true(n < 65535);
	fclose(f);
	return buf;
}

/* load_file_both -- FILE through cfg_load_file and, read by hand, through
 * cfg_load_string under the same name: both must agree. Returns the rc. */
static int load_file_both(const char *file, struct pxe_config **out)
{
	char other[sizeof(errbuf)];
	struct pxe_config *cfg = NULL;
	char *text = read_all(file);
	int rc_str = cfg_load_string(text, file, &cfg, other, sizeof(other));
	int rc = cfg_load_file(file, out, errbuf, sizeof(errbuf));

	assert_int_equal(rc, rc_str);
	assert_string_equal(errbuf, other);
	assert_true(rc == 0 ? cfg != NULL && *out != NULL : cfg == NULL && *out == NULL);
	cfg_free(cfg);
	free(text);
	return rc;
}

/* expect_file_errors -- FILE is rejected, both ways, with exactly the N given lines. */
static void expect_file_errors(const char *file, const char *const *lines, size_t n)
{
	struct pxe_config *cfg = NULL;

	assert_int_equal(load_file_both(file, &cfg), -1);
	assert_null(cfg);
	assert_errors_equal(lines, n);
}

static char *write_temp(const char *data, size_t len)
{
	char *path = NULL;
	const char *dir = getenv("TMPDIR");
	int fd = -1;

	assert_true(asprintf(&path, "%s/test_config.XXXXXX", dir && *dir ? dir : "/tmp") > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* one_error_at -- ERRORS is one error, on LINE of t.conf, that contains PART. */
static bool one_error_at(const char *errors, int line, const char *part)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), T_NAME ":%d: ", line);
	return strncmp(errors, prefix, strlen(prefix)) == 0 && strstr(errors, part) != NULL &&
	       strchr(errors, '\n') == NULL;
}

/* ---- tables: config text -> what loading it gives ---------------------- */

/* What a row expects of its text, loaded as t.conf:
 *   OK              accepted
 *   IS(KEY, VALUE)  accepted, and value_of(KEY) is VALUE
 *   ERR(LINES)      rejected with exactly LINES (every error, '\n' between them)
 *   ERR_AT(N, PART) rejected with one error, on line N, that contains PART */
enum want_kind { WANT_OK, WANT_ERRORS, WANT_ERROR_AT };
struct want {
	enum want_kind kind;
	int line;
	const char *key;
	const char *text;
};
struct cfg_case {
	const char *name; /* said when the row fails */
	const char *text;
	struct want want;
};
// clang-format off
#define OK               {WANT_OK, 0, NULL, NULL}
#define IS(key, value)   {WANT_OK, 0, (key), (value)}
#define ERR(lines)       {WANT_ERRORS, 0, NULL, (lines)}
#define ERR_AT(n, part)  {WANT_ERROR_AT, (n), NULL, (part)}
#define N_ROWS(table)    (sizeof(table) / sizeof((table)[0]))
// clang-format on

static const char *const log_levels[] = {"error", "warning", "info", "debug"};

/* value_of -- the parsed value of KEY as text, in BUF ("drive X" is the first drive's X). */
static const char *value_of(const struct pxe_config *cfg, const char *key, char *buf, size_t len)
{
	const struct cfg_drive *d = cfg->n_drives ? &cfg->drives[0] : NULL;

	if (strcmp(key, "images path") == 0) {
		return cfg->images_path;
	} else if (strcmp(key, "mode") == 0) {
		return cfg_mode_name(cfg->mode);
	} else if (strcmp(key, "fuse transport") == 0) {
		return cfg_transport_name(cfg->transport);
	} else if (strcmp(key, "log level") == 0) {
		return cfg->log_level <= LOG_LEVEL_DEBUG ? log_levels[cfg->log_level] : "?";
	} else if (strcmp(key, "mount timeout") == 0) {
		snprintf(buf, len, "%u ms", cfg->mount_timeout_ms);
	} else if (strcmp(key, "rescan interval") == 0) {
		snprintf(buf, len, "%u ms", cfg->rescan_interval_ms);
	} else if (strcmp(key, "samba") == 0) {
		return cfg_samba_name(cfg->share.samba);
	} else if (strcmp(key, "port") == 0) {
		snprintf(buf, len, "%d", cfg->share.port);
	} else if (strcmp(key, "drive priority") == 0 && d) {
		snprintf(buf, len, "%d", d->priority);
	} else if (strcmp(key, "drive uuid") == 0 && d) {
		return d->uuid;
	} else if (strcmp(key, "drive label") == 0 && d) {
		return d->label;
	} else {
		snprintf(buf, len, "(value_of knows no '%s')", key);
	}
	return buf;
}

/* case_fails -- why ROW's text does not give what the row wants, or NULL when it does. */
static const char *case_fails(const struct cfg_case *row, char *got, size_t len)
{
	struct pxe_config *cfg = NULL;
	int rc = cfg_load_string(row->text, T_NAME, &cfg, errbuf, sizeof(errbuf));
	const char *why = NULL;
	const char *value = NULL;
	char buf[64];

	snprintf(got, len, "%s", errbuf);
	if (rc != 0 && (rc != -1 || cfg != NULL || errbuf[0] == '\0')) {
		why = "no config and no errors";
	} else if (row->want.kind == WANT_OK) {
		if (rc != 0 || errbuf[0] != '\0') {
			why = "rejected";
		} else if (row->want.key != NULL) {
			value = value_of(cfg, row->want.key, buf, sizeof(buf));
			snprintf(got, len, "%s", value ? value : "(null)");
			why = value && strcmp(value, row->want.text) == 0 ? NULL : "another value";
		}
	} else if (rc == 0) {
		why = "accepted";
	} else if (row->want.kind == WANT_ERRORS) {
		why = strcmp(errbuf, row->want.text) == 0 ? NULL : "other errors";
	} else {
		why = one_error_at(errbuf, row->want.line, row->want.text) ? NULL : "another error";
	}
	cfg_free(cfg);
	return why;
}

/* run_cases -- every row of TABLE; says each failing row, then fails if any did. */
static void run_cases(const struct cfg_case *table, size_t n)
{
	char got[sizeof(errbuf)];
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		const struct cfg_case *row = &table[i];
		const char *why = case_fails(row, got, sizeof(got));

		if (why != NULL) {
			failed++;
			print_message("row '%s': %s\n  text: %s\n  want: ", row->name, why,
			              row->text);
			if (row->want.kind == WANT_ERROR_AT) {
				print_message("one error on line %d with: ", row->want.line);
			} else if (row->want.key != NULL) {
				print_message("%s = ", row->want.key);
			}
			print_message("%s\n  got:  %s\n",
			              row->want.text ? row->want.text : "accepted", got);
		}
	}
	assert_int_equal(failed, 0);
}

/* CASES_TEST(NAME, TABLE) -- the cmocka test NAME: every row of TABLE. */
#define CASES_TEST(name, table)                                                                    \
	static void name(void **state)                                                             \
	{                                                                                          \
		(void)state;                                                                       \
		run_cases(table, N_ROWS(table));                                                   \
	}

/* ---- defaults and good values ------------------------------------------ */

static void assert_all_defaults(const struct pxe_config *cfg)
{
	assert_string_equal(cfg->mountpoint, "/srv/pxeimages");
	assert_string_equal(cfg->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(cfg->mode, CFG_MODE_UNION);
	assert_string_equal(cfg->state_dir, "/var/lib/pxeimagesfs");
	assert_string_equal(cfg->run_dir, "/run/pxeimagesfs");
	assert_int_equal(cfg->mount_timeout_ms, 30000);
	assert_int_equal(cfg->rescan_interval_ms, 30000);
	assert_false(cfg->require_drives);
	assert_false(cfg->discover);
	assert_false(cfg->discover_set);
	assert_false(cfg->discover_network);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg->n_drives, 0);
	assert_null(cfg->drives);
	assert_string_equal(cfg->share.name, "SMSPXEIMAGES$");
	assert_int_equal(cfg->share.samba, CFG_SAMBA_SYSTEM);
	assert_int_equal(cfg->share.port, 445);
	assert_null(cfg->share.interfaces);
	assert_null(cfg->share.valid_users);
	assert_null(cfg->share.write_list);
	assert_false(cfg->share.read_only);
	assert_false(cfg->share.guest_ok);
	assert_string_equal(cfg->share.include_file, "/etc/samba/pxeimagesfs.conf");
	assert_string_equal(cfg->share.smb_conf, "/etc/samba/smb.conf");
	assert_int_equal(cfg->share.n_params, 0);
}

static void test_cfg_empty_text_gives_every_default(void **state)
{
	struct pxe_config *cfg = load_ok("");

	(void)state;
	assert_string_equal(cfg->file, T_NAME);
	assert_all_defaults(cfg);
	cfg_free(cfg);
}

static void test_cfg_empty_sections_give_every_default(void **state)
{
	struct pxe_config *cfg = load_ok("[global]\n[share]\n");

	(void)state;
	assert_all_defaults(cfg);
	cfg_free(cfg);
}

static void test_cfg_null_name_is_string(void **state)
{
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(
	    cfg_load_string("[global]\nmode = x\n", NULL, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_string_equal(errbuf,
	                    "<string>:2: bad value 'x' for 'mode': expected union or single");
	assert_int_equal(cfg_load_string("", NULL, &cfg, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(cfg->file, "<string>");
	cfg_free(cfg);
}

static void test_cfg_accepts_every_global_key(void **state)
{
	struct pxe_config *cfg = load_ok("[global]\n"
	                                 "mountpoint = /srv/pxe/\n"
	                                 "images path = Boot\\Images\n"
	                                 "mode = single\n"
	                                 "state directory = /var/lib/x//\n"
	                                 "run directory = /run/x\n"
	                                 "mount timeout = 1h\n"
	                                 "rescan interval = 24h\n"
	                                 "require drives = yes\n"
	                                 "discover = yes\n"
	                                 "discover network = on\n"
	                                 "log level = warning\n");

	(void)state;
	assert_string_equal(cfg->mountpoint, "/srv/pxe");
	assert_string_equal(cfg->images_path, "Boot/Images");
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	assert_string_equal(cfg->state_dir, "/var/lib/x");
	assert_string_equal(cfg->run_dir, "/run/x");
	assert_int_equal(cfg->mount_timeout_ms, 3600000);
	assert_int_equal(cfg->rescan_interval_ms, 86400000);
	assert_true(cfg->require_drives);
	assert_true(cfg->discover);
	assert_true(cfg->discover_set);
	assert_true(cfg->discover_network);
	assert_int_equal(cfg->log_level, LOG_LEVEL_WARNING);
	cfg_free(cfg);
}

/* Discovery only when asked for: the hint says what a file without any drive lacks, with the
 * migration note only when "discover" is not written at all. */
static void test_cfg_no_drive_hint_only_without_drives_or_discover(void **state)
{
	static const struct {
		const char *text;
		bool discover;
		bool discover_set;
		const char *hint; /* NULL: no hint; "" : exactly CFG_NO_DRIVE_HINT; else a part */
	} cases[] = {
	    {"", false, false, "(a file without [drive:*] no longer discovers drives by itself)"},
	    {"[global]\ndiscover network = yes\n", false, false, "no longer discovers"},
	    {"[global]\ndiscover = no\n", false, true, ""},
	    {"[global]\nDiscover = Off\n", false, true, ""},
	    {"[global]\ndiscover = yes\n", true, true, NULL},
	    {"[global]\ndiscover = 1\n[drive:C]\npath = /mnt/c\n", true, true, NULL},
	    {"[drive:C]\nlabel = PXE\n", false, false, NULL},
	    {"[global]\ndiscover = no\n[drive:C]\nuuid = 1234-abcd\n", false, true, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pxe_config *cfg = load_ok(cases[i].text);
		const char *hint = cfg_no_drive_hint(cfg);
		assert_int_equal(cfg->discover, cases[i].discover);
		assert_int_equal(cfg->discover_set, cases[i].discover_set);
		if (!cases[i].hint) {
			assert_null(hint);
		} else if (!cases[i].hint[0]) {
			assert_string_equal(hint, CFG_NO_DRIVE_HINT);
		} else {
			assert_non_null(hint);
			assert_memory_equal(hint, CFG_NO_DRIVE_HINT, strlen(CFG_NO_DRIVE_HINT));
			assert_non_null(strstr(hint, cases[i].hint));
		}
		cfg_free(cfg);
	}
	expect_error("[global]\ndiscover = yes\ndiscover = no\n",
	             "t.conf:3: duplicate key 'discover' (first set at line 2)");
}

static void test_cfg_accepts_every_drive_key(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:C]\n"
	                                 "path = /mnt/c/\n"
	                                 "uuid = 0123abcd-EF45-6789\n"
	                                 "label = PXE IMAGES\n"
	                                 "priority = -1000\n"
	                                 "read only = true\n"
	                                 "[drive:usb-2.stick_9]\n"
	                                 "uuid = 1234-ABCD\n");
	const struct cfg_drive *d = NULL;

	(void)state;
	assert_int_equal(cfg->n_drives, 2);
	d = &cfg->drives[0];
	assert_string_equal(d->name, "C");
	assert_string_equal(d->path, "/mnt/c");
	assert_string_equal(d->uuid, "0123abcd-EF45-6789");
	assert_string_equal(d->label, "PXE IMAGES");
	assert_int_equal(d->priority, -1000);
	assert_true(d->read_only);
	assert_int_equal(d->line, 1);
	d = &cfg->drives[1];
	assert_string_equal(d->name, "usb-2.stick_9");
	assert_null(d->path);
	assert_string_equal(d->uuid, "1234-ABCD");
	assert_null(d->label);
	assert_int_equal(d->priority, 0);
	assert_false(d->read_only);
	assert_int_equal(d->line, 7);
	cfg_free(cfg);
}

static void test_cfg_accepts_every_share_key(void **state)
{
	struct pxe_config *cfg = load_ok("[share]\n"
	                                 "name = PXE$\n"
	                                 "samba = private\n"
	                                 "port = 65535\n"
	                                 "interfaces = lo eth0\n"
	                                 "valid users = alice, @pxe\n"
	                                 "write list = @pxe-writers\n"
	                                 "read only = yes\n"
	                                 "guest ok = 1\n"
	                                 "include file = /etc/samba/x.conf\n"
	                                 "smb.conf = /etc/samba/y.conf\n");

	(void)state;
	assert_string_equal(cfg->share.name, "PXE$");
	assert_int_equal(cfg->share.samba, CFG_SAMBA_PRIVATE);
	assert_int_equal(cfg->share.port, 65535);
	assert_string_equal(cfg->share.interfaces, "lo eth0");
	assert_string_equal(cfg->share.valid_users, "alice, @pxe");
	assert_string_equal(cfg->share.write_list, "@pxe-writers");
	assert_true(cfg->share.read_only);
	assert_true(cfg->share.guest_ok);
	assert_string_equal(cfg->share.include_file, "/etc/samba/x.conf");
	assert_string_equal(cfg->share.smb_conf, "/etc/samba/y.conf");
	cfg_free(cfg);
}

static const struct cfg_case enum_words[] = {
    {"log level ERROR", "[global]\nlog level = ERROR\n", IS("log level", "error")},
    {"log level Warning", "[global]\nlog level = Warning\n", IS("log level", "warning")},
    {"log level info", "[global]\nlog level = info\n", IS("log level", "info")},
    {"log level debug", "[global]\nlog level = debug\n", IS("log level", "debug")},
    {"samba system", "[share]\nsamba = system\n", IS("samba", "system")},
    {"samba PRIVATE", "[share]\nsamba = PRIVATE\n", IS("samba", "private")},
    {"samba None", "[share]\nsamba = None\n", IS("samba", "none")},
    {"samba CTDB", "[share]\nsamba = CTDB\n", IS("samba", "ctdb")},
    {"mode UNION", "[global]\nmode = UNION\n", IS("mode", "union")},
    {"mode Single", "[global]\nmode = Single\n", IS("mode", "single")},
    {"fuse transport default", "[global]\n", IS("fuse transport", "dev")},
    {"fuse transport dev", "[global]\nfuse transport = dev\n", IS("fuse transport", "dev")},
    {"fuse transport IO_URING", "[global]\nfuse transport = IO_URING\n",
     IS("fuse transport", "io_uring")},
};
CASES_TEST(test_cfg_accepts_every_enum_word_in_any_case, enum_words)

static void test_cfg_keeps_slash_root_path(void **state)
{
	struct pxe_config *cfg =
	    load_ok("[global]\nmountpoint = //srv///x//\n[drive:R]\npath = ///\n");

	(void)state;
	assert_string_equal(cfg->mountpoint, "/srv/x");
	assert_string_equal(cfg->drives[0].path, "/");
	cfg_free(cfg);
}

/* ---- syntax ------------------------------------------------------------ */

static void test_cfg_keys_are_case_insensitive_with_collapsed_spaces(void **state)
{
	struct pxe_config *cfg = load_ok("[GLOBAL]\n"
	                                 "  Images \t  PATH   =   Boot  \n"
	                                 "MOUNT\tTIMEOUT=5\n"
	                                 "[Share]\n"
	                                 "Guest   Ok = YES\n"
	                                 "SMB.CONF = /x\n"
	                                 "[DRIVE:c]\n"
	                                 "Read  Only = On\n"
	                                 "PATH = /mnt/c\n");

	(void)state;
	assert_string_equal(cfg->images_path, "Boot");
	assert_int_equal(cfg->mount_timeout_ms, 5000);
	assert_true(cfg->share.guest_ok);
	assert_string_equal(cfg->share.smb_conf, "/x");
	assert_string_equal(cfg->drives[0].name, "c");
	assert_true(cfg->drives[0].read_only);
	cfg_free(cfg);
}

static void test_cfg_skips_comments_and_blank_lines(void **state)
{
	struct pxe_config *cfg = load_ok("# comment\n"
	                                 "; another\n"
	                                 "\n"
	                                 "   \t \n"
	                                 "[global]\n"
	                                 "   # mode = single\n"
	                                 "\t; mode = single\n"
	                                 "#[share]\n"
	                                 "log level = debug\n");

	(void)state;
	assert_int_equal(cfg->mode, CFG_MODE_UNION);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	cfg_free(cfg);
}

static void test_cfg_has_no_inline_comments(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:D]\n"
	                                 "label = PXE;IMAGES\n"
	                                 "[share]\n"
	                                 "valid users = @pxe # and admins\n"
	                                 "write list = a;b\n");

	(void)state;
	assert_string_equal(cfg->drives[0].label, "PXE;IMAGES");
	assert_string_equal(cfg->share.valid_users, "@pxe # and admins");
	assert_string_equal(cfg->share.write_list, "a;b");
	cfg_free(cfg);
	expect_error("[global]\nmode = single # the best drive\n",
	             "t.conf:2: bad value 'single # the best drive' for 'mode': "
	             "expected union or single");
}

static void test_cfg_splits_at_first_equals_sign(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:D]\nlabel = a=b = c\n");

	(void)state;
	assert_string_equal(cfg->drives[0].label, "a=b = c");
	cfg_free(cfg);
}

static void test_cfg_accepts_crlf_and_byte_order_mark(void **state)
{
	struct pxe_config *cfg = load_ok("\xEF\xBB\xBF[global]\r\n"
	                                 "images path = RemoteInstall\\SMSImages\\SMSPKG\r\n"
	                                 "mode = single\r\n");

	(void)state;
	assert_string_equal(cfg->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	cfg_free(cfg);
	expect_error("\xEF\xBB\xBF[global]\r\nmode = x\r\n",
	             "t.conf:2: bad value 'x' for 'mode': expected union or single");
}

static void test_cfg_trailing_backslash_does_not_continue_line(void **state)
{
	struct pxe_config *cfg = load_ok("[global]\n"
	                                 "images path = RemoteInstall\\SMSImages\\SMSPKG\\\n"
	                                 "mode = single\n");

	(void)state;
	assert_string_equal(cfg->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	cfg_free(cfg);
}

static void test_cfg_repeated_global_section_continues_it(void **state)
{
	struct pxe_config *cfg = load_ok("[global]\nmode = single\n"
	                                 "[share]\nport = 1445\n"
	                                 "[global]\nlog level = error\n"
	                                 "[share]\nname = X\n");

	(void)state;
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	assert_int_equal(cfg->log_level, LOG_LEVEL_ERROR);
	assert_int_equal(cfg->share.port, 1445);
	assert_string_equal(cfg->share.name, "X");
	cfg_free(cfg);
}

static void test_cfg_keeps_drives_in_config_order(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:Z]\npath = /z\n"
	                                 "[drive:A]\npath = /a\n"
	                                 "[global]\n"
	                                 "[drive:M]\npath = /m\n");

	(void)state;
	assert_int_equal(cfg->n_drives, 3);
	assert_string_equal(cfg->drives[0].name, "Z");
	assert_string_equal(cfg->drives[1].name, "A");
	assert_string_equal(cfg->drives[2].name, "M");
	assert_int_equal(cfg->drives[2].line, 6);
	cfg_free(cfg);
}

static void test_cfg_accepts_section_names_with_spaces_inside_brackets(void **state)
{
	struct pxe_config *cfg = load_ok("[ global ]\nmode = single\n[ drive: C ]\npath = /c\n");

	(void)state;
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	assert_string_equal(cfg->drives[0].name, "C");
	cfg_free(cfg);
}

/* ---- images path ------------------------------------------------------- */

static const struct cfg_case images_paths[] = {
    {"backslashes", "[global]\nimages path = RemoteInstall\\SMSImages\\SMSPKG\n",
     IS("images path", "RemoteInstall/SMSImages/SMSPKG")},
    {"slashes", "[global]\nimages path = RemoteInstall/SMSImages/SMSPKG\n",
     IS("images path", "RemoteInstall/SMSImages/SMSPKG")},
    {"leading and trailing", "[global]\nimages path = \\RemoteInstall\\SMSImages\\SMSPKG\\\n",
     IS("images path", "RemoteInstall/SMSImages/SMSPKG")},
    {"mixed and doubled", "[global]\nimages path = /RemoteInstall\\\\SMSImages//\\SMSPKG/\n",
     IS("images path", "RemoteInstall/SMSImages/SMSPKG")},
    {"one folder", "[global]\nimages path = Images\n", IS("images path", "Images")},
    {"space and dot", "[global]\nimages path = My Images\\boot.v2\n",
     IS("images path", "My Images/boot.v2")},
    {"three dots are a name", "[global]\nimages path = a\\...\\b\n", IS("images path", "a/.../b")},
};
CASES_TEST(test_cfg_images_path_accepts_backslashes_and_slashes, images_paths)

static const struct cfg_case images_path_drive_letters[] = {
    {"C:\\", "[global]\nimages path = C:\\RemoteInstall\\SMSImages\\SMSPKG\n",
     ERR("t.conf:2: 'images path' is relative to each drive's root, so it cannot start with a "
         "drive letter: write 'RemoteInstall\\SMSImages\\SMSPKG' instead of "
         "'C:\\RemoteInstall\\SMSImages\\SMSPKG'")},
    {"d:/", "[global]\nimages path = d:/x\n",
     ERR("t.conf:2: 'images path' is relative to each drive's root, so it cannot start with a "
         "drive letter: write 'x' instead of 'd:/x'")},
    {"nothing after C:\\", "[global]\nimages path = C:\\\n",
     ERR("t.conf:2: 'images path' is relative to each drive's root, so it cannot start with a "
         "drive letter, got 'C:\\'")},
};
CASES_TEST(test_cfg_images_path_rejects_drive_letter, images_path_drive_letters)

static const struct cfg_case images_path_dots[] = {
    {"leading ..", "[global]\nimages path = ..\\SMSPKG\n",
     ERR("t.conf:2: bad value '..\\SMSPKG' for 'images path': '.' and '..' components are not "
         "allowed")},
    {"inner ..", "[global]\nimages path = RemoteInstall\\..\\x\n",
     ERR("t.conf:2: bad value 'RemoteInstall\\..\\x' for 'images path': '.' and '..' "
         "components are not allowed")},
    {"inner .", "[global]\nimages path = a/./b\n",
     ERR("t.conf:2: bad value 'a/./b' for 'images path': '.' and '..' components are not "
         "allowed")},
    {"only .", "[global]\nimages path = .\n",
     ERR("t.conf:2: bad value '.' for 'images path': '.' and '..' components are not "
         "allowed")},
    {"trailing ..", "[global]\nimages path = a\\..\n",
     ERR("t.conf:2: bad value 'a\\..' for 'images path': '.' and '..' components are not "
         "allowed")},
};
CASES_TEST(test_cfg_images_path_rejects_dot_components, images_path_dots)

static const struct cfg_case images_path_empty_or_reserved[] = {
    {"only separators", "[global]\nimages path = \\\\\n",
     ERR("t.conf:2: bad value '\\\\' for 'images path': expected a folder such as "
         "RemoteInstall\\SMSImages\\SMSPKG")},
    {"empty", "[global]\nimages path = \n",
     ERR("t.conf:2: missing value for 'images path': expected a folder relative to each "
         "drive's root, such as RemoteInstall\\SMSImages\\SMSPKG")},
    {"*", "[global]\nimages path = Images\\a*b\n",
     ERR("t.conf:2: bad value 'Images\\a*b' for 'images path': it contains a character not "
         "allowed in Windows names (: * ? \" < > | or a control character)")},
    {":", "[global]\nimages path = x\\y:z\n", ERR_AT(2, "not allowed in Windows names")},
    {"|", "[global]\nimages path = x|y\n", ERR_AT(2, "not allowed in Windows names")},
};
CASES_TEST(test_cfg_images_path_rejects_empty_and_windows_reserved_chars,
           images_path_empty_or_reserved)

/* ---- boot tree --------------------------------------------------------- */

static void test_cfg_boot_tree_defaults_to_no_and_takes_yes(void **state)
{
	struct pxe_config *cfg = load_ok("[global]\nmountpoint = /srv/x\n");

	(void)state;
	assert_false(cfg->boot_tree);
	cfg_free(cfg);
	cfg = load_ok("[global]\nBoot Tree = yes\nimages path = ri\\img\n");
	assert_true(cfg->boot_tree);
	assert_string_equal(cfg->images_path, "ri/img");
	cfg_free(cfg);
}

static void test_cfg_boot_tree_needs_an_images_path_of_two_folders(void **state)
{
	(void)state;
	expect_error(
	    "[global]\nimages path = PXE\n# the line of the key is named\nboot tree = yes\n",
	    "t.conf:4: 'boot tree = yes' serves the images path's first folder with all it "
	    "holds, but 'images path' PXE is one folder only: use a path such as "
	    "RemoteInstall\\SMSImages\\SMSPKG, or leave 'boot tree' out");
	cfg_free(load_ok("[global]\nimages path = PXE\nboot tree = no\n"));
}

/* ---- inode numbers (issue 19) --------------------------------------------- */

static void test_cfg_inode_numbers_default_path_take_drive_reject_others(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:S]\npath = /mnt/s\nInode Numbers = DRIVE\n"
	                                 "[drive:L]\npath = /mnt/l\n"
	                                 "[drive:M]\npath = /mnt/m\ninode numbers = path\n");

	(void)state;
	assert_int_equal(cfg->drives[0].inode_numbers, CFG_INO_DRIVE);
	assert_int_equal(cfg->drives[1].inode_numbers, CFG_INO_PATH); /* the default */
	assert_int_equal(cfg->drives[2].inode_numbers, CFG_INO_PATH);
	assert_string_equal(cfg_inode_numbers_name(CFG_INO_DRIVE), "drive");
	assert_false(cfg_drive_ids_differ(cfg, &cfg->drives[1])); /* samba = system */
	cfg_free(cfg);
	expect_error("[drive:S]\npath = /mnt/s\ninode numbers = inode\n",
	             "t.conf:3: bad value 'inode' for 'inode numbers': expected path or drive");
	expect_error("[global]\ninode numbers = drive\n",
	             "t.conf:2: unknown key 'inode numbers' in [global]; 'inode numbers' belongs "
	             "in [drive:NAME]");
}

static void test_cfg_ctdb_drive_without_drive_numbers_is_told(void **state)
{
	struct pxe_config *cfg = load_ok("[drive:S]\npath = /mnt/s\ninode numbers = drive\n"
	                                 "[drive:L]\npath = /mnt/l\n[share]\nsamba = ctdb\n");

	(void)state;
	assert_false(cfg_drive_ids_differ(cfg, &cfg->drives[0]));
	assert_true(cfg_drive_ids_differ(cfg, &cfg->drives[1]));
	cfg_free(cfg);
}

/* ---- absolute paths ---------------------------------------------------- */

static void test_cfg_rejects_relative_paths_for_every_path_key(void **state)
{
	static const char *const keys[][2] = {
	    {"global", "mountpoint"},  {"global", "state directory"}, {"global", "run directory"},
	    {"share", "include file"}, {"share", "smb.conf"},
	};
	char want[256];
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want),
		         "t.conf:2: bad value 'relative/dir' for '%s': expected an absolute path "
		         "(starting with /)",
		         keys[i][1]);
		expect_error(section_text(keys[i][0], keys[i][1], "relative/dir"), want);
	}
	expect_error(drive_text("path", "mnt/c"),
	             "t.conf:2: bad value 'mnt/c' for 'path': expected an absolute path "
	             "(starting with /)");
	expect_error(drive_text("path", "~/c"), "t.conf:2: bad value '~/c' for 'path': expected an "
	                                        "absolute path (starting with /)");
}

/* ---- booleans ---------------------------------------------------------- */

static void test_cfg_parse_bool_accepts_samba_spellings(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "True", "1", "on", "ON"};
	static const char *const no[] = {"no", "No", "false", "FALSE", "0", "off", "Off"};
	static const char *const bad[] = {"", "y", "n", "2", "maybe", "yes ", "-1", "enabled"};
	bool b = false;
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(cfg_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(cfg_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		assert_int_equal(cfg_parse_bool(bad[i], &b), -1);
		assert_true(b);
	}
	assert_int_equal(cfg_parse_bool(NULL, &b), -1);
	assert_int_equal(cfg_parse_bool("yes", NULL), -1);
}

static void test_cfg_rejects_bad_bool_for_every_bool_key(void **state)
{
	static const char *const keys[][2] = {
	    {"global", "require drives"},
	    {"global", "discover"},
	    {"global", "discover network"},
	    {"global", "boot tree"},
	    {"share", "read only"},
	    {"share", "guest ok"},
	};
	char want[256];
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want),
		         "t.conf:2: bad value 'maybe' for '%s': expected yes or no", keys[i][1]);
		expect_error(section_text(keys[i][0], keys[i][1], "maybe"), want);
	}
	expect_error(drive_text("read only", "maybe"),
	             "t.conf:2: bad value 'maybe' for 'read only': expected yes or no");
}

/* ---- durations --------------------------------------------------------- */

static void test_cfg_parse_duration_ms_understands_units(void **state)
{
	static const struct {
		const char *text;
		unsigned ms;
	} good[] = {
	    {"0", 0},
	    {"30", 30000},
	    {"30s", 30000},
	    {"30S", 30000},
	    {"500ms", 500},
	    {"500 ms", 500},
	    {"2m", 120000},
	    {"1h", 3600000},
	    {"1 H", 3600000},
	    {"007", 7000},
	    {"4294967295ms", UINT32_MAX},
	};
	static const char *const bad[] = {"",
	                                  "s",
	                                  "-1",
	                                  "+1",
	                                  "1.5s",
	                                  "1d",
	                                  "10 minutes",
	                                  " 1s",
	                                  "1s ",
	                                  "1 s s",
	                                  "0x10",
	                                  "4294967296ms",
	                                  "99999999999999999999",
	                                  "1194h"};
	unsigned ms = 0;
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 1;
		assert_int_equal(cfg_parse_duration_ms(good[i].text, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 1;
		if (cfg_parse_duration_ms(bad[i], &ms) != -1) {
			print_message("accepted '%s'\n", bad[i]);
		}
		assert_int_equal(cfg_parse_duration_ms(bad[i], &ms), -1);
		assert_int_equal(ms, 1);
	}
	assert_int_equal(cfg_parse_duration_ms(NULL, &ms), -1);
	assert_int_equal(cfg_parse_duration_ms("1s", NULL), -1);
}

static const struct cfg_case mount_timeouts[] = {
    {"0", "[global]\nmount timeout = 0\n", IS("mount timeout", "0 ms")},
    {"60m", "[global]\nmount timeout = 60m\n", IS("mount timeout", "3600000 ms")},
    {"1500ms", "[global]\nmount timeout = 1500ms\n", IS("mount timeout", "1500 ms")},
    {"2h", "[global]\nmount timeout = 2h\n",
     ERR("t.conf:2: 'mount timeout' must be between 0s and 1h, got '2h'")},
    {"3601 seconds", "[global]\nmount timeout = 3601\n",
     ERR("t.conf:2: 'mount timeout' must be between 0s and 1h, got '3601'")},
    {"overflow", "[global]\nmount timeout = 99999999999999999999h\n",
     ERR("t.conf:2: 'mount timeout' must be between 0s and 1h, got "
         "'99999999999999999999h'")},
    {"a word", "[global]\nmount timeout = soon\n",
     ERR("t.conf:2: bad value 'soon' for 'mount timeout': expected a duration such as 30, "
         "30s, 500ms, 2m or 1h")},
    {"negative", "[global]\nmount timeout = -5s\n",
     ERR("t.conf:2: bad value '-5s' for 'mount timeout': expected a duration such as 30, "
         "30s, 500ms, 2m or 1h")},
};
CASES_TEST(test_cfg_mount_timeout_range, mount_timeouts)

static const struct cfg_case rescan_intervals[] = {
    {"0 is off", "[global]\nrescan interval = 0\n", IS("rescan interval", "0 ms")},
    {"0ms is off", "[global]\nrescan interval = 0ms\n", IS("rescan interval", "0 ms")},
    {"1s", "[global]\nrescan interval = 1s\n", IS("rescan interval", "1000 ms")},
    {"1440m", "[global]\nrescan interval = 1440m\n", IS("rescan interval", "86400000 ms")},
    {"500ms", "[global]\nrescan interval = 500ms\n",
     ERR("t.conf:2: 'rescan interval' must be 0 (off) or between 1s and 24h, got '500ms'")},
    {"25h", "[global]\nrescan interval = 25h\n",
     ERR("t.conf:2: 'rescan interval' must be 0 (off) or between 1s and 24h, got '25h'")},
    {"off is no duration", "[global]\nrescan interval = off\n",
     ERR("t.conf:2: bad value 'off' for 'rescan interval': expected a duration such as 30, "
         "30s, 500ms, 2m or 1h")},
};
CASES_TEST(test_cfg_rescan_interval_is_off_or_one_second_to_one_day, rescan_intervals)

/* ---- integers ---------------------------------------------------------- */

#define NOT_AN_INTEGER(v)                                                                          \
	ERR("t.conf:2: bad value '" v                                                              \
	    "' for 'priority': expected an integer between -1000 and 1000")
static const struct cfg_case priorities[] = {
    {"1000", "[drive:C]\npriority = 1000\npath = /mnt/c\n", IS("drive priority", "1000")},
    {"+7", "[drive:C]\npriority = +7\npath = /mnt/c\n", IS("drive priority", "7")},
    {"-0012", "[drive:C]\npriority = -0012\npath = /mnt/c\n", IS("drive priority", "-12")},
    {"1001", "[drive:C]\npriority = 1001\npath = /mnt/c\n",
     ERR("t.conf:2: 'priority' must be between -1000 and 1000, got '1001'")},
    {"-1001", "[drive:C]\npriority = -1001\npath = /mnt/c\n",
     ERR("t.conf:2: 'priority' must be between -1000 and 1000, got '-1001'")},
    {"overflow", "[drive:C]\npriority = 99999999999999999999999\npath = /mnt/c\n",
     ERR("t.conf:2: 'priority' must be between -1000 and 1000, got "
         "'99999999999999999999999'")},
    {"a word", "[drive:C]\npriority = ten\npath = /mnt/c\n", NOT_AN_INTEGER("ten")},
    {"a suffix", "[drive:C]\npriority = 10x\npath = /mnt/c\n", NOT_AN_INTEGER("10x")},
    {"hex", "[drive:C]\npriority = 0x10\npath = /mnt/c\n", NOT_AN_INTEGER("0x10")},
    {"a fraction", "[drive:C]\npriority = 1.5\npath = /mnt/c\n", NOT_AN_INTEGER("1.5")},
    {"an exponent", "[drive:C]\npriority = 1e3\npath = /mnt/c\n", NOT_AN_INTEGER("1e3")},
    {"a spaced sign", "[drive:C]\npriority = - 5\npath = /mnt/c\n", NOT_AN_INTEGER("- 5")},
    {"two signs", "[drive:C]\npriority = --5\npath = /mnt/c\n", NOT_AN_INTEGER("--5")},
    {"only a sign", "[drive:C]\npriority = +\npath = /mnt/c\n", NOT_AN_INTEGER("+")},
};
CASES_TEST(test_cfg_priority_is_an_integer_from_minus_1000_to_1000, priorities)

static const struct cfg_case ports[] = {
    {"1", "[share]\nport = 1\n", IS("port", "1")},
    {"0", "[share]\nport = 0\n", ERR("t.conf:2: 'port' must be between 1 and 65535, got '0'")},
    {"65536", "[share]\nport = 65536\n",
     ERR("t.conf:2: 'port' must be between 1 and 65535, got '65536'")},
    {"a suffix", "[share]\nport = 445/tcp\n",
     ERR("t.conf:2: bad value '445/tcp' for 'port': expected an integer between 1 and 65535")},
};
CASES_TEST(test_cfg_port_is_an_integer_from_1_to_65535, ports)

/* ---- identity strings -------------------------------------------------- */

static void test_cfg_uuid_is_hex_and_dashes_up_to_64(void **state)
{
	char uuid[80];
	char want[256];
	struct pxe_config *cfg = NULL;

	(void)state;
	memset(uuid, 'a', 64);
	uuid[64] = '\0';
	cfg = load_ok(drive_text("uuid", uuid));
	assert_string_equal(cfg->drives[0].uuid, uuid);
	cfg_free(cfg);
	cfg = load_ok(drive_text("uuid", "F"));
	assert_string_equal(cfg->drives[0].uuid, "F");
	cfg_free(cfg);
	expect_error(drive_text("uuid", "not-a-uuid"),
	             "t.conf:2: bad value 'not-a-uuid' for 'uuid': expected a filesystem UUID: hex "
	             "digits, single '-' between them, at most 64 characters");
	expect_error(drive_text("uuid", "0123 4567"),
	             "t.conf:2: bad value '0123 4567' for 'uuid': expected a filesystem UUID: hex "
	             "digits, single '-' between them, at most 64 characters");
	strcat(uuid, "b");
	snprintf(
	    want, sizeof(want),
	    "t.conf:2: bad value '%.60s...' for 'uuid': expected a filesystem UUID: hex digits, "
	    "single '-' between them, at most 64 characters",
	    uuid);
	expect_error(drive_text("uuid", uuid), want);
}

static void test_cfg_label_is_anything_up_to_255(void **state)
{
	char label[300];
	struct pxe_config *cfg = NULL;

	(void)state;
	memset(label, 'L', 255);
	label[255] = '\0';
	cfg = load_ok(drive_text("label", label));
	assert_string_equal(cfg->drives[0].label, label);
	cfg_free(cfg);
	cfg = load_ok(drive_text("label", "Ünïcödé [x] #1; = ok"));
	assert_string_equal(cfg->drives[0].label, "Ünïcödé [x] #1; = ok");
	cfg_free(cfg);
	strcat(label, "L");
	expect_error(drive_text("label", label),
	             "t.conf:2: 'label' must be at most 255 characters long, got 256");
}

static void test_cfg_share_name_follows_windows_rules(void **state)
{
	static const char bad_chars[] = "\\/[]:|<>+=;,*?\"";
	char name[100];
	char want[256];
	struct pxe_config *cfg = NULL;
	size_t i = 0;

	(void)state;
	memset(name, 'N', 80);
	name[80] = '\0';
	cfg = load_ok(section_text("share", "name", name));
	assert_string_equal(cfg->share.name, name);
	cfg_free(cfg);
	strcat(name, "N");
	expect_error(section_text("share", "name", name),
	             "t.conf:2: 'name' must be at most 80 characters long, got 81");
	for (i = 0; bad_chars[i] != '\0'; i++) {
		snprintf(name, sizeof(name), "PXE%cX", bad_chars[i]);
		snprintf(want, sizeof(want),
		         "t.conf:2: bad value '%s' for 'name': '%c' is not allowed in a share name",
		         name, bad_chars[i]);
		expect_error(section_text("share", "name", name), want);
	}
	expect_error(
	    section_text("share", "name", "PXE\x01X"),
	    "t.conf:2: bad value 'PXE?X' for 'name': a control character is not allowed in "
	    "a share name");
}

static const struct cfg_case bad_enum_words[] = {
    {"mode", "[global]\nmode = both\n",
     ERR("t.conf:2: bad value 'both' for 'mode': expected union or single")},
    {"log level", "[global]\nlog level = verbose\n",
     ERR("t.conf:2: bad value 'verbose' for 'log level': expected error, warning, info or "
         "debug")},
    {"samba", "[share]\nsamba = smbd\n",
     ERR("t.conf:2: bad value 'smbd' for 'samba': expected system, private, none or ctdb")},
    {"fuse transport", "[global]\nfuse transport = uring\n",
     ERR("t.conf:2: bad value 'uring' for 'fuse transport': expected dev or io_uring")},
};
CASES_TEST(test_cfg_rejects_bad_enum_words, bad_enum_words)

static void test_cfg_optional_strings_may_be_empty(void **state)
{
	struct pxe_config *cfg = load_ok("[share]\ninterfaces =\nvalid users = \nwrite list =\t\n");

	(void)state;
	assert_null(cfg->share.interfaces);
	assert_null(cfg->share.valid_users);
	assert_null(cfg->share.write_list);
	cfg_free(cfg);
	load_fails("[share]\nwrite list =\nwrite list = @x\n");
	assert_string_equal(errbuf, "t.conf:3: duplicate key 'write list' (first set at line 2)");
}

static void test_cfg_rejects_empty_value_for_every_other_key(void **state)
{
	static const char *const keys[][2] = {
	    {"global", "mountpoint"},
	    {"global", "images path"},
	    {"global", "mode"},
	    {"global", "state directory"},
	    {"global", "run directory"},
	    {"global", "mount timeout"},
	    {"global", "rescan interval"},
	    {"global", "require drives"},
	    {"global", "discover"},
	    {"global", "discover network"},
	    {"global", "log level"},
	    {"global", "fuse transport"},
	    {"share", "name"},
	    {"share", "samba"},
	    {"share", "port"},
	    {"share", "read only"},
	    {"share", "guest ok"},
	    {"share", "include file"},
	    {"share", "smb.conf"},
	};
	static const char *const drive_keys[] = {"path",     "uuid",      "label",
	                                         "priority", "read only", "inode numbers"};
	char prefix[128];
	size_t i = 0;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		load_fails(section_text(keys[i][0], keys[i][1], ""));
		snprintf(prefix, sizeof(prefix), "t.conf:2: missing value for '%s': expected ",
		         keys[i][1]);
		assert_int_equal(count_lines(errbuf), 1);
		assert_memory_equal(errbuf, prefix, strlen(prefix));
	}
	for (i = 0; i < sizeof(drive_keys) / sizeof(drive_keys[0]); i++) {
		load_fails(drive_text(drive_keys[i], ""));
		snprintf(prefix, sizeof(prefix), "t.conf:2: missing value for '%s': expected ",
		         drive_keys[i]);
		assert_int_equal(count_lines(errbuf), 1);
		assert_memory_equal(errbuf, prefix, strlen(prefix));
	}
	expect_error(section_text("global", "mode", ""),
	             "t.conf:2: missing value for 'mode': expected union or single");
}

/* ---- values written into smb.conf (issue 14) ------------------------------ */

/* expect_error_has -- TEXT fails with exactly one error, at LINE, containing WHAT. */
static void expect_error_has(const char *text, int line, const char *what)
{
	load_fails(text);
	if (!one_error_at(errbuf, line, what)) {
		print_message("text:\n%s\nwant one error at line %d with '%s', got:\n%s\n", text,
		              line, what, errbuf);
		fail();
	}
}

/* Every key whose value is written into an smb.conf, with a good value. */
// clang-format off
static const char *const smb_keys[][3] = {
    {"global", "mountpoint", "/srv/pxe"},
    {"global", "state directory", "/var/lib/pxe"},
    {"share", "interfaces", "127.0.0.1"},
    {"share", "valid users", "alice @pxe"},
    {"share", "write list", "@pxe-writers"},
    {"share", "include file", "/etc/samba/pxe.conf"},
    {"share", "samba:comment", "images"},
    {"share", "samba:hide dot files", "true"},
};
// clang-format on

static void test_cfg_rejects_smb_line_continuation_in_every_key(void **state)
{
	char value[256];

	(void)state;
	for (size_t i = 0; i < sizeof(smb_keys) / sizeof(smb_keys[0]); i++) {
		struct pxe_config *cfg =
		    load_ok(section_text(smb_keys[i][0], smb_keys[i][1], smb_keys[i][2]));
		cfg_free(cfg);
		snprintf(value, sizeof(value), "%s \\", smb_keys[i][2]);
		expect_error_has(section_text(smb_keys[i][0], smb_keys[i][1], value), 2,
		                 "joins the next line of smb.conf");
		snprintf(value, sizeof(value), "%s\\", smb_keys[i][2]);
		expect_error_has(section_text(smb_keys[i][0], smb_keys[i][1], value), 2,
		                 "line continuation");
	}
	expect_error_has("[share]\nname = PXE\\\n", 2, "'\\' is not allowed in a share name");
}

static void test_cfg_rejects_control_characters_in_smb_values(void **state)
{
	char value[256];

	(void)state;
	for (size_t i = 0; i < sizeof(smb_keys) / sizeof(smb_keys[0]); i++) {
		snprintf(value, sizeof(value), "%.3s\r%s", smb_keys[i][2], smb_keys[i][2] + 3);
		expect_error_has(section_text(smb_keys[i][0], smb_keys[i][1], value), 2,
		                 "control character");
		snprintf(value, sizeof(value), "%.3s\x1b%s", smb_keys[i][2], smb_keys[i][2] + 3);
		expect_error_has(section_text(smb_keys[i][0], smb_keys[i][1], value), 2,
		                 "control character");
	}
	expect_error_has("[share]\nname = PX\x01E\n", 2, "a control character is not allowed");
}

static const struct cfg_case samba_keys_starting_a_section[] = {
    {"[ in the key", "[share]\nsamba:[evil] = x\n", ERR_AT(2, "'[' would start a section")},
    {"] in the key", "[share]\nsamba:evil] path = x\n", ERR_AT(2, "only letters, digits")},
    {"# in the key", "[share]\nsamba:#x = y\n", ERR_AT(2, "only letters, digits")},
    {"\\ in the key", "[share]\nsamba:a\\ = y\n", ERR_AT(2, "only letters, digits")},
    {"colons, underscores and spaces are fine",
     "[share]\nsamba:fruit:metadata = stream\nsamba:acl_xattr:ignore system acls = yes\n"
     "samba:vfs objects = catia fruit\n",
     OK},
};
CASES_TEST(test_cfg_rejects_samba_keys_that_start_a_section, samba_keys_starting_a_section)

/* samba = ctdb: every node must give a file the same id (fileid module, fsname algorithm). */
static const struct cfg_case ctdb_file_ids[] = {
    {"vfs objects without fileid",
     "[share]\nsamba = ctdb\nsamba:vfs objects = acl_xattr\n",
     ERR_AT(3, "leaves out fileid, which samba = ctdb needs")},
    {"vfs objects with fileid", "[share]\nsamba:VFS Objects = acl_xattr, FileID\nsamba = ctdb\n",
     OK},
    {"fsid differs per node", "[share]\nsamba:fileid:algorithm = fsid\nsamba = ctdb\n",
     ERR_AT(2, "use fsname or fsname_nodirs")},
    {"hostname differs per node", "[share]\nsamba = ctdb\nsamba:fileid : algorithm = hostname\n",
     ERR_AT(3, "does not give a file one id on every node")},
    {"fsname_nodirs", "[share]\nsamba = ctdb\nsamba:fileid:algorithm = fsname_nodirs\n", OK},
    {"not ctdb: anything goes", "[share]\nsamba = system\nsamba:vfs objects = acl_xattr\n"
     "samba:fileid:algorithm = fsid\n", OK},
};
CASES_TEST(test_cfg_ctdb_keeps_file_ids_equal_on_every_node, ctdb_file_ids)

static const struct cfg_case percent_macros[] = {
    {"mountpoint", "[global]\nmountpoint = /srv/%U\n", ERR_AT(2, "macro")},
    {"state directory", "[global]\nstate directory = /var/lib/%m\n", ERR_AT(2, "macro")},
    {"include file", "[share]\ninclude file = /etc/samba/%I.conf\n", ERR_AT(2, "macro")},
    {"images path", "[global]\nimages path = Remote%UInstall\n", ERR_AT(2, "macro")},
    {"and no ..", "[global]\nmountpoint = /srv/../\n", ERR_AT(2, "'..' components")},
};
CASES_TEST(test_cfg_rejects_percent_macros_in_smb_paths, percent_macros)

/* Windows drops a trailing space of a folder name, and Samba trims the end of a path value:
 * "SMSPKG\ = \" would share another folder than the view's (a fuzz_config finding). */
static const struct cfg_case images_folders_ending_in_space[] = {
    {"last folder", "[global]\nimages path = RemoteInstall\\SMSPKG\\ = /\n",
     ERR_AT(2, "ends with a space")},
    {"inner folder", "[global]\nimages path = RemoteInstall /SMSPKG\n",
     ERR_AT(2, "ends with a space")},
    {"inner spaces are fine", "[global]\nimages path = Remote Install/.SMSPKG/ x\n", OK},
};
CASES_TEST(test_cfg_rejects_images_folders_ending_in_space, images_folders_ending_in_space)

static void test_cfg_rejects_samba_params_the_share_owns(void **state)
{
	static const char *const keys[] = {"path",        "Path",      "directory", "include",
	                                   "copy",        "guest ok",  "Guest  OK", "public",
	                                   "read only",   "writeable", "writable",  "write ok",
	                                   "valid users", "write list"};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "[share]\nguest ok = no\nsamba:%s = yes\n", keys[i]);
		expect_error_has(text, 3, "is not allowed");
	}
	expect_error_has("[share]\nguest ok = no\nsamba:guest ok = yes\n", 3,
	                 "set 'guest ok' instead");
	expect_error_has("[share]\nsamba:path = /\n", 2, "replaces the share path");
}

static const struct cfg_case folders_that_cannot_work[] = {
    {"mountpoint /", "[global]\nmountpoint = /\n", ERR_AT(2, "'mountpoint' cannot be /")},
    {"mountpoint in /proc", "[global]\nmountpoint = /proc/x\n",
     ERR_AT(2, "inside /proc, a kernel filesystem")},
    {"mountpoint /sys", "[global]\nmountpoint = /sys\n", ERR_AT(2, "inside /sys")},
    {"mountpoint in /dev", "[global]\nmountpoint = /dev/pxe\n", ERR_AT(2, "inside /dev")},
    {"state directory /", "[global]\nstate directory = /\n",
     ERR_AT(2, "'state directory' cannot be /")},
    {"run directory in /proc", "[global]\nrun directory = /proc/1\n",
     ERR_AT(2, "'run directory' /proc/1 is")},
    {"mountpoint = state directory", "[global]\nmountpoint = /srv/x\nstate directory = /srv/x/\n",
     ERR_AT(3, "'mountpoint' and 'state directory' are the same folder /srv/x")},
    {"mountpoint in the state directory", "[global]\nmountpoint = /var/lib/pxeimagesfs/view\n",
     ERR_AT(2, "'mountpoint' /var/lib/pxeimagesfs/view is inside 'state directory' "
               "/var/lib/pxeimagesfs")},
    {"state directory in the mountpoint", "[global]\nstate directory = /srv/pxeimages/state\n",
     ERR_AT(2, "'state directory' /srv/pxeimages/state is inside 'mountpoint' /srv/pxeimages")},
    {"run directory in the mountpoint", "[global]\nmountpoint = /run\n",
     ERR_AT(2, "'run directory' /run/pxeimagesfs is inside 'mountpoint' /run")},
    {"a common prefix is fine",
     "[global]\nmountpoint = /srv/pxe\nstate directory = /srv/pxe-state\n", OK},
};
CASES_TEST(test_cfg_rejects_folders_that_cannot_work, folders_that_cannot_work)

static const struct cfg_case two_drives_one_identity[] = {
    {"one path", "[drive:C]\npath = /mnt/c\n[drive:D]\npath = /mnt/c/\n",
     ERR_AT(4, "drive D has the same path '/mnt/c' as drive C (line 1)")},
    {"one uuid", "[drive:C]\nuuid = 1234-ABCD\n[drive:D]\nuuid = 1234-abcd\n",
     ERR_AT(4, "drive D has the same uuid '1234-abcd' as drive C (line 1)")},
    {"two paths", "[drive:C]\npath = /mnt/c\n[drive:D]\npath = /mnt/c2\n", OK},
};
CASES_TEST(test_cfg_rejects_two_drives_with_one_path_or_uuid, two_drives_one_identity)

static const struct cfg_case samba_section_names[] = {
    {"global", "[share]\nname = global\n", ERR_AT(2, "is a section of its own to Samba")},
    {"Glo bal", "[share]\nname = Glo bal\n", ERR_AT(2, "is a section of its own to Samba")},
    {"HOMES", "[share]\nname = HOMES\n", ERR_AT(2, "is a section of its own to Samba")},
    {"printers", "[share]\nname = printers\n", ERR_AT(2, "is a section of its own to Samba")},
    {"IPC$", "[share]\nname = IPC$\n", ERR_AT(2, "is a section of its own to Samba")},
};
CASES_TEST(test_cfg_rejects_share_names_samba_keeps_for_itself, samba_section_names)

static const struct cfg_case uuids_of_dashes[] = {
    {"-", "[drive:C]\nuuid = -\npath = /mnt/c\n", ERR_AT(2, "for 'uuid'")},
    {"--", "[drive:C]\nuuid = --\npath = /mnt/c\n", ERR_AT(2, "for 'uuid'")},
    {"leading", "[drive:C]\nuuid = -ab\npath = /mnt/c\n", ERR_AT(2, "for 'uuid'")},
    {"trailing", "[drive:C]\nuuid = ab-\npath = /mnt/c\n", ERR_AT(2, "for 'uuid'")},
    {"doubled", "[drive:C]\nuuid = 12--34\npath = /mnt/c\n", ERR_AT(2, "for 'uuid'")},
};
CASES_TEST(test_cfg_rejects_uuid_of_dashes, uuids_of_dashes)

/* write_conf_in -- DIR/pxe.conf with TEXT; returns its path (static). */
static const char *write_conf_in(const char *dir, const char *text)
{
	static char path[512];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/pxe.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_cfg_file_refuses_a_fifo(void **state)
{
	char dir[] = "/tmp/pxe-cfg-fifo.XXXXXX";
	char fifo[600];
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a blocking open kills the test instead of hanging it */
	assert_int_equal(cfg_load_file(fifo, &cfg, errbuf, sizeof(errbuf)), -1);
	alarm(0);
	assert_null(cfg);
	assert_non_null(strstr(errbuf, "not a regular file"));
	assert_int_equal(cfg_load_file("/dev/zero", &cfg, errbuf, sizeof(errbuf)), -1);
	assert_non_null(strstr(errbuf, "/dev/zero: not a regular file"));
	unlink(fifo);
	rmdir(dir);
}

static void test_cfg_file_refuses_a_world_writable_run_directory(void **state)
{
	char dir[] = "/tmp/pxe-cfg-run.XXXXXX";
	char text[1024];
	char want[1200];
	char run[600];
	struct pxe_config *cfg = NULL;
	const char *conf = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	assert_int_equal(mkdir(run, 0755), 0);
	snprintf(text, sizeof(text), "[global]\nmountpoint = %s/view\nrun directory = %s\n", dir,
	         run);
	conf = write_conf_in(dir, text);
	assert_int_equal(cfg_load_file(conf, &cfg, errbuf, sizeof(errbuf)), 0);
	cfg_free(cfg);
	assert_int_equal(chmod(run, 01777), 0);
	assert_int_equal(cfg_load_file(conf, &cfg, errbuf, sizeof(errbuf)), -1);
	snprintf(want, sizeof(want), "%s:3: 'run directory' %s is writable by everyone", conf, run);
	if (strncmp(errbuf, want, strlen(want)) != 0) {
		print_message("want '%s...', got:\n%s\n", want, errbuf);
		fail();
	}
	/* not there yet, in a world-writable folder: another user could create it first */
	snprintf(text, sizeof(text), "[global]\nmountpoint = %s/view\nrun directory = %s/new\n",
	         dir, run);
	conf = write_conf_in(dir, text);
	assert_int_equal(cfg_load_file(conf, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_non_null(strstr(errbuf, "does not exist and"));
	rmdir(run);
	unlink(conf);
	rmdir(dir);
}

/* ---- samba: parameters ------------------------------------------------- */

static void test_cfg_passes_samba_params_through_verbatim(void **state)
{
	struct pxe_config *cfg = load_ok("[share]\n"
	                                 "samba:hide dot files = yes\n"
	                                 "SAMBA:  Veto Files = /*.tmp/;*.bak/  \n"
	                                 "samba:hosts deny =\n"
	                                 "samba:comment = PXE # images\n");
	const struct cfg_param *p = NULL;

	(void)state;
	assert_int_equal(cfg->share.n_params, 4);
	p = cfg->share.params;
	assert_string_equal(p[0].key, "hide dot files");
	assert_string_equal(p[0].value, "yes");
	assert_int_equal(p[0].line, 2);
	assert_string_equal(p[1].key, "Veto Files");
	assert_string_equal(p[1].value, "/*.tmp/;*.bak/");
	assert_int_equal(p[1].line, 3);
	assert_string_equal(p[2].key, "hosts deny");
	assert_string_equal(p[2].value, "");
	assert_string_equal(p[3].value, "PXE # images");
	cfg_free(cfg);
}

static const struct cfg_case bad_samba_params[] = {
    {"no name", "[share]\nsamba: = yes\n",
     ERR("t.conf:2: missing smb.conf parameter name after 'samba:'")},
    {"twice in another spelling",
     "[share]\nsamba:hide dot files = yes\nSamba:Hide  Dot\tFiles = no\n",
     ERR("t.conf:3: duplicate key 'samba:hide dot files' (first set at line 2)")},
    {"in [global]", "[global]\nsamba:hide dot files = yes\n",
     ERR("t.conf:2: unknown key 'samba:hide dot files' in [global]; 'samba:hide dot files' "
         "belongs in [share]")},
    {"in a drive", "[drive:C]\npath = /c\nsamba:x = y\n",
     ERR("t.conf:3: unknown key 'samba:x' in [drive:C]; 'samba:x' belongs in [share]")},
};
CASES_TEST(test_cfg_rejects_bad_samba_params, bad_samba_params)

/* ---- structural errors ------------------------------------------------- */

static const struct cfg_case unknown_sections[] = {
    {"a Samba section", "[printers]\npath = /x\n",
     ERR("t.conf:1: unknown section [printers]; expected [global], [share] or [drive:NAME]")},
    {"globl", "[globl]\nmode = x\n",
     ERR("t.conf:1: unknown section [globl]; did you mean [global]?")},
    {"Shares", "[Shares]\n", ERR("t.conf:1: unknown section [Shares]; did you mean [share]?")},
    {"drive C", "[drive C]\n",
     ERR("t.conf:1: unknown section [drive C]; did you mean [drive:NAME]?")},
    {"drive", "[drive]\n", ERR("t.conf:1: unknown section [drive]; did you mean [drive:NAME]?")},
    {"empty", "[]\n",
     ERR("t.conf:1: unknown section []; expected [global], [share] or [drive:NAME]")},
};
CASES_TEST(test_cfg_rejects_unknown_section, unknown_sections)

static const struct cfg_case unclosed_section_headers[] = {
    {"no ]", "[global\nmode = x\n", ERR("t.conf:1: section header without closing ']'")},
    {"a comment after ]", "[global] # main\n",
     ERR("t.conf:1: text after ']' in a section header (comments need a line of their own)")},
};
CASES_TEST(test_cfg_rejects_unclosed_section_header, unclosed_section_headers)

#define BAD_DRIVE_NAME(line, name)                                                                 \
	"t.conf:" #line ": bad drive name '" name                                                  \
	"': expected 1 to 32 letters, digits, '_', '.' or '-'"
static const struct cfg_case drive_names[] = {
    {"32 characters", "[drive:a2345678901234567890123456789012]\nuuid = 1\n", OK},
    {"a space, empty, 33 characters, a colon; a bad section's keys are ignored",
     "[drive:has space]\n[drive:]\n[drive:a23456789012345678901234567890123]\n"
     "[drive:C:]\npath = /keys/of/a/bad/section/are/ignored\nnonsense = 1\n",
     ERR(BAD_DRIVE_NAME(1, "has space") "\n" BAD_DRIVE_NAME(2, "") "\n" BAD_DRIVE_NAME(
         3, "a23456789012345678901234567890123") "\n" BAD_DRIVE_NAME(4, "C:"))},
};
CASES_TEST(test_cfg_rejects_bad_drive_name, drive_names)

static const struct cfg_case unknown_keys[] = {
    {"mountpiont", "[global]\nmountpiont = /x\n",
     ERR("t.conf:2: unknown key 'mountpiont' in [global]; did you mean 'mountpoint'?")},
    {"discovery", "[global]\ndiscovery = yes\n",
     ERR("t.conf:2: unknown key 'discovery' in [global]; did you mean 'discover'?")},
    {"Image  Path", "[global]\nImage  Path = x\n",
     ERR("t.conf:2: unknown key 'Image  Path' in [global]; did you mean 'images path'?")},
    {"guest okay", "[share]\nguest okay = yes\n",
     ERR("t.conf:2: unknown key 'guest okay' in [share]; did you mean 'guest ok'?")},
    {"lable", "[drive:Data]\npath = /d\nlable = X\n",
     ERR("t.conf:3: unknown key 'lable' in [drive:Data]; did you mean 'label'?")},
    {"nothing close", "[global]\ncolour = blue\n",
     ERR("t.conf:2: unknown key 'colour' in [global]")},
};
CASES_TEST(test_cfg_rejects_unknown_key_with_hint, unknown_keys)

static const struct cfg_case misplaced_keys[] = {
    {"port in [global]", "[global]\nport = 1\n",
     ERR("t.conf:2: unknown key 'port' in [global]; 'port' belongs in [share]")},
    {"read only in [global]", "[global]\nread only = yes\n",
     ERR("t.conf:2: unknown key 'read only' in [global]; 'read only' belongs in [drive:NAME] "
         "or [share]")},
    {"path in [share]", "[share]\npath = /x\n",
     ERR("t.conf:2: unknown key 'path' in [share]; 'path' belongs in [drive:NAME]")},
    {"mode in a drive", "[drive:C]\npath = /c\nMode = single\n",
     ERR("t.conf:3: unknown key 'Mode' in [drive:C]; 'mode' belongs in [global]")},
};
CASES_TEST(test_cfg_names_the_section_a_misplaced_key_belongs_in, misplaced_keys)

static const struct cfg_case duplicate_keys[] = {
    {"another spelling", "[global]\nmode = union\n\n\nMode = single\n",
     ERR("t.conf:5: duplicate key 'mode' (first set at line 2)")},
    {"in a repeated section",
     "[global]\nmount timeout = 1\n[share]\n[GLOBAL]\nMount  Timeout = 2\n",
     ERR("t.conf:5: duplicate key 'mount timeout' (first set at line 2)")},
    {"in a drive", "[drive:C]\npath = /c\nPath = /d\n",
     ERR("t.conf:3: duplicate key 'path' (first set at line 2)")},
    {"after a bad value", "[global]\nmode = bad\nmode = union\n",
     ERR("t.conf:2: bad value 'bad' for 'mode': expected union or single\n"
         "t.conf:3: duplicate key 'mode' (first set at line 2)")},
};
CASES_TEST(test_cfg_rejects_duplicate_key, duplicate_keys)

static void test_cfg_same_key_in_two_drives_is_not_a_duplicate(void **state)
{
	struct pxe_config *cfg =
	    load_ok("[drive:C]\npath = /c\n[drive:D]\npath = /d\n[share]\nread only = no\n");

	(void)state;
	assert_string_equal(cfg->drives[1].path, "/d");
	cfg_free(cfg);
}

static const struct cfg_case duplicate_drives[] = {
    {"another case; the second drive's keys are still checked",
     "\n[drive:C]\npath = /c\n\n[drive:c]\npath = /c2\npriority = x\n",
     ERR("t.conf:5: duplicate drive 'c' (first defined at line 2)\n"
         "t.conf:7: bad value 'x' for 'priority': expected an integer between -1000 and 1000")},
};
CASES_TEST(test_cfg_rejects_duplicate_drive, duplicate_drives)

static const struct cfg_case keys_outside_sections[] = {
    {"four keys before [global]",
     "mode = single\nread only = yes\nsamba:x = 1\nfoo = bar\n[global]\n",
     ERR("t.conf:1: key 'mode' is outside any section; it belongs in [global]\n"
         "t.conf:2: key 'read only' is outside any section; it belongs in [drive:NAME] or "
         "[share]\n"
         "t.conf:3: key 'samba:x' is outside any section; it belongs in [share]\n"
         "t.conf:4: key 'foo' is outside any section; start with [global], [share] or "
         "[drive:NAME]")},
};
CASES_TEST(test_cfg_rejects_key_outside_section, keys_outside_sections)

static const struct cfg_case malformed_lines[] = {
    {"no =", "[global]\nmode union\n", ERR("t.conf:2: expected `key = value` or `[section]`")},
    {"no key", "[global]\n  = union\n", ERR("t.conf:2: missing key before '='")},
    {"a word alone", "mountpoint\n", ERR("t.conf:1: expected `key = value` or `[section]`")},
};
CASES_TEST(test_cfg_rejects_malformed_line, malformed_lines)

static const struct cfg_case drives_without_identity[] = {
    {"two drives", "[drive:C]\npriority = 5\nread only = yes\n[drive:D]\n",
     ERR("t.conf:1: drive C has no identity: set path, uuid or label\n"
         "t.conf:4: drive D has no identity: set path, uuid or label")},
    {"a bad identity value is one error, not two", "[drive:E]\npath = relative\n",
     ERR("t.conf:2: bad value 'relative' for 'path': expected an absolute path (starting "
         "with /)")},
};
CASES_TEST(test_cfg_rejects_drive_without_identity, drives_without_identity)

/* ---- reporting --------------------------------------------------------- */

static const struct cfg_case every_error_with_its_line[] = {
    {"seven mistakes",
     "[global]\nmode = sometimes\nmountpiont = /x\nmount timeout = 2h\n"
     "[drive:C]\nread only = maybe\n[share]\nport = 70000\noops\n",
     ERR("t.conf:2: bad value 'sometimes' for 'mode': expected union or single\n"
         "t.conf:3: unknown key 'mountpiont' in [global]; did you mean 'mountpoint'?\n"
         "t.conf:4: 'mount timeout' must be between 0s and 1h, got '2h'\n"
         "t.conf:5: drive C has no identity: set path, uuid or label\n"
         "t.conf:6: bad value 'maybe' for 'read only': expected yes or no\n"
         "t.conf:8: 'port' must be between 1 and 65535, got '70000'\n"
         "t.conf:9: expected `key = value` or `[section]`")},
};
CASES_TEST(test_cfg_reports_every_error_with_line, every_error_with_its_line)

static void test_cfg_truncates_error_buffer_with_count(void **state)
{
	char text[8192] = "[global]\n";
	char small[300];
	struct pxe_config *cfg = NULL;
	unsigned more = 0;
	size_t shown = 0;
	const char *last = NULL;
	int i = 0;

	(void)state;
	for (i = 0; i < 100; i++) {
		strcat(text, "bogus key = 1\n");
	}
	assert_int_equal(cfg_load_string(text, T_NAME, &cfg, small, sizeof(small)), -1);
	assert_null(cfg);
	assert_true(strlen(small) < sizeof(small));
	last = strrchr(small, '\n');
	assert_non_null(last);
	assert_int_equal(sscanf(last + 1, "... and %u more errors", &more), 1);
	shown = count_lines(small) - 1;
	assert_true(shown >= 1);
	assert_int_equal(shown + more, 100);
	assert_has_line(small, "t.conf:2: unknown key 'bogus key' in [global]");
	for (i = 0; i < (int)shown; i++) {
		char want[64];

		snprintf(want, sizeof(want), "t.conf:%d: unknown key 'bogus key' in [global]",
		         i + 2);
		assert_has_line(small, want);
	}
}

static void test_cfg_says_one_more_error_in_singular(void **state)
{
	char small[110];
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(
	    cfg_load_string("[global]\nmode = a\nmode = b\n", T_NAME, &cfg, small, sizeof(small)),
	    -1);
	assert_string_equal(small, "t.conf:2: bad value 'a' for 'mode': expected union or single\n"
	                           "... and 1 more error");
}

static void test_cfg_cuts_single_error_in_tiny_buffer(void **state)
{
	char tiny[16];
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(cfg_load_string("[global]\nmode = x\n", T_NAME, &cfg, tiny, sizeof(tiny)),
	                 -1);
	assert_string_equal(tiny, "t.conf:2: bad v");
	assert_int_equal(cfg_load_string("[global]\nmode = x\n", T_NAME, &cfg, NULL, 0), -1);
	assert_null(cfg);
}

static void test_cfg_quotes_long_and_control_text_safely(void **state)
{
	char text[600];
	char value[400];
	char want[600];

	(void)state;
	memset(value, 'v', 300);
	value[300] = '\0';
	snprintf(text, sizeof(text), "[global]\nmode = %s\n", value);
	snprintf(want, sizeof(want),
	         "t.conf:2: bad value '%.60s...' for 'mode': expected union or single", value);
	expect_error(text, want);
	/* a multi-byte character is never cut in half */
	memset(value, 'v', 59);
	strcpy(value + 59, "\xC3\xA9\xC3\xA9 and more text");
	snprintf(text, sizeof(text), "[global]\nmode = %s\n", value);
	snprintf(want, sizeof(want),
	         "t.conf:2: bad value '%.59s...' for 'mode': expected union or single", value);
	expect_error(text, want);
	expect_error("[global]\nmode = a\x1b[31mb\n",
	             "t.conf:2: bad value 'a?[31mb' for 'mode': expected union or single");
}

static void test_cfg_rejects_null_arguments(void **state)
{
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(cfg_load_string(NULL, T_NAME, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_null(cfg);
	assert_int_equal(cfg_load_string("", T_NAME, NULL, errbuf, sizeof(errbuf)), -1);
	assert_int_equal(cfg_load_file(NULL, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_int_equal(cfg_load_file(DATA("good-minimal.conf"), NULL, errbuf, sizeof(errbuf)),
	                 -1);
}

/* ---- files ------------------------------------------------------------- */

static void test_cfg_file_full_sets_every_key(void **state)
{
	struct pxe_config *cfg = NULL;
	const struct cfg_drive *d = NULL;

	(void)state;
	assert_int_equal(load_file_both(DATA("good-full.conf"), &cfg), 0);
	assert_string_equal(cfg->file, DATA("good-full.conf"));
	assert_string_equal(cfg->mountpoint, "/srv/pxe");
	assert_string_equal(cfg->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(cfg->mode, CFG_MODE_SINGLE);
	assert_string_equal(cfg->state_dir, "/var/lib/pxe-state");
	assert_string_equal(cfg->run_dir, "/run/pxe-run");
	assert_int_equal(cfg->mount_timeout_ms, 120000);
	assert_int_equal(cfg->rescan_interval_ms, 0);
	assert_true(cfg->require_drives);
	assert_true(cfg->discover);
	assert_true(cfg->discover_network);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg->n_drives, 2);
	d = &cfg->drives[0];
	assert_string_equal(d->name, "C");
	assert_string_equal(d->path, "/mnt/c");
	assert_string_equal(d->uuid, "0123-ABCD");
	assert_string_equal(d->label, "OLD;IMAGES # part of the label, not a comment");
	assert_int_equal(d->priority, -5);
	assert_true(d->read_only);
	assert_int_equal(d->line, 17);
	d = &cfg->drives[1];
	assert_string_equal(d->name, "data.disk_2");
	assert_null(d->path);
	assert_string_equal(d->label, "PXEIMAGES");
	assert_int_equal(d->priority, 1000);
	assert_false(d->read_only);
	assert_string_equal(cfg->share.name, "PXE$");
	assert_int_equal(cfg->share.samba, CFG_SAMBA_PRIVATE);
	assert_int_equal(cfg->share.port, 4450);
	assert_string_equal(cfg->share.interfaces, "lo 127.0.0.1/8");
	assert_string_equal(cfg->share.valid_users, "@pxe-readers, admin");
	assert_string_equal(cfg->share.write_list, "@pxe-writers");
	assert_true(cfg->share.read_only);
	assert_true(cfg->share.guest_ok);
	assert_string_equal(cfg->share.include_file, "/etc/samba/pxe-include.conf");
	assert_string_equal(cfg->share.smb_conf, "/etc/samba/other.conf");
	assert_int_equal(cfg->share.n_params, 2);
	assert_string_equal(cfg->share.params[0].key, "hide dot files");
	assert_string_equal(cfg->share.params[0].value, "no");
	assert_string_equal(cfg->share.params[1].key, "Store DOS Attributes");
	assert_string_equal(cfg->share.params[1].value, "yes");
	assert_int_equal(cfg->share.params[1].line, 40);
	cfg_free(cfg);
}

static void test_cfg_file_empty_gives_every_default(void **state)
{
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(load_file_both(DATA("good-minimal.conf"), &cfg), 0);
	assert_all_defaults(cfg);
	cfg_free(cfg);
}

static void test_cfg_file_spec_example_is_valid(void **state)
{
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(load_file_both(DATA("spec-example.conf"), &cfg), 0);
	assert_string_equal(cfg->images_path, "RemoteInstall/SMSImages/SMSPKG");
	assert_int_equal(cfg->mount_timeout_ms, 30000);
	assert_int_equal(cfg->n_drives, 2);
	assert_string_equal(cfg->drives[0].path, "/mnt/c");
	assert_int_equal(cfg->drives[0].priority, 10);
	assert_true(cfg->drives[0].read_only);
	assert_string_equal(cfg->drives[1].label, "PXEIMAGES");
	assert_int_equal(cfg->drives[1].priority, 20);
	assert_string_equal(cfg->share.write_list, "@pxe-writers");
	cfg_free(cfg);
}

static void test_cfg_file_reports_three_mistakes_on_their_lines(void **state)
{
#define F DATA("bad-three-mistakes.conf")
	static const char *const lines[] = {
	    F ":4: unknown key 'mountpiont' in [global]; did you mean 'mountpoint'?",
	    F ":8: bad value 'maybe' for 'read only': expected yes or no",
	    F ":12: 'port' must be between 1 and 65535, got '70000'",
	};

	(void)state;
	expect_file_errors(F, lines, N_ROWS(lines));
#undef F
}

static void test_cfg_file_reports_structure_errors(void **state)
{
#define F DATA("bad-structure.conf")
	static const char *const lines[] = {
	    F ":1: key 'mode' is outside any section; it belongs in [global]",
	    F ":4: expected `key = value` or `[section]`",
	    F ":5: duplicate key 'mode' (first set at line 3)",
	    F ":6: unknown section [globl]; did you mean [global]?",
	    F ":8: drive C has no identity: set path, uuid or label",
	    F ":10: duplicate drive 'c' (first defined at line 8)",
	    F ":12: bad drive name 'bad name': expected 1 to 32 letters, digits, '_', '.' or '-'",
	    F ":13: section header without closing ']'",
	    F ":14: missing key before '='",
	};

	(void)state;
	expect_file_errors(F, lines, N_ROWS(lines));
#undef F
}

static void test_cfg_file_reports_a_bad_value_for_every_key(void **state)
{
#define F DATA("bad-values.conf")
	static const char *const lines[] = {
	    F ":2: bad value 'srv/pxeimages' for 'mountpoint': expected an absolute path (starting "
	      "with /)",
	    F ":3: 'images path' is relative to each drive's root, so it cannot start with a drive "
	      "letter: write 'RemoteInstall\\SMSImages\\SMSPKG' instead of "
	      "'C:\\RemoteInstall\\SMSImages\\SMSPKG'",
	    F ":4: bad value 'both' for 'mode': expected union or single",
	    F
	    ":5: bad value 'var/lib/pxeimagesfs' for 'state directory': expected an absolute path "
	    "(starting with /)",
	    F ":6: bad value 'run/pxeimagesfs' for 'run directory': expected an absolute path "
	      "(starting with /)",
	    F ":7: 'mount timeout' must be between 0s and 1h, got '2h'",
	    F ":8: 'rescan interval' must be 0 (off) or between 1s and 24h, got '500ms'",
	    F ":9: bad value 'maybe' for 'require drives': expected yes or no",
	    F ":10: bad value 'perhaps' for 'discover network': expected yes or no",
	    F ":11: bad value 'verbose' for 'log level': expected error, warning, info or debug",
	    F ":13: bad value 'mnt/c' for 'path': expected an absolute path (starting with /)",
	    F ":14: bad value 'not-a-uuid' for 'uuid': expected a filesystem UUID: hex digits, "
	      "single "
	      "'-' between them, at most 64 characters",
	    F ":15: 'priority' must be between -1000 and 1000, got '1001'",
	    F ":16: bad value 'sometimes' for 'read only': expected yes or no",
	    F ":19: bad value 'ten' for 'priority': expected an integer between -1000 and 1000",
	    F ":21: bad value 'PXE/IMAGES' for 'name': '/' is not allowed in a share name",
	    F ":22: bad value 'smbd' for 'samba': expected system, private, none or ctdb",
	    F ":23: 'port' must be between 1 and 65535, got '0'",
	    F ":24: bad value 'nope' for 'read only': expected yes or no",
	    F ":25: bad value '2' for 'guest ok': expected yes or no",
	    F ":26: bad value 'pxeimagesfs.conf' for 'include file': expected an absolute path "
	      "(starting with /)",
	    F
	    ":27: bad value 'smb.conf' for 'smb.conf': expected an absolute path (starting with /)",
	    F ":28: missing smb.conf parameter name after 'samba:'",
	    F ":29: unknown key 'images path' in [share]; 'images path' belongs in [global]",
	};

	(void)state;
	expect_file_errors(F, lines, N_ROWS(lines));
#undef F
}

static void test_cfg_file_missing_is_one_line(void **state)
{
	struct pxe_config *cfg = NULL;

	(void)state;
	assert_int_equal(cfg_load_file(DATA("no-such.conf"), &cfg, errbuf, sizeof(errbuf)), -1);
	assert_null(cfg);
	assert_string_equal(errbuf,
	                    DATA("no-such.conf") ": cannot read: No such file or directory");
	assert_int_equal(cfg_load_file(PXE_TEST_DATA_DIR, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_string_equal(errbuf, PXE_TEST_DATA_DIR ": cannot read: Is a directory");
}

static void test_cfg_file_rejects_nul_byte(void **state)
{
	static const char data[] = "[global]\nmode = union\nlog\0 level = info\n";
	struct pxe_config *cfg = NULL;
	char *path = write_temp(data, sizeof(data) - 1);
	char want[512];

	(void)state;
	assert_int_equal(cfg_load_file(path, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s:3: file contains a NUL byte; this is not a text file",
	         path);
	assert_string_equal(errbuf, want);
	unlink(path);
	free(path);
}

static void test_cfg_file_rejects_more_than_1_mib(void **state)
{
	size_t len = (size_t)1024 * 1024;
	char *data = malloc(len + 1);
	struct pxe_config *cfg = NULL;
	char *path = NULL;
	char want[512];

	(void)state;
	assert_non_null(data);
	memset(data, '\n', len + 1);
	data[0] = '#';                /* a comment, then blank lines */
	path = write_temp(data, len); /* exactly 1 MiB of blank lines is fine */
	assert_int_equal(cfg_load_file(path, &cfg, errbuf, sizeof(errbuf)), 0);
	cfg_free(cfg);
	unlink(path);
	free(path);
	path = write_temp(data, len + 1);
	assert_int_equal(cfg_load_file(path, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB; this is not a config file",
	         path);
	assert_string_equal(errbuf, want);
	unlink(path);
	free(path);
	free(data);
}

/* ---- small public helpers ---------------------------------------------- */

static void test_cfg_default_path_honours_environment(void **state)
{
	(void)state;
	assert_int_equal(unsetenv(CFG_ENV_PATH), 0);
	assert_string_equal(cfg_default_path(), CFG_DEFAULT_PATH);
	assert_string_equal(cfg_default_path(), "/etc/pxeimagesfs/pxeimagesfs.conf");
	assert_int_equal(setenv(CFG_ENV_PATH, "/tmp/other.conf", 1), 0);
	assert_string_equal(cfg_default_path(), "/tmp/other.conf");
	assert_int_equal(setenv(CFG_ENV_PATH, "", 1), 0);
	assert_string_equal(cfg_default_path(), CFG_DEFAULT_PATH);
	assert_int_equal(unsetenv(CFG_ENV_PATH), 0);
}

static void test_cfg_names_modes_and_samba_kinds(void **state)
{
	(void)state;
	assert_string_equal(cfg_mode_name(CFG_MODE_UNION), "union");
	assert_string_equal(cfg_mode_name(CFG_MODE_SINGLE), "single");
	assert_string_equal(cfg_samba_name(CFG_SAMBA_SYSTEM), "system");
	assert_string_equal(cfg_samba_name(CFG_SAMBA_PRIVATE), "private");
	assert_string_equal(cfg_samba_name(CFG_SAMBA_NONE), "none");
	assert_string_equal(cfg_mode_name((enum cfg_mode)7), "?");
	assert_string_equal(cfg_samba_name((enum cfg_samba)7), "?");
}

static void test_cfg_free_accepts_null(void **state)
{
	(void)state;
	cfg_free(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cfg_empty_text_gives_every_default),
    cmocka_unit_test(test_cfg_empty_sections_give_every_default),
    cmocka_unit_test(test_cfg_null_name_is_string),
    cmocka_unit_test(test_cfg_accepts_every_global_key),
    cmocka_unit_test(test_cfg_no_drive_hint_only_without_drives_or_discover),
    cmocka_unit_test(test_cfg_accepts_every_drive_key),
    cmocka_unit_test(test_cfg_accepts_every_share_key),
    cmocka_unit_test(test_cfg_accepts_every_enum_word_in_any_case),
    cmocka_unit_test(test_cfg_keeps_slash_root_path),
    cmocka_unit_test(test_cfg_keys_are_case_insensitive_with_collapsed_spaces),
    cmocka_unit_test(test_cfg_skips_comments_and_blank_lines),
    cmocka_unit_test(test_cfg_has_no_inline_comments),
    cmocka_unit_test(test_cfg_splits_at_first_equals_sign),
    cmocka_unit_test(test_cfg_accepts_crlf_and_byte_order_mark),
    cmocka_unit_test(test_cfg_trailing_backslash_does_not_continue_line),
    cmocka_unit_test(test_cfg_repeated_global_section_continues_it),
    cmocka_unit_test(test_cfg_keeps_drives_in_config_order),
    cmocka_unit_test(test_cfg_accepts_section_names_with_spaces_inside_brackets),
    cmocka_unit_test(test_cfg_images_path_accepts_backslashes_and_slashes),
    cmocka_unit_test(test_cfg_images_path_rejects_drive_letter),
    cmocka_unit_test(test_cfg_images_path_rejects_dot_components),
    cmocka_unit_test(test_cfg_images_path_rejects_empty_and_windows_reserved_chars),
    cmocka_unit_test(test_cfg_rejects_relative_paths_for_every_path_key),
    cmocka_unit_test(test_cfg_parse_bool_accepts_samba_spellings),
    cmocka_unit_test(test_cfg_rejects_bad_bool_for_every_bool_key),
    cmocka_unit_test(test_cfg_boot_tree_defaults_to_no_and_takes_yes),
    cmocka_unit_test(test_cfg_inode_numbers_default_path_take_drive_reject_others),
    cmocka_unit_test(test_cfg_ctdb_drive_without_drive_numbers_is_told),
    cmocka_unit_test(test_cfg_boot_tree_needs_an_images_path_of_two_folders),
    cmocka_unit_test(test_cfg_parse_duration_ms_understands_units),
    cmocka_unit_test(test_cfg_mount_timeout_range),
    cmocka_unit_test(test_cfg_rescan_interval_is_off_or_one_second_to_one_day),
    cmocka_unit_test(test_cfg_priority_is_an_integer_from_minus_1000_to_1000),
    cmocka_unit_test(test_cfg_port_is_an_integer_from_1_to_65535),
    cmocka_unit_test(test_cfg_uuid_is_hex_and_dashes_up_to_64),
    cmocka_unit_test(test_cfg_label_is_anything_up_to_255),
    cmocka_unit_test(test_cfg_share_name_follows_windows_rules),
    cmocka_unit_test(test_cfg_rejects_bad_enum_words),
    cmocka_unit_test(test_cfg_ctdb_keeps_file_ids_equal_on_every_node),
    cmocka_unit_test(test_cfg_optional_strings_may_be_empty),
    cmocka_unit_test(test_cfg_rejects_empty_value_for_every_other_key),
    cmocka_unit_test(test_cfg_passes_samba_params_through_verbatim),
    cmocka_unit_test(test_cfg_rejects_bad_samba_params),
    cmocka_unit_test(test_cfg_rejects_unknown_section),
    cmocka_unit_test(test_cfg_rejects_unclosed_section_header),
    cmocka_unit_test(test_cfg_rejects_bad_drive_name),
    cmocka_unit_test(test_cfg_rejects_unknown_key_with_hint),
    cmocka_unit_test(test_cfg_names_the_section_a_misplaced_key_belongs_in),
    cmocka_unit_test(test_cfg_rejects_duplicate_key),
    cmocka_unit_test(test_cfg_same_key_in_two_drives_is_not_a_duplicate),
    cmocka_unit_test(test_cfg_rejects_duplicate_drive),
    cmocka_unit_test(test_cfg_rejects_key_outside_section),
    cmocka_unit_test(test_cfg_rejects_malformed_line),
    cmocka_unit_test(test_cfg_rejects_drive_without_identity),
    cmocka_unit_test(test_cfg_reports_every_error_with_line),
    cmocka_unit_test(test_cfg_truncates_error_buffer_with_count),
    cmocka_unit_test(test_cfg_says_one_more_error_in_singular),
    cmocka_unit_test(test_cfg_cuts_single_error_in_tiny_buffer),
    cmocka_unit_test(test_cfg_quotes_long_and_control_text_safely),
    cmocka_unit_test(test_cfg_rejects_null_arguments),
    cmocka_unit_test(test_cfg_file_full_sets_every_key),
    cmocka_unit_test(test_cfg_file_empty_gives_every_default),
    cmocka_unit_test(test_cfg_file_spec_example_is_valid),
    cmocka_unit_test(test_cfg_file_reports_three_mistakes_on_their_lines),
    cmocka_unit_test(test_cfg_file_reports_structure_errors),
    cmocka_unit_test(test_cfg_file_reports_a_bad_value_for_every_key),
    cmocka_unit_test(test_cfg_file_missing_is_one_line),
    cmocka_unit_test(test_cfg_file_rejects_nul_byte),
    cmocka_unit_test(test_cfg_rejects_smb_line_continuation_in_every_key),
    cmocka_unit_test(test_cfg_rejects_control_characters_in_smb_values),
    cmocka_unit_test(test_cfg_rejects_samba_keys_that_start_a_section),
    cmocka_unit_test(test_cfg_rejects_percent_macros_in_smb_paths),
    cmocka_unit_test(test_cfg_rejects_images_folders_ending_in_space),
    cmocka_unit_test(test_cfg_rejects_samba_params_the_share_owns),
    cmocka_unit_test(test_cfg_rejects_folders_that_cannot_work),
    cmocka_unit_test(test_cfg_rejects_two_drives_with_one_path_or_uuid),
    cmocka_unit_test(test_cfg_rejects_uuid_of_dashes),
    cmocka_unit_test(test_cfg_rejects_share_names_samba_keeps_for_itself),
    cmocka_unit_test(test_cfg_file_refuses_a_fifo),
    cmocka_unit_test(test_cfg_file_refuses_a_world_writable_run_directory),
    cmocka_unit_test(test_cfg_file_rejects_more_than_1_mib),
    cmocka_unit_test(test_cfg_default_path_honours_environment),
    cmocka_unit_test(test_cfg_names_modes_and_samba_kinds),
    cmocka_unit_test(test_cfg_free_accepts_null),
};

UNIT_GROUP(tests, NULL, NULL)
