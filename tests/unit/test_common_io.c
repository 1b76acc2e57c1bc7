/* test_common_io.c -- common/'s small I/O helpers: atomic replacement (fileio.c), SHA-256 of a
 * stream or file (sha256.c), the reference count (refcount.h), smb:// URLs (smb_url.c) and
 * Samba's user.DOSATTRIB (smb_dos.c).
 *
 * Each test works in its own mktemp folder. The concurrent tests are bounded in rounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "refcount.h"
#include "sha256.h"
#include "smb_dos.h"
#include "smb_url.h"
#include "unit.h"

#define REPLACE_ROUNDS 300   /* replacements while a reader reads */
#define BIG_LEN        65536 /* bytes of each replaced version */
#define REF_THREADS    8
#define REF_ROUNDS     100000 /* hold/drop pairs per thread */

struct t {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/pxe-io.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_true(snprintf(t->path, sizeof(t->path), "%s/file", t->dir) < (int)sizeof(t->path));
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

/* The whole of PATH into BUF (LEN bytes at most) as a string; -1 when it cannot be read. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0) {
		return -1;
	}
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return n < 0 ? -1 : (ssize_t)got;
}

/* Names in DIR other than "." and "..". */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de = NULL;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

/* ---- fileio ------------------------------------------------------------------------------ */

static void test_fileio_replace_writes_whole_file_with_its_mode(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0640};
	char buf[64];
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(fileio_replace(t->path, "first\n", 6, &o), 0);
	assert_int_equal(fileio_replace(t->path, "second\n", 7, &o), 0);
	umask(old);
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "second\n");
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* the umask does not apply */
	assert_int_equal(entries(t->dir), 1);       /* no temporary left */
}

static void test_fileio_replace_never_follows_a_symlink_at_the_temporary(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0644};
	char outside[PATH_MAX + 16];
	char tmp[PATH_MAX + 32];
	char buf[64];

	snprintf(outside, sizeof(outside), "%s/outside", t->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
	assert_int_equal(fileio_replace(outside, "secret", 6, &o), 0);
	assert_int_equal(symlink(outside, tmp), 0); /* what a hostile or crashed writer left */
	assert_int_equal(fileio_replace(t->path, "new", 3, &o), 0);
	assert_int_equal(slurp(outside, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "secret");
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "new");
	assert_int_equal(entries(t->dir), 2); /* the symlink is gone */
}

static void test_fileio_excl_creates_once_and_keeps_the_old_file(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0600, .unique_tmp = true, .excl = true};
	char buf[64];

	assert_int_equal(fileio_replace(t->path, "one", 3, &o), 0);
	assert_int_equal(fileio_replace(t->path, "two", 3, &o), -EEXIST);
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "one");
	assert_int_equal(entries(t->dir), 1); /* the unique temporary is gone either way */
}

static void test_fileio_abort_leaves_the_file_as_it_was(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0644};
	struct fileio_tmp tmp;
	char buf[64];

	assert_int_equal(fileio_replace(t->path, "kept", 4, &o), 0);
	assert_int_equal(fileio_begin(&tmp, t->path, &o), 0);
	assert_int_equal(fileio_write_all(tmp.fd, "half", 4), 0);
	fileio_abort(&tmp);
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "kept");
	assert_int_equal(entries(t->dir), 1);
}

static void test_fileio_refuses_a_temporary_name_too_long(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0644};
	char *path = malloc(PATH_MAX + 64);

	assert_non_null(path);
	memset(path, 'x', PATH_MAX + 63);
	path[0] = '/';
	path[PATH_MAX + 63] = '\0';
	assert_int_equal(fileio_replace(path, "x", 1, &o), -ENAMETOOLONG);
	free(path);
	(void)t;
}

struct reader {
	const char *path;
	atomic_bool stop;
	int torn; /* reads that saw neither whole version */
	int reads;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	char *buf = malloc(BIG_LEN + 2);

	while (buf && !atomic_load(&r->stop)) {
		ssize_t n = slurp(r->path, buf, BIG_LEN + 2);
		bool whole =
		    n == BIG_LEN && (size_t)strspn(buf, buf[0] == 'A' ? "A" : "B") == BIG_LEN;
		r->torn += !whole;
		r->reads++;
	}
	free(buf);
	return NULL;
}

