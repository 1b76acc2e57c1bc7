/* smb_failover_read.c -- read one file over SMB as a client that reconnects: when a read
 * fails (the server died, its address moved), drop the connection, connect again to the
 * same URL, open the file, seek to where it was and go on. For ctdb_cluster.sh.
 *
 *   smb_failover_read URL OUT HOLD_AT GO_FILE [DEADLINE_S]
 *
 * Reads URL (smb://host/share/path, guest) in 1 MiB chunks into OUT. After HOLD_AT bytes it
 * prints "held <bytes>" on stdout and waits (at most DEADLINE_S) until GO_FILE exists: the
 * test stops the serving node meanwhile, with the file open. Each reconnect is retried every
 * 200 ms until DEADLINE_S (default 60) is over. At the end: "done <bytes> reconnects <n>
 * gap_ms <longest time without progress>". Exit 0 when the whole file was read, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void guest_auth(SMBCCTX *c, const char *srv, const char *shr, char *wg, int wglen,
                       char *un, int unlen, char *pw, int pwlen)
{
	(void)c, (void)srv, (void)shr, (void)wg, (void)wglen;
	snprintf(un, (size_t)unlen, "%s", "guest");
	snprintf(pw, (size_t)pwlen, "%s", "");
}

/* conn -- a fresh context (no cached connection to the old server) and the file opened. */
static SMBCCTX *conn(const char *url, SMBCFILE **f)
{
	SMBCCTX *c = smbc_new_context();

	if (!c) {
		return NULL;
	}
	smbc_setOptionUseKerberos(c, 0);
	smbc_setOptionFallbackAfterKerberos(c, 1);
	smbc_setFunctionAuthDataWithContext(c, guest_auth);
	smbc_setTimeout(c, 5000);
	smbc_setOptionProtocols(c, "SMB2_02", "SMB3");
	if (!smbc_init_context(c)) {
		smbc_free_context(c, 1);
		return NULL;
	}
	*f = smbc_getFunctionOpen(c)(c, url, O_RDONLY, 0);
	if (!*f) {
		smbc_free_context(c, 1);
		return NULL;
	}
	return c;
}

static void hold(off_t at, off_t *held, off_t hold_at, const char *go, double deadline)
{
	if (*held || at < hold_at) {
		return;
	}
	*held = at;
	printf("held %lld\n", (long long)at);
	fflush(stdout);
	while (access(go, F_OK) < 0 && now_s() < deadline) {
		usleep(20000);
	}
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	SMBCCTX *c = NULL;
	SMBCFILE *f = NULL;
	off_t at = 0, held = 0;
	int out = -1, reconnects = 0;
	double deadline = 0, last = 0, gap = 0;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s URL OUT HOLD_AT GO_FILE [DEADLINE_S]\n", argv[0]);
		return 2;
	}
	deadline = now_s() + (argc == 6 ? atof(argv[5]) : 60.0);
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (out < 0 || !(c = conn(argv[1], &f))) {
		fprintf(stderr, "cannot open %s or connect to %s: %s\n", argv[2], argv[1],
		        strerror(errno));
		return 1;
	}
	last = now_s();
	for (;;) {
		ssize_t n = smbc_getFunctionRead(c)(c, f, buf, sizeof(buf));
		if (n == 0) {
			break;
		}
		if (n > 0) {
			if (pwrite(out, buf, (size_t)n, at) != n) {
				fprintf(stderr, "write %s: %s\n", argv[2], strerror(errno));
				return 1;
			}
			at += n;
			gap = now_s() - last > gap ? now_s() - last : gap;
			last = now_s();
			hold(at, &held, atoll(argv[3]), argv[4], deadline);
			last = now_s(); /* the hold is the test's time, not a gap */
			continue;
		}
		fprintf(stderr, "read at %lld: %s; reconnecting\n", (long long)at, strerror(errno));
		smbc_free_context(c, 1);
		while (!(c = conn(argv[1], &f)) && now_s() < deadline) {
			usleep(200000);
		}
		if (!c || smbc_getFunctionLseek(c)(c, f, at, SEEK_SET) != at) {
			fprintf(stderr, "no reconnect to %s before the deadline: %s\n", argv[1],
			        strerror(errno));
			return 1;
		}
		reconnects++;
	}
	gap = now_s() - last > gap ? now_s() - last : gap;
	printf("done %lld reconnects %d gap_ms %.0f\n", (long long)at, reconnects, gap * 1000);
	fflush(stdout);
	smbc_getFunctionClose(c)(c, f);
	smbc_free_context(c, 1);
	return close(out) == 0 && held ? 0 : 1;
}
