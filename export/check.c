/* check.c -- the share as an SMB client sees it (libsmbclient), compared with the view.
 *
 * Each connection uses a fresh libsmbclient context: no Kerberos, no credential cache, no
 * anonymous fallback, an explicit port, SMB2_02..SMB3 and a timeout. A logon with a user asks
 * for encryption, which makes libsmbclient insist on a session keyed by the password, so a
 * wrong password that the server maps to guest cannot pass for a logon. Names match ignoring
 * ASCII case, as over SMB. Writes nothing. Not thread-safe: libsmbclient's settings and
 * logging are process-wide, and fd 1 points at /dev/null while check_run() runs (the library
 * prints some errors to stdout; we name them ourselves).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <libsmbclient.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "smbconf.h"
#include "resolver.h"

#if defined(__SANITIZE_ADDRESS__)
#define PXE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PXE_LSAN 1
#endif
#endif
#ifdef PXE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define MAX_DEPTH   64             /* folders deeper than this are not listed */
#define MAX_DETAILS 100            /* detail lines kept; the rest are counted */
#define READ_CHUNK  (1024 * 1024)  /* --deep reads */
#define URL_MAX     (3 * PATH_MAX) /* a percent-encoded smb:// URL */
#define TESTPARM_MS 10000          /* bound on one testparm run */

extern char **environ;

struct entry {
	char *path; /* owned; relative to the share root, '/'-separated */
	bool dir;
	long long size;
};

struct tree {
	struct entry *v; /* owned */
	size_t n;
	size_t cap;
};

/* What the local server's smb.conf says about the share (testparm). */
struct share_conf {
	bool known;   /* the server on the URL's port runs this config, and it is readable */
	bool defined; /* the share has a section there */
	char file[PATH_MAX];
	char path[PATH_MAX]; /* its effective path */
};

struct run {
	const struct pxe_config *cfg; /* borrowed */
	const struct check_opts *o;   /* borrowed */
	struct check_result *res;     /* borrowed */
	char url[512];                /* smb://host[:port]/share, for messages */
	char host[256];               /* as written; IPv6 in brackets */
	char share[256];
	int port;
	bool on_host; /* the server is this machine */
	char mountpoint[PATH_MAX];
	char view[PATH_MAX]; /* the images folder inside the view */
	char domain[128];
	char user[256];
	char password[512];
	bool guest;
	int timeout_ms;
	struct tree remote;
	struct tree local;
	size_t details_len;
	size_t n_details;
	unsigned char *buf; /* owned; READ_CHUNK bytes for --deep */
};

typedef int (*list_fn)(struct run *r, void *ctx, const char *rel, struct tree *t);

/* ---- results ----------------------------------------------------------------------------- */

