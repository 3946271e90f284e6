#!/usr/bin/python3
"""Reference for `w2v manifest`, `w2v labels` and `w2v dict`: fairseq's
examples/wav2vec/wav2vec_manifest.py and libri_labels.py behaviour, re-stated from the spec
(section 6.4), with one deliberate change: files are visited in sorted path order (fairseq
uses the file system's glob order, which is not deterministic across machines).

usage:
  data_manifest.py manifest ROOT --dest DIR --ext EXT --valid-percent P --seed S [--path-must-contain S]
  data_manifest.py labels TSV --output-dir DIR --output-name NAME [--tsv-transcripts FILE]
      (LibriSpeech mode, as libri_labels.py: ROOT/<dir>/<spk>-<chapter>.trans.txt next to the audio)
  data_manifest.py dict LTR OUT   (symbols by descending count, ties first seen)
"""
import argparse
import collections
import glob
import os
import random

import torchaudio


def manifest(args):
    os.makedirs(args.dest, exist_ok=True)
    dir_path = os.path.realpath(args.root)
    files = sorted(glob.glob(os.path.join(dir_path, "**/*." + args.ext), recursive=True))
    rand = random.Random(args.seed)
    valid_f = open(os.path.join(args.dest, "valid.tsv"), "w") if args.valid_percent > 0 else None
    with open(os.path.join(args.dest, "train.tsv"), "w") as train_f:
        print(dir_path, file=train_f)
        if valid_f is not None:
            print(dir_path, file=valid_f)
        for fname in files:
            file_path = os.path.realpath(fname)
            if args.path_must_contain and args.path_must_contain not in file_path:
                continue
            frames = torchaudio.info(fname).num_frames
            dest = train_f if rand.random() > args.valid_percent else valid_f
            print("{}\t{}".format(os.path.relpath(file_path, dir_path), frames), file=dest)
    if valid_f is not None:
        valid_f.close()


def labels(args):
    os.makedirs(args.output_dir, exist_ok=True)
    tsv_texts = None
    if args.tsv_transcripts:
        tsv_texts = {}
        for line in open(args.tsv_transcripts):
            path, text = line.rstrip("\n").split("\t", 1)
            tsv_texts[path] = " ".join(text.upper().split())
    transcriptions = {}
    with open(args.tsv) as tsv, open(os.path.join(args.output_dir, args.output_name + ".ltr"), "w") as ltr_out, open(
        os.path.join(args.output_dir, args.output_name + ".wrd"), "w"
    ) as wrd_out:
        root = next(tsv).strip()
        for line in tsv:
            line = line.strip()
            if tsv_texts is not None:
                text = tsv_texts[line.split("\t")[0]]
            else:
                dir = os.path.dirname(line)
                if dir not in transcriptions:
                    parts = dir.split(os.path.sep)
                    trans_path = f"{parts[-2]}-{parts[-1]}.trans.txt"
                    path = os.path.join(root, dir, trans_path)
                    assert os.path.exists(path), path
                    texts = {}
                    with open(path) as trans_f:
                        for tline in trans_f:
                            items = tline.strip().split()
                            texts[items[0]] = " ".join(items[1:])
                    transcriptions[dir] = texts
                part = os.path.basename(line).split(".")[0]
                text = transcriptions[dir][part]
            print(text, file=wrd_out)
            print(" ".join(list(text.replace(" ", "|"))) + " |", file=ltr_out)


def dictionary(args):
    counts = collections.Counter()
    with open(args.ltr) as f:
        for line in f:
            counts.update(line.split())
    with open(args.out, "w") as out:
        for symbol, count in counts.most_common():
            print(symbol, count, file=out)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("root")
    m.add_argument("--dest", required=True)
    m.add_argument("--ext", default="flac")
    m.add_argument("--valid-percent", type=float, default=0.01)
    m.add_argument("--seed", type=int, default=42)
    m.add_argument("--path-must-contain", default=None)
    l = sub.add_parser("labels")
    l.add_argument("tsv")
    l.add_argument("--output-dir", required=True)
    l.add_argument("--output-name", required=True)
    l.add_argument("--tsv-transcripts", default=None)
    d = sub.add_parser("dict")
    d.add_argument("ltr")
    d.add_argument("out")
    args = p.parse_args()
    {"manifest": manifest, "labels": labels, "dict": dictionary}[args.cmd](args)


if __name__ == "__main__":
    main()
