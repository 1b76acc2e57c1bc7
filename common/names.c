/* names.c -- case-insensitive names and virtual paths: compare, hash, inode, merge set.
 *
 * No FUSE, no I/O, no normalisation beyond simple per-code-point case folding.
 * The only shared state is the C.UTF-8 locale, created once under
 * pthread_once and never freed; everything else works on the caller's data,
 * so all functions are thread-safe (a names_set needs the caller's locking).
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "names.h"

#define ROOT_INO    1u
#define FIRST_INO   2u                    /* smallest number of a non-root path */
#define RAW_BASE    0x110000u             /* key of raw byte B is RAW_BASE + B */
#define FNV_OFFSET  0xcbf29ce484222325ull /* FNV-1a 64 offset basis */
#define FNV_PRIME   0x100000001b3ull      /* FNV-1a 64 prime */
#define SALT_MUL    0x9e3779b97f4a7c15ull /* 2^64 / golden ratio */
#define SET_MIN_CAP 16u

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale = (locale_t)0; /* written once under locale_once */

static void locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t fold_cp(uint32_t cp)
{
	uint32_t key = cp;

	pthread_once(&locale_once, locale_init);
	if (utf8_locale != (locale_t)0) {
		key = (uint32_t)towlower_l((wint_t)cp, utf8_locale);
	}
	return key;
}

/* Length of the sequence a UTF-8 lead byte starts (0 if C cannot lead one),
 * with its payload bits and the smallest code point it may encode. */
static size_t utf8_lead(unsigned char c, uint32_t *bits, uint32_t *min)
{
	size_t n = 0;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		*bits = c & 0x1fu;
		*min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		*bits = c & 0x0fu;
		*min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		*bits = c & 0x07u;
		*min = 0x10000;
	}
	return n;
}

/* Decodes one well-formed UTF-8 sequence from P (REM bytes available).
 * Returns its length and stores the code point, or returns 0 when P does not
 * start a well-formed sequence (overlong, surrogate, > U+10FFFF, cut short). */
static size_t utf8_decode(const unsigned char *p, size_t rem, uint32_t *cp)
{
	uint32_t v = 0;
	uint32_t min = 0;
	size_t n = utf8_lead(p[0], &v, &min);
	size_t i;

	if (n == 0 || n > rem) {
		n = 0;
		goto out;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0u) != 0x80u) {
			n = 0;
			goto out;
		}
		v = (v << 6) | (p[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		n = 0;
		goto out;
	}
	*cp = v;
out:
	return n;
}

/* Folds the unit at P (REM > 0 bytes available) into *KEY: a folded code
 * point, or RAW_BASE + byte for a byte outside well-formed UTF-8. Returns the
 * number of bytes consumed. */
static size_t fold_unit(const unsigned char *p, size_t rem, uint32_t *key)
{
	uint32_t cp = 0;
	size_t n = 1;

	if (p[0] < 0x80) {
		*key = (p[0] >= 'A' && p[0] <= 'Z') ? p[0] + ('a' - 'A') : p[0];
		goto out;
	}
	n = utf8_decode(p, rem, &cp);
	if (n > 0) {
		*key = fold_cp(cp);
	} else {
		n = 1;
		*key = RAW_BASE + p[0];
	}
out:
	return n;
}

int names_casecmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a;
	const unsigned char *pb = (const unsigned char *)b;
	size_t ra = strlen(a);
	size_t rb = strlen(b);
	uint32_t ka = 0;
	uint32_t kb = 0;
	size_t na;
	size_t nb;
	int rc = 0;

	while (ra > 0 && rb > 0) {
		na = fold_unit(pa, ra, &ka);
		nb = fold_unit(pb, rb, &kb);
		if (ka != kb) {
			rc = ka < kb ? -1 : 1;
			goto out;
		}
		pa += na;
		ra -= na;
		pb += nb;
		rb -= nb;
	}
	rc = (ra > 0) - (rb > 0);
out:
	return rc;
}

/* Feeds KEY to the hash as its (extended) UTF-8 encoding: prefix-free, and
 * one byte for ASCII. Keys go up to RAW_BASE + 0xff, which 4 bytes hold. */
