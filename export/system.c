/* system.c -- samba = system: our include file and a marked include line at the end of smb.conf.
 *
 * Plans every change in memory, checks it with testparm on copies in a temporary folder, then
 * renames the real files into place (rolling back on failure). Runs testparm, net and smbcontrol
 * with posix_spawn (SIGCHLD must not be ignored). Not thread-safe; concurrent runs on one
 * smb.conf are not serialised.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "system_int.h"

extern char **environ;

#define SYS_VALUE_MAX 8192
#define SYS_PROG_MS   60000
#define SYS_PROG_MAX  (1024 * 1024)
#define SYS_MAX_DEPTH 16
#define SYS_ERR_MAX   4096

/* ---- a growing string ------------------------------------------------------------------------ */

struct sbuf {
	char *s;
	size_t len;
	size_t cap;
	bool failed;
};

static void sb_add(struct sbuf *b, const char *p, size_t n)
{
	char *ns = NULL;
	size_t cap = 0;

	if (b->failed) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n = 0;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	sb_add(b, s, (size_t)n);
	free(s);
}

/* sb_take -- the text (never NULL unless out of memory); B is emptied. */
static char *sb_take(struct sbuf *b)
{
	char *s = b->s;

	if (!b->failed && !s) {
		s = strdup("");
	} else if (b->failed) {
		free(s);
		s = NULL;
	}
	memset(b, 0, sizeof(*b));
	return s;
}

/* ---- pure smb.conf text helpers (system_int.h) ----------------------------------------------- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p)) {
		p++;
	}
	return p;
}

static const char *trim_end(const char *p, const char *end)
{
	while (end > p && isspace((unsigned char)end[-1])) {
		end--;
	}
	return end;
}

static void copy_out(char *dst, size_t dlen, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (dlen == 0) {
		return;
	}
	n = n < dlen ? n : dlen - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

enum samba_line_kind samba_conf_line(const char *line, size_t n, char *name, size_t nlen,
                                     char *value, size_t vlen)
{
	const char *end = trim_end(line, line + n);
	const char *p = skip_ws(line, end);
	const char *mark = NULL;

	copy_out(name, nlen, p, p);
	copy_out(value, vlen, p, p);
	if (p == end) {
		return SAMBA_LINE_BLANK;
	}
	if (*p == '#' || *p == ';') {
		return SAMBA_LINE_COMMENT;
	}
	if (*p == '[') {
		mark = memchr(p, ']', (size_t)(end - p));
		if (!mark) {
			return SAMBA_LINE_OTHER;
		}
		p = skip_ws(p + 1, mark);
		copy_out(name, nlen, p, trim_end(p, mark));
		return SAMBA_LINE_SECTION;
	}
	mark = memchr(p, '=', (size_t)(end - p));
	if (!mark) {
		return SAMBA_LINE_OTHER;
	}
	copy_out(name, nlen, p, trim_end(p, mark));
	p = skip_ws(mark + 1, end);
	copy_out(value, vlen, p, end);
	return SAMBA_LINE_PARAM;
}

bool samba_name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a && isspace((unsigned char)*a)) {
			a++;
		}
		while (*b && isspace((unsigned char)*b)) {
			b++;
		}
		if (!*a || !*b) {
			return !*a && !*b;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
			return false;
		}
		a++;
		b++;
	}
}

/* next_line -- the line of TEXT at *POS (length *N without its newline); advances *POS. */
static bool next_line(const char *text, size_t *pos, const char **line, size_t *n)
{
	const char *s = text + *pos;
	const char *nl = NULL;

	if (!*s) {
		return false;
	}
	nl = strchr(s, '\n');
	*line = s;
	*n = nl ? (size_t)(nl - s) : strlen(s);
	*pos += *n + (nl ? 1 : 0);
	return true;
}

/* line_ours -- 1 for our marker comment, 2 for an include of INCLUDE, else 0. */
static int line_ours(const char *line, size_t n, const char *include)
{
	char key[64];
	char val[SYS_VALUE_MAX];
	enum samba_line_kind k = samba_conf_line(line, n, key, sizeof(key), val, sizeof(val));
	const char *p = skip_ws(line, line + n);
	size_t plen = strlen(SAMBA_INCLUDE_MARKER_PREFIX);

	if (k == SAMBA_LINE_COMMENT) {
		return (size_t)(line + n - p) >= plen &&
		       !strncmp(p, SAMBA_INCLUDE_MARKER_PREFIX, plen);
	}
	return k == SAMBA_LINE_PARAM && samba_name_eq(key, "include") && !strcmp(val, include) ? 2
	                                                                                       : 0;
}

char *samba_conf_strip_include(const char *text, const char *include, int *removed)
{
	struct sbuf b = {0};
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int count = 0;
	int kind = 0;

	while (next_line(text, &pos, &line, &n)) {
		kind = line_ours(line, n, include);
		count += kind == 2;
		if (kind == 0) {
			sb_add(&b, line, n + (line[n] == '\n'));
		}
	}
	if (removed) {
		*removed = count;
	}
	return sb_take(&b);
}

char *samba_conf_add_include(const char *text, const char *include, const char *line_path)
{
	struct sbuf b = {0};
	char *base = samba_conf_strip_include(text, include, NULL);

	if (!base) {
		return NULL;
	}
	sb_put(&b, "%s", base);
	if (b.len > 0 && b.s[b.len - 1] != '\n') {
		sb_add(&b, "\n", 1);
	}
	sb_put(&b, "%s\ninclude = %s\n", SAMBA_INCLUDE_MARKER, line_path);
	free(base);
	return sb_take(&b);
}

char *samba_conf_comment_section(const char *text, int first, const char *include, int *last)
{
	struct sbuf b = {0};
	char name[256];
	char val[SYS_VALUE_MAX];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int no = 0;
	bool in = false;
	enum samba_line_kind k = SAMBA_LINE_BLANK;

	while (next_line(text, &pos, &line, &n)) {
		k = samba_conf_line(line, n, name, sizeof(name), val, sizeof(val));
		no++;
		if (no == first) {
			if (k != SAMBA_LINE_SECTION) {
				free(b.s);
				return NULL;
			}
			in = true;
		} else if (in && (k == SAMBA_LINE_SECTION || line_ours(line, n, include))) {
			in = false;
		}
		if (in && k != SAMBA_LINE_BLANK) {
			*last = no;
			sb_add(&b, SAMBA_REPAIR_PREFIX, strlen(SAMBA_REPAIR_PREFIX));
		}
		sb_add(&b, line, n + (line[n] == '\n'));
	}
	if (first > no) {
		free(b.s);
		return NULL;
	}
	return sb_take(&b);
}

static bool value_true(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "1") ||
	       !strcasecmp(v, "on");
}

