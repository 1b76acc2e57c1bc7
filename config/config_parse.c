/* config_parse.c -- the line parser of pxeimagesfs.conf: sections, keys, samba: parameters.
 *
 * smb.conf-style INI text -> the fields of struct pxe_config, one line at a time. It never
 * stops at the first mistake: every error is kept as "file:line: message"
 * (config_errors.c); what a value may be is config_keys.c's, what the whole file must
 * satisfy config_check.c's. There is no line continuation: a trailing '\' is a Windows path
 * separator here. No global state; separate parsers may run in parallel.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_DRIVE_NAME_MAX 32

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

int cfg_find_key(enum cfg_section sec, const char *nkey)
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
	if (cfg_param_seen(p, key) || cfg_check_param(p, key, value) < 0) {
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

/* cfg_drive_unique -- the path (IDX 0) or uuid (IDX 1) just set names no earlier drive. */
static void cfg_drive_unique(struct cfg_parser *p, int idx)
{
	const struct cfg_drive *d = cfg_cur_drive(p);
	const struct cfg_drive *o = NULL;
	const char *mine = idx == 0 ? d->path : d->uuid;
	const char *theirs = NULL;
	char show[CFG_SHOW_MAX];

	for (size_t i = 0; mine != NULL && i + 1 < p->cfg->n_drives; i++) {
		o = &p->cfg->drives[i];
		theirs = idx == 0 ? o->path : o->uuid;
		if (theirs != NULL &&
		    (idx == 0 ? strcmp(mine, theirs) : strcasecmp(mine, theirs)) == 0) {
			cfg_err(p,
			        "drive %s has the same %s '%s' as drive %s (line %d): one "
			        "drive would be served twice; remove one of the two sections",
			        d->name, idx == 0 ? "path" : "uuid",
			        cfg_show(mine, show, sizeof(show)), o->name, o->line);
			return;
		}
	}
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
	if (k->set(p, k, base + k->off, value) == 0 && p->sec == CFG_SEC_DRIVE && idx <= 1) {
		cfg_drive_unique(p, idx);
	}
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

void cfg_parse_text(struct cfg_parser *p, char *text)
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
