// One entry point for the three decoders, so that front ends (infer, transcribe, serve) pick a
// decoder by name and decode many utterances on several threads.
// DecoderFactory owns the shared, read-only parts (tokens, lexicon, LM); each thread gets its
// own Decoder from make() because beam decoders reuse mutable buffers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "decode/lexicon.h"
#include "decode/options.h"
#include "decode/result.h"
#include "lm/language_model.h"

namespace w2v::decode {

struct LexiconTrie;

enum class DecoderKind { kViterbi, kLexicon, kLexiconFree };

// "viterbi" | "lexicon" | "lexicon-free"; w2v::Error otherwise.
DecoderKind parse_decoder_kind(const std::string& name);

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Best hypotheses first (exactly one for viterbi).
  virtual std::vector<DecodeResult> decode(const Emissions& e) = 0;
};

class DecoderFactory {
 public:
  // lexicon_path is required for kLexicon, lm_path for kLexicon and kLexiconFree; both are
  // ignored by kViterbi. post_process: how units spell the words of viterbi and lexicon-free
  // hypotheses. Errors name the missing option or the bad file.
  DecoderFactory(DecoderKind kind, std::vector<std::string> symbols, const std::string& lexicon_path,
                 const std::string& lm_path, BeamOptions options, PostProcess post_process = PostProcess::kLetter);
  ~DecoderFactory();

  std::unique_ptr<Decoder> make() const;
  // The same decoders with other beam options (w2v tune's lm_weight/word_score/sil_weight
  // settings), sharing this factory's lexicon and LM instead of loading them again.
  DecoderFactory with_options(const BeamOptions& options) const;
  const TokenSet& tokens() const { return tokens_; }
  DecoderKind kind() const { return kind_; }

 private:
  DecoderKind kind_;
  TokenSet tokens_;
  std::shared_ptr<const Lexicon> lexicon_;
  std::shared_ptr<const lm::LanguageModel> lm_;
  std::shared_ptr<const LexiconTrie> trie_;
  BeamOptions options_;
};

// Decodes every utterance on `threads` threads (one Decoder each); results in input order.
// on_done, if given, gets the number of utterances finished so far after each one, from one
// thread at a time (for a progress bar).
std::vector<std::vector<DecodeResult>> decode_all(const DecoderFactory& factory, const std::vector<Emissions>& utterances,
                                                  int threads, const std::function<void(size_t)>& on_done = {});

}  // namespace w2v::decode
