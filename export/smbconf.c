/* smbconf.c -- pure smb.conf text: classify lines, add or strip our marked include, comment out
 * a section, find the definitions of a share, read testparm's stderr; and a growing string.
 *
 * No I/O and no globals: every function works on the strings it is given and returns malloc'd
 * results, so all of it is thread-safe. It never decides what to change (system.c does).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smbconf.h"

#define SAMBA_VALUE_MAX 8192

/* ---- a growing string ------------------------------------------------------------------------ */

void sb_add(struct sbuf *b, const char *p, size_t n)
{
	char *ns = NULL;
	size_t cap = 0;

	if (b->failed) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n = 0;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	sb_add(b, s, (size_t)n);
	free(s);
}

/* sb_take -- the text (never NULL unless out of memory); B is emptied. */
char *sb_take(struct sbuf *b)
{
	char *s = b->s;

	if (!b->failed && !s) {
		s = strdup("");
	} else if (b->failed) {
		free(s);
		s = NULL;
	}
	memset(b, 0, sizeof(*b));
	return s;
}

/* ---- pure smb.conf text helpers -------------------------------------------------------------- */

const char *samba_skip_ws(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p)) {
		p++;
	}
	return p;
}

const char *samba_trim_end(const char *p, const char *end)
{
	while (end > p && isspace((unsigned char)end[-1])) {
		end--;
	}
	return end;
}

void samba_copy_out(char *dst, size_t dlen, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (dlen == 0) {
		return;
	}
	n = n < dlen ? n : dlen - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

enum samba_line_kind samba_conf_line(const char *line, size_t n, char *name, size_t nlen,
                                     char *value, size_t vlen)
{
	const char *end = samba_trim_end(line, line + n);
	const char *p = samba_skip_ws(line, end);
	const char *mark = NULL;

	samba_copy_out(name, nlen, p, p);
	samba_copy_out(value, vlen, p, p);
	if (p == end) {
		return SAMBA_LINE_BLANK;
	}
	if (*p == '#' || *p == ';') {
		return SAMBA_LINE_COMMENT;
	}
	if (*p == '[') {
		mark = memchr(p, ']', (size_t)(end - p));
		if (!mark) {
			return SAMBA_LINE_OTHER;
		}
		p = samba_skip_ws(p + 1, mark);
		samba_copy_out(name, nlen, p, samba_trim_end(p, mark));
		return SAMBA_LINE_SECTION;
	}
	mark = memchr(p, '=', (size_t)(end - p));
	if (!mark) {
		return SAMBA_LINE_OTHER;
	}
	samba_copy_out(name, nlen, p, samba_trim_end(p, mark));
	p = samba_skip_ws(mark + 1, end);
	samba_copy_out(value, vlen, p, end);
	return SAMBA_LINE_PARAM;
}

bool samba_name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a && isspace((unsigned char)*a)) {
			a++;
		}
		while (*b && isspace((unsigned char)*b)) {
			b++;
		}
		if (!*a || !*b) {
			return !*a && !*b;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
			return false;
		}
		a++;
		b++;
	}
}

/* samba_first_line -- the first non-blank line of S, trimmed, into OUT. */
void samba_first_line(const char *s, char *out, size_t len)
{
	const char *p = s ? samba_skip_ws(s, s + strlen(s)) : "";

	samba_copy_out(out, len, p, samba_trim_end(p, p + strcspn(p, "\n")));
}

/* samba_next_line -- the line of TEXT at *POS (length *N without its newline); advances *POS. */
bool samba_next_line(const char *text, size_t *pos, const char **line, size_t *n)
{
	const char *s = text + *pos;
	const char *nl = NULL;

	if (!*s) {
		return false;
	}
	nl = strchr(s, '\n');
	*line = s;
	*n = nl ? (size_t)(nl - s) : strlen(s);
	*pos += *n + (nl ? 1 : 0);
	return true;
}

