// w2v tune EMISSIONS... (issue 19.2): the lexicon decoder's lm_weight, word_score and sil_weight
// searched on stored emissions of a held-out split (the model runs once, in `w2v infer
// --dump-emissions`), each setting decoding the whole split; prints the table and the best values.
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "cli/stored_emissions.h"
#include "decode/decoder.h"
#include "decode/emission_input.h"
#include "decode/tuning.h"
#include "eval/scoring.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

using namespace w2v;

struct Options {
  std::vector<std::string> inputs;
  std::string dict, references, data, subset = "valid", labels = "ltr", output, search = "grid";
  // fairseq's Ax sweep bounds (conf/hydra/sweeper/ax.yaml: lmweight [0, 5], wordscore [-5, 5]).
  std::string lm_weight = "0:5:0.5", word_score = "-5:5:1", sil_weight = "0";
  int threads = 1;
  cli::DecoderOptions decoding;
};

nlohmann::json row_json(const decode::TuningResult& r) {
  return {{"lm_weight", r.point.lm_weight}, {"word_score", r.point.word_score}, {"sil_weight", r.point.sil_weight},
          {"wer", r.wer()},                 {"errors", r.errors},               {"words", r.words}};
}

int run(Options o) {
  namespace fs = std::filesystem;
  if (o.references.empty() == o.data.empty())
    throw Error("tune: give the references either as --references FILE ('ID words...' lines) or as --data DATA_DIR "
                "(its {subset}.{labels} in manifest order)");
  if (o.dict.empty()) {
    if (o.data.empty()) throw Error("option --dict: required with --references (the model's dict.ltr.txt)");
    o.dict = (fs::path(o.data) / ("dict." + o.labels + ".txt")).string();
  }
  const decode::TuningRanges ranges{decode::parse_tuning_range(o.lm_weight, "--lm-weight"),
                                    decode::parse_tuning_range(o.word_score, "--word-score"),
                                    decode::parse_tuning_range(o.sil_weight, "--sil-weight")};
  const std::string decoder = decode::chosen_decoder(o.decoding);
  if (decode::parse_decoder_kind(decoder) == decode::DecoderKind::kViterbi)
    throw Error("tune: the viterbi decoder has no weights to tune; give --lm and --lexicon (or --decoder lexicon-free)");
  if (decode::parse_decoder_kind(decoder) == decode::DecoderKind::kLexiconFree && ranges.word_score.size() > 1)
    throw Error("option --word-score: the lexicon-free decoder has no word score; give one value");

  const auto base = cli::make_decoder_factory(o.decoding, cli::dictionary_symbols(o.dict));
  const auto utterances = decode::load_emission_inputs(o.inputs);
  const auto views = cli::checked_views(utterances, base.tokens().size(), o.dict);
  const auto references =
      o.references.empty()
          ? cli::references_by_row(utterances, (fs::path(o.data) / (o.subset + "." + o.labels)).string(),
                                   o.labels == "wrd" ? decode::PostProcess::kNone
                                                     : decode::parse_post_process(o.decoding.post_process))
          : cli::references_by_id(utterances, o.references);
  const int threads = cli::resolve_threads(o.threads);

  fmt::print("lm_weight\tword_score\tsil_weight\twer\terrors\twords\n");
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  auto evaluate = [&](const decode::TuningPoint& p) {
    decode::BeamOptions beam = o.decoding.beam;
    beam.lm_weight = p.lm_weight;
    beam.word_score = p.word_score;
    beam.sil_score = p.sil_weight;
    const auto results = decode::decode_all(base.with_options(beam), views, threads);
    eval::Scorer wer;
    for (size_t i = 0; i < results.size(); ++i) wer.add(utterances[i].id, references[i], results[i].at(0).text());
    decode::TuningResult r{p, wer.errors(), wer.ref_units()};
    // Streamed: each row as soon as its setting is decoded (a long search shows progress).
    fmt::print("{}\t{}\t{}\t{:.2f}\t{}\t{}\n", p.lm_weight, p.word_score, p.sil_weight, r.wer(), r.errors, r.words);
    std::fflush(stdout);
    return r;
  };
  const decode::BeamOptions defaults;
  const auto table = decode::tune(ranges, o.search == "grid" ? decode::TuningSearch::kGrid : decode::TuningSearch::kCoordinate,
                                  {defaults.lm_weight, defaults.word_score, defaults.sil_score}, evaluate);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& best = decode::best_result(table);

  fmt::print("best WER: {:.2f} % ({} errors / {} words; {} utterances)\n", best.wer(), best.errors, best.words,
             utterances.size());
  fmt::print("best: --lm-weight {} --word-score {} --sil-weight {}\n", best.point.lm_weight, best.point.word_score,
             best.point.sil_weight);
  std::fflush(stdout);
  fmt::print(stderr, "tune: {} settings ({} search, decoder {}, beam {}) in {:.1f} s ({:.2f} s each, {} thread(s))\n",
             table.size(), o.search, decoder, o.decoding.beam.beam, seconds, seconds / static_cast<double>(table.size()),
             threads);
  if (!o.output.empty()) {
    nlohmann::json out = row_json(best);
    out["utterances"] = utterances.size();
    out["search"] = o.search;
    out["decoder"] = decoder;
    out["beam"] = o.decoding.beam.beam;
    out["settings"] = nlohmann::json::array();
    for (const auto& r : table) out["settings"].push_back(row_json(r));
    write_file_atomic(o.output, out.dump(2) + "\n");
  }
  return 0;
}

