// What the server and Python tests transcribe: the inference tests' tiny random CTC model
// (tests/recognizer/tiny_ctc.h: fairseq's 320-sample frame stride, LibriSpeech letters, an
// output that changes from frame to frame, so it "hears" words and pauses) and speech
// synthesised by espeak-ng (a Debian package of setup.sh). The text is nonsense but a
// deterministic function of the audio, which is what the tests need.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "recognizer/tiny_ctc.h"

namespace w2v::test {

// What the fixture's voice says (2.3 s with its pauses).
constexpr const char* kSentence = "hello world. this is a test of the server";

inline void save_serve_model(const std::string& path) { save_tiny_ctc(path, "layer_norm"); }

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
