// Decoder options with the ONE set of defaults every front end uses (CLI infer/transcribe, the
// Recognizer library, the server): fairseq's examples/speech_recognition/infer.py knobs (spec
// 8.5) - the README's KenLM settings (lm_weight 2, word_score -1, sil_weight 0) and infer.py's
// own defaults for the rest (beam_threshold 25, beam_size_token 100, unk_weight -inf) - except
// the beam: 500 (the paper's tuning beam) instead of the generation default 5.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace w2v::decode {

// How equal hypotheses are recognised for merging. kState: same minimised LM state (two word
// histories the n-gram LM can no longer tell apart merge; a better best path for the same
// beam). kHistory: same word history, as flashlight's decoders do (flashlight-exact results).
// Both also require the same trie node, last token and after-blank flag. docs/decoding.md.
enum class MergeMode { kState, kHistory };

// A word or phrase (words separated by single spaces) whose recognition adds `boost` to a
// hypothesis's score (contextual biasing; decode/hotwords.h).
struct Hotword {
  std::string phrase;
  double boost = 0;
};

// Beam-search knobs shared by the lexicon and lexicon-free decoders (flashlight's names, spec 8.3).
struct BeamOptions {
  int beam = 500;               // hypotheses kept per frame
  int beam_size_token = 100;    // only the top-k tokens of each frame are expanded; <= 0: all
  double beam_threshold = 25;   // candidates more than this below the frame's best are dropped
  double lm_weight = 2;         // × LM log10 scores
  double word_score = -1;       // added per emitted word (lexicon decoder)
  double unk_score = -std::numeric_limits<double>::infinity();  // per <unk> word; -inf disables
  double sil_score = 0;         // added whenever the silence token is consumed
  bool log_add = false;         // merge equal-state hypotheses by log-add instead of max
  int nbest = 1;                // hypotheses returned
  MergeMode merge = MergeMode::kState;
  std::vector<Hotword> hotwords;
};

// Which decoder and what it reads (fairseq infer.py's --w2l-decoder, --lexicon, --kenlm-model,
// --post-process). decoder: viterbi (greedy, no LM) | lexicon (alias kenlm) | lexicon-free, or
// "" for the one the files call for (chosen_decoder).
struct DecoderOptions {
  std::string decoder;
  std::string lexicon;  // WORD t1 t2 ... | lines; required by the lexicon decoder
  std::string lm;       // ARPA, ARPA.gz or KenLM binary; required by the beam decoders
  std::string post_process = "letter";  // letter | wordpiece | sentencepiece | none (post_process.h)
  BeamOptions beam;
};

// o.decoder, or when it is "": lexicon with an LM and a lexicon, lexicon-free with an LM alone,
// viterbi without an LM. (fairseq's infer.py decodes greedily when --w2l-decoder is not given,
// silently ignoring a --kenlm-model; here a given LM is always used.)
inline std::string chosen_decoder(const DecoderOptions& o) {
  if (!o.decoder.empty()) return o.decoder;
  return o.lm.empty() ? "viterbi" : o.lexicon.empty() ? "lexicon-free" : "lexicon";
}

}  // namespace w2v::decode
