/* port_owner.c -- who listens on a TCP port, from /proc/net/tcp(6) and /proc/<pid>/fd.
 *
 * The private smbd must know whether the socket on its port is its own: a connect cannot tell.
 * Every read is bounded (the tables at most PORT_TABLE_MAX bytes, a process's fds at most
 * PORT_FDS_MAX entries); nothing runs a program. Also which addresses Samba's `interfaces`
 * covers, to tell whether a socket keeps smbd from one of them. Any thread; no state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port_owner.h"

#define PORT_TABLE_MAX (64L << 20) /* of /proc/net/tcp: a host with a million connections */
#define PORT_FDS_MAX   (1 << 20)   /* fds looked at in one process */
#define LISTEN_STATE   0x0A        /* TCP_LISTEN */

/* Hex digits S[0..N) as a 32-bit word (the kernel prints each word of the address with %08X). */
static bool hex_word(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
		v = v << 4 | (uint32_t)(isdigit((unsigned char)s[i])
		                            ? s[i] - '0'
		                            : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = v;
	return true;
}

/* "ADDR:PORT" of FAMILY into OUT and *PORT. */
static bool parse_local(const char *f, size_t n, int family, struct port_sock *out, int *port)
{
	size_t alen = family == AF_INET ? 8 : 32;
	uint32_t w = 0;

	if (n != alen + 5 || f[alen] != ':' || !hex_word(f + alen + 1, 4, &w)) {
		return false;
	}
	*port = (int)w;
	for (size_t i = 0; i < alen / 8; i++) {
		if (!hex_word(f + 8 * i, 8, &w)) {
			return false;
		}
		memcpy(out->addr + 4 * i, &w,
		       4); /* the word as the kernel holds it: network order */
	}
	return true;
}

int port_parse_line(const char *line, int family, int port, struct port_sock *out)
{
	const char *f[10];
	size_t len[10];
	const char *c = line;
	char *end = NULL;
	uint32_t st = 0;
	int p = -1;

	for (int i = 0; i < 10; i++) {
		c += strspn(c, " \t");
		len[i] = strcspn(c, " \t\n");
		if (len[i] == 0) {
			return 0;
		}
		f[i] = c;
		c += len[i];
	}
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (!parse_local(f[1], len[1], family, out, &p) || p != port || len[3] != 2 ||
	    !hex_word(f[3], 2, &st) || st != LISTEN_STATE || !isdigit((unsigned char)f[9][0])) {
		return 0;
	}
	errno = 0;
	out->inode = strtoul(f[9], &end, 10);
	return errno == 0 && end == f[9] + len[9] && out->inode != 0 ? 1 : 0;
}

/* The listening sockets on PORT in the table PATH (FAMILY's), appended to OUT[*N..MAX). */
static int read_table(const char *path, int family, int port, struct port_sock *out, size_t max,
                      size_t *n)
{
	char buf[65536];
	size_t have = 0;
	long total = 0;
	ssize_t r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		return -errno;
	}
	while (total < PORT_TABLE_MAX && (r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		total += r;
		have += (size_t)r;
		buf[have] = '\0';
		char *line = buf;
		for (char *nl = strchr(line, '\n'); nl; line = nl + 1, nl = strchr(line, '\n')) {
			*nl = '\0';
			if (*n < max && port_parse_line(line, family, port, &out[*n])) {
				(*n)++;
			}
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		have =
		    have == sizeof(buf) - 1 ? 0 : have; /* a line longer than the buffer: dropped */
	}
	close(fd);
	return r < 0 ? -errno : 0;
}

int port_listening(int port, struct port_sock *out, size_t max)
{
	size_t n = 0;
	int r4 = read_table("/proc/net/tcp", AF_INET, port, out, max, &n);
	int r6 = read_table("/proc/net/tcp6", AF_INET6, port, out, max, &n);

	return r4 < 0 && r6 < 0 ? r4 : (int)n;
}

/* Does PID hold one of the N sockets S? 1, 0, or a negative errno (its fds cannot be read). */
static int holds(pid_t pid, const struct port_sock *s, size_t n)
{
	char path[64];
	char link[64];
	DIR *d = NULL;
	struct dirent *de = NULL;
	int found = 0;
	unsigned long ino = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d) {
		return -errno;
	}
	for (long i = 0; !found && i < PORT_FDS_MAX && (de = readdir(d)) != NULL; i++) {
		ssize_t k = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (k <= 0 || (link[k] = '\0', sscanf(link, "socket:[%lu]", &ino) != 1)) {
			continue;
		}
		for (size_t j = 0; j < n && !found; j++) {
			found = s[j].inode == ino;
		}
	}
	closedir(d);
	return found;
}

/* PID's parent and process group, from /proc/<pid>/stat (the name may hold ") "). */
static bool parent_group(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char path[64];
	char buf[1024];
	int pp = 0;
	int pg = 0;
	ssize_t k = -1;
	int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (k <= 0) {
		return false;
	}
	buf[k] = '\0';
	const char *c = strrchr(buf, ')');
	if (!c || sscanf(c + 1, " %*c %d %d", &pp, &pg) != 2) {
		return false;
	}
	*ppid = pp;
	*pgrp = pg;
	return true;
}

/* Call FN(pid, ARG) for each process in /proc until it returns nonzero; that value, or 0. */
static int each_process(int (*fn)(pid_t, void *), void *arg)
{
	DIR *proc = opendir("/proc");
	struct dirent *de = NULL;
	int rc = 0;

	if (!proc) {
		return -errno;
	}
	while (rc == 0 && (de = readdir(proc)) != NULL) {
		char *end = NULL;
		long pid = strtol(de->d_name, &end, 10);
		if (pid > 0 && *end == '\0' && pid <= INT32_MAX) {
			rc = fn((pid_t)pid, arg);
		}
	}
	closedir(proc);
	return rc;
}

struct holder_find {
	unsigned long inode;
	pid_t pid;
};

static int holder_of(pid_t pid, void *arg)
{
	struct holder_find *h = arg;
	struct port_sock s = {.inode = h->inode};

	if (holds(pid, &s, 1) > 0) {
		h->pid = pid;
		return 1;
	}
	return 0;
}

int port_holder(unsigned long inode, pid_t *pid, char *name, size_t len)
{
	struct holder_find h = {.inode = inode, .pid = -1};
	char path[64];
	ssize_t k = -1;
	int rc = each_process(holder_of, &h);
	int fd = -1;

	if (rc < 0) {
		return rc;
	}
	if (h.pid <= 0) {
		return -ENOENT;
	}
	*pid = h.pid;
	snprintf(name, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)h.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && len > 1) {
		k = read(fd, name, len - 1 < 64 ? len - 1 : 64);
		close(fd);
	} else if (fd >= 0) {
		close(fd);
	}
	if (k > 0) {
		name[k] = '\0';
		name[strcspn(name, "\n")] = '\0';
		for (char *c = name; *c; c++) {
			*c = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
		}
	}
	return 0;
}

