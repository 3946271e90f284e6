#include "decode/infer/acoustic_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "audio/audio.h"
#include "util/error.h"

namespace w2v::decode {

AcousticModel::AcousticModel(const std::string& checkpoint, const std::string& dict_path,
                             model::Precision precision) {
  ckpt::LoadOptions options;
  options.dict_path = dict_path;
  loaded_ = ckpt::load_model(checkpoint, options);
  if (loaded_.kind != ckpt::ModelKind::kCtc)
    throw file_error(checkpoint, 0, "expected a fine-tuned CTC model (wav2vec_ctc), got a pre-training model");
  if (!loaded_.dictionary)
    throw file_error(checkpoint, 0, "no output dictionary stored with the model; pass the dict.ltr.txt it was trained with");
  symbols_ = loaded_.dictionary->symbols();
  loaded_.ctc->eval();
  loaded_.ctc->prepare(precision);
  // Stride and receptive field from the model's own conv stack (conv_feature_layers may vary).
  auto encoder = loaded_.encoder();
  int64_t n = 1;
  while (encoder->output_length(n) < 1) ++n;
  geometry_.receptive = n;
  while (encoder->output_length(n) < 2) ++n;
  geometry_.stride = n - geometry_.receptive;
  geometry_.multiple = loaded_.config.crop_seq_to_multiple;
}

std::vector<EmissionMatrix> AcousticModel::emissions(const std::vector<const std::vector<float>*>& waves) const {
  // fairseq's GroupNorm (extractor_mode default) normalises each channel over all frames of an
  // input, padded ones included, so padding would change the emissions of every shorter input;
  // crop_seq_to_multiple crops the padded batch's frames, not each input's, so a shorter input
  // would keep (and attend to) frames its own run drops: such models batch only inputs of equal
  // length. Layer-norm extractors are per frame, and the transformer masks padding, so otherwise
  // any batch gives each input's own emissions.
  const bool by_length = loaded_.config.extractor_mode == "default" || loaded_.config.crop_seq_to_multiple > 1;
  std::map<size_t, std::vector<size_t>> groups;  // by length, or one group
  for (size_t i = 0; i < waves.size(); ++i) groups[by_length ? waves[i]->size() : 0].push_back(i);
  std::vector<EmissionMatrix> result(waves.size());
  for (const auto& group : groups) {
    const auto& members = group.second;
    std::vector<const std::vector<float>*> batch;
    for (size_t i : members) batch.push_back(waves[i]);
    auto e = padded_emissions(batch);
    for (size_t k = 0; k < members.size(); ++k) result[members[k]] = std::move(e[k]);
  }
  return result;
}

std::vector<EmissionMatrix> AcousticModel::padded_emissions(const std::vector<const std::vector<float>*>& waves) const {
  torch::NoGradGuard no_grad;
  int64_t longest = 0;
  for (const auto* w : waves) longest = std::max<int64_t>(longest, static_cast<int64_t>(w->size()));
  const int64_t batch = static_cast<int64_t>(waves.size());
  auto source = torch::zeros({batch, longest});
  auto padding = torch::zeros({batch, longest}, torch::kBool);
  bool padded = false;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& w = *waves[b];
    const int64_t len = static_cast<int64_t>(w.size());
    source[b].narrow(0, 0, len).copy_(torch::from_blob(const_cast<float*>(w.data()), {len}, torch::kFloat));
    if (len < longest) {
      padding[b].narrow(0, len, longest - len).fill_(true);
      padded = true;
    }
  }
  // The forward only reads the module (eval mode, no grad): concurrent calls share it. The
  // holder's copy gives the non-const forward().
  auto ctc = loaded_.ctc;
  auto out = ctc->forward(source, padded ? padding : torch::Tensor());
  auto logits = out.logits.transpose(0, 1).contiguous().to(torch::kFloat);  // [B, T, V]
  const int64_t T = logits.size(1), V = logits.size(2);
  std::vector<EmissionMatrix> result;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t frames = T;
    if (out.padding_mask.defined()) frames = T - out.padding_mask[b].sum().item<int64_t>();
    const float* p = logits[b].data_ptr<float>();
    EmissionMatrix m;
    m.frames = static_cast<int>(frames);
    m.vocab = static_cast<int>(V);
    m.data.assign(p, p + frames * V);
    result.push_back(std::move(m));
  }
  return result;
}

EmissionMatrix AcousticModel::windowed(int64_t samples, double chunk_seconds, double overlap_seconds,
                                       const std::function<std::vector<float>(const Chunk&)>& window,
                                       const std::function<void(int64_t)>& on_window) const {
  EmissionMatrix out;
  out.vocab = static_cast<int>(symbols_.size());
  for (const Chunk& c : plan_chunks(samples, static_cast<int64_t>(chunk_seconds * audio::kSampleRate),
                                    static_cast<int64_t>(overlap_seconds * audio::kSampleRate), geometry_)) {
    if (c.keep_end == c.keep_begin) continue;  // nothing to keep (a signal shorter than one frame)
    const auto w = window(c);
    auto e = emissions({&w}).at(0);
    append_chunk(c, e.data.data(), e.frames, out.vocab, geometry_, out.data);
    if (on_window) on_window(c.start + c.length);
  }
  out.frames = static_cast<int>(out.data.size() / out.vocab);
  return out;
}

