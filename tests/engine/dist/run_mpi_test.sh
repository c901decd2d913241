#!/usr/bin/env bash
# Runs an MPI test binary ($1) under mpirun on 1, 2 and 3 ranks of this machine (shared memory transport,
# --oversubscribe: more ranks than cores). Every rank runs every test; rank 0 writes the XML report of the last run.
set -u
bin="$1"
for n in 1 2 3; do
  echo "=== $bin on $n rank(s)"
  timeout 300 mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np "$n" "$bin" || {
    echo "FAIL: $bin on $n rank(s)"; exit 1; }
done
