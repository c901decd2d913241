// The world communicator of a test binary run under mpirun (mpi_test_main.cc sets it before any test runs).
#ifndef TESTS_ENGINE_DIST_MPI_TEST_ENV_H_
#define TESTS_ENGINE_DIST_MPI_TEST_ENV_H_

#include "engine/dist/communicator.h"

namespace engine::dist::testing {
extern Communicator* world;
}  // namespace engine::dist::testing

#endif  // TESTS_ENGINE_DIST_MPI_TEST_ENV_H_
