/* run.h -- the one program runner of export/ (run.c): posix_spawnp without a shell, output
 * captured, the child killed after a bound (not a public header).
 *
 * A struct prog belongs to its caller; the budget (prog_budget) is per thread.
 */
#ifndef PXE_RUN_H
#define PXE_RUN_H

#include <stddef.h>

struct prog {
	int status; /* exit status; 128+signal; -1 timed out or lost */
	char *out;
	char *err;
};

/* prog_run -- run ARGV (found in PATH), stdin /dev/null, capturing its output into P
 * (owned by P: free with prog_fini). Returns 0 when it ran (see P->status) or a negative
 * errno when it could not start. */
int prog_run(char *const argv[], struct prog *p);

/* prog_run_input -- prog_run with INPUT (NULL: /dev/null; at most PROG_INPUT_MAX bytes,
 * else -E2BIG) written to the child's stdin. */
#define PROG_INPUT_MAX 4096
int prog_run_input(char *const argv[], const char *input, struct prog *p);
void prog_fini(struct prog *p);

/* prog_run_within -- prog_run with the child killed after TIMEOUT_MS instead of 60 s. */
int prog_run_within(char *const argv[], long timeout_ms, struct prog *p);

/* prog_budget -- from now on, all programs the calling thread runs together get at most MS
 * milliseconds (each still at most 60 s); once spent, prog_run returns -ETIMEDOUT without
 * starting anything. MS <= 0: no budget. Thread-local. */
void prog_budget(long ms);

/* prog_msg -- why a program failed: RC from prog_run, else its first line of output. */
void prog_msg(int rc, const struct prog *p, char *out, size_t len);

/* prog_name -- NAME (a program option of samba_export_opts), or DEF when it is NULL. */
const char *prog_name(const char *name, const char *def);

#endif /* PXE_RUN_H */
