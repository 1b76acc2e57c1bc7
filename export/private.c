/* private.c -- samba = private: our own smbd, its config, and its users.
 *
 * Writes <state directory>/samba/smb.conf (private, lock, state, cache and
 * pid directories beside it), starts smbd in the foreground as our child,
 * waits until it listens (its own socket on the port: port_owner.c), restarts
 * it when it dies (at most a few times a minute) and stops it by its pid. A
 * port another program holds is refused, named with its holder, and looked at
 * again every PORT_RETRY_S; so is one that holds only some of the addresses smbd wants (smbd
 * would run on the rest: clients of those others would reach that program). Not thread-safe:
 * one thread owns it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "fileio.h"
#include "port_owner.h"
#include "smbconf.h"
#include "sys_int.h"

#define START_WAIT_MS 10000
#define MAX_RESTARTS 5 /* a minute */
#define RETRY_MAX_S  60 /* a failed start is tried again after 2, 4, 8 ... at most this */
#define PORT_RETRY_S    2 /* a port another program holds is looked at again this often */
#define PORT_RETRY_TEXT "2 s"

struct samba_private {
	const struct pxe_config *cfg; /* borrowed */
	char mountpoint[4096];
	char dir[4096];
	char conf[4200];
	pid_t pid;
	time_t window;      /* start of the current minute of restarts */
	unsigned restarts;  /* in that minute */
	bool served;        /* smbd listened once */
	bool busy;          /* the last start was refused: another program holds the port */
	char busy_msg[600]; /* that refusal, as reported */
	bool has_timer;
	timer_t retry; /* while busy: a SIGCHLD in PORT_RETRY_S, so that the owner calls tend */
	bool pending;             /* smbd is down and is tried again at next_try */
	unsigned fails;           /* starts failed in a row (other than for a busy port) */
	struct timespec next_try; /* CLOCK_MONOTONIC */
};

