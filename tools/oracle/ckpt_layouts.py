"""The file layouts real tools write, reproduced without those tools (run with /usr/bin/python3).

fairseq and transformers are not installed; these helpers follow their sources:
  - module_state_dict: what nn.Module.state_dict() returns (an OrderedDict carrying `_metadata`
    with every submodule's version), for a module tree shaped by the keys' dotted paths.
  - fairseq_args_checkpoint / fairseq_cfg_checkpoint: fairseq's checkpoint_utils.save_state
    (2020, argparse `args`) and Trainer.state_dict (hydra, since 2021-03: `cfg` turned into
    plain containers by OmegaConf.to_container), after utils.move_to_cpu, which keeps an
    OrderedDict's __dict__ (so `_metadata` survives). fp16 training saves the model in fp16 and
    the FP16Optimizer's state: the fp32 optimizer's state_dict plus "loss_scale".
  - save_pretrained: transformers' PreTrainedModel.save_pretrained: config.json (to_json_string:
    indent 2, sorted keys), the state dict split by shard_checkpoint in state-dict order into
    shards of at most max_shard_size bytes, named pytorch_model-0000k-of-0000n.bin /
    model-0000k-of-0000n.safetensors, with an index {"metadata": {"total_size"}, "weight_map"}
    (indent 2, sorted keys) when there is more than one shard. Shards are plain dicts.
  - write_safetensors: the safetensors library's serialize: tensors sorted by dtype (the Rust
    Dtype enum order, largest first) then name, compact JSON header with "__metadata__" first,
    padded with spaces to a multiple of 8 bytes, data in the same order.
"""
import collections
import json
import os
import struct

import torch

# safetensors' Dtype enum order (serialization sorts by it, descending) and names.
ST_DTYPES = [(torch.bool, "BOOL"), (torch.uint8, "U8"), (torch.int8, "I8"), (torch.int16, "I16"),
             (torch.float16, "F16"), (torch.bfloat16, "BF16"), (torch.int32, "I32"), (torch.float32, "F32"),
             (torch.float64, "F64"), (torch.int64, "I64")]
ST_NAME = {t: n for t, n in ST_DTYPES}
ST_RANK = {t: i for i, (t, _) in enumerate(ST_DTYPES)}


def write_safetensors(path, tensors, metadata=None, offset_slack=0):
    """safetensors.torch.save_file(tensors, path, metadata); offset_slack > 0 makes a hostile file
    whose data_offsets run past the data."""
    order = sorted(tensors.items(), key=lambda kv: (-ST_RANK[kv[1].dtype], kv[0]))
    header, blobs, pos = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in order:
        data = t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": ST_NAME[t.dtype], "shape": list(t.shape),
                        "data_offsets": [pos, pos + len(data) + offset_slack]}
        blobs.append(data)
        pos += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class _Node(torch.nn.Module):
    pass


def module_state_dict(flat):
    """flat: ordered {dotted key: tensor} -> module.state_dict() of a module tree with those
    parameters (keys ending in running_mean/var or num_batches_tracked become buffers)."""
    root = _Node()
    for key, t in flat.items():
        *path, leaf = key.split(".")
        m = root
        for p in path:
            if not hasattr(m, p) or not isinstance(getattr(m, p), torch.nn.Module):
                m.add_module(p, _Node())
            m = getattr(m, p)
        if leaf in ("running_mean", "running_var", "num_batches_tracked") or not t.is_floating_point():
            m.register_buffer(leaf, t.clone())
        else:
            m.register_parameter(leaf, torch.nn.Parameter(t.clone(), requires_grad=t.is_floating_point()))
    sd = root.state_dict()
    assert sorted(sd.keys()) == sorted(flat.keys())  # in module order, as a real module lists them
    assert hasattr(sd, "_metadata")
    return sd


