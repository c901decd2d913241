// The ranks of a data-parallel run as the trainer sees them: who am I, how many are we, and the few collectives
// data-parallel training needs. Two implementations: SingleProcess (this file: one rank, every collective a no-op)
// and the MPI one (mpi_communicator.h, linked only into //rigl:trainer_mpi), so the default trainer never needs MPI
// at run time.
//
// Determinism: AllreduceSum is a ring reduce-scatter then a ring all-gather written here over point-to-point
// exchanges, not MPI_Allreduce (whose summation order depends on the algorithm the MPI library picks for the message
// size and rank count). Element i of the result is always ((x_c + x_{c+1}) + ...) + x_{c-1} over the ranks, starting
// at rank c = the chunk holding i, so for a given rank count the sum is the same bit for bit on every rank and every
// run. It is not the single-rank sum of the same numbers: float addition does not reassociate.
#ifndef ENGINE_DIST_COMMUNICATOR_H_
#define ENGINE_DIST_COMMUNICATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace engine::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool root() const { return rank() == 0; }
  // "rank 1 of 2", for messages.
  std::string Describe() const;

  // data[0, n) := the sum over ranks of every rank's data[0, n), identical on every rank (see the file comment).
  // Sends 2 (size - 1) / size x n floats per rank.
  void AllreduceSum(float* data, int64_t n);
  // recv[r * bytes, (r + 1) * bytes) := rank r's send[0, bytes), on every rank. recv holds size() x bytes.
  virtual void Allgather(const void* send, int64_t bytes, void* recv) = 0;
  // data[0, bytes) := root's data[0, bytes) on every rank.
  virtual void Broadcast(void* data, int64_t bytes, int root) = 0;
  // Ends every rank of the job now with exit code `code` (after this rank's message has been printed).
  [[noreturn]] virtual void Abort(int code) = 0;

  // Payload bytes this rank has sent so far, over every collective.
  int64_t bytes_sent() const { return bytes_sent_; }

 protected:
  // One step of a ring: sends send[0, send_bytes) to rank `to` while receiving recv[0, recv_bytes) from `from`.
  virtual void SendRecv(const void* send, int64_t send_bytes, int to, void* recv, int64_t recv_bytes, int from) = 0;
  int64_t bytes_sent_ = 0;

 private:
  std::vector<float> incoming_;  // AllreduceSum's receive buffer: one chunk
};

// One process: rank 0 of 1; AllreduceSum, Allgather and Broadcast leave the data as it is (Allgather copies).
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void Allgather(const void* send, int64_t bytes, void* recv) override;
  void Broadcast(void*, int64_t, int) override {}
  [[noreturn]] void Abort(int code) override;

 protected:
  void SendRecv(const void*, int64_t, int, void*, int64_t, int) override;
};

// Broadcasts root's string to every rank (its length first).
std::string BroadcastString(Communicator& comm, const std::string& text, int root);
// Every rank's `value`, in rank order.
std::vector<uint64_t> AllgatherU64(Communicator& comm, uint64_t value);
std::vector<double> AllgatherDoubles(Communicator& comm, const std::vector<double>& values);

}  // namespace engine::dist

#endif  // ENGINE_DIST_COMMUNICATOR_H_
