#!/usr/bin/python3
"""Synthetic multi-speaker speech corpus from Debian's TTS engines (see docs/corpus.md).

Called by make_corpus.sh; stdlib + numpy only. Steps:
  1. sentences: Jane Austen's novels (r-cran-janeaustenr, read from R's lazy-load database
     without R) or a small spoken-command grammar (--task digits);
  2. splits: test sentences are held out of train, valid and the LM text; the test split also
     holds out voices never heard in training;
  3. a seeded job list (voice, rate, pitch shift, noise) -> 16 kHz mono 16-bit wav files,
     synthesized in parallel (festival batched per voice: its start-up costs ~1 s);
  4. OUT/{split}.transcripts.tsv (relative path <TAB> text), OUT/lm.txt, OUT/utterances.tsv,
     OUT/voices.txt; with --write-fairseq also {split}.tsv/.ltr/.wrd and dict.ltr.txt
     (make_corpus.sh uses `w2v manifest/labels/dict` instead when the binary exists).
Engines get lower-case text: upper case makes espeak/flite spell words letter by letter.
"""
import argparse
import collections
import concurrent.futures
import gzip
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
import wave
import zlib

import numpy as np

JANEAUSTEN_RDB = "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"
ESPEAK_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
                  "en-us-nyc"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
                   "klatt3", "Andy", "Annie", "Alex", "Denis", "Gene", "Lee", "Mike", "Michael", "antonio", "aunty",
                   "belinda", "boris", "david", "edward", "iven", "john", "linda", "max", "norbert", "paul", "robert"]
SAMPLE_RATE = 16000


# ---------------------------------------------------------------------------------------------
# Text

def read_r_character_vectors(path):
    """Character vectors stored in an R lazy-load database (.rdb): a sequence of
    [4-byte big-endian length][zlib stream] chunks, each an XDR-serialized R object. The
    janeaustenr novels are plain STRSXP vectors of lines; other objects are skipped."""
    data = open(path, "rb").read()
    books = []
    pos = 0
    while pos + 4 < len(data):
        d = zlib.decompressobj()
        raw = d.decompress(data[pos + 4:])
        pos = len(data) - len(d.unused_data)
        if raw[:2] != b"X\n":
            continue
        version = struct.unpack(">i", raw[2:6])[0]
        off = 14
        if version == 3:
            nelen = struct.unpack(">i", raw[off:off + 4])[0]
            off += 4 + nelen
        flags, length = struct.unpack(">ii", raw[off:off + 8])
        off += 8
        if flags & 0xFF != 16:  # not a STRSXP
            continue
        lines = []
        for _ in range(length):
            cflags, clen = struct.unpack(">ii", raw[off:off + 8])
            off += 8
            if cflags & 0xFF != 9:
                raise ValueError(f"{path}: unexpected R object type {cflags & 0xFF} in a character vector")
            if clen < 0:
                lines.append("")
                continue
            lines.append(raw[off:off + clen].decode("utf-8", "replace"))
            off += clen
        books.append(lines)
    if not books:
        raise SystemExit(f"corpus: no text found in {path} (is r-cran-janeaustenr installed?)")
    return books


ABBREVIATIONS = [(r"\bMrs\.", "Missus"), (r"\bMr\.", "Mister"), (r"\bDr\.", "Doctor"), (r"\bSt\.", "Saint")]


def normalize_sentence(s):
    """LibriSpeech-style transcript: A-Z, apostrophe, single spaces; None when unusable."""
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    if re.search(r"\d", s):
        return None
    s = s.replace("_", " ").replace("-", " ").upper()
    s = re.sub(r"[^A-Z' ]", " ", s)
    s = re.sub(r"(^|\s)'+|'+(\s|$)", " ", s)  # quotes, not apostrophes inside words
    words = s.split()
    if not 3 <= len(words) <= 20:
        return None
    return " ".join(words)


