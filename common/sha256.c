/* sha256.c -- SHA-256 of a byte stream or a file through libcrypto's EVP interface.
 *
 * The one reader loop: a chunk buffer of its own per run, EVP errors as -EIO, a progress
 * callback that may cancel. A run (sha256_run) belongs to one thread; nothing else is shared.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sha256.h"

struct sha256_run {
	EVP_MD_CTX *md;
	unsigned char *buf;
	uint64_t len;
};

struct sha256_run *sha256_run_new(void)
{
	struct sha256_run *h = calloc(1, sizeof(*h));

	if (h) {
		h->md = EVP_MD_CTX_new();
		h->buf = malloc(SHA256_CHUNK);
	}
	if (!h || !h->md || !h->buf || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL)) {
		sha256_run_free(h);
		return NULL;
	}
	return h;
}

void sha256_run_free(struct sha256_run *h)
{
	if (h) {
		EVP_MD_CTX_free(h->md);
		free(h->buf);
		free(h);
	}
}

int sha256_run_feed(struct sha256_run *h, sha256_read_fn rd, void *rh, uint64_t max,
                    sha256_tick_fn tick, void *arg)
{
	uint64_t left = max;
	ssize_t got = 0;
	int rc = 0;

	while (rc == 0 && left > 0 &&
	       (got = rd(rh, h->buf, left < SHA256_CHUNK ? (size_t)left : SHA256_CHUNK)) != 0) {
		if (got < 0) {
			rc = (int)got;
			break;
		}
		rc = EVP_DigestUpdate(h->md, h->buf, (size_t)got) ? 0 : -EIO;
		h->len += (uint64_t)got;
		left -= (uint64_t)got;
		rc = rc == 0 && tick && tick(arg, h->len) ? -ECANCELED : rc;
	}
	return rc;
}

int sha256_run_peek(const struct sha256_run *h, unsigned char sum[SHA256_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	int rc =
	    c && EVP_MD_CTX_copy_ex(c, h->md) && EVP_DigestFinal_ex(c, sum, &n) && n == SHA256_LEN
	        ? 0
	        : -EIO;

	EVP_MD_CTX_free(c);
	return rc;
}

uint64_t sha256_run_len(const struct sha256_run *h)
{
	return h->len;
}

int sha256_stream(sha256_read_fn rd, void *h, sha256_tick_fn tick, void *arg,
                  unsigned char sum[SHA256_LEN])
{
	struct sha256_run *r = sha256_run_new();
	int rc = r ? sha256_run_feed(r, rd, h, UINT64_MAX, tick, arg) : -ENOMEM;

	rc = rc < 0 ? rc : sha256_run_peek(r, sum);
	sha256_run_free(r);
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

int sha256_fd_prefix(struct sha256_run *h, int fd, uint64_t len, sha256_tick_fn tick, void *arg)
{
	struct fd_reader r = {.fd = fd, .pos = 0};

	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return sha256_run_feed(h, read_fd, &r, len, tick, arg);
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
