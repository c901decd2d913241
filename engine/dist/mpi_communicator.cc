// MPI implementation of Communicator (see mpi_communicator.h).
#include "engine/dist/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>

#include "engine/base/check.h"

namespace engine::dist {
namespace {

// MPI counts are int: larger messages go in pieces of at most this many bytes.
constexpr int64_t kMaxPiece = int64_t{1} << 30;

void Check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  ENGINE_CHECK(false, what, " failed: ", std::string(text, static_cast<size_t>(length)));
}

class Mpi final : public Communicator {
 public:
  Mpi() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // Errors come back as codes (and become engine::Error) instead of MPI's default of aborting silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  ~Mpi() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void Allgather(const void* send, int64_t bytes, void* recv) override {
    ENGINE_CHECK(bytes <= kMaxPiece, "Allgather: ", bytes, " bytes per rank; expected at most ", kMaxPiece);
    Check(MPI_Allgather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes), MPI_BYTE,
                        MPI_COMM_WORLD),
          "MPI_Allgather");
    bytes_sent_ += bytes;
  }
  void Broadcast(void* data, int64_t bytes, int root) override {
    for (int64_t at = 0; at < bytes; at += kMaxPiece) {
      const int piece = static_cast<int>(std::min(kMaxPiece, bytes - at));
      Check(MPI_Bcast(static_cast<char*>(data) + at, piece, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
    if (rank_ == root) bytes_sent_ += bytes;
  }
  [[noreturn]] void Abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; in case it does
  }

 protected:
  void SendRecv(const void* send, int64_t send_bytes, int to, void* recv, int64_t recv_bytes, int from) override {
    // Both sides cut the same ring message into the same pieces, so piece i always meets piece i.
    const int64_t pieces = std::max<int64_t>(1, (std::max(send_bytes, recv_bytes) + kMaxPiece - 1) / kMaxPiece);
    for (int64_t i = 0; i < pieces; ++i) {
      const int64_t s0 = std::min(send_bytes, i * kMaxPiece), s1 = std::min(send_bytes, (i + 1) * kMaxPiece);
      const int64_t r0 = std::min(recv_bytes, i * kMaxPiece), r1 = std::min(recv_bytes, (i + 1) * kMaxPiece);
      Check(MPI_Sendrecv(static_cast<const char*>(send) + s0, static_cast<int>(s1 - s0), MPI_BYTE, to, 0,
                         static_cast<char*>(recv) + r0, static_cast<int>(r1 - r0), MPI_BYTE, from, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
    }
    bytes_sent_ += send_bytes;
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> InitMpi(int* argc, char*** argv) {
  int provided = 0;
  const int code = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  ENGINE_CHECK(code == MPI_SUCCESS, "MPI_Init_thread failed with code ", code);
  ENGINE_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI_Init_thread: the MPI library provides thread level ", provided,
               "; expected at least MPI_THREAD_FUNNELED (", MPI_THREAD_FUNNELED, ")");
  return std::make_unique<Mpi>();
}

}  // namespace engine::dist
