// Communicator over MPI (Debian's OpenMPI): MPI_COMM_WORLD, point-to-point MPI_Sendrecv for the ring of
// AllreduceSum, MPI_Allgather and MPI_Bcast for the small exchanges. Only //rigl:trainer_mpi and the MPI tests link
// it; everything else sees the Communicator interface.
#ifndef ENGINE_DIST_MPI_COMMUNICATOR_H_
#define ENGINE_DIST_MPI_COMMUNICATOR_H_

#include <memory>

#include "engine/dist/communicator.h"

namespace engine::dist {

// Initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP workers never do) and returns the
// world communicator. MPI is finalised when it is destroyed. Call once per process.
std::unique_ptr<Communicator> InitMpi(int* argc, char*** argv);

}  // namespace engine::dist

#endif  // ENGINE_DIST_MPI_COMMUNICATOR_H_
