#!/usr/bin/env python3
"""Oracle for checkpoint import/export parity (run with /usr/bin/python3).

Builds small torchaudio wav2vec2 models with random weights, writes them in the layouts real
checkpoints use, and records torchaudio's outputs on a fixed input, so that the C++ side can
check that importing gives the same network.

  ckpt_models.py make OUT      writes OUT/input.pt and, for each case, the checkpoint plus
                               OUT/expected_<case>.pt = {"output": tensor, "vocab": int}
   Every model is module.state_dict() (an OrderedDict with _metadata) in the layout the real
   tool saves (ckpt_layouts.py):
     fairseq_ctc_args.pt   2020 layout: args Namespace with nested w2v_args, fp16 weights and
                           FP16Optimizer state, legacy (pre-1.6) serialization, 32 outputs
                           (no dictionary inside)
     fairseq_pretrain_args.pt  2020 pre-training checkpoint (wav2vec_small.pt layout), fp16
     fairseq_ctc_cfg.pt    hydra cfg dicts, layer_norm extractor, conv bias, pre-LN, fp16,
                           parametrized weight norm, task_state.target_dictionary object
     fairseq_pretrain.pt   hydra pre-training model (quantizer, project_q, final_proj), fp32;
                           output = encoder features
     fairseq_pretrain_dictconfig.pt  hydra pre-training checkpoint whose cfg is an omegaconf
                           DictConfig (fairseq 2020-10..2021-03), layer_norm extractor, pre-LN
     hf_ctc/               save_pretrained of Wav2Vec2ForCTC: model.safetensors, vocab.json
     hf_pretrain/          save_pretrained of Wav2Vec2ForPreTraining: pytorch_model.bin
     hf_ctc_sharded_st/    Wav2Vec2ForCTC in fp16, sharded safetensors
                           (model.safetensors.index.json + model-0000k-of-0000n.safetensors)
     hf_pretrain_sharded_bin/  Wav2Vec2ForPreTraining in fp16, sharded torch files
                           (pytorch_model.bin.index.json + pytorch_model-0000k-of-0000n.bin),
                           pos_conv weight norm as torch 2 parametrizations
  ckpt_models.py check_fairseq FILE EXPECTED INPUT
                               torch.load a w2v-written checkpoint, rebuild it in torchaudio
                               via import_fairseq's own key mapping, compare outputs (1e-4)
  ckpt_models.py check_hf DIR EXPECTED INPUT
                               load an exported HF directory through torchaudio's
                               import_huggingface_model, compare outputs (1e-4)
"""
import argparse
import collections
import json
import logging
import os
import sys
import types

import torch
import torchaudio
from torchaudio.models.wav2vec2.utils import import_fairseq, import_huggingface

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt_layouts as layouts  # noqa: E402  (the layouts fairseq and transformers write)

CONV = [(32, 10, 5), (32, 3, 2), (32, 3, 2)]
CONV_EXPR = "[(32, 10, 5)] + [(32, 3, 2)] * 2"
D, FFN, HEADS, LAYERS, POS_K, POS_G = 48, 64, 4, 2, 8, 4


def ta_model(mode, bias, pre_ln, aux):
    m = torchaudio.models.wav2vec2_model(
        extractor_mode=mode, extractor_conv_layer_config=CONV, extractor_conv_bias=bias, encoder_embed_dim=D,
        encoder_projection_dropout=0.0, encoder_pos_conv_kernel=POS_K, encoder_pos_conv_groups=POS_G,
        encoder_num_layers=LAYERS, encoder_num_heads=HEADS, encoder_attention_dropout=0.0,
        encoder_ff_interm_features=FFN, encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
        encoder_layer_norm_first=pre_ln, encoder_layer_drop=0.0, aux_num_out=aux)
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.2 + (1.0 if "norm" in name and name.endswith("weight") else 0.0))
    return m.eval()


