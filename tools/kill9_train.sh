#!/usr/bin/env bash
# kill -9 at random points of `w2v train` (a checkpoint is saved every update), single- and
# multi-process, resuming after each (kills spread over the run, about two updates apart); every
# third kill is aimed inside a save: a watcher (inotify) sees the temporary file of a checkpoint
# being written appear and kills 0-2 ms later, while the file is written or fsync'd, before its
# rename. Then it checks that
#  - every resume continued from the last checkpoint_last.pt (its num_updates),
#  - no checkpoint file is corrupt (each loads with torch.load) and no temp file survives,
#  - no worker outlived a killed parent (multi), and
#  - the trajectory (loss and gnorm of every update, final weights) equals an uninterrupted run.
#   tools/kill9_train.sh [--w2v BIN] [--kills N] [--updates U] [--mode single|multi|both]
#                        [--workdir DIR] [--seed S] [--aim-first] [--min-aimed A]
# --aim-first: the aimed kills are kills 1, 4, 7 ... (a run that starts from nothing always has a
# save ahead of it) instead of 3, 6, 9 ...; --min-aimed A: fail unless at least A kills per mode
# landed in a save the watcher saw start (default 0). ctest's quick run uses both, so that its
# one aimed kill must hit a save (with its third kill aimed, earlier kills sometimes let the
# short run finish first).
# Multi-process runs kill the parent on odd kills and a worker on even ones (in a save: the
# worker writing it). A kill that left a temp file behind counts as "in a save"; the next start
# must remove it. Exit 0 when every check holds; the summary line per mode goes to stdout
# (docs/reliability.md records one).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
w2v="$repo/build/w2v"
kills=10
updates=12
mode=both
workdir="${TMPDIR:-/tmp}/w2v_kill9"
seed=$$
aim_shift=0
min_aimed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --w2v) w2v="$2"; shift 2 ;;
    --kills) kills="$2"; shift 2 ;;
    --updates) updates="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --aim-first) aim_shift=2; shift ;;
    --min-aimed) min_aimed="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kill9_train.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$mode" in single|multi|both) ;; *) echo "kill9_train.sh: --mode must be single, multi or both" >&2; exit 2 ;; esac
[ -x "$w2v" ] || { echo "kill9_train.sh: no w2v binary at $w2v (--w2v)" >&2; exit 2; }
py=/usr/bin/python3  # the one with torch (the oracle's)
RANDOM=$seed
rm -rf "$workdir"
mkdir -p "$workdir"
fail() { echo "kill9_train.sh: FAIL ($1): $2" >&2; exit 1; }

# The tests' tiny corpus: letters as tones, 8 training and 4 validation utterances.
"$py" - "$workdir/data" <<'EOF'
import math, os, struct, sys, wave
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
words = ["AB", "BA", "CAB", "ABC", "CC", "BCA", "AAB", "CBA", "BB", "ACB"]
def split(name, first, count):
    tsv, ltr = [d], []
    for i in range(count):
        w = words[(first + i) % len(words)]
        x = [0.5 * math.sin(2 * math.pi * (300 + 250 * (ord(c) - 65)) * n / 16000) + 0.01 * math.sin(0.37 * (n + 13 * i))
             for c in w for n in range(1000)] + [0.001] * 600
        f = "%s%d.wav" % (name, i)
        with wave.open(os.path.join(d, f), "wb") as o:
            o.setnchannels(1); o.setsampwidth(2); o.setframerate(16000)
            o.writeframes(b"".join(struct.pack("<h", int(round(v * 32767))) for v in x))
        tsv.append("%s\t%d" % (f, len(x))); ltr.append(" ".join(w) + " |")
    open(os.path.join(d, name + ".tsv"), "w").write("\n".join(tsv) + "\n")
    open(os.path.join(d, name + ".ltr"), "w").write("\n".join(ltr) + "\n")
split("train", 0, 8); split("valid", 3, 4)
EOF

mapfile -t tiny < "$repo/tests/common/tiny_model.overrides"  # the tests' tiny model (tests/common/tiny_model.h)
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# kill_in_save DIR PARENT WHO SECONDS: waits (inotify) for a checkpoint's temporary file
# (NAME.tmp.WRITERPID) to appear in DIR, then 0-2 ms later sends SIGKILL to PARENT (WHO=parent)
# or to the writer (WHO=writer); after SECONDS without a save it kills PARENT anyway. Prints
# "save", "timeout" or "exited" (PARENT ended first).
kill_in_save() {
  "$py" - "$@" "$RANDOM" <<'EOF'
import ctypes, os, random, select, signal, struct, sys, time
d, parent, who, seconds, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
IN_CREATE = 0x100
if fd < 0 or libc.inotify_add_watch(fd, d.encode(), IN_CREATE) < 0: sys.exit("inotify failed")
end = time.monotonic() + seconds
while time.monotonic() < end:
    if not select.select([fd], [], [], 0.05)[0]:
        try: os.kill(parent, 0)
        except ProcessLookupError: print("exited"); sys.exit(0)
        continue
    buf = os.read(fd, 65536)
    at = 0
    while at < len(buf):
        _, mask, _, n = struct.unpack_from("iIII", buf, at)
        name = buf[at + 16:at + 16 + n].rstrip(b"\0").decode()
        at += 16 + n
        writer = name.rsplit(".tmp.", 1)[-1]
        if ".tmp." in name and writer.isdigit():
            time.sleep(random.uniform(0, 0.002))
            try: os.kill(int(writer) if who == "writer" else parent, signal.SIGKILL)
            except ProcessLookupError: pass
            print("save"); sys.exit(0)
try: os.kill(parent, signal.SIGKILL)
except ProcessLookupError: pass
print("timeout")
EOF
}

