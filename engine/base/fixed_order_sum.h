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
  // Eight named accumulators rather than an array: the compiler keeps them in registers.
  double p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    p0 += term(i);
    p1 += term(i + 1);
    p2 += term(i + 2);
    p3 += term(i + 3);
    p4 += term(i + 4);
    p5 += term(i + 5);
    p6 += term(i + 6);
    p7 += term(i + 7);
  }
  double sum = ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
  for (; i < m; ++i) sum += term(i);
  return sum;
}

}  // namespace engine

#endif  // ENGINE_BASE_FIXED_ORDER_SUM_H_
