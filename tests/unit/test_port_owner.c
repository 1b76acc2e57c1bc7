/* test_port_owner.c -- unit tests of export/port_owner.c: lines of /proc/net/tcp and tcp6 (the
 * listening socket on a port found; other ports, states, the header and hostile lines not),
 * and, live, a socket of this process found on its port, held by this process (or by a child
 * of it) and not by a child that closed it; which addresses an smbd `interfaces` line covers.
 *
 * The live tests listen on 127.0.0.1 on a port the kernel picks. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "port_owner.h"
#include "unit.h"

#define HEADER4                                                                                    \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout inode"

static void test_port_parse_finds_ipv4_listener(void **state)
{
	struct port_sock s;
	char addr[64];

	(void)state;
	assert_int_equal(port_parse_line("   3: 0100007F:ADD0 00000000:0000 0A 00000000:00000000 "
	                                 "00:00000000 00000000     0        0 123456 1 "
	                                 "0000000000000000 100 0 0 10 0",
	                                 AF_INET, 0xADD0, &s),
	                 1);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.inode, 123456);
	port_addr_text(&s, addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1");
	assert_false(port_is_any(&s));
	assert_int_equal(port_parse_line("   0: 00000000:01BD 00000000:0000 0A 00000000:00000000 "
	                                 "00:00000000 00000000     0        0 777 1",
	                                 AF_INET, 445, &s),
	                 1);
	assert_true(port_is_any(&s));
	port_addr_text(&s, addr, sizeof(addr));
	assert_string_equal(addr, "0.0.0.0");
}

static void test_port_parse_finds_ipv6_listener(void **state)
{
	struct port_sock s;
	char addr[64];

	(void)state;
	assert_int_equal(
	    port_parse_line("   1: 00000000000000000000000000000000:01BD "
	                    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
	                    "00:00000000 00000000     0        0 4242 1",
	                    AF_INET6, 445, &s),
	    1);
	assert_true(port_is_any(&s));
	port_addr_text(&s, addr, sizeof(addr));
	assert_string_equal(addr, "::");
	assert_int_equal(
	    port_parse_line("   2: 00000000000000000000000001000000:01BD "
	                    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
	                    "00:00000000 00000000     0        0 4243 1",
	                    AF_INET6, 445, &s),
	    1);
	port_addr_text(&s, addr, sizeof(addr));
	assert_string_equal(addr, "::1");
	assert_false(port_is_any(&s));
	/* ::ffff:127.0.0.1 */
	assert_int_equal(
	    port_parse_line("   2: 0000000000000000FFFF00000100007F:01BD "
	                    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
	                    "00:00000000 00000000     0        0 4244 1",
	                    AF_INET6, 445, &s),
	    1);
	port_addr_text(&s, addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1");
}

static void test_port_parse_skips_other_lines(void **state)
{
	static const char *const lines[] = {
	    HEADER4,
	    /* another port */
	    "   3: 0100007F:ADD1 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12 1",
	    /* the port, but a connection (ESTABLISHED), and TIME_WAIT */
	    "   4: 0100007F:ADD0 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 0 0 13 1",
	    "   5: 0100007F:ADD0 0100007F:9C40 06 00000000:00000000 00:00000000 00000000 0 0 0 1",
	    /* hostile: short, bad hex, an IPv6 address in the IPv4 table, no inode, huge inode */
	    "   6: 0100007F:ADD0",
	    "   7: 0100007G:ADD0 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 14 1",
	    "   8: 00000000000000000000000000000000:ADD0 00000000:0000 0A 0:0 0:0 0 0 0 15 1",
	    "   9: 0100007F:ADD0 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 x 1",
	    "  10: 0100007F:ADD0 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999999999 1",
	    "  11: 0100007F:ADD00 00000000:0000 0A 0:0 0:0 0 0 0 16 1",
	    "  12: 0100007F:ADD0 00000000:0000 0A0 0:0 0:0 0 0 0 17 1",
	    "",
	    "\n",
	};
	struct port_sock s;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(port_parse_line(lines[i], AF_INET, 0xADD0, &s), 0);
	}
}