static int mkdirs(const char *dir, char *err, size_t len)
{
	static const char *const subs[] = {"", "/private", "/lock", "/state", "/cache",
	                                   "/pid", "/ncalrpc", "/bind-dns"};
	char path[4200];

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		if (mkdir(path, i == 1 ? 0700 : 0755) < 0 && errno != EEXIST) {
			snprintf(err, len, "cannot create %s: %s (is the state directory writable?)",
			         path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Does the smb.conf CONF pass testparm (exit status, unknown or ignored
 * parameters)? The samba:KEY lines of the config reach smbd this way. */
static int validate(const char *conf, const struct pxe_config *cfg, char *err, size_t len)
{
	char *argv[] = {"testparm", "-s", "--suppress-prompt", (char *)conf, NULL};
	struct prog p = {0};
	char *unknown = NULL;
	int rc = prog_run(argv, &p);

	if (rc < 0 || p.status != 0) {
		char why[512];
		prog_msg(rc, &p, why, sizeof(why));
		snprintf(err, len, "the private smb.conf does not pass testparm: %s", why);
		rc = -1;
	} else if ((unknown = samba_testparm_unknown(p.err ? p.err : "")) && unknown[0]) {
		size_t n = strlen(unknown);
		while (n > 0 && unknown[n - 1] == '\n') {
			unknown[--n] = '\0';
		}
		for (char *c = unknown; *c; c++) {
			*c = *c == '\n' ? ',' : *c;
		}
		snprintf(err, len, "testparm does not know %s: check the samba: lines of %s", unknown,
		         cfg->file);
		rc = -1;
	}
	free(unknown);
	prog_fini(&p);
	return rc < 0 ? -1 : 0;
}

/* Write the private smb.conf atomically, once testparm accepts it. */
static int write_conf(const struct pxe_config *cfg, const char *mountpoint, const char *conf,
                      char *err, size_t len)
{
	struct fileio_opts o = {.mode = 0644};
	struct fileio_tmp t = {.fd = -1};
	char *text = samba_private_conf(cfg, mountpoint);
	int rc = text ? fileio_begin(&t, conf, &o) : -ENOMEM;

	if (rc < 0) {
		snprintf(err, len, "cannot write %s.tmp: %s", conf,
		         text ? strerror(-rc) : "out of memory");
		goto out;
	}
	rc = fileio_write_all(t.fd, text, strlen(text));
	rc = rc < 0 ? rc : fileio_sync(&t);
	if (rc < 0) {
		snprintf(err, len, "cannot write %s: %s", t.tmp, strerror(-rc));
		fileio_abort(&t);
		goto out;
	}
	if (validate(t.tmp, cfg, err, len) < 0) {
		fileio_abort(&t);
		rc = -1;
		goto out;
	}
	rc = fileio_commit(&t);
	if (rc < 0) {
		snprintf(err, len, "cannot replace %s: %s", conf, strerror(-rc));
	}
out:
	free(text);
	return rc < 0 ? -1 : 0;
}

static int prepare(const struct pxe_config *cfg, const char *mountpoint, char *dir, size_t dlen,
                   char *conf, size_t clen, char *err, size_t len)
{
	if (samba_private_dir(cfg, dir, dlen) < 0 ||
	    snprintf(conf, clen, "%s/smb.conf", dir) >= (int)clen) {
		snprintf(err, len, "the state directory path is too long");
		return -1;
	}
	mkdir(cfg->state_dir, 0755);
	if (mkdirs(dir, err, len) < 0) {
		return -1;
	}
	return write_conf(cfg, mountpoint, conf, err, len);
}

/* The address to probe: the first IPv4 address in `interfaces`, else loopback. */
static void probe_addr(const struct pxe_config *cfg, struct sockaddr_in *sa)
{
	char first[64] = "127.0.0.1";

	if (cfg->share.interfaces) {
		sscanf(cfg->share.interfaces, "%63[^ ,/]", first);
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)cfg->share.port);
	if (inet_pton(AF_INET, first, &sa->sin_addr) != 1) {
		inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr);
	}
}

bool samba_private_listening(const struct pxe_config *cfg)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	probe_addr(cfg, &sa);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

static pid_t spawn(const char *dir, const char *conf)
{
	char cfgarg[4300];
	char out[4300];
	pid_t pid = fork();

	if (pid != 0) {
		return pid;
	}
	snprintf(cfgarg, sizeof(cfgarg), "--configfile=%s", conf);
	snprintf(out, sizeof(out), "%s/smbd.out", dir);
	int null = open("/dev/null", O_RDONLY);
	int log = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks some; smbd wants them */
	setpgid(0, 0); /* its own group: smbd's helpers (samba-dcerpcd, ...) stop with it */
	unsetenv("NOTIFY_SOCKET"); /* systemd hears from the daemon only */
	dup2(null, 0);
	dup2(log, 1);
	dup2(log, 2);
	execlp("smbd", "smbd", "--foreground", "--no-process-group", cfgarg, (char *)NULL);
	dprintf(2, "pxeimagesfs: cannot run smbd: %s\n", strerror(errno));
	_exit(127);
}

/* The size of LOG in DIR now (0 when it is not there). */
static off_t log_size(const char *dir, const char *log)
{
	char path[4300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, log);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
}

/* Samba's reason for a failed start, from what it wrote to LOG (smbd.out or log.smbd in DIR)
 * past offset FROM (its size before the start):
 * the last "PANIC" line, else the last line that is not a "[date, level] file:line"
 * header, a backtrace or the version banner. Bounded read, never follows a symlink; control bytes become '?'. */
static void smbd_reason(const char *dir, const char *log, off_t from, char *out, size_t len)
{
	char path[4300];
	char buf[4097];
	struct stat st;
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, log);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		from = st.st_size < from ? 0 : from; /* rotated (max log size) since */
		off_t at = st.st_size - from > 4096 ? st.st_size - 4096 : from;
		n = pread(fd, buf, sizeof(buf) - 1, at);
	}
	close(fd);
	if (n <= 0) {
		return;
	}
	buf[n] = '\0';
	const char *pick = NULL;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (!line[0] || line[0] == '[' || line[0] == '#' || !strncmp(line, "BACKTRACE", 9) ||
		    !strncmp(line, "smbd version", 12) || !strncmp(line, "Copyright", 9)) {
			continue;
		}
		if (!pick || !strstr(pick, "PANIC") || strstr(line, "PANIC")) {
			pick = line;
		}
	}
	if (pick) {
		snprintf(out, len, "%s", pick);
		for (char *c = out; *c; c++) {
			*c = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
		}
	}
}

