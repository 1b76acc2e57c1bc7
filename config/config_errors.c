/* config_errors.c -- the messages of one parse: collected "file:line: message" errors,
 * the quoting of user text in them, and "did you mean" hints.
 *
 * It words and orders messages; it never decides what is wrong (config_parse.c,
 * config_check.c and config_keys.c do). State lives in the struct cfg_parser of one call, so
 * separate parses may run in parallel.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_TRAILER_MAX 40 /* room kept for "... and N more errors" */
#define CFG_HINT_MAX    2  /* edit distance for "did you mean" */

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

void cfg_errors_fini(struct cfg_errors *e)
{
	unsigned i = 0;

	for (i = 0; i < e->n_stored; i++) {
		free(e->list[i].text);
	}
	free(e->list);
}

void cfg_err(struct cfg_parser *p, const char *fmt, ...)
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
void cfg_errors_flush(struct cfg_errors *e, char *errbuf, size_t errlen)
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

/* cfg_show -- user text made safe to quote: control characters become '?',
 * long text is cut at a character boundary and ends in "...". */
const char *cfg_show(const char *s, char *buf, size_t size)
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

char *cfg_strdup(struct cfg_parser *p, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL) {
		cfg_err(p, "out of memory");
	}
	return copy;
}

/* ---- "did you mean" ---------------------------------------------------- */

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
const char *cfg_nearest(const char *word, const char *const *cands, size_t n)
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
