/* names.h -- case-insensitive names and virtual paths: compare, hash, inode, merge set.
 *
 * Pure helpers: no FUSE, no I/O, no allocation except inside struct names_set.
 * Every function is safe from any thread. A names_set has no lock of its own:
 * any number of threads may call names_set_has/_get/_count on a set nobody is
 * changing; names_set_add and names_set_fini need the caller's exclusive access.
 *
 * A virtual path ("vpath") is relative to the mount root and canonical: ""
 * is the root, components are separated by single '/', with no leading or
 * trailing '/' and no "." or ".." components. Nothing here normalises one.
 *
 * Case folding: a byte below 0x80 folds A-Z to a-z; a well-formed UTF-8
 * sequence is decoded and folded with towlower_l() in the "C.UTF-8" locale
 * (code point by code point, no normalisation, so "e"+U+0301 is not U+00E9);
 * a byte that is not part of well-formed UTF-8 (stray, truncated, overlong,
 * surrogate, beyond U+10FFFF) is its own raw unit and is never folded. If the
 * C.UTF-8 locale is missing, non-ASCII code points are compared unfolded.
 */
#ifndef PXE_NAMES_H
#define PXE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prefix of the daemon's own temporary names (copy-up); hidden from listings. */
#define NAMES_TEMP_PREFIX ".pxeimagesfs-tmp."

/* Compares two NUL-terminated strings ignoring case, as described above.
 * Returns <0, 0 or >0. The order is total and the same on every call: folded
 * code points in code point order, raw bytes after every code point (in byte
 * order), and a proper prefix before any longer string. */
int names_casecmp(const char *a, const char *b);

/* 64-bit FNV-1a hash of the first LEN bytes of S after case folding (each
 * folded unit is hashed as its UTF-8 encoding, so a pure ASCII string hashes
 * like its lower-case bytes). names_casecmp(a, b) == 0 implies
 * names_fold_hash(a, strlen(a)) == names_fold_hash(b, strlen(b)). S needs no
 * NUL within LEN; a sequence cut by LEN counts as raw bytes. */
uint64_t names_fold_hash(const char *s, size_t len);

/* Stable inode number of the canonical virtual path VPATH. The root ("")
 * with SALT 0 is 1. Otherwise: the case-folded hash of VPATH, mixed with
 * SALT, never 0 or 1; case variants of a path get the same number. SALT 0
 * is the normal number; a caller that finds a collision retries with 1, 2,
 * ... The value depends only on the bytes of VPATH and on SALT (and on the
 * C library's case tables for non-ASCII names): it is the same across runs
 * and machines, and users see it, so it must never change. */
uint64_t names_ino(const char *vpath, unsigned salt);

/* The same numbers built one component at a time, so that a node's number
 * can follow it (rename) while its children keep theirs. A "state" is the
 * hash a number is made from: names_ino_child(state of VPATH, NAME, 0) is the
 * state of VPATH "/" NAME (of NAME when VPATH is the root, whose state is
 * names_ino_root_state()), and names_ino_of(state of VPATH) ==
 * names_ino(VPATH, 0). SALT != 0 gives another state, as names_ino does. */
uint64_t names_ino_root_state(void);
uint64_t names_ino_child(uint64_t parent_state, bool parent_is_root, const char *name,
                         unsigned salt);
uint64_t names_ino_of(uint64_t state);

/* THE rule for which entry of a folder a file name means, ignoring case: the exact
 * spelling WANT when the folder holds it, else the smallest spelling (strcmp) of those
 * equal to WANT under names_casecmp, so the choice does not depend on the folder's
 * order. The resolver (the images path), its folder watcher and the FUSE view (walk.c)
 * all choose by it; a new matcher of file names must too. (Config keywords -- section
 * and key names, drive names -- are not file names: they compare with strcasecmp.)
 * Scan the folder keeping BEST (NULL before the first match): true when CAND should
 * replace BEST. */
bool names_match_better(const char *want, const char *cand, const char *best);

/* A set of names compared with names_casecmp, for merging directory
 * listings across drives. Open addressing, linear probing, grows by
 * doubling. Embed it and use names_set_init/_fini; the fields are private. */
struct names_set_slot {
	uint64_t hash; /* names_fold_hash of name */
	char *name;    /* owned copy, NULL for an empty slot */
};

struct names_set {
	struct names_set_slot *slots; /* owned; NULL until the first add */
	size_t cap;                   /* number of slots: 0 or a power of two */
	size_t count;                 /* names stored */
};

/* Makes S an empty set. Allocates nothing; cannot fail. */
void names_set_init(struct names_set *s);

/* Adds a copy of NAME (borrowed) unless a case-insensitively equal name is
 * already in S. Returns 1 when added, 0 when already present (the stored
 * spelling is kept: the first one added wins), -ENOMEM on allocation failure
 * (S unchanged), -EINVAL when NAME is NULL. */
int names_set_add(struct names_set *s, const char *name);

/* True when a name case-insensitively equal to NAME is in S. */
bool names_set_has(const struct names_set *s, const char *name);

/* The stored spelling of NAME (borrowed from S, valid until the next
 * names_set_add or names_set_fini), or NULL when absent. */
const char *names_set_get(const struct names_set *s, const char *name);

/* Number of names in S. */
size_t names_set_count(const struct names_set *s);

/* Frees every name and the table; S is left empty and may be reused
 * without another names_set_init. Calling it twice is harmless. */
void names_set_fini(struct names_set *s);

/* Checks NAME as one path component. Returns 0 when valid, -EINVAL when NULL,
 * empty, "." or "..", or when it contains '/', -ENAMETOOLONG when longer than
 * NAME_MAX (255) bytes. It does not reject NAMES_TEMP_PREFIX names. */
int names_check_component(const char *name);

/* Writes DIR "/" NAME into OUT (OUTLEN bytes), or just NAME when DIR is the
 * root "". NAME is not checked (see names_check_component). OUT may be the
 * same buffer as DIR (append in place) but must not overlap NAME. Returns 0,
 * or -ENAMETOOLONG when the result and its NUL do not fit (OUT unchanged). */
int names_join(const char *dir, const char *name, char *out, size_t outlen);

/* The last component of VPATH: a pointer into VPATH (borrowed), "" for the
 * root. "a/b/c" -> "c", "a" -> "a". */
const char *names_last(const char *vpath);

/* Writes the parent of VPATH into OUT (OUTLEN bytes): "a/b/c" -> "a/b",
 * "a" -> "", and "" (the root is its own parent) -> "". OUT may be VPATH
 * itself. Returns 0, or -ENAMETOOLONG when it does not fit (OUT unchanged). */
int names_parent(const char *vpath, char *out, size_t outlen);

/* True when NAME begins with NAMES_TEMP_PREFIX, compared as names_casecmp
 * does, so every case variant of a temporary name is hidden too. False for
 * NULL. */
bool names_is_hidden_temp(const char *name);

/* Checks NAME as the name of a new entry (create, mkdir, mknod, symlink, and the
 * target of link and rename): names_check_component, then -EPERM for a
 * reserved temporary name (names_is_hidden_temp: any case), which no listing
 * or lookup would show again. The one check every way into a name goes through. */
int names_check_new(const char *name);

#endif /* PXE_NAMES_H */
