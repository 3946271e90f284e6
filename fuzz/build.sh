#!/usr/bin/env bash
# Builds fuzz/fuzz_torch_file with clang's libFuzzer + AddressSanitizer + UBSan into build-fuzz/.
# Run: build-fuzz/fuzz_torch_file -max_len=65536 -rss_limit_mb=2048 CORPUS_DIR
# (a corpus: any .pt / .safetensors files, e.g. those tools/oracle/ckpt_fixtures.py makes).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build-fuzz
mkdir -p "$OUT"
FLAGS=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -D_GLIBCXX_USE_CXX11_ABI=1 -Isrc -isystem /usr/include/torch/csrc/api/include)
SOURCES=(fuzz/fuzz_torch_file.cpp src/checkpoint/value.cpp src/checkpoint/pickle.cpp src/checkpoint/zip.cpp
         src/checkpoint/mapped_file.cpp src/checkpoint/torch_file.cpp src/checkpoint/safetensors.cpp
         src/util/error.cpp src/util/fs.cpp)
objects=()
for s in "${SOURCES[@]}"; do
  o="$OUT/$(basename "$s" .cpp).o"
  [ "$o" -nt "$s" ] || clang++ "${FLAGS[@]}" -c "$s" -o "$o"
  objects+=("$o")
done
clang++ "${FLAGS[@]}" "${objects[@]}" -o "$OUT/fuzz_torch_file" \
  -ltorch -ltorch_cpu -lc10 -lfmt -lz -lpthread
echo "built $OUT/fuzz_torch_file"
