// Sparse-weight 2-D convolution kernels: forward, input gradient and weight gradient for a CSR filter bank,
// without materialising an im2col of the batch. Not an autograd op (see engine/ops/sparse_conv2d.h).
//
// Layout as in conv2d.h: X [C, N*H*W], Y [K, N*P*Q], channel-major. The weight is CSR with rows = K and
// cols = C*R*S, column index c*R*S + r*S + s. Legend: N batch, C in-channels, K out-channels, H/W input,
// P/Q output, R/S filter.
//
// How (one image at a time, per thread): the image is zero-padded and, for stride st > 1, split into st*st phase
// planes (phase (a, b) holds padded pixels (u*st + a, v*st + b)), so that for every nonzero (k; c, r, s) the input
// it reads for the whole output plane is ONE contiguous run of a phase plane, shifted by a per-nonzero offset. The
// output plane is computed in an "extended" layout whose rows are as wide as the phase planes (the few extra columns
// are discarded), so each nonzero is one long AXPY; the AVX-512 path keeps 64 outputs in registers while it streams
// over all nonzeros of the row (one load + one FMA per 16 lanes, one store at the end). The weight gradient is the
// same walk with dot products (SDDMM-like, summed over a block of images before the lanes are reduced); the input
// gradient is the same walk on the padded dY with the filter flipped, through the transposed index (for stride > 1,
// once per output phase with the taps of that phase).
// A 1x1 stride-1 pad-0 conv goes straight to SpmmCsr / SpmmCsrTransposed / SddmmCsr.
//
// Threading: forward and input gradient are parallel over images (each thread writes whole image planes: one
// writer per element); the weight gradient sums fixed groups of images into per-group partials, then adds the
// groups in order: results are bitwise identical for any thread count. Scratch (padded images, partials) is
// allocated once per call outside the parallel region. No exceptions. Outputs must not alias inputs.
#ifndef ENGINE_KERNELS_SPARSE_CONV2D_H_
#define ENGINE_KERNELS_SPARSE_CONV2D_H_

#include "engine/kernels/conv2d.h"
#include "engine/sparse/csr_view.h"
#include "engine/tensor/views.h"

namespace engine::kernels {

// Y = conv(W, X) (+ bias[k]) (then max(., 0) when relu); y [K, N*P*Q] overwritten; x [C, N*H*W].
// FLOPs counted: 2 * nnz * N*P*Q (+ K*N*P*Q each for bias and ReLU).
void SparseConv2dForward(const Conv2dParams& params, const CsrView& w, ConstDenseView x, DenseView y,
                         const float* bias = nullptr, bool relu = false);

// dX += conv_transposeᵀ: d_x[c, n, h, w] += sum_{k, r, s} W[k, c, r, s] * dY[k, n, p, q] over (p, q) with
// p*stride + r - pad = h and q*stride + s - pad = w. Needs w's transposed index (CsrMatrix::view(true)): parallel
// over images, input channels walk their columns. FLOPs counted: 2 * nnz * N*P*Q.
void SparseConv2dBackwardInput(const Conv2dParams& params, const CsrView& w, ConstDenseView d_y, DenseView d_x);

// d_w_values[p] += sum_{n, p', q} dY[k, n, p', q] * X[c, n, p'*stride + r - pad, q*stride + s - pad] for each
// stored position p = (k; c, r, s) of w's pattern (w's values are not read). d_w_values has nnz entries.
// FLOPs counted: 2 * nnz * N*P*Q.
void SparseConv2dBackwardWeight(const Conv2dParams& params, const CsrView& w, ConstDenseView d_y, ConstDenseView x,
                                float* d_w_values);

// Reference twins: direct loops over nonzeros and output pixels, single-threaded, same contracts (the input
// gradient twin does not need the transposed index).
void SparseConv2dForwardNaive(const Conv2dParams& params, const CsrView& w, ConstDenseView x, DenseView y,
                              const float* bias = nullptr, bool relu = false);
void SparseConv2dBackwardInputNaive(const Conv2dParams& params, const CsrView& w, ConstDenseView d_y,
                                    DenseView d_x);
void SparseConv2dBackwardWeightNaive(const Conv2dParams& params, const CsrView& w, ConstDenseView d_y,
                                     ConstDenseView x, float* d_w_values);

}  // namespace engine::kernels

#endif  // ENGINE_KERNELS_SPARSE_CONV2D_H_
