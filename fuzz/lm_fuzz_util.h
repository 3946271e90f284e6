// Shared by the LM fuzz harnesses: the work query and the decoders do with a model once it has
// loaded (the input reaches the loaders as an in-memory file, fuzz_file.h).
#pragma once

#include <string>

#include "lm/language_model.h"

namespace w2v::lm::fuzz {

// Words to ids, two sentences scored state to state, the first ids mapped to words and back.
inline void exercise(const BackoffModel& model) {
  const char* const words[] = {"w0", "w1", "the", "cat", "<unk>", "w3", "</s>", "<s>", "w0", "w1", "w2", "zebra", "w17"};
  State state = model.begin();
  for (const char* w : words) state = model.score(state, model.index(std::string(w))).next;
  (void)model.finish(state);
  state = model.null_context();
  for (WordIndex i = 0; i < model.vocab_size() && i < 256; ++i) {
    (void)model.index(model.word(i));
    state = model.score(state, i).next;
  }
  (void)model.finish(state);
}

}  // namespace w2v::lm::fuzz
