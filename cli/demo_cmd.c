/* demo_cmd.c -- `pxeimagesfs demo`: the embedded default, KB 947683 played live.
 *
 * Two sample drives (tmpfs) under a temporary directory, a sample package
 * with a real file, the view mounted by our own daemon (a child process) with
 * a private smbd on 127.0.0.1:4455, the client-side check, then the story:
 * the service "reinstalled" on D, a new image distributed through the share,
 * drive C taken away, checked again. --keep waits for Ctrl-C. Everything it
 * mounts or starts it stops, and it removes its directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"

#define DEMO_PORT 4455
#define IMG "RemoteInstall/SMSImages/SMSPKG"

struct demo {
	char dir[64];
	char conf[PATH_MAX];
	pid_t daemon;
	bool started; /* the daemon was started: it left a log */
	bool c_mounted;
	bool d_mounted;
	struct pxe_config *cfg;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	printf("\n=== ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *at(struct demo *d, const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", d->dir, rel);
	return b;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int st = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/* A drive: a tmpfs at <dir>/<name>; with images, a folder owned by nobody so
 * a guest of the share may write. */
static int make_drive(struct demo *d, const char *name, bool images)
{
	const char *path = at(d, name);
	struct passwd *nobody = getpwnam("nobody");

	if (mount("tmpfs", path, "tmpfs", 0, "size=64m,mode=0755") < 0) {
		fprintf(stderr, "demo: cannot mount a tmpfs at %s: %s (run the demo as root)\n", path,
		        strerror(errno));
		return -1;
	}
	if (images && (sh("mkdir -p '%s/" IMG "'", path) != 0 ||
	               (nobody && sh("chown -R nobody: '%s/RemoteInstall'", path) != 0))) {
		return -1;
	}
	return 0;
}

static int write_package(struct demo *d, const char *drive, const char *id, int mib)
{
	return sh("mkdir -p '%s/" IMG "/%s' && head -c %dM /dev/urandom > '%s/" IMG "/%s/boot.%s.wim' "
	          "&& chown -R nobody: '%s/" IMG "/%s' 2>/dev/null; true",
	          at(d, drive), id, mib, at(d, drive), id, id, at(d, drive), id);
}

static int write_config(struct demo *d)
{
	FILE *f = fopen(d->conf, "w");

	if (!f) {
		fprintf(stderr, "demo: cannot write %s: %s\n", d->conf, strerror(errno));
		return -1;
	}
	fprintf(f,
	        "# pxeimagesfs demo configuration (written by 'pxeimagesfs demo')\n"
	        "[global]\n    mountpoint = %s\n    images path = RemoteInstall\\SMSImages\\SMSPKG\n"
	        "    mode = union\n    state directory = %s\n    run directory = %s\n"
	        "    mount timeout = 0\n"
	        "[drive:C]\n    path = %s\n    priority = 10\n"
	        "[drive:D]\n    path = %s\n    priority = 20\n"
	        "[share]\n    name = SMSPXEIMAGES$\n    samba = private\n    port = %d\n"
	        "    interfaces = 127.0.0.1\n    guest ok = yes\n",
	        at(d, "view"), at(d, "state"), at(d, "run"), at(d, "c"), at(d, "d"), DEMO_PORT);
	return fclose(f) == 0 ? 0 : -1;
}


/* Another program on the demo's port? Then say so, naming it, and true. */
static bool port_held(struct demo *d, pid_t ours)
{
	char who[256];
	int rc = samba_private_port_foreign(d->cfg, ours, who, sizeof(who));

	if (rc == 1) {
		fprintf(stderr,
		        "demo: %s, not the demo's smbd: stop it and run the demo again (the demo "
		        "uses port %d)\n",
		        who, DEMO_PORT);
	}
	return rc == 1;
}

/* Start `pxeimagesfs mount -f` on the demo config; wait for the share: a socket on the port
 * that the daemon's smbd holds (a connect cannot tell it from another program's). */