static void verdict(struct run *r, enum check_status st, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void verdict(struct run *r, enum check_status st, const char *kind, const char *fmt, ...)
{
	va_list ap;

	r->res->status = st;
	snprintf(r->res->kind, sizeof(r->res->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(r->res->message, sizeof(r->res->message), fmt, ap);
	va_end(ap);
}

static void detail_raw(struct run *r, const char *line)
{
	size_t n = strlen(line);
	char *s = realloc(r->res->details, r->details_len + n + 2);

	if (!s) {
		return;
	}
	memcpy(s + r->details_len, line, n);
	s[r->details_len + n] = '\n';
	s[r->details_len + n + 1] = '\0';
	r->res->details = s;
	r->details_len += n + 1;
}

/* differ -- one difference between the share and the view, as a detail line. */
static void differ(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differ(struct run *r, const char *fmt, ...)
{
	char line[PATH_MAX + 256];
	va_list ap;

	r->res->differences++;
	if (++r->n_details > MAX_DETAILS) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	detail_raw(r, line);
}

/* ---- the URL, the credentials ------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The share name from URL bytes [P, END), percent escapes decoded. */
static int url_share(struct run *r, const char *p, const char *end)
{
	size_t n = 0;

	for (; p < end && n + 1 < sizeof(r->share); p++) {
		if (*p == '%' && end - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			r->share[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			r->share[n++] = *p;
		}
	}
	r->share[n] = '\0';
	return p == end && n > 0 ? 0 : -1;
}

/* smb://host[:port]/share[/] -- no user, no folder below the share. */
static int parse_url(struct run *r, const char *url)
{
	const char *p = url + 6;
	const char *end = NULL;
	char *num = NULL;
	long port = 445;

	if (strncasecmp(url, "smb://", 6) != 0 || strchr(p, '@')) {
		return -1;
	}
	end = p + strcspn(p, *p == '[' ? "]" : ":/");
	end += *p == '[' && *end == ']';
	if (end == p || (size_t)(end - p) >= sizeof(r->host)) {
		return -1;
	}
	snprintf(r->host, sizeof(r->host), "%.*s", (int)(end - p), p);
	p = end;
	if (*p == ':') {
		port = strtol(p + 1, &num, 10);
		if (num == p + 1 || port < 1 || port > 65535) {
			return -1;
		}
		p = num;
	}
	if (*p != '/') {
		return -1;
	}
	end = p + 1 + strcspn(p + 1, "/");
	if (url_share(r, p + 1, end) < 0 || (*end && strcmp(end, "/") != 0)) {
		return -1;
	}
	r->port = (int)port;
	return 0;
}

static int load_password(struct run *r, const char *file)
{
	FILE *f = fopen(file, "re");

	if (!f) {
		verdict(r, CHECK_UNKNOWN, "error", "cannot read the password file %s: %s", file,
		        strerror(errno));
		return -1;
	}
	if (!fgets(r->password, sizeof(r->password), f)) {
		r->password[0] = '\0';
	}
	r->password[strcspn(r->password, "\r\n")] = '\0';
	fclose(f);
	return 0;
}

static int load_credentials(struct run *r)
{
	const char *u = r->o->user;
	const char *sep = u ? strpbrk(u, "\\/") : NULL;

	r->guest = !u;
	if (!u && !r->o->guest) {
		verdict(r, CHECK_UNKNOWN, "error",
		        "no credentials: give a user and a password file, or ask for guest access");
		return -1;
	}
	if (!u) {
		return 0;
	}
	if (sep) {
		snprintf(r->domain, sizeof(r->domain), "%.*s", (int)(sep - u), u);
		u = sep + 1;
	}
	snprintf(r->user, sizeof(r->user), "%s", u);
	if (!r->o->password_file) {
		verdict(r, CHECK_UNKNOWN, "error", "user %s given without a password file", u);
		return -1;
	}
	return load_password(r, r->o->password_file);
}

/* The default URL: the private smbd on 127.0.0.1 and its port, else the system smbd on
 * this machine. (cli/check_cmd.c shows the same.) */
static void default_url(const struct pxe_config *cfg, char *out, size_t len)
{
	int port = 445;

	if (cfg->share.samba == CFG_SAMBA_PRIVATE) {
		snprintf(out, len, "smb://127.0.0.1:%d/%s", cfg->share.port, cfg->share.name);
	} else if (samba_system_port(cfg, &port) == 0 && port != 445) {
		snprintf(out, len, "smb://localhost:%d/%s", port, cfg->share.name);
	} else {
		snprintf(out, len, "smb://localhost/%s", cfg->share.name);
	}
}

static int setup(struct run *r)
{
	const char *url = r->o->url;
	const char *mp = r->o->mountpoint ? r->o->mountpoint : r->cfg->mountpoint;
	char def[512];

	if (!url) {
		default_url(r->cfg, def, sizeof(def));
		url = def;
	}
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (parse_url(r, url) < 0) {
		verdict(r, CHECK_UNKNOWN, "error",
		        "%s: not a share URL: want smb://host[:port]/share", url);
		return -1;
	}
	if (!realpath(mp, r->mountpoint)) {
		snprintf(r->mountpoint, sizeof(r->mountpoint), "%s", mp);
	}
	if (samba_share_path(r->cfg, r->mountpoint, r->view, sizeof(r->view)) < 0) {
		verdict(r, CHECK_UNKNOWN, "error", "%s: path too long", r->mountpoint);
		return -1;
	}
	r->timeout_ms = r->o->timeout_ms > 0 ? r->o->timeout_ms : 5000;
	return load_credentials(r);
}

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

/* smb://host/share/REL for libsmbclient; the port is set on the context. */
static int smb_url(const struct run *r, const char *rel, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "smb://%s/", r->host);

	if (n >= len) {
		return -ENAMETOOLONG;
	}
	n = pct_encode(r->share, false, out, n, len);
	out[n++] = '/';
	n = pct_encode(rel, true, out, n, len);
	out[n] = '\0';
	return n + 4 < len ? 0 : -ENAMETOOLONG;
}

/* ---- reaching the server ----------------------------------------------------------------- */

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

static const char *unreachable_why(int e)
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
static int reach(struct run *r)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	struct ifaddrs *ifs = NULL;
	char host[256];
	char port[8];
	int first = 0;
	int e = 0;

	snprintf(host, sizeof(host), "%.*s", (int)strcspn(r->host + (r->host[0] == '['), "]"),
	         r->host + (r->host[0] == '['));
	snprintf(port, sizeof(port), "%d", r->port);
	e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		verdict(r, CHECK_CRITICAL, "unreachable",
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
		verdict(r, CHECK_CRITICAL, "unreachable", "server not reachable: %s port %d: %s",
		        host, r->port, unreachable_why(-first));
		return -1;
	}
	return 0;
}

/* ---- libsmbclient ------------------------------------------------------------------------ */

static void smb_auth(SMBCCTX *c, const char *srv, const char *shr, char *wg, int wglen, char *un,
                     int unlen, char *pw, int pwlen)
{
	const struct run *r = smbc_getOptionUserData(c);

	(void)srv;
	(void)shr;
	if (r->domain[0]) {
		snprintf(wg, (size_t)wglen, "%s", r->domain);
	}
	snprintf(un, (size_t)unlen, "%s", r->guest ? "" : r->user);
	snprintf(pw, (size_t)pwlen, "%s", r->guest ? "" : r->password);
}

static void smb_log(void *priv, int level, const char *msg)
{
	(void)priv;
	log_debug("libsmbclient[%d]: %.*s", level, (int)strcspn(msg, "\n"), msg);
}

/* A fresh context: nothing cached from another run. ENCRYPT: ask for an encrypted session;
 * libsmbclient then requires a signed session keyed by the password, which a guest session
 * cannot give (a server without SMB3 encryption still passes, signed). */
static SMBCCTX *smb_new(struct run *r, bool encrypt)
{
	SMBCCTX *ctx = NULL;

#ifdef PXE_LSAN
	/* libsmbclient 4.17 leaks one talloc chunk per context: not ours to report */
	__lsan_disable();
#endif
	ctx = smbc_new_context();
#ifdef PXE_LSAN
	__lsan_enable();
#endif
	if (!ctx) {
		return NULL;
	}
	smbc_setDebug(ctx, 0);
	smbc_setOptionDebugToStderr(ctx, 1);
	smbc_setLogCallback(ctx, NULL, smb_log);
	smbc_setOptionUserData(ctx, r);
	smbc_setFunctionAuthDataWithContext(ctx, smb_auth);
	smbc_setPort(ctx, (uint16_t)r->port);
	smbc_setTimeout(ctx, r->timeout_ms);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 0);
	smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
	smbc_setOptionUseCCache(ctx, 0);
	smbc_setOptionSmbEncryptionLevel(ctx, encrypt ? SMBC_ENCRYPTLEVEL_REQUIRE
	                                              : SMBC_ENCRYPTLEVEL_NONE);
	if (!smbc_init_context(ctx)) {
		smbc_free_context(ctx, 0);
		return NULL;
	}
	smbc_setOptionProtocols(ctx, "SMB2_02", "SMB3");
	return ctx;
}

/* Lists the server's shares (a fresh context) and says whether r->share is one of them.
 * Returns 0 or a negative errno (e.g. the logon failed). */
static int share_listed(struct run *r, bool encrypt, bool *listed)
{
	SMBCCTX *ctx = smb_new(r, encrypt);
	SMBCFILE *d = NULL;
	const struct smbc_dirent *de = NULL;
	char url[300];
	int rc = -ENOMEM;

	*listed = false;
	if (!ctx) {
		goto out;
	}
	snprintf(url, sizeof(url), "smb://%s/", r->host);
	d = smbc_getFunctionOpendir(ctx)(ctx, url);
	if (!d) {
		rc = -errno;
		goto out;
	}
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, d))) {
		*listed |= de->smbc_type == SMBC_FILE_SHARE && !strcasecmp(de->name, r->share);
	}
	smbc_getFunctionClosedir(ctx)(ctx, d);
	rc = 0;
