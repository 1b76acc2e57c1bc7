/* config_int.h -- internals shared by the files of config/ (not a public header).
 *
 * The parser state of one parse (config.c loads, config_parse.c parses the lines,
 * config_check.c checks the whole), the key tables (config_keys.c) and the message
 * helpers (config_errors.c). A struct cfg_parser belongs to one call of cfg_load_*:
 * nothing here locks; the key tables are constant.
 */
#ifndef PXE_CONFIG_INT_H
#define PXE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CFG_MAX_KEYS 16  /* per section */
#define CFG_KEY_MAX  128 /* longer keys are cut before comparing */
#define CFG_SHOW_MAX 64  /* longest user text quoted in a message */

#define CFG_N(a) (sizeof(a) / sizeof((a)[0]))

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
	bool smb;        /* written into smb.conf: no '%' macros, see cfg_smb_text_bad */
	const char *def; /* string default, filled in after parsing */
};

struct cfg_section_def {
	const char *label; /* for "belongs in ..." */
	const struct cfg_key *keys;
	size_t n_keys;
};

/* ---- config_parse.c ---------------------------------------------------- */

/* cfg_parse_text -- parse TEXT (modified in place: lines are cut) into P->cfg, every
 * error kept in P->errs; a UTF-8 byte order mark at the start is skipped. */
void cfg_parse_text(struct cfg_parser *p, char *text);

/* cfg_find_key -- the index of the normalised key NKEY in section SEC's table, or -1. */
int cfg_find_key(enum cfg_section sec, const char *nkey);

/* ---- config_check.c ---------------------------------------------------- */

/* cfg_key_line -- the line where key NAME of [global] was set, 0 when not set. */
int cfg_key_line(const struct cfg_parser *p, const char *name);

/* cfg_check_config -- what no key alone can see (the folders of [global]: not /, not in
 * a kernel filesystem, none inside another); the defaults are filled in. */
void cfg_check_config(struct cfg_parser *p);

/* cfg_check_run_dir -- nobody but root (or us) may change the run or the state directory,
 * nor any folder above them up to / (writable by everyone or a group other than root's
 * without the sticky bit, owned by another user, a symlink another user owns), on the path as
 * written and on its real path; a missing one's nearest existing folder may not be writable
 * by anyone else even with the sticky bit (they could make it first). Checked on the
 * filesystem: for a file, not for a string. */
void cfg_check_run_dir(struct cfg_parser *p);

/* ---- config_keys.c ----------------------------------------------------- */

/* cfg_sections -- the keys of [global], [share] and [drive:NAME], indexed by
 * enum cfg_section (CFG_SEC_NONE is an empty entry). In the drive table path,
 * uuid and label stay first: cfg_end_section checks them by index. */
extern const struct cfg_section_def cfg_sections[CFG_SEC_DRIVE + 1];

/* cfg_smb_text_bad -- why V cannot be written into an smb.conf line as it is (a control
 * character, or a trailing '\\' that joins the next line to it), or NULL when it can. */
const char *cfg_smb_text_bad(const char *v);

/* cfg_check_param -- a samba:KEY = VALUE line of [share] (KEY without "samba:"): its
 * errors are reported; returns 0 when it may be passed through, else -1. */
int cfg_check_param(struct cfg_parser *p, const char *key, const char *value);

/* ---- config_errors.c --------------------------------------------------- */

/* cfg_err -- count an error at the parser's current line and keep it as
 * "file:line: message" (dropped, but still counted, when out of memory). */
void cfg_err(struct cfg_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cfg_errors_flush -- the messages by line into errbuf, one per line, whole
 * lines only, ending with "... and N more errors" when they do not fit. */
void cfg_errors_flush(struct cfg_errors *e, char *errbuf, size_t errlen);
void cfg_errors_fini(struct cfg_errors *e);

/* cfg_show -- user text made safe to quote: control characters become '?',
 * long text is cut at a character boundary and ends in "...". Returns BUF. */
const char *cfg_show(const char *s, char *buf, size_t size);

/* cfg_strdup -- strdup that reports "out of memory" through cfg_err. */
char *cfg_strdup(struct cfg_parser *p, const char *s);

/* cfg_nearest -- the candidate closest to WORD, if close enough to be a typo,
 * else NULL. Returns one of CANDS (borrowed). */
const char *cfg_nearest(const char *word, const char *const *cands, size_t n);

#endif /* PXE_CONFIG_INT_H */