/* scan_param -- one parameter of samba_conf_scan; CUR is the index of the definition we are in. */
static int scan_param(struct samba_conf_facts *f, const char *key, const char *val, int line,
                      bool global, long cur)
{
	void *nv = NULL;
	char *copy = NULL;

	if (cur >= 0 && (samba_name_eq(key, "path") || samba_name_eq(key, "directory"))) {
		copy = strdup(val);
		if (!copy) {
			return -ENOMEM;
		}
		free(f->defs[cur].path);
		f->defs[cur].path = copy;
	} else if (samba_name_eq(key, "include") && !strcasecmp(val, "registry")) {
		f->registry = f->registry || global;
	} else if (samba_name_eq(key, "include")) {
		nv = realloc(f->incs, (f->n_incs + 1) * sizeof(*f->incs));
		copy = strdup(val);
		if (nv) {
			f->incs = nv;
		}
		if (!nv || !copy) {
			free(copy);
			return -ENOMEM;
		}
		f->incs[f->n_incs++] = (struct samba_conf_inc){line, copy, global};
	} else if (global && (samba_name_eq(key, "registry shares") ||
	                      samba_name_eq(key, "config backend"))) {
		f->registry = f->registry || value_true(val) || !strcasecmp(val, "registry");
	}
	return 0;
}

static int scan_section(struct samba_conf_facts *f, const char *name, const char *share, int line,
                        bool *global, long *cur)
{
	void *nv = NULL;
	char *copy = NULL;

	*global = samba_name_eq(name, "global");
	*cur = -1;
	if (!samba_name_eq(name, share)) {
		return 0;
	}
	nv = realloc(f->defs, (f->n_defs + 1) * sizeof(*f->defs));
	copy = strdup(name);
	if (nv) {
		f->defs = nv;
	}
	if (!nv || !copy) {
		free(copy);
		return -ENOMEM;
	}
	f->defs[f->n_defs] = (struct samba_conf_def){line, copy, NULL};
	*cur = (long)f->n_defs++;
	return 0;
}

/* logical_line -- the next line of TEXT with its continuation lines joined
 * (a parameter line ending in '\'); *NO counts physical lines. */
static bool logical_line(const char *text, size_t *pos, int *no, struct sbuf *lg)
{
	const char *line = NULL;
	const char *end = NULL;
	size_t n = 0;

	lg->len = 0;
	sb_add(lg, "", 0);
	if (!next_line(text, pos, &line, &n)) {
		return false;
	}
	(*no)++;
	sb_add(lg, line, n);
	while (!lg->failed && *skip_ws(lg->s, lg->s + lg->len) != '#' &&
	       *skip_ws(lg->s, lg->s + lg->len) != ';') {
		end = trim_end(lg->s, lg->s + lg->len);
		if (end == lg->s || end[-1] != '\\' || !next_line(text, pos, &line, &n)) {
			break;
		}
		(*no)++;
		lg->len = (size_t)(end - 1 - lg->s);
		sb_add(lg, line, n);
	}
	return true;
}

int samba_conf_scan(const char *text, const char *share, bool global, struct samba_conf_facts *f)
{
	struct sbuf lg = {0};
	char name[256];
	char *val = malloc(SYS_VALUE_MAX);
	size_t pos = 0;
	long cur = -1;
	int no = 0;
	int first = 0;
	int rc = -ENOMEM;
	enum samba_line_kind k = SAMBA_LINE_BLANK;

	memset(f, 0, sizeof(*f));
	if (!val) {
		goto out;
	}
	for (first = no + 1; logical_line(text, &pos, &no, &lg); first = no + 1) {
		if (lg.failed) {
			goto out;
		}
		k = samba_conf_line(lg.s, lg.len, name, sizeof(name), val, SYS_VALUE_MAX);
		rc = 0;
		if (k == SAMBA_LINE_SECTION) {
			rc = scan_section(f, name, share, first, &global, &cur);
		} else if (k == SAMBA_LINE_PARAM) {
			rc = scan_param(f, name, val, first, global, cur);
		}
		if (rc < 0) {
			goto out;
		}
	}
	rc = lg.failed ? -ENOMEM : 0;
out:
	free(lg.s);
	free(val);
	return rc;
}

void samba_conf_facts_fini(struct samba_conf_facts *f)
{
	for (size_t i = 0; i < f->n_defs; i++) {
		free(f->defs[i].section);
		free(f->defs[i].path);
	}
	for (size_t i = 0; i < f->n_incs; i++) {
		free(f->incs[i].file);
	}
	free(f->defs);
	free(f->incs);
	memset(f, 0, sizeof(*f));
}

/* unknown_name -- the parameter an "Unknown parameter"/"Ignoring" line names, into OUT. */
static bool unknown_name(const char *line, size_t n, char *out, size_t len)
{
	const char *end = line + n;
	const char *q1 = NULL;
	const char *q2 = NULL;
	const char *p = skip_ws(line, end);

	if (!memmem(line, n, "Unknown parameter", 17) &&
	    ((size_t)(end - p) < 8 || strncmp(p, "Ignoring", 8))) {
		return false;
	}
	q1 = memchr(line, '"', n);
	q2 = q1 ? memchr(q1 + 1, '"', (size_t)(end - q1 - 1)) : NULL;
	if (q2) {
		copy_out(out, len, q1 + 1, q2);
	} else {
		copy_out(out, len, p, trim_end(p, end));
	}
	return true;
}

char *samba_testparm_unknown(const char *err)
{
	struct sbuf b = {0};
	char name[512];
	char *hay = NULL;
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool seen = false;

	sb_add(&b, "\n", 1);
	while (next_line(err, &pos, &line, &n)) {
		if (!unknown_name(line, n, name, sizeof(name) - 2)) {
			continue;
		}
		seen = false;
		for (hay = b.s; !b.failed && hay && *hay; hay = strchr(hay + 1, '\n')) {
			size_t l = strcspn(hay + 1, "\n");
			if (l == strlen(name) && !strncasecmp(hay + 1, name, l)) {
				seen = true;
			}
		}
		if (!seen) {
			sb_put(&b, "%s\n", name);
		}
	}
	if (!b.failed) {
		memmove(b.s, b.s + 1, b.len--);
	}
	return sb_take(&b);
}

char *samba_testparm_errors(const char *err)
{
	static const char *const chatter[] = {"Load smb config files from",
	                                      "Loaded services file OK", "Weak crypto is allowed",
	                                      "Server role:"};
	struct sbuf b = {0};
	char name[512];
	const char *line = NULL;
	const char *p = NULL;
	size_t pos = 0;
	size_t n = 0;
	bool skip = false;

	while (next_line(err, &pos, &line, &n)) {
		p = skip_ws(line, line + n);
		skip = p == trim_end(p, line + n) || unknown_name(line, n, name, sizeof(name));
		for (size_t i = 0; i < sizeof(chatter) / sizeof(chatter[0]) && !skip; i++) {
			skip = !strncmp(p, chatter[i], strlen(chatter[i]));
		}
		if (!skip) {
			sb_put(&b, "%s%.*s", b.len ? "; " : "", (int)(trim_end(p, line + n) - p),
			       p);
		}
	}
	return sb_take(&b);
}

/* ---- running testparm, net and smbcontrol ---------------------------------------------------- */