/* A socket listening on 127.0.0.1 on a port the kernel picks: its fd and port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_port_listener_is_this_process(void **state)
{
	struct port_sock s[PORT_SOCKS_MAX];
	char name[64];
	char me[64] = "";
	char addr[64];
	pid_t pid = -1;
	int port = 0;
	int fd = listen_loopback(&port);
	int n = port_listening(port, s, PORT_SOCKS_MAX);
	FILE *f = fopen("/proc/self/comm", "r");

	(void)state;
	if (f) {
		assert_non_null(fgets(me, sizeof(me), f));
		me[strcspn(me, "\n")] = '\0';
		fclose(f);
	}
	assert_int_equal(n, 1);
	port_addr_text(&s[0], addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port_holder(s[0].inode, &pid, name, sizeof(name)), 0);
	assert_int_equal(pid, getpid());
	assert_string_equal(name, me);
	assert_int_equal(port_held_by_tree(s, (size_t)n, getpid()), 1);
	close(fd);
	assert_int_equal(port_listening(port, s, PORT_SOCKS_MAX), 0);
}

/* A paused child; CLOSE: it closes FD first. Returns once it runs. */
static pid_t child_paused(int fd, bool close_fd)
{
	int ready[2];
	char c = 0;
	pid_t pid = -1;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (close_fd) {
			close(fd);
		}
		if (write(ready[1], "x", 1) != 1) {
			_exit(1);
		}
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

/* The socket held only by a child of ours: held by our tree; not by a child that closed it. */
static void test_port_tree_is_the_holders(void **state)
{
	struct port_sock s[PORT_SOCKS_MAX];
	int port = 0;
	int fd = listen_loopback(&port);
	int n = port_listening(port, s, PORT_SOCKS_MAX);

	(void)state;
	assert_int_equal(n, 1);
	pid_t holder = child_paused(fd, false);
	pid_t other = child_paused(fd, true);
	close(fd);
	assert_int_equal(port_held_by_tree(s, (size_t)n, getpid()), 1);
	assert_int_equal(port_held_by_tree(s, (size_t)n, other), 0);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	assert_int_equal(port_held_by_tree(s, (size_t)n, getpid()), 0);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	assert_true(port_held_by_tree(s, (size_t)n, other) < 0); /* gone: its fds cannot be read */
}

/* /proc/net/tcp longer than one read (64 KiB: about 440 lines): the sockets listed past the
 * first read are found all the same (the kernel hands out whole lines per read, so a line cut
 * by a read is not reached from here). */
#define MANY 600
static void test_port_listening_reads_a_long_table(void **state)
{
	static int fds[MANY];
	static int ports[MANY];
	struct port_sock s[PORT_SOCKS_MAX];
	int opened = 0;

	(void)state;
	for (; opened < MANY; opened++) {
		fds[opened] = listen_loopback(&ports[opened]);
	}
	for (int i = 0; i < MANY; i += 7) {
		assert_int_equal(port_listening(ports[i], s, PORT_SOCKS_MAX), 1);
	}
	assert_int_equal(port_listening(ports[MANY - 1], s, PORT_SOCKS_MAX), 1);
	for (int i = 0; i < opened; i++) {
		close(fds[i]);
	}
}

static struct port_sock sock_at(int family, const char *addr)
{
	struct port_sock s = {.family = family, .inode = 1};

	assert_int_equal(inet_pton(family, addr, s.addr), 1);
	return s;
}

static void test_port_in_interfaces_as_samba_names_them(void **state)
{
	struct port_sock lo4 = sock_at(AF_INET, "127.0.0.1");
	struct port_sock lo6 = sock_at(AF_INET6, "::1");
	struct port_sock mapped = sock_at(AF_INET6, "::ffff:127.0.0.1");
	struct port_sock other = sock_at(AF_INET, "192.0.2.7");
	struct port_sock any = sock_at(AF_INET6, "::");

	(void)state;
	assert_true(port_in_interfaces(&other, NULL)); /* no interfaces: every address */
	assert_true(port_in_interfaces(&other, " , "));
	assert_true(port_in_interfaces(&any, "127.0.0.1")); /* a wildcard blocks every bind */
	assert_true(port_in_interfaces(&lo4, "10.0.0.1 127.0.0.1"));
	assert_true(port_in_interfaces(&mapped, "127.0.0.1"));
	assert_false(port_in_interfaces(&other, "10.0.0.1,127.0.0.1"));
	assert_true(port_in_interfaces(&other, "192.0.2.0/24"));
	assert_true(port_in_interfaces(&other, "192.0.2.1/255.255.255.0"));
	assert_false(port_in_interfaces(&other, "192.0.3.0/24"));
	assert_false(port_in_interfaces(&other, "192.0.2.0/33"));
	assert_true(port_in_interfaces(&lo6, "10.0.0.1 ::1;speed=1000"));
	assert_true(port_in_interfaces(&lo6, "::/0"));
	assert_false(port_in_interfaces(&lo4, "::1"));
	/* names: the loopback interface holds 127.0.0.1 (and ::1 when IPv6 is on) */
	assert_true(port_in_interfaces(&lo4, "lo"));
	assert_true(port_in_interfaces(&lo4, "l?"));
	assert_false(port_in_interfaces(&other, "lo"));
	assert_false(port_in_interfaces(&lo4, "no-such-interface0"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_port_in_interfaces_as_samba_names_them),
    cmocka_unit_test(test_port_parse_finds_ipv4_listener),
    cmocka_unit_test(test_port_parse_finds_ipv6_listener),
    cmocka_unit_test(test_port_parse_skips_other_lines),
    cmocka_unit_test(test_port_listener_is_this_process),
    cmocka_unit_test(test_port_tree_is_the_holders),
    cmocka_unit_test(test_port_listening_reads_a_long_table),
};

UNIT_GROUP(tests, NULL, NULL)
