// How the units of a CTC dictionary spell words: fairseq's --post-process (data_utils.
// post_process) for the unit conventions a CTC model can have. Applied to the greedy and
// lexicon-free hypotheses and to the references; the lexicon decoder takes its words from the
// lexicon instead (as fairseq's infer.py does). Training's validation WER uses it too.
#pragma once

#include <string>

namespace w2v::eval {

// letter: "|" is the word boundary (H E L L O |); wordpiece: "_" (fairseq's rule, e.g. _HE LLO);
// sentencepiece: "▁" U+2581 (▁HE LLO); none: every unit is a word of its own.
enum class PostProcess { kLetter, kWordpiece, kSentencepiece, kNone };

// "letter" | "wordpiece" | "sentencepiece" | "none"; w2v::Error otherwise.
PostProcess parse_post_process(const std::string& name);

// One unit's contribution to the text with word boundaries written as spaces: the boundary
// mark (|, _ or ▁) becomes a space; with kNone the symbol is padded with a space on each side.
std::string spell_unit(const std::string& symbol, PostProcess p);

// fairseq's post_process of a space-separated unit line ("H E L L O | W O R L D |"), returned
// as words joined by single spaces ("HELLO WORLD"), the form word error rates split on.
std::string post_process(const std::string& units, PostProcess p);

}  // namespace w2v::eval