/* A reader never sees half a file while it is replaced REPLACE_ROUNDS times. */
static void test_fileio_readers_see_old_or_new_never_half(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0644};
	struct reader r = {.path = t->path};
	char *a = malloc(BIG_LEN);
	char *b = malloc(BIG_LEN);
	pthread_t th;

	assert_non_null(a);
	assert_non_null(b);
	memset(a, 'A', BIG_LEN);
	memset(b, 'B', BIG_LEN);
	assert_int_equal(fileio_replace(t->path, a, BIG_LEN, &o), 0);
	assert_int_equal(pthread_create(&th, NULL, read_loop, &r), 0);
	for (int i = 0; i < REPLACE_ROUNDS; i++) {
		assert_int_equal(fileio_replace(t->path, i % 2 ? a : b, BIG_LEN, &o), 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	assert_true(r.reads > 0);
	assert_int_equal(r.torn, 0);
	free(a);
	free(b);
}

/* The fallback where RENAME_NOREPLACE is unsupported (GlusterFS, NFS): a link and an unlink. */
static void test_fileio_link_noreplace_moves_and_never_replaces(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0600};
	int dir = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char tmp[PATH_MAX + 16];
	char buf[64];

	assert_true(dir >= 0);
	snprintf(tmp, sizeof(tmp), "%s/tmp", t->dir);
	assert_int_equal(fileio_replace(t->path, "old", 3, &o), 0);
	assert_int_equal(fileio_replace(tmp, "new", 3, &o), 0);
	assert_int_equal(fileio_link_noreplace(dir, "tmp", dir, "file"), -EEXIST);
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "old");
	assert_int_equal(entries(t->dir), 2); /* both kept */
	assert_int_equal(unlinkat(dir, "file", 0), 0);
	assert_int_equal(fileio_link_noreplace(dir, "tmp", dir, "file"), 0);
	assert_int_equal(slurp(t->path, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "new");
	assert_int_equal(entries(t->dir), 1); /* the temporary is gone */

	assert_int_equal(symlinkat("file", dir, "link"), 0); /* a symlink moves as itself */
	assert_int_equal(fileio_link_noreplace(dir, "link", dir, "link2"), 0);
	assert_int_equal(readlinkat(dir, "link2", buf, sizeof(buf)), 4);
	assert_int_equal(mkdirat(dir, "d", 0700), 0);
	assert_int_equal(fileio_link_noreplace(dir, "d", dir, "d2"), -EISDIR);
	assert_int_equal(fileio_link_noreplace(dir, "none", dir, "n2"), -ENOENT);
	assert_int_equal(entries(t->dir), 3); /* file, link2, d */
	close(dir);
}

/* Where the flag works (tmpfs, ext4): the same outcomes by the rename itself. */
static void test_fileio_rename_noreplace_never_replaces(void **state)
{
	struct t *t = *state;
	int dir = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = -1;

	assert_true(dir >= 0);
	fd = openat(dir, "a", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdirat(dir, "d", 0700), 0);
	assert_int_equal(fileio_rename_noreplace(dir, "a", dir, "d"), -EEXIST);
	assert_int_equal(fileio_rename_noreplace(dir, "d", dir, "a"), -EEXIST);
	assert_int_equal(fileio_rename_noreplace(dir, "a", dir, "b"), 0);
	assert_int_equal(fileio_rename_noreplace(dir, "d", dir, "e"), 0);
	assert_int_equal(faccessat(dir, "b", F_OK, 0), 0);
	assert_int_equal(faccessat(dir, "e", F_OK, 0), 0);
	assert_int_equal(entries(t->dir), 2);
	close(dir);
}

/* ---- sha256 ------------------------------------------------------------------------------ */

struct mem {
	const unsigned char *p;
	size_t len;
	size_t step; /* bytes given per call at most */
};

static ssize_t read_mem(void *h, void *buf, size_t n)
{
	struct mem *m = h;
	size_t k = n < m->step ? n : m->step;

	k = k < m->len ? k : m->len;
	memcpy(buf, m->p, k);
	m->p += k;
	m->len -= k;
	return (ssize_t)k;
}

static void hex_of_stream(const void *data, size_t len, size_t step, char hex[65])
{
	struct mem m = {.p = data, .len = len, .step = step};
	unsigned char sum[SHA256_LEN];

	assert_int_equal(sha256_stream(read_mem, &m, NULL, NULL, sum), 0);
	sha256_hex(sum, hex);
}

