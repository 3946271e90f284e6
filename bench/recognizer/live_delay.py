#!/usr/bin/env python3
"""Delay from the end of speech to final text for `w2v transcribe MODEL --stream -`.

  bench/recognizer/live_delay.py W2V MODEL AUDIO.wav [extra w2v options...]

Feeds AUDIO (16 kHz mono 16-bit WAV) to the command's stdin at real-time pace in 100 ms
blocks, timestamps every line it prints, and reports for each `final` line the delay between
the moment the audio of its last word's end had been fed and the moment the line appeared
(docs/decoding.md, Live input). The last final comes after the end of input (EOF), the others
at pauses. Standard library only.
"""
import subprocess
import sys
import threading
import time
import wave


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    w2v, model, audio, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with wave.open(audio, "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            sys.exit(f"{audio}: expected 16 kHz mono 16-bit")
        pcm = w.readframes(w.getnframes())
    proc = subprocess.Popen([w2v, "transcribe", model, "--stream", "-"] + extra, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, bufsize=0)
    lines = []

    def reader():
        for line in proc.stdout:
            lines.append((time.monotonic(), line.decode("utf-8", "replace").rstrip("\n")))

    t = threading.Thread(target=reader)
    t.start()
    block = 3200  # bytes: 100 ms
    start = time.monotonic()
    for k in range(0, len(pcm), block):
        proc.stdin.write(pcm[k:k + block])
        proc.stdin.flush()
        # Real-time pace: block k+1 is due (k+1) * 100 ms after the start.
        due = start + (k + block) / 32000.0
        time.sleep(max(0.0, due - time.monotonic()))
    fed_all = time.monotonic()
    proc.stdin.close()
    t.join()
    if proc.wait() != 0:
        sys.exit("w2v failed")
    partials = sum(1 for _, line in lines if line.startswith("partial\t"))
    finals = [(at, line.split("\t")) for at, line in lines if line.startswith("final\t")]
    print(f"audio {len(pcm) / 32000.0:.1f} s, {partials} partial lines, {len(finals)} finals")
    for at, (_, begin, end, text) in finals:
        # The end of its last word was fed at start + end (real-time feeding), or at fed_all.
        spoken = min(start + float(end), fed_all)
        kind = "eof" if at >= fed_all else "pause"
        print(f"final [{float(begin):6.2f}, {float(end):6.2f}] {kind:5s} delay {at - spoken:5.2f} s: {text[:60]}")


if __name__ == "__main__":
    main()
