/* config.c -- pxeimagesfs.conf parser: smb.conf-style INI -> struct pxe_config.
 *
 * A hand-written line parser that never stops at the first mistake: every
 * error is kept as "file:line: message". It checks the form of values, never
 * the filesystem (paths need not exist), and has no line continuation: a
 * trailing '\' is a Windows path separator here. No global state; separate
 * calls on separate objects may run in parallel.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CFG_MAX_FILE_SIZE  ((size_t)1024 * 1024)
#define CFG_MAX_KEYS       16  /* per section */
#define CFG_KEY_MAX        128 /* longer keys are cut before comparing */
#define CFG_SHOW_MAX       64  /* longest user text quoted in a message */
#define CFG_TRAILER_MAX    40  /* room kept for "... and N more errors" */
#define CFG_DRIVE_NAME_MAX 32
#define CFG_UUID_MAX       64
#define CFG_LABEL_MAX      255
#define CFG_SHARE_NAME_MAX 80
#define CFG_HINT_MAX       2 /* edit distance for "did you mean" */

enum cfg_section { CFG_SEC_NONE = 0, CFG_SEC_GLOBAL, CFG_SEC_SHARE, CFG_SEC_DRIVE, CFG_SEC_SKIP };

/* One collected message; they are sorted by line before they are shown. */
struct cfg_error {
	int line;
	unsigned seq;
	char *text; /* "file:line: message" */
};

struct cfg_errors {
	struct cfg_error *list;
	size_t cap;
	unsigned n_stored;
	unsigned n_total; /* n_total > n_stored only when out of memory */
};

struct cfg_parser {
	const char *file;
	struct pxe_config *cfg;
	struct cfg_errors errs;
	int line;
	enum cfg_section sec;
	int seen[CFG_SEC_DRIVE + 1][CFG_MAX_KEYS]; /* line a key was first set, 0 = not yet */
};

struct cfg_key;
typedef int (*cfg_setter)(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);

struct cfg_key {
	const char *name;   /* canonical: lower case, single spaces */
	cfg_setter set;     /* reports its own errors */
	size_t off;         /* of the field in struct pxe_config or struct cfg_drive */
	const char *expect; /* what a good value looks like, for messages */
	const char *range;  /* numbers: "between 0s and 1h" */
	long long min;      /* numbers (durations in ms) */
	long long max;
	bool zero_ok;    /* durations: 0 is allowed besides min..max */
	bool empty_ok;   /* an empty value leaves the field unset */
	const char *def; /* string default, filled in after parsing */
};

struct cfg_section_def {
	const char *label; /* for "belongs in ..." */
	const struct cfg_key *keys;
	size_t n_keys;
};

