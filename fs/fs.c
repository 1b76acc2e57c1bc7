/* fs.c -- the filesystem object and its libfuse low-level session.
 *
 * Builds the handler table from ops_*.c and handle.c, mounts with allow_other and
 * default_permissions (Samba reaches files as the connected user) and always
 * nosuid,nodev, answers the kernel's INIT, then daemonizes (the other way
 * round with FUSE over io_uring: init_and_background) and only then starts its
 * threads and says it is ready; serves on the multi-threaded loop
 * and unmounts on SIGTERM/SIGINT. Does not decide what the view is: the
 * resolver does, and fs_publish() swaps it in.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"

#define FS_BASE_OPTS "allow_other,default_permissions,fsname=pxeimagesfs,subtype=pxeimagesfs"
/* SPEC section 10: on every route, whatever the options asked for */
#define FS_SAFE_FLAGS "nosuid,nodev"
/* bounds: the kernel's INIT is queued by the mount itself; a daemon's start
 * (threads, first status file) is quick */
#define FS_INIT_WAIT_MS   10000
#define FS_DAEMON_WAIT_MS 30000

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	pt_init(userdata, conn);
	tr_init(userdata, conn);
	/* the kernel clears SUID/SGID itself (a setattr after a write) */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE) {
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	}
	/* Requests are read with read(2), never spliced. libfuse wants SPLICE_READ by default (the
	 * view has write_buf) and splices every request through a pipe of its thread that must
	 * hold the largest request (max_write and a header: 2 MiB, past pipe-max-size). Without
	 * CAP_SYS_RESOURCE (a container, a bounded unit) growing the pipe fails, and libfuse then
	 * frees it: each request made a new pipe, tried to grow it, read
	 * /proc/sys/fs/pipe-max-size and fell back to read(2) (dbench: 68-77 us of daemon CPU per
	 * operation, 40-42 without). Where the pipe can grow, splicing saved nothing measurable
	 * (1.5 GiB written without passthrough: 780-846 MB/s spliced, 742-788 read). */
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) {
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	}
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
	}
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS); /* locks stay in the kernel */
	/* The drives' POSIX ACLs decide access through the view as on the drive: without this
	 * the kernel checks mode bits only, where an ACL's mask stands in the group's place (a
	 * member of the owning group that the ACL refuses reads; a user it names is refused). The
	 * kernel then also keeps each ACL as long as the inode's attributes (the folder watch
	 * invalidates both). */
	if (conn->capable & FUSE_CAP_POSIX_ACL) {
		conn->want |= FUSE_CAP_POSIX_ACL;
	}
	/* The caller's umask is the daemon's to apply (ops_dir.c, ops_own): a create in a folder
	 * with a default ACL takes its mode from that ACL and the mode asked, the umask ignored,
	 * as on the drive. The kernel would take the umask away from the mode first. */
	if (conn->capable & FUSE_CAP_DONT_MASK) {
		conn->want |= FUSE_CAP_DONT_MASK;
	}
	conn->max_write = 1024 * 1024;
	conn->max_background = 64; /* boot storms: many readers ahead at once */
	conn->congestion_threshold = 48;
	conn->max_readahead = conn->max_readahead > 1024 * 1024 ? conn->max_readahead : 1024 * 1024;
}

static void split_images_path(struct fs *fs, const char *path)
{
	char *copy = strdup(path);
	char *save = NULL;
	unsigned n = 0;

	fs->img_parts = calloc(strlen(path) / 2 + 2, sizeof(char *));
	for (char *c = copy && fs->img_parts ? strtok_r(copy, "/", &save) : NULL; c;
	     c = strtok_r(NULL, "/", &save)) {
		fs->img_parts[n++] = strdup(c);
	}
	fs->img_depth = n;
	free(copy);
}

/* NAME is set to no, off, false or 0 */
static bool env_says_no(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcasecmp(v, "false") ||
	             !strcmp(v, "0"));
}

/* The soft RLIMIT_NOFILE raised to the hard one (systemd's advice to a service that uses no
 * select(2): its soft limit stays 1024 for those that do), and the descriptors it allows: an
 * open file holds one or two (handle.c), a watched folder none. */
static int raise_nofile(void)
{
	struct rlimit nofile = {.rlim_cur = 1024, .rlim_max = 1024};

	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		struct rlimit want = {.rlim_cur = nofile.rlim_max, .rlim_max = nofile.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
			nofile = want;
		}
	}
	return nofile.rlim_cur >= INT_MAX ? INT_MAX : (int)nofile.rlim_cur;
}

