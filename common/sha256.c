/* sha256.c -- SHA-256 of a byte stream or a file through libcrypto's EVP interface.
 *
 * The one reader loop: a chunk buffer of its own per call, EVP errors as -EIO, a progress
 * callback that may cancel. No state; thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sha256.h"

int sha256_stream(sha256_read_fn rd, void *h, sha256_tick_fn tick, void *arg,
                  unsigned char sum[SHA256_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(SHA256_CHUNK);
	unsigned int n = 0;
	uint64_t done = 0;
	ssize_t got = 0;
	int rc = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? 0 : -ENOMEM;

	while (rc == 0 && (got = rd(h, buf, SHA256_CHUNK)) != 0) {
		if (got < 0) {
			rc = (int)got;
			break;
		}
		rc = EVP_DigestUpdate(md, buf, (size_t)got) ? 0 : -EIO;
		done += (uint64_t)got;
		rc = rc == 0 && tick && tick(arg, done) ? -ECANCELED : rc;
	}
	if (rc == 0 && (!EVP_DigestFinal_ex(md, sum, &n) || n != SHA256_LEN)) {
		rc = -EIO;
	}
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

struct fd_reader {
	int fd;
	off_t pos;
};

static ssize_t read_fd(void *h, void *buf, size_t n)
{
	struct fd_reader *r = h;
	ssize_t got = 0;

	do {
		got = pread(r->fd, buf, n, r->pos);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		return -errno;
	}
	r->pos += got;
	return got;
}

int sha256_fd(int fd, sha256_tick_fn tick, void *arg, unsigned char sum[SHA256_LEN])
{
	struct fd_reader r = {.fd = fd, .pos = 0};

	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return sha256_stream(read_fd, &r, tick, arg, sum);
}

void sha256_hex(const unsigned char sum[SHA256_LEN], char hex[2 * SHA256_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 0x0f];
	}
	hex[2 * SHA256_LEN] = '\0';
}
