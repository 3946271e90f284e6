#include "train/ctc_criterion.h"

#include "eval/edit_distance.h"
#include "eval/scoring.h"
#include "util/error.h"

namespace w2v::train {

using data::Dictionary;

int64_t ctc_required_frames(const int64_t* target, int64_t length) {
  int64_t need = length;
  for (int64_t i = 1; i < length; ++i)
    if (target[i] == target[i - 1]) ++need;
  return need;
}

CtcCriterion::CtcCriterion(bool zero_infinity, bool sentence_avg, eval::PostProcess post_process)
    : zero_infinity_(zero_infinity), sentence_avg_(sentence_avg), post_process_(post_process) {}

namespace {

torch::Tensor input_lengths_of(const torch::Tensor& frame_padding_mask, int64_t T, int64_t B) {
  if (!frame_padding_mask.defined()) return torch::full({B}, T, torch::kLong);
  return (~frame_padding_mask).to(torch::kLong).sum(-1);
}

// Targets without <pad> and </s> (fairseq strips both), one vector per row.
std::vector<std::vector<int64_t>> clean_targets(const torch::Tensor& target) {
  auto t = target.to(torch::kLong).contiguous();
  auto acc = t.accessor<int64_t, 2>();
  std::vector<std::vector<int64_t>> out(t.size(0));
  for (int64_t b = 0; b < t.size(0); ++b)
    for (int64_t s = 0; s < t.size(1); ++s)
      if (acc[b][s] != Dictionary::kPad && acc[b][s] != Dictionary::kEos) out[b].push_back(acc[b][s]);
  return out;
}

// The words of a unit-id sequence: the units' symbols post-processed as fairseq's criterion does.
std::vector<std::string> words_of(const std::vector<int64_t>& ids, const Dictionary& dict, eval::PostProcess p) {
  std::string units;
  for (int64_t id : ids) {
    if (id == Dictionary::kEos || id == Dictionary::kPad) continue;
    units += dict.symbol(id) + ' ';
  }
  return eval::split_words(eval::post_process(units, p));
}

}  // namespace

CriterionResult CtcCriterion::operator()(const torch::Tensor& logits,
                                         const torch::Tensor& frame_padding_mask,
                                         const torch::Tensor& target) const {
  const int64_t T = logits.size(0), B = logits.size(1);
  auto lprobs = torch::log_softmax(logits.to(torch::kFloat), -1);
  auto input_lengths = input_lengths_of(frame_padding_mask, T, B);
  const auto rows = clean_targets(target);
  std::vector<int64_t> flat, lengths;
  int64_t impossible = 0;
  auto in_len = input_lengths.accessor<int64_t, 1>();
  for (int64_t b = 0; b < B; ++b) {
    flat.insert(flat.end(), rows[b].begin(), rows[b].end());
    lengths.push_back(static_cast<int64_t>(rows[b].size()));
    if (ctc_required_frames(rows[b].data(), lengths.back()) > in_len[b]) ++impossible;
  }
  auto targets = torch::tensor(flat, torch::kLong);
  auto target_lengths = torch::tensor(lengths, torch::kLong);
  auto loss = torch::ctc_loss(lprobs, targets, input_lengths, target_lengths, /*blank=*/0,
                              at::Reduction::Sum, zero_infinity_);
  CriterionResult r;
  const double ntokens = static_cast<double>(flat.size());
  r.sample_size = sentence_avg_ ? static_cast<double>(B) : ntokens;
  r.loss = loss;
  r.logging["loss"] = loss.item<double>();
  r.logging["ntokens"] = ntokens;
  r.logging["nsentences"] = static_cast<double>(B);
  r.logging["sample_size"] = r.sample_size;
  r.logging["impossible"] = static_cast<double>(impossible);
  return r;
}

LoggingOutput CtcCriterion::validation_errors(const torch::Tensor& logits,
                                              const torch::Tensor& frame_padding_mask,
                                              const torch::Tensor& target, const Dictionary& dictionary,
                                              const WordDecoder& lm_decoder) const {
  torch::NoGradGuard no_grad;
  const int64_t T = logits.size(0), B = logits.size(1), V = logits.size(2);
  auto best = logits.argmax(-1).to(torch::kLong).contiguous();  // [T, B]
  auto acc = best.accessor<int64_t, 2>();
  // [B, T, V] so that each utterance's frames are one row-major block for the LM decoder.
  torch::Tensor lprobs;
  if (lm_decoder) lprobs = torch::log_softmax(logits.to(torch::kFloat), -1).transpose(0, 1).contiguous();
  auto input_lengths = input_lengths_of(frame_padding_mask, T, B);
  auto in_len = input_lengths.accessor<int64_t, 1>();
  const auto refs = clean_targets(target);
  LoggingOutput out{{"c_errors", 0}, {"c_total", 0}, {"w_errors", 0}, {"wv_errors", 0}, {"w_total", 0}};
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> hyp;
    int64_t prev = -1;
    for (int64_t t = 0; t < in_len[b]; ++t) {
      const int64_t tok = acc[t][b];
      if (tok != prev && tok != 0) hyp.push_back(tok);
      prev = tok;
    }
    out["c_errors"] += static_cast<double>(eval::edit_distance(hyp, refs[b]));
    out["c_total"] += static_cast<double>(refs[b].size());
    const auto rw = words_of(refs[b], dictionary, post_process_);
    const double raw = static_cast<double>(eval::edit_distance(words_of(hyp, dictionary, post_process_), rw));
    out["wv_errors"] += raw;
    out["w_errors"] += lm_decoder ? static_cast<double>(eval::edit_distance(
                                        lm_decoder(lprobs[b].data_ptr<float>(), in_len[b], V), rw))
                                  : raw;
    out["w_total"] += static_cast<double>(rw.size());
  }
  return out;
}

}  // namespace w2v::train