def fairseq_key(ta_key, mode):
    """Inverse of torchaudio's import_fairseq._map_key (checked against it below)."""
    rules = [
        (r"feature_extractor\.conv_layers\.(\d+)\.conv\.(\w+)", r"feature_extractor.conv_layers.\1.0.\2"),
        (r"feature_extractor\.conv_layers\.(\d+)\.layer_norm\.(\w+)",
         r"feature_extractor.conv_layers.\1.2.\2" if mode == "group_norm" else r"feature_extractor.conv_layers.\1.2.1.\2"),
        (r"encoder\.feature_projection\.projection\.(\w+)", r"post_extract_proj.\1"),
        (r"encoder\.feature_projection\.layer_norm\.(\w+)", r"layer_norm.\1"),
        (r"encoder\.transformer\.pos_conv_embed\.conv\.(\w+)", r"encoder.pos_conv.0.\1"),
        (r"encoder\.transformer\.layer_norm\.(\w+)", r"encoder.layer_norm.\1"),
        (r"encoder\.transformer\.layers\.(\d+)\.attention\.(\w+)\.(\w+)", r"encoder.layers.\1.self_attn.\2.\3"),
        (r"encoder\.transformer\.layers\.(\d+)\.layer_norm\.(\w+)", r"encoder.layers.\1.self_attn_layer_norm.\2"),
        (r"encoder\.transformer\.layers\.(\d+)\.feed_forward\.intermediate_dense\.(\w+)", r"encoder.layers.\1.fc1.\2"),
        (r"encoder\.transformer\.layers\.(\d+)\.feed_forward\.output_dense\.(\w+)", r"encoder.layers.\1.fc2.\2"),
        (r"encoder\.transformer\.layers\.(\d+)\.final_layer_norm\.(\w+)", r"encoder.layers.\1.final_layer_norm.\2"),
        (r"aux\.(\w+)", r"proj.\1"),
    ]
    import re
    for pat, rep in rules:
        if re.fullmatch(pat, ta_key):
            key = re.sub(pat, rep, ta_key)
            assert import_fairseq._map_key(key) == ta_key, (key, ta_key)
            return key
    raise KeyError(ta_key)


def fairseq_state(m, mode, ctc, half=False):
    sd = collections.OrderedDict()
    prefix = "w2v_encoder.w2v_model." if ctc else ""
    sd[prefix + "mask_emb"] = torch.rand(D)
    for k, v in m.state_dict().items():
        fk = fairseq_key(k, mode)
        sd[("w2v_encoder." + fk) if fk.startswith("proj.") else prefix + fk] = v.clone()
    if not ctc:
        sd["quantizer.vars"] = torch.randn(1, 2 * 8, 8)
        sd["quantizer.weight_proj.weight"] = torch.randn(16, 32)
        sd["quantizer.weight_proj.bias"] = torch.randn(16)
        sd["project_q.weight"] = torch.randn(24, 16)
        sd["project_q.bias"] = torch.randn(24)
        sd["final_proj.weight"] = torch.randn(24, D)
        sd["final_proj.bias"] = torch.randn(24)
    if half:
        sd = collections.OrderedDict((k, v.half()) for k, v in sd.items())
    return sd


def w2v_model_args(mode, bias, pre_ln, **extra):
    a = dict(extractor_mode="default" if mode == "group_norm" else "layer_norm", conv_feature_layers=CONV_EXPR,
             conv_bias=bias, encoder_layers=LAYERS, encoder_embed_dim=D, encoder_ffn_embed_dim=FFN,
             encoder_attention_heads=HEADS, activation_fn="gelu", layer_norm_first=pre_ln, conv_pos=POS_K,
             conv_pos_groups=POS_G, dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
             encoder_layerdrop=0.05, dropout_input=0.1, dropout_features=0.1, final_dim=24, quantize_targets=True,
             latent_vars=8, latent_groups=2, latent_dim=16, logit_temp=0.1, num_negatives=100,
             cross_sample_negatives=0, mask_prob=0.65, mask_length=10, feature_grad_mult=0.1)
    a.update(extra)
    return a


