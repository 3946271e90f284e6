// Decoder options shared by `w2v infer` and `w2v transcribe` (fairseq infer.py's names).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>

#include "decode/decoder.h"
#include "decode/hotwords.h"
#include "decode/options.h"
#include "util/error.h"

namespace w2v::cli {

using DecoderOptions = decode::DecoderOptions;

// Flags for every field of decode::DecoderOptions; the defaults shown are its own (one set,
// documented in decode/options.h).
inline void add_decoder_options(CLI::App& sub, DecoderOptions& o) {
  auto& b = o.beam;
  sub.add_option("--decoder,--w2l-decoder", o.decoder,
                 "viterbi | lexicon (alias kenlm) | lexicon-free (default: lexicon with --lm and --lexicon, "
                 "lexicon-free with --lm alone, viterbi without --lm)");
  sub.add_option("--post-process", o.post_process,
                 "how units spell words: letter (| ends a word) | wordpiece (_ starts one) | sentencepiece "
                 "(\u2581 starts one) | none (each unit a word); the lexicon decoder's words come from the lexicon")
      ->check(CLI::IsMember({"letter", "wordpiece", "sentencepiece", "none"}))
      ->capture_default_str();
  sub.add_option("--lexicon", o.lexicon, "lexicon file: WORD t1 t2 ... |");
  sub.add_option("--lm,--kenlm-model", o.lm, "n-gram LM (ARPA, ARPA.gz or KenLM binary)");
  sub.add_option("--beam", b.beam, "hypotheses kept per frame")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--beam-size-token", b.beam_size_token, "tokens expanded per frame (top-k by emission)")
      ->capture_default_str();
  sub.add_option("--beam-threshold", b.beam_threshold, "prune hypotheses this far below the frame's best")
      ->capture_default_str();
  sub.add_option("--lm-weight", b.lm_weight, "weight of LM log10 scores")->capture_default_str();
  sub.add_option("--word-score", b.word_score, "score added per word")->capture_default_str();
  sub.add_option("--sil-weight", b.sil_score, "score added per silence token")->capture_default_str();
  sub.add_option("--unk-weight", b.unk_score, "score per <unk> word (-inf: never emit <unk>)")->capture_default_str();
  sub.add_flag("--log-add", b.log_add, "merge equal hypotheses by log-add instead of max");
  sub.add_option("--nbest", b.nbest, "hypotheses kept per utterance (the best is scored)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  static const std::map<std::string, decode::MergeMode> merges = {{"state", decode::MergeMode::kState},
                                                                  {"history", decode::MergeMode::kHistory}};
  sub.add_option("--merge", b.merge,
                 "merge hypotheses with equal n-gram state (state) or only equal word history, as flashlight "
                 "(history: flashlight-exact)")
      ->transform(CLI::CheckedTransformer(merges).description(""))
      ->type_name("state|history")
      ->default_str("state");
  // Declared before --hotwords: CLI11 applies options in this order, so the boost is known.
  auto boost = std::make_shared<double>(decode::kDefaultHotwordBoost);
  sub.add_option("--hotword-boost", *boost, "score added for a hotword whose line gives no boost")->capture_default_str();
  sub.add_option_function<std::string>(
      "--hotwords", [&b, boost](const std::string& path) { b.hotwords = decode::load_hotwords(path, *boost); },
      "file of words/phrases to favour, one per line: WORD [WORD ...] [BOOST] (words the lexicon lacks are "
      "spelled from the tokens)");
}

// Errors naming the flags for a decoder without the files it needs (the library names its own
// arguments): called before anything slow loads.
inline decode::DecoderKind checked_decoder_kind(const DecoderOptions& o) {
  const decode::DecoderKind kind = decode::parse_decoder_kind(decode::chosen_decoder(o));
  if (kind != decode::DecoderKind::kViterbi && o.lm.empty())
    throw Error("option --lm: required by the lexicon and lexicon-free decoders");
  if (kind == decode::DecoderKind::kLexicon && o.lexicon.empty())
    throw Error("option --lexicon: required by the lexicon decoder");
  return kind;
}

// The decoders these options select (errors name the missing option or the bad file).
inline decode::DecoderFactory make_decoder_factory(const DecoderOptions& o, std::vector<std::string> symbols) {
  return decode::DecoderFactory(checked_decoder_kind(o), std::move(symbols), o.lexicon, o.lm, o.beam,
                                decode::parse_post_process(o.post_process));
}

}  // namespace w2v::cli
