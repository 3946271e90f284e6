// The LM decoder of CTC validation (fairseq's criterion.wer_kenlm_model / wer_lexicon): the
// trainer calls it, the CLI builds it from src/decode (which comes after train in the layering).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"

namespace w2v::train {

// Decodes one utterance's row-major [frames, vocab] CTC log-probabilities into words.
using WordDecoder = std::function<std::vector<std::string>(const float* log_probs, int64_t frames, int64_t vocab)>;

// criterion.wer_* after wer_args is applied, with the dictionary's symbols in index order.
struct LmDecoderSpec {
  std::string kenlm_model, lexicon;
  double lm_weight = 2.0, word_score = -1.0;
  std::vector<std::string> symbols;
};

// criterion.wer_args (fairseq's "(kenlm_model, lexicon, lm_weight, word_score)") or the
// wer_* keys; kenlm_model is empty when validation has no LM. Errors name the key.
LmDecoderSpec read_lm_decoder_spec(const config::Config& cfg);

using WordDecoderFactory = std::function<WordDecoder(const LmDecoderSpec&)>;

}  // namespace w2v::train
