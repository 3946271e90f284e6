#include "recognizer/features.h"

#include <fmt/core.h>

#include "audio/audio.h"
#include "model/precision.h"
#include "util/error.h"

namespace w2v {

FeatureExtractor::FeatureExtractor(const std::string& model, const std::string& precision)
    : model_(ckpt::load_model(model)) {
  model_.module().eval();
  model_.encoder()->prepare(model::parse_precision(precision));  // the CTC head (logits) stays fp32
}

Features FeatureExtractor::file(const std::string& audio_path, int layer, bool logits) const {
  if (logits && !ctc()) throw Error("logits need a fine-tuned (CTC) model");
  if (layer < -1 || layer > layers())
    throw Error(fmt::format("layer {}: the model has layers 1..{}", layer, layers()));
  torch::NoGradGuard no_grad;
  audio::ReadOptions ro;
  ro.normalize = model_.config.normalize;
  ro.resample = true;  // any rate, as transcribe reads it
  auto samples = audio::read(audio_path, ro);
  auto encoder = model_.encoder();
  if (encoder->output_length(static_cast<int64_t>(samples.size())) < 1)
    throw Error(fmt::format("{}: {} samples is shorter than the feature encoder's receptive field", audio_path,
                            samples.size()));
  auto source = torch::from_blob(samples.data(), {1, static_cast<int64_t>(samples.size())}, torch::kFloat).clone();
  // One forward serves every output: the logits are the CTC head on the final output, so with
  // logits the network runs to the end and a chosen layer is read on the way.
  const bool to_end = layer <= 0 || logits;
  auto f = encoder->extract_features(source, {}, {}, {}, to_end ? -1 : layer - 1);
  Features out;
  out.samples = static_cast<int64_t>(samples.size());
  if (layer < 0) {
    for (const auto& r : f.layer_results) out.layers.push_back(r.select(0, 0));
  } else {
    out.layers.push_back((layer == 0 ? f.x : f.layer_results.at(layer - 1)).select(0, 0));
  }
  if (logits) {
    // Wav2VecEncoder::forward's head (final_dropout is the identity in eval): [T, V].
    auto ctc = model_.ctc;  // the holder's copy gives the non-const head()
    const auto head = ctc->w2v_encoder->head(f.x.select(0, 0)).to(torch::kFloat).contiguous();
    out.logits.frames = static_cast<int>(head.size(0));
    out.logits.vocab = static_cast<int>(head.size(1));
    out.logits.data.assign(head.data_ptr<float>(), head.data_ptr<float>() + head.numel());
  }
  return out;
}

}  // namespace w2v