def run(m, source):
    with torch.no_grad():
        out, _ = m(source)
    return out


def fake_fairseq_dictionary(symbols):
    """An object pickled as fairseq.data.dictionary.Dictionary (as hydra-era task_state holds)."""
    mod = types.ModuleType("fairseq.data.dictionary")
    for name in ("fairseq", "fairseq.data"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["fairseq.data.dictionary"] = mod

    class Dictionary:
        pass
    Dictionary.__module__ = "fairseq.data.dictionary"
    Dictionary.__qualname__ = "Dictionary"
    mod.Dictionary = Dictionary
    d = Dictionary()
    d.bos_word, d.unk_word, d.pad_word, d.eos_word = "<s>", "<unk>", "<pad>", "</s>"
    d.symbols = list(symbols)
    d.count = [1] * 4 + [10 + i for i in range(len(symbols) - 4)]
    d.indices = {s: i for i, s in enumerate(symbols)}
    d.bos_index, d.pad_index, d.eos_index, d.unk_index = 0, 1, 2, 3
    d.nspecial = 4
    return d


def make(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    source = torch.randn(2, 4000) * 0.3
    torch.save({"source": source}, os.path.join(out, "input.pt"))

    def expect(name, output, vocab):
        torch.save({"output": output, "vocab": vocab}, os.path.join(out, "expected_%s.pt" % name))

    # 1. 2020 fine-tuned checkpoint: args Namespace, fp16 weights, legacy serialization.
    m = ta_model("group_norm", False, False, 32)
    sd = layouts.module_state_dict(fairseq_state(m, "group_norm", ctc=True, half=True))
    w2v_args = argparse.Namespace(arch="wav2vec2", task="audio_pretraining", normalize=False,
                                  latent_temp="(2,0.5,0.999995)", **w2v_model_args("group_norm", False, False))
    args = argparse.Namespace(arch="wav2vec_ctc", task="audio_pretraining", criterion="ctc", normalize=False,
                              labels="ltr", w2v_path="/x/wav2vec_small.pt", w2v_args=w2v_args, dropout=0.0,
                              attention_dropout=0.0, activation_dropout=0.1, dropout_input=0.0, final_dropout=0.0,
                              apply_mask=True, mask_prob=0.5, mask_length=10, mask_channel_prob=0.1,
                              mask_channel_length=64, layerdrop=0.1, feature_grad_mult=0.0,
                              freeze_finetune_updates=10000, fp16=True, lr=[5e-05])
    import numpy as np
    ckpt = layouts.fairseq_args_checkpoint(args, sd, "CtcCriterion", 20000, fp16=True)
    ckpt["extra_state"]["val_loss"] = np.float64(3.2)  # fairseq logs numpy scalars
    torch.save(ckpt, os.path.join(out, "fairseq_ctc_args.pt"), _use_new_zipfile_serialization=False)
    m.half().float()  # the reference computes with the fp16-rounded weights
    expect("fairseq_ctc_args", run(m, source), 32)

    # 1b. 2020 pre-training checkpoint (wav2vec_small.pt): args Namespace, fp16.
    m = ta_model("group_norm", False, False, None)
    sd = layouts.module_state_dict(fairseq_state(m, "group_norm", ctc=False, half=True))
    args = argparse.Namespace(arch="wav2vec2", task="audio_pretraining", criterion="wav2vec", normalize=False,
                              latent_temp="(2,0.5,0.999995)", fp16=True, max_update=400000,
                              **w2v_model_args("group_norm", False, False))
    torch.save(layouts.fairseq_args_checkpoint(args, sd, "Wav2vecCriterion", 400000, fp16=True),
               os.path.join(out, "fairseq_pretrain_args.pt"))
    m.half().float()
    expect("fairseq_pretrain_args", run(m, source), 0)

    # 2. hydra fine-tuned checkpoint with parametrized weight norm and a target dictionary.
    m = ta_model("layer_norm", True, True, 10)
    sd = fairseq_state(m, "layer_norm", ctc=True, half=True)
    for k in list(sd):
        if k.endswith("pos_conv.0.weight_g"):
            sd[k.replace("weight_g", "parametrizations.weight.original0")] = sd.pop(k)
        elif k.endswith("pos_conv.0.weight_v"):
            sd[k.replace("weight_v", "parametrizations.weight.original1")] = sd.pop(k)
    enc = dict(_name="wav2vec2", latent_temp=[2.0, 0.1, 0.999995], **w2v_model_args("layer_norm", True, True))
    model_cfg = dict(_name="wav2vec_ctc", w2v_path="/x/wav2vec_vox_new.pt", no_pretrained_weights=False,
                     dropout_input=0.0, final_dropout=0.0, dropout=0.0, attention_dropout=0.0,
                     activation_dropout=0.1, apply_mask=True, mask_length=10, mask_prob=0.5,
                     mask_selection="static", mask_other=0.0, no_mask_overlap=False, mask_channel_length=64,
                     mask_channel_prob=0.25, mask_channel_selection="static", mask_channel_other=0.0,
                     no_mask_channel_overlap=False, freeze_finetune_updates=0, feature_grad_mult=0.0,
                     layerdrop=0.05, normalize=True, data="/data",
                     w2v_args={"model": enc, "task": {"_name": "audio_pretraining", "normalize": True}})
    cfg = {"_name": None, "common": {"fp16": True, "log_interval": 200}, "model": model_cfg,
           "task": {"_name": "audio_finetuning", "data": "/data", "labels": "ltr", "normalize": True},
           "criterion": {"_name": "ctc", "zero_infinity": True}, "optimizer": {"_name": "adam", "adam_betas": "(0.9,0.98)"}}
    symbols = ["<s>", "<pad>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N"]
    ckpt = layouts.fairseq_cfg_checkpoint(cfg, layouts.module_state_dict(sd), "CtcCriterion", 13000, fp16=True,
                                          task_state={"target_dictionary": fake_fairseq_dictionary(symbols)})
    with open(os.path.join(out, "fairseq_ctc_cfg.pt"), "wb") as f:
        torch.save(ckpt, f)
    m.half().float()
    expect("fairseq_ctc_cfg", run(m, source), 10)

    # 3. hydra pre-training checkpoint.
    m = ta_model("group_norm", False, False, None)
    sd = layouts.module_state_dict(fairseq_state(m, "group_norm", ctc=False))
    cfg = {"model": dict(_name="wav2vec2", latent_temp=[2.0, 0.5, 0.999995], **w2v_model_args("group_norm", False, False)),
           "task": {"_name": "audio_pretraining", "normalize": False}}
    torch.save(layouts.fairseq_cfg_checkpoint(cfg, sd, "Wav2vecCriterion", 400000, fp16=False),
               os.path.join(out, "fairseq_pretrain.pt"))
    expect("fairseq_pretrain", run(m, source), 0)

    # 3b. The same layout from fairseq of 2020-10..2021-03, which pickled cfg as an omegaconf
    # DictConfig (nodes with _parent back-references) instead of plain containers.
    from omegaconf import OmegaConf
    m = ta_model("layer_norm", True, True, None)
    sd = layouts.module_state_dict(fairseq_state(m, "layer_norm", ctc=False))
    cfg = OmegaConf.create({"common": {"fp16": False, "log_format": "json"},
                            "model": dict(_name="wav2vec2", latent_temp=[2.0, 0.5, 0.999995],
                                          **w2v_model_args("layer_norm", True, True)),
                            "task": {"_name": "audio_pretraining", "normalize": True, "labels": None}})
    ckpt = layouts.fairseq_cfg_checkpoint(cfg, sd, "Wav2vecCriterion", 150000, fp16=False)
    del ckpt["criterion"], ckpt["task_state"]  # save_state of that time wrote neither
    torch.save(ckpt, os.path.join(out, "fairseq_pretrain_dictconfig.pt"))
    expect("fairseq_pretrain_dictconfig", run(m, source), 0)

    # 4.-7. HuggingFace directories as save_pretrained writes them (names = torchaudio's with
    # the wav2vec2. prefix, spec 9.4/9.5).
    for name, mode, pre_ln, ctc, half, safe, sharded in (
            ("hf_ctc", "layer_norm", True, True, False, True, False),
            ("hf_pretrain", "group_norm", False, False, False, False, False),
            ("hf_ctc_sharded_st", "layer_norm", True, True, True, True, True),
            ("hf_pretrain_sharded_bin", "group_norm", False, False, True, False, True)):
        m = ta_model(mode, mode == "layer_norm", pre_ln, 12 if ctc else None)
        hf = collections.OrderedDict()
        for k, v in m.state_dict().items():
            if k.startswith("aux."):
                hf["lm_head." + k[4:]] = v
            elif k.startswith("encoder.feature_projection."):
                hf["wav2vec2." + k[len("encoder."):]] = v
            elif k.startswith("encoder.transformer."):
                hf["wav2vec2.encoder." + k[len("encoder.transformer."):]] = v
            else:
                hf["wav2vec2." + k] = v
        hf["wav2vec2.masked_spec_embed"] = torch.rand(D)
        if not ctc:
            hf["quantizer.codevectors"] = torch.randn(1, 16, 8)
            hf["quantizer.weight_proj.weight"] = torch.randn(16, 32)
            hf["quantizer.weight_proj.bias"] = torch.randn(16)
            hf["project_q.weight"] = torch.randn(24, 16)
            hf["project_q.bias"] = torch.randn(24)
            hf["project_hid.weight"] = torch.randn(24, D)
            hf["project_hid.bias"] = torch.randn(24)
        if sharded and not ctc:  # transformers on torch >= 2.1 saves weight norm as parametrizations
            for k in list(hf):
                for old, new in (("weight_g", "parametrizations.weight.original0"),
                                 ("weight_v", "parametrizations.weight.original1")):
                    if k.endswith("pos_conv_embed.conv." + old):
                        hf[k[:-len(old)] + new] = hf.pop(k)
        if half:
            hf = collections.OrderedDict((k, v.half()) for k, v in hf.items())
            m.half().float()
        d = os.path.join(out, name)
        config = {"architectures": ["Wav2Vec2ForCTC" if ctc else "Wav2Vec2ForPreTraining"], "model_type": "wav2vec2",
                  "feat_extract_norm": "layer" if mode == "layer_norm" else "group", "feat_extract_activation": "gelu",
                  "conv_dim": [c[0] for c in CONV], "conv_kernel": [c[1] for c in CONV],
                  "conv_stride": [c[2] for c in CONV], "conv_bias": mode == "layer_norm", "hidden_size": D,
                  "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": FFN,
                  "hidden_act": "gelu", "num_conv_pos_embeddings": POS_K, "num_conv_pos_embedding_groups": POS_G,
                  "do_stable_layer_norm": pre_ln, "layer_norm_eps": 1e-5, "hidden_dropout": 0.1,
                  "attention_dropout": 0.1, "activation_dropout": 0.0, "feat_proj_dropout": 0.0, "layerdrop": 0.1,
                  "final_dropout": 0.0, "num_codevectors_per_group": 8, "num_codevector_groups": 2,
                  "codevector_dim": 16, "proj_codevector_dim": 24, "vocab_size": 12, "pad_token_id": 0}
        total = sum(v.numel() * v.element_size() for v in hf.values())
        layouts.save_pretrained(d, config, layouts.module_state_dict(hf), safe_serialization=safe,
                                max_shard_size=total // 2 if sharded else None)
        if ctc:
            vocab = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H"]
            with open(os.path.join(d, "vocab.json"), "w") as f:
                f.write(json.dumps({s: i for i, s in enumerate(vocab)}, indent=2, sort_keys=True) + "\n")
            with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
                f.write(json.dumps({"do_normalize": True, "sampling_rate": 16000}, indent=2, sort_keys=True) + "\n")
        expect(name, run(m, source), 12 if ctc else 0)


def compare(got, expected_path):
    want = torch.load(expected_path)["output"]
    err = (got - want).abs().max().item()
    if got.shape != want.shape or err > 1e-4:
        raise SystemExit("mismatch: shape %s vs %s, max abs error %g" % (tuple(got.shape), tuple(want.shape), err))
    print("ok %g" % err)


def cfg_get(c, key, default=None):
    return c.get(key, default) if isinstance(c, dict) else getattr(c, key, default)


def check_fairseq(path, expected, inp):
    ckpt = torch.load(path)
    model_cfg = ckpt["cfg"]["model"]
    ctc = model_cfg["_name"] == "wav2vec_ctc"
    enc = model_cfg["w2v_args"]["model"] if ctc else model_cfg
    layers = eval(enc["conv_feature_layers"])  # a Python list expression, as fairseq evaluates it
    mode = "group_norm" if enc["extractor_mode"] == "default" else "layer_norm"
    sd = ckpt["model"]
    aux = sd["w2v_encoder.proj.weight"].shape[0] if ctc else None
    m = torchaudio.models.wav2vec2_model(
        extractor_mode=mode, extractor_conv_layer_config=[tuple(l) for l in layers], extractor_conv_bias=enc["conv_bias"],
        encoder_embed_dim=enc["encoder_embed_dim"], encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=enc["conv_pos"], encoder_pos_conv_groups=enc["conv_pos_groups"],
        encoder_num_layers=enc["encoder_layers"], encoder_num_heads=enc["encoder_attention_heads"],
        encoder_attention_dropout=0.0, encoder_ff_interm_features=enc["encoder_ffn_embed_dim"],
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=enc["layer_norm_first"],
        encoder_layer_drop=0.0, aux_num_out=aux)
    # import_fairseq's own mapping; the encoder's state dict is keyed w2v_model.* / proj.*
    prefix = "w2v_encoder." if ctc else ""
    converted = import_fairseq._convert_state_dict({k[len(prefix):]: v for k, v in sd.items()})
    m.load_state_dict(converted)
    compare(run(m.eval(), torch.load(inp)["source"]), expected)


class _Holder(torch.nn.Module):
    def __init__(self, sd):
        super().__init__()
        self._sd = sd

    def state_dict(self, *a, **k):
        return self._sd


def check_hf(d, expected, inp):
    config = json.load(open(os.path.join(d, "config.json")))
    sd = torch.load(os.path.join(d, "pytorch_model.bin"))

    def sub(prefix):
        return _Holder(collections.OrderedDict((k[len(prefix):], v) for k, v in sd.items() if k.startswith(prefix)))

    ctc = config["architectures"] == ["Wav2Vec2ForCTC"]
    # A stand-in with the attributes torchaudio's import_huggingface_model reads from a
    # transformers model (transformers itself is not packaged in Debian).
    body = types.SimpleNamespace(feature_extractor=sub("wav2vec2.feature_extractor."),
                                 feature_projection=sub("wav2vec2.feature_projection."), encoder=sub("wav2vec2.encoder."))
    cls = type("Wav2Vec2ForCTC" if ctc else "Wav2Vec2ForPreTraining", (), {})
    original = cls()
    original.config = types.SimpleNamespace(**config)
    if ctc:
        original.wav2vec2 = body
        original.lm_head = sub("lm_head.")
    else:
        original.feature_extractor, original.feature_projection, original.encoder = (
            body.feature_extractor, body.feature_projection, body.encoder)
    logging.disable(logging.WARNING)  # its "lm_head not imported" notice for pre-training models
    m = import_huggingface.import_huggingface_model(original)
    compare(run(m.eval(), torch.load(inp)["source"]), expected)


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2])
    elif cmd == "check_fairseq":
        check_fairseq(*sys.argv[2:5])
    elif cmd == "check_hf":
        check_hf(*sys.argv[2:5])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