out:
	if (ctx) {
		smbc_free_context(ctx, 1);
	}
	return rc;
}

/* ---- listings ---------------------------------------------------------------------------- */

static int tree_add(struct tree *t, const char *rel, const char *name, bool dir, long long size)
{
	struct entry *e = NULL;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		e = realloc(t->v, cap * sizeof(*e));
		if (!e) {
			return -ENOMEM;
		}
		t->v = e;
		t->cap = cap;
	}
	e = &t->v[t->n];
	if (rel[0] ? asprintf(&e->path, "%s/%s", rel, name) < 0 : !(e->path = strdup(name))) {
		return -ENOMEM;
	}
	e->dir = dir;
	e->size = size;
	t->n++;
	return 0;
}

static void tree_fini(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static bool dots(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* One folder of the share, with the sizes from the listing itself. */
static int smb_list(struct run *r, void *ctx, const char *rel, struct tree *t)
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
		if (!dots(fi->name)) {
			rc = tree_add(t, rel, fi->name, S_ISDIR(st.st_mode), (long long)st.st_size);
		}
	}
	smbc_getFunctionClosedir(c)(c, d);
	return rc;
}

/* One folder of the view. Symlinks are followed, as smbd does; a dangling one is left out
 * (smbd cannot show it either). */
static int local_list(struct run *r, void *ctx, const char *rel, struct tree *t)
{
	char dir[PATH_MAX];
	DIR *d = NULL;
	const struct dirent *de = NULL;
	struct stat st;
	int rc = 0;

	(void)ctx;
	if (snprintf(dir, sizeof(dir), "%s%s%s", r->view, rel[0] ? "/" : "", rel) >=
	    (int)sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	d = opendir(dir);
	if (!d) {
		return -errno;
	}
	while (rc == 0 && (de = readdir(d))) {
		if (!dots(de->d_name) && fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
			rc = tree_add(t, rel, de->d_name, S_ISDIR(st.st_mode),
			              (long long)st.st_size);
		}
	}
	closedir(d);
	return rc;
}

/* Lists REL with LIST, then its subfolders. The first level's error is returned; below it
 * a folder that cannot be listed is a difference. */
static int walk(struct run *r, list_fn list, void *ctx, struct tree *t, const char *rel, int depth,
                const char *where)
{
	size_t first = t->n;
	size_t end = 0;
	int rc = list(r, ctx, rel, t);

	for (end = t->n; rc == 0 && first < end; first++) {
		const char *sub = t->v[first].path;
		int e = 0;
		if (!t->v[first].dir) {
			continue;
		}
		e = depth < MAX_DEPTH ? walk(r, list, ctx, t, sub, depth + 1, where) : -ELOOP;
		if (e == -ENOMEM) {
			rc = e;
		} else if (e < 0) {
			differ(r, "%s/: cannot be listed %s: %s", sub, where, strerror(-e));
		}
	}
	return rc;
}

/* ---- comparing --------------------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

typedef ssize_t (*read_fn)(void *h, void *buf, size_t n);

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

static ssize_t read_local(void *h, void *buf, size_t n)
{
	ssize_t got = 0;

	do {
		got = read(*(int *)h, buf, n);
	} while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

/* SHA-256 of everything READ gives, as 64 hex digits in HEX. Returns 0 or a negative errno. */
static int sha256_of(struct run *r, read_fn rd, void *h, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ssize_t got = 0;
	int rc = -ENOMEM;

	if (!md || (!r->buf && !(r->buf = malloc(READ_CHUNK))) ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		goto out;
	}
	while ((got = rd(h, r->buf, READ_CHUNK)) > 0) {
		EVP_DigestUpdate(md, r->buf, (size_t)got);
	}
	rc = (int)got;
	if (rc == 0 && EVP_DigestFinal_ex(md, sum, &n)) {
		for (unsigned int i = 0; i < n && i < 32; i++) {
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
		}
	}
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static int sha256_remote(struct run *r, SMBCCTX *ctx, const char *rel, char hex[65])
{
	char url[URL_MAX];
	struct smb_file s = {.ctx = ctx};
	int rc = smb_url(r, rel, url, sizeof(url));

	if (rc < 0) {
		return rc;
	}
	s.f = smbc_getFunctionOpen(ctx)(ctx, url, O_RDONLY, 0);
	if (!s.f) {
		return -errno;
	}
	rc = sha256_of(r, read_smb, &s, hex);
	smbc_getFunctionClose(ctx)(ctx, s.f);
	return rc;
}

static int sha256_local(struct run *r, const char *rel, char hex[65])
{
	char path[PATH_MAX];
	int fd = -1;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", r->view, rel) >= (int)sizeof(path)) {
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	rc = sha256_of(r, read_local, &fd, hex);
	close(fd);
	return rc;
}

static void compare_content(struct run *r, SMBCCTX *ctx, const struct entry *a,
                            const struct entry *b)
{
	char ha[65] = "";
	char hb[65] = "";
	int ea = sha256_remote(r, ctx, a->path, ha);
	int eb = ea < 0 ? 0 : sha256_local(r, b->path, hb);

	if (ea < 0) {
		differ(r, "%s: cannot be read over SMB: %s", a->path, strerror(-ea));
	} else if (eb < 0) {
		differ(r, "%s: cannot be read in the view: %s", b->path, strerror(-eb));
	} else if (strcmp(ha, hb) != 0) {
		differ(r, "%s: content differs (SHA-256 %.12s... over SMB, %.12s... in the view)",
		       a->path, ha, hb);
	}
}

static void compare_pair(struct run *r, SMBCCTX *ctx, const struct entry *a, const struct entry *b)
{
	if (a->dir != b->dir) {
		differ(r, "%s: a %s over SMB, a %s in the view", a->path,
		       a->dir ? "folder" : "file", b->dir ? "folder" : "file");
	} else if (!a->dir && a->size != b->size) {
		differ(r, "%s: %lld bytes over SMB, %lld in the view", a->path, a->size, b->size);
	} else if (!a->dir && r->o->deep) {
		compare_content(r, ctx, a, b);
	}
}

/* Both listings, sorted ignoring case and merged: every name on one side only, and every
 * type, size (and with deep, SHA-256) that differs, is a difference. */
static void compare(struct run *r, SMBCCTX *ctx)
{
	const struct tree *a = &r->remote;
	const struct tree *b = &r->local;
	size_t i = 0;
	size_t j = 0;

	if (a->n > 1) {
		qsort(r->remote.v, a->n, sizeof(*a->v), entry_cmp);
	}
	if (b->n > 1) {
		qsort(r->local.v, b->n, sizeof(*b->v), entry_cmp);
	}
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcasecmp(a->v[i].path, b->v[j].path);
		if (c < 0) {
			differ(r, "%s: on the share, not in the view", a->v[i++].path);
		} else if (c > 0) {
			differ(r, "%s: in the view, missing from the share", b->v[j++].path);
		} else {
			compare_pair(r, ctx, &a->v[i++], &b->v[j++]);
		}
	}
}

static size_t count_files(const struct tree *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		n += !t->v[i].dir;
	}
	return n;
}