struct prog {
	int status; /* exit status; 128+signal; -1 timed out or lost */
	char *out;
	char *err;
};

static void prog_fini(struct prog *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* prog_collect -- read FO and FE into OUT/ERR until both end; false on timeout. */
static bool prog_collect(int fo, int fe, struct sbuf *out, struct sbuf *err)
{
	struct pollfd pf[2] = {{.fd = fo, .events = POLLIN}, {.fd = fe, .events = POLLIN}};
	struct timespec t0;
	char chunk[4096];
	ssize_t got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		long left = SYS_PROG_MS - ms_since(&t0);
		if (left <= 0) {
			return false;
		}
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR) {
			return false;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents) {
				continue;
			}
			got = read(pf[i].fd, chunk, sizeof(chunk));
			if (got <= 0 && !(got < 0 && errno == EINTR)) {
				pf[i].fd = -1;
			} else if (got > 0 && (i ? err : out)->len < SYS_PROG_MAX) {
				sb_add(i ? err : out, chunk, (size_t)got);
			}
		}
	}
	return true;
}

static int prog_wait(pid_t pid, bool in_time)
{
	int ws = 0;

	if (!in_time) {
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	if (!in_time) {
		return -1;
	}
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* prog_run -- run ARGV (found in PATH), stdin /dev/null, capturing its output.
 * Returns 0 when it ran (see P->status) or a negative errno when it could not start. */
static int prog_run(char *const argv[], struct prog *p)
{
	posix_spawn_file_actions_t fa;
	struct sbuf out = {0};
	struct sbuf err = {0};
	int po[2] = {-1, -1};
	int pe[2] = {-1, -1};
	pid_t pid = -1;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc < 0) {
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	p->status = prog_wait(pid, prog_collect(po[0], pe[0], &out, &err));
	p->out = sb_take(&out);
	p->err = sb_take(&err);
	rc = p->out && p->err ? 0 : -ENOMEM;
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0) {
			close(po[i]);
		}
		if (pe[i] >= 0) {
			close(pe[i]);
		}
	}
	free(out.s);
	free(err.s);
	return rc;
}

/* first_line -- the first non-blank line of S, trimmed, into OUT. */
static void first_line(const char *s, char *out, size_t len)
{
	const char *p = s ? skip_ws(s, s + strlen(s)) : "";

	copy_out(out, len, p, trim_end(p, p + strcspn(p, "\n")));
}

/* prog_msg -- why a program failed: RC from prog_run, else its first line of output. */
static void prog_msg(int rc, const struct prog *p, char *out, size_t len)
{
	if (rc < 0) {
		copy_out(out, len, strerror(-rc), strerror(-rc) + strlen(strerror(-rc)));
	} else {
		first_line(p->err && *p->err ? p->err : p->out, out, len);
	}
	if (!*out) {
		snprintf(out, len, "exit status %d", p->status);
	}
}

/* ---- files ----------------------------------------------------------------------------------- */

/* file_read -- the whole of PATH, malloc'd. Returns 0 or a negative errno. */
static int file_read(const char *path, char **out)
{
	struct sbuf b = {0};
	char chunk[8192];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	*out = NULL;
	if (fd < 0) {
		return -errno;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		sb_add(&b, chunk, n > 0 ? (size_t)n : 0);
	}
	*out = sb_take(&b);
	rc = *out ? 0 : -ENOMEM;
out:
	free(b.s);
	close(fd);
	return rc;
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n = 0;

	while (len > 0) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path) {
		copy_out(out, len, "/", "/" + 1);
	} else {
		copy_out(out, len, path, slash);
	}
}

