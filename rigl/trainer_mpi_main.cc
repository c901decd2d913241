// `mpirun -np N bazel-bin/rigl/trainer_mpi [flags]`: the data-parallel trainer. Every rank runs the same command
// line (rigl/trainer_cli.h); rank 0 prints and writes, the others' standard output is discarded (their errors still
// reach stderr, prefixed with the rank). A rank that fails ends the whole job at once with its exit code
// (MPI_Abort), so no rank waits forever in a collective for one that is gone.
#include <cstdio>

#include "engine/base/check.h"
#include "engine/dist/mpi_communicator.h"
#include "rigl/trainer_cli.h"

int main(int argc, char** argv) {
  std::unique_ptr<engine::dist::Communicator> comm;
  try {
    comm = engine::dist::InitMpi(&argc, &argv);
  } catch (const engine::Error& e) {
    std::fprintf(stderr, "trainer_mpi: error: %s\n", engine::Describe(e).c_str());
    return 1;
  }
  if (!comm->root() && std::freopen("/dev/null", "w", stdout) == nullptr) {
    std::fprintf(stderr, "trainer_mpi (%s): cannot silence standard output\n", comm->Describe().c_str());
  }
  const int code = rigl::RunTrainerCli(argc, argv, *comm);
  if (code != 0 && comm->size() > 1) comm->Abort(code);
  return code;
}
