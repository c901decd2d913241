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

// Two such sums in one pass: term(i, &a_i, &b_i) gives both terms of index i; *sum_a and *sum_b get the same
// bits as FixedOrderSum over the a and the b terms (each has its own eight partials, combined the same way). For
// sums over the same arrays, so they are read once (BatchNorm's backward).
template <typename Term>
void FixedOrderSum2(int64_t m, Term term, double* sum_a, double* sum_b) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    for (int j = 0; j < 8; ++j) {
      double ta, tb;
      term(i + j, &ta, &tb);
      a[j] += ta;
      b[j] += tb;
    }
  }
  double sa = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  double sb = ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
  for (; i < m; ++i) {
    double ta, tb;
    term(i, &ta, &tb);
    sa += ta;
    sb += tb;
  }
  *sum_a = sa;
  *sum_b = sb;
}

}  // namespace engine

#endif  // ENGINE_BASE_FIXED_ORDER_SUM_H_
