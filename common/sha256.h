/* sha256.h -- the SHA-256 of a file or of any byte stream (libcrypto EVP), in one place.
 *
 * Used by migrate (verifying copies) and by `check --deep` (a file through SMB against the
 * same file on a drive). No state; safe from any thread.
 */
#ifndef PXE_SHA256_H
#define PXE_SHA256_H

#include <stdint.h>
#include <sys/types.h>

#define SHA256_LEN   32
#define SHA256_CHUNK (1024 * 1024) /* bytes asked of the reader at a time */

/* Reads up to N bytes into BUF: the bytes read, 0 at the end, or a negative errno. */
typedef ssize_t (*sha256_read_fn)(void *h, void *buf, size_t n);
/* Told DONE, the bytes hashed so far, after each chunk; nonzero stops with -ECANCELED. */
typedef int (*sha256_tick_fn)(void *arg, uint64_t done);

/* sha256_stream -- the SHA-256 of everything RD gives from H into SUM. TICK may be NULL.
 * Returns 0 or a negative errno (the reader's, -ENOMEM, -EIO from libcrypto, -ECANCELED). */
int sha256_stream(sha256_read_fn rd, void *h, sha256_tick_fn tick, void *arg,
                  unsigned char sum[SHA256_LEN]);

/* sha256_fd -- the SHA-256 of the whole of FD (pread from offset 0, so FD's offset is
 * untouched; EINTR retried; read sequentially advised). Otherwise as sha256_stream. */
int sha256_fd(int fd, sha256_tick_fn tick, void *arg, unsigned char sum[SHA256_LEN]);

/* sha256_hex -- SUM as 64 lower-case hex digits and a NUL in HEX. */
void sha256_hex(const unsigned char sum[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

#endif /* PXE_SHA256_H */
