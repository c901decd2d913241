// `bazel run //:trainer -- [flags]`: the single-process trainer (rigl/trainer_cli.h). It does not link MPI.
#include "engine/dist/communicator.h"
#include "rigl/trainer_cli.h"

int main(int argc, char** argv) {
  engine::dist::SingleProcess one;
  return rigl::RunTrainerCli(argc, argv, one);
}