static void fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd = -1;

	dir_of(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* file_write -- replace PATH by TEXT atomically (a temporary file in its
 * folder, fsync, rename), with the mode and owner of LIKE (NULL: 0644). EXCL:
 * create PATH, failing when it exists. Returns 0 or a negative errno. */
static int file_write(const char *path, const char *text, const struct stat *like, bool excl)
{
	char dir[PATH_MAX];
	char tmp[PATH_MAX + 64];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int fd = -1;
	int rc = 0;

	dir_of(path, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/.%s.pxeimagesfs-tmp.XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (fchmod(fd, like ? like->st_mode & 07777 : 0644) < 0 ||
	    (like && geteuid() == 0 && fchown(fd, like->st_uid, like->st_gid) < 0)) {
		rc = -errno;
	}
	rc = rc ? rc : write_all(fd, text);
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && excl && link(tmp, path) < 0) {
		rc = -errno;
	} else if (rc == 0 && !excl && rename(tmp, path) < 0) {
		rc = -errno;
	}
	if (rc != 0 || excl) {
		unlink(tmp);
	}
	if (rc == 0) {
		fsync_dir(path);
	}
	return rc;
}

/* ---- the run: plan, check, commit ------------------------------------------------------------ */

/* A file of the smb.conf tree that we read. */
struct sys_file {
	char *path; /* as named (smb.conf as configured, or an include value) */
	char *real; /* symlinks resolved */
	char *text;
};

/* Another definition of the share. */
struct conflict {
	long file; /* index into files, or -1 for a registry share */
	int line;
	char *section; /* the name as written */
	char *path;    /* or NULL */
	char *saved;   /* registry: `net conf showshare` output */
};

/* One file we replace, create or delete; applied in array order. */
struct change {
	char *path;     /* symlinks resolved */
	char *old;      /* current text, or NULL when absent */
	char *text;     /* new text, or NULL to delete */
	char *backup;   /* write OLD here first, or NULL */
	struct stat st; /* of the old file */
	bool backup_done;
	bool applied;
};

struct sys_export {
	const struct pxe_config *cfg;
	const struct samba_export_opts *o;
	const char *name;       /* share name (borrowed) */
	const char *include;    /* include file as configured (borrowed) */
	const char *mountpoint; /* where the view is mounted (borrowed) */
	char conf[PATH_MAX];    /* smb.conf, symlinks resolved */
	char inc_real[PATH_MAX];
	char share_path[PATH_MAX];
	char stamp[32];
	char *conf_old;    /* NULL: absent */
	char *conf_base;   /* conf_old after repairs */
	char *conf_backup; /* backup of smb.conf when repaired, or NULL */
	char *inc_old;
	char *inc_new;
	char *conf_new;
	struct sys_file *files;
	size_t n_files;
	struct conflict *cf;
	size_t n_cf;
	bool registry; /* registry shares in effect */
	bool recheck;  /* check the effective path after deleting a registry share */
	struct change *ch;
	size_t n_ch;
	struct sbuf rep;  /* report lines so far */
	struct sbuf acts; /* what the commit does, reported once it is done */
	char err[SYS_ERR_MAX];
};

static int fail(struct sys_export *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct sys_export *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *verb(const struct sys_export *x, const char *would, const char *did)
{
	return x->o->dry_run ? would : did;
}

static const char *prog_name(const char *name, const char *def)
{
	return name ? name : def;
}

static void real_path(const char *path, char *out, size_t len)
{
	char *r = realpath(path, NULL);

	copy_out(out, len, r ? r : path, (r ? r : path) + strlen(r ? r : path));
	free(r);
}

static int push_file(struct sys_export *x, const char *path, const char *real, char *text)
{
	struct sys_file *nv = realloc(x->files, (x->n_files + 1) * sizeof(*nv));
	struct sys_file f = {strdup(path), strdup(real), text};

	if (nv) {
		x->files = nv;
	}
	if (!nv || !f.path || !f.real) {
		free(f.path);
		free(f.real);
		free(text);
		return fail(x, "out of memory");
	}
	x->files[x->n_files++] = f;
	return 0;
}

static int push_conflict(struct sys_export *x, long file, int line, const char *section,
                         const char *path, char *saved)
{
	struct conflict *nv = realloc(x->cf, (x->n_cf + 1) * sizeof(*nv));
	struct conflict c = {file, line, strdup(section), path ? strdup(path) : NULL, saved};

	if (nv) {
		x->cf = nv;
	}
	if (!nv || !c.section || (path && !c.path)) {
		free(c.section);
		free(c.path);
		free(saved);
		return fail(x, "out of memory");
	}
	x->cf[x->n_cf++] = c;
	return 0;
}

/* push_change -- takes ownership of TEXT (and of nothing else). */
static struct change *push_change(struct sys_export *x, const char *path, const char *old,
                                  char *text)
{
	struct change *nv = realloc(x->ch, (x->n_ch + 1) * sizeof(*nv));
	struct change c = {.path = strdup(path), .old = old ? strdup(old) : NULL, .text = text};

	if (nv) {
		x->ch = nv;
	}
	if (!nv || !c.path || (old && !c.old)) {
		free(c.path);
		free(c.old);
		free(text);
		fail(x, "out of memory");
		return NULL;
	}
	if (old && stat(path, &c.st) < 0) {
		c.st.st_mode = 0644;
	}
	x->ch[x->n_ch] = c;
	return &x->ch[x->n_ch++];
}

static void backup_name(const struct sys_export *x, const char *path, const char *suffix, char *out,
                        size_t len)
{
	snprintf(out, len, "%s.pxeimagesfs-bak.%s%s", path, x->stamp, suffix);
	for (int i = 1; i < 100 && access(out, F_OK) == 0; i++) {
		snprintf(out, len, "%s.pxeimagesfs-bak.%s.%d%s", path, x->stamp, i, suffix);
	}
}

/* ---- finding other definitions --------------------------------------------------------------- */

static bool same_path(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);

	while (la > 1 && a[la - 1] == '/') {
		la--;
	}
	while (lb > 1 && b[lb - 1] == '/') {
		lb--;
	}
	return la == lb && !strncmp(a, b, la);
}

static void report_conflict(struct sys_export *x, const struct conflict *c)
{
	char where[PATH_MAX + 64];

	if (c->file < 0) {
		snprintf(where, sizeof(where), "registry (net conf showshare '%s')", c->section);
	} else {
		snprintf(where, sizeof(where), "%s:%d", x->files[c->file].path, c->line);
	}
	if (!c->path) {
		sb_put(&x->rep,
		       "%s: share %s also defined here without a path (a duplicate: its settings "
		       "mix into the share)\n",
		       where, c->section);
	} else if (same_path(c->path, x->share_path)) {
		sb_put(&x->rep,
		       "%s: share %s also defined here with the same path %s (a duplicate: its "
		       "other settings mix into the share)\n",
		       where, c->section, c->path);
	} else {
		sb_put(&x->rep,
		       "%s: share %s also defined here with path %s (the share would not serve "
		       "the view)\n",
		       where, c->section, c->path);
	}
}

static int scan_file(struct sys_export *x, size_t idx, bool global, int depth);

/* follow -- the file an include line of file IDX names, when we can read it. */
static int follow(struct sys_export *x, size_t idx, const struct samba_conf_inc *inc, int depth)
{
	char real[PATH_MAX];
	char *text = NULL;
	const char *from = x->files[idx].path;

	if (strchr(inc->file, '%')) {
		sb_put(&x->rep,
		       "note: %s:%d: include = %s has %%-macros (it depends on the client); "
		       "not searched for other definitions of %s\n",
		       from, inc->line, inc->file, x->name);
		return 0;
	}
	if (inc->file[0] != '/') {
		sb_put(&x->rep, "note: %s:%d: include = %s is a relative path; not searched\n",
		       from, inc->line, inc->file);
		return 0;
	}
	real_path(inc->file, real, sizeof(real));
	if (!strcmp(inc->file, x->include) || !strcmp(real, x->inc_real)) {
		return 0;
	}
	for (size_t i = 0; i < x->n_files; i++) {
		if (!strcmp(x->files[i].real, real)) {
			return 0;
		}
	}
	if (depth >= SYS_MAX_DEPTH || file_read(real, &text) < 0) {
		return 0; /* smbd skips a missing include too */
	}
	if (push_file(x, inc->file, real, text) < 0) {
		return -1;
	}
	return scan_file(x, x->n_files - 1, inc->global, depth + 1);
}

static int scan_file(struct sys_export *x, size_t idx, bool global, int depth)
{
	struct samba_conf_facts f = {0};
	int rc = -1;

	if (samba_conf_scan(x->files[idx].text, x->name, global, &f) < 0) {
		fail(x, "out of memory");
		goto out;
	}
	x->registry = x->registry || f.registry;
	for (size_t i = 0; i < f.n_defs; i++) {
		if (push_conflict(x, (long)idx, f.defs[i].line, f.defs[i].section, f.defs[i].path,
		                  NULL) < 0) {
			goto out;
		}
		report_conflict(x, &x->cf[x->n_cf - 1]);
	}
	for (size_t i = 0; i < f.n_incs; i++) {
		if (follow(x, idx, &f.incs[i], depth) < 0) {
			goto out;
		}
	}
	rc = 0;
out:
	samba_conf_facts_fini(&f);
	return rc;
}

static int net_run(struct sys_export *x, const char *what, const char *share, struct prog *p)
{
	char cf[PATH_MAX + 32];
	char *argv[] = {
	    (char *)prog_name(x->o->net, "net"), cf, "conf", (char *)what, (char *)share, NULL};

	snprintf(cf, sizeof(cf), "--configfile=%s", x->conf);
	return prog_run(argv, p);
}

static int scan_registry_share(struct sys_export *x, const char *share)
{
	struct samba_conf_facts f = {0};
	struct prog p = {0};
	char msg[512];
	int rc = net_run(x, "showshare", share, &p);

	if (rc < 0 || p.status != 0) {
		prog_msg(rc, &p, msg, sizeof(msg));
		sb_put(&x->rep, "note: registry share %s: 'net conf showshare' failed (%s)\n",
		       share, msg);
		rc = 0;
		goto out;
	}
	rc = -1;
	if (samba_conf_scan(p.out, share, false, &f) < 0) {
		fail(x, "out of memory");
		goto out;
	}
	if (push_conflict(x, -1, 0, share, f.n_defs ? f.defs[0].path : NULL, p.out) < 0) {
		p.out = NULL;
		goto out;
	}
	p.out = NULL;
	report_conflict(x, &x->cf[x->n_cf - 1]);
	rc = 0;
out:
	samba_conf_facts_fini(&f);
	prog_fini(&p);
	return rc;
}

/* scan_registry -- registry shares of the same name (only when the registry is in use). */
static int scan_registry(struct sys_export *x)
{
	struct prog p = {0};
	char name[256];
	char msg[512];
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;
	int rc = 0;

	if (!x->registry) {
		return 0;
	}
	rc = net_run(x, "listshares", NULL, &p);
	if (rc < 0 || p.status != 0) {
		prog_msg(rc, &p, msg, sizeof(msg));
		rc = 0;
		sb_put(&x->rep,
		       "note: registry shares are enabled but 'net conf listshares' failed "
		       "(%s); check them with 'net conf listshares'\n",
		       msg);
		goto out;
	}
	while (rc == 0 && next_line(p.out, &pos, &line, &n)) {
		copy_out(name, sizeof(name), skip_ws(line, line + n), trim_end(line, line + n));
		if (samba_name_eq(name, x->name)) {
			rc = scan_registry_share(x, name);
		}
	}
out:
	prog_fini(&p);
	return rc;
}

/* ---- planning -------------------------------------------------------------------------------- */

/* change_for -- the change of file IDX (an included file), created on first use with a backup. */
static struct change *change_for(struct sys_export *x, long idx)
{
	char bak[PATH_MAX + 64];
	struct change *c = NULL;
	char *copy = NULL;

	for (size_t i = 0; i < x->n_ch; i++) {
		if (!strcmp(x->ch[i].path, x->files[idx].real)) {
			return &x->ch[i];
		}
	}
	copy = strdup(x->files[idx].text);
	c = copy ? push_change(x, x->files[idx].real, x->files[idx].text, copy) : NULL;
	backup_name(x, x->files[idx].real, "", bak, sizeof(bak));
	if (c && !(c->backup = strdup(bak))) {
		fail(x, "out of memory");
		return NULL;
	}
	return c;
}

static int repair_file(struct sys_export *x, const struct conflict *c)
{
	char bak[PATH_MAX + 64];
	struct change *ch = NULL;
	char **text = NULL;
	char *nt = NULL;
	int last = c->line;

	if (c->file == 0) {
		text = &x->conf_base;
		if (!x->conf_backup) {
			backup_name(x, x->files[0].real, "", bak, sizeof(bak));
			x->conf_backup = strdup(bak);
		}
	} else if ((ch = change_for(x, c->file))) {
		text = &ch->text;
	}
	if (!text || (c->file == 0 && !x->conf_backup)) {
		return fail(x, "out of memory");
	}
	nt = samba_conf_comment_section(*text, c->line, x->include, &last);
	if (!nt) {
		return fail(x, "%s:%d: cannot comment out [%s] (out of memory)",
		            x->files[c->file].path, c->line, c->section);
	}
	free(*text);
	*text = nt;
	sb_put(&x->acts,
	       "%s:%d: %s [%s] (lines %d-%d, each now starts with '%s'); backup of "
	       "the old file: %s\n",
	       x->files[c->file].path, c->line, verb(x, "would comment out", "commented out"),
	       c->section, c->line, last, SAMBA_REPAIR_PREFIX,
	       c->file == 0 ? x->conf_backup : ch->backup);
	return 0;
}

/* repair_registry -- save every registry definition into one backup file. */
static int repair_registry(struct sys_export *x)
{
	struct sbuf b = {0};
	char bak[PATH_MAX + 64];
	size_t n = 0;

	backup_name(x, x->conf, ".registry", bak, sizeof(bak));
	sb_put(&b, "# registry shares deleted by 'pxeimagesfs export --repair' (%s)\n", x->stamp);
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file < 0) {
			sb_put(&b, "%s", x->cf[i].saved);
			sb_put(&x->acts,
			       "registry: %s share [%s] (net conf delshare); its settings are "
			       "kept in %s (restore: net conf import %s '%s')\n",
			       verb(x, "would delete", "deleted"), x->cf[i].section, bak, bak,
			       x->cf[i].section);
			n++;
		}
	}
	if (n == 0) {
		free(b.s);
		return 0;
	}
	return push_change(x, bak, NULL, sb_take(&b)) ? 0 : -1;
}