/* "port P on ADDR is in use by pid N (name)" of the socket S into OUT. */
static void holder_text(const struct pxe_config *cfg, const struct port_sock *s, char *out,
                        size_t len)
{
	char addr[64];
	char name[80] = "";
	char who[128] = "a program this daemon cannot see";
	pid_t pid = -1;

	port_addr_text(s, addr, sizeof(addr));
	if (port_holder(s->inode, &pid, name, sizeof(name)) == 0) {
		snprintf(who, sizeof(who), "pid %d (%s)", (int)pid, name);
	}
	snprintf(out, len, "port %d on %s is in use by %s", cfg->share.port, addr, who);
}

/* holder_text and what to do (AGAIN: when it is looked at again), into OUT. */
static void holder_msg(const struct pxe_config *cfg, const struct port_sock *s, bool again,
                       char *out, size_t len)
{
	char held[300];

	holder_text(cfg, s, held, sizeof(held));
	snprintf(out, len, "%s; set another port in [share] of %s or stop it%s", held, cfg->file,
	         again ? " (looked at again every " PORT_RETRY_TEXT ")" : "");
}

/* The first of the N sockets S that keeps smbd from an address it wants (port_in_interfaces)
 * and that the process tree of TREE (<= 0: none) does not hold; -1 when there is none. */
static int foreign_sock(const struct pxe_config *cfg, const struct port_sock *s, int n,
                        pid_t tree)
{
	for (int i = 0; i < n; i++) {
		if (port_in_interfaces(&s[i], cfg->share.interfaces) &&
		    (tree <= 0 || port_held_by_tree(&s[i], 1, tree) != 1)) {
			return i;
		}
	}
	return -1;
}

int samba_private_port_foreign(const struct pxe_config *cfg, pid_t tree, char *who, size_t len)
{
	struct port_sock s[PORT_SOCKS_MAX];
	int n = port_listening(cfg->share.port, s, PORT_SOCKS_MAX);
	int hit = foreign_sock(cfg, s, n, tree);

	if (hit >= 0) {
		holder_text(cfg, &s[hit], who, len);
		return 1;
	}
	return n < 0 ? n : 0;
}

bool samba_private_serving(const struct pxe_config *cfg, pid_t tree)
{
	struct port_sock s[PORT_SOCKS_MAX];
	int n = port_listening(cfg->share.port, s, PORT_SOCKS_MAX);

	return n > 0 && tree > 0 && port_held_by_tree(s, (size_t)n, tree) == 1;
}

/* A SIGCHLD in SECONDS: the owner's thread takes it as "look again" and calls tend. */
static void retry_arm(struct samba_private *p, unsigned seconds)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGCHLD};
	struct itimerspec at = {.it_value = {(time_t)seconds, 0}};

	if (!p->has_timer) {
		p->has_timer = timer_create(CLOCK_MONOTONIC, &ev, &p->retry) == 0;
	}
	if (p->has_timer) {
		timer_settime(p->retry, 0, &at, NULL);
	}
}

/* Does another program listen where smbd would (on any address of `interfaces`, however it
 * is named; once smbd runs: where P->pid's tree does not)? Then ERR names the port, the address
 * and its holder, the start is looked at again in PORT_RETRY_S, and true. Without
 * /proc/net/tcp: whether anything accepts connections at the probe address (before a start). */
