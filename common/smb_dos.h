/* smb_dos.h -- DOS attributes (read-only, hidden, system, archive) as Samba keeps them on a
 * Linux filesystem: the user.DOSATTRIB xattr of Samba 4.17 (`store dos attributes = yes`,
 * its default), and as libsmbclient shows them in a stat's mode bits.
 *
 * Only what Samba writes itself is produced: version 5 of xattr_DOSATTRIB (librpc/idl/xattr.idl,
 * pushed by librpc/ndr/ndr_xattr.c): an empty hex string, the version twice (struct and union
 * level), valid flags, the attributes, the creation time as NTTIME; 24 bytes. Pure byte work:
 * no state, no I/O.
 */
#ifndef PXE_SMB_DOS_H
#define PXE_SMB_DOS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define SMB_DOS_XATTR    "user.DOSATTRIB"
#define SMB_DOS_BLOB_LEN 24

#define SMB_DOS_READONLY  0x01u
#define SMB_DOS_HIDDEN    0x02u
#define SMB_DOS_SYSTEM    0x04u
#define SMB_DOS_DIRECTORY 0x10u
#define SMB_DOS_ARCHIVE   0x20u
/* the attributes a copy keeps (the directory bit follows the kind of the entry) */
#define SMB_DOS_KEPT (SMB_DOS_READONLY | SMB_DOS_HIDDEN | SMB_DOS_SYSTEM | SMB_DOS_ARCHIVE)

/* smb_dos_blob -- the user.DOSATTRIB value for ATTRS (masked to SMB_DOS_KEPT, plus the
 * directory bit when DIR) and the creation time BTIME (NULL or {0, 0}: not known, left for
 * Samba to work out) into OUT. Returns SMB_DOS_BLOB_LEN. */
size_t smb_dos_blob(uint32_t attrs, int dir, const struct timespec *btime,
                    unsigned char out[SMB_DOS_BLOB_LEN]);

/* smb_dos_from_mode -- the attributes libsmbclient encodes in a stat's MODE: archive as
 * S_IXUSR, system S_IXGRP, hidden S_IXOTH, read-only as no S_IWUSR. */
uint32_t smb_dos_from_mode(mode_t mode);

/* smb_dos_letters -- ATTRS (SMB_DOS_KEPT) as "RHSA" letters, "-" for none, into OUT. */
const char *smb_dos_letters(uint32_t attrs, char out[8]);

#endif /* PXE_SMB_DOS_H */
