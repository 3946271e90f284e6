// Shared by the HTTP tests of `w2v serve`: one fixture directory per test binary (tiny model,
// espeak-ng speech, the expected transcripts computed in-process by the Recognizer the server
// wraps) and multipart requests through cpp-httplib's client.
#pragma once

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "audio/audio.h"
#include "recognizer/recognizer.h"
#include "serve/fixture.h"
#include "serve/server_process.h"

namespace w2v::test {

struct ServeEnv {
  std::string dir, model, speech, long_speech;
  std::string speech_text, long_text;  // what Recognizer::transcribe gives for them
  std::string long_stream_text;        // what a Stream with the server's options gives for long.wav

  static const ServeEnv& get() {
    static const ServeEnv env;
    return env;
  }

 private:
  ServeEnv() {
    dir = (std::filesystem::temp_directory_path() / ("w2v_serve_test_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    model = dir + "/model.pt";
    speech = dir + "/speech.wav";
    long_speech = dir + "/long.wav";
    save_serve_model(model);
    save_speech(speech, kSentence);
    save_speech(long_speech, kSentence, 10);
    RecognizerOptions o;
    o.model = model;
    Recognizer r(o);
    speech_text = r.transcribe_file(speech).text;
    long_text = r.transcribe_file(long_speech).text;
    // The stream's windows are shorter than transcribe's, so the model sees other context and
    // may hear other words: stream=true is compared with a Stream fed as the server feeds it.
    audio::ReadOptions resample;
    resample.resample = true;
    const auto wave = audio::read(long_speech, resample);
    const StreamOptions so;
    auto stream = r.stream(so);
    const size_t step = static_cast<size_t>(so.partial_seconds * audio::kSampleRate);
    auto add = [&](const StreamUpdate& u) {
      for (const auto& f : u.finals)
        if (!f.text.empty()) long_stream_text += (long_stream_text.empty() ? "" : " ") + f.text;
    };
    for (size_t pos = 0; pos < wave.size(); pos += step)
      add(stream->push(wave.data() + pos, std::min(step, wave.size() - pos), audio::kSampleRate));
    add(stream->finish());
  }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The form an OpenAI client sends: file plus the given fields.
inline httplib::MultipartFormDataItems form(const std::string& wav_path,
                                            const std::vector<std::pair<std::string, std::string>>& fields = {}) {
  httplib::MultipartFormDataItems items = {
      {"file", read_bytes(wav_path), std::filesystem::path(wav_path).filename().string(), "audio/wav"},
      {"model", "whisper-1", "", ""}};
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  return items;
}

inline std::unique_ptr<httplib::Client> client(int port, int timeout_seconds = 120) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_read_timeout(timeout_seconds);
  c->set_write_timeout(timeout_seconds);
  return c;
}

}  // namespace w2v::test
