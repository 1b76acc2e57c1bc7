/* publish_hang.c -- publishing a view must not stall requests while a drive hangs.
 *
 *   publish_hang GOOD_DRIVE HUNG_DRIVE
 *
 * Builds a filesystem object (no mount) serving GOOD_DRIVE (a directory holding
 * RemoteInstall/SMSImages/SMSPKG), then publishes, on another thread, a view that also has
 * HUNG_DRIVE (a mount whose every request blocks: hangfs in "hang" mode). Building that view
 * stats the hung drive and blocks; meanwhile fsview_get(), which every request takes first,
 * must keep answering: 200 calls, each within 200 ms. Exits 0 when they did, 1 when one
 * stalled (the lock every request takes was held across the drive's syscall), 2 on a setup
 * error. The publishing thread is left blocked; the process exits with it (run by
 * tests/integration/drive_health.sh).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fs_int.h"

static struct fs *the_fs;
static struct resolver_view *hung_view;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A view of the given drives (each holding the images, in rank order; the first is primary). */
static struct resolver_view *view_of(const char *const *paths, size_t n)
{
	struct resolver_view *v = calloc(1, sizeof(*v));

	v->images_path = strdup("RemoteInstall/SMSImages/SMSPKG");
	v->view_path = strdup(v->images_path);
	v->drives = calloc(n, sizeof(*v->drives));
	v->roots = calloc(n, sizeof(*v->roots));
	v->n_drives = n;
	v->primary = 0;
	for (size_t i = 0; i < n; i++) {
		struct drive *d = &v->drives[i];
		char name[8];
		snprintf(name, sizeof(name), "%c", (char)('A' + i));
		d->name = strdup(name);
		d->state = DRIVE_ONLINE;
		d->mount_path = strdup(paths[i]);
		d->holds_images = true;
		d->in_view = true;
		d->primary = i == 0;
		if (asprintf(&d->images_dir, "%s/RemoteInstall/SMSImages/SMSPKG", paths[i]) < 0) {
			return NULL;
		}
		d->images_spelling = strdup("RemoteInstall/SMSImages/SMSPKG");
		d->view_dir = strdup(d->images_dir);
		d->view_spelling = strdup(d->images_spelling);
		v->roots[v->n_roots++] = i;
	}
	return v;
}

static void stalled(int sig)
{
	static const char msg[] = "publish_hang: fsview_get stalled for 5 s while a view was being "
	                          "published over a hung drive\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0) {
		_exit(1);
	}
	_exit(1);
}

static void *publisher(void *arg)
{
	(void)arg;
	fs_publish(the_fs, hung_view); /* blocks in the hung drive's stat */
	return NULL;
}

int main(int argc, char **argv)
{
	struct pxe_config *cfg = NULL;
	char err[4096];
	pthread_t t;
	double worst = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: publish_hang GOOD_DRIVE HUNG_DRIVE\n");
		return 2;
	}
	const char *good[] = {argv[1]};
	const char *both[] = {argv[1], argv[2]};
	if (cfg_load_string("[global]\n", "publish_hang", &cfg, err, sizeof(err)) < 0 ||
	    fs_new(cfg, view_of(good, 1), &the_fs, err, sizeof(err)) < 0) {
		fprintf(stderr, "publish_hang: %s\n", err);
		return 2;
	}
	hung_view = view_of(both, 2);
	if (pthread_create(&t, NULL, publisher, NULL) != 0) {
		return 2;
	}
	usleep(200000); /* the publisher is in the hung drive's stat by now */
	signal(SIGALRM, stalled);
	alarm(5);
	for (int i = 0; i < 200; i++) {
		double t0 = now_ms();
		fsview_put(fsview_get(the_fs));
		double took = now_ms() - t0;
		worst = took > worst ? took : worst;
		if (took > 200) {
			printf("publish_hang: fsview_get took %.0f ms while a view was being "
			       "published "
			       "(call %d)\n",
			       took, i);
			fflush(stdout);
			_exit(1);
		}
		usleep(1000);
	}
	printf("publish_hang: 200 fsview_get calls while publishing over a hung drive, the slowest "
	       "%.2f ms\n",
	       worst);
	fflush(stdout);
	_exit(0);
}
