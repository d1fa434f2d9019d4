/*
 * test_reduce_portable.c - test_reduce's checks run against the portable kernels: reduce.c
 * and dtype.c compiled in here with AR_NO_CLONES (no AVX2 clones, no F16C half path), so the
 * code every non-x86 or non-GCC build uses is tested on this machine too.  The library's own
 * reduce.o and dtype.o are then not linked.
 */
#define AR_NO_CLONES 1
#include "allreduce/reduce.c"
#include "allreduce/dtype.c"

#include "test_reduce.c"