def english_sentences():
    sentences = []
    seen = set()
    for lines in read_r_character_vectors(JANEAUSTEN_RDB):
        paragraphs, current = [], []
        for line in lines:
            if line.strip():
                current.append(line.strip())
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        for p in paragraphs:
            if re.match(r"^(CHAPTER|VOLUME)\b", p) or p.isupper():
                continue
            # Expand "Mr." etc. first: their dots are not sentence ends.
            for pattern, word in ABBREVIATIONS:
                p = re.sub(pattern, word, p)
            for s in re.split(r"(?<=[.!?;:])\s+|--", p):
                n = normalize_sentence(s)
                if n and n not in seen:
                    seen.add(n)
                    sentences.append(n)
    return sentences


DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["twenty", "thirty", "forty", "fifty"]


def number_words(n):
    """0..59 as spoken."""
    if n < 10:
        return DIGITS[n]
    if n < 20:
        return TEENS[n - 10]
    return TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + DIGITS[n % 10])


def digits_sentence(rng):
    """One utterance of the small-vocabulary grammar (46 words): digit strings, dialling,
    alarm times, tracks, volume and a few commands."""
    def digit_string(lo, hi):
        return " ".join("oh" if d == 0 and rng.random() < 0.4 else DIGITS[d]
                        for d in (rng.randrange(10) for _ in range(rng.randint(lo, hi))))

    kind = rng.random()
    if kind < 0.45:
        return digit_string(2, 6)
    if kind < 0.60:
        return rng.choice(["dial", "call"]) + " " + digit_string(3, 7)
    if kind < 0.72:
        minutes = rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50, rng.randrange(1, 60)])
        time = number_words(rng.randint(1, 12)) + ("" if minutes == 0 else " " + (
            "oh " + DIGITS[minutes] if minutes < 10 else number_words(minutes)))
        return "set an alarm for " + time + rng.choice(["", " am", " pm"])
    if kind < 0.84:
        return "play track " + number_words(rng.randint(1, 59))
    if kind < 0.92:
        return rng.choice(["turn the volume up", "turn the volume down", "set the volume to " +
                           number_words(rng.randrange(0, 11))])
    return rng.choice(["stop", "pause", "next track", "previous track", "play", "cancel the alarm"])


def split_sentences(args, rng):
    """(train, valid, test, lm) sentence lists, upper case. Test sentences never occur in
    train, valid or lm."""
    n_test = max(1, round(args.utterances * args.test_percent))
    n_valid = max(1, round(args.utterances * args.valid_percent))
    n_train = args.utterances - n_test - n_valid
    if n_train < 1:
        raise SystemExit("corpus: --utterances too small for the valid/test split")
    if args.task == "english":
        pool = english_sentences()
        rng.shuffle(pool)
        if len(pool) < args.utterances:
            raise SystemExit(f"corpus: only {len(pool)} distinct sentences, asked for {args.utterances}")
        test, valid, train = pool[:n_test], pool[n_test:n_test + n_valid], pool[n_test + n_valid:args.utterances]
        lm = pool[n_test:]
        return train, valid, test, lm
    test_set = set()
    test = []
    while len(test) < n_test:
        s = digits_sentence(rng).upper()
        # Fixed commands ("TURN THE VOLUME UP") are too few to hold out: test sentences are the
        # open-ended ones, with numbers in them.
        numbers = set(DIGITS + TEENS + TENS + ["oh"])
        if len(s.split()) >= 3 and any(w.lower() in numbers for w in s.split()) and s not in test_set:
            test_set.add(s)
            test.append(s)

    def draw(n):
        out = []
        while len(out) < n:
            s = digits_sentence(rng).upper()
            if s not in test_set:
                out.append(s)
        return out

    train, valid = draw(n_train), draw(n_valid)
    lm = draw(args.lm_sentences)
    return train, valid, test, lm


# ---------------------------------------------------------------------------------------------
# Voices

def festival_voices():
    roots = ["/usr/share/festival/voices"]
    found = []
    for root in roots:
        for lang in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            for v in sorted(os.listdir(os.path.join(root, lang))):
                found.append(v)
    return found


