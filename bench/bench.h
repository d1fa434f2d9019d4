/*
 * bench.h - the public interface of bench/: the arbench program's pieces (command line, size
 * sweep, timing and statistics, correctness checks, table and JSON output) so that tests can
 * drive them without mpirun.  The emulated fabric (bench/lab/) has its own private header.
 */
#ifndef ARBENCH_BENCH_H
#define ARBENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Parse a size with an optional K, M, G (powers of 1024, nccl-tests' meaning) or T suffix and
 * an optional trailing B: "8", "1K", "64M", "1GB".  0 or -EINVAL (junk, overflow). */
int bench_parse_size(const char *text, uint64_t *out);

#endif /* ARBENCH_BENCH_H */