static uint64_t fnv_key(uint64_t h, uint32_t key)
{
	unsigned char buf[4];
	size_t n = 0;
	size_t i;

	if (key < 0x80) {
		buf[n++] = (unsigned char)key;
	} else if (key < 0x800) {
		buf[n++] = (unsigned char)(0xc0 | (key >> 6));
		buf[n++] = (unsigned char)(0x80 | (key & 0x3f));
	} else if (key < 0x10000) {
		buf[n++] = (unsigned char)(0xe0 | (key >> 12));
		buf[n++] = (unsigned char)(0x80 | ((key >> 6) & 0x3f));
		buf[n++] = (unsigned char)(0x80 | (key & 0x3f));
	} else {
		buf[n++] = (unsigned char)(0xf0 | (key >> 18));
		buf[n++] = (unsigned char)(0x80 | ((key >> 12) & 0x3f));
		buf[n++] = (unsigned char)(0x80 | ((key >> 6) & 0x3f));
		buf[n++] = (unsigned char)(0x80 | (key & 0x3f));
	}
	for (i = 0; i < n; i++) {
		h ^= buf[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t names_fold_hash(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t h = FNV_OFFSET;
	uint32_t key = 0;
	size_t n;

	while (len > 0) {
		n = fold_unit(p, len, &key);
		h = fnv_key(h, key);
		p += n;
		len -= n;
	}
	return h;
}

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t names_ino(const char *vpath, unsigned salt)
{
	uint64_t ino = ROOT_INO;

	if (vpath[0] == '\0' && salt == 0) {
		goto out;
	}
	ino = names_fold_hash(vpath, strlen(vpath)) ^ ((uint64_t)salt * SALT_MUL);
	ino = mix64(ino);
	if (ino < FIRST_INO) {
		ino += FIRST_INO;
	}
out:
	return ino;
}

uint64_t names_ino_root_state(void)
{
	return FNV_OFFSET;
}

uint64_t names_ino_child(uint64_t parent_state, bool parent_is_root, const char *name,
                         unsigned salt)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name);
	uint64_t h = parent_is_root ? parent_state : fnv_key(parent_state, '/');
	uint32_t key = 0;

	while (len > 0) { /* as names_fold_hash: a name holds no '/' to cut a unit */
		size_t n = fold_unit(p, len, &key);
		h = fnv_key(h, key);
		p += n;
		len -= n;
	}
	return h ^ ((uint64_t)salt * SALT_MUL);
}

uint64_t names_ino_of(uint64_t state)
{
	uint64_t ino = mix64(state);

	return ino < FIRST_INO ? ino + FIRST_INO : ino;
}

void names_set_init(struct names_set *s)
{
	s->slots = NULL;
	s->cap = 0;
	s->count = 0;
}

static size_t slot_start(uint64_t hash, size_t cap)
{
	return (size_t)(mix64(hash) & (cap - 1));
}

/* The slot holding a name equal to NAME, or NULL. */
static struct names_set_slot *set_find(const struct names_set *s, const char *name, uint64_t hash)
{
	struct names_set_slot *slot = NULL;
	size_t mask = s->cap - 1;
	size_t i;

	if (s->cap == 0) {
		goto out;
	}
	/* The load stays at or below 1/2, so an empty slot ends every probe. */
	for (i = slot_start(hash, s->cap); s->slots[i].name != NULL; i = (i + 1) & mask) {
		if (s->slots[i].hash == hash && names_casecmp(s->slots[i].name, name) == 0) {
			slot = &s->slots[i];
			break;
		}
	}
out:
	return slot;
}

/* Puts NAME (owned) in the first free slot of its probe sequence. */
static void slot_put(struct names_set_slot *slots, size_t cap, uint64_t hash, char *name)
{
	size_t i = slot_start(hash, cap);

	while (slots[i].name != NULL) {
		i = (i + 1) & (cap - 1);
	}
	slots[i].hash = hash;
	slots[i].name = name;
}

static int set_grow(struct names_set *s)
{
	struct names_set_slot *slots = NULL;
	size_t cap = s->cap == 0 ? SET_MIN_CAP : s->cap * 2;
	size_t i;
	int rc = -ENOMEM;

	if (s->cap > SIZE_MAX / 2 / sizeof(*slots)) {
		goto out;
	}
	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		goto out;
	}
	for (i = 0; i < s->cap; i++) {
		if (s->slots[i].name != NULL) {
			slot_put(slots, cap, s->slots[i].hash, s->slots[i].name);
		}
	}
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	rc = 0;
out:
	return rc;
}

