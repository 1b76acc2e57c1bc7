/* smb_dos.c -- DOS attributes as Samba keeps them in user.DOSATTRIB (smb_dos.h). */
#include "smb_dos.h"

#include <string.h>
#include <sys/stat.h>

#define DOSINFO_ATTRIB      0x01u          /* XATTR_DOSINFO_ATTRIB */
#define DOSINFO_CREATE_TIME 0x10u          /* XATTR_DOSINFO_CREATE_TIME */
#define NTTIME_EPOCH        11644473600ULL /* seconds from 1601-01-01 to 1970-01-01 */

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (unsigned char)(v >> (8 * i));
	}
}

size_t smb_dos_blob(uint32_t attrs, int dir, const struct timespec *btime,
                    unsigned char out[SMB_DOS_BLOB_LEN])
{
	int have_b = btime && (btime->tv_sec > 0 || btime->tv_nsec > 0);
	uint64_t nt = have_b ? ((uint64_t)btime->tv_sec + NTTIME_EPOCH) * 10000000ULL +
	                           (uint64_t)btime->tv_nsec / 100
	                     : 0;

	attrs = (attrs & SMB_DOS_KEPT) | (dir ? SMB_DOS_DIRECTORY : 0);
	memset(out, 0, SMB_DOS_BLOB_LEN);
	/* [0] the empty hex string's NUL, [1] padding to 2, [6, 8) padding to 4 */
	put_le(out + 2, 5, 2); /* version */
	put_le(out + 4, 5, 2); /* the union's level */
	put_le(out + 8, DOSINFO_ATTRIB | (have_b ? DOSINFO_CREATE_TIME : 0), 4);
	put_le(out + 12, attrs, 4);
	put_le(out + 16, nt, 8);
	return SMB_DOS_BLOB_LEN;
}

uint32_t smb_dos_from_mode(mode_t mode)
{
	return ((mode & S_IXUSR) ? SMB_DOS_ARCHIVE : 0) | ((mode & S_IXGRP) ? SMB_DOS_SYSTEM : 0) |
	       ((mode & S_IXOTH) ? SMB_DOS_HIDDEN : 0) | ((mode & S_IWUSR) ? 0 : SMB_DOS_READONLY);
}

const char *smb_dos_letters(uint32_t attrs, char out[8])
{
	size_t n = 0;

	if (attrs & SMB_DOS_READONLY) {
		out[n++] = 'R';
	}
	if (attrs & SMB_DOS_HIDDEN) {
		out[n++] = 'H';
	}
	if (attrs & SMB_DOS_SYSTEM) {
		out[n++] = 'S';
	}
	if (attrs & SMB_DOS_ARCHIVE) {
		out[n++] = 'A';
	}
	if (n == 0) {
		out[n++] = '-';
	}
	out[n] = '\0';
	return out;
}
