/* fileid.h -- st_ino of an entry of an 'inode numbers = drive' drive: from the drive's own.
 *
 * A hash of the drive's name (case-insensitive, as config names it) and the backing file's
 * st_ino, never its st_dev (each host's mount of a shared store has its own). Every host
 * over one store (GlusterFS gfid, NFS fileid, CephFS: one st_ino per file on every client,
 * kept by a rename) gives a file the same number, whoever renamed it. Pure functions, any
 * thread; fileid_of reads an immutable view.
 */
#ifndef PXE_FILEID_H
#define PXE_FILEID_H

#include <stdint.h>
#include <sys/stat.h>

struct fsview;

/* fileid_drive_key -- the hash of drive NAME (names_fold_hash: case-insensitive). */
uint64_t fileid_drive_key(const char *name);
/* fileid_number -- the number of backing st_ino INO on the drive of key KEY: the one every
 * host gives. fileid_salted -- NUMBER salted by SALT (0: NUMBER itself; a collision with
 * another live file retries 1, 2, ...: that number is this host's own). Never 0 or 1 (1 is
 * the mount root). Users and Samba's file ids see them: they must never change between
 * versions. */
uint64_t fileid_number(uint64_t key, uint64_t ino);
uint64_t fileid_salted(uint64_t number, unsigned salt);
/* fileid_of -- the unsalted number of the entry ST found on root ROOT of V, or 0 when that
 * drive keeps path numbers (or ROOT is -1). */
uint64_t fileid_of(const struct fsview *v, int root, const struct stat *st);

#endif /* PXE_FILEID_H */