/* ---- what the local server's configuration says ------------------------------------------ */

/* Reads FD to EOF into OUT (trailing newlines cut) within TESTPARM_MS. */
static int drain(int fd, char *out, size_t len)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec t0;
	struct timespec now;
	size_t used = 0;
	ssize_t got = 1;
	long left = TESTPARM_MS;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got > 0 && left > 0 && poll(&pfd, 1, (int)left) > 0) {
		char tmp[512];
		got = read(fd, tmp, sizeof(tmp));
		if (got > 0 && used + (size_t)got < len) {
			memcpy(out + used, tmp, (size_t)got);
			used += (size_t)got;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = TESTPARM_MS - (now.tv_sec - t0.tv_sec) * 1000 -
		       (now.tv_nsec - t0.tv_nsec) / 1000000;
	}
	while (used > 0 && out[used - 1] == '\n') {
		used--;
	}
	out[used] = '\0';
	return got == 0 ? 0 : -ETIMEDOUT;
}

/* Runs ARGV (found in PATH) with stdin and stderr on /dev/null and its stdout in OUT.
 * Returns its exit status, or a negative errno (cannot run it, or killed after a while). */
static int capture(char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t fa;
	int p[2] = {-1, -1};
	pid_t pid = -1;
	int status = 0;
	int rc = 0;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0) {
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc == 0) {
		rc = drain(p[0], out, len);
		if (rc < 0) {
			kill(pid, SIGKILL);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
		}
		rc = rc < 0 ? rc : WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
	} else {
		rc = -rc;
	}
	close(p[0]);
	return rc;
}

