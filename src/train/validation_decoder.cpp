#include "train/validation_decoder.h"

#include <sstream>

#include "util/error.h"

namespace w2v::train {
namespace {

// fairseq's wer_args: "(kenlm_model, lexicon, lm_weight, word_score)", a Python tuple literal.
LmDecoderSpec parse_wer_args(const std::string& text) {
  std::string t = text;
  const size_t a = t.find_first_not_of(" \t"), b = t.find_last_not_of(" \t");
  if (a == std::string::npos || t[a] != '(' || t[b] != ')')
    throw key_error("criterion.wer_args", "expected '(kenlm_model, lexicon, lm_weight, word_score)', got '" + text + "'");
  std::vector<std::string> parts;
  std::stringstream ss(t.substr(a + 1, b - a - 1));
  for (std::string item; std::getline(ss, item, ',');) {
    const size_t x = item.find_first_not_of(" \t'\""), y = item.find_last_not_of(" \t'\"");
    parts.push_back(x == std::string::npos ? "" : item.substr(x, y - x + 1));
  }
  if (parts.size() != 4)
    throw key_error("criterion.wer_args", "expected 4 values (kenlm_model, lexicon, lm_weight, word_score), got " +
                                              std::to_string(parts.size()) + " in '" + text + "'");
  LmDecoderSpec spec;
  spec.kenlm_model = parts[0];
  spec.lexicon = parts[1];
  try {
    spec.lm_weight = std::stod(parts[2]);
    spec.word_score = std::stod(parts[3]);
  } catch (const std::exception&) {
    throw key_error("criterion.wer_args", "lm_weight and word_score must be numbers, got '" + text + "'");
  }
  return spec;
}

}  // namespace

LmDecoderSpec read_lm_decoder_spec(const config::Config& cfg) {
  LmDecoderSpec spec;
  if (cfg.is_set("criterion.wer_args")) {
    spec = parse_wer_args(cfg.text("criterion.wer_args"));
  } else {
    if (cfg.is_set("criterion.wer_kenlm_model")) spec.kenlm_model = cfg.text("criterion.wer_kenlm_model");
    if (cfg.is_set("criterion.wer_lexicon")) spec.lexicon = cfg.text("criterion.wer_lexicon");
    spec.lm_weight = cfg.real("criterion.wer_lm_weight");
    spec.word_score = cfg.real("criterion.wer_word_score");
  }
  if (!spec.kenlm_model.empty() && spec.lexicon.empty())
    throw key_error("criterion.wer_lexicon", "is required with criterion.wer_kenlm_model (the LM decoder's words)");
  return spec;
}

}  // namespace w2v::train
