#!/usr/bin/python3
"""Reference outputs of torchaudio 0.13's Wav2Vec2Model for w2v's model parity tests.

Usage: model_torchaudio.py IN.pt OUT.pt

IN.pt (written by tests/model with torch::pickle_save) is a dict:
  config     JSON string of w2v's Wav2Vec2Config fields (fairseq names)
  vocab      int, CTC output size (0 = no CTC head)
  state      {fairseq state-dict key: tensor}; keys may carry the `w2v_encoder.` prefix
  source     [B, L] float waveform batch
  lengths    [B] int64 valid samples per row (optional: absent = no padding)
  grad_weights  [B, T, V] (optional): d loss / d logits; the loss is sum(logits * grad_weights)
                over real frames, and OUT gets the gradient of every parameter.
  mask_indices / negative_indices (optional): also run the pre-training forward built from
                torchaudio's feature extractor and transformer plus model_reference.py heads.

The state dict is converted with torchaudio's own fairseq importer (_convert_state_dict), so
the name mapping is the reference's, not ours. OUT.pt is a dict of results (see bottom).
"""
import json
import os
import sys

import torch
from torchaudio.models import wav2vec2_model
from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_reference  # noqa: E402

_stock_gelu = torch.nn.functional.gelu


class _ContiguousGradGelu(torch.autograd.Function):
    """Debian's torch 1.13 returns a wrong GELU input gradient when the incoming gradient is
    not contiguous (torchaudio transposes right after its GELUs); same forward, fixed backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _stock_gelu(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return torch.ops.aten.gelu_backward(grad.contiguous(), x)


torch.nn.functional.gelu = lambda x, approximate="none": _ContiguousGradGelu.apply(x)


def parse_conv_layers(expr):
    # fairseq evaluates the expression with eval(); it is plain Python list syntax.
    return [tuple(t) for t in eval(expr, {"__builtins__": {}})]


def build(cfg, vocab):
    return wav2vec2_model(
        extractor_mode="group_norm" if cfg["extractor_mode"] == "default" else "layer_norm",
        extractor_conv_layer_config=parse_conv_layers(cfg["conv_feature_layers"]),
        extractor_conv_bias=cfg["conv_bias"],
        encoder_embed_dim=cfg["encoder_embed_dim"],
        encoder_projection_dropout=cfg["dropout_input"],
        encoder_pos_conv_kernel=cfg["conv_pos"],
        encoder_pos_conv_groups=cfg["conv_pos_groups"],
        encoder_num_layers=cfg["encoder_layers"],
        encoder_num_heads=cfg["encoder_attention_heads"],
        encoder_attention_dropout=cfg["attention_dropout"],
        encoder_ff_interm_features=cfg["encoder_ffn_embed_dim"],
        encoder_ff_interm_dropout=cfg["activation_dropout"],
        encoder_dropout=cfg["dropout"],
        encoder_layer_norm_first=cfg["layer_norm_first"],
        encoder_layer_drop=cfg["encoder_layerdrop"],
        aux_num_out=vocab if vocab > 0 else None,
    )


def main(inp, out):
    d = torch.load(inp)
    cfg = json.loads(d["config"])
    vocab = int(d.get("vocab", 0))
    torch.set_num_threads(int(d.get("threads", 1)))
    state = {k[len("w2v_encoder."):] if k.startswith("w2v_encoder.") else k: v for k, v in d["state"].items()}
    model = build(cfg, vocab)
    converted = _convert_state_dict(state)
    if "encoder.feature_projection.projection.weight" not in converted:
        raise SystemExit("torchaudio needs post_extract_proj: use a config whose conv dim differs from the encoder dim")
    model.load_state_dict(converted, strict=True)
    model.eval()

    source = d["source"].float()
    lengths = d.get("lengths")
    res = {}
    with torch.no_grad():
        conv, frame_lengths = model.feature_extractor(source, lengths)
        res["conv"] = conv.transpose(1, 2).contiguous()  # [B, C, T] like fairseq
        res["layers"] = model.extract_features(source, lengths)[0]
        res["x"] = model.encoder(conv, frame_lengths)
        if vocab > 0:
            res["logits"] = model(source, lengths)[0]
        if frame_lengths is not None:
            res["frame_lengths"] = frame_lengths

    if "grad_weights" in d:
        logits = model(source, lengths)[0]
        w = d["grad_weights"].float()
        if frame_lengths is not None:
            real = torch.arange(logits.size(1))[None, :] < frame_lengths[:, None]
            w = w * real[..., None]
        (logits * w).sum().backward()
        inverse = {}
        for k in state:
            mapped = _convert_state_dict({k: state[k]})
            if mapped:
                inverse[next(iter(mapped))] = k
        res["grads"] = {("w2v_encoder." + inverse[n]): p.grad for n, p in model.named_parameters()}

    if "mask_indices" in d:
        res.update(model_reference.pretrain_forward(model, state, cfg, source, lengths, d["mask_indices"],
                                                    d["negative_indices"]))
    torch.save(res, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
