// Writes a CTC checkpoint with random weights (LibriSpeech letter dictionary) for the transcribe
// benchmarks, which measure speed and memory, not accuracy:
//   bench_random_ctc OUT.pt base|large|large_lv|tiny
// "tiny" is the tests' model (tests/common/tiny_model.overrides: 32 channels, 2 layers of 32) with
// BASE's group-norm extractor, for memory measurements where the model should be negligible. The output weights are scaled up so that the argmax changes
// between frames and the decoders have words to build.
#include <fmt/core.h>

#include <string>

#include "checkpoint/model_io.h"
#include "common/tiny_model.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace w2v;
  try {
    if (argc != 3) throw Error("usage: bench_random_ctc OUT.pt base|large|large_lv|tiny");
    const std::string preset = argv[2];
    ckpt::LoadedModel m;
    m.kind = ckpt::ModelKind::kCtc;
    if (preset == "tiny") {
      m.config = test::tiny_model_config();
      m.config.extractor_mode = "default";  // as measured in docs/BENCHMARKS.md
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
