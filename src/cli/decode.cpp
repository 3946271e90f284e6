// w2v decode EMISSIONS... --dict DICT: decodes stored emissions (issue 18.6) - .npy logits from
// `w2v extract --logits` (or numpy) and w2v emission files from `w2v infer --dump-emissions` -
// with any decoder, no model and no data directory; per-utterance scores in the output, WER when
// references are given.
#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "data/dictionary.h"
#include "decode/emission_input.h"
#include "decode/transcript_format.h"
#include "eval/scoring.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

using namespace w2v;

struct Options {
  std::vector<std::string> inputs;
  std::string dict, references, format = "tsv", output;
  int threads = 1;
  cli::DecoderOptions decoding;
};

// "ID words..." lines (Kaldi's text file); errors name file:line.
std::map<std::string, std::string> read_references(const std::string& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string id, word, text;
    if (!(fields >> id)) continue;
    while (fields >> word) text += (text.empty() ? "" : " ") + word;
    if (!out.emplace(id, text).second) throw file_error(path, number, "duplicate id '" + id + "'");
  }
  return out;
}

int run(const Options& o) {
  const auto dict = data::Dictionary::load(o.dict);
  std::vector<std::string> symbols;
  for (int64_t i = 0; i < dict.size(); ++i) symbols.push_back(dict.symbol(i));
  const auto factory = cli::make_decoder_factory(o.decoding, symbols);
  const auto utterances = decode::load_emission_inputs(o.inputs);
  std::vector<decode::Emissions> views;
  for (const auto& u : utterances) {
    if (u.emissions.vocab != factory.tokens().size())
      throw Error(fmt::format("{}: {} tokens per frame, but {} gives {} units (the model's dictionary is needed)", u.id,
                              u.emissions.vocab, o.dict, factory.tokens().size()));
    views.push_back(u.emissions.view());
  }
  const auto references = o.references.empty() ? std::map<std::string, std::string>() : read_references(o.references);
  for (const auto& u : utterances)
    if (!o.references.empty() && !references.count(u.id))
      throw file_error(o.references, 0, "no reference for utterance '" + u.id + "'");
  const auto results = decode::decode_all(factory, views, cli::resolve_threads(o.threads));

  eval::Scorer wer;
  std::string out;
  std::vector<decode::FileTranscript> files;
  if (o.format == "tsv") out = o.references.empty() ? "id\tscore\tam_score\tlm_score\ttext\n" : "id\tscore\tam_score\tlm_score\terrors\tref_words\ttext\n";
  for (size_t i = 0; i < utterances.size(); ++i) {
    const auto& best = results[i].at(0);
    const std::string& id = utterances[i].id;
    std::string scored;
    if (!o.references.empty()) {
      const auto& score = wer.add(id, references.at(id), best.text());
      scored = fmt::format("{}\t{}\t", score.alignment.errors(), score.ref.size());
    }
    if (o.format == "tsv")
      out += fmt::format("{}\t{:.4f}\t{:.4f}\t{:.4f}\t{}{}\n", decode::backslash_escape(id), best.score, best.am_score,
                         best.lm_score, scored, best.text());
    else
      files.push_back({id, utterances[i].emissions.frames * decode::kFrameSeconds, best});
  }
  if (o.format == "json") out = decode::to_json(files);
  if (o.output.empty()) fmt::print("{}", out);
  else write_file_atomic(o.output, out);
  std::fflush(stdout);  // the table before the WER line when both go to one terminal or pipe
  if (!o.references.empty())
    fmt::print(stderr, "WER: {:.2f} % ({} errors / {} words; {} utterances)\n", wer.error_rate(), wer.errors(),
               wer.ref_units(), utterances.size());
  return 0;
}

W2V_COMMAND("decode", "Decode stored emissions (.npy logits, w2v emission files) without a model", [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("EMISSIONS", o->inputs,
                 ".npy logits [T, V] or [1, T, V] (w2v extract --logits) or emission files (w2v infer --dump-emissions)")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--dict", o->dict, "the model's dictionary (fairseq dict.ltr.txt) naming the V units")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--references", o->references,
                 "reference transcripts, 'ID words...' per line (ID: the .npy name without .npy/.logits, or the "
                 "utterance id of an emission file); prints WER")
      ->check(CLI::ExistingFile);
  sub.add_option("--format", o->format, "tsv (id, scores, text) | json (words with times and confidences)")
      ->check(CLI::IsMember({"tsv", "json"}))
      ->capture_default_str();
  sub.add_option("-o,--output", o->output, "write here instead of stdout");
  sub.add_option("--threads", o->threads, "decoding threads (0 = all cores)")->capture_default_str();
  cli::add_decoder_options(sub, o->decoding);
  return [o] { return run(*o); };
});

}  // namespace