def fp16_optimizer_state(sd, lr):
    """FP16Optimizer.state_dict(): fairseq's fp32 Adam over the flattened fp32 copy of every
    parameter, plus the loss scale."""
    flat = torch.nn.Parameter(torch.cat([v.float().flatten() for v in sd.values() if v.is_floating_point()]))
    opt = torch.optim.Adam([flat], lr=lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    flat.grad = torch.randn_like(flat) * 1e-3
    opt.step()
    state = opt.state_dict()
    state["loss_scale"] = 128.0
    return state


def _meters():
    """metrics.state_dict(): aggregator name -> MetersDict.state_dict() (priority, key, class, state)."""
    return collections.OrderedDict([
        ("default", [(10, "loss", "AverageMeter", {"val": 2.31, "sum": 23.1, "count": 10, "round": 3}),
                     (40, "wps", "TimeMeter", {"init": 0, "start": 1.6e9, "n": 5120, "round": 1})]),
        ("train", [(10, "loss", "AverageMeter", {"val": 2.2, "sum": 22.0, "count": 10, "round": 3})]),
    ])


def fairseq_args_checkpoint(args, model_sd, criterion_name, num_updates, fp16):
    """checkpoint_utils.save_state of 2020 (fairseq 0.9/0.10): args Namespace."""
    return {
        "args": args,
        "model": model_sd,
        "optimizer_history": [{"criterion_name": criterion_name,
                               "optimizer_name": "FP16Optimizer" if fp16 else "FairseqAdam",
                               "lr_scheduler_state": {"best": 3.2}, "num_updates": num_updates}],
        "extra_state": {"train_iterator": {"epoch": 5, "iterations_in_epoch": 120, "shuffle": True},
                        "val_loss": 3.2, "best": 3.2, "metrics": _meters(), "previous_training_time": 5123.4},
        "last_optimizer_state": fp16_optimizer_state(model_sd, 5e-5) if fp16 else
        {"state": {}, "param_groups": [{"lr": [5e-5], "betas": (0.9, 0.98), "eps": 1e-6, "weight_decay": 0.0,
                                        "params": [0]}]},
    }


def fairseq_cfg_checkpoint(cfg, model_sd, criterion_name, num_updates, fp16, task_state=None):
    """Trainer.state_dict + checkpoint_utils.save_checkpoint's extra_state (fairseq >= 2021-03)."""
    return {
        "args": None,
        "cfg": cfg,
        "model": model_sd,
        "criterion": None,
        "optimizer_history": [{"criterion_name": criterion_name,
                               "optimizer_name": "FP16Optimizer" if fp16 else "Adam",
                               "lr_scheduler_state": {"_step_count": num_updates + 1}, "num_updates": num_updates}],
        "task_state": task_state or {},
        "extra_state": {"metrics": _meters(), "previous_training_time": 812.5,
                        "train_iterator": {"version": 2, "epoch": 3, "iterations_in_epoch": 0, "shuffle": True},
                        "val_loss": 2.9, "best": 2.9},
        "last_optimizer_state": fp16_optimizer_state(model_sd, 1e-4) if fp16 else
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-4).state_dict(),
    }


def save_pretrained(d, config, state_dict, safe_serialization, max_shard_size=None):
    """transformers' save_pretrained: config.json + weights, sharded when larger than
    max_shard_size (bytes; None = one file)."""
    os.makedirs(d, exist_ok=True)
    config = dict(config, transformers_version="4.30.2",
                  torch_dtype=str(next(iter(state_dict.values())).dtype).replace("torch.", ""))
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    weights_name = "model.safetensors" if safe_serialization else "pytorch_model.bin"
    blocks, size, total = [collections.OrderedDict()], 0, 0
    for k, t in state_dict.items():
        n = t.numel() * t.element_size()
        if max_shard_size is not None and size + n > max_shard_size and blocks[-1]:
            blocks.append(collections.OrderedDict())
            size = 0
        blocks[-1][k] = t
        size += n
        total += n
    if len(blocks) == 1:
        shards = {weights_name: state_dict}  # one file: the state dict itself (with _metadata)
    else:
        shards = {}
        for i, b in enumerate(blocks):
            stem, ext = weights_name.rsplit(".", 1)
            shards["%s-%05d-of-%05d.%s" % (stem, i + 1, len(blocks), ext)] = dict(b)
        index = {"metadata": {"total_size": total}, "weight_map": {k: f for f, b in shards.items() for k in b}}
        with open(os.path.join(d, weights_name + ".index.json"), "w") as f:
            f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for name, shard in shards.items():
        path = os.path.join(d, name)
        if safe_serialization:
            write_safetensors(path, {k: v.contiguous() for k, v in shard.items()}, metadata={"format": "pt"})
        else:
            torch.save(shard, path)
    return list(shards)