# train DIR LOG [extra overrides...]: starts a run in the background; sets $pid.
train() {
  local dir="$1" log="$2"; shift 2
  local extra=()
  if [ "$m" = multi ]; then
    extra=(distributed_training.distributed_world_size=2 distributed_training.nprocs_per_node=2
           "distributed_training.distributed_init_method=tcp://127.0.0.1:$(free_port)")
  fi
  "$w2v" train --config "$repo/configs/pretraining/wav2vec2_base_librispeech.yaml" --threads 1 "${tiny[@]}" \
    task.data="$workdir/data" checkpoint.save_dir="$dir" task.min_sample_size=1000 dataset.max_tokens=16000 \
    dataset.required_batch_size_multiple=1 dataset.num_workers=1 optimization.max_update="$updates" \
    lr_scheduler.warmup_updates=2 lr_scheduler.total_num_update="$updates" common.log_interval=1 \
    checkpoint.save_interval_updates=1 distributed_training.distributed_world_size=1 "${extra[@]}" "$@" \
    > "$log" 2> "$log.err" &
  pid=$!
}

# num_updates of DIR/checkpoint_last.pt (-1: none); fails on any checkpoint torch cannot load.
check_checkpoints() {
  "$py" - "$1" <<'EOF'
import glob, os, sys, torch
last = -1
for f in sorted(glob.glob(os.path.join(sys.argv[1], "checkpoint*.pt"))):
    try:
        c = torch.load(f, map_location="cpu")
        assert "model" in c and c["optimizer_history"][-1]["num_updates"] >= 0
    except Exception as e:
        print("corrupt %s: %s" % (f, str(e).splitlines()[0] if str(e) else type(e).__name__)); sys.exit(1)
    if os.path.basename(f) == "checkpoint_last.pt":
        last = c["optimizer_history"][-1]["num_updates"]
print(last)
EOF
}

