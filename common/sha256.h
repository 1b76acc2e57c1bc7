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

/* An unfinished SHA-256 fed in pieces: a copy that continues where an interrupted one stopped
 * hashes the bytes it has, then the rest. One thread at a time. */
struct sha256_run;

/* sha256_run_new -- an empty run (sha256_run_free), or NULL when out of memory. */
struct sha256_run *sha256_run_new(void);
void sha256_run_free(struct sha256_run *h); /* NULL: nothing */

/* sha256_run_feed -- everything RD gives from RH, at most MAX bytes, hashed onto H. TICK (may
 * be NULL) is told the bytes hashed by H so far, all feeds counted. 0 or as sha256_stream. */
int sha256_run_feed(struct sha256_run *h, sha256_read_fn rd, void *rh, uint64_t max,
                    sha256_tick_fn tick, void *arg);

/* sha256_run_peek -- the SHA-256 of what H was fed so far into SUM (H goes on). 0 or -EIO. */
int sha256_run_peek(const struct sha256_run *h, unsigned char sum[SHA256_LEN]);

/* sha256_run_len -- the bytes H was fed so far. */
uint64_t sha256_run_len(const struct sha256_run *h);

/* sha256_fd_prefix -- feed H the first LEN bytes of FD (pread; fewer at its end). */
int sha256_fd_prefix(struct sha256_run *h, int fd, uint64_t len, sha256_tick_fn tick, void *arg);

/* sha256_fd -- the SHA-256 of the whole of FD (pread from offset 0, so FD's offset is
 * untouched; EINTR retried; read sequentially advised). Otherwise as sha256_stream. */
int sha256_fd(int fd, sha256_tick_fn tick, void *arg, unsigned char sum[SHA256_LEN]);

/* sha256_hex -- SUM as 64 lower-case hex digits and a NUL in HEX. */
void sha256_hex(const unsigned char sum[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

#endif /* PXE_SHA256_H */