/* line_ours -- 1 for our marker comment, 2 for an include of INCLUDE, else 0. */
static int line_ours(const char *line, size_t n, const char *include)
{
	char key[64];
	char val[SAMBA_VALUE_MAX];
	enum samba_line_kind k = samba_conf_line(line, n, key, sizeof(key), val, sizeof(val));
	const char *p = samba_skip_ws(line, line + n);
	size_t plen = strlen(SAMBA_INCLUDE_MARKER_PREFIX);

	if (k == SAMBA_LINE_COMMENT) {
		return (size_t)(line + n - p) >= plen &&
		       !strncmp(p, SAMBA_INCLUDE_MARKER_PREFIX, plen);
	}
	return k == SAMBA_LINE_PARAM && samba_name_eq(key, "include") && !strcmp(val, include) ? 2
	                                                                                       : 0;
}

char *samba_conf_strip_include(const char *text, const char *include, int *removed)
{
	struct sbuf b = {0};
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int count = 0;
	int kind = 0;

	while (samba_next_line(text, &pos, &line, &n)) {
		kind = line_ours(line, n, include);
		count += kind == 2;
		if (kind == 0) {
			sb_add(&b, line, n + (line[n] == '\n'));
		}
	}
	if (removed) {
		*removed = count;
	}
	return sb_take(&b);
}

char *samba_conf_add_include(const char *text, const char *include, const char *line_path)
{
	struct sbuf b = {0};
	char *base = samba_conf_strip_include(text, include, NULL);

	if (!base) {
		return NULL;
	}
	sb_put(&b, "%s", base);
	if (b.len > 0 && b.s[b.len - 1] != '\n') {
		sb_add(&b, "\n", 1);
	}
	sb_put(&b, "%s\ninclude = %s\n", SAMBA_INCLUDE_MARKER, line_path);
	free(base);
	return sb_take(&b);
}

static bool value_true(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "1") ||
	       !strcasecmp(v, "on");
}

/* scan_param -- one parameter of samba_conf_scan; CUR is the index of the definition we are in. */
static int scan_param(struct samba_conf_facts *f, const char *key, const char *val, int line,
                      bool global, long cur)
{
	void *nv = NULL;
	char *copy = NULL;

	if (cur >= 0 && (samba_name_eq(key, "path") || samba_name_eq(key, "directory"))) {
		copy = strdup(val);
		if (!copy) {
			return -ENOMEM;
		}
		free(f->defs[cur].path);
		f->defs[cur].path = copy;
	} else if (samba_name_eq(key, "include") && !strcasecmp(val, "registry")) {
		f->registry = f->registry || global;
	} else if (samba_name_eq(key, "include")) {
		nv = realloc(f->incs, (f->n_incs + 1) * sizeof(*f->incs));
		copy = strdup(val);
		if (nv) {
			f->incs = nv;
		}
		if (!nv || !copy) {
			free(copy);
			return -ENOMEM;
		}
		f->incs[f->n_incs++] = (struct samba_conf_inc){line, copy, global};
	} else if (global && (samba_name_eq(key, "registry shares") ||
	                      samba_name_eq(key, "config backend"))) {
		f->registry = f->registry || value_true(val) || !strcasecmp(val, "registry");
	}
	return 0;
}

static int scan_section(struct samba_conf_facts *f, const char *name, const char *share, int line,
                        bool *global, long *cur)
{
	void *nv = NULL;
	char *copy = NULL;

	*global = samba_name_eq(name, "global");
	*cur = -1;
	if (!samba_name_eq(name, share)) {
		return 0;
	}
	nv = realloc(f->defs, (f->n_defs + 1) * sizeof(*f->defs));
	copy = strdup(name);
	if (nv) {
		f->defs = nv;
	}
	if (!nv || !copy) {
		free(copy);
		return -ENOMEM;
	}
	f->defs[f->n_defs] = (struct samba_conf_def){line, copy, NULL};
	*cur = (long)f->n_defs++;
	return 0;
}

/* continues -- may the logical line LG go on at the next line? Not a comment (smbd joins
 * parameter lines and section header lines, as testparm shows). */
static bool continues(const struct sbuf *lg)
{
	const char *p = samba_skip_ws(lg->s, lg->s + lg->len);

	return !lg->failed && *p != '#' && *p != ';';
}

