// fairseq's `ctc` criterion (spec 6.3): CTC loss on log_softmax of the model's [T, B, V]
// logits, blank 0, summed over utterances; sample_size = utterances (sentence_avg) or target
// tokens. Utterances whose target cannot be aligned to their frames are counted in
// logging["impossible"] (with zero_infinity their loss and gradient are 0, else the loss is inf).
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/dictionary.h"
#include "eval/post_process.h"
#include "train/contrastive_criterion.h"
#include "train/validation_decoder.h"

namespace w2v::train {

class CtcCriterion {
 public:
  CtcCriterion(bool zero_infinity, bool sentence_avg, eval::PostProcess post_process = eval::PostProcess::kLetter);

  // logits [T, B, V]; frame_padding_mask [B, T] (true = padded) or undefined; target [B, S]
  // padded with <pad>. logging: loss, ntokens, nsentences, sample_size, impossible.
  CriterionResult operator()(const torch::Tensor& logits, const torch::Tensor& frame_padding_mask,
                             const torch::Tensor& target) const;

  // Validation error counts (fairseq's eval branch): c_errors/c_total over greedy token ids
  // (UER); wv_errors over the greedy path's post-processed words and w_errors over the words
  // of `lm_decoder` on the log-probabilities (the greedy words again when it is empty), both
  // against w_total reference words (raw_wer and wer).
  LoggingOutput validation_errors(const torch::Tensor& logits, const torch::Tensor& frame_padding_mask,
                                  const torch::Tensor& target, const data::Dictionary& dictionary,
                                  const WordDecoder& lm_decoder = {}) const;

 private:
  bool zero_infinity_, sentence_avg_;
  eval::PostProcess post_process_;
};

// Frames a CTC alignment of `target` needs: its length plus one blank between equal neighbours.
int64_t ctc_required_frames(const int64_t* target, int64_t length);

}  // namespace w2v::train