run_mode() {
  m="$1"
  local base="$workdir/$m"
  mkdir -p "$base"
  local t0=$SECONDS
  train "$base/ref" "$base/ref.log"
  wait "$pid" || fail "$m" "the uninterrupted run failed: $(tail -1 "$base/ref.log.err")"
  local span=$((SECONDS - t0 + 1))
  local dir="$base/killed" expected=-1 resumed=0 in_save=0 aimed=0 orphans=0 cleaned=0 left=""
  mkdir -p "$dir"
  for k in $(seq 1 "$kills"); do
    local log="$base/seg$k.log" workers="" victim
    local kind=$(((k + aim_shift) % 3))  # 0: aimed into a save, 1: from the start, 2: after an update
    train "$dir" "$log"
    if [ "$kind" = 0 ]; then
      # Inside a save, the next one the run makes.
      local who=parent
      [ "$m" = multi ] && [ $((k % 2)) = 0 ] && who=writer
      sleep 0.5
      workers=$(pgrep -P "$pid" || true)
      [ "$(kill_in_save "$dir" "$pid" "$who" $((span + 30)))" = save ] && aimed=$((aimed + 1))
    else
      # A random point, within about two updates' time (the whole run's span divided by its
      # updates) so that the kills spread over the run rather than most segments finishing it:
      # kills 1, 4, 7 ... from the start (start-up included), the others after a first update.
      if [ "$kind" = 2 ]; then
        for _ in $(seq 1 1200); do
          grep -q train_inner "$log" 2> /dev/null && break
          kill -0 "$pid" 2> /dev/null || break
          sleep 0.1
        done
      fi
      sleep "$(awk -v r=$RANDOM -v s="$span" -v u="$updates" 'BEGIN { printf "%.2f", (0.3 + 2 * s / u) * r / 32767 }')"
      victim=$pid
      workers=$(pgrep -P "$pid" || true)
      if [ "$m" = multi ] && [ $((k % 2)) = 0 ] && [ -n "$workers" ]; then
        victim=$(echo "$workers" | shuf -n 1 --random-source=<(yes $RANDOM))
      fi
      kill -9 "$victim" 2> /dev/null || true
    fi
    wait "$pid" 2> /dev/null || true
    for w in $workers; do
      for _ in $(seq 1 100); do
        [ -z "$(ps -o stat= -p "$w" 2> /dev/null | grep -v Z)" ] && break
        sleep 0.1
      done
      if [ -n "$(ps -o stat= -p "$w" 2> /dev/null | grep -v Z)" ]; then
        orphans=$((orphans + 1))
        kill -9 "$w"
      fi
    done
    # This segment must have resumed from where the previous checkpoint_last.pt stood.
    local got
    got=$(grep '"resumed"' "$log" | grep -o '"num_updates":[0-9]*' | grep -o '[0-9]*$' || true)
    if [ -n "$got" ]; then
      [ "$got" = "$expected" ] || fail "$m" "segment $k resumed at update $got, checkpoint_last.pt had $expected"
      resumed=$((resumed + 1))
    elif [ "$expected" -ge 0 ] && grep -q train_inner "$log"; then
      fail "$m" "segment $k trained without resuming from checkpoint_last.pt (update $expected)"
    fi
    grep -q "temp file(s) of interrupted saves" "$log" && cleaned=$((cleaned + 1))
    # Temp files of interrupted saves: only a start that says so may remove them, and a kill
    # that leaves a new one (its name holds the writer's pid) was inside a save.
    local f now
    for f in $left; do
      [ -e "$f" ] || grep -q "temp file(s) of interrupted saves" "$log" \
        || fail "$m" "segment $k: $f vanished without the start-up cleanup"
    done
    now=$(ls "$dir"/*.tmp.* 2> /dev/null || true)
    for f in $now; do
      grep -qxF "$f" <<< "$left" || in_save=$((in_save + 1))
    done
    left=$now
    expected=$(check_checkpoints "$dir") || fail "$m" "after kill $k: $expected"
  done
  train "$dir" "$base/final.log"
  wait "$pid" || fail "$m" "the final resumed run failed: $(tail -1 "$base/final.log.err")"
  grep -q "temp file(s) of interrupted saves" "$base/final.log" && cleaned=$((cleaned + 1))
  [ -z "$left" ] || grep -q "temp file(s) of interrupted saves" "$base/final.log" \
    || fail "$m" "the final run did not remove the temp file(s) the last kill left"
  [ "$(check_checkpoints "$dir")" = "$updates" ] || fail "$m" "final checkpoint_last.pt is not at update $updates"
  ! ls "$dir"/*.tmp.* > /dev/null 2>&1 || fail "$m" "temp files left: $(ls "$dir"/*.tmp.*)"
  [ "$orphans" = 0 ] || fail "$m" "$orphans worker(s) outlived a killed parent"
  [ "$aimed" -ge "$min_aimed" ] || fail "$m" "only $aimed kill(s) landed in a save the watcher saw start, --min-aimed $min_aimed"
  # Every update any segment logged, and the final weights, equal the uninterrupted run's.
  local same
  same=$("$py" - "$base" "$updates" <<'EOF'
import glob, json, os, sys, torch
base, updates = sys.argv[1], int(sys.argv[2])
def inner(path):
    out = {}
    for line in open(path):
        if line.startswith("{"):
            j = json.loads(line)
            if j.get("tag") == "train_inner": out.setdefault(j["num_updates"], []).append(j)
    return out
ref = {n: v[0] for n, v in inner(os.path.join(base, "ref.log")).items()}
assert sorted(ref) == list(range(1, updates + 1)), "reference has updates %s" % sorted(ref)
worst, lines = 0.0, 0
for log in glob.glob(os.path.join(base, "seg*.log")) + [os.path.join(base, "final.log")]:
    for n, js in inner(log).items():
        for j in js:
            for key in ("loss", "gnorm"):
                worst = max(worst, abs(j[key] - ref[n][key]) / max(1e-12, abs(ref[n][key])))
            lines += 1
a = torch.load(os.path.join(base, "ref", "checkpoint_last.pt"), map_location="cpu")["model"]
b = torch.load(os.path.join(base, "killed", "checkpoint_last.pt"), map_location="cpu")["model"]
assert a.keys() == b.keys()
wdiff = max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].numel())
print("%d %.3g %.3g" % (lines, worst, wdiff))
if worst > 1e-6 or wdiff > 1e-6: sys.exit(1)
EOF
) || fail "$m" "the trajectory differs from the uninterrupted run (updates logged, worst relative loss/gnorm difference, max weight difference: $same)"
  read -r lines worst wdiff <<< "$same"
  echo "kill9 $m: $kills kills ($aimed aimed into a save, $in_save left a save's temp file), $resumed resumes all from checkpoint_last.pt," \
       "$cleaned temp-file cleanups, 0 orphans, 0 corrupt; $lines logged updates vs uninterrupted:" \
       "worst relative loss/gnorm difference $worst, max weight difference $wdiff"
}

[ "$mode" = multi ] || run_mode single
[ "$mode" = single ] || run_mode multi