static int plan_repairs(struct sys_export *x)
{
	x->conf_base = strdup(x->conf_old);
	if (!x->conf_base) {
		return fail(x, "out of memory");
	}
	if (!x->o->repair) {
		return 0;
	}
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file >= 0 && repair_file(x, &x->cf[i]) < 0) {
			return -1;
		}
	}
	return repair_registry(x);
}

static char *include_text(const struct sys_export *x)
{
	struct sbuf b = {0};
	char from[PATH_MAX];
	char *block = samba_share_block(x->cfg, x->mountpoint);

	if (!block) {
		return NULL;
	}
	real_path(x->cfg->file, from, sizeof(from));
	sb_put(&b,
	       "# %s -- written by 'pxeimagesfs export' from %s\n"
	       "# Do not edit: it is rewritten on every export; change [share] there instead.\n",
	       x->include, from);
	sb_put(&b, "%s", block);
	free(block);
	return sb_take(&b);
}

/* include_act -- what happens to our include line in smb.conf, for the report. */
static int include_act(struct sys_export *x)
{
	int moved = 0;
	char *same = samba_conf_add_include(x->conf_old, x->include, x->include);
	char *stripped = samba_conf_strip_include(x->conf_old, x->include, &moved);
	const char *smb = x->cfg->share.smb_conf;
	int rc = 0;

	if (!same || !stripped) {
		rc = fail(x, "out of memory");
	} else if (!strcmp(same, x->conf_old)) {
		sb_put(&x->acts, "%s already includes %s as its last line\n", smb, x->include);
	} else {
		sb_put(&x->acts, "%s 'include = %s' %s the last line of %s\n",
		       moved ? verb(x, "would move", "moved") : verb(x, "would add", "added"),
		       x->include, moved ? "to" : "as", smb);
	}
	free(same);
	free(stripped);
	return rc;
}

/* plan_export -- our include file, then smb.conf with the include as its last line. */
static int plan_export(struct sys_export *x)
{
	struct change *c = NULL;
	char *t = NULL;

	x->inc_new = include_text(x);
	x->conf_new = samba_conf_add_include(x->conf_base, x->include, x->include);
	if (!x->inc_new || !x->conf_new) {
		return fail(x, "out of memory");
	}
	if (x->inc_old && !strcmp(x->inc_old, x->inc_new)) {
		sb_put(&x->acts, "%s is up to date (share %s, path %s)\n", x->include, x->name,
		       x->share_path);
	} else if (!(t = strdup(x->inc_new)) || !push_change(x, x->inc_real, x->inc_old, t)) {
		return fail(x, "out of memory");
	} else {
		sb_put(&x->acts, "%s %s: share %s with path %s\n", verb(x, "would write", "wrote"),
		       x->include, x->name, x->share_path);
	}
	if (include_act(x) < 0) {
		return -1;
	}
	if (!strcmp(x->conf_new, x->conf_old)) {
		return 0;
	}
	t = strdup(x->conf_new);
	c = t ? push_change(x, x->conf, x->conf_old, t) : NULL;
	if (!c || (x->conf_backup && !(c->backup = strdup(x->conf_backup)))) {
		return fail(x, "out of memory");
	}
	return 0;
}

