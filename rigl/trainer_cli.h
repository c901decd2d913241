// The trainer's command line, shared by its two programs: //rigl:trainer (one process, no MPI needed at run time)
// and //rigl:trainer_mpi (data-parallel under mpirun). Parses and validates the flags, checks that every rank got
// the same ones, prepares --out_dir (rank 0) and trains. Returns the exit code: 0, 2 for a bad flag, 1 for any
// other failure, each printed with what was given and what was expected.
#ifndef RIGL_TRAINER_CLI_H_
#define RIGL_TRAINER_CLI_H_

#include "engine/dist/communicator.h"

namespace rigl {

int RunTrainerCli(int argc, char** argv, engine::dist::Communicator& comm);

}  // namespace rigl

#endif  // RIGL_TRAINER_CLI_H_
