// What the server and Python tests transcribe: a tiny random CTC model with fairseq's 320-sample
// frame stride and the LibriSpeech letters (its output changes from frame to frame, so it
// "hears" words and pauses), and speech synthesised by espeak-ng (a Debian package of setup.sh).
// The text is nonsense but a deterministic function of the audio, which is what the tests need.
#pragma once

#include <torch/torch.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "checkpoint/model_io.h"

namespace w2v::test {

// What the fixture's voice says (2.3 s with its pauses).
constexpr const char* kSentence = "hello world. this is a test of the server";

// base = false: the tiny model (2 x 32 transformer, 40 k parameters) the tests use; true:
// wav2vec 2.0 BASE's shape (95 M parameters, fairseq's defaults) for the load benchmark.
inline void save_serve_model(const std::string& path, bool base = false) {
  torch::manual_seed(11);
  ckpt::LoadedModel m;
  m.kind = ckpt::ModelKind::kCtc;
  auto& c = m.config;
  if (!base) {
    c.conv_feature_layers = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2";
    c.extractor_mode = "layer_norm";
    c.encoder_layers = 2;
    c.encoder_embed_dim = 32;
    c.encoder_ffn_embed_dim = 64;
    c.encoder_attention_heads = 2;
    c.conv_pos = 16;
    c.conv_pos_groups = 4;
  }
  m.dictionary = ckpt::librispeech_letters();
  m.ctc = model::Wav2VecCtc(c, m.dictionary->size(), m.asr);
  {
    // Larger output weights so that the random model's argmax changes between frames.
    torch::NoGradGuard no_grad;
    m.ctc->w2v_encoder->proj->weight.mul_(20);
  }
  m.ctc->eval();
  ckpt::save_model(path, m);
}

// espeak-ng's voice (22.05 kHz, so the server resamples) saying `text`, repeated `times` times.
inline void save_speech(const std::string& path, const std::string& text, int times = 1) {
  const std::string raw = path + ".espeak.wav";
  const std::string cmd = "espeak-ng -w '" + raw + "' '" + text + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd + " (espeak-ng from setup.sh)");
  audio::ReadOptions o;
  o.sample_rate = 22050;
  const auto once = audio::read(raw, o);
  std::vector<float> all;
  for (int i = 0; i < times; ++i) all.insert(all.end(), once.begin(), once.end());
  audio::write(path, all, 22050);
  std::remove(raw.c_str());
}

}  // namespace w2v::test