/* plan_remove -- smb.conf without our lines, and no include file. */
static int plan_remove(struct sys_export *x)
{
	const char *smb = x->cfg->share.smb_conf;
	char *t = NULL;
	int n = 0;

	if (!x->conf_old) {
		sb_put(&x->acts, "%s does not exist: no include to remove\n", smb);
	} else if (!(x->conf_new = samba_conf_strip_include(x->conf_old, x->include, &n))) {
		return fail(x, "out of memory");
	} else if (!strcmp(x->conf_new, x->conf_old)) {
		sb_put(&x->acts, "%s has no include of %s\n", smb, x->include);
	} else if (!(t = strdup(x->conf_new)) || !push_change(x, x->conf, x->conf_old, t)) {
		return fail(x, "out of memory");
	} else {
		sb_put(&x->acts, "%s the include of %s from %s\n",
		       verb(x, "would remove", "removed"), x->include, smb);
	}
	if (!x->inc_old) {
		sb_put(&x->acts, "%s does not exist\n", x->include);
	} else if (!push_change(x, x->inc_real, x->inc_old, NULL)) {
		return -1;
	} else {
		sb_put(&x->acts, "%s %s\n", verb(x, "would delete", "deleted"), x->include);
	}
	return 0;
}

static int plan_scan(struct sys_export *x)
{
	if (scan_file(x, 0, true, 0) < 0 || scan_registry(x) < 0) {
		return -1;
	}
	return plan_repairs(x);
}

/* ---- testparm -------------------------------------------------------------------------------- */

static int tp_run(struct sys_export *x, const char *conf, struct prog *p)
{
	char *argv[] = {(char *)prog_name(x->o->testparm, "testparm"), "-s", "--suppress-prompt",
	                (char *)conf, NULL};
	int rc = prog_run(argv, p);

	if (rc < 0) {
		return fail(x,
		            "cannot run %s: %s; install Samba's tools (Debian: apt install "
		            "samba-common-bin); nothing was changed",
		            argv[0], strerror(-rc));
	}
	return 0;
}

static bool listed(const char *list, const char *name)
{
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;

	while (next_line(list, &pos, &line, &n)) {
		if (n == strlen(name) && !strncasecmp(line, name, n)) {
			return true;
		}
	}
	return false;
}

static const struct cfg_param *our_param(const struct sys_export *x, const char *name)
{
	for (size_t i = 0; i < x->cfg->share.n_params; i++) {
		if (samba_name_eq(x->cfg->share.params[i].key, name)) {
			return &x->cfg->share.params[i];
		}
	}
	return NULL;
}

/* tp_unknown -- parameters testparm ignores: ours (or new) fail, old ones are warnings. */
static int tp_unknown(struct sys_export *x, const char *unk, const char *base)
{
	struct sbuf bad = {0};
	char name[512];
	const struct cfg_param *cp = NULL;
	const char *line = NULL;
	size_t pos = 0;
	size_t n = 0;

	while (next_line(unk, &pos, &line, &n)) {
		copy_out(name, sizeof(name), line, line + n);
		if ((cp = our_param(x, name))) {
			sb_put(&bad, "%s'%s' (samba:%s at %s:%d)", bad.len ? ", " : "", name,
			       cp->key, x->cfg->file, cp->line);
		} else if (listed(base, name)) {
			sb_put(&x->rep,
			       "warning: testparm: unknown parameter '%s' in %s or a file it "
			       "includes (there before this change, not ours): fix or remove it\n",
			       name, x->cfg->share.smb_conf);
		} else {
			sb_put(&bad,
			       "%s'%s' (in the generated share block: this Samba does not "
			       "know it)",
			       bad.len ? ", " : "", name);
		}
	}
	if (bad.len == 0) {
		free(bad.s);
		return 0;
	}
	fail(x,
	     "testparm does not know the parameter %s: correct or remove it in [share] of %s; "
	     "nothing was changed",
	     bad.s ? bad.s : "?", x->cfg->file);
	free(bad.s);
	return -1;
}

static int tp_check(struct sys_export *x, const char *conf)
{
	struct prog p = {0};
	struct prog base = {0};
	char *unk = NULL;
	char *base_unk = NULL;
	char *why = NULL;
	int rc = -1;

	if (tp_run(x, conf, &p) < 0) {
		goto out;
	}
	unk = samba_testparm_unknown(p.err);
	if (unk && (*unk || p.status != 0) && tp_run(x, x->conf, &base) < 0) {
		goto out;
	}
	base_unk = samba_testparm_unknown(base.err ? base.err : "");
	why = samba_testparm_errors(p.err);
	if (!unk || !base_unk || !why) {
		fail(x, "out of memory");
	} else if (tp_unknown(x, unk, base_unk) < 0) {
		rc = -1; /* the reason is in x->err */
	} else if (p.status == 0) {
		rc = 0;
	} else if (x->o->remove && base.status != 0) {
		/* taking our lines out cannot make a broken smb.conf worse */
		sb_put(&x->rep,
		       "warning: testparm rejects %s with and without our include: %s; fix "
		       "it ('testparm -s' shows why)\n",
		       x->cfg->share.smb_conf, *why ? why : "?");
		rc = 0;
	} else {
		fail(x,
		     "testparm rejects the new configuration (exit %d): %s%s; nothing was changed",
		     p.status, *why ? why : "no reason given",
		     base.status != 0
		         ? " -- smb.conf fails testparm already without our change: fix "
		           "that first ('testparm -s' shows why)"
		         : "");
	}
out:
	free(unk);
	free(base_unk);
	free(why);
	prog_fini(&p);
	prog_fini(&base);
	return rc;
}

static bool registry_has(const struct sys_export *x, const char *path)
{
	for (size_t i = 0; i < x->n_cf; i++) {
		if (x->cf[i].file < 0 && x->cf[i].path && same_path(x->cf[i].path, path)) {
			return true;
		}
	}
	return false;
}

static void tp_path_fail(struct sys_export *x, const char *got, bool after)
{
	const char *hint = "see the other definitions listed above";

	if (our_param(x, "path") || our_param(x, "directory")) {
		hint = "a 'samba:path' line in [share] replaces the view's path: remove it";
	} else if (registry_has(x, got)) {
		hint =
		    "the registry share wins: run 'pxeimagesfs export --repair' to delete it (its "
		    "settings are saved first)";
	}

	if (after) {
		sb_put(&x->rep,
		       "warning: after deleting the registry share testparm sees share %s "
		       "with path '%s', not %s: check 'testparm -s %s'\n",
		       x->name, got, x->share_path, x->cfg->share.smb_conf);
	} else if (!*got) {
		fail(x,
		     "with our include, testparm does not see share %s at all: is smb.conf read "
		     "from files ('config backend', 'config file' in %s)? nothing was changed",
		     x->name, x->cfg->share.smb_conf);
	} else {
		fail(x,
		     "with our include, testparm sees share %s with path %s, not %s: another "
		     "definition overrides ours; %s; nothing was changed",
		     x->name, got, x->share_path, hint);
	}
}

