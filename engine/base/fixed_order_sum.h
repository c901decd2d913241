// A sum of many terms in double whose order is fixed by the code, not by the thread count or the CPU: eight
// interleaved partial sums (term i goes to partial i mod 8), combined pairwise in a fixed order, then the tail.
// Eight times shorter a dependency chain than one running sum, so it runs near load speed; the same bits everywhere.
// Used for per-channel reductions (bias gradients, BatchNorm statistics).
#ifndef ENGINE_BASE_FIXED_ORDER_SUM_H_
#define ENGINE_BASE_FIXED_ORDER_SUM_H_

#include <cstdint>

namespace engine {

// sum_{i < m} term(i), term(i) a double.
template <typename Term>
double FixedOrderSum(int64_t m, Term term) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += term(i + j);
  }
  double sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; i < m; ++i) sum += term(i);
  return sum;
}

}  // namespace engine

#endif  // ENGINE_BASE_FIXED_ORDER_SUM_H_
