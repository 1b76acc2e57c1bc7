/* check_smb.c -- the check's libsmbclient session: reaching the server by TCP, a fresh context
 * per connection, the list of shares, one folder of the share, and a file's SHA-256.
 *
 * Each context as common/smb_ctx.c sets them up (no Kerberos, no credential cache, no
 * anonymous fallback, an explicit port, SMB2_02..SMB3, a timeout). A logon with a user asks
 * for encryption, which makes
 * libsmbclient insist on a session keyed by the password, so a wrong password that the server
 * maps to guest cannot pass for a logon. Writes nothing. Not thread-safe: libsmbclient's
 * settings and logging are process-wide.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libsmbclient.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_int.h"
#include "resolver.h"
#include "smb_ctx.h"

/* Bytes of S outside [A-Za-z0-9._~$-] (and '/', when KEEP_SLASH) percent-encoded, appended
 * at OUT[N]; returns the new length (stops short of LEN). */
static size_t pct_encode(const char *s, bool keep_slash, char *out, size_t n, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("._~$-", c) || (keep_slash && c == '/')) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	return n;
}

/* smb://host/share/[BASE/]REL for libsmbclient; the port is set on the context. */
static int smb_url(const struct run *r, const char *rel, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "smb://%s/", r->loc.host);

	if (n >= len) {
		return -ENAMETOOLONG;
	}
	n = pct_encode(r->loc.share, false, out, n, len);
	out[n++] = '/';
	n = pct_encode(r->loc.base, true, out, n, len);
	if (r->loc.base[0] && rel[0] && n + 4 < len) {
		out[n++] = '/';
	}
	n = pct_encode(rel, true, out, n, len);
	out[n] = '\0';
	return n + 4 < len ? 0 : -ENAMETOOLONG;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	}
	return a->sa_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	               &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

/* True when SA is a loopback address or one of this machine's interface addresses. */
static bool addr_local(const struct sockaddr *sa, const struct ifaddrs *ifs)
{
	if (sa->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127) {
		return true;
	}
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		return true;
	}
	for (; ifs; ifs = ifs->ifa_next) {
		if (ifs->ifa_addr && same_addr(sa, ifs->ifa_addr)) {
			return true;
		}
	}
	return false;
}

/* One TCP connection attempt, bounded by TIMEOUT_MS. Returns 0 or a negative errno. */
static int tcp_try(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd = {.events = POLLOUT};
	socklen_t l = sizeof(int);
	int err = 0;
	int n = 0;

	pfd.fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (pfd.fd < 0) {
		return -errno;
	}
	if (connect(pfd.fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = errno;
		if (err == EINPROGRESS) {
			n = poll(&pfd, 1, timeout_ms);
			err = n == 0 ? ETIMEDOUT : n < 0 ? errno : 0;
			if (n > 0 && getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) {
				err = errno;
			}
		}
	}
	close(pfd.fd);
	return -err;
}

const char *check_unreachable_why(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "connection refused: nothing listens there (is smbd running, on that port?)";
	case ETIMEDOUT:
		return "no answer in time (host down, or a firewall drops the port)";
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		return "no route to the host";
	default:
		return strerror(e);
	}
}

/* Resolve the host, try TCP to the port (so that a dead server fails fast and by name),
 * and note whether the server is this machine. */
int check_reach(struct run *r)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	struct ifaddrs *ifs = NULL;
	char host[256];
	char port[8];
	int first = 0;
	int e = 0;

	snprintf(host, sizeof(host), "%.*s", (int)strcspn(r->loc.host + (r->loc.host[0] == '['), "]"),
	         r->loc.host + (r->loc.host[0] == '['));
	snprintf(port, sizeof(port), "%d", r->loc.port);
	e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		check_verdict(r, CHECK_CRITICAL, "unreachable",
		              "server not reachable: cannot resolve %s: %s", host, gai_strerror(e));
		return -1;
	}
	if (getifaddrs(&ifs) < 0) {
		ifs = NULL;
	}
	for (const struct addrinfo *a = ai; a; a = a->ai_next) {
		r->on_host |= addr_local(a->ai_addr, ifs);
		e = tcp_try(a, r->timeout_ms);
		first = first ? first : e;
		if (e == 0) {
			break;
		}
	}
	freeifaddrs(ifs);
	freeaddrinfo(ai);
	if (e < 0) {
		check_verdict(r, CHECK_CRITICAL, "unreachable",
		              "server not reachable: %s port %d: %s", host, r->loc.port,
		              check_unreachable_why(-first));
		return -1;
	}
	return 0;
}

