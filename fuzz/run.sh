#!/usr/bin/env bash
# Builds (fuzz/build.sh) and runs libFuzzer harnesses on their seed corpora; exits non-zero on
# any finding (crash, sanitizer report, leak, timeout, out-of-memory) or when a harness fails to build.
#   fuzz/run.sh NAME|all SECONDS [RUNS]
#     NAME     harness fuzz/fuzz_<NAME>.cpp; all = every harness
#     SECONDS  time per harness (0 = no time limit, then RUNS must be given)
#     RUNS     stop after this many executions (e.g. 1000000 for the reliability runs)
# Seeds: fuzz/corpus/<NAME>/ (committed, must not be empty). New inputs libFuzzer finds go to
# $W2V_FUZZ_DIR/corpus/<NAME>/ (default build-fuzz/), findings to $W2V_FUZZ_DIR/findings/<NAME>/;
# a finding is reproduced with: $W2V_FUZZ_DIR/fuzz_<NAME> FILE.
# Prints one summary line per harness: name, executions, seconds, result.
# W2V_FUZZ_TIMEOUT: seconds (wall clock) after which one input counts as a hang (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)); then echo "usage: fuzz/run.sh NAME|all SECONDS [RUNS]" >&2; exit 2; fi
OUT=${W2V_FUZZ_DIR:-build-fuzz}
SECONDS_EACH=$2
RUNS=${3:-}
if [ "$SECONDS_EACH" = 0 ] && [ -z "$RUNS" ]; then echo "fuzz/run.sh: SECONDS 0 needs RUNS" >&2; exit 2; fi

if [ "$1" = all ]; then
  names=()
  for h in fuzz/fuzz_*.cpp; do n=$(basename "$h" .cpp); names+=("${n#fuzz_}"); done
else
  names=("${1#fuzz_}")
fi
fuzz/build.sh "${names[@]}"

status=0
for n in "${names[@]}"; do
  seeds=fuzz/corpus/$n
  if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
    echo "fuzz/run.sh: no seed corpus $seeds (add real-shaped files)" >&2; status=1; continue
  fi
  work=$OUT/corpus/$n
  findings=$OUT/findings/$n
  log=$OUT/logs/$n.log
  mkdir -p "$work" "$findings" "$OUT/logs"
  opts=()
  read -r -a opts <<<"$(awk -v key="// fuzz-options:" '
    /^[[:space:]]*$/ { next }
    !/^[[:space:]]*\/\// { exit }
    index($0, key) == 1 { print substr($0, length(key) + 1) }' "fuzz/fuzz_$n.cpp" | tr '\n' ' ')"
  # -timeout is wall-clock: 60 s keeps a starved process on a loaded machine from reading as a
  # hang. Under `nice -n 19` beside full-speed builds a process gets well under 1 % of a core, and
  # a 10 ms unit then took 61 s (torch_file, 2026-11-30; the input reruns in 10 ms): such long
  # background runs set W2V_FUZZ_TIMEOUT (seconds) higher; a real hang never ends.
  limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 "-timeout=${W2V_FUZZ_TIMEOUT:-60}")
  [ "$SECONDS_EACH" != 0 ] && limits+=("-max_total_time=$SECONDS_EACH")
  [ -n "$RUNS" ] && limits+=("-runs=$RUNS")
  start=$(date +%s.%N)
  # Seeds are read-only input: the first corpus folder receives what libFuzzer finds.
  if nice -n 5 "$OUT/fuzz_$n" "${limits[@]}" "${opts[@]}" -print_final_stats=1 \
       -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log and $findings/)"
    status=1
    tail -n 40 "$log" >&2
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  printf 'fuzz %-16s executions %-10s seconds %-8.1f %s\n' "$n" "${execs:-?}" "$secs" "$result"
done
exit $status