static bool port_listed(const char *ports, int port)
{
	char *end = NULL;

	for (const char *p = ports; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p) {
			end = (char *)p + 1;
		} else if (v == port) {
			return true;
		}
	}
	return false;
}

/* On this machine, the smb.conf that pxeimagesfs manages (the private smbd's, or the
 * system one) -- when the server on the URL's port runs it -- and the share's path there. */
static void read_share_conf(struct run *r, struct share_conf *sc)
{
	char sec[300];
	char out[PATH_MAX];
	char *ports[] = {"testparm", "-s", "--parameter-name=smb ports", sc->file, NULL};
	char *path[] = {"testparm", "-s", sec, "--parameter-name=path", sc->file, NULL};

	if (!r->on_host || r->cfg->share.samba == CFG_SAMBA_NONE) {
		return;
	}
	if (r->cfg->share.samba == CFG_SAMBA_PRIVATE) {
		if (samba_private_dir(r->cfg, out, sizeof(out)) < 0 ||
		    snprintf(sc->file, sizeof(sc->file), "%s/smb.conf", out) >=
		        (int)sizeof(sc->file)) {
			return;
		}
	} else {
		snprintf(sc->file, sizeof(sc->file), "%s", r->cfg->share.smb_conf);
	}
	if (access(sc->file, R_OK) < 0 || capture(ports, out, sizeof(out)) != 0 ||
	    !port_listed(out, r->port)) {
		return;
	}
	sc->known = true;
	snprintf(sec, sizeof(sec), "--section-name=%s", r->share);
	if (capture(path, out, sizeof(out)) == 0 && out[0]) {
		sc->defined = true;
		snprintf(sc->path, sizeof(sc->path), "%s", out);
	}
}

