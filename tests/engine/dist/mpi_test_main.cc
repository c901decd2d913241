// main() of the tests that run under mpirun: initialises MPI, runs every test on every rank, and lets rank 0 alone
// write the XML report. The exit code is 0 only when every rank passed.
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "engine/dist/mpi_communicator.h"
#include "tests/engine/dist/mpi_test_env.h"

namespace engine::dist::testing {
Communicator* world = nullptr;
}  // namespace engine::dist::testing

int main(int argc, char** argv) {
  std::unique_ptr<engine::dist::Communicator> comm = engine::dist::InitMpi(&argc, &argv);
  engine::dist::testing::world = comm.get();
  // Only rank 0 may write the XML report. gtest sets up its XML writer inside InitGoogleTest, so the flag must be
  // cleared before it; and in case --gtest_output came on the command line, the writer is also removed after it.
  // (Clearing the flag only after InitGoogleTest let every rank write the same file at once: the reports overlapped
  // into an unparsable test.xml now and then, which CI counted as a failure.)
  if (!comm->root()) ::testing::GTEST_FLAG(output) = "";
  ::testing::InitGoogleTest(&argc, argv);
  if (!comm->root()) {
    ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_xml_generator());
  }
  const int mine = RUN_ALL_TESTS();
  const std::vector<uint64_t> all = engine::dist::AllgatherU64(*comm, static_cast<uint64_t>(mine));
  int worst = 0;
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r] != 0) {
      std::fprintf(stderr, "rank %zu of %zu: some test failed\n", r, all.size());
      worst = 1;
    }
  }
  return worst;
}