int fs_new(const struct pxe_config *cfg, struct resolver_view *view, struct fs **out, char *errbuf,
           size_t errlen)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	int rc = fs ? 0 : -ENOMEM;

	*out = NULL;
	if (fs) {
		fs->entry_timeout = 1.0;
		fs->attr_timeout = 1.0;
		fs->negative_timeout = 0.5;
		fs->long_timeout = 60.0;
		fs->dw_epoch = 1;
		fs->pt_want = cfg->passthrough && !env_says_no("PXEIMAGESFS_PASSTHROUGH");
		fs->pt_reason = "not decided yet: the kernel has not initialised the mount";
		fs->ur_want = cfg->transport == CFG_TRANSPORT_IO_URING;
		pthread_mutex_init(&fs->lock, NULL);
		pthread_mutex_init(&fs->view_lock, NULL);
		clock_gettime(CLOCK_REALTIME, &fs->start);
		fs->fd_limit = raise_nofile();
		split_images_path(fs, view->view_path); /* the images path, or its first folder */
		rc = fs->img_parts ? nodes_init(fs) : -ENOMEM;
	}
	rc = rc < 0 ? rc : fsview_new(view, 1, &fs->view);
	view = NULL;
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot set up the filesystem: %s", strerror(-rc));
		resolver_view_free(view);
		fs_free(fs);
		return -1;
	}
	fs->generation = 1;
	*out = fs;
	return 0;
}

void fs_free(struct fs *fs)
{
	if (!fs) {
		return;
	}
	fsview_put(fs->view);
	nodes_fini(fs);
	for (unsigned i = 0; fs->img_parts && fs->img_parts[i]; i++) {
		free(fs->img_parts[i]);
	}
	free(fs->img_parts);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->view_lock);
	free(fs);
}

/* The kernel reads ahead 128 KiB on a FUSE mount unless told otherwise:
 * raise the mount's backing-device read-ahead so sequential reads of large
 * boot images go out in 1 MiB requests. Best effort. */
static void raise_readahead(const char *mountpoint)
{
	char path[128];
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	struct libmnt_fs *mfs = tb ? mnt_table_find_target(tb, mountpoint, MNT_ITER_BACKWARD) : NULL;
	dev_t dev = mfs ? mnt_fs_get_devno(mfs) : 0;
	FILE *f = NULL;

	/* not stat(): nobody serves the mount yet, it would wait forever */
	mnt_unref_table(tb);
	if (dev == 0) {
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(dev), minor(dev));
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", 1024);
		if (fclose(f) != 0) {
			log_debug("cannot raise %s", path);
		}
	}
}

/* The base options first, the caller's next (USER: without io_uring, which is the daemon's
 * choice: fs->ur_try), then the flags no route may change: mount.fuse3 passes "dev,suid" for
 * an fstab line (mount(8)'s defaults); the last of a pair wins. */
static int session_args(const struct fs *fs, const struct fs_options *o, const char *user,
                        struct fuse_args *args)
{
	char opts[1024];

	if (snprintf(opts, sizeof(opts), "%s%s%s%s,%s", FS_BASE_OPTS, *user ? "," : "", user,
	             fs->ur_try ? ",io_uring" : "", FS_SAFE_FLAGS) >= (int)sizeof(opts)) {
		return -1;
	}
	if (fuse_opt_add_arg(args, "pxeimagesfs") < 0 ||
	    (o->debug && fuse_opt_add_arg(args, "-d") < 0) || fuse_opt_add_arg(args, "-o") < 0 ||
	    fuse_opt_add_arg(args, opts) < 0) {
		return -1;
	}
	return 0;
}

static int serve(struct fuse_session *se)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	int rc = 0;

	if (!lc) {
		return -1;
	}
	fuse_loop_cfg_set_max_threads(lc, 64);
	fuse_loop_cfg_set_idle_threads(lc, 8);
	rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

/* Process the INIT request BUF with the stop signals blocked: with io_uring, libfuse starts
 * its ring threads in it, and they inherit this mask. A ring thread that took SIGTERM would
 * run the exit handler there, while the main thread sleeps on in the loop and never stops. */