static bool same_path(const char *a, const char *b)
{
	char ra[PATH_MAX];
	char rb[PATH_MAX];

	if (samba_path_eq(a, b)) {
		return true;
	}
	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/* ---- naming the failure ------------------------------------------------------------------ */

/* Why the view's images folder is absent, in plain words. */
static void view_state(const struct run *r, char *out, size_t len)
{
	struct rsv_mount *m = NULL;
	size_t n = 0;
	bool mounted = false;

	if (rsv_sys_real()->ops->mounts(NULL, &m, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			mounted |= !strcmp(m[i].target, r->mountpoint) &&
			           !strcmp(m[i].fstype, "fuse.pxeimagesfs");
		}
		rsv_mounts_free(m, n);
	}
	if (!mounted) {
		snprintf(out, len, "the view is not mounted at %s (pxeimagesfs mount)",
		         r->mountpoint);
	} else {
		snprintf(out, len,
		         "no drive holds the images, so the view at %s has no images folder "
		         "(pxeimagesfs resolve says why)",
		         r->mountpoint);
	}
}

/* "drive D (/mnt/d/...) holds N packages" for the online drive holding the most. */
static bool busiest_drive(const struct run *r, char *out, size_t len)
{
	struct resolver_view *v = NULL;
	const struct drive *best = NULL;

	if (resolver_resolve(r->cfg, rsv_sys_real(), &v) < 0) {
		return false;
	}
	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if (d->state == DRIVE_ONLINE && d->holds_images && d->n_packages > 0 &&
		    (!best || d->n_packages > best->n_packages)) {
			best = d;
		}
	}
	if (best) {
		snprintf(out, len, "drive %s (%s) holds %zu package%s", best->name,
		         best->images_dir, best->n_packages, best->n_packages == 1 ? "" : "s");
	}
	resolver_view_free(v);
	return best != NULL;
}

/* The share root does not exist for the server: not defined, or its path is missing. */
static void diagnose_missing(struct run *r, const struct share_conf *sc)
{
	char why[2 * PATH_MAX];
	struct stat st;
	bool listed = false;
	int e = 0;

	if (sc->known && !sc->defined) {
		verdict(r, CHECK_CRITICAL, "share_not_defined",
		        "share %s not defined on host %s (no [%s] in %s)", r->share, r->host,
		        r->share, sc->file);
	} else if (sc->known && !same_path(sc->path, r->view)) {
		verdict(r, CHECK_CRITICAL, "path_stale",
		        "stale: the share %s points at %s (%s), not the view at %s", r->share,
		        sc->path, stat(sc->path, &st) == 0 ? "which smbd cannot open" : "missing",
		        r->view);
	} else if (sc->known && stat(sc->path, &st) < 0) {
		view_state(r, why, sizeof(why));
		verdict(r, CHECK_CRITICAL, "path_missing",
		        "share %s is defined but its path %s does not exist: %s", r->share,
		        sc->path, why);
	} else if (sc->known) {
		verdict(r, CHECK_CRITICAL, "path_missing",
		        "share %s is defined and its path %s exists here, but smbd cannot open it "
		        "(permissions, or the view mounted without allow_other?)",
		        r->share, sc->path);
	} else if ((e = share_listed(r, !r->guest, &listed)) == 0 && listed) {
		verdict(r, CHECK_CRITICAL, "path_missing",
		        "share %s is defined on host %s but its path is missing there (the server "
		        "lists the share but cannot open it)",
		        r->share, r->host);
	} else if (e == 0) {
		verdict(r, CHECK_CRITICAL, "share_not_defined",
		        "share %s not defined on host %s (its list of shares has no such name)",
		        r->share, r->host);
	} else {
		verdict(r, CHECK_CRITICAL, "share_not_defined",
		        "share %s not found on host %s: not defined, or its path is missing there "
		        "(its list of shares cannot be read: %s)",
		        r->share, r->host, strerror(-e));
	}
}

/* The share root is refused: the share's rules, or the logon itself? A logon that the
 * server's share list also refuses failed; one that works only without a keyed session is a
 * guest session. */
