#!/usr/bin/python3
"""Reference for w2v's batching: fairseq's batch_by_size (data_utils_fast.batch_by_size_fn
semantics, re-stated from the spec section 7.3) and the fine-tuning collater
(RawAudioDataset.collater with pad=True + AddTargetDataset's target padding).

usage: data_batching.py IN.json OUT.json
IN:  {"batch_by_size": [{"indices": [...], "sizes": [...], "max_tokens": N, "max_sentences": N,
                         "mult": N}, ...],
      "collate": {"audio": [[...], ...], "targets": [[...], ...], "pad_idx": 1}}
OUT: {"batch_by_size": [[[...], ...], ...],
      "collate": {"source": [[...]], "padding_mask": [[...]], "target": [[...]],
                  "target_lengths": [...], "ntokens": N}}
"""
import json
import sys

import torch


def batch_by_size(indices, sizes, max_tokens, max_sentences, mult):
    max_tokens = max_tokens if max_tokens > 0 else sys.maxsize
    max_sentences = max_sentences if max_sentences > 0 else sys.maxsize
    batches, batch, lens, sample_len = [], [], [], 0
    for idx in indices:
        n = sizes[idx]
        lens.append(n)
        sample_len = max(sample_len, n)
        assert sample_len <= max_tokens
        num_tokens = (len(batch) + 1) * sample_len
        full = len(batch) > 0 and (len(batch) == max_sentences or num_tokens > max_tokens)
        if full:
            mod_len = max(mult * (len(batch) // mult), len(batch) % mult)
            batches.append(batch[:mod_len])
            batch = batch[mod_len:]
            lens = lens[mod_len:]
            sample_len = max(lens) if lens else 0
        batch.append(idx)
    if batch:
        batches.append(batch)
    return batches


def collate(audio, targets, pad_idx):
    sources = [torch.tensor(a, dtype=torch.float32) for a in audio]
    target_size = max(len(s) for s in sources)
    collated = sources[0].new_zeros(len(sources), target_size)
    padding_mask = torch.BoolTensor(collated.shape).fill_(False)
    for i, source in enumerate(sources):
        diff = len(source) - target_size
        if diff == 0:
            collated[i] = source
        else:
            collated[i] = torch.cat([source, source.new_full((-diff,), 0.0)])
            padding_mask[i, diff:] = True
    lengths = torch.LongTensor([len(t) for t in targets])
    target = torch.full((len(targets), int(lengths.max())), pad_idx, dtype=torch.long)
    for i, t in enumerate(targets):
        target[i, : len(t)] = torch.tensor(t, dtype=torch.long)
    return {
        "source": collated.tolist(),
        "padding_mask": padding_mask.tolist(),
        "target": target.tolist(),
        "target_lengths": lengths.tolist(),
        "ntokens": int(lengths.sum()),
    }


def main():
    spec = json.load(open(sys.argv[1]))
    out = {
        "batch_by_size": [
            batch_by_size(c["indices"], c["sizes"], c["max_tokens"], c["max_sentences"], c["mult"])
            for c in spec.get("batch_by_size", [])
        ]
    }
    if "collate" in spec:
        c = spec["collate"]
        out["collate"] = collate(c["audio"], c["targets"], c["pad_idx"])
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
