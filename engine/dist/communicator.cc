// The ring collectives of Communicator and the single-process stand-in (see communicator.h).
#include "engine/dist/communicator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "engine/base/check.h"

namespace engine::dist {

std::string Communicator::Describe() const {
  return "rank " + std::to_string(rank()) + " of " + std::to_string(size());
}

void Communicator::AllreduceSum(float* data, int64_t n) {
  const int p = size();
  if (p == 1 || n == 0) return;
  const int r = rank();
  const int next = (r + 1) % p, prev = (r + p - 1) % p;
  // Chunk c is [Begin(c), Begin(c + 1)): the first n % p chunks hold one float more.
  auto begin = [&](int c) { return static_cast<int64_t>(c) * (n / p) + std::min<int64_t>(c, n % p); };
  auto length = [&](int c) { return begin(c + 1) - begin(c); };
  incoming_.resize(static_cast<size_t>(n / p + 1));
  // Reduce-scatter: at step s rank r passes on its partial sum of chunk (r - s) and adds its own values to the
  // partial sum of chunk (r - s - 1) it receives. Chunk c starts at rank c and ends, complete, at rank c - 1.
  for (int s = 0; s < p - 1; ++s) {
    const int send_c = (r - s + 2 * p) % p, recv_c = (r - s - 1 + 2 * p) % p;
    SendRecv(data + begin(send_c), length(send_c) * 4, next, incoming_.data(), length(recv_c) * 4, prev);
    float* mine = data + begin(recv_c);
    const float* partial = incoming_.data();
    for (int64_t i = 0; i < length(recv_c); ++i) mine[i] = partial[i] + mine[i];
  }
  // All-gather: the complete chunks travel on around the ring and are copied, so every rank ends with the same bits.
  for (int s = 0; s < p - 1; ++s) {
    const int send_c = (r + 1 - s + 2 * p) % p, recv_c = (r - s + 2 * p) % p;
    SendRecv(data + begin(send_c), length(send_c) * 4, next, data + begin(recv_c), length(recv_c) * 4, prev);
  }
}

void SingleProcess::Allgather(const void* send, int64_t bytes, void* recv) {
  if (bytes > 0) std::memmove(recv, send, static_cast<size_t>(bytes));
}

void SingleProcess::Abort(int code) { std::exit(code); }

void SingleProcess::SendRecv(const void*, int64_t, int, void*, int64_t, int) {
  ENGINE_CHECK(false, "SingleProcess::SendRecv: a single process has no other rank to exchange with");
}

std::string BroadcastString(Communicator& comm, const std::string& text, int root) {
  int64_t length = static_cast<int64_t>(text.size());
  comm.Broadcast(&length, sizeof(length), root);
  std::string out = comm.rank() == root ? text : std::string(static_cast<size_t>(length), '\0');
  comm.Broadcast(out.data(), length, root);
  return out;
}

std::vector<uint64_t> AllgatherU64(Communicator& comm, uint64_t value) {
  std::vector<uint64_t> all(static_cast<size_t>(comm.size()));
  comm.Allgather(&value, sizeof(value), all.data());
  return all;
}

std::vector<double> AllgatherDoubles(Communicator& comm, const std::vector<double>& values) {
  std::vector<double> all(values.size() * static_cast<size_t>(comm.size()));
  comm.Allgather(values.data(), static_cast<int64_t>(values.size() * sizeof(double)), all.data());
  return all;
}

}  // namespace engine::dist