def available_voices(which):
    """Voice ids "engine:name". main: espeak-ng accents, flite, festival from Debian main;
    all: also the contrib/non-free engines of notes/speech_corpus.md when installed."""
    voices = []
    missing = []
    if shutil.which("espeak-ng"):
        voices += ["espeak:" + a for a in ESPEAK_ACCENTS]
    else:
        missing.append("espeak-ng")
    if shutil.which("flite"):
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout.split()
        voices += ["flite:" + v for v in ["kal16", "awb", "rms", "slt"] if v in listed]
    else:
        missing.append("flite")
    fest = festival_voices() if shutil.which("festival") else []
    main_fest = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
    voices += ["festival:" + v for v in main_fest if v in fest]
    if which == "all":
        if "rab_diphone" in fest:
            voices.append("festival:rab_diphone")
        else:
            missing.append("festvox-rablpc16k")
        if shutil.which("mbrola"):
            voices += ["mbrola:mb-" + v for v in ["us1", "us2", "us3", "en1"]
                       if os.path.exists("/usr/share/mbrola/" + v)]
        else:
            missing.append("mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1")
        if shutil.which("pico2wave"):
            voices += ["pico:en-US", "pico:en-GB"]
        else:
            missing.append("libttspico-utils")
        if shutil.which("RHVoice-test"):
            voices += ["rhvoice:" + v for v in ["bdl", "clb", "evgeniy-eng", "lyubov"]]
        else:
            missing.append("rhvoice rhvoice-english")
    if missing:
        print("corpus: not installed, skipped: " + ", ".join(missing) +
              (" (contrib/non-free: see /work/shared/notes/speech_corpus.md 2.2)" if which == "all" else ""),
              file=sys.stderr)
    return voices


def held_out_voices(voices):
    """Voices kept for the test split only: flite rms (US male, no other engine has him),
    and RHVoice clb when present."""
    held = [v for v in ["flite:rms", "rhvoice:clb"] if v in voices]
    return held or voices[-1:]


# ---------------------------------------------------------------------------------------------
# Synthesis

def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)[:200]} failed: {r.stderr.decode(errors='replace')[-300:]}")


def engine_command(job, raw):
    """Command that renders job["text"] (lower case) into raw; None for festival (batched)."""
    engine, name = job["voice"].split(":", 1)
    text = job["text"].lower()
    if engine == "espeak":
        return ["espeak-ng", "-v", f"{name}+{job['variant']}", "-s", str(round(175 * job["rate"])),
                "-p", str(job["espeak_pitch"]), "-w", raw, text]
    if engine == "mbrola":
        return ["espeak-ng", "-v", name, "-s", str(round(160 * job["rate"])), "-w", raw, text]
    if engine == "flite":
        return ["flite", "-voice", name, "--setf", f"duration_stretch={1 / job['rate']:.3f}", "-t", text, "-o", raw]
    if engine == "pico":
        return ["pico2wave", "-l", name, "-w", raw, f'<speed level="{round(100 * job["rate"])}">{text}</speed>']
    if engine == "rhvoice":
        return ["sh", "-c", f'echo "$0" | RHVoice-test -p {name} -r {round(100 * job["rate"])} -o {raw}', text]
    return None


def native_rate(job):
    """True when the engine applied job["rate"] itself (else sox tempo does)."""
    engine, name = job["voice"].split(":", 1)
    return engine in ("espeak", "mbrola", "flite", "pico", "rhvoice") or (engine == "festival" and "hts" not in name)


def augment_effects(job):
    """sox effects of the job's --augment draw (speed, room reverberation, band-limit), placed
    after the padding: the room and the channel act on the whole recording."""
    effects = []
    for kind, value in job.get("augment", []):
        if kind == "speed":
            effects += ["speed", value]
        elif kind == "reverb":  # reverberance %, HF damping %, room scale %
            effects += ["reverb"] + value.split("/")
        elif kind == "sinc":  # high-pass-low-pass band in Hz
            effects += ["sinc", value]
    return effects + (["gain", "-n", "-3"] if effects else [])