/* A fresh context: nothing cached from another run. ENCRYPT: ask for an encrypted session;
 * libsmbclient then requires a signed session keyed by the password, which a guest session
 * cannot give (a server without SMB3 encryption still passes, signed). */
void *check_smb_new(struct run *r, bool encrypt)
{
	return smb_ctx_new(&r->creds, r->loc.port, r->timeout_ms,
	                   encrypt ? SMBC_ENCRYPTLEVEL_REQUIRE : SMBC_ENCRYPTLEVEL_NONE);
}

/* Lists the server's shares (a fresh context) and says whether r->loc.share is one of them.
 * Returns 0 or a negative errno (e.g. the logon failed). */
int check_share_listed(struct run *r, bool encrypt, bool *listed)
{
	SMBCCTX *ctx = check_smb_new(r, encrypt);
	SMBCFILE *d = NULL;
	const struct smbc_dirent *de = NULL;
	char url[300];
	int rc = -ENOMEM;

	*listed = false;
	if (!ctx) {
		goto out;
	}
	snprintf(url, sizeof(url), "smb://%s/", r->loc.host);
	d = smbc_getFunctionOpendir(ctx)(ctx, url);
	if (!d) {
		rc = -errno;
		goto out;
	}
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, d))) {
		*listed |= de->smbc_type == SMBC_FILE_SHARE && !strcasecmp(de->name, r->loc.share);
	}
	smbc_getFunctionClosedir(ctx)(ctx, d);
	rc = 0;
out:
	if (ctx) {
		smbc_free_context(ctx, 1);
	}
	return rc;
}

/* One folder of the share, with the sizes from the listing itself. */
int check_smb_list(struct run *r, void *ctx, const char *rel, struct tree *t)
{
	SMBCCTX *c = ctx;
	SMBCFILE *d = NULL;
	const struct libsmb_file_info *fi = NULL;
	struct stat st;
	char url[URL_MAX];
	int rc = smb_url(r, rel, url, sizeof(url));

	if (rc < 0) {
		return rc;
	}
	d = smbc_getFunctionOpendir(c)(c, url);
	if (!d) {
		return errno ? -errno : -EIO;
	}
	while (rc == 0 && (fi = smbc_getFunctionReaddirPlus2(c)(c, d, &st))) {
		if (!check_dots(fi->name)) {
			rc = check_tree_add(t, rel, fi->name, S_ISDIR(st.st_mode),
			                    (long long)st.st_size);
		}
	}
	smbc_getFunctionClosedir(c)(c, d);
	return rc;
}

struct smb_file {
	SMBCCTX *ctx;
	SMBCFILE *f;
};

static ssize_t read_smb(void *h, void *buf, size_t n)
{
	struct smb_file *s = h;
	ssize_t got = smbc_getFunctionRead(s->ctx)(s->ctx, s->f, buf, n);

	return got < 0 ? -errno : got;
}

int check_smb_sha256(struct run *r, void *ctx, const char *rel, char hex[65])
{
	char url[URL_MAX];
	struct smb_file s = {.ctx = ctx};
	SMBCCTX *c = ctx;
	int rc = smb_url(r, rel, url, sizeof(url));

	if (rc < 0) {
		return rc;
	}
	s.f = smbc_getFunctionOpen(c)(c, url, O_RDONLY, 0);
	if (!s.f) {
		return -errno;
	}
	rc = check_sha256(read_smb, &s, hex);
	smbc_getFunctionClose(c)(c, s.f);
	return rc;
}

void check_smb_free(void *ctx)
{
	if (ctx) {
		smbc_free_context(ctx, 1);
	}
}