static void test_sha256_known_vectors(void **state)
{
	char hex[65];
	char *million = malloc(1000000);

	(void)state;
	assert_non_null(million);
	hex_of_stream("", 0, 1, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of_stream("abc", 3, 1, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	memset(million, 'a', 1000000);
	hex_of_stream(million, 1000000, 7777, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

struct ticks {
	uint64_t last;
	int calls;
	uint64_t stop_at; /* cancel once this many bytes are done (0: never) */
};

static int count_tick(void *arg, uint64_t done)
{
	struct ticks *k = arg;

	assert_true(done > k->last);
	k->last = done;
	k->calls++;
	return k->stop_at && done >= k->stop_at;
}

/* A file over several chunks: the same sum as the stream in small pieces, progress up to its
 * size, the fd's offset untouched, and a cancel is -ECANCELED. */
static void test_sha256_fd_matches_stream_and_reports_progress(void **state)
{
	struct t *t = *state;
	struct fileio_opts o = {.mode = 0644};
	size_t len = 2 * SHA256_CHUNK + 12345;
	unsigned char *data = malloc(len);
	unsigned char sum[SHA256_LEN];
	struct ticks k = {0};
	char hex_fd[65];
	char hex_mem[65];
	int fd = -1;

	assert_non_null(data);
	for (size_t i = 0; i < len; i++) {
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	}
	assert_int_equal(fileio_replace(t->path, data, len, &o), 0);
	fd = open(t->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
	assert_int_equal(sha256_fd(fd, count_tick, &k, sum), 0);
	sha256_hex(sum, hex_fd);
	hex_of_stream(data, len, 4093, hex_mem);
	assert_string_equal(hex_fd, hex_mem);
	assert_int_equal(k.last, len);
	assert_int_equal(k.calls, 3);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 100);
	k = (struct ticks){.stop_at = 1};
	assert_int_equal(sha256_fd(fd, count_tick, &k, sum), -ECANCELED);
	assert_int_equal(k.calls, 1);
	close(fd);
	free(data);
}

static ssize_t read_fails(void *h, void *buf, size_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -EIO;
}

static void test_sha256_passes_on_the_readers_error(void **state)
{
	unsigned char sum[SHA256_LEN];

	(void)state;
	assert_int_equal(sha256_stream(read_fails, NULL, NULL, NULL, sum), -EIO);
}

/* ---- refcount ---------------------------------------------------------------------------- */

struct shared {
	struct refcount refs;
	atomic_int freed; /* drops that said "last" */
};

static void *hold_drop(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < REF_ROUNDS; i++) {
		refcount_hold(&s->refs);
		if (refcount_drop(&s->refs)) {
			atomic_fetch_add(&s->freed, 1);
		}
	}
	return NULL;
}

/* REF_THREADS threads hold and drop at once: nobody is told "last" while the creator holds
 * its reference, and the creator's drop is the last. */
static void test_refcount_only_the_last_drop_frees(void **state)
{
	struct shared s;
	pthread_t th[REF_THREADS];

	(void)state;
	refcount_init(&s.refs);
	atomic_init(&s.freed, 0);
	for (int i = 0; i < REF_THREADS; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, hold_drop, &s), 0);
	}
	for (int i = 0; i < REF_THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	assert_int_equal(atomic_load(&s.freed), 0);
	refcount_hold(&s.refs);
	assert_false(refcount_drop(&s.refs));
	assert_true(refcount_drop(&s.refs));
}

/* smb_url_parse: the parts of good URLs, decoded; every malformed or escaping one refused. */
static void test_smb_url_parts_and_refusals(void **state)
{
	static const struct {
		const char *url, *host, *share, *base;
		int port;
	} good[] = {
	    {"smb://srv/SMSPXEIMAGES$", "srv", "SMSPXEIMAGES$", "", 445},
	    {"SMB://127.0.0.1:4455/share/", "127.0.0.1", "share", "", 4455},
	    {"smb://[::1]:445/REMINST//SMSImages/SMSPKG//", "[::1]", "REMINST", "SMSImages/SMSPKG", 445},
	    {"smb://h/a%20b/c%2Fd%41", "h", "a b", "c/dA", 445},
	    {"smb://h/s/x%zz", "h", "s", "x%zz", 445},
	    {"smb://h/%2", "h", "%2", "", 445},
	};
	static const char *const bad[] = {
	    "http://h/s", "smb://user@h/s", "smb:///s", "smb://h", "smb://h/", "smb://h:0/s",
	    "smb://h:65536/s", "smb://h:x/s", "smb://h/s/..", "smb://h/s/a/../b", "smb://h/s/%2E%2E",
	    "smb://h/s/.", "smb://h/s/a/..",
	};
	struct smb_url u;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(smb_url_parse(good[i].url, &u), 0);
		assert_string_equal(u.host, good[i].host);
		assert_string_equal(u.share, good[i].share);
		assert_string_equal(u.base, good[i].base);
		assert_int_equal(u.port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (smb_url_parse(bad[i], &u) == 0) {
			fail_msg("accepted %s", bad[i]);
		}
	}
}

/* smb_dos_blob: byte for byte what smbd 4.17 wrote (getfattr -e hex) after `setmode a.txt +hrs`
 * and `setmode d +h` over SMB, with those entries' creation times. */
static void test_smb_dos_blob_is_what_samba_writes(void **state)
{
	static const unsigned char file[] = {0x00, 0x00, 0x05, 0x00, 0x05, 0x00, 0x00, 0x00,
	                                     0x11, 0x00, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00,
	                                     0xe6, 0x56, 0xcc, 0xbe, 0xa0, 0x85, 0xdd, 0x01};
	static const unsigned char dir[] = {0x00, 0x00, 0x05, 0x00, 0x05, 0x00, 0x00, 0x00,
	                                    0x11, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,
	                                    0xf2, 0x2f, 0xd0, 0xbe, 0xa0, 0x85, 0xdd, 0x01};
	unsigned char b[SMB_DOS_BLOB_LEN];
	char l[8];

	(void)state;
	assert_int_equal(smb_dos_blob(0x27, 0, &(struct timespec){1796575333, 330711084}, b),
	                 sizeof(file));
	assert_memory_equal(b, file, sizeof(file));
	/* a folder: the directory bit added, a file's archive bit (and 0x80 NORMAL) dropped */
	smb_dos_blob(SMB_DOS_HIDDEN | 0x80, 1, &(struct timespec){1796575333, 355928237}, b);
	assert_memory_equal(b, dir, sizeof(dir));
	/* no creation time: only the attributes are valid, NTTIME 0 */
	smb_dos_blob(SMB_DOS_READONLY, 0, NULL, b);
	assert_int_equal(b[8], 0x01);
	assert_int_equal(b[12], 0x01);
	for (size_t i = 16; i < sizeof(b); i++) {
		assert_int_equal(b[i], 0);
	}
	assert_int_equal(smb_dos_from_mode(S_IFREG | 0444 | S_IXUSR | S_IXOTH),
	                 SMB_DOS_READONLY | SMB_DOS_HIDDEN | SMB_DOS_ARCHIVE);
	assert_int_equal(smb_dos_from_mode(S_IFREG | 0644 | S_IXGRP), SMB_DOS_SYSTEM);
	assert_string_equal(smb_dos_letters(0x27, l), "RHSA");
	assert_string_equal(smb_dos_letters(0x80, l), "-");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_fileio_replace_writes_whole_file_with_its_mode, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_fileio_replace_never_follows_a_symlink_at_the_temporary,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_fileio_excl_creates_once_and_keeps_the_old_file, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_fileio_abort_leaves_the_file_as_it_was, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fileio_refuses_a_temporary_name_too_long, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fileio_readers_see_old_or_new_never_half, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fileio_link_noreplace_moves_and_never_replaces, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_fileio_rename_noreplace_never_replaces, setup, teardown),
    cmocka_unit_test(test_sha256_known_vectors),
    cmocka_unit_test_setup_teardown(test_sha256_fd_matches_stream_and_reports_progress, setup,
                                    teardown),
    cmocka_unit_test(test_sha256_passes_on_the_readers_error),
    cmocka_unit_test(test_refcount_only_the_last_drop_frees),
    cmocka_unit_test(test_smb_url_parts_and_refusals),
    cmocka_unit_test(test_smb_dos_blob_is_what_samba_writes),
};

UNIT_GROUP(tests, NULL, NULL)
