#!/usr/bin/env python3
"""Oracle for the checkpoint reader/writer tests (run with /usr/bin/python3).

  ckpt_fixtures.py make OUT_DIR      writes PyTorch files made by torch.save in every flavour
                                     the C++ reader must parse, plus expected.json describing
                                     their content, plus hostile files that must be rejected.
  ckpt_fixtures.py safetensors DIR  writes DIR/model.safetensors (HF layout: u64 header length,
                                     JSON header, raw little-endian bytes) and expected.json, and a
                                     file whose data_offsets exceed its data.
  ckpt_fixtures.py seeds DIR         writes small real-shaped seed files for the fuzz harnesses:
                                     DIR/torch_file/ (zip, legacy, protocols 2-5, state_dict with
                                     _metadata, fairseq-shaped dict), DIR/safetensors/ and
                                     DIR/hf_json/ (config.json and a sharded index, mode byte first).
  ckpt_fixtures.py compare A B ...   torch.load each pair and check they hold the same tree
                                     (types, values, tensor dtype/shape/stride/offset/values,
                                     storage sharing); exit 1 with a message on difference.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt_layouts as layouts  # noqa: E402


def sample():
    torch.manual_seed(0)
    base = torch.randn(4, 5)
    ns = argparse.Namespace(arch="wav2vec_ctc", lr=[3e-05], normalize=False,
                            w2v_args=argparse.Namespace(encoder_layers=2, latent_temp="(2,0.5,0.999995)"))
    return {
        "none": None, "true": True, "false": False, "int": -5, "big": 2**40, "neg": -(2**40),
        "int_max": 2**63 - 1, "float": 1.5, "nan": float("nan"), "str": "h\u00e9llo \u4e16\u754c",
        "bytes": b"\x00\xff\x80a", "list": [1, [2, 3], []], "tuple": (1, "a", (), (2.5,)),
        "nested": {"x": {"y": [None, {"z": 3}]}, 7: "int key"},
        "base": base, "view": base[1:3, 2:], "transposed": base.t(), "expanded": torch.ones(3).expand(2, 3),
        "f16": torch.randn(3, 2).half(), "bf16": torch.randn(5).bfloat16(), "f64": torch.randn(2).double(),
        "i64": torch.tensor([1, -2, 2**40]), "i32": torch.tensor([7, -8], dtype=torch.int32),
        "i16": torch.tensor([300], dtype=torch.int16), "i8": torch.tensor([-3], dtype=torch.int8),
        "u8": torch.tensor([255, 0], dtype=torch.uint8), "bool": torch.tensor([True, False]),
        "scalar_tensor": torch.tensor(3.25), "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.arange(3.0)),
        "np_f8": np.float64(2.5), "np_f4": np.float32(0.25), "np_i8": np.int64(-7), "np_bool": np.bool_(True),
        "ns": ns,
        "od": collections.OrderedDict([("w", torch.arange(4.0)), ("b", torch.zeros(2))]),
    }


def describe(v):
    """JSON view of a value for the C++ test to compare against."""
    if v is None:
        return {"type": "None"}
    if isinstance(v, (bool, np.bool_)):
        return {"type": "bool", "value": bool(v)}
    if isinstance(v, (int, np.integer)):
        return {"type": "int", "value": int(v)}
    if isinstance(v, (float, np.floating)):
        return {"type": "float", "value": None if v != v else float(v)}
    if isinstance(v, str):
        return {"type": "str", "value": v}
    if isinstance(v, bytes):
        return {"type": "bytes", "value": list(v)}
    if isinstance(v, torch.Tensor):
        return {"type": "tensor", "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                "stride": list(v.stride()), "offset": v.storage_offset(),
                "values": [float(x) for x in v.detach().double().flatten().tolist()],
                "storage": v.storage().data_ptr()}
    if isinstance(v, list):
        return {"type": "list", "items": [describe(x) for x in v]}
    if isinstance(v, tuple):
        return {"type": "tuple", "items": [describe(x) for x in v]}
    if isinstance(v, dict):
        return {"type": "OrderedDict" if isinstance(v, collections.OrderedDict) else "dict",
                "items": [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, argparse.Namespace):
        return {"type": "argparse.Namespace", "attrs": {k: describe(x) for k, x in vars(v).items()}}
    raise TypeError(type(v))


def zip_entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_zip(path, entries, force_zip64=False):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            with z.open(zipfile.ZipInfo(name), "w", force_zip64=force_zip64) as f:
                f.write(data)


class Persist(pickle.Pickler):
    """Pickler whose tuples tagged "PID" become persistent ids (to hand-craft hostile files)."""

    def persistent_id(self, obj):
        if isinstance(obj, tuple) and obj and obj[0] == "PID":
            return obj[1:]
        return None


def torch_zip(path, obj, storages):
    buf = io.BytesIO()
    Persist(buf, protocol=2).dump(obj)
    write_zip(path, [("archive/data.pkl", buf.getvalue())] +
              [("archive/data/" + k, v) for k, v in storages.items()] + [("archive/version", b"3\n")])


def rebuild(key, numel, offset, size, stride, cls=torch.FloatStorage):
    return torch._utils._rebuild_tensor_v2, (("PID", "storage", cls, key, "cpu", numel), offset, size, stride,
                                              False, collections.OrderedDict())


class Rebuild:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return rebuild(*self.args)


def bare_issue13():
    """Issue 13's reproducer: an OrderedDict with _metadata set by hand."""
    sd = collections.OrderedDict(a=torch.zeros(2))
    sd._metadata = {"": {"version": 1}}
    return sd


