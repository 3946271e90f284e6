#!/usr/bin/env bash
# Builds libFuzzer harnesses (clang, libFuzzer + AddressSanitizer + UBSan) into $W2V_FUZZ_DIR
# (default build-fuzz/): every fuzz/fuzz_<name>.cpp becomes $W2V_FUZZ_DIR/fuzz_<name>.
#   fuzz/build.sh            all harnesses
#   fuzz/build.sh NAME...    only fuzz_<NAME> (NAME without the fuzz_ prefix)
#
# Adding a harness needs no edit here. Its first lines (before any code) declare:
#   // fuzz-sources: src/a/x.cpp src/a/y.cpp      project sources to compile in (may repeat)
#   // fuzz-libs: -lz -lsndfile                    extra link flags (optional, may repeat)
#   // fuzz-options: -max_len=65536                libFuzzer flags fuzz/run.sh passes (optional)
# Seeds go in fuzz/corpus/<name>/ (small, real-shaped files; fuzz/run.sh refuses an empty one).
# Objects are shared between harnesses and rebuilt when a source or a header it includes changes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${W2V_FUZZ_DIR:-build-fuzz}
JOBS=${W2V_FUZZ_JOBS:-$(nproc)}
mkdir -p "$OUT/obj"
# Several people (and ctest) may build at once, sharing objects: every output is written to a
# temporary name and renamed into place, so a reader never sees half a file (at worst two
# builds compile the same object twice).

CXXFLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer
          -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
          -D_GLIBCXX_USE_CXX11_ABI=1 -Isrc -isystem /usr/include/torch/csrc/api/include)
LINKFLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

# header_values FILE KEY: the words after "// KEY:" in the file's leading comment block.
header_values() {
  awk -v key="// $2:" '
    /^[[:space:]]*$/ { next }
    !/^[[:space:]]*\/\// { exit }
    index($0, key) == 1 { print substr($0, length(key) + 1) }' "$1" | tr '\n' ' '
}

# stale OBJ: true when OBJ is missing or older than a file its dependency list names.
stale() {
  local o=$1 d=${1%.o}.d
  [ -f "$o" ] && [ -f "$d" ] || return 0
  local f
  for f in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$d"); do
    [ "$f" -nt "$o" ] && return 0
  done
  return 1
}

compile() {  # compile SRC OBJ
  local tmp="$2.tmp.$$" start
  start=$(date +%s.%N)
  # The object is dated when compiling started: a source edited meanwhile stays newer and is
  # compiled again next time.
  nice -n 5 clang++ "${CXXFLAGS[@]}" -MMD -MF "$tmp.d" -MT "$2" -c "$1" -o "$tmp" &&
    touch -d "@$start" "$tmp" && mv -f "$tmp.d" "${2%.o}.d" && mv -f "$tmp" "$2" || { rm -f "$tmp" "$tmp.d"; return 1; }
}

if (($#)); then
  harnesses=()
  for n in "$@"; do harnesses+=("fuzz/fuzz_${n#fuzz_}.cpp"); done
else
  harnesses=(fuzz/fuzz_*.cpp)
fi

status=0
for h in "${harnesses[@]}"; do
  [ -f "$h" ] || { echo "fuzz/build.sh: no harness $h" >&2; exit 2; }
  name=$(basename "$h" .cpp)
  read -r -a sources <<<"$(header_values "$h" fuzz-sources)"
  read -r -a libs <<<"$(header_values "$h" fuzz-libs)"
  objects=()
  running=0
  failed=0
  for s in "$h" "${sources[@]}"; do
    [ -f "$s" ] || { echo "fuzz/build.sh: $h lists $s, which does not exist" >&2; exit 2; }
    o="$OUT/obj/$(echo "${s%.cpp}" | tr / _).o"
    objects+=("$o")
    if stale "$o"; then
      echo "  compile $s"
      compile "$s" "$o" &
      running=$((running + 1))
      if ((running >= JOBS)); then wait -n || failed=1; running=$((running - 1)); fi
    fi
  done
  while ((running > 0)); do wait -n || failed=1; running=$((running - 1)); done
  if ((failed)); then echo "fuzz/build.sh: compiling $name failed" >&2; status=1; continue; fi
  relink=0
  [ -f "$OUT/$name" ] || relink=1
  for o in "${objects[@]}"; do [ "$o" -nt "$OUT/$name" ] && relink=1; done
  if ((relink)); then
    nice -n 5 clang++ "${LINKFLAGS[@]}" "${objects[@]}" -o "$OUT/$name.tmp.$$" "${libs[@]}" -lpthread &&
      mv -f "$OUT/$name.tmp.$$" "$OUT/$name" || { rm -f "$OUT/$name.tmp.$$"; status=1; continue; }
    echo "built $OUT/$name"
  fi
done
exit $status
