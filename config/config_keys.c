/* config_keys.c -- what each key accepts: the key tables of every section, the value
 * parsers (cfg_parse_bool and cfg_parse_duration_ms are public) and one setter per kind.
 *
 * It checks the form of a value, never the filesystem (paths need not exist); lines and
 * sections are config_parse.c's. The tables are constant and setters write only into their
 * parser's config, so separate parses may run in parallel.
 */
#include "config_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_UUID_MAX       64
#define CFG_LABEL_MAX      255
#define CFG_SHARE_NAME_MAX 80

static int cfg_set_abs_path(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                            const char *v);
static int cfg_set_images_path(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                               const char *v);
static int cfg_set_mode(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_samba(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_transport(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                             const char *v);
static int cfg_set_samba_config(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                                const char *v);
static int cfg_set_log_level(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                             const char *v);
static int cfg_set_inode_numbers(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                                 const char *v);
static int cfg_set_bool(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_duration(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                            const char *v);
static int cfg_set_int(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_uuid(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_label(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_share_name(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                              const char *v);
static int cfg_set_string(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);

#define CFG_G(field) offsetof(struct pxe_config, field)
#define CFG_D(field) offsetof(struct cfg_drive, field)

static const char CFG_EXPECT_BOOL[] = "yes or no";
static const char CFG_EXPECT_DURATION[] = "a duration such as 30, 30s, 500ms, 2m or 1h";
static const char CFG_EXPECT_ABS_PATH[] = "an absolute path (starting with /)";

/* The key tables are laid out by hand: one key per entry reads better
 * than clang-format's one field per line. */
// clang-format off
static const struct cfg_key cfg_global_keys[] = {
	{.name = "mountpoint", .set = cfg_set_abs_path, .off = CFG_G(mountpoint),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/srv/pxeimages", .smb = true},
	{.name = "images path", .set = cfg_set_images_path, .off = CFG_G(images_path),
	 .expect = "a folder relative to each drive's root, such as RemoteInstall\\SMSImages\\SMSPKG",
	 .def = "RemoteInstall/SMSImages/SMSPKG"},
	{.name = "mode", .set = cfg_set_mode, .off = CFG_G(mode), .expect = "union or single"},
	{.name = "state directory", .set = cfg_set_abs_path, .off = CFG_G(state_dir),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/var/lib/pxeimagesfs", .smb = true},
	{.name = "run directory", .set = cfg_set_abs_path, .off = CFG_G(run_dir),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/run/pxeimagesfs"},
	{.name = "mount timeout", .set = cfg_set_duration, .off = CFG_G(mount_timeout_ms),
	 .expect = CFG_EXPECT_DURATION, .range = "between 0s and 1h", .min = 0, .max = 3600000},
	{.name = "rescan interval", .set = cfg_set_duration, .off = CFG_G(rescan_interval_ms),
	 .expect = CFG_EXPECT_DURATION, .range = "0 (off) or between 1s and 24h", .min = 1000,
	 .max = 86400000, .zero_ok = true},
	{.name = "require drives", .set = cfg_set_bool, .off = CFG_G(require_drives),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "discover", .set = cfg_set_bool, .off = CFG_G(discover),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "discover network", .set = cfg_set_bool, .off = CFG_G(discover_network),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "passthrough", .set = cfg_set_bool, .off = CFG_G(passthrough),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "fuse transport", .set = cfg_set_transport, .off = CFG_G(transport),
	 .expect = "dev or io_uring"},
	{.name = "boot tree", .set = cfg_set_bool, .off = CFG_G(boot_tree),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "log level", .set = cfg_set_log_level, .off = CFG_G(log_level),
	 .expect = "error, warning, info or debug"},
};

/* path, uuid and label must stay first: cfg_end_section checks them by index. */
static const struct cfg_key cfg_drive_keys[] = {
	{.name = "path", .set = cfg_set_abs_path, .off = CFG_D(path),
	 .expect = CFG_EXPECT_ABS_PATH},
	{.name = "uuid", .set = cfg_set_uuid, .off = CFG_D(uuid),
	 .expect = "a filesystem UUID: hex digits, single '-' between them, at most 64 "
	           "characters"},
	{.name = "label", .set = cfg_set_label, .off = CFG_D(label),
	 .expect = "a filesystem label of at most 255 characters"},
	{.name = "priority", .set = cfg_set_int, .off = CFG_D(priority),
	 .expect = "an integer between -1000 and 1000", .range = "between -1000 and 1000",
	 .min = -1000, .max = 1000},
	{.name = "read only", .set = cfg_set_bool, .off = CFG_D(read_only),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "inode numbers", .set = cfg_set_inode_numbers, .off = CFG_D(inode_numbers),
	 .expect = "path or drive"},
};

static const struct cfg_key cfg_share_keys[] = {
	{.name = "name", .set = cfg_set_share_name, .off = CFG_G(share.name),
	 .expect = "a share name of 1 to 80 characters, none of \\ / [ ] : | < > + = ; , * ? \"",
	 .def = "SMSPXEIMAGES$"},
	{.name = "samba", .set = cfg_set_samba, .off = CFG_G(share.samba),
	 .expect = "system, private, none or ctdb"},
	{.name = "port", .set = cfg_set_int, .off = CFG_G(share.port),
	 .expect = "an integer between 1 and 65535", .range = "between 1 and 65535", .min = 1,
	 .max = 65535},
	{.name = "interfaces", .set = cfg_set_string, .off = CFG_G(share.interfaces),
	 .expect = "a list of interfaces", .empty_ok = true, .smb = true},
	{.name = "valid users", .set = cfg_set_string, .off = CFG_G(share.valid_users),
	 .expect = "a list of users", .empty_ok = true, .smb = true},
	{.name = "write list", .set = cfg_set_string, .off = CFG_G(share.write_list),
	 .expect = "a list of users", .empty_ok = true, .smb = true},
	{.name = "read only", .set = cfg_set_bool, .off = CFG_G(share.read_only),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "guest ok", .set = cfg_set_bool, .off = CFG_G(share.guest_ok),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "include file", .set = cfg_set_abs_path, .off = CFG_G(share.include_file),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/etc/samba/pxeimagesfs.conf", .smb = true},
	{.name = "smb.conf", .set = cfg_set_abs_path, .off = CFG_G(share.smb_conf),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/etc/samba/smb.conf"},
	{.name = "samba config", .set = cfg_set_samba_config, .off = CFG_G(share.samba_config),
	 .expect = "auto, file or registry"},
};
// clang-format on

_Static_assert(CFG_N(cfg_global_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");
_Static_assert(CFG_N(cfg_drive_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");
_Static_assert(CFG_N(cfg_share_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");

const struct cfg_section_def cfg_sections[CFG_SEC_DRIVE + 1] = {
    [CFG_SEC_GLOBAL] = {"[global]", cfg_global_keys, CFG_N(cfg_global_keys)},
    [CFG_SEC_SHARE] = {"[share]", cfg_share_keys, CFG_N(cfg_share_keys)},
    [CFG_SEC_DRIVE] = {"[drive:NAME]", cfg_drive_keys, CFG_N(cfg_drive_keys)},
};

/* Indexed by the enums of config.h. */
static const char *const cfg_mode_words[] = {"union", "single", NULL};
static const char *const cfg_samba_words[] = {"system", "private", "none", "ctdb", NULL};
static const char *const cfg_transport_words[] = {"dev", "io_uring", NULL};
static const char *const cfg_samba_config_words[] = {"auto", "file", "registry", NULL};
static const char *const cfg_log_words[] = {"error", "warning", "info", "debug", NULL};
static const char *const cfg_ino_words[] = {"path", "drive", NULL};

/* ---- messages about values --------------------------------------------- */

static int cfg_bad_value(struct cfg_parser *p, const struct cfg_key *k, const char *v)
{
	char show[CFG_SHOW_MAX];

	cfg_err(p, "bad value '%s' for '%s': expected %s", cfg_show(v, show, sizeof(show)), k->name,
	        k->expect);
	return -1;
}

static int cfg_bad_range(struct cfg_parser *p, const struct cfg_key *k, const char *v)
{
	char show[CFG_SHOW_MAX];

	cfg_err(p, "'%s' must be %s, got '%s'", k->name, k->range, cfg_show(v, show, sizeof(show)));
	return -1;
}

/* Config keywords compare with ASCII strcasecmp: they are keywords, not file names (those
 * follow names_match_better in common/names.h). */
static int cfg_find_word(const char *const *words, const char *v)
{
	int i = 0;

	for (i = 0; words[i] != NULL; i++) {
		if (strcasecmp(words[i], v) == 0) {
			return i;
		}
	}
	return -1;
}

/* ---- public value parsers ---------------------------------------------- */

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "1", "on", NULL};
	static const char *const no[] = {"no", "false", "0", "off", NULL};

	if (s == NULL || out == NULL) {
		return -1;
	}
	if (cfg_find_word(yes, s) >= 0) {
		*out = true;
		return 0;
	}
	if (cfg_find_word(no, s) >= 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int cfg_duration_unit(const char *u, uint64_t *mult)
{
	if (*u == '\0' || strcasecmp(u, "s") == 0) {
		*mult = 1000;
	} else if (strcasecmp(u, "ms") == 0) {
		*mult = 1;
	} else if (strcasecmp(u, "m") == 0) {
		*mult = 60000;
	} else if (strcasecmp(u, "h") == 0) {
		*mult = 3600000;
	} else {
		return -1;
	}
	return 0;
}

/* cfg_duration -- "30", "30s", "500 ms", "2m", "1h" -> ms; too large
 * values saturate to UINT64_MAX so that callers report a range error. */
static int cfg_duration(const char *s, uint64_t *ms)
{
	uint64_t n = 0;
	uint64_t mult = 0;

	if (!isdigit((unsigned char)*s)) {
		return -1;
	}
	for (; isdigit((unsigned char)*s); s++) {
		if (n <= UINT32_MAX) {
			n = n * 10 + (uint64_t)(*s - '0');
		}
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (cfg_duration_unit(s, &mult) < 0) {
		return -1;
	}
	*ms = n > UINT32_MAX ? UINT64_MAX : n * mult;
	return 0;
}

int cfg_parse_duration_ms(const char *s, unsigned *out)
{
	uint64_t ms = 0;

	if (s == NULL || out == NULL || cfg_duration(s, &ms) < 0 || ms > UINT_MAX) {
		return -1;
	}
	*out = (unsigned)ms;
	return 0;
}

/* cfg_integer -- optional sign and decimal digits; saturates on overflow. */
static int cfg_integer(const char *s, long long *out)
{
	const char *d = s + (*s == '-' || *s == '+');

	if (*d == '\0' || strspn(d, "0123456789") != strlen(d)) {
		return -1;
	}
	*out = strtoll(s, NULL, 10); /* saturates, which the range check reports */
	return 0;
}

/* ---- what smb.conf would make of a value -------------------------------- */

const char *cfg_smb_text_bad(const char *v)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++) {
		if (v[i] != '\t' && iscntrl((unsigned char)v[i])) {
			return "it contains a control character";
		}
	}
	if (len > 0 && v[len - 1] == '\\') {
		return "a '\\' at the end joins the next line of smb.conf to this one (line "
		       "continuation), so the generated lines after it would be lost: remove it";
	}
	return NULL;
}

/* cfg_smb_value_ok -- V of key K may be written into smb.conf (K->smb keys only). */
static int cfg_smb_value_ok(struct cfg_parser *p, const struct cfg_key *k, const char *v)
{
	char show[CFG_SHOW_MAX];
	const char *why = k->smb ? cfg_smb_text_bad(v) : NULL;

	if (why != NULL) {
		cfg_err(p, "bad value '%s' for '%s': %s", cfg_show(v, show, sizeof(show)), k->name,
		        why);
		return -1;
	}
	return 0;
}

/* A samba:KEY the generated share block must keep to itself, and why. */
struct cfg_owned_param {
	const char *key; /* lower case, no spaces */
	const char *why;
};

static const struct cfg_owned_param cfg_owned_params[] = {
    {"path", "it replaces the share path, which is always the images folder inside the view: "
             "remove it (set 'mountpoint' or 'images path' in [global] instead)"},
    {"directory", "it replaces the share path, which is always the images folder inside the "
                  "view: remove it (set 'mountpoint' or 'images path' in [global] instead)"},
    {"include", "it reads another file into the share, whose lines could replace the path or "
                "open the share: remove it and give each parameter as a samba:KEY line"},
    {"copy", "it copies another share's settings, path included: remove it and give each "
             "parameter as a samba:KEY line"},
    {"guestok", "it contradicts 'guest ok' of [share]: remove it and set 'guest ok' instead"},
    {"public", "it is 'guest ok' and contradicts 'guest ok' of [share]: remove it and set "
               "'guest ok' instead"},
    {"readonly", "it contradicts 'read only' of [share]: remove it and set 'read only' "
                 "instead"},
    {"writeable", "it is the opposite of 'read only' of [share]: remove it and set 'read "
                  "only' instead"},
    {"writable", "it is the opposite of 'read only' of [share]: remove it and set 'read only' "
                 "instead"},
    {"writeok", "it is the opposite of 'read only' of [share]: remove it and set 'read only' "
                "instead"},
    {"validusers", "it contradicts 'valid users' of [share]: remove it and set 'valid users' "
                   "instead"},
    {"writelist", "it contradicts 'write list' of [share]: remove it and set 'write list' "
                  "instead"},
};

static void cfg_squeeze_key(const char *key, char *out, size_t size)
{
	size_t n = 0;

	for (; *key != '\0' && n + 1 < size; key++) {
		if (!isspace((unsigned char)*key)) {
			out[n++] = (char)tolower((unsigned char)*key);
		}
	}
	out[n] = '\0';
}

int cfg_check_param(struct cfg_parser *p, const char *key, const char *value)
{
	char show[CFG_SHOW_MAX];
	char name[CFG_KEY_MAX];
	const char *why = NULL;
	size_t len = strlen(key);

	cfg_show(key, show, sizeof(show));
	if (strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \t_:.-") !=
	    len) {
		cfg_err(p,
		        "bad smb.conf parameter name 'samba:%s': only letters, digits, spaces and "
		        "_ : . - are allowed (a '[' would start a section of smb.conf)",
		        show);
		return -1;
	}
	cfg_squeeze_key(key, name, sizeof(name));
	for (size_t i = 0; i < CFG_N(cfg_owned_params); i++) {
		if (strcmp(name, cfg_owned_params[i].key) == 0) {
			cfg_err(p, "'samba:%s' is not allowed: %s", show, cfg_owned_params[i].why);
			return -1;
		}
	}
	why = cfg_smb_text_bad(value);
	if (why != NULL) {
		char vshow[CFG_SHOW_MAX];
		cfg_err(p, "bad value '%s' for 'samba:%s': %s",
		        cfg_show(value, vshow, sizeof(vshow)), show, why);
		return -1;
	}
	return 0;
}

/* ---- setters: one per kind of value ------------------------------------ */

/* cfg_abs_path_bad -- why the absolute path V is refused, or NULL. */
static const char *cfg_abs_path_bad(const struct cfg_key *k, const char *v)
{
	const char *s = v;
	size_t len = 0;

	for (;;) {
		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (len == 0) {
			break;
		}
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
			return "'.' and '..' components are not allowed: write the path without "
			       "them";
		}
		s += len;
	}
	if (k->smb && strchr(v, '%') != NULL) {
		return "smb.conf reads '%' as a macro (%U, %m, ...), so Samba would use another "
		       "path: choose one without '%'";
	}
	return NULL;
}

static int cfg_set_abs_path(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	char show[CFG_SHOW_MAX];
	const char *why = NULL;
	char *copy = NULL;
	size_t len = 0;
	size_t n = 0;

	if (v[0] != '/') {
		return cfg_bad_value(p, k, v);
	}
	why = cfg_abs_path_bad(k, v);
	if (why != NULL) {
		cfg_err(p, "bad value '%s' for '%s': %s", cfg_show(v, show, sizeof(show)), k->name,
		        why);
		return -1;
	}
	if (cfg_smb_value_ok(p, k, v) < 0) {
		return -1;
	}
	copy = cfg_strdup(p, v);
	if (copy == NULL) {
		return -1;
	}
	for (size_t i = 0; copy[i] != '\0'; i++) { /* "//" -> "/" */
		if (!(copy[i] == '/' && n > 0 && copy[n - 1] == '/')) {
			copy[n++] = copy[i];
		}
	}
	copy[n] = '\0';
	len = n;
	while (len > 1 && copy[len - 1] == '/') {
		copy[--len] = '\0';
	}
	*(char **)dst = copy;
	return 0;
}

static bool cfg_bad_win_chars(const char *s, size_t len)
{
	size_t i = 0;

	for (i = 0; i < len; i++) {
		if (iscntrl((unsigned char)s[i]) || strchr(":*?\"<>|", s[i]) != NULL) {
			return true;
		}
	}
	return false;
}

/* cfg_norm_windows_path -- V with '\' or '/' separators into OUT (as large
 * as V) as '/'-separated parts; returns NULL or what is wrong. */
static const char *cfg_norm_windows_path(const char *v, char *out)
{
	size_t n = 0;
	size_t len = 0;

	for (;;) {
		v += strspn(v, "/\\");
		len = strcspn(v, "/\\");
		if (len == 0) {
			break;
		}
		if (strncmp(v, ".", len) == 0 || strncmp(v, "..", len) == 0) {
			return "'.' and '..' components are not allowed";
		}
		if (memchr(v, '%', len) != NULL) {
			return "smb.conf reads '%' as a macro (%U, %m, ...), so Samba would use "
			       "another path: choose a folder without '%'";
		}
		if (cfg_bad_win_chars(v, len)) {
			return "it contains a character not allowed in Windows names "
			       "(: * ? \" < > | or a control character)";
		}
		if (isspace((unsigned char)v[len - 1])) {
			return "a folder name ends with a space, which Windows drops and Samba "
			       "trims from the share's path: rename the folder";
		}
		if (n > 0) {
			out[n++] = '/';
		}
		memcpy(out + n, v, len);
		n += len;
		v += len;
	}
	out[n] = '\0';
	return n == 0 ? "expected a folder such as RemoteInstall\\SMSImages\\SMSPKG" : NULL;
}

static int cfg_drive_letter(struct cfg_parser *p, const struct cfg_key *k, const char *v)
{
	char show[CFG_SHOW_MAX];
	char rest[CFG_SHOW_MAX];
	const char *r = v + 2 + strspn(v + 2, "/\\");

	cfg_show(v, show, sizeof(show));
	if (*r == '\0') {
		cfg_err(p,
		        "'%s' is relative to each drive's root, so it cannot start with a drive "
		        "letter, got '%s'",
		        k->name, show);
		return -1;
	}
	cfg_err(p,
	        "'%s' is relative to each drive's root, so it cannot start with a drive "
	        "letter: write '%s' instead of '%s'",
	        k->name, cfg_show(r, rest, sizeof(rest)), show);
	return -1;
}

static int cfg_set_images_path(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                               const char *v)
{
	char show[CFG_SHOW_MAX];
	char *out = NULL;
	const char *why = NULL;

	if (isalpha((unsigned char)v[0]) && v[1] == ':') {
		return cfg_drive_letter(p, k, v);
	}
	out = malloc(strlen(v) + 1);
	if (out == NULL) {
		cfg_err(p, "out of memory");
		return -1;
	}
	why = cfg_norm_windows_path(v, out);
	if (why != NULL) {
		cfg_err(p, "bad value '%s' for '%s': %s", cfg_show(v, show, sizeof(show)), k->name,
		        why);
		free(out);
		return -1;
	}
	*(char **)dst = out;
	return 0;
}

static int cfg_set_mode(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	int i = cfg_find_word(cfg_mode_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_mode *)dst = (enum cfg_mode)i;
	return 0;
}

static int cfg_set_transport(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                             const char *v)
{
	int i = cfg_find_word(cfg_transport_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_transport *)dst = (enum cfg_transport)i;
	return 0;
}

static int cfg_set_samba(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	int i = cfg_find_word(cfg_samba_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_samba *)dst = (enum cfg_samba)i;
	return 0;
}

static int cfg_set_inode_numbers(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                                 const char *v)
{
	int i = cfg_find_word(cfg_ino_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_inode_numbers *)dst = (enum cfg_inode_numbers)i;
	return 0;
}

static int cfg_set_samba_config(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                                const char *v)
{
	int i = cfg_find_word(cfg_samba_config_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_samba_config *)dst = (enum cfg_samba_config)i;
	return 0;
}

static int cfg_set_log_level(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                             const char *v)
{
	int i = cfg_find_word(cfg_log_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum log_level *)dst = (enum log_level)i;
	return 0;
}

static int cfg_set_bool(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	if (cfg_parse_bool(v, (bool *)dst) < 0) {
		return cfg_bad_value(p, k, v);
	}
	return 0;
}

static int cfg_set_duration(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	uint64_t ms = 0;

	if (cfg_duration(v, &ms) < 0) {
		return cfg_bad_value(p, k, v);
	}
	if (!(ms == 0 && k->zero_ok) && (ms < (uint64_t)k->min || ms > (uint64_t)k->max)) {
		return cfg_bad_range(p, k, v);
	}
	*(unsigned *)dst = (unsigned)ms;
	return 0;
}

static int cfg_set_int(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	long long n = 0;

	if (cfg_integer(v, &n) < 0) {
		return cfg_bad_value(p, k, v);
	}
	if (n < k->min || n > k->max) {
		return cfg_bad_range(p, k, v);
	}
	*(int *)dst = (int)n;
	return 0;
}

static int cfg_set_uuid(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	size_t len = strlen(v);

	if (len > CFG_UUID_MAX || strspn(v, "0123456789abcdefABCDEF-") != len || v[0] == '-' ||
	    v[len - 1] == '-' || strstr(v, "--") != NULL) {
		return cfg_bad_value(p, k, v);
	}
	*(char **)dst = cfg_strdup(p, v);
	return *(char **)dst != NULL ? 0 : -1;
}

static int cfg_set_label(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	size_t len = strlen(v);

	if (len > CFG_LABEL_MAX) {
		cfg_err(p, "'%s' must be at most %d characters long, got %zu", k->name,
		        CFG_LABEL_MAX, len);
		return -1;
	}
	*(char **)dst = cfg_strdup(p, v);
	return *(char **)dst != NULL ? 0 : -1;
}

/* cfg_share_name_bad -- index of the first character Windows refuses in a
 * share name, or the length of S when there is none. */
static size_t cfg_share_name_bad(const char *s)
{
	size_t i = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (iscntrl((unsigned char)s[i]) || strchr("\\/[]:|<>+=;,*?\"", s[i]) != NULL) {
			break;
		}
	}
	return i;
}

static int cfg_set_share_name(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                              const char *v)
{
	static const char *const reserved[] = {"global", "homes", "printers", "ipc$"};
	char show[CFG_SHOW_MAX];
	char squeezed[CFG_SHARE_NAME_MAX + 1];
	char what[32];
	size_t len = strlen(v);
	size_t bad = cfg_share_name_bad(v);

	if (len > CFG_SHARE_NAME_MAX) {
		cfg_err(p, "'%s' must be at most %d characters long, got %zu", k->name,
		        CFG_SHARE_NAME_MAX, len);
		return -1;
	}
	cfg_squeeze_key(v, squeezed, sizeof(squeezed));
	for (size_t i = 0; i < CFG_N(reserved); i++) {
		if (strcmp(squeezed, reserved[i]) == 0) {
			cfg_err(
			    p,
			    "bad value '%s' for '%s': [%s] is a section of its own to Samba, so "
			    "the share's settings would land there: choose another name",
			    cfg_show(v, show, sizeof(show)), k->name, reserved[i]);
			return -1;
		}
	}
	if (bad < len) {
		snprintf(what, sizeof(what),
		         iscntrl((unsigned char)v[bad]) ? "a control character" : "'%c'", v[bad]);
		cfg_err(p, "bad value '%s' for '%s': %s is not allowed in a share name",
		        cfg_show(v, show, sizeof(show)), k->name, what);
		return -1;
	}
	*(char **)dst = cfg_strdup(p, v);
	return *(char **)dst != NULL ? 0 : -1;
}

static int cfg_set_string(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	if (*v == '\0') {
		return 0; /* empty = unset */
	}
	if (cfg_smb_value_ok(p, k, v) < 0) {
		return -1;
	}
	*(char **)dst = cfg_strdup(p, v);
	return *(char **)dst != NULL ? 0 : -1;
}

/* ---- names of the enums ------------------------------------------------ */

const char *cfg_mode_name(enum cfg_mode mode)
{
	return (unsigned)mode < CFG_N(cfg_mode_words) - 1 ? cfg_mode_words[mode] : "?";
}

const char *cfg_transport_name(enum cfg_transport transport)
{
	return (unsigned)transport < CFG_N(cfg_transport_words) - 1 ? cfg_transport_words[transport]
	                                                            : "?";
}

const char *cfg_samba_name(enum cfg_samba samba)
{
	return (unsigned)samba < CFG_N(cfg_samba_words) - 1 ? cfg_samba_words[samba] : "?";
}

const char *cfg_inode_numbers_name(enum cfg_inode_numbers n)
{
	return (unsigned)n < CFG_N(cfg_ino_words) - 1 ? cfg_ino_words[n] : "?";
}

bool cfg_drive_ids_differ(const struct pxe_config *cfg, const struct cfg_drive *d)
{
	return cfg->share.samba == CFG_SAMBA_CTDB && d->inode_numbers == CFG_INO_PATH;
}

const char *cfg_samba_config_name(enum cfg_samba_config c)
{
	return (unsigned)c < CFG_N(cfg_samba_config_words) - 1 ? cfg_samba_config_words[c] : "?";
}

bool cfg_samba_system(const struct pxe_config *cfg)
{
	return cfg->share.samba == CFG_SAMBA_SYSTEM || cfg->share.samba == CFG_SAMBA_CTDB;
}
