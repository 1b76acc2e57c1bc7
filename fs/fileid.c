/* fileid.c -- st_ino from the backing file on 'inode numbers = drive' drives.
 *
 * The numbers only: which entries take one, and the collision rule, are nodetab.c's
 * (nt_number). No state, no lock, no I/O.
 */
#include <string.h>

#include "fileid.h"
#include "fs_int.h"

#define FILEID_FIRST 2u                    /* 0 is no number, 1 the mount root */
#define FILEID_SALT  0x9e3779b97f4a7c15ull /* 2^64 / golden ratio */
#define FILEID_TAG   0x66696c656964ull     /* "fileid": path numbers start elsewhere */

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t fileid_drive_key(const char *name)
{
	return names_fold_hash(name, strlen(name));
}

static uint64_t above_root(uint64_t n)
{
	return n < FILEID_FIRST ? n + FILEID_FIRST : n;
}

uint64_t fileid_number(uint64_t key, uint64_t ino)
{
	return above_root(mix64(mix64(key ^ FILEID_TAG) ^ ino));
}

uint64_t fileid_salted(uint64_t number, unsigned salt)
{
	return salt ? above_root(mix64(number ^ ((uint64_t)salt * FILEID_SALT))) : number;
}

uint64_t fileid_of(const struct fsview *v, int root, const struct stat *st)
{
	const struct drive *d = NULL;

	if (root < 0 || (size_t)root >= v->n_roots) {
		return 0;
	}
	d = v->roots[root].d;
	return d->ino_drive ? fileid_number(fileid_drive_key(d->name), (uint64_t)st->st_ino) : 0;
}
