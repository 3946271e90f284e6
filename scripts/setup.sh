#!/usr/bin/env bash
# Installs every Debian package w2v needs (build, tests, oracle, corpus tools) and builds
# build/ in Release. Idempotent: a second run installs nothing and rebuilds only what changed.
#   W2V_BUILD_DIR  build directory (default: build)
#   W2V_JOBS       parallel compile jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  libtorch-dev libgloo-dev libsndfile1-dev libsoxr-dev libyaml-cpp-dev libcli11-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcpp-httplib-dev zlib1g-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (fuzz/build.sh, ctest fuzz_smoke): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # an optimized BLAS for LibTorch (and the oracle): Debian's libtorch calls whatever provides
  # libblas.so.3, and the reference BLAS it falls back to made a BASE forward 18x slower
  libopenblas0-openmp
  # oneDNN: the inference kernels (src/model/onednn.h) call its primitives
  libdnnl-dev
  # oracle (reference implementation for parity tests)
  python3 python3-torch python3-torchaudio python3-numpy
  python3-omegaconf  # fairseq checkpoints of 2020-10..2021-03 pickle omegaconf DictConfig objects
  # the Python module w2v (python/), and the browser that tests w2v serve's page
  pybind11-dev python3-dev chromium chromium-driver
  # multi-node training tests (tests/train/test_multinode.cpp): network namespaces, veth pairs
  iproute2
  # speech corpus and plots
  sox espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
  r-cran-janeaustenr gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${W2V_BUILD_DIR:-build}
JOBS=${W2V_JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2V_BUILD_PYTHON=ON
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