def telephone_round_trip(path):
    """The narrow-band telephone channel: 8 kHz, 300-3400 Hz, 8-bit mu-law, and back to 16 kHz."""
    narrow = path + ".ulaw.wav"
    run(["sox", "-R", "-D", path, "-r", "8000", "-e", "u-law", "-b", "8", narrow, "sinc", "300-3400"])
    run(["sox", "-R", "-D", narrow, "-r", str(SAMPLE_RATE), "-e", "signed-integer", "-b", "16", path])
    os.remove(narrow)


def postprocess(job, raw, out, seed):
    """16 kHz mono s16: pitch shift, tempo (if the engine could not), silence trimmed at both
    ends, 150 ms padding, the --augment effects; then noise at the job's SNR; then the
    telephone channel when drawn."""
    effects = []
    if job["pitch_cents"]:
        effects += ["pitch", str(job["pitch_cents"])]
    if not native_rate(job) and abs(job["rate"] - 1) > 1e-3:
        effects += ["tempo", "-s", f"{job['rate']:.3f}"]
    effects += ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
                "pad", "0.15", "0.15"] + augment_effects(job) + ["rate", "-h", str(SAMPLE_RATE)]
    run(["sox", "-R", "-D", raw, "-b", "16", "-c", "1", "-e", "signed-integer", out] + effects)
    with wave.open(out, "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    if len(x) < SAMPLE_RATE // 5:
        raise RuntimeError(f"{out}: synthesis produced {len(x)} samples for '{job['text']}'")
    if job["noise"]:
        rs = np.random.RandomState(seed)
        n = rs.standard_normal(len(x))
        if job["noise"] == "pink":  # a short low-pass tilt: cheap, audibly "pinker" than white
            n = np.convolve(n, 0.5 ** np.arange(16) / 2, mode="same")
        elif job["noise"] == "brown":
            n = np.cumsum(n)
            n -= np.convolve(n, np.ones(401) / 401, mode="same")
        rms_x = np.sqrt(np.mean(x ** 2)) + 1e-9
        rms_n = np.sqrt(np.mean(n ** 2)) + 1e-12
        x = x + n * (rms_x / rms_n) * 10 ** (-job["snr"] / 20)
        peak = np.max(np.abs(x))
        if peak > 0.99:
            x *= 0.99 / peak
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(np.round(x * 32767).astype("<i2").tobytes())
    if ("telephone", "") in job.get("augment", []):
        telephone_round_trip(out)
        with wave.open(out, "rb") as w:
            return w.getnframes()
    return len(x)


def synth_single(job, out_dir, seed, tmp):
    raw = os.path.join(tmp, f"{job['id']}.raw.wav")
    run(engine_command(job, raw))
    frames = postprocess(job, raw, os.path.join(out_dir, job["path"]), seed)
    os.remove(raw)
    return {job["id"]: frames}


def synth_festival(jobs, out_dir, seed, tmp):
    """One festival process renders many utterances of one voice."""
    name = jobs[0]["voice"].split(":", 1)[1]
    lines = [f"(voice_{name})"]
    for job in jobs:
        stretch = 1.0 / job["rate"] if native_rate(job) else 1.0
        raw = os.path.join(tmp, f"{job['id']}.raw.wav")
        lines.append(f"(Parameter.set 'Duration_Stretch {stretch:.3f})")
        lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{job["text"].lower()}")) "{raw}" \'riff)')
    script = os.path.join(tmp, f"{jobs[0]['id']}.scm")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    run(["festival", "-b", script])
    os.remove(script)
    frames = {}
    for job in jobs:
        raw = os.path.join(tmp, f"{job['id']}.raw.wav")
        frames[job["id"]] = postprocess(job, raw, os.path.join(out_dir, job["path"]), seed + job["index"])
        os.remove(raw)
    return frames


def make_jobs(args, rng, splits, voices, held_out):
    seen_voices = [v for v in voices if v not in held_out]
    jobs = []
    for split, sentences in splits:
        for k, text in enumerate(sentences):
            if split == "test" and k % 2 == 0:
                voice = held_out[(k // 2) % len(held_out)]
            else:
                voice = rng.choice(seen_voices)
            index = len(jobs)
            noise = rng.choice(["white", "pink", "brown"]) if rng.random() < args.noise_prob else ""
            jobs.append({
                "index": index, "id": f"utt{index:06d}", "split": split, "path": f"{split}/utt{index:06d}.wav",
                "text": text, "voice": voice, "variant": rng.choice(ESPEAK_VARIANTS),
                "rate": round(rng.uniform(0.85, 1.2), 3), "espeak_pitch": rng.randint(30, 70),
                "pitch_cents": rng.choice([0, rng.randint(-300, 300)]),
                "noise": noise, "snr": round(rng.uniform(5, 25), 1) if noise else 0.0,
            })
    if args.augment > 0:
        draw_augmentations(jobs, args.augment, args.seed)
    return jobs


def draw_augmentations(jobs, prob, seed):
    """--augment: each training utterance, with probability prob, gets one to three of speed
    perturbation (0.9 or 1.1, Kaldi's), room reverberation, a random band-limit and the
    telephone channel. A stream of its own, so the rest of the corpus is the one without
    --augment; valid and test stay clean. Every utterance draws the same count of values."""
    rng = random.Random(seed * 7919 + 104729)
    for job in jobs:
        draw = [rng.random() for _ in range(5)] + [rng.choice(["0.9", "1.1"]), rng.randint(20, 80),
                                                   rng.randint(40, 100), rng.randint(50, 400),
                                                   rng.randint(3000, 7000)]
        if job["split"] != "train" or draw[0] >= prob:
            continue
        chosen = []
        if draw[1] < 0.5:
            chosen.append(("speed", draw[5]))
        if draw[2] < 0.5:
            chosen.append(("reverb", f"{draw[6]}/50/{draw[7]}"))
        if draw[3] < 0.4:
            chosen.append(("sinc", f"{draw[8]}-{draw[9]}"))
        if draw[4] < 0.3 or not chosen:
            chosen.append(("telephone", ""))
        job["augment"] = chosen


def synthesize(jobs, out_dir, seed, workers):
    tasks = []
    festival = collections.defaultdict(list)
    for job in jobs:
        if job["voice"].startswith("festival:"):
            festival[job["voice"]].append(job)
        else:
            tasks.append(("single", [job]))
    for voice_jobs in festival.values():
        for i in range(0, len(voice_jobs), 40):
            tasks.append(("festival", voice_jobs[i:i + 40]))
    frames = {}
    with tempfile.TemporaryDirectory(prefix="w2v_corpus_") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = []
        for kind, group in tasks:
            if kind == "single":
                futures.append(pool.submit(synth_single, group[0], out_dir, seed * 1000003 + group[0]["index"], tmp))
            else:
                futures.append(pool.submit(synth_festival, group, out_dir, seed * 1000003, tmp))
        for i, f in enumerate(concurrent.futures.as_completed(futures)):
            frames.update(f.result())
            if (i + 1) % 100 == 0:
                print(f"corpus: {len(frames)}/{len(jobs)} utterances", file=sys.stderr)
    return frames


def drop_long(jobs, frames, out, max_seconds):
    """Leaves out (and deletes) the utterances longer than max_seconds: fine-tuning crops such
    audio to task.max_sample_size as fairseq does, which would cut speech from under its
    transcript. After synthesis, so the corpus is otherwise the one without the limit."""
    limit = max_seconds * SAMPLE_RATE
    long_jobs = [j for j in jobs if frames[j["id"]] > limit]
    for j in long_jobs:
        os.remove(os.path.join(out, "audio", j["path"]))
    if long_jobs:
        print(f"corpus: left out {len(long_jobs)} utterance(s) longer than {max_seconds:g} s: "
              + ", ".join(j["id"] for j in long_jobs), file=sys.stderr)
    return [j for j in jobs if frames[j["id"]] <= limit]


# ---------------------------------------------------------------------------------------------
# Outputs

def write_atomic(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_fairseq(out, jobs, frames, splits):
    """Manifests, labels and the letter dictionary, written exactly as `w2v manifest --valid-percent 0`
    (files sorted by path), `w2v labels` and `w2v dict` write them."""
    counts = collections.Counter()
    for split, _ in splits:
        root = os.path.realpath(os.path.join(out, "audio", split))
        js = sorted((j for j in jobs if j["split"] == split), key=lambda j: j["path"])
        write_atomic(os.path.join(out, f"{split}.tsv"),
                     root + "\n" + "".join(f"{os.path.basename(j['path'])}\t{frames[j['id']]}\n" for j in js))
        write_atomic(os.path.join(out, f"{split}.wrd"), "".join(j["text"] + "\n" for j in js))
        ltr = "".join(" ".join(j["text"].replace(" ", "|")) + " |\n" for j in js)
        write_atomic(os.path.join(out, f"{split}.ltr"), ltr)
        if split == "train":
            counts.update(ltr.split())
    write_atomic(os.path.join(out, "dict.ltr.txt"), "".join(f"{s} {c}\n" for s, c in counts.most_common()))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--utterances", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--voices", choices=["main", "all"], default="main")
    p.add_argument("--task", choices=["english", "digits"], default="english")
    p.add_argument("--valid-percent", type=float, default=0.05)
    p.add_argument("--test-percent", type=float, default=0.1)
    p.add_argument("--noise-prob", type=float, default=0.3)
    p.add_argument("--augment", type=float, default=0.0, metavar="P",
                   help="probability that a training utterance gets speed/reverb/band/telephone effects")
    p.add_argument("--lm-sentences", type=int, default=20000, help="digits task: LM text size")
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="utterances synthesized longer than this are left out (30 s: the English recipe's batch)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--write-fairseq", action="store_true")
    args = p.parse_args()

    rng = random.Random(args.seed)
    out = args.out
    train, valid, test, lm = split_sentences(args, rng)
    splits = [("train", train), ("valid", valid), ("test", test)]
    voices = available_voices(args.voices)
    if len(voices) < 2:
        raise SystemExit("corpus: fewer than two voices installed (need espeak-ng, flite, festival)")
    held_out = held_out_voices(voices)
    jobs = make_jobs(args, rng, splits, voices, held_out)
    for split, _ in splits:
        os.makedirs(os.path.join(out, "audio", split), exist_ok=True)
    frames = synthesize(jobs, os.path.join(out, "audio"), args.seed, args.jobs)
    jobs = drop_long(jobs, frames, out, args.max_seconds)

    for split, _ in splits:
        js = [j for j in jobs if j["split"] == split]
        write_atomic(os.path.join(out, f"{split}.transcripts.tsv"),
                     "".join(f"{os.path.basename(j['path'])}\t{j['text']}\n" for j in js))
    write_atomic(os.path.join(out, "lm.txt"), "".join(s + "\n" for s in lm))
    cols = ["id", "split", "voice", "variant", "rate", "pitch_cents", "noise", "snr"]
    # The augment column only with --augment: the default corpus's files stay as they were.
    augment = [",".join(f"{k} {v}".strip() for k, v in j.get("augment", [])) for j in jobs] if args.augment > 0 else None
    write_atomic(os.path.join(out, "utterances.tsv"),
                 "\t".join(cols + ["seconds"] + (["augment"] if augment else [])) + "\n" +
                 "".join("\t".join(str(j[c]) if not (c == "variant" and not j["voice"].startswith("espeak:"))
                                   else "" for c in cols) + f"\t{frames[j['id']] / SAMPLE_RATE:.3f}" +
                         (f"\t{augment[i]}" if augment else "") + "\n"
                         for i, j in enumerate(jobs)))
    write_atomic(os.path.join(out, "voices.txt"),
                 "".join(f"{v}\t{'test-only' if v in held_out else 'train,valid,test'}\n" for v in voices))
    if args.write_fairseq:
        write_fairseq(out, jobs, frames, splits)
    hours = sum(frames[j["id"]] for j in jobs) / SAMPLE_RATE / 3600
    vocab = len({w for s in train for w in s.split()})
    print(f"corpus: {len(jobs)} utterances, {hours:.3f} h, {len(voices)} voices ({', '.join(held_out)} test only), "
          f"train vocabulary {vocab} words, lm.txt {len(lm)} sentences", file=sys.stderr)


if __name__ == "__main__":
    main()
