// OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so a benchmark that must compare against OpenBLAS at its best
// re-executes itself without the variable when it pins a core below this CPU's best (e.g. Haswell on AVX-512).
#ifndef BENCH_COMMON_OPENBLAS_CORE_H_
#define BENCH_COMMON_OPENBLAS_CORE_H_

#include <string>

namespace bench {

// Re-executes /proc/self/exe with the same argv and OPENBLAS_CORETYPE unset, at most once (a marker variable stops
// loops). Returns (through `original`) the value the user had set, "" if none. Returns normally when no re-exec is
// needed, or if execv fails (then it says so on stderr and the pinned core stays).
void ReexecWithBestOpenBlasCore(char** argv, std::string* original);

}  // namespace bench

#endif  // BENCH_COMMON_OPENBLAS_CORE_H_
