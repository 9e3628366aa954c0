// C runtime settings Swift cannot reach directly (glibc's malloc.h is not in Swift's Glibc).
#ifndef BASIN_CRUNTIME_H
#define BASIN_CRUNTIME_H

/// Keeps freed large blocks in the heap instead of returning them to the kernel, so that
/// per-batch activations reuse memory rather than page-faulting it in again.
void basin_keep_freed_memory(void);

#endif