static bool port_taken(struct samba_private *p, char *err, size_t len)
{
	struct port_sock s[PORT_SOCKS_MAX];
	int n = port_listening(p->cfg->share.port, s, PORT_SOCKS_MAX);
	int hit = foreign_sock(p->cfg, s, n, p->pid);

	if (hit >= 0) {
		holder_msg(p->cfg, &s[hit], true, err, len);
	} else if (n < 0 && p->pid <= 0 && samba_private_listening(p->cfg)) {
		snprintf(err, len,
		         "port %d already accepts connections (another server?); set another port "
		         "in [share] of %s or stop it (looked at again every " PORT_RETRY_TEXT ")",
		         p->cfg->share.port, p->cfg->file);
	} else {
		return false;
	}
	p->busy = true;
	snprintf(p->busy_msg, sizeof(p->busy_msg), "%s", err);
	retry_arm(p, PORT_RETRY_S);
	return true;
}

/* Does our smbd listen: a socket on the port held by smbd or its process tree (a connect
 * cannot tell it from another program's)? Without /proc: whether something accepts. */
static bool listens(const struct samba_private *p)
{
	struct port_sock s[PORT_SOCKS_MAX];
	int n = port_listening(p->cfg->share.port, s, PORT_SOCKS_MAX);
	int mine = n > 0 ? port_held_by_tree(s, (size_t)n, p->pid) : n;

	return mine < 0 ? samba_private_listening(p->cfg) : mine > 0;
}

/* smbd P->pid died at start (STATUS): ERR says why, in smbd's words when it left some, and who
 * holds its port when someone does (on an address `interfaces` names otherwise than as one). */
static void died_msg(const struct samba_private *p, int status, off_t log_at, off_t out_at,
                     char *err, size_t len)
{
	struct port_sock s[PORT_SOCKS_MAX];
	char why[512] = "";
	char held[600] = "";
	int n = port_listening(p->cfg->share.port, s, PORT_SOCKS_MAX);

	smbd_reason(p->dir, "log.smbd", log_at, why, sizeof(why));
	if (!why[0]) {
		smbd_reason(p->dir, "smbd.out", out_at, why, sizeof(why));
	}
	if (n > 0) {
		holder_msg(p->cfg, &s[0], false, held, sizeof(held));
	}
	snprintf(err, len,
	         "smbd %s %d at start%s%s%s; see %s/smbd.out and %s/log.smbd "
	         "(is smbd installed, and port %d free?%s%s)",
	         WIFEXITED(status) ? "exited with status" : "was killed by signal",
	         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	         why[0] ? " (it said: " : "", why, why[0] ? ")" : "", p->dir, p->dir,
	         p->cfg->share.port, held[0] ? " " : "", held);
}

/* Start smbd and wait until it listens (or dies). A port another program holds is refused
 * (before, and when smbd dies at start): P->busy. */
static void stop_helpers(const char *conf);

static int start(struct samba_private *p, char *err, size_t len)
{
	struct timespec nap = {0, 50 * 1000 * 1000};
	int status = 0;

	if (port_taken(p, err, len)) {
		return -1;
	}
	p->busy = false;
	off_t log_at = log_size(p->dir, "log.smbd");
	off_t out_at = log_size(p->dir, "smbd.out");

	p->pid = spawn(p->dir, p->conf);
	if (p->pid < 0) {
		snprintf(err, len, "cannot start smbd: %s", strerror(errno));
		return -1;
	}
	for (int waited = 0; waited < START_WAIT_MS; waited += 50) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			kill(-p->pid, SIGKILL); /* what it started in its group */
			p->pid = -1;
			if (!port_taken(p, err, len)) {
				died_msg(p, status, log_at, out_at, err, len);
			}
			return -1;
		}
		if (listens(p) && port_taken(p, err, len)) {
			/* smbd bound only some of its addresses: another program has the others */
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			stop_helpers(p->conf);
			p->pid = -1;
			return -1;
		}
		if (!p->busy && listens(p)) {
			p->served = true;
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	snprintf(err, len, "smbd did not listen on port %d within %d s; see %s/log.smbd",
	         p->cfg->share.port, START_WAIT_MS / 1000, p->dir);
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = -1;
	return -1;
}