static void process_init(struct fuse_session *se, struct fuse_buf *buf)
{
	sigset_t stop;
	sigset_t old;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	fuse_session_process_buf(se, buf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Answer the kernel's INIT (the first request, queued by the mount) on this
 * thread, before any other thread exists (but libfuse's io_uring queues, made
 * in it): 0 when it succeeded, else -1 (a bad option refused at INIT, e.g.
 * max_read; libfuse logged why). Bounded. */
static int answer_init(struct fs *fs, struct fuse_session *se)
{
	struct pollfd pfd = {.fd = fuse_session_fd(se), .events = POLLIN};
	struct fuse_buf buf = {0};
	int n = 0;

	for (int waited = 0; waited < FS_INIT_WAIT_MS && !fuse_session_exited(se); waited += 100) {
		if (poll(&pfd, 1, 100) > 0) {
			n = fuse_session_receive_buf(se, &buf);
			if (n > 0) {
				process_init(se, &buf);
				break;
			}
			if (n != -EINTR && n != -EAGAIN) {
				break;
			}
		}
	}
	free(buf.mem);
	return n > 0 && !fuse_session_exited(se) && atomic_load(&fs->inited) ? 0 : -1;
}

/* The parent of daemonize_begin: the child's word, within FS_DAEMON_WAIT_MS.
 * A child that died or hangs leaves nothing mounted. Returns the exit status. */
static int daemonize_wait(int fd, pid_t child, const char *mountpoint)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char msg[600] = "";
	ssize_t n = poll(&pfd, 1, FS_DAEMON_WAIT_MS) > 0 ? read(fd, msg, sizeof(msg) - 1) : -1;

	if (n > 0 && msg[0] == '0') {
		return 0;
	}
	if (n > 1) {
		msg[n] = '\0';
		log_error("%s", msg + 1);
	} else {
		log_error("the daemon %s while starting; nothing is mounted",
		          n == 0 ? "died" : "did not answer");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		umount2(mountpoint, MNT_DETACH);
	}
	return 2;
}

/* Daemonize: fork; the parent waits (bounded) until the child says it serves
 * (or failed), then _exits with 0 or 2, like fuse_daemonize() but only after
 * the threads started: `mount` and mount(8) tell the truth. The parent never
 * returns (it must not unmount the view the child serves). Returns, in the
 * child, the pipe to report on (daemonize_done), or -1 with errno (no child). */
static int daemonize_begin(const char *mountpoint)
{
	int p[2];
	pid_t pid = -1;

	if (pipe2(p, O_CLOEXEC) < 0) {
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		if (chdir("/") < 0) {
			log_debug("cannot change to /");
		}
		return p[1];
	}
	close(p[1]);
	_exit(daemonize_wait(p[0], pid, mountpoint));
}

/* The child's word: "0" serving, else "2" and a message. */
static void daemonize_done(int fd, const char *error)
{
	char msg[600];
	int len = snprintf(msg, sizeof(msg), "%s%s", error ? "2" : "0", error ? error : "");

	if (write(fd, msg, (size_t)len) < 0) {
		log_debug("the parent is gone");
	}
	close(fd);
}

/* A daemon's stdio is /dev/null (before any thread or child starts: the
 * private smbd must not hold the caller's terminal or pipe open). */
static void stdio_to_null(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int i = 0; null >= 0 && i < 3; i++) {
		dup2(null, i);
	}
	if (null > 2) {
		close(null);
	}
}

static void install_ops(struct fuse_lowlevel_ops *ops)
{
	ops_attr_install(ops);
	ops_dir_install(ops);
	ops_remove_install(ops);
	ops_file_install(ops);
	handle_install(ops);
}

/* Mounted: daemonize unless foreground; *REPORT gets the pipe to the waiting
 * parent (daemonize_done), or stays -1. 0, or -1 with ERRBUF. */
static int background(const struct fs_options *o, int *report, char *errbuf, size_t errlen)
{
	if (!o->foreground && (*report = daemonize_begin(o->mountpoint)) < 0) {
		snprintf(errbuf, errlen, "cannot daemonize: %s", strerror(errno));
		return -1;
	}
	if (!o->foreground) {
		log_init(true, o->live_cfg ? (*o->live_cfg)->log_level : LOG_LEVEL_INFO);
		stdio_to_null();
	}
	return 0;
}

/* Mounted, INIT answered and in the background: start every thread (threads do
 * not survive a fork), then tell systemd and the parent (REPORT, or -1). */
