#!/usr/bin/env bash
# mpirun's launcher for data_parallel_test's two-namespace run: OpenMPI calls it as an ssh would be called,
# `netns_rsh.sh [ssh options] HOST COMMAND...`, and it runs COMMAND inside the network namespace that NETNS_MAP
# ("10.77.0.1=ns_a,10.77.0.2=ns_b") assigns to HOST, so each rank's traffic leaves through that namespace's veth.
set -u
while [[ $# -gt 0 && "$1" == -* ]]; do shift; done
host="$1"; shift
IFS=',' read -ra pairs <<< "${NETNS_MAP:-}"
for pair in "${pairs[@]}"; do
  if [[ "${pair%%=*}" == "$host" ]]; then exec ip netns exec "${pair#*=}" /bin/sh -c "$*"; fi
done
echo "netns_rsh.sh: host $host is not in NETNS_MAP=${NETNS_MAP:-}" >&2
exit 1
