/* smbconf.h -- the pure text helpers of export/ (smbconf.c): smb.conf lines, our marked
 * include, the definitions of a share, testparm's complaints, and a growing string.
 *
 * Internal to export/ (and its tests: test_samba_conf.c, the fuzz harnesses); the
 * public entry point is samba_export() in export.h. Everything here is string work on
 * NUL-terminated texts: no I/O, no globals, thread-safe.
 */
#ifndef PXE_SMBCONF_H
#define PXE_SMBCONF_H

#include <stdbool.h>
#include <stddef.h>

/* ---- a growing string ------------------------------------------------------------------------ */

/* On out of memory FAILED is set and later additions are dropped; S is then
 * still the caller's to free (sb_take does it). */
struct sbuf {
	char *s; /* owned; NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	bool failed;
};

/* sb_add -- append the N bytes at P; sb_put -- append a printf-formatted text. */
void sb_add(struct sbuf *b, const char *p, size_t n);
void sb_put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sb_take -- the text (never NULL unless out of memory; the caller frees it); B is emptied. */
char *sb_take(struct sbuf *b);

/* ---- lines and words ------------------------------------------------------------------------- */

/* samba_skip_ws -- the first non-space byte in P..END (or END). */
const char *samba_skip_ws(const char *p, const char *end);

/* samba_trim_end -- END moved back over trailing spaces, not before P. */
const char *samba_trim_end(const char *p, const char *end);

/* samba_copy_out -- P..END into DST as a string, cut to DLEN - 1 bytes (DLEN 0: nothing). */
void samba_copy_out(char *dst, size_t dlen, const char *p, const char *end);

/* samba_next_line -- the line of TEXT at *POS (*LINE, length *N without its newline);
 * advances *POS. False at the end of TEXT. */
bool samba_next_line(const char *text, size_t *pos, const char **line, size_t *n);

/* samba_first_line -- the first non-blank line of S (NULL: ""), trimmed, into OUT. */
void samba_first_line(const char *s, char *out, size_t len);

/* ---- smb.conf -------------------------------------------------------------------------------- */

/* The comment line written just before our include line, and how repaired lines begin. */
#define SAMBA_INCLUDE_MARKER                                                                       \
	"# pxeimagesfs: include of the generated share (do not edit; 'pxeimagesfs export "         \
	"--remove' takes it out)"
#define SAMBA_INCLUDE_MARKER_PREFIX "# pxeimagesfs: include of the generated share"
#define SAMBA_REPAIR_PREFIX         "# pxeimagesfs-repair: "

enum samba_line_kind {
	SAMBA_LINE_BLANK = 0,
	SAMBA_LINE_COMMENT, /* first non-blank character is '#' or ';' */
	SAMBA_LINE_SECTION, /* [name]: NAME gets the trimmed name */
	SAMBA_LINE_PARAM,   /* key = value: NAME gets the key, VALUE the value, both trimmed */
	SAMBA_LINE_OTHER,   /* anything else (smbd ignores it) */
};

/* samba_conf_line -- classify the N bytes at LINE (one line, no newline).
 * NAME and VALUE are always set (empty when not applicable; truncated to
 * their sizes). */
enum samba_line_kind samba_conf_line(const char *line, size_t n, char *name, size_t nlen,
                                     char *value, size_t vlen);

/* samba_name_eq -- smb.conf's comparison of parameter and share names:
 * ASCII case and whitespace are ignored ("Read Only" == "readonly"). */
bool samba_name_eq(const char *a, const char *b);

/* samba_conf_strip_include -- TEXT without our marker lines and without any
 * "include = INCLUDE" line; *REMOVED (may be NULL) gets the number of include
 * lines taken out. Returns a malloc'd text or NULL when out of memory. */
char *samba_conf_strip_include(const char *text, const char *include, int *removed);

/* samba_conf_add_include -- samba_conf_strip_include(TEXT, INCLUDE), then the
 * marker and "include = LINE_PATH" as the last two lines. */
char *samba_conf_add_include(const char *text, const char *include, const char *line_path);

/* samba_conf_comment_section -- prefix with SAMBA_REPAIR_PREFIX the section
 * whose header is at line FIRST (1-based) and every line after it up to the
 * next section header, our marker or include of INCLUDE, or the end (blank
 * lines stay blank). *LAST gets the last line of the section. Returns a
 * malloc'd text, or NULL when out of memory or FIRST is not a section header. */
char *samba_conf_comment_section(const char *text, int first, const char *include, int *last);

/* One definition of the share found in a text. */
struct samba_conf_def {
	int line;      /* of the section header */
	char *section; /* owned: the name as written */
	char *path;    /* owned: its last "path" (or "directory"), or NULL */
};

struct samba_conf_inc {
	int line;
	char *file;  /* owned: the value as written */
	bool global; /* the include is in the global part of the file */
};

struct samba_conf_facts {
	struct samba_conf_def *defs; /* owned array */
	size_t n_defs;
	struct samba_conf_inc *incs; /* owned array; "include = registry" is not listed */
	size_t n_incs;
	bool registry; /* registry shares = yes, config backend = registry or include = registry */
};

/* samba_conf_scan -- the definitions of SHARE and the includes in TEXT
 * (continuation lines joined; GLOBAL: the text starts in the global part).
 * Returns 0, or -ENOMEM (F then holds what was found so far). Free F with
 * samba_conf_facts_fini. */
int samba_conf_scan(const char *text, const char *share, bool global, struct samba_conf_facts *f);
void samba_conf_facts_fini(struct samba_conf_facts *f);

/* samba_testparm_unknown -- the parameters testparm's stderr ERR names in
 * "Unknown parameter encountered" and "Ignoring ..." lines, one a line,
 * each once. Returns a malloc'd text ("" when none) or NULL. */
char *samba_testparm_unknown(const char *err);

/* samba_testparm_errors -- testparm's stderr ERR without its chatter (load
 * and role lines, blank lines) and without the lines samba_testparm_unknown
 * reads, the remaining lines joined with "; ".
 * Returns a malloc'd text ("" when none) or NULL. */
char *samba_testparm_errors(const char *err);

/* samba_text_bad -- S cannot be written into an smb.conf line as it is: it holds a control
 * character other than tab, or ends in '\\' (which joins the next line to it). */
bool samba_text_bad(const char *s);

/* samba_comment_safe -- S with every control character made '?', into OUT (for comments). */
void samba_comment_safe(const char *s, char *out, size_t len);

/* samba_path_eq -- the same path, ignoring trailing slashes (no I/O). */
bool samba_path_eq(const char *a, const char *b);

#endif /* PXE_SMBCONF_H */
