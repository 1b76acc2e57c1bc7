/* migrate_json.h -- the JSON output of `pxeimagesfs migrate` (migrate_json.c). */
#ifndef PXE_MIGRATE_JSON_H
#define PXE_MIGRATE_JSON_H

#include <stdbool.h>

#include "migrate.h"

/* SUM's 32 bytes as 64 hex digits and a NUL in OUT. */
void migrate_hex_sha(const unsigned char sum[32], char out[65]);
/* PLAN (SUM NULL: not run, DRY_RUN: a plan only) as JSON on stdout; CONFIG: the config file. */
void migrate_print_json(const struct migrate_plan *plan, const struct migrate_summary *sum,
                        const char *config, bool dry_run);

#endif