/* tp_path -- the effective path of the share in CONF must be ours. AFTER: the
 * real files, after a repair (a mismatch is then only a warning). */
static int tp_path(struct sys_export *x, const char *conf, bool after)
{
	char sect[512];
	char got[PATH_MAX];
	char *argv[] = {(char *)prog_name(x->o->testparm, "testparm"),
	                "-s",
	                sect,
	                "--parameter-name=path",
	                (char *)conf,
	                NULL};
	struct prog p = {0};
	int rc = -1;

	snprintf(sect, sizeof(sect), "--section-name=%s", x->name);
	rc = prog_run(argv, &p);
	if (rc < 0) {
		rc = fail(x, "cannot run %s: %s; nothing was changed", argv[0], strerror(-rc));
		goto out;
	}
	first_line(p.status == 0 ? p.out : "", got, sizeof(got));
	rc = 0;
	if (*got && same_path(got, x->share_path)) {
		sb_put(&x->rep, "testparm: the %s configuration is valid; share %s has path %s\n",
		       after ? "repaired" : "new", x->name, got);
	} else if (!after && x->o->repair && registry_has(x, got)) {
		x->recheck = true;
		sb_put(&x->rep,
		       "testparm: the new configuration is valid; share %s has path %s "
		       "until the registry share is deleted\n",
		       x->name, got);
	} else {
		tp_path_fail(x, got, after);
		rc = after ? 0 : -1;
	}
out:
	prog_fini(&p);
	return rc;
}

/* validate -- testparm on copies of the new smb.conf and include file in a temporary folder. */
static int validate(struct sys_export *x)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	char conf[PATH_MAX + 16];
	char inc[PATH_MAX + 32];
	char *cand = NULL;
	int rc = -1;

	if (!x->conf_new || (x->o->remove && !strcmp(x->conf_new, x->conf_old))) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/pxeimagesfs-export.XXXXXX",
	         tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		return fail(x, "cannot create a temporary folder for testparm (%s): %s", dir,
		            strerror(errno));
	}
	snprintf(conf, sizeof(conf), "%s/smb.conf", dir);
	snprintf(inc, sizeof(inc), "%s/pxeimagesfs.conf", dir);
	cand = x->o->remove ? strdup(x->conf_new)
	                    : samba_conf_add_include(x->conf_base, x->include, inc);
	if (!cand) {
		fail(x, "out of memory");
	} else if ((!x->o->remove && (rc = file_write(inc, x->inc_new, NULL, false)) < 0) ||
	           (rc = file_write(conf, cand, NULL, false)) < 0) {
		rc = fail(x, "cannot write the copies for testparm in %s: %s", dir, strerror(-rc));
	} else {
		rc = tp_check(x, conf);
		rc = rc == 0 && !x->o->remove ? tp_path(x, conf, false) : rc;
	}
	unlink(inc);
	unlink(conf);
	rmdir(dir);
	free(cand);
	return rc;
}

/* ---- commit ---------------------------------------------------------------------------------- */

static const char *root_hint(int err)
{
	return (err == -EACCES || err == -EPERM) && geteuid() != 0 ? " (run it as root)" : "";
}

static int commit_one(struct sys_export *x, struct change *c)
{
	int rc = 0;

	if (c->backup && (rc = file_write(c->backup, c->old, &c->st, true)) < 0) {
		return fail(x, "cannot write the backup %s: %s%s; nothing was changed", c->backup,
		            strerror(-rc), root_hint(rc));
	}
	c->backup_done = c->backup != NULL;
	if (c->text) {
		rc = file_write(c->path, c->text, c->old ? &c->st : NULL, false);
	} else if (unlink(c->path) < 0 && errno != ENOENT) {
		rc = -errno;
	} else {
		fsync_dir(c->path);
	}
	if (rc < 0) {
		return fail(x, "cannot %s %s: %s%s; nothing was changed",
		            c->text ? "write" : "delete", c->path, strerror(-rc), root_hint(rc));
	}
	c->applied = true;
	return 0;
}

static void rollback(struct sys_export *x)
{
	struct change *c = NULL;

	for (size_t i = x->n_ch; i-- > 0;) {
		c = &x->ch[i];
		if (c->applied && c->old) {
			file_write(c->path, c->old, &c->st, false);
		} else if (c->applied) {
			unlink(c->path);
		}
		if (c->backup_done) {
			unlink(c->backup);
		}
		c->applied = c->backup_done = false;
	}
}

static int delete_registry(struct sys_export *x)
{
	struct prog p = {0};
	char msg[512];
	int rc = 0;
	int ran = 0;

	for (size_t i = 0; i < x->n_cf && rc == 0 && x->o->repair; i++) {
		if (x->cf[i].file >= 0) {
			continue;
		}
		ran = net_run(x, "delshare", x->cf[i].section, &p);
		if (ran < 0 || p.status != 0) {
			prog_msg(ran, &p, msg, sizeof(msg));
			rc =
			    fail(x,
			         "'net conf delshare %s' failed (%s): delete the registry share by "
			         "hand; nothing was changed",
			         x->cf[i].section, msg);
		}
		prog_fini(&p);
	}
	return rc;
}

static int commit(struct sys_export *x)
{
	for (size_t i = 0; i < x->n_ch; i++) {
		if (commit_one(x, &x->ch[i]) < 0) {
			rollback(x);
			return -1;
		}
	}
	if (delete_registry(x) < 0) {
		rollback(x);
		return -1;
	}
	return 0;
}

/* ---- after the commit ------------------------------------------------------------------------ */

static void reload(struct sys_export *x)
{
	char cf[PATH_MAX + 32];
	char msg[512];
	char *argv[] = {(char *)prog_name(x->o->smbcontrol, "smbcontrol"), cf, "smbd",
	                "reload-config", NULL};
	struct prog p = {0};
	int rc = 0;

	if (x->o->no_reload) {
		sb_put(&x->rep, "smbd not reloaded (no reload asked for)\n");
		return;
	}
	if (x->o->dry_run) {
		sb_put(&x->rep, "would reload smbd (smbcontrol smbd reload-config)\n");
		return;
	}
	snprintf(cf, sizeof(cf), "--configfile=%s", x->cfg->share.smb_conf);
	rc = prog_run(argv, &p);
	if (rc == 0 && p.status == 0) {
		sb_put(&x->rep, "reloaded smbd (smbcontrol smbd reload-config)\n");
	} else {
		prog_msg(rc, &p, msg, sizeof(msg));
		sb_put(&x->rep,
		       "warning: smbd was not reloaded (%s: %s): if smbd runs, run "
		       "'smbcontrol smbd reload-config'; otherwise it reads the new configuration "
		       "when it starts\n",
		       argv[0], msg);
	}
	prog_fini(&p);
}

