/* refcount.h -- the one reference count for objects shared between threads.
 *
 * An atomic counter, no lock: refcount_hold from any thread that already holds a reference;
 * refcount_drop returns true to exactly one caller, the last, which then frees the object
 * (acquire/release ordering: every write an earlier holder made before its drop is seen by
 * the one that frees). Used by the share's state (fs/status.c) and the exporter
 * (cli/mount_cmd.c).
 */
#ifndef PXE_REFCOUNT_H
#define PXE_REFCOUNT_H

#include <stdatomic.h>
#include <stdbool.h>

struct refcount {
	atomic_uint n;
};

/* refcount_init -- one reference: the creator's. */
static inline void refcount_init(struct refcount *r)
{
	atomic_init(&r->n, 1);
}

/* refcount_hold -- one more reference (the caller holds one already). */
static inline void refcount_hold(struct refcount *r)
{
	atomic_fetch_add_explicit(&r->n, 1, memory_order_relaxed);
}

/* refcount_drop -- give up one reference; true when it was the last (free the object). */
static inline bool refcount_drop(struct refcount *r)
{
	return atomic_fetch_sub_explicit(&r->n, 1, memory_order_acq_rel) == 1;
}

#endif /* PXE_REFCOUNT_H */