EmissionMatrix AcousticModel::signal_emissions(const std::vector<float>& wave, double chunk_seconds,
                                               double overlap_seconds) const {
  double mean = 0, scale = 1;
  if (normalize()) {
    double sum = 0, sum_sq = 0;
    for (float x : wave) sum += x, sum_sq += static_cast<double>(x) * x;
    const double n = static_cast<double>(std::max<size_t>(1, wave.size()));
    mean = sum / n;
    scale = 1.0 / std::sqrt(std::max(0.0, sum_sq / n - mean * mean) + 1e-5);
  }
  return windowed(
      static_cast<int64_t>(wave.size()), chunk_seconds, overlap_seconds,
      [&](const Chunk& c) {
        std::vector<float> w(wave.begin() + c.start, wave.begin() + c.start + c.length);
        if (normalize())
          for (float& x : w) x = static_cast<float>((x - mean) * scale);
        return w;
      },
      {});
}

EmissionMatrix AcousticModel::file_emissions(const std::string& path, double chunk_seconds, double overlap_seconds,
                                             const std::function<void(int64_t)>& on_window) const {
  const audio::Info info = audio::info(path);
  if (info.frames <= 0) throw file_error(path, 0, "audio has zero samples");
  const bool resampled = info.sample_rate != audio::kSampleRate;
  // The length audio::read would return (soxr's output length for a resampled file).
  const int64_t samples =
      resampled ? std::llround(static_cast<double>(info.frames) * audio::kSampleRate / info.sample_rate) : info.frames;
  audio::ReadOptions read;
  read.resample = true;
  // Whole-file normalisation (fairseq normalises the utterance) from streamed sums.
  double mean = 0, scale = 1;
  if (normalize()) {
    constexpr int64_t kStatsBlock = 60 * audio::kSampleRate;
    double sum = 0, sum_sq = 0;
    int64_t count = 0;
    for (int64_t at = 0; at < samples; at += kStatsBlock) {
      const auto block = audio::read_region(path, at, kStatsBlock, read);
      for (float x : block) sum += x, sum_sq += static_cast<double>(x) * x;
      count += static_cast<int64_t>(block.size());
    }
    mean = count > 0 ? sum / count : 0;
    scale = 1.0 / std::sqrt(std::max(0.0, sum_sq / std::max<int64_t>(1, count) - mean * mean) + 1e-5);
  }
  // A resampled region is read with a margin on each side, so that the resampler's edge effects
  // fall outside the window.
  const int64_t margin = resampled ? 10 * geometry_.stride : 0;
  return windowed(
      samples, chunk_seconds, overlap_seconds,
      [&](const Chunk& c) {
        const int64_t from = std::max<int64_t>(0, c.start - margin);
        auto region = audio::read_region(path, from, c.start + c.length + margin - from, read);
        const int64_t skip = std::min<int64_t>(c.start - from, static_cast<int64_t>(region.size()));
        std::vector<float> window(
            region.begin() + skip,
            region.begin() + std::min<int64_t>(skip + c.length, static_cast<int64_t>(region.size())));
        // The resampler may end a region a sample short of the whole file's length.
        window.resize(static_cast<size_t>(c.length), 0.f);
        if (normalize())
          for (float& x : window) x = static_cast<float>((x - mean) * scale);
        return window;
      },
      on_window);
}

std::vector<EmissionMatrix> manifest_emissions(const AcousticModel& model, const data::Manifest& manifest,
                                               int64_t max_tokens, const std::function<void(size_t)>& on_batch) {
  const size_t n = manifest.entries.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return manifest.entries[a].num_samples < manifest.entries[b].num_samples;
  });
  audio::ReadOptions read;
  read.normalize = model.normalize();
  read.resample = true;  // any rate, as transcribe reads it
  std::vector<EmissionMatrix> out(n);
  for (size_t i = 0; i < n;) {
    // Greedy batches in length order: padded size (count × longest) at most max_tokens.
    std::vector<std::vector<float>> waves;
    std::vector<size_t> ids;
    int64_t longest = 0;
    while (i < n) {
      const int64_t len = manifest.entries[order[i]].num_samples;
      if (!ids.empty() && static_cast<int64_t>(ids.size() + 1) * std::max(longest, len) > max_tokens) break;
      waves.push_back(audio::read(manifest.full_path(order[i]), read));
      longest = std::max(longest, static_cast<int64_t>(waves.back().size()));
      ids.push_back(order[i++]);
    }
    std::vector<const std::vector<float>*> ptrs;
    for (const auto& w : waves) ptrs.push_back(&w);
    auto e = model.emissions(ptrs);
    for (size_t b = 0; b < ids.size(); ++b) {
      out[ids[b]] = std::move(e[b]);
      out[ids[b]].id = std::to_string(ids[b]);
    }
    if (on_batch) on_batch(i);
  }
  return out;
}

}  // namespace w2v::decode