static int start_daemon(struct demo *d)
{
	struct timespec nap = {0, 100 * 1000 * 1000};
	char log[PATH_MAX];

	if (port_held(d, -1)) {
		return -1;
	}

	snprintf(log, sizeof(log), "%s", at(d, "daemon.log"));
	fflush(stdout);
	d->started = true;
	d->daemon = fork();
	if (d->daemon == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execl("/proc/self/exe", "pxeimagesfs", "mount", "-f", "-c", d->conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 150 && d->daemon > 0; i++) {
		if (waitpid(d->daemon, NULL, WNOHANG) == d->daemon) {
			d->daemon = -1;
			break;
		}
		if (port_held(d, d->daemon)) {
			return -1;
		}
		if (samba_private_serving(d->cfg, d->daemon)) {
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	fprintf(stderr, "demo: the view or its smbd did not come up; the daemon said:\n");
	sh("cat '%s' >&2", log);
	return -1;
}

static bool check(struct demo *d)
{
	struct check_opts o = {.guest = true, .mountpoint = at(d, "view")};
	struct check_result r = {0};
	static const char *const names[] = {"OK", "WARNING", "CRITICAL"};

	check_run(d->cfg, &o, &r);
	printf("pxeimagesfs check: SMB %s - %s\n", names[r.status], r.message);
	check_result_fini(&r);
	return r.status == CHECK_OK;
}

static void show(struct demo *d)
{
	sh("smbclient -N -p %d '//127.0.0.1/SMSPXEIMAGES$' -c 'recurse; ls' 2>/dev/null | "
	   "grep -v '^$\\|blocks of size'",
	   DEMO_PORT);
	(void)d;
}

static int story(struct demo *d)
{
	bool ok = true;

	step("drive C holds the images; the view is mounted at %s and shared on 127.0.0.1:%d",
	     at(d, "view"), DEMO_PORT);
	printf("connect: smbclient '//127.0.0.1/SMSPXEIMAGES$' -p %d -N\n", DEMO_PORT);
	show(d);
	ok &= check(d);
	step("the PXE service is 'reinstalled' on drive D (a new disk, empty images folder)");
	if (make_drive(d, "d", true) < 0) {
		return -1;
	}
	d->d_mounted = true;
	sleep(1);
	ok &= check(d);
	step("the site server distributes a new image through the share: it lands on D");
	write_package(d, "src", "DEM00002", 3);
	sh("smbclient -N -p %d '//127.0.0.1/SMSPXEIMAGES$' -c 'mkdir DEM00002; cd DEM00002; "
	   "put %s/" IMG "/DEM00002/boot.DEM00002.wim boot.DEM00002.wim' >/dev/null 2>&1",
	   DEMO_PORT, at(d, "src"));
	sh("cd '%s' && find c d -name boot.DEM00002.wim -printf '  %%p: %%s bytes, owner %%u\\n'",
	   d->dir);
	step("drive C is taken away (umount): the share keeps serving what D holds");
	if (umount(at(d, "c")) < 0 && umount2(at(d, "c"), MNT_DETACH) < 0) {
		fprintf(stderr, "demo: cannot unmount %s: %s\n", at(d, "c"), strerror(errno));
	}
	d->c_mounted = false;
	sleep(1);
	show(d);
	ok &= check(d);
	return ok ? 0 : -1;
}

static void cleanup(struct demo *d)
{
	if (d->daemon > 0) {
		kill(d->daemon, SIGTERM);
		waitpid(d->daemon, NULL, 0);
	}
	if (d->d_mounted) {
		umount2(at(d, "d"), MNT_DETACH);
	}
	if (d->c_mounted) {
		umount2(at(d, "c"), MNT_DETACH);
	}
	sh("rm -rf --one-file-system '%s'", d->dir);
	cfg_free(d->cfg);
}

static int setup(struct demo *d)
{
	char err[4096];

	snprintf(d->dir, sizeof(d->dir), "/tmp/pxeimagesfs-demo.XXXXXX");
	if (!mkdtemp(d->dir) || chmod(d->dir, 0755) < 0) {
		fprintf(stderr, "demo: cannot make a temporary directory: %s\n", strerror(errno));
		return -1;
	}
	snprintf(d->conf, sizeof(d->conf), "%s/pxeimagesfs.conf", d->dir);
	if (sh("mkdir -p '%s/c' '%s/d' '%s/src' '%s/view'", d->dir, d->dir, d->dir, d->dir) != 0 ||
	    make_drive(d, "c", true) < 0) {
		return -1;
	}
	d->c_mounted = true;
	if (write_package(d, "c", "DEM00001", 4) != 0 ||
	    write_config(d) < 0) {
		return -1;
	}
	if (cfg_load_file(d->conf, &d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "demo: %s\n", err);
		return -1;
	}
	return start_daemon(d);
}

static void demo_usage(FILE *out)
{
	fprintf(out, "usage: pxeimagesfs demo [--keep]\n\n"
	             "Run the embedded default as root: two sample drives (tmpfs) in a temporary\n"
	             "directory, the view mounted there, a private smbd on 127.0.0.1:%d, the\n"
	             "client-side check, and KB 947683 played live. Everything is removed at the\n"
	             "end.\n"
	             "  -k, --keep   leave it running until Ctrl-C, to connect to the share\n\n"
	             "exit status: 0 every check passed, 1 a check failed, 2 the demo could not run\n",
	        DEMO_PORT);
}

static void keep_running(struct demo *d)
{
	step("running until Ctrl-C; connect with:");
	printf("  smbclient '//127.0.0.1/SMSPXEIMAGES$' -p %d -N\n", DEMO_PORT);
	printf("  ls %s/" IMG "\n  pxeimagesfs status -c %s\n", at(d, "view"), d->conf);
	fflush(stdout);
	while (!stop_requested) {
		pause();
	}
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {{"keep", no_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	struct demo d = {.daemon = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	bool keep = false;
	int rc = 2;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "kh", opts, NULL)) != -1) {
		if (c == 'k') {
			keep = true;
		} else {
			demo_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "pxeimagesfs demo: run it as root (it mounts sample drives and the "
		                "view)\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (setup(&d) == 0) {
		rc = story(&d) == 0 ? 0 : 1;
		if (keep && !stop_requested) {
			keep_running(&d);
		}
	}
	if (rc != 0 && d.started) {
		step("what the daemon logged");
		sh("cat '%s/daemon.log'", d.dir);
	}
	step("cleaning up: the daemon stops, the drives are unmounted, %s is removed", d.dir);
	cleanup(&d);
	printf("demo: %s\n", rc == 0   ? "every check passed"
	                      : rc == 1 ? "a check failed (see above)"
	                                : "the demo could not run (see above)");
	return rc;
}
