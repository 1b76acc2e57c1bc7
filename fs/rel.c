/* rel.c -- a path below the images folder: short ones in place, long ones on the heap.
 *
 * The string helpers of struct rel (fs_int.h): no lock, no state beyond the
 * struct itself, no drive reached. node.c fills one with a node's path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"

void rel_init(struct rel *r)
{
	r->s = r->small;
	r->s[0] = '\0';
	r->len = 0;
	r->cap = sizeof(r->small);
}

void rel_fini(struct rel *r)
{
	if (r->s != r->small) {
		free(r->s);
	}
	rel_init(r);
}

int rel_reserve(struct rel *r, size_t len)
{
	size_t cap = r->cap;
	char *s = NULL;

	if (len >= REL_MAX) {
		return -ENAMETOOLONG;
	}
	if (len < cap) {
		return 0;
	}
	while (cap <= len) {
		cap *= 2;
	}
	cap = cap > REL_MAX ? REL_MAX : cap;
	s = r->s == r->small ? malloc(cap) : realloc(r->s, cap);
	if (!s) {
		return -ENOMEM;
	}
	if (r->s == r->small) {
		memcpy(s, r->small, r->len + 1);
	}
	r->s = s;
	r->cap = cap;
	return 0;
}

int rel_set(struct rel *r, const char *s, size_t len)
{
	int rc = rel_reserve(r, len);

	if (rc == 0) {
		memmove(r->s, s, len);
		r->s[len] = '\0';
		r->len = len;
	}
	return rc;
}

int rel_join(struct rel *r, const char *name)
{
	size_t nlen = strlen(name);
	size_t sep = r->len ? 1 : 0;
	int rc = rel_reserve(r, r->len + sep + nlen);

	if (rc == 0) {
		if (sep) {
			r->s[r->len] = '/';
		}
		memcpy(r->s + r->len + sep, name, nlen + 1);
		r->len += sep + nlen;
	}
	return rc;
}

void rel_up(struct rel *r)
{
	const char *last = names_last(r->s);

	r->len = last > r->s ? (size_t)(last - r->s) - 1 : 0;
	r->s[r->len] = '\0';
}