/* After a start that failed other than for a busy port: smbd is tried again in 2, 4, 8 ...
 * RETRY_MAX_S seconds (a cause that goes away, such as a full disk or a missing user, needs
 * no restart of the daemon); ERR (LEN) says when. */
static void retry_later(struct samba_private *p, char *err, size_t len)
{
	unsigned s = p->fails >= 5 ? RETRY_MAX_S : 2u << p->fails;
	size_t n = strlen(err);

	s = s > RETRY_MAX_S ? RETRY_MAX_S : s;
	p->fails++;
	clock_gettime(CLOCK_MONOTONIC, &p->next_try);
	p->next_try.tv_sec += s;
	p->pending = true;
	retry_arm(p, s);
	if (n < len) {
		snprintf(err + n, len - n, "; trying again in %u s", s);
	}
}

/* start(), and on a failure the next try planned. */
static int try_start(struct samba_private *p, char *err, size_t len)
{
	p->pending = false;
	if (start(p, err, len) == 0) {
		p->fails = 0;
		return 0;
	}
	if (!p->busy) {
		retry_later(p, err, len);
	}
	return -1;
}

int samba_private_start(const struct pxe_config *cfg, const char *mountpoint,
                        struct samba_private **out, char *err, size_t len)
{
	struct samba_private *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	p->cfg = cfg;
	p->pid = -1;
	snprintf(p->mountpoint, sizeof(p->mountpoint), "%s", mountpoint);
	if (prepare(cfg, mountpoint, p->dir, sizeof(p->dir), p->conf, sizeof(p->conf), err, len) <
	    0) {
		free(p);
		return -1;
	}
	if (try_start(p, err, len) < 0) {
		*out = p; /* tend starts smbd once the port is free, or when the retry is due */
		return -1;
	}
	*out = p;
	return 0;
}

/* The port was taken at the last start: try again (not a restart). 1 when smbd listens now and
 * never did before, 0 when it listens again (a restart) or the same holder still holds the port
 * (reported already), -1 with ERR otherwise. */
static int retry_busy(struct samba_private *p, char *err, size_t len)
{
	char before[sizeof(p->busy_msg)];
	bool first = !p->served;

	snprintf(before, sizeof(before), "%s", p->busy_msg);
	if (try_start(p, err, len) == 0) {
		return first ? 1 : 0;
	}
	return p->busy && strcmp(before, p->busy_msg) == 0 ? 0 : -1;
}

/* A start failed earlier: try again once its time has come. 2 when smbd listens now and
 * never did before, 0 when it listens again (a restart) or it is not time yet, -1 with ERR. */
static int retry_due(struct samba_private *p, char *err, size_t len)
{
	struct timespec now;
	bool first = !p->served;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < p->next_try.tv_sec ||
	    (now.tv_sec == p->next_try.tv_sec && now.tv_nsec < p->next_try.tv_nsec)) {
		return 0; /* another child's SIGCHLD, not the retry's */
	}
	if (try_start(p, err, len) == 0) {
		return first ? 2 : 0;
	}
	return p->busy ? 0 : -1;
}

int samba_private_tend(struct samba_private *p, char *err, size_t len)
{
	time_t now = time(NULL);
	int status = 0;

	if (!p || (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0)) {
		return 0; /* still running */
	}
	if (p->pid > 0) {
		kill(-p->pid, SIGKILL); /* what is left of the old smbd's group */
		stop_helpers(p->conf);
		p->pid = -1;
	} else if (p->busy) {
		return retry_busy(p, err, len);
	} else if (p->pending) {
		return retry_due(p, err, len);
	}
	if (now - p->window >= 60) {
		p->window = now;
		p->restarts = 0;
	}
	if (p->restarts >= MAX_RESTARTS) {
		snprintf(err, len, "smbd died %u times within a minute (see %s)", p->restarts, p->dir);
		p->window = now; /* a new minute of restarts once the retry is due */
		p->restarts = 0;
		p->fails = 5; /* a crash loop: the longest wait at once */
		retry_later(p, err, len);
		return -1;
	}
	p->restarts++;
	return try_start(p, err, len);
}