/* logical_line -- the next line of TEXT with its continuation lines joined
 * (a parameter line ending in '\'); *NO counts physical lines. A '\' that starts a line is
 * dropped with the blanks after it, as smbd does ("bogus backslash"). */
static bool logical_line(const char *text, size_t *pos, int *no, struct sbuf *lg)
{
	const char *line = NULL;
	const char *end = NULL;
	const char *p = NULL;
	size_t n = 0;

	lg->len = 0;
	sb_add(lg, "", 0);
	if (!samba_next_line(text, pos, &line, &n)) {
		return false;
	}
	(*no)++;
	p = samba_skip_ws(line, line + n);
	if (p < line + n && *p == '\\') {
		p = samba_skip_ws(p + 1, line + n);
		n -= (size_t)(p - line);
		line = p;
	}
	sb_add(lg, line, n);
	while (continues(lg)) {
		end = samba_trim_end(lg->s, lg->s + lg->len);
		if (end == lg->s || end[-1] != '\\' || !samba_next_line(text, pos, &line, &n)) {
			break;
		}
		(*no)++;
		lg->len = (size_t)(end - 1 - lg->s);
		sb_add(lg, line, n);
	}
	return true;
}

/* comment_lines -- the physical lines P..END of one logical line into B, each non-blank one
 * prefixed when IN; *LAST gets the number of the last one prefixed (lines from FROM on). */
static void comment_lines(struct sbuf *b, const char *p, const char *end, bool in, int from,
                          int *last)
{
	const char *nl = NULL;
	size_t n = 0;

	for (int no = from; p < end; no++, p += n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (in && samba_skip_ws(p, p + n) != p + n) {
			*last = no;
			sb_add(b, SAMBA_REPAIR_PREFIX, strlen(SAMBA_REPAIR_PREFIX));
		}
		sb_add(b, p, n);
	}
}

char *samba_conf_comment_section(const char *text, int first, const char *include, int *last)
{
	struct sbuf b = {0};
	struct sbuf lg = {0};
	char name[256];
	char *val = malloc(SAMBA_VALUE_MAX);
	size_t pos = 0;
	size_t start = 0;
	int no = 0;
	int from = 1;
	bool in = false;
	bool found = false;
	enum samba_line_kind k = SAMBA_LINE_BLANK;

	/* logical lines, as the scanner (and smbd) reads them: a continued line is one line */
	while (val && logical_line(text, &pos, &no, &lg) && !lg.failed) {
		k = samba_conf_line(lg.s, lg.len, name, sizeof(name), val, SAMBA_VALUE_MAX);
		if (from == first && k != SAMBA_LINE_SECTION) {
			break;
		}
		if (from == first) {
			in = found = true;
		} else if (in && (k == SAMBA_LINE_SECTION || line_ours(lg.s, lg.len, include))) {
			in = false;
		}
		comment_lines(&b, text + start, text + pos, in, from, last);
		start = pos;
		from = no + 1;
	}
	free(val);
	free(lg.s);
	if (!found || lg.failed || start != pos) {
		free(b.s);
		return NULL;
	}
	return sb_take(&b);
}

int samba_conf_scan(const char *text, const char *share, bool global, struct samba_conf_facts *f)
{
	struct sbuf lg = {0};
	char name[256];
	char *val = malloc(SAMBA_VALUE_MAX);
	size_t pos = 0;
	long cur = -1;
	int no = 0;
	int first = 0;
	int rc = -ENOMEM;
	enum samba_line_kind k = SAMBA_LINE_BLANK;

	memset(f, 0, sizeof(*f));
	if (!val) {
		goto out;
	}
	for (first = no + 1; logical_line(text, &pos, &no, &lg); first = no + 1) {
		if (lg.failed) {
			goto out;
		}
		k = samba_conf_line(lg.s, lg.len, name, sizeof(name), val, SAMBA_VALUE_MAX);
		rc = 0;
		if (k == SAMBA_LINE_SECTION) {
			rc = scan_section(f, name, share, first, &global, &cur);
		} else if (k == SAMBA_LINE_PARAM) {
			rc = scan_param(f, name, val, first, global, cur);
		}
		if (rc < 0) {
			goto out;
		}
	}
	rc = lg.failed ? -ENOMEM : 0;
out:
	free(lg.s);
	free(val);
	return rc;
}

