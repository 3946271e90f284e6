// w2v decode EMISSIONS... --dict DICT: decodes stored emissions (issue 18.6) - .npy logits from
// `w2v extract --logits` (or numpy) and w2v emission files from `w2v infer --dump-emissions` -
// with any decoder, no model and no data directory; per-utterance scores in the output, WER when
// references are given.
#include <fmt/core.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "cli/stored_emissions.h"
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

int run(const Options& o) {
  const auto factory = cli::make_decoder_factory(o.decoding, cli::dictionary_symbols(o.dict));
  const auto utterances = decode::load_emission_inputs(o.inputs);
  const auto views = cli::checked_views(utterances, factory.tokens().size(), o.dict);
  const auto references = o.references.empty() ? std::vector<std::string>() : cli::references_by_id(utterances, o.references);
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
      const auto& score = wer.add(id, references[i], best.text());
      scored = fmt::format("{}\t{}\t", score.alignment.errors(), score.ref.size());
    }
    if (o.format == "tsv")
      out += fmt::format("{}\t{:.4f}\t{:.4f}\t{:.4f}\t{}{}\n", decode::backslash_escape(id), best.score, best.am_score,
                         best.lm_score, scored, best.text());
    else
      files.push_back({id, utterances[i].frames * decode::kFrameSeconds, best});
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