W2V_COMMAND("tune", "Search the decoder's LM weight, word score and silence weight on stored emissions", [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("EMISSIONS", o->inputs,
                 "stored emissions of the held-out split (w2v infer --dump-emissions; or .npy logits with "
                 "--references)")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--data", o->data,
                 "DATA_DIR: references from its {subset}.{labels}, one line per manifest row, as w2v infer scores "
                 "them (the emissions must be one infer dump of that split)")
      ->check(CLI::ExistingDirectory);
  sub.add_option("--subset", o->subset, "split of --data")->capture_default_str();
  sub.add_option("--labels", o->labels, "label extension of --data (ltr, or wrd)")->capture_default_str();
  sub.add_option("--references", o->references,
                 "references as 'ID words...' lines instead of --data (ID: the utterance id of an emission file, or "
                 "the .npy name)")
      ->check(CLI::ExistingFile);
  sub.add_option("--dict", o->dict, "the model's dictionary (default with --data: DATA_DIR/dict.{labels}.txt)")
      ->check(CLI::ExistingFile);
  cli::add_decoder_options(sub, o->decoding);
  // The three tuned weights take ranges here instead of one value.
  for (const char* name : {"--lm-weight", "--word-score", "--sil-weight"}) sub.remove_option(sub.get_option(name));
  const std::string range = " (START:STOP:STEP, A,B,C or one value)";
  sub.add_option("--lm-weight", o->lm_weight, "LM weights to try" + range)->capture_default_str();
  sub.add_option("--word-score", o->word_score, "word scores to try" + range)->capture_default_str();
  sub.add_option("--sil-weight", o->sil_weight, "silence weights to try" + range)->capture_default_str();
  sub.add_option("--search", o->search,
                 "grid: every combination; coordinate: one weight at a time from the nearest to the defaults "
                 "(lm 2, word -1, sil 0) until nothing improves - fewer decodes, possibly a local optimum")
      ->check(CLI::IsMember({"grid", "coordinate"}))
      ->capture_default_str();
  sub.add_option("--threads", o->threads, "decoding threads (0 = all cores)")->capture_default_str();
  sub.add_option("-o,--output", o->output, "write the best values and the table as JSON here");
  sub.footer(
      "Prints one row per setting (lm_weight, word_score, sil_weight, wer, errors, words), then 'best WER: ...' "
      "and 'best: --lm-weight A --word-score B --sil-weight C' (flags for w2v infer/decode/transcribe). Ties: the "
      "smaller lm_weight, then word_score, then sil_weight.");
  return [o] { return run(*o); };
});

}  // namespace
