// The Python module `w2v`: a Recognizer loaded once, transcribing numpy arrays or files into the
// dict the server's verbose_json answer holds (text, duration, segments, words with times and
// confidences), and aligning known transcripts into the dict `w2v align --format json` writes. The GIL is released while the model and the decoder run, so Python threads can
// share one Recognizer as the server's requests do.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <vector>

#include "align/formats.h"
#include "audio/audio.h"
#include "decode/hotwords.h"
#include "recognizer/recognizer.h"
#include "serve/response_format.h"
#include "util/error.h"

namespace py = pybind11;

namespace {

py::object json_to_python(const std::string& json) { return py::module_::import("json").attr("loads")(json); }

// The Transcript as a Python dict, through the JSON the server sends (one shape for both).
py::object to_dict(const w2v::Recognizer& r, const w2v::Transcript& t) {
  const auto j = w2v::serve::verbose_json(t, r.symbols(), "unknown", {true, true}, w2v::StreamOptions().pause_seconds);
  return json_to_python(j.dump());
}

// One file's entry of `w2v align`'s JSON (audio, duration, score, words with spoken words and
// letters, skipped characters).
py::object alignment_dict(const std::string& audio, double duration, const w2v::align::Alignment& a) {
  w2v::align::FileAlignment f;
  f.audio = audio;
  f.duration = duration;
  f.alignment = a;
  return json_to_python(w2v::align::to_json({f}))["files"][py::int_(0)];
}

w2v::align::AlignOptions align_options(const std::string& unknown) {
  w2v::align::AlignOptions o;
  if (unknown == "skip") o.unknown = w2v::align::Unknown::kSkip;
  else if (unknown != "error")
    throw py::value_error("unknown: expected 'error' or 'skip', got '" + unknown + "'");
  return o;
}

// float32 samples as they are; int16 scaled by 1/32768 (soundfile's rule). Anything else is a
// ValueError naming what was expected.
std::vector<float> samples_of(const py::array& a) {
  if (a.ndim() != 1) {
    std::string shape;
    for (py::ssize_t i = 0; i < a.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape(i));
    throw py::value_error("audio: expected a 1-D array of mono samples, got shape (" + shape + ")");
  }
  if (a.size() == 0) throw py::value_error("audio: the array is empty");
  if (a.dtype().is(py::dtype::of<float>())) {
    auto c = py::array_t<float, py::array::c_style>::ensure(a);
    return {c.data(), c.data() + c.size()};
  }
  if (a.dtype().is(py::dtype::of<int16_t>())) {
    auto c = py::array_t<int16_t, py::array::c_style>::ensure(a);
    std::vector<float> out(static_cast<size_t>(c.size()));
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(c.data()[i]) / 32768.f;
    return out;
  }
  throw py::value_error("audio: expected dtype float32 or int16, got " + py::str(a.dtype()).cast<std::string>());
}

std::unique_ptr<w2v::Recognizer> make(const std::string& path, std::optional<std::string> lm,
                                      std::optional<std::string> lexicon, std::optional<std::string> decoder,
                                      std::optional<std::string> dict, int threads, std::optional<double> lm_weight,
                                      std::optional<double> word_score, std::optional<int> beam,
                                      const std::string& precision, const std::vector<std::string>& hotwords) {
  w2v::RecognizerOptions o;
  o.model = path;
  o.dict = dict.value_or("");
  o.threads = threads;
  o.precision = precision;
  auto& d = o.decoding;
  d.lm = lm.value_or("");
  d.lexicon = lexicon.value_or("");
  d.decoder = decoder.value_or("");  // "": the one lm and lexicon call for (decode::chosen_decoder)
  if (lm_weight) d.beam.lm_weight = *lm_weight;
  if (word_score) d.beam.word_score = *word_score;
  if (beam) d.beam.beam = *beam;
  // Each entry is one line of a --hotwords file ("WORD [WORD ...] [BOOST]"), parsed as the CLI does.
  std::string hotword_lines;
  for (const auto& line : hotwords) hotword_lines += line + "\n";
  d.beam.hotwords = w2v::decode::parse_hotwords(hotword_lines, "hotwords", w2v::decode::kDefaultHotwordBoost);
  py::gil_scoped_release release;
  return std::make_unique<w2v::Recognizer>(o);
}

}  // namespace

