/* port_owner.h -- who listens on a TCP port: /proc/net/tcp and tcp6 name the listening sockets,
 * /proc/<pid>/fd the processes that hold them (not a public header: private.c, the unit tests).
 *
 * Bounded reads, no program run, no symlink followed (the fd links are only read). Sees the
 * network namespace and the processes of the caller only. Any thread; no state.
 */
#ifndef PXE_PORT_OWNER_H
#define PXE_PORT_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct port_sock {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order; IPv4: the first 4 bytes */
	unsigned long inode;    /* of the socket: "socket:[inode]" among a holder's fds */
};

#define PORT_SOCKS_MAX 32

/* port_parse_line -- LINE, one line of /proc/net/tcp (FAMILY AF_INET) or tcp6 (AF_INET6): 1 and
 * *OUT filled when it is a listening socket on PORT; else 0 (another port or state, the header,
 * anything that is not such a line). */
int port_parse_line(const char *line, int family, int port, struct port_sock *out);

/* port_listening -- the listening sockets on PORT, any address, from /proc/net/tcp and tcp6 (at
 * most MAX into OUT). Returns how many, or a negative errno when neither file can be read. */
int port_listening(int port, struct port_sock *out, size_t max);

/* port_holder -- a process holding socket INODE: its pid and name (/proc/<pid>/comm, control
 * bytes as '?'). Returns 0, -ENOENT when none is found (gone, another namespace, or not ours to
 * look at), another negative errno when /proc cannot be read. */
int port_holder(unsigned long inode, pid_t *pid, char *name, size_t len);

/* port_held_by_tree -- does ROOT, a child of ROOT or a process of the process group ROOT hold
 * one of the N sockets S? 1 yes, 0 no, a negative errno when ROOT's fds cannot be read. */
int port_held_by_tree(const struct port_sock *s, size_t n, pid_t root);

/* port_is_any -- S listens on every address (0.0.0.0, ::, ::ffff:0.0.0.0). */
bool port_is_any(const struct port_sock *s);

/* port_in_interfaces -- would an smbd with `interfaces = IFS` and `bind interfaces only` want
 * the address S listens on (so that S keeps it from binding there)? True when S listens on
 * every address, when IFS is NULL or empty (smbd binds every address), or when a word of IFS
 * (separated by spaces, commas or tabs; ";options" ignored) is S's address, a network
 * ADDR/BITS or ADDR/MASK holding it, or a name (fnmatch pattern, as Samba takes it) of a local
 * interface that has S's address (getifaddrs). IPv4-mapped IPv6 counts as IPv4. */
bool port_in_interfaces(const struct port_sock *s, const char *ifs);

/* port_addr_text -- S's address as text: 127.0.0.1, ::1, ... (IPv4-mapped as IPv4). */
void port_addr_text(const struct port_sock *s, char *out, size_t len);

#endif /* PXE_PORT_OWNER_H */