static void diagnose_denied(struct run *r)
{
	bool listed = false;

	if (r->guest) {
		bool logon = share_listed(r, false, &listed) == 0;
		verdict(r, CHECK_CRITICAL, "access_denied", "access denied: %s",
		        logon ? "the share does not allow guest access (give a user and password)"
		              : "the server refuses guest (anonymous) logons");
	} else if (share_listed(r, true, &listed) == 0) {
		verdict(r, CHECK_CRITICAL, "access_denied",
		        "access denied: user %s may not open share %s (valid users, or the "
		        "permissions of its folder)",
		        r->user, r->share);
	} else if (share_listed(r, false, &listed) == 0) {
		verdict(r, CHECK_CRITICAL, "wrong_credentials",
		        "wrong credentials: host %s accepts user %s only as a guest session (a "
		        "wrong user name or password, mapped to guest); not taken as a logon",
		        r->host, r->user);
	} else {
		verdict(r, CHECK_CRITICAL, "wrong_credentials",
		        "wrong credentials: logon failure for user %s on host %s (user name or "
		        "password)",
		        r->user, r->host);
	}
}

static void classify(struct run *r, const struct share_conf *sc, int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		diagnose_missing(r, sc);
		break;
	case EACCES:
	case EPERM:
		diagnose_denied(r);
		break;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		verdict(r, CHECK_CRITICAL, "unreachable", "server not reachable: %s port %d: %s",
		        r->host, r->port, unreachable_why(e));
		break;
	case ETIMEDOUT:
		verdict(
		    r, CHECK_CRITICAL, "unreachable",
		    "server not reachable: %s port %d takes the connection but gives no SMB answer "
		    "within %d ms (a hung smbd?)",
		    r->host, r->port, r->timeout_ms);
		break;
	case ENETRESET:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case EPROTO:
	case EPROTONOSUPPORT:
	case ENOTSUP:
	case EINVAL:
	case EIO:
		verdict(
		    r, CHECK_CRITICAL, "protocol_mismatch",
		    "protocol mismatch: %s port %d takes the connection but no SMB2/SMB3 session "
		    "(%s): an SMB1-only server, or not an SMB server",
		    r->host, r->port, strerror(e));
		break;
	default:
		verdict(r, CHECK_CRITICAL, "error", "cannot open the share: %s", strerror(e));
	}
}

/* The share is empty: is that the KB situation (a drive holds packages), or no images yet? */
static void judge_empty(struct run *r)
{
	char drive[PATH_MAX + 64];

	if (busiest_drive(r, drive, sizeof(drive))) {
		verdict(r, CHECK_CRITICAL, "share_empty", "share %s is empty while %s", r->share,
		        drive);
	} else if (r->local.n > 0) {
		verdict(r, CHECK_CRITICAL, "share_empty",
		        "share %s is empty while the view at %s holds %zu files", r->share, r->view,
		        r->res->files_local);
	} else {
		verdict(r, CHECK_WARNING, "share_empty",
		        "share %s and the view are both empty: no drive holds any package yet",
		        r->share);
	}
}

/* The share root was listed: name what the comparison found. */
static void judge(struct run *r, const struct share_conf *sc, int local_err)
{
	struct check_result *res = r->res;
	size_t most = r->remote.n > r->local.n ? r->remote.n : r->local.n;
	char why[2 * PATH_MAX];

	if (sc->defined && !same_path(sc->path, r->view)) {
		verdict(r, CHECK_CRITICAL, "path_stale",
		        "stale: the share %s points at %s, not the view at %s (%zu files there)",
		        r->share, sc->path, r->view, res->files_remote);
	} else if (r->remote.n == 0) {
		judge_empty(r);
	} else if (local_err < 0) {
		if (local_err == -ENOENT) {
			view_state(r, why, sizeof(why));
		} else {
			snprintf(why, sizeof(why), "%s", strerror(-local_err));
		}
		verdict(r, CHECK_CRITICAL, "content_differs",
		        "share %s serves %zu files, but the view's images folder %s cannot be "
		        "listed: %s",
		        r->share, res->files_remote, r->view, why);
	} else if (res->differences == 0) {
		size_t dirs = r->remote.n - res->files_remote;
		verdict(r, CHECK_OK, "ok",
		        "%s: %zu file%s in %zu folder%s, names and sizes%s match", r->url,
		        res->files_remote, res->files_remote == 1 ? "" : "s", dirs,
		        dirs == 1 ? "" : "s", r->o->deep ? " and SHA-256 contents" : "");
	} else {
		verdict(r, res->differences * 2 > most ? CHECK_CRITICAL : CHECK_WARNING,
		        "content_differs",
		        "content differs: %zu difference%s between the share %s and the view at %s "
		        "(%zu files over SMB, %zu in the view)",
		        res->differences, res->differences == 1 ? "" : "s", r->share, r->view,
		        res->files_remote, res->files_local);
	}
}

