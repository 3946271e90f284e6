#!/bin/bash
# `w2v transcribe` memory and speed on long audio (docs/BENCHMARKS.md, Decoding):
#   bench/decode/transcribe.sh BUILD_DIR [WORK_DIR]
# Peak RSS and wall time on 1 minute and 1 hour of espeak-ng speech (one sentence repeated)
# with a tiny random CTC model, so that the numbers show what grows with the file's length; then
# x-realtime of a random BASE model on the 1-minute file with --threads 2. Needs sox, espeak-ng
# and GNU time; BUILD_DIR must hold w2v and bench/decode/bench_random_ctc.
set -euo pipefail
build=$(realpath "$1")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
espeak-ng -w speech.wav "the quick brown fox jumps over the lazy dog while the cat sleeps by the warm fire and the birds sing outside"
sox speech.wav -r 16000 -c 1 -b 16 sentence.wav
sox sentence.wav minute.wav repeat 9   # 10 copies, 63 s
sox sentence.wav hour.wav repeat 571   # 572 copies, 3602 s
"$build/bench/decode/bench_random_ctc" tiny.pt tiny
"$build/bench/decode/bench_random_ctc" base.pt base

# run NAME -- command...: prints peak RSS (MiB), wall seconds and x-realtime of the audio file
# given as the command's third word.
run() {
  local name=$1 audio=$4
  shift
  /usr/bin/time -v "$@" -o transcript.txt 2> time.log || { cat time.log; exit 1; }
  local rss wall seconds
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' time.log)
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' time.log | awk -F: '{s=0; for (i=1;i<=NF;i++) s=s*60+$i; print s}')
  seconds=$(soxi -D "$audio")
  awk -v n="$name" -v r="$rss" -v w="$wall" -v s="$seconds" \
    'BEGIN {printf "%-28s audio %7.1f s  peak RSS %7.1f MiB  wall %7.2f s  %6.1f x-realtime\n", n, s, r/1024, w, s/w}'
}
echo "$(date -u '+%F %H:%M UTC'), $(nproc) cores, load:$(uptime | sed 's/.*load average://')"
run "tiny, 1 min, 1 thread" "$build/w2v" transcribe minute.wav --path tiny.pt --threads 1
run "tiny, 1 hour, 1 thread" "$build/w2v" transcribe hour.wav --path tiny.pt --threads 1
run "BASE, 1 min, 2 threads" "$build/w2v" transcribe minute.wav --path base.pt --threads 2
echo "load after:$(uptime | sed 's/.*load average://')"
