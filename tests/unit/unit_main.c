/* unit_main.c -- main() of every module's cmocka executable: runs the registered groups.
 *
 * `test_MODULE` runs every group of the module; `test_MODULE NAME...` only the groups whose
 * file name contains one of the NAMEs (test_fs inomap). Exits 1 when a test failed or no group
 * ran, so a typo never passes for a green run. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const struct unit_group *groups[UNIT_MAX_GROUPS];
static size_t n_groups;

void unit_register(const struct unit_group *g)
{
	if (n_groups == UNIT_MAX_GROUPS) {
		fprintf(stderr, "unit_main: more than %d test files in one module\n",
		        UNIT_MAX_GROUPS);
		abort();
	}
	groups[n_groups++] = g;
}

/* base -- the file name without its folders: __FILE__ may be a full path. */
static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int by_name(const void *a, const void *b)
{
	const struct unit_group *const *ga = a;
	const struct unit_group *const *gb = b;

	return strcmp(base((*ga)->name), base((*gb)->name));
}

/* wanted -- G is named by one of the N names (every group when N is 0). */
static int wanted(const struct unit_group *g, char **names, int n)
{
	for (int i = 0; i < n; i++) {
		if (strstr(base(g->name), names[i]) != NULL) {
			return 1;
		}
	}
	return n == 0;
}

int main(int argc, char **argv)
{
	int failed = 0;
	int ran = 0;

	qsort(groups, n_groups, sizeof(groups[0]), by_name);
	for (size_t i = 0; i < n_groups; i++) {
		if (!wanted(groups[i], argv + 1, argc - 1)) {
			continue;
		}
		ran++;
		failed += _cmocka_run_group_tests(base(groups[i]->name), groups[i]->tests,
		                                  groups[i]->n_tests, groups[i]->setup,
		                                  groups[i]->teardown);
	}
	if (ran == 0) {
		fprintf(stderr, "unit_main: no test group matches\n");
		return 1;
	}
	return failed != 0;
}