int names_set_add(struct names_set *s, const char *name)
{
	char *copy = NULL;
	uint64_t hash;
	int rc = 0;

	if (name == NULL) {
		rc = -EINVAL;
		goto out;
	}
	hash = names_fold_hash(name, strlen(name));
	if (set_find(s, name, hash) != NULL) {
		goto out;
	}
	copy = strdup(name);
	if (copy == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((s->count + 1) * 2 > s->cap) {
		rc = set_grow(s);
		if (rc < 0) {
			goto out;
		}
	}
	slot_put(s->slots, s->cap, hash, copy);
	copy = NULL;
	s->count++;
	rc = 1;
out:
	free(copy);
	return rc;
}

const char *names_set_get(const struct names_set *s, const char *name)
{
	const struct names_set_slot *slot = NULL;

	if (name != NULL) {
		slot = set_find(s, name, names_fold_hash(name, strlen(name)));
	}
	return slot != NULL ? slot->name : NULL;
}

bool names_set_has(const struct names_set *s, const char *name)
{
	return names_set_get(s, name) != NULL;
}

size_t names_set_count(const struct names_set *s)
{
	return s->count;
}

void names_set_fini(struct names_set *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++) {
		free(s->slots[i].name);
	}
	free(s->slots);
	names_set_init(s);
}

int names_check_component(const char *name)
{
	size_t len;
	int rc = -EINVAL;

	if (name == NULL || strcmp(name, "") == 0 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		goto out;
	}
	len = strlen(name);
	if (memchr(name, '/', len) != NULL) {
		goto out;
	}
	rc = len > NAME_MAX ? -ENAMETOOLONG : 0;
out:
	return rc;
}

int names_join(const char *dir, const char *name, char *out, size_t outlen)
{
	size_t dlen = strlen(dir);
	size_t nlen = strlen(name);
	size_t sep = dlen > 0 ? 1 : 0;
	int rc = -ENAMETOOLONG;

	if (dlen + sep + nlen >= outlen) {
		goto out;
	}
	memmove(out, dir, dlen); /* OUT may be DIR */
	if (sep > 0) {
		out[dlen] = '/';
	}
	memcpy(out + dlen + sep, name, nlen);
	out[dlen + sep + nlen] = '\0';
	rc = 0;
out:
	return rc;
}

const char *names_last(const char *vpath)
{
	const char *slash = strrchr(vpath, '/');

	return slash != NULL ? slash + 1 : vpath;
}

int names_parent(const char *vpath, char *out, size_t outlen)
{
	const char *slash = strrchr(vpath, '/');
	size_t plen = slash != NULL ? (size_t)(slash - vpath) : 0;
	int rc = -ENAMETOOLONG;

	if (plen >= outlen) {
		goto out;
	}
	memmove(out, vpath, plen); /* OUT may be VPATH */
	out[plen] = '\0';
	rc = 0;
out:
	return rc;
}

int names_check_new(const char *name)
{
	int rc = names_check_component(name);

	return rc < 0 ? rc : names_is_hidden_temp(name) ? -EPERM : 0;
}

bool names_match_better(const char *want, const char *cand, const char *best)
{
	if (names_casecmp(cand, want) != 0) {
		return false;
	}
	if (best == NULL) {
		return true;
	}
	if (strcmp(best, want) == 0) {
		return false; /* the exact spelling is never beaten */
	}
	return strcmp(cand, want) == 0 || strcmp(cand, best) < 0;
}

bool names_is_hidden_temp(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	const char *want = NAMES_TEMP_PREFIX; /* lower-case ASCII: its own fold keys */
	uint32_t key = 0;
	size_t rem = name != NULL ? strlen(name) : 0;
	size_t n;
	bool hidden = false;

	if (name == NULL) {
		goto out;
	}
	for (; *want != '\0'; want++) {
		if (rem == 0) {
			goto out;
		}
		n = fold_unit(p, rem, &key);
		if (key != (unsigned char)*want) {
			goto out;
		}
		p += n;
		rem -= n;
	}
	hidden = true;
out:
	return hidden;
}
