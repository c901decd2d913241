#!/usr/bin/env bash
# Installs every Debian package this project needs, and nothing twice: it asks dpkg what is already installed and
# runs apt-get only for what is missing. Safe to run again. Works as root on a fresh machine with an empty apt
# cache (or through sudo).
set -euo pipefail

packages=(
  bazel-bootstrap         # Bazel 4.2.3, builds offline with the stand-ins in third_party/
  g++                     # C++17 compiler with OpenMP (-fopenmp)
  libgtest-dev            # GoogleTest
  libgmock-dev            # GoogleMock (matchers)
  libbenchmark-dev        # Google Benchmark
  libopenblas-openmp-dev  # dense sgemm baseline, OpenMP build (shares our thread pool)
  libgflags-dev           # trainer flags
  nlohmann-json3-dev      # config.json / metrics.jsonl
  zlib1g-dev              # reading the gzip'd IDX data set
  dataset-fashion-mnist   # the default training data, in /usr/share/datasets/fashion-mnist
  gnuplot-nox             # PNG plots of benchmark and evidence results
  clang-14                # tools/fuzz.sh: libFuzzer targets with ASan + UBSan
  libclang-rt-14-dev      # clang's fuzzer and sanitizer runtimes
  python3-torch           # tools/torch_eval.py (the PyTorch round trip of --export) and bench/peers; for /usr/bin/python3
  libopenmpi-dev          # MPI headers and libmpi for //rigl:trainer_mpi (data-parallel training)
  openmpi-bin             # mpirun, for the data-parallel trainer and its tests
  python3-torchvision     # the round trip loads exported MobileNet v2 into torchvision's own model (names, shapes)
  bible-kjv               # the King James Bible (with bible-kjv-text): --model=gru_lm's default text, see below
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} required Debian packages are already installed."
else
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
  echo "setup: apt-get update"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "setup: done."
fi
# The character-level language model's default text (--text_file): the whole King James Bible as plain text, one
# verse per line without its reference, written once (to a temporary file, then renamed).
kjv=/var/lib/rigl/kjv.txt
if [[ ! -s $kjv ]]; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo mkdir -p "$(dirname "$kjv")"
  tmp=$(mktemp)
  bible -f gen1:1-rev22:21 </dev/null | sed -E 's/^[^ ]+ //' >"$tmp"
  [[ $(wc -c <"$tmp") -gt 4000000 ]] || { echo "setup: bible printed only $(wc -c <"$tmp") bytes" >&2; exit 1; }
  $sudo install -m 644 "$tmp" "$kjv.tmp" && $sudo mv "$kjv.tmp" "$kjv"
  rm -f "$tmp"
  echo "setup: wrote the King James Bible text to $kjv ($(wc -c <"$kjv") bytes)"
fi
command -v bazel >/dev/null || { echo "setup: bazel is still not on PATH after installing bazel-bootstrap" >&2; exit 1; }
