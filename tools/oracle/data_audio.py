#!/usr/bin/python3
"""Reference audio reader: what fairseq's RawAudioDataset feeds the model.

usage: data_audio.py [--normalize] AUDIO OUT.f32 [AUDIO OUT.f32 ...]
Reads each AUDIO with torchaudio (sox_io backend, int samples scaled by 1/2^(bits-1) like
soundfile), averages channels, optionally applies F.layer_norm over the whole signal
(fairseq task.normalize), and writes raw little-endian float32 samples to OUT.f32.
Prints "rate frames channels" per file.
"""
import sys

import torch
import torch.nn.functional as F
import torchaudio


def main():
    args = sys.argv[1:]
    normalize = "--normalize" in args
    args = [a for a in args if a != "--normalize"]
    for path, out in zip(args[0::2], args[1::2]):
        wav, rate = torchaudio.load(path)  # [channels, frames], float32
        channels, frames = wav.shape
        mono = wav.mean(0)
        if normalize:
            with torch.no_grad():
                mono = F.layer_norm(mono, mono.shape)
        mono.numpy().astype("<f4").tofile(out)
        print(rate, frames, channels)


if __name__ == "__main__":
    main()
