#!/usr/bin/python3
"""Word-boundary accuracy of `w2v align` on speech whose boundaries are known exactly.

Sentences of the synth recipe's spoken-command grammar (the main job's task) are synthesised
one word at a time (espeak-ng and flite voices from Debian main, corpus.py's engine
commands), each word trimmed of silence by sox, and the words joined with silences of random,
known length. So every word's start and end sample is known. `w2v align MODEL --manifest
--labels` aligns the transcripts; the script reports, over all words, the mean, median and 95th
percentile of |predicted - true| boundary time in ms (starts, ends, both), the signed mean
(bias), and the speed of the whole `w2v align` run (model included) as x realtime.

  recipes/synth/align_accuracy.py MODEL OUT [--utterances 60] [--w2v build/w2v]

Writes OUT/wav/*.wav, OUT/test.{tsv,wrd}, OUT/truth.json, OUT/align.json, OUT/accuracy.json.
stdlib + numpy; needs espeak-ng, flite and sox.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (the recipe's synthesis helpers)

RATE = corpus.SAMPLE_RATE


def synth_word(word, voice, variant, tmp, n):
    """One word, trimmed of leading and trailing silence, as float samples at 16 kHz."""
    job = {"voice": voice, "variant": variant, "rate": 1.0, "espeak_pitch": 50, "text": word}
    raw = os.path.join(tmp, f"w{n}.raw.wav")
    out = os.path.join(tmp, f"w{n}.wav")
    corpus.run(corpus.engine_command(job, raw))
    corpus.run(["sox", "-R", "-D", raw, "-b", "16", "-c", "1", "-e", "signed-integer", out, "silence", "1", "0.01",
                "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse", "rate", "-h", str(RATE)])
    with wave.open(out, "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def write_wav(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def make_corpus(out, utterances, seed):
    rng = random.Random(seed)
    voices = [v for v in corpus.available_voices("main") if v.split(":")[0] in ("espeak", "flite")]
    if not voices:
        raise SystemExit("align_accuracy: needs espeak-ng or flite")
    os.makedirs(os.path.join(out, "wav"), exist_ok=True)
    truth, tsv, wrd = [], [os.path.join(out, "wav")], []
    with tempfile.TemporaryDirectory() as tmp:
        for u in range(utterances):
            voice = voices[u % len(voices)]
            variant = rng.choice(corpus.ESPEAK_VARIANTS[:12])
            words = corpus.digits_sentence(rng).split()
            pieces, spans = [np.zeros(int(rng.uniform(0.2, 0.6) * RATE))], []
            at = len(pieces[0])
            for k, word in enumerate(words):
                x = synth_word(word, voice, variant, tmp, k)
                spans.append({"word": word.upper(), "start": at / RATE, "end": (at + len(x)) / RATE})
                gap = np.zeros(int(rng.uniform(0.1, 0.6) * RATE)) if k + 1 < len(words) else np.zeros(int(0.3 * RATE))
                pieces += [x, gap]
                at += len(x) + len(gap)
            name = f"utt{u:04d}.wav"
            audio = np.concatenate(pieces)
            write_wav(os.path.join(out, "wav", name), audio)
            tsv.append(f"{name}\t{len(audio)}")
            wrd.append(" ".join(w.upper() for w in words))
            truth.append({"path": name, "voice": voice, "duration": len(audio) / RATE, "words": spans})
    with open(os.path.join(out, "test.tsv"), "w") as f:
        f.write("\n".join(tsv) + "\n")
    with open(os.path.join(out, "test.wrd"), "w") as f:
        f.write("\n".join(wrd) + "\n")
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    return truth


def stats(errors_ms):
    a = np.abs(np.asarray(errors_ms))
    return {"mean_abs_ms": float(a.mean()), "median_abs_ms": float(np.median(a)), "p95_abs_ms": float(np.percentile(a, 95)),
            "bias_ms": float(np.mean(errors_ms)), "within_20ms": float(np.mean(a <= 20)),
            "within_50ms": float(np.mean(a <= 50)), "count": int(len(a))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--utterances", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--w2v", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../build/w2v"))
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()

    truth = make_corpus(args.out, args.utterances, args.seed)
    result = os.path.join(args.out, "align.json")
    t0 = time.time()
    subprocess.run([args.w2v, "align", args.model, "--manifest", os.path.join(args.out, "test.tsv"), "--labels",
                    os.path.join(args.out, "test.wrd"), "--threads", str(args.threads), "-o", result], check=True)
    wall = time.time() - t0
    files = json.load(open(result))["files"]
    starts, ends = [], []
    for t, f in zip(truth, files):
        assert os.path.basename(f["audio"]) == t["path"], (f["audio"], t["path"])
        assert len(f["words"]) == len(t["words"]), f["audio"]
        for want, got in zip(t["words"], f["words"]):
            starts.append(1000 * (got["start"] - want["start"]))
            ends.append(1000 * (got["end"] - want["end"]))
    audio = sum(t["duration"] for t in truth)
    report = {"model": args.model, "utterances": len(truth), "words": len(starts), "audio_seconds": audio,
              "wall_seconds": wall, "x_realtime": audio / wall, "threads": args.threads,
              "start": stats(starts), "end": stats(ends), "both": stats(starts + ends),
              "load": open("/proc/loadavg").read().split()[:3]}
    with open(os.path.join(args.out, "accuracy.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"{len(starts)} words in {len(truth)} utterances ({audio:.1f} s of audio), w2v align {wall:.1f} s "
          f"({audio / wall:.1f}x realtime incl. model, {args.threads} thread(s), load {' '.join(report['load'])})")
    print("| boundary | mean abs error (ms) | median (ms) | 95th percentile (ms) | mean signed (ms) | within 20 ms | within 50 ms |")
    print("|---|---|---|---|---|---|---|")
    for k in ("start", "end", "both"):
        s = report[k]
        print(f"| {k} | {s['mean_abs_ms']:.1f} | {s['median_abs_ms']:.1f} | {s['p95_abs_ms']:.1f} | {s['bias_ms']:+.1f} | "
              f"{100 * s['within_20ms']:.0f} % | {100 * s['within_50ms']:.0f} % |")


if __name__ == "__main__":
    main()