def make(out):
    os.makedirs(out, exist_ok=True)
    obj = sample()
    torch.save(obj, os.path.join(out, "by_path.pt"))  # folder "by_path"
    with open(os.path.join(out, "by_file.pt"), "wb") as f:
        torch.save(obj, f)  # folder "archive"
    torch.save(obj, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(obj, os.path.join(out, "proto4.pt"), pickle_protocol=4)
    torch.save(obj, os.path.join(out, "proto5.pt"), pickle_protocol=5)
    write_zip(os.path.join(out, "zip64.pt"), zip_entries(os.path.join(out, "by_path.pt")), force_zip64=True)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(describe(obj), f)
    # module.state_dict(): an OrderedDict carrying _metadata (pickled as BUILD on the dict), as in
    # every real checkpoint; and issue 13's reproducer.
    torch.manual_seed(3)
    sd = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3), torch.nn.GroupNorm(2, 2), torch.nn.Linear(4, 3)).state_dict()
    torch.save(sd, os.path.join(out, "state_dict.pt"))
    torch.save(sd, os.path.join(out, "state_dict_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(bare_issue13(), os.path.join(out, "issue13_sd.pt"))

    # Hostile files: each must give a clear error, never a crash or a huge allocation.
    hostile = os.path.join(out, "hostile")
    os.makedirs(hostile, exist_ok=True)
    four = struct.pack("<4f", 1, 2, 3, 4)
    torch_zip(os.path.join(hostile, "huge_storage.pt"), {"w": Rebuild("0", 2**60, 0, (2**30, 2**30), (2**30, 1))},
              {"0": four})
    torch_zip(os.path.join(hostile, "view_out_of_range.pt"), {"w": Rebuild("0", 4, 2, (2, 2), (2, 1))}, {"0": four})
    torch_zip(os.path.join(hostile, "missing_storage.pt"), {"w": Rebuild("7", 4, 0, (4,), (1,))}, {"0": four})
    torch_zip(os.path.join(hostile, "bad_storage_class.pt"),
              {"w": Rebuild("0", 4, 0, (4,), (1,), argparse.Namespace)}, {"0": four})
    rec = []
    rec.append(rec)
    torch_zip(os.path.join(hostile, "recursive.pt"), {"r": rec}, {})
    # 100 000 nested lists through the memo (keeps the unpickler stack tiny).
    deep = bytearray(b"\x80\x02]r\x00\x00\x00\x00")
    for i in range(1, 100000):
        deep += b"j" + struct.pack("<I", i - 1) + b"]r" + struct.pack("<I", i) + b"a0"
    deep += b"."
    write_zip(os.path.join(hostile, "deep.pt"), [("archive/data.pkl", bytes(deep)), ("archive/version", b"3\n")])
    with open(os.path.join(hostile, "wrong_magic.pt"), "wb") as f:
        f.write(b"this is not a checkpoint at all\n")
    good = open(os.path.join(out, "by_file.pt"), "rb").read()
    with open(os.path.join(hostile, "truncated.pt"), "wb") as f:
        f.write(good[: len(good) // 2])
    # Central directory offset pointing past the end of the file.
    eocd = good.rfind(b"PK\x05\x06")
    bad = bytearray(good)
    bad[eocd + 16:eocd + 20] = struct.pack("<I", len(good) + 1000)
    z64 = good.rfind(b"PK\x06\x06")  # torch's writer adds a ZIP64 end record; corrupt it too
    if z64 >= 0:
        bad[z64 + 48:z64 + 56] = struct.pack("<Q", len(good) + 1000)
    with open(os.path.join(hostile, "bad_cd_offset.pt"), "wb") as f:
        f.write(bytes(bad))
    pkl = dict(zip_entries(os.path.join(out, "by_path.pt")))["by_path/data.pkl"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name" warning: that is the point
        write_zip(os.path.join(hostile, "duplicate_entry.pt"),
                  [("archive/data.pkl", b"\x80\x02N."), ("archive/data.pkl", pkl), ("archive/version", b"3\n")])
    # Valid but large: 200 000 distinct keys in one dict, then key 5 again (it replaces the value),
    # which a scan per key for repeats would take minutes over.
    many = bytearray(b"\x80\x02}(")
    for i in range(200000):
        many += b"J" + struct.pack("<i", i) + b"K\x01"
    many += b"J" + struct.pack("<i", 5) + b"K\x02u."
    write_zip(os.path.join(out, "many_keys.pt"), [("archive/data.pkl", bytes(many)), ("archive/version", b"3\n")])
    legacy = open(os.path.join(out, "legacy.pt"), "rb").read()
    with open(os.path.join(hostile, "legacy_truncated.pt"), "wb") as f:
        f.write(legacy[:-10])


# c10's names of the dtypes the safetensors fixture holds (what the C++ test compares).
C10_NAMES = {torch.float32: "Float", torch.float16: "Half", torch.bfloat16: "BFloat16", torch.int64: "Long",
             torch.float64: "Double", torch.int32: "Int", torch.uint8: "Byte"}


def write_safetensors(path, tensors, offset_slack=0):
    """As safetensors.torch.save_file(tensors, path, metadata={"format": "pt"}) writes it."""
    layouts.write_safetensors(path, tensors, metadata={"format": "pt"}, offset_slack=offset_slack)


def make_safetensors(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    tensors = {"w": torch.randn(3, 4), "h": torch.randn(5).half(), "b": torch.randn(2, 2).bfloat16(),
               "i": torch.tensor([1, -2, 2**40]), "d": torch.randn(1).double(), "n": torch.tensor([3], dtype=torch.int32),
               "u": torch.tensor([0, 255], dtype=torch.uint8), "e": torch.zeros(0, 2)}
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    write_safetensors(os.path.join(out, "bad_offsets.safetensors"), {"w": torch.randn(3)}, offset_slack=1000)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({k: {"shape": list(t.shape), "dtype": C10_NAMES[t.dtype],
                       "values": [float(x) for x in t.double().flatten().tolist()]} for k, t in tensors.items()}, f)


def make_seeds(out):
    """Small files shaped like real checkpoints, for libFuzzer's starting corpus."""
    torch.manual_seed(2)
    d = os.path.join(out, "torch_file")
    os.makedirs(d, exist_ok=True)
    lin = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    sd = lin.state_dict()  # OrderedDict carrying _metadata, as every real checkpoint
    torch.save(sd, os.path.join(d, "state_dict.pt"))
    torch.save(sd, os.path.join(d, "state_dict_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({k: v.half() for k, v in sd.items()}, os.path.join(d, "state_dict_fp16.pt"), pickle_protocol=4)
    ns = argparse.Namespace(arch="wav2vec2", encoder_layers=2, lr=[5e-4], normalize=False)
    fairseq = {"args": ns, "model": sd, "optimizer_history": [{"criterion_name": "Wav2vecCriterion",
                                                                "optimizer_name": "Adam", "num_updates": 3}],
               "extra_state": {"epoch": 1, "val_loss": 2.5}, "last_optimizer_state": None}
    torch.save(fairseq, os.path.join(d, "fairseq_args.pt"))
    small = {k: v for k, v in sample().items() if k not in ("nested", "ns")}
    torch.save(small, os.path.join(d, "sample_proto5.pt"), pickle_protocol=5)
    torch.save(small, os.path.join(d, "sample_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(bare_issue13(), os.path.join(d, "issue13_sd.pt"))
    s = os.path.join(out, "safetensors")
    os.makedirs(s, exist_ok=True)
    write_safetensors(os.path.join(s, "model.safetensors"), dict(sd))
    write_safetensors(os.path.join(s, "fp16.safetensors"), {k: v.half() for k, v in sd.items()})
    # hf_json: first byte 0 = config.json, 1 = model.safetensors.index.json (fuzz_hf_json.cpp).
    h = os.path.join(out, "hf_json")
    os.makedirs(h, exist_ok=True)
    tmp = os.path.join(out, "hf_tmp")
    config = {"architectures": ["Wav2Vec2ForCTC"], "model_type": "wav2vec2", "feat_extract_norm": "layer",
              "conv_dim": [32, 32], "conv_kernel": [10, 3], "conv_stride": [5, 2], "conv_bias": True,
              "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
              "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 4, "do_stable_layer_norm": True,
              "vocab_size": 12, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "feat_extract_activation": "gelu"}
    tensors = collections.OrderedDict((k, torch.zeros(2)) for k in "abc")
    layouts.save_pretrained(tmp, config, tensors, safe_serialization=True, max_shard_size=16)
    with open(os.path.join(h, "config.json"), "wb") as f:
        f.write(b"\x00" + open(os.path.join(tmp, "config.json"), "rb").read())
    with open(os.path.join(h, "index.json"), "wb") as f:
        f.write(b"\x01" + open(os.path.join(tmp, "model.safetensors.index.json"), "rb").read())
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


def same(a, b, path, ptr_a, ptr_b):
    def fail(msg):
        raise SystemExit("%s: %s" % (path or "<root>", msg))
    if isinstance(a, (np.generic,)):
        a = a.item()
    if isinstance(b, (np.generic,)):
        b = b.item()
    if type(a) is not type(b) and not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        fail("type %s vs %s" % (type(a).__name__, type(b).__name__))
    if isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape or a.stride() != b.stride() or \
                a.storage_offset() != b.storage_offset():
            fail("tensor layout %s %s %s %d vs %s %s %s %d" % (a.dtype, tuple(a.shape), a.stride(), a.storage_offset(),
                                                               b.dtype, tuple(b.shape), b.stride(), b.storage_offset()))
        if not torch.equal(a, b):
            fail("tensor values differ")
        # Storage sharing must be the same relation on both sides.
        pa, pb = a.storage().data_ptr(), b.storage().data_ptr()
        if ptr_a.setdefault(pa, pb) != pb or ptr_b.setdefault(pb, pa) != pa:
            fail("storage sharing differs")
    elif isinstance(a, float):
        if not (a == b or (a != a and b != b)):
            fail("%r vs %r" % (a, b))
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            fail("length %d vs %d" % (len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (path, i), ptr_a, ptr_b)
    elif isinstance(a, dict):
        if getattr(a, "__dict__", {}) != getattr(b, "__dict__", {}):
            fail("attributes %r vs %r" % (getattr(a, "__dict__", {}), getattr(b, "__dict__", {})))
        if list(a.keys()) != list(b.keys()):
            fail("keys %s vs %s" % (list(a.keys()), list(b.keys())))
        for k in a:
            same(a[k], b[k], "%s.%s" % (path, k), ptr_a, ptr_b)
    elif isinstance(a, argparse.Namespace):
        same(vars(a), vars(b), path, ptr_a, ptr_b)
    elif a != b:
        fail("%r vs %r" % (a, b))


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "safetensors":
        make_safetensors(sys.argv[2])
    elif sys.argv[1] == "seeds":
        make_seeds(sys.argv[2])
    elif sys.argv[1] == "compare":
        for a, b in zip(sys.argv[2::2], sys.argv[3::2]):
            same(torch.load(a), torch.load(b), "", {}, {})
        print("same")
    else:
        raise SystemExit("usage: ckpt_fixtures.py make OUT | safetensors OUT | compare A B [A B ...]")


if __name__ == "__main__":
    main()