/* fd 1 to /dev/null while libsmbclient runs; returns the saved fd (or -1). */
static int stdout_off(void)
{
	int saved = -1;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	fflush(stdout);
	saved = null < 0 ? -1 : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved >= 0 && dup2(null, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	if (null >= 0) {
		close(null);
	}
	return saved;
}

static void stdout_on(int saved)
{
	if (saved >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
}

/* Lists the share and the view and compares them; on a failure at the share root, names
 * it. Returns with r->res filled. */
static void check_share(struct run *r)
{
	struct share_conf sc;
	SMBCCTX *ctx = NULL;
	int e = 0;

	memset(&sc, 0, sizeof(sc));
	read_share_conf(r, &sc);
	ctx = smb_new(r, !r->guest);
	if (!ctx) {
		verdict(r, CHECK_UNKNOWN, "error", "cannot set up libsmbclient: %s",
		        strerror(errno));
		return;
	}
	e = walk(r, smb_list, ctx, &r->remote, "", 0, "over SMB");
	if (e < 0) {
		smbc_free_context(ctx, 1);
		if (e != -ENOMEM) {
			classify(r, &sc, -e);
		}
		return;
	}
	e = walk(r, local_list, NULL, &r->local, "", 0, "in the view");
	if (e != -ENOMEM) {
		r->res->files_remote = count_files(&r->remote);
		r->res->files_local = count_files(&r->local);
		compare(r, ctx);
		judge(r, &sc, e);
	}
	smbc_free_context(ctx, 1);
}

void check_run(const struct pxe_config *cfg, const struct check_opts *o, struct check_result *res)
{
	struct run r = {.cfg = cfg, .o = o, .res = res};
	int saved = -1;

	memset(res, 0, sizeof(*res));
	res->time_s = res->free_pct = -1;
	verdict(&r, CHECK_UNKNOWN, "error", "out of memory");
	saved = stdout_off();
	if (setup(&r) == 0 && reach(&r) == 0) {
		check_share(&r);
	}
	if (r.n_details > MAX_DETAILS) {
		char more[64];
		snprintf(more, sizeof(more), "... and %zu more", r.n_details - MAX_DETAILS);
		detail_raw(&r, more);
	}
	stdout_on(saved);
	tree_fini(&r.remote);
	tree_fini(&r.local);
	free(r.buf);
	explicit_bzero(r.password, sizeof(r.password));
}

/* ---- JSON -------------------------------------------------------------------------------- */

static const char *status_name(enum check_status st)
{
	return st == CHECK_OK         ? "OK"
	       : st == CHECK_WARNING  ? "WARNING"
	       : st == CHECK_CRITICAL ? "CRITICAL"
	                              : "UNKNOWN";
}

static json_object *details_json(const char *details)
{
	json_object *a = json_object_new_array();

	for (const char *p = details; a && p && *p;) {
		size_t n = strcspn(p, "\n");
		json_object_array_add(a, json_object_new_string_len(p, (int)n));
		p += n + (p[n] == '\n');
	}
	return a;
}

char *check_result_json(const struct check_result *res, const struct check_opts *o)
{
	json_object *j = json_object_new_object();
	char *out = NULL;

	if (!j) {
		return NULL;
	}
	json_object_object_add(j, "status", json_object_new_string(status_name(res->status)));
	json_object_object_add(j, "code", json_object_new_int((int)res->status));
	json_object_object_add(j, "kind", json_object_new_string(res->kind));
	json_object_object_add(j, "message", json_object_new_string(res->message));
	json_object_object_add(j, "url", o && o->url ? json_object_new_string(o->url) : NULL);
	json_object_object_add(j, "files_remote",
	                       json_object_new_int64((int64_t)res->files_remote));
	json_object_object_add(j, "files_local", json_object_new_int64((int64_t)res->files_local));
	json_object_object_add(j, "differences", json_object_new_int64((int64_t)res->differences));
	json_object_object_add(j, "details", details_json(res->details));
	json_object_object_add(j, "time_s", res->time_s >= 0 ? json_object_new_double(res->time_s)
	                                                     : NULL);
	json_object_object_add(j, "free_percent",
	                       res->free_pct >= 0 ? json_object_new_double(res->free_pct) : NULL);
	out = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return out;
}

void check_result_fini(struct check_result *res)
{
	if (res) {
		free(res->details);
		res->details = NULL;
	}
}