struct tree_find {
	const struct port_sock *s;
	size_t n;
	pid_t root;
};

static int tree_member_holds(pid_t pid, void *arg)
{
	struct tree_find *t = arg;
	pid_t ppid = 0;
	pid_t pgrp = 0;

	if (pid == t->root || !parent_group(pid, &ppid, &pgrp) ||
	    (ppid != t->root && pgrp != t->root)) {
		return 0;
	}
	return holds(pid, t->s, t->n) > 0;
}

int port_held_by_tree(const struct port_sock *s, size_t n, pid_t root)
{
	struct tree_find t = {.s = s, .n = n, .root = root};
	int rc = root > 0 ? holds(root, s, n) : -ESRCH;

	if (rc != 0) {
		return rc;
	}
	rc = each_process(tree_member_holds, &t);
	return rc < 0 ? 0 : rc; /* ROOT's own fds were read: its tree, as far as we see it */
}

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool port_is_any(const struct port_sock *s)
{
	static const unsigned char zero[16];

	if (s->family == AF_INET) {
		return memcmp(s->addr, zero, 4) == 0;
	}
	return memcmp(s->addr, zero, 16) == 0 ||
	       (memcmp(s->addr, v4mapped, 12) == 0 && memcmp(s->addr + 12, zero, 4) == 0);
}

