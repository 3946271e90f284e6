// Writes a CTC checkpoint with random weights (LibriSpeech letter dictionary) for the transcribe
// benchmarks, which measure speed and memory, not accuracy:
//   bench_random_ctc OUT.pt base|large|large_lv|tiny
// "tiny" is the test models' size (32 channels, 2 layers of 32), for memory measurements where
// the model should be negligible. The output weights are scaled up so that the argmax changes
// between frames and the decoders have words to build.
#include <fmt/core.h>

#include <string>

#include "checkpoint/model_io.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace w2v;
  try {
    if (argc != 3) throw Error("usage: bench_random_ctc OUT.pt base|large|large_lv|tiny");
    const std::string preset = argv[2];
    ckpt::LoadedModel m;
    m.kind = ckpt::ModelKind::kCtc;
    if (preset == "tiny") {
      auto& c = m.config;
      c.conv_feature_layers = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2";
      c.encoder_layers = 2;
      c.encoder_embed_dim = 32;
      c.encoder_ffn_embed_dim = 64;
      c.encoder_attention_heads = 2;
      c.conv_pos = 16;
      c.conv_pos_groups = 4;
    } else {
      m.config = model::Wav2Vec2Config::preset(preset);
    }
    torch::manual_seed(0);
    m.dictionary = ckpt::librispeech_letters();
    m.ctc = model::Wav2VecCtc(m.config, m.dictionary->size(), m.asr);
    {
      torch::NoGradGuard no_grad;
      m.ctc->w2v_encoder->proj->weight.mul_(20);
    }
    ckpt::save_model(argv[1], m);
    fmt::print("{}: random {} CTC model\n", argv[1], preset);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_random_ctc: error: {}\n", e.what());
    return 1;
  }
}