static void summary(struct sys_export *x)
{
	if (x->n_cf == 0 || x->o->repair || x->o->remove) {
		return;
	}
	sb_put(&x->rep,
	       "warning: %zu other definition%s of share %s left in place: run "
	       "'pxeimagesfs export --repair' to comment %s out (a backup is kept)\n",
	       x->n_cf, x->n_cf == 1 ? "" : "s", x->name, x->n_cf == 1 ? "it" : "them");
}

/* ---- the entry point ------------------------------------------------------------------------- */

static int mode_fail(struct sys_export *x)
{
	const char *why = x->cfg->share.samba == CFG_SAMBA_PRIVATE
	                      ? "the private smbd of 'pxeimagesfs mount' serves the share itself"
	                      : "no share is wanted";

	return fail(x,
	            "[share] samba = %s in %s: %s, so there is nothing to export to the system "
	            "smbd; set 'samba = system' in [share] to share the view through it (or run "
	            "'pxeimagesfs export --remove' to take an earlier export out)",
	            cfg_samba_name(x->cfg->share.samba), x->cfg->file, why);
}

static int read_current(struct sys_export *x)
{
	const char *smb = x->cfg->share.smb_conf;
	char dir[PATH_MAX];
	char *copy = NULL;
	int rc = file_read(x->conf, &x->conf_old);

	if (rc == -ENOENT && !x->o->remove) {
		return fail(x,
		            "%s does not exist: install Samba (Debian: apt install samba) or set "
		            "'smb.conf =' in [share] of %s; nothing was changed",
		            smb, x->cfg->file);
	}
	if (rc < 0 && rc != -ENOENT) {
		return fail(x, "cannot read %s: %s%s; nothing was changed", smb, strerror(-rc),
		            root_hint(rc));
	}
	rc = file_read(x->inc_real, &x->inc_old);
	if (rc < 0 && rc != -ENOENT) {
		return fail(x, "cannot read %s: %s%s; nothing was changed", x->include,
		            strerror(-rc), root_hint(rc));
	}
	dir_of(x->inc_real, dir, sizeof(dir));
	if (!x->o->remove && access(dir, F_OK) < 0) {
		return fail(x,
		            "the folder %s of the include file does not exist: create it or set "
		            "'include file =' in [share] of %s",
		            dir, x->cfg->file);
	}
	if (!x->conf_old) {
		return 0;
	}
	copy = strdup(x->conf_old);
	return copy ? push_file(x, smb, x->conf, copy) : fail(x, "out of memory");
}

static int exp_init(struct sys_export *x, const struct pxe_config *cfg, const char *mountpoint,
                    const struct samba_export_opts *o)
{
	static const struct samba_export_opts defaults = {0};
	time_t now = time(NULL);
	struct tm tm;

	x->cfg = cfg;
	x->o = o ? o : &defaults;
	x->name = cfg->share.name;
	x->include = cfg->share.include_file;
	x->mountpoint = mountpoint ? mountpoint : cfg->mountpoint;
	localtime_r(&now, &tm);
	strftime(x->stamp, sizeof(x->stamp), "%Y%m%d-%H%M%S", &tm);
	if (cfg->share.samba != CFG_SAMBA_SYSTEM && !x->o->remove) {
		return mode_fail(x);
	}
	if (samba_share_path(cfg, x->mountpoint, x->share_path, sizeof(x->share_path)) < 0) {
		return fail(x, "the share path under %s is too long", x->mountpoint);
	}
	real_path(cfg->share.smb_conf, x->conf, sizeof(x->conf));
	real_path(x->include, x->inc_real, sizeof(x->inc_real));
	if (!strcmp(x->conf, x->inc_real)) {
		return fail(x,
		            "[share] 'include file' and 'smb.conf' are the same file (%s) in %s: "
		            "give the include file a name of its own, e.g. "
		            "/etc/samba/pxeimagesfs.conf",
		            x->conf, cfg->file);
	}
	return read_current(x);
}

static void exp_fini(struct sys_export *x)
{
	for (size_t i = 0; i < x->n_files; i++) {
		free(x->files[i].path);
		free(x->files[i].real);
		free(x->files[i].text);
	}
	for (size_t i = 0; i < x->n_cf; i++) {
		free(x->cf[i].section);
		free(x->cf[i].path);
		free(x->cf[i].saved);
	}
	for (size_t i = 0; i < x->n_ch; i++) {
		free(x->ch[i].path);
		free(x->ch[i].old);
		free(x->ch[i].text);
		free(x->ch[i].backup);
	}
	free(x->files);
	free(x->cf);
	free(x->ch);
	free(x->conf_old);
	free(x->conf_base);
	free(x->conf_backup);
	free(x->inc_old);
	free(x->inc_new);
	free(x->conf_new);
	free(x->rep.s);
	free(x->acts.s);
}

static void report_copy(const struct sys_export *x, char *report, size_t len)
{
	static const char cut[] = "...(report truncated)\n";
	const char *s = x->rep.failed ? "error: out of memory\n" : x->rep.s ? x->rep.s : "";

	if (!report || len == 0) {
		return;
	}
	snprintf(report, len, "%s", s);
	if (strlen(s) >= len && len > sizeof(cut)) {
		memcpy(report + len - sizeof(cut), cut, sizeof(cut));
	}
}

/* samba_export -- see export.h. REPORT lines: "file:line: share ... also defined here ..."
 * (other definitions), "note: ..." (information), "warning: ..." (done, but the caller should
 * exit 1: definitions left in place, smbd not reloaded, testparm complaints that were there
 * before), plain lines for what was (or with dry_run would be) done, and on failure a last
 * "error: ..." line saying what is wrong and what to do. */
int samba_export(const struct pxe_config *cfg, const char *mountpoint,
                 const struct samba_export_opts *o, char *report, size_t len)
{
	struct sys_export x = {0};
	int rc = -1;

	if (exp_init(&x, cfg, mountpoint, o) < 0 || (!x.o->remove && plan_scan(&x) < 0)) {
		goto out;
	}
	if ((x.o->remove ? plan_remove(&x) : plan_export(&x)) < 0 || validate(&x) < 0) {
		goto out;
	}
	if (!x.o->dry_run && commit(&x) < 0) {
		goto out;
	}
	sb_put(&x.rep, "%s", x.acts.s ? x.acts.s : "");
	if (x.recheck && !x.o->dry_run) {
		tp_path(&x, x.conf, true);
	}
	if (!x.o->remove || x.n_ch > 0) {
		reload(&x);
	}
	summary(&x);
	rc = 0;
out:
	if (rc < 0) {
		sb_put(&x.rep, "error: %s\n", x.err[0] ? x.err : "failed");
	}
	report_copy(&x, report, len);
	exp_fini(&x);
	return rc;
}