PYBIND11_MODULE(w2v, m) {
  m.doc() = "w2v: wav2vec 2.0 speech recognition (CTC models, lexicon + n-gram LM decoding)";
  static py::exception<w2v::Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const w2v::Error& e) {
      error(e.what());
    }
  });

  py::class_<w2v::Recognizer>(m, "Recognizer",
                              "A loaded model and decoder; thread-safe, load once and share.")
      .def(py::init(&make), py::arg("path"), py::arg("lm") = py::none(), py::arg("lexicon") = py::none(),
           py::arg("decoder") = py::none(), py::arg("dict") = py::none(), py::arg("threads") = 1,
           py::arg("lm_weight") = py::none(), py::arg("word_score") = py::none(), py::arg("beam") = py::none(),
           py::arg("precision") = "fp32", py::arg("hotwords") = std::vector<std::string>{},
           "path: fine-tuned CTC model (w2v/fairseq .pt or HuggingFace directory); lm: n-gram LM (ARPA or w2v "
           "binary); lexicon: WORD spelling file; decoder: viterbi | lexicon | lexicon-free (default: from lm and "
           "lexicon); threads: LibTorch threads (process-wide, 0 = all cores); precision: fp32 | bf16 | int8; "
           "hotwords: phrases the beam search favours, each 'WORD [WORD ...] [BOOST]' as a line of a --hotwords "
           "file; other knobs as `w2v transcribe`.")
      .def(
          "transcribe",
          [](const w2v::Recognizer& r, const py::array& audio, int sample_rate) {
            if (sample_rate <= 0)
              throw py::value_error("sample_rate: expected a positive rate in Hz, got " + std::to_string(sample_rate));
            const auto samples = samples_of(audio);
            w2v::Transcript t;
            {
              py::gil_scoped_release release;
              t = r.transcribe(samples.data(), samples.size(), sample_rate);
            }
            return to_dict(r, t);
          },
          py::arg("audio"), py::arg("sample_rate"),
          "Mono float32 (in [-1, 1]) or int16 samples at any rate -> dict like the server's verbose_json: text, "
          "duration, segments, words [{word, start, end, confidence}].")
      .def(
          "transcribe_file",
          [](const w2v::Recognizer& r, const std::string& path) {
            w2v::Transcript t;
            {
              py::gil_scoped_release release;
              t = r.transcribe_file(path);
            }
            return to_dict(r, t);
          },
          py::arg("path"), "An audio file libsndfile reads (wav, flac, ogg), any length -> the same dict.")
      .def(
          "align",
          [](const w2v::Recognizer& r, const py::array& audio, int sample_rate, const std::string& text,
             const std::string& unknown) {
            if (sample_rate <= 0)
              throw py::value_error("sample_rate: expected a positive rate in Hz, got " + std::to_string(sample_rate));
            const auto samples = samples_of(audio);
            const auto options = align_options(unknown);
            w2v::align::Alignment a;
            {
              py::gil_scoped_release release;
              a = r.align(samples.data(), samples.size(), sample_rate, text, options, "text");
            }
            return alignment_dict("", static_cast<double>(samples.size()) / sample_rate, a);
          },
          py::arg("audio"), py::arg("sample_rate"), py::arg("text"), py::arg("unknown") = "error",
          "Forced alignment of a known transcript (docs/alignment.md) -> dict as one file of `w2v align "
          "--format json`: words [{word, start, end, score, spoken: [{..., letters}]}], skipped, score. "
          "unknown: 'error' (w2v.Error listing characters the model cannot spell) or 'skip'.")
      .def(
          "align_file",
          [](const w2v::Recognizer& r, const std::string& path, const std::string& text, const std::string& unknown) {
            const auto options = align_options(unknown);
            w2v::align::Alignment a;
            double duration = 0;
            {
              py::gil_scoped_release release;
              a = r.align_file(path, text, options, "text");
              const auto info = w2v::audio::info(path);
              duration = static_cast<double>(info.frames) / info.sample_rate;
            }
            return alignment_dict(path, duration, a);
          },
          py::arg("path"), py::arg("text"), py::arg("unknown") = "error",
          "The same for an audio file of any length (aligned window by window in bounded memory).")
      .def_property_readonly("symbols", &w2v::Recognizer::symbols, "the model's output units");
}