static void start_serving(struct fs *fs, const struct fs_options *o, int report)
{
	dw_start(fs); /* without it, names are cached for entry_timeout only */
	if (o->live_cfg && live_start(fs, o) < 0) {
		log_warnx("cannot follow the drives live; the view stays as mounted");
	}
	live_notify_ready(fs); /* resolved, mounted, INIT answered: systemd may start smbd */
	if (report >= 0) {
		daemonize_done(report, NULL);
	}
}

/* Mounted: answer INIT and go to the background, in the order the transport needs.
 * libfuse's io_uring queues are threads made at INIT: with io_uring the fork comes
 * first (they must live in the daemon), else INIT first (a refused option is told
 * on the caller's terminal). *REPORT as in background(). 0, or -1 with ERRBUF. */
static int init_and_background(struct fs *fs, struct fuse_session *se, const struct fs_options *o,
                               int *report, char *errbuf, size_t errlen)
{
	if (fs->ur_try && background(o, report, errbuf, errlen) < 0) {
		return -1;
	}
	if (answer_init(fs, se) < 0) {
		snprintf(errbuf, errlen,
		         "the kernel's INIT failed (a -o option it refuses?); unmounted");
		if (*report >= 0) {
			daemonize_done(*report, errbuf);
			*report = -1;
		}
		return -1;
	}
	tr_check(fs);
	return fs->ur_try ? 0 : background(o, report, errbuf, errlen);
}

/* Before the session: the handler table, the copy-up leftovers, the timeouts, the signals. */
static void prepare(struct fs *fs, const struct fs_options *o, struct fuse_lowlevel_ops *ops)
{
	install_ops(ops);
	copyup_clean(fs); /* before the mount is served: no copy-up of this daemon runs yet */
	if (o->entry_timeout > 0) {
		fs->entry_timeout = o->entry_timeout;
	}
	if (o->attr_timeout > 0) {
		fs->attr_timeout = o->attr_timeout;
	}
	watch_block_signals(); /* before any thread: SIGHUP/SIGUSR1 go to the live thread */
}

/* Serve SE until stopped, then stop the threads: 0, or -1 with ERRBUF. */
static int serve_until_stopped(struct fs *fs, struct fuse_session *se, const struct fs_options *o,
                               char *errbuf, size_t errlen)
{
	int served = serve(se); /* > 0: ended by SIGTERM/SIGINT, a clean stop */
	int rc = served >= 0 ? 0 : -1;

	live_stop(fs);
	dw_stop(fs);
	if (rc < 0) {
		snprintf(errbuf, errlen, "the FUSE session ended with an error");
	} else {
		log_info("stopping: %s; unmounting %s",
		         served > 0 ? "asked to (SIGTERM or SIGINT)" : "the view was unmounted",
		         o->mountpoint);
	}
	return rc;
}

int fs_mount_run(struct fs *fs, const struct fs_options *o, char *errbuf, size_t errlen)
{
	struct fuse_lowlevel_ops ops = {.init = op_init};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char user[1024];
	int report = -1;
	int rc = -1;

	prepare(fs, o, &ops);
	/* REST of the options never exceeds them: only too long -o options can be cut */
	if (o->fuse_opts && strlen(o->fuse_opts) >= sizeof(user)) {
		snprintf(errbuf, errlen, "the -o options are too long");
		goto out;
	}
	fs->ur_want |= tr_take_opt(o->fuse_opts, user, sizeof(user));
	tr_prepare(fs);
	if (session_args(fs, o, user, &args) < 0 ||
	    !(se = fuse_session_new(&args, &ops, sizeof(ops), fs))) {
		snprintf(errbuf, errlen, "cannot start a FUSE session (bad -o options?)");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		snprintf(errbuf, errlen, "cannot install signal handlers");
		goto out_session;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		snprintf(errbuf, errlen,
		         "cannot mount at %s (is /dev/fuse there, and are you root?)",
		         o->mountpoint);
		goto out_signals;
	}
	fs->se = se;
	/* before any lookup is served; not in fs_new, which may not mount */
	nodes_load_inomap(fs, o->live_cfg ? (*o->live_cfg)->state_dir : NULL, o->mountpoint);
	raise_readahead(o->mountpoint);
	if (init_and_background(fs, se, o, &report, errbuf, errlen) < 0) {
		goto out_unmount;
	}
	start_serving(fs, o, report);
	rc = serve_until_stopped(fs, se, o, errbuf, errlen);
out_unmount:
	fuse_session_unmount(se);
	fs->se = NULL;
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	fuse_opt_free_args(&args);
	return rc;
}