void samba_conf_facts_fini(struct samba_conf_facts *f)
{
	for (size_t i = 0; i < f->n_defs; i++) {
		free(f->defs[i].section);
		free(f->defs[i].path);
	}
	for (size_t i = 0; i < f->n_incs; i++) {
		free(f->incs[i].file);
	}
	free(f->defs);
	free(f->incs);
	memset(f, 0, sizeof(*f));
}

/* unknown_name -- the parameter an "Unknown parameter"/"Ignoring" line names, into OUT. */
static bool unknown_name(const char *line, size_t n, char *out, size_t len)
{
	const char *end = line + n;
	const char *q1 = NULL;
	const char *q2 = NULL;
	const char *p = samba_skip_ws(line, end);

	if (!memmem(line, n, "Unknown parameter", 17) &&
	    ((size_t)(end - p) < 8 || strncmp(p, "Ignoring", 8))) {
		return false;
	}
	q1 = memchr(line, '"', n);
	q2 = q1 ? memchr(q1 + 1, '"', (size_t)(end - q1 - 1)) : NULL;
	if (q2) {
		samba_copy_out(out, len, q1 + 1, q2);
	} else {
		samba_copy_out(out, len, p, samba_trim_end(p, end));
	}
	return true;
}

char *samba_testparm_unknown(const char *err)
{
	struct sbuf b = {0};
	char name[512];
	char *hay = NULL;
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool seen = false;

	sb_add(&b, "\n", 1);
	while (samba_next_line(err, &pos, &line, &n)) {
		if (!unknown_name(line, n, name, sizeof(name) - 2)) {
			continue;
		}
		seen = false;
		for (hay = b.s; !b.failed && hay && *hay; hay = strchr(hay + 1, '\n')) {
			size_t l = strcspn(hay + 1, "\n");
			if (l == strlen(name) && !strncasecmp(hay + 1, name, l)) {
				seen = true;
			}
		}
		if (!seen) {
			sb_put(&b, "%s\n", name);
		}
	}
	if (!b.failed) {
		memmove(b.s, b.s + 1, b.len--);
	}
	return sb_take(&b);
}

char *samba_testparm_errors(const char *err)
{
	static const char *const chatter[] = {"Load smb config files from",
	                                      "Loaded services file OK", "Weak crypto is allowed",
	                                      "Server role:"};
	struct sbuf b = {0};
	char name[512];
	const char *line = NULL;
	const char *p = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool skip = false;

	while (samba_next_line(err, &pos, &line, &n)) {
		p = samba_skip_ws(line, line + n);
		skip =
		    p == samba_trim_end(p, line + n) || unknown_name(line, n, name, sizeof(name));
		for (size_t i = 0; i < sizeof(chatter) / sizeof(chatter[0]) && !skip; i++) {
			skip = !strncmp(p, chatter[i], strlen(chatter[i]));
		}
		if (!skip) {
			sb_put(&b, "%s%.*s", b.len ? "; " : "",
			       (int)(samba_trim_end(p, line + n) - p), p);
		}
	}
	return sb_take(&b);
}

bool samba_path_eq(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);

	while (la > 1 && a[la - 1] == '/') {
		la--;
	}
	while (lb > 1 && b[lb - 1] == '/') {
		lb--;
	}
	return la == lb && !strncmp(a, b, la);
}

bool samba_text_bad(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\t' && iscntrl((unsigned char)s[i])) {
			return true;
		}
	}
	return n > 0 && s[n - 1] == '\\';
}

void samba_comment_safe(const char *s, char *out, size_t len)
{
	size_t i = 0;

	if (len == 0) {
		return;
	}
	for (; s[i] && i + 1 < len; i++) {
		out[i] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	}
	out[i] = '\0';
}