int samba_private_update(struct samba_private *p, const struct pxe_config *cfg, char *err,
                         size_t len)
{
	p->cfg = cfg;
	if (write_conf(cfg, p->mountpoint, p->conf, err, len) < 0) {
		return -1;
	}
	if (p->pid > 0) {
		kill(p->pid, SIGHUP);
	}
	return 0;
}

/* Stop what smbd started for this config and let go of: samba-dcerpcd and its
 * rpcd_* workers move to their own session, out of smbd's process group.
 * They are ours: their command line names our private smb.conf. */
static void stop_helpers(const char *conf)
{
	char want[4300];
	char path[64];
	char cmd[8192];
	DIR *proc = opendir("/proc");
	struct dirent *de = NULL;

	snprintf(want, sizeof(want), "--configfile=%s", conf);
	while (proc && (de = readdir(proc)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name);
		ssize_t n = 0;
		int fd = -1;
		if (pid <= 1 || pid == getpid()) {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, cmd, sizeof(cmd) - 1);
		if (fd >= 0) {
			close(fd);
		}
		for (ssize_t i = 0; i < n; i++) {
			cmd[i] = cmd[i] ? cmd[i] : ' ';
		}
		if (n > 0 && (cmd[n] = '\0', strstr(cmd, want))) {
			kill(pid, SIGTERM);
		}
	}
	if (proc) {
		closedir(proc);
	}
}

pid_t samba_private_pid(const struct samba_private *p)
{
	return p && p->pid > 0 ? p->pid : -1;
}

void samba_private_stop(struct samba_private *p)
{
	struct timespec nap = {0, 50 * 1000 * 1000};

	if (!p) {
		return;
	}
	if (p->pid > 0 && kill(-p->pid, SIGTERM) == 0) {
		for (int i = 0; i < 100 && waitpid(p->pid, NULL, WNOHANG) == 0; i++) {
			nanosleep(&nap, NULL);
		}
		if (kill(p->pid, 0) == 0) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
		}
		kill(-p->pid, SIGKILL); /* helpers that outlived smbd */
	}
	stop_helpers(p->conf);
	if (p->has_timer) {
		timer_delete(p->retry);
	}
	free(p);
}

int samba_passwd(const struct pxe_config *cfg, const char *user, const char *password, char *err,
                 size_t len)
{
	char dir[4096];
	char conf[4200];
	char input[600];
	char msg[512];
	char *argv[] = {"smbpasswd", "-c", conf, "-s", "-a", (char *)user, NULL};
	struct prog p = {0};
	int rc = 0;

	if (!getpwnam(user)) {
		snprintf(err, len, "there is no Unix user '%s'; create it first (useradd -M %s)", user,
		         user);
		return -1;
	}
	if (user[0] == '-' || strpbrk(user, "\n\r\t")) {
		snprintf(err, len, "'%s' is not a user name smbpasswd accepts", user);
		return -1;
	}
	if (strpbrk(password, "\n\r") || strlen(password) > 256) {
		snprintf(err, len, "the password may not hold a line break nor exceed 256 bytes");
		return -1;
	}
	if (prepare(cfg, cfg->mountpoint, dir, sizeof(dir), conf, sizeof(conf), err, len) < 0) {
		return -1;
	}
	snprintf(input, sizeof(input), "%s\n%s\n", password, password);
	rc = prog_run_input(argv, input, &p); /* no shell: the paths are arguments */
	explicit_bzero(input, sizeof(input));
	if (rc < 0 || p.status != 0) {
		prog_msg(rc, &p, msg, sizeof(msg));
		snprintf(err, len, "smbpasswd failed adding %s to %s (%s)", user, conf, msg);
		prog_fini(&p);
		return -1;
	}
	prog_fini(&p);
	return 0;
}