static int cfg_set_abs_path(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                            const char *v);
static int cfg_set_images_path(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                               const char *v);
static int cfg_set_mode(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_samba(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v);
static int cfg_set_log_level(struct cfg_parser *p, const struct cfg_key *k, void *dst,
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
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/srv/pxeimages"},
	{.name = "images path", .set = cfg_set_images_path, .off = CFG_G(images_path),
	 .expect = "a folder relative to each drive's root, such as RemoteInstall\\SMSImages\\SMSPKG",
	 .def = "RemoteInstall/SMSImages/SMSPKG"},
	{.name = "mode", .set = cfg_set_mode, .off = CFG_G(mode), .expect = "union or single"},
	{.name = "state directory", .set = cfg_set_abs_path, .off = CFG_G(state_dir),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/var/lib/pxeimagesfs"},
	{.name = "run directory", .set = cfg_set_abs_path, .off = CFG_G(run_dir),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/run/pxeimagesfs"},
	{.name = "mount timeout", .set = cfg_set_duration, .off = CFG_G(mount_timeout_ms),
	 .expect = CFG_EXPECT_DURATION, .range = "between 0s and 1h", .min = 0, .max = 3600000},
	{.name = "rescan interval", .set = cfg_set_duration, .off = CFG_G(rescan_interval_ms),
	 .expect = CFG_EXPECT_DURATION, .range = "0 (off) or between 1s and 24h", .min = 1000,
	 .max = 86400000, .zero_ok = true},
	{.name = "require drives", .set = cfg_set_bool, .off = CFG_G(require_drives),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "discover network", .set = cfg_set_bool, .off = CFG_G(discover_network),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "log level", .set = cfg_set_log_level, .off = CFG_G(log_level),
	 .expect = "error, warning, info or debug"},
};

/* path, uuid and label must stay first: cfg_end_section checks them by index. */
static const struct cfg_key cfg_drive_keys[] = {
	{.name = "path", .set = cfg_set_abs_path, .off = CFG_D(path),
	 .expect = CFG_EXPECT_ABS_PATH},
	{.name = "uuid", .set = cfg_set_uuid, .off = CFG_D(uuid),
	 .expect = "a filesystem UUID: hex digits and '-', at most 64 characters"},
	{.name = "label", .set = cfg_set_label, .off = CFG_D(label),
	 .expect = "a filesystem label of at most 255 characters"},
	{.name = "priority", .set = cfg_set_int, .off = CFG_D(priority),
	 .expect = "an integer between -1000 and 1000", .range = "between -1000 and 1000",
	 .min = -1000, .max = 1000},
	{.name = "read only", .set = cfg_set_bool, .off = CFG_D(read_only),
	 .expect = CFG_EXPECT_BOOL},
};

static const struct cfg_key cfg_share_keys[] = {
	{.name = "name", .set = cfg_set_share_name, .off = CFG_G(share.name),
	 .expect = "a share name of 1 to 80 characters, none of \\ / [ ] : | < > + = ; , * ? \"",
	 .def = "SMSPXEIMAGES$"},
	{.name = "samba", .set = cfg_set_samba, .off = CFG_G(share.samba),
	 .expect = "system, private or none"},
	{.name = "port", .set = cfg_set_int, .off = CFG_G(share.port),
	 .expect = "an integer between 1 and 65535", .range = "between 1 and 65535", .min = 1,
	 .max = 65535},
	{.name = "interfaces", .set = cfg_set_string, .off = CFG_G(share.interfaces),
	 .expect = "a list of interfaces", .empty_ok = true},
	{.name = "valid users", .set = cfg_set_string, .off = CFG_G(share.valid_users),
	 .expect = "a list of users", .empty_ok = true},
	{.name = "write list", .set = cfg_set_string, .off = CFG_G(share.write_list),
	 .expect = "a list of users", .empty_ok = true},
	{.name = "read only", .set = cfg_set_bool, .off = CFG_G(share.read_only),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "guest ok", .set = cfg_set_bool, .off = CFG_G(share.guest_ok),
	 .expect = CFG_EXPECT_BOOL},
	{.name = "include file", .set = cfg_set_abs_path, .off = CFG_G(share.include_file),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/etc/samba/pxeimagesfs.conf"},
	{.name = "smb.conf", .set = cfg_set_abs_path, .off = CFG_G(share.smb_conf),
	 .expect = CFG_EXPECT_ABS_PATH, .def = "/etc/samba/smb.conf"},
};
// clang-format on

#define CFG_N(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(CFG_N(cfg_global_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");
_Static_assert(CFG_N(cfg_drive_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");
_Static_assert(CFG_N(cfg_share_keys) <= CFG_MAX_KEYS, "raise CFG_MAX_KEYS");

static const struct cfg_section_def cfg_sections[] = {
    [CFG_SEC_GLOBAL] = {"[global]", cfg_global_keys, CFG_N(cfg_global_keys)},
    [CFG_SEC_SHARE] = {"[share]", cfg_share_keys, CFG_N(cfg_share_keys)},
    [CFG_SEC_DRIVE] = {"[drive:NAME]", cfg_drive_keys, CFG_N(cfg_drive_keys)},
};

/* Indexed by the enums of config.h. */
static const char *const cfg_mode_words[] = {"union", "single", NULL};
static const char *const cfg_samba_words[] = {"system", "private", "none", NULL};
static const char *const cfg_log_words[] = {"error", "warning", "info", "debug", NULL};

/* ---- messages ---------------------------------------------------------- */

static int cfg_errors_add(struct cfg_errors *e, int line, char *text)
{
	struct cfg_error *list = NULL;
	size_t cap = e->cap ? e->cap * 2 : 16;

	if (e->n_stored == e->cap) {
		list = realloc(e->list, cap * sizeof(*list));
		if (list == NULL) {
			return -1;
		}
		e->list = list;
		e->cap = cap;
	}
	e->list[e->n_stored].line = line;
	e->list[e->n_stored].seq = e->n_stored;
	e->list[e->n_stored].text = text;
	e->n_stored++;
	return 0;
}

static void cfg_errors_fini(struct cfg_errors *e)
{
	unsigned i = 0;

	for (i = 0; i < e->n_stored; i++) {
		free(e->list[i].text);
	}
	free(e->list);
}

__attribute__((format(printf, 2, 3))) static void cfg_err(struct cfg_parser *p, const char *fmt,
                                                          ...)
{
	char msg[512];
	char *text = NULL;
	va_list ap;

	p->errs.n_total++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&text, "%s:%d: %s", p->file, p->line, msg) < 0) {
		return;
	}
	if (cfg_errors_add(&p->errs, p->line, text) < 0) {
		free(text);
	}
}

static int cfg_error_cmp(const void *a, const void *b)
{
	const struct cfg_error *x = a;
	const struct cfg_error *y = b;

	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* cfg_errors_flush -- the messages by line into errbuf, one per line, whole
 * lines only, ending with "... and N more errors" when they do not fit. */
static void cfg_errors_flush(struct cfg_errors *e, char *errbuf, size_t errlen)
{
	const char *msg = NULL;
	size_t used = 0;
	size_t reserve = 0;
	unsigned shown = 0;

	qsort(e->list, e->n_stored, sizeof(*e->list), cfg_error_cmp);
	for (shown = 0; shown < e->n_stored; shown++) {
		msg = e->list[shown].text;
		reserve = shown + 1 < e->n_total ? CFG_TRAILER_MAX : 0;
		if (used + (used ? 1 : 0) + strlen(msg) + reserve + 1 > errlen) {
			break;
		}
		used +=
		    (size_t)snprintf(errbuf + used, errlen - used, "%s%s", used ? "\n" : "", msg);
	}
	if (shown == e->n_total) {
		return;
	}
	if (shown == 0 && e->n_stored > 0) {
		/* too small even for one line: cut it */
		snprintf(errbuf, errlen, "%s", e->list[0].text);
		return;
	}
	if (shown == 0) {
		snprintf(errbuf, errlen, "out of memory while reporting %u errors", e->n_total);
		return;
	}
	snprintf(errbuf + used, errlen - used, "\n... and %u more error%s", e->n_total - shown,
	         e->n_total - shown == 1 ? "" : "s");
}

__attribute__((format(printf, 3, 4))) static void cfg_msg(char *errbuf, size_t errlen,
                                                          const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* cfg_show -- user text made safe to quote: control characters become '?',
 * long text is cut at a character boundary and ends in "...". */
static const char *cfg_show(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	for (i = 0; s[i] != '\0' && i + 4 < size; i++) {
		buf[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	}
	if (s[i] != '\0') {
		while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) {
			i--;
		}
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

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

static char *cfg_strdup(struct cfg_parser *p, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL) {
		cfg_err(p, "out of memory");
	}
	return copy;
}

/* ---- small text helpers ------------------------------------------------ */

static bool cfg_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *cfg_trim(char *s)
{
	size_t len = 0;

	while (cfg_is_blank(*s)) {
		s++;
	}
	len = strlen(s);
	while (len > 0 && cfg_is_blank(s[len - 1])) {
		s[--len] = '\0';
	}
	return s;
}

/* cfg_norm_key -- lower case, runs of blanks as one space; cut to size. */
static void cfg_norm_key(const char *key, char *out, size_t size)
{
	size_t n = 0;
	bool blank = false;

	for (; *key != '\0' && n + 3 < size; key++) {
		if (cfg_is_blank(*key)) {
			blank = true;
			continue;
		}
		if (blank && n > 0) {
			out[n++] = ' ';
		}
		blank = false;
		out[n++] = (char)tolower((unsigned char)*key);
	}
	out[n] = '\0';
}

static size_t cfg_min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* cfg_distance -- Levenshtein distance of two short strings. */
static size_t cfg_distance(const char *a, const char *b)
{
	size_t row[CFG_KEY_MAX + 1];
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t i = 0;
	size_t j = 0;
	size_t diag = 0;
	size_t up = 0;

	if (la > CFG_KEY_MAX || lb > CFG_KEY_MAX) {
		return SIZE_MAX;
	}
	for (j = 0; j <= lb; j++) {
		row[j] = j;
	}
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = cfg_min3(up + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

/* cfg_nearest -- the candidate closest to WORD, if close enough to be a typo. */
static const char *cfg_nearest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = CFG_HINT_MAX + 1;
	size_t d = 0;
	size_t i = 0;

	for (i = 0; i < n; i++) {
		d = cfg_distance(word, cands[i]);
		if (d < best_d && d < strlen(cands[i])) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

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

/* ---- setters: one per kind of value ------------------------------------ */

static int cfg_set_abs_path(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	char *copy = NULL;
	size_t len = 0;

	if (v[0] != '/') {
		return cfg_bad_value(p, k, v);
	}
	copy = cfg_strdup(p, v);
	if (copy == NULL) {
		return -1;
	}
	len = strlen(copy);
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
		if (cfg_bad_win_chars(v, len)) {
			return "it contains a character not allowed in Windows names "
			       "(: * ? \" < > | or a control character)";
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

static int cfg_set_samba(struct cfg_parser *p, const struct cfg_key *k, void *dst, const char *v)
{
	int i = cfg_find_word(cfg_samba_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_samba *)dst = (enum cfg_samba)i;
	return 0;
}

static int cfg_set_log_level(struct cfg_parser *p, const struct cfg_key *k, void *dst,
                             const char *v)
{
	int i = cfg_find_word(cfg_log_words, v);

	if (i < 0) {
		return cfg_bad_value(p, k, v);
	}
	*(enum cfg_log_level *)dst = (enum cfg_log_level)i;
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

	if (len > CFG_UUID_MAX || strspn(v, "0123456789abcdefABCDEF-") != len) {
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
	char show[CFG_SHOW_MAX];
	char what[32];
	size_t len = strlen(v);
	size_t bad = cfg_share_name_bad(v);

	if (len > CFG_SHARE_NAME_MAX) {
		cfg_err(p, "'%s' must be at most %d characters long, got %zu", k->name,
		        CFG_SHARE_NAME_MAX, len);
		return -1;
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
	(void)k;
	if (*v == '\0') {
		return 0; /* empty = unset */
	}
	*(char **)dst = cfg_strdup(p, v);
	return *(char **)dst != NULL ? 0 : -1;
}

/* ---- sections ---------------------------------------------------------- */

static struct cfg_drive *cfg_cur_drive(struct cfg_parser *p)
{
	return &p->cfg->drives[p->cfg->n_drives - 1];
}

/* cfg_where -- the current section as written, for messages. */
static const char *cfg_where(struct cfg_parser *p, char *buf, size_t size)
{
	if (p->sec == CFG_SEC_DRIVE) {
		snprintf(buf, size, "[drive:%s]", cfg_cur_drive(p)->name);
	} else {
		snprintf(buf, size, "%s", cfg_sections[p->sec].label);
	}
	return buf;
}

static void cfg_end_section(struct cfg_parser *p)
{
	const int *seen = p->seen[CFG_SEC_DRIVE];
	const struct cfg_drive *d = NULL;
	int line = p->line;

	if (p->sec != CFG_SEC_DRIVE || seen[0] || seen[1] || seen[2]) {
		return; /* drive keys 0..2: path, uuid, label */
	}
	d = cfg_cur_drive(p);
	p->line = d->line;
	cfg_err(p, "drive %s has no identity: set path, uuid or label", d->name);
	p->line = line;
}

static bool cfg_valid_drive_name(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= CFG_DRIVE_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	           len;
}

static void cfg_begin_drive(struct cfg_parser *p, const char *name)
{
	struct pxe_config *cfg = p->cfg;
	struct cfg_drive *drives = NULL;
	char show[CFG_SHOW_MAX];
	size_t i = 0;

	if (!cfg_valid_drive_name(name)) {
		cfg_err(p, "bad drive name '%s': expected 1 to 32 letters, digits, '_', '.' or '-'",
		        cfg_show(name, show, sizeof(show)));
		return;
	}
	for (i = 0; i < cfg->n_drives; i++) {
		if (strcasecmp(cfg->drives[i].name, name) == 0) {
			cfg_err(p, "duplicate drive '%s' (first defined at line %d)", name,
			        cfg->drives[i].line);
			break; /* still check its keys */
		}
	}
	drives = realloc(cfg->drives, (cfg->n_drives + 1) * sizeof(*drives));
	if (drives == NULL) {
		cfg_err(p, "out of memory");
		return;
	}
	cfg->drives = drives;
	memset(&drives[cfg->n_drives], 0, sizeof(*drives));
	drives[cfg->n_drives].line = p->line;
	drives[cfg->n_drives].name = cfg_strdup(p, name);
	if (drives[cfg->n_drives].name == NULL) {
		return;
	}
	cfg->n_drives++;
	memset(p->seen[CFG_SEC_DRIVE], 0, sizeof(p->seen[CFG_SEC_DRIVE]));
	p->sec = CFG_SEC_DRIVE;
}

static void cfg_unknown_section(struct cfg_parser *p, const char *name)
{
	static const char *const known[] = {"global", "share", "drive"};
	char show[CFG_SHOW_MAX];
	char lower[CFG_KEY_MAX];
	const char *near = NULL;

	cfg_norm_key(name, lower, sizeof(lower));
	near = cfg_nearest(lower, known, CFG_N(known));
	if (near == NULL && strncmp(lower, "drive", 5) == 0) {
		near = "drive";
	}
	cfg_show(name, show, sizeof(show));
	if (near != NULL) {
		cfg_err(p, "unknown section [%s]; did you mean [%s%s]?", show, near,
		        strcmp(near, "drive") == 0 ? ":NAME" : "");
		return;
	}
	cfg_err(p, "unknown section [%s]; expected [global], [share] or [drive:NAME]", show);
}

static void cfg_parse_section(struct cfg_parser *p, char *s)
{
	size_t len = strlen(s);
	char *name = NULL;

	cfg_end_section(p);
	p->sec = CFG_SEC_SKIP; /* keys of a broken section are not checked */
	if (s[len - 1] != ']' && strchr(s, ']') != NULL) {
		cfg_err(p,
		        "text after ']' in a section header (comments need a line of their own)");
		return;
	}
	if (s[len - 1] != ']') {
		cfg_err(p, "section header without closing ']'");
		return;
	}
	s[len - 1] = '\0';
	name = cfg_trim(s + 1);
	if (strcasecmp(name, "global") == 0) {
		p->sec = CFG_SEC_GLOBAL;
	} else if (strcasecmp(name, "share") == 0) {
		p->sec = CFG_SEC_SHARE;
	} else if (strncasecmp(name, "drive:", 6) == 0) {
		cfg_begin_drive(p, cfg_trim(name + 6));
	} else {
		cfg_unknown_section(p, name);
	}
}

/* ---- keys -------------------------------------------------------------- */

static int cfg_find_key(enum cfg_section sec, const char *nkey)
{
	const struct cfg_section_def *def = &cfg_sections[sec];
	size_t i = 0;

	for (i = 0; i < def->n_keys; i++) {
		if (strcmp(def->keys[i].name, nkey) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* cfg_homes -- the other sections where NKEY is a key: "[share]" or
 * "[drive:NAME] or [share]"; empty when none. */
static const char *cfg_homes(enum cfg_section sec, const char *nkey, char *buf, size_t size)
{
	static const enum cfg_section order[] = {CFG_SEC_GLOBAL, CFG_SEC_DRIVE, CFG_SEC_SHARE};
	size_t used = 0;
	size_t i = 0;
	bool param = strncmp(nkey, "samba:", 6) == 0;

	buf[0] = '\0';
	for (i = 0; i < CFG_N(order); i++) {
		if (order[i] == sec ||
		    !(cfg_find_key(order[i], nkey) >= 0 || (param && order[i] == CFG_SEC_SHARE))) {
			continue;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " or " : "",
		                         cfg_sections[order[i]].label);
	}
	return buf;
}

static void cfg_unknown_key(struct cfg_parser *p, const char *key, const char *nkey)
{
	const struct cfg_section_def *def = &cfg_sections[p->sec];
	const char *names[CFG_MAX_KEYS];
	char show[CFG_SHOW_MAX];
	char nshow[CFG_SHOW_MAX];
	char where[64];
	char homes[64];
	const char *near = NULL;
	size_t i = 0;

	cfg_show(key, show, sizeof(show));
	(void)cfg_where(p, where, sizeof(where));
	if (*cfg_homes(p->sec, nkey, homes, sizeof(homes)) != '\0') {
		cfg_err(p, "unknown key '%s' in %s; '%s' belongs in %s", show, where,
		        cfg_show(nkey, nshow, sizeof(nshow)), homes);
		return;
	}
	for (i = 0; i < def->n_keys; i++) {
		names[i] = def->keys[i].name;
	}
	near = cfg_nearest(nkey, names, def->n_keys);
	if (near != NULL) {
		cfg_err(p, "unknown key '%s' in %s; did you mean '%s'?", show, where, near);
		return;
	}
	cfg_err(p, "unknown key '%s' in %s", show, where);
}

static void cfg_outside_section(struct cfg_parser *p, const char *key, const char *nkey)
{
	char show[CFG_SHOW_MAX];
	char homes[64];

	cfg_show(key, show, sizeof(show));
	if (*cfg_homes(CFG_SEC_NONE, nkey, homes, sizeof(homes)) != '\0') {
		cfg_err(p, "key '%s' is outside any section; it belongs in %s", show, homes);
		return;
	}
	cfg_err(p, "key '%s' is outside any section; start with [global], [share] or [drive:NAME]",
	        show);
}

/* cfg_param_seen -- KEY was already given as a samba: parameter (reported). */
static bool cfg_param_seen(struct cfg_parser *p, const char *key)
{
	const struct cfg_share *sh = &p->cfg->share;
	char nkey[CFG_KEY_MAX];
	char other[CFG_KEY_MAX];
	size_t i = 0;

	cfg_norm_key(key, nkey, sizeof(nkey));
	for (i = 0; i < sh->n_params; i++) {
		cfg_norm_key(sh->params[i].key, other, sizeof(other));
		if (strcmp(nkey, other) == 0) {
			cfg_err(p, "duplicate key 'samba:%s' (first set at line %d)",
			        cfg_show(nkey, other, sizeof(other)), sh->params[i].line);
			return true;
		}
	}
	return false;
}

static void cfg_add_param(struct cfg_parser *p, char *key, const char *value)
{
	struct cfg_share *sh = &p->cfg->share;
	struct cfg_param *params = NULL;
	char *k = NULL;
	char *v = NULL;

	key = cfg_trim(strchr(key, ':') + 1);
	if (*key == '\0') {
		cfg_err(p, "missing smb.conf parameter name after 'samba:'");
		goto out;
	}
	if (cfg_param_seen(p, key)) {
		goto out;
	}
	params = realloc(sh->params, (sh->n_params + 1) * sizeof(*params));
	if (params == NULL) {
		cfg_err(p, "out of memory");
		goto out;
	}
	sh->params = params;
	k = cfg_strdup(p, key);
	v = cfg_strdup(p, value);
	if (k == NULL || v == NULL) {
		goto out;
	}
	params[sh->n_params] = (struct cfg_param){.key = k, .value = v, .line = p->line};
	sh->n_params++;
	k = NULL;
	v = NULL;
out:
	free(k);
	free(v);
}

static void cfg_set_key(struct cfg_parser *p, int idx, const char *value)
{
	const struct cfg_key *k = &cfg_sections[p->sec].keys[idx];
	int *seen = &p->seen[p->sec][idx];
	char *base = NULL;

	if (*seen != 0) {
		cfg_err(p, "duplicate key '%s' (first set at line %d)", k->name, *seen);
		return;
	}
	*seen = p->line;
	if (*value == '\0' && !k->empty_ok) {
		cfg_err(p, "missing value for '%s': expected %s", k->name, k->expect);
		return;
	}
	base = p->sec == CFG_SEC_DRIVE ? (char *)cfg_cur_drive(p) : (char *)p->cfg;
	(void)k->set(p, k, base + k->off, value);
}

static void cfg_parse_pair(struct cfg_parser *p, char *key, const char *value)
{
	char nkey[CFG_KEY_MAX];
	int idx = -1;

	if (*key == '\0') {
		cfg_err(p, "missing key before '='");
		return;
	}
	cfg_norm_key(key, nkey, sizeof(nkey));
	if (p->sec == CFG_SEC_SKIP) {
		return;
	}
	if (p->sec == CFG_SEC_NONE) {
		cfg_outside_section(p, key, nkey);
		return;
	}
	if (p->sec == CFG_SEC_SHARE && strncmp(nkey, "samba:", 6) == 0) {
		cfg_add_param(p, key, value);
		return;
	}
	idx = cfg_find_key(p->sec, nkey);
	if (idx < 0) {
		cfg_unknown_key(p, key, nkey);
		return;
	}
	cfg_set_key(p, idx, value);
}

static void cfg_parse_line(struct cfg_parser *p, char *line)
{
	char *s = cfg_trim(line);
	char *eq = NULL;

	if (*s == '\0' || *s == '#' || *s == ';') {
		return;
	}
	if (*s == '[') {
		cfg_parse_section(p, s);
		return;
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		cfg_err(p, "expected `key = value` or `[section]`");
		return;
	}
	*eq = '\0';
	cfg_parse_pair(p, cfg_trim(s), cfg_trim(eq + 1));
}

static void cfg_parse_text(struct cfg_parser *p, char *text)
{
	char *line = text;
	char *next = NULL;

	if (strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3; /* UTF-8 byte order mark, as Windows editors write it */
	}
	while (line != NULL) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		p->line++;
		cfg_parse_line(p, line);
		line = next;
	}
	cfg_end_section(p);
}

/* ---- loading ----------------------------------------------------------- */

static struct pxe_config *cfg_new(const char *file)
{
	struct pxe_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		return NULL;
	}
	cfg->file = strdup(file);
	if (cfg->file == NULL) {
		free(cfg);
		return NULL;
	}
	cfg->mode = CFG_MODE_UNION;
	cfg->mount_timeout_ms = 30000;
	cfg->rescan_interval_ms = 30000;
	cfg->log_level = CFG_LOG_INFO;
	cfg->share.samba = CFG_SAMBA_SYSTEM;
	cfg->share.port = 445;
	return cfg;
}

static void cfg_fill_defaults(struct cfg_parser *p)
{
	static const enum cfg_section secs[] = {CFG_SEC_GLOBAL, CFG_SEC_SHARE};
	const struct cfg_key *k = NULL;
	char **field = NULL;
	size_t i = 0;
	size_t j = 0;

	for (i = 0; i < CFG_N(secs); i++) {
		for (j = 0; j < cfg_sections[secs[i]].n_keys; j++) {
			k = &cfg_sections[secs[i]].keys[j];
			field = (char **)((char *)p->cfg + k->off);
			if (k->def != NULL && *field == NULL) {
				*field = cfg_strdup(p, k->def);
			}
		}
	}
}

/* cfg_load_buffer -- parse TEXT in place (it is modified). */
static int cfg_load_buffer(char *text, const char *name, struct pxe_config **out, char *errbuf,
                           size_t errlen)
{
	struct cfg_parser p;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.file = name;
	p.cfg = cfg_new(name);
	if (p.cfg == NULL) {
		cfg_msg(errbuf, errlen, "%s: out of memory", name);
		goto out;
	}
	cfg_parse_text(&p, text);
	if (p.errs.n_total == 0) {
		cfg_fill_defaults(&p);
	}
	if (p.errs.n_total > 0) {
		if (errbuf != NULL && errlen > 0) {
			cfg_errors_flush(&p.errs, errbuf, errlen);
		}
		goto out;
	}
	*out = p.cfg;
	p.cfg = NULL;
	rc = 0;
out:
	cfg_free(p.cfg);
	cfg_errors_fini(&p.errs);
	return rc;
}

int cfg_load_string(const char *text, const char *name, struct pxe_config **out, char *errbuf,
                    size_t errlen)
{
	char *copy = NULL;
	int rc = -1;

	cfg_msg(errbuf, errlen, "%s", "");
	if (name == NULL) {
		name = "<string>";
	}
	if (out != NULL) {
		*out = NULL;
	}
	if (text == NULL || out == NULL) {
		cfg_msg(errbuf, errlen, "%s: no text or no result pointer given", name);
		return -1; /* nothing to clean up yet */
	}
	copy = strdup(text);
	if (copy == NULL) {
		cfg_msg(errbuf, errlen, "%s: out of memory", name);
		goto out;
	}
	rc = cfg_load_buffer(copy, name, out, errbuf, errlen);
out:
	free(copy);
	return rc;
}

/* cfg_read_file -- the whole of FILE, NUL-terminated, at most 1 MiB. */
static int cfg_read_file(const char *file, char **text, size_t *len, char *errbuf, size_t errlen)
{
	char *buf = NULL;
	size_t used = 0;
	ssize_t n = 0;
	int fd = -1;
	int rc = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	buf = malloc(CFG_MAX_FILE_SIZE + 2);
	if (buf == NULL) {
		cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(ENOMEM));
		goto out;
	}
	while (used <= CFG_MAX_FILE_SIZE) {
		n = read(fd, buf + used, CFG_MAX_FILE_SIZE + 1 - used);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			cfg_msg(errbuf, errlen, "%s: cannot read: %s", file, strerror(errno));
			goto out;
		}
		if (n == 0) {
			break;
		}
		used += (size_t)n;
	}
	if (used > CFG_MAX_FILE_SIZE) {
		cfg_msg(errbuf, errlen, "%s: file is larger than 1 MiB; this is not a config file",
		        file);
		goto out;
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	buf = NULL;
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return rc;
}

int cfg_load_file(const char *file, struct pxe_config **out, char *errbuf, size_t errlen)
{
	char *text = NULL;
	const char *nul = NULL;
	size_t len = 0;
	size_t i = 0;
	int line = 1;
	int rc = -1;

	cfg_msg(errbuf, errlen, "%s", "");
	if (out != NULL) {
		*out = NULL;
	}
	if (file == NULL || out == NULL) {
		cfg_msg(errbuf, errlen, "no file or no result pointer given");
		goto out;
	}
	if (cfg_read_file(file, &text, &len, errbuf, errlen) < 0) {
		goto out;
	}
	nul = memchr(text, '\0', len);
	if (nul != NULL) {
		for (i = 0; text + i < nul; i++) {
			line += text[i] == '\n';
		}
		cfg_msg(errbuf, errlen, "%s:%d: file contains a NUL byte; this is not a text file",
		        file, line);
		goto out;
	}
	rc = cfg_load_buffer(text, file, out, errbuf, errlen);
out:
	free(text);
	return rc;
}

const char *cfg_default_path(void)
{
	const char *env = getenv(CFG_ENV_PATH);

	return env != NULL && *env != '\0' ? env : CFG_DEFAULT_PATH;
}

static void cfg_drive_fini(struct cfg_drive *d)
{
	free(d->name);
	free(d->path);
	free(d->uuid);
	free(d->label);
}

void cfg_free(struct pxe_config *cfg)
{
	size_t i = 0;

	if (cfg == NULL) {
		return;
	}
	for (i = 0; i < cfg->n_drives; i++) {
		cfg_drive_fini(&cfg->drives[i]);
	}
	free(cfg->drives);
	for (i = 0; i < cfg->share.n_params; i++) {
		free(cfg->share.params[i].key);
		free(cfg->share.params[i].value);
	}
	free(cfg->share.params);
	free(cfg->share.name);
	free(cfg->share.interfaces);
	free(cfg->share.valid_users);
	free(cfg->share.write_list);
	free(cfg->share.include_file);
	free(cfg->share.smb_conf);
	free(cfg->file);
	free(cfg->mountpoint);
	free(cfg->images_path);
	free(cfg->state_dir);
	free(cfg->run_dir);
	free(cfg);
}

const char *cfg_mode_name(enum cfg_mode mode)
{
	return (unsigned)mode < CFG_N(cfg_mode_words) - 1 ? cfg_mode_words[mode] : "?";
}

const char *cfg_samba_name(enum cfg_samba samba)
{
	return (unsigned)samba < CFG_N(cfg_samba_words) - 1 ? cfg_samba_words[samba] : "?";
}