void port_addr_text(const struct port_sock *s, char *out, size_t len)
{
	char buf[INET6_ADDRSTRLEN] = "?";

	if (s->family == AF_INET6 && memcmp(s->addr, v4mapped, 12) == 0) {
		inet_ntop(AF_INET, s->addr + 12, buf, sizeof(buf));
	} else {
		inet_ntop(s->family, s->addr, buf, sizeof(buf));
	}
	snprintf(out, len, "%s", buf);
}

/* S's address as FAMILY and bytes (IPv4-mapped IPv6 as IPv4). */
static int sock_addr(const struct port_sock *s, unsigned char out[16])
{
	if (s->family == AF_INET6 && memcmp(s->addr, v4mapped, 12) == 0) {
		memcpy(out, s->addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, s->addr, s->family == AF_INET ? 4 : 16);
	return s->family;
}

/* Is the address A (FAM) in the network WORD ("ADDR/BITS" or IPv4 "ADDR/MASK")? */
static bool in_network(const char *word, int fam, const unsigned char *a)
{
	char net[64];
	unsigned char n[16];
	unsigned char m[16] = {0};
	size_t alen = fam == AF_INET ? 4 : 16;
	const char *slash = strchr(word, '/');
	char *end = NULL;
	long bits = 0;

	if (!slash || (size_t)(slash - word) >= sizeof(net)) {
		return false;
	}
	snprintf(net, sizeof(net), "%.*s", (int)(slash - word), word);
	if (inet_pton(fam, net, n) != 1) {
		return false;
	}
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (fam == AF_INET && *end == '.' && inet_pton(AF_INET, slash + 1, m) == 1) {
		bits = -1; /* a dotted mask, in M */
	} else if (errno != 0 || end == slash + 1 || *end || bits < 0 || bits > (long)alen * 8) {
		return false;
	}
	for (size_t i = 0; bits >= 0 && i < alen; i++) {
		long b = bits - 8 * (long)i;
		m[i] = b >= 8 ? 0xff : b <= 0 ? 0 : (unsigned char)(0xff << (8 - b));
	}
	for (size_t i = 0; i < alen; i++) {
		if ((a[i] & m[i]) != (n[i] & m[i])) {
			return false;
		}
	}
	return true;
}

/* Has a local interface whose name matches the pattern WORD the address A (FAM)? */
static bool iface_has(const char *word, int fam, const unsigned char *a)
{
	struct ifaddrs *ifs = NULL;
	bool found = false;

	if (getifaddrs(&ifs) < 0) {
		return false;
	}
	for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
		const void *ia = NULL;
		if (!i->ifa_addr || i->ifa_addr->sa_family != fam || !i->ifa_name ||
		    fnmatch(word, i->ifa_name, 0) != 0) {
			continue;
		}
		ia = fam == AF_INET
		         ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
		         : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		found = memcmp(ia, a, fam == AF_INET ? 4 : 16) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

/* Does the word W of `interfaces` cover the address A (FAM)? */
static bool word_covers(char *w, int fam, const unsigned char *a)
{
	unsigned char b[16];

	w[strcspn(w, ";")] = '\0';
	if (!w[0]) {
		return false;
	}
	if (strchr(w, '/')) {
		return in_network(w, fam, a);
	}
	if (inet_pton(AF_INET, w, b) == 1 || inet_pton(AF_INET6, w, b) == 1) {
		int wf = inet_pton(AF_INET, w, b) == 1 ? AF_INET : AF_INET6;
		return wf == fam && memcmp(a, b, fam == AF_INET ? 4 : 16) == 0;
	}
	return iface_has(w, fam, a);
}

bool port_in_interfaces(const struct port_sock *s, const char *ifs)
{
	unsigned char a[16];
	char list[1024];
	char *save = NULL;
	int fam = sock_addr(s, a);

	if (port_is_any(s) || !ifs || !ifs[strspn(ifs, " ,\t")]) {
		return true;
	}
	snprintf(list, sizeof(list), "%s", ifs);
	for (char *t = strtok_r(list, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
		if (word_covers(t, fam, a)) {
			return true;
		}
	}
	return false;
}
