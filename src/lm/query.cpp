#include "lm/query.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "lm/text_file.h"

namespace w2v::lm {

double QuerySummary::perplexity_including_oovs() const { return std::pow(10.0, -total / double(tokens)); }

double QuerySummary::perplexity_excluding_oovs() const {
  return std::pow(10.0, -(total - oov_total) / double(tokens - oovs));
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }
}  // namespace

QuerySummary query_text(const BackoffModel& model, const std::string& path, std::ostream* out,
                        bool sentence_context) {
  QuerySummary sum;
  LineReader in(path);
  std::string_view line;
  fmt::memory_buffer buf;
  // One line's words, ids, scores and n-gram lengths, reused from line to line: the line is
  // scored by one score_words call (no virtual call per word).
  std::vector<std::string_view> words;
  std::vector<WordIndex> ids;
  std::vector<float> probs;
  std::vector<int> lengths;
  const WordIndex unk = model.unk_index();
  while (in.next(line)) {
    words.clear();
    ids.clear();
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (j > i) {
        words.push_back(line.substr(i, j - i));
        ids.push_back(model.index(words.back()));
      }
      i = j;
    }
    // KenLM stops at the end of input before scoring </s> of an unterminated line and before
    // adding its total and OOV count; its tokens and OOV scores are already in.
    const bool terminated = in.terminated();
    if (terminated && sentence_context) {
      words.push_back("</s>");
      ids.push_back(model.eos_index());
    }
    probs.resize(ids.size());
    lengths.resize(ids.size());
    State state = sentence_context ? model.begin() : model.null_context();
    model.score_words(&state, ids.data(), ids.size(), probs.data(), out ? lengths.data() : nullptr);
    float line_total = 0;  // float, as KenLM accumulates a line
    uint64_t line_oovs = 0;
    buf.clear();
    for (size_t i = 0; i < ids.size(); ++i) {
      line_total += probs[i];
      ++sum.tokens;
      if (ids[i] == unk) {
        ++line_oovs;
        sum.oov_total += probs[i];
      }
      if (out) {  // "word=id n log10p\t", appended piecewise: a format string per word cost 2x KenLM's whole query
        buf.append(words[i]);
        buf.push_back('=');
        const fmt::format_int id(ids[i]);
        buf.append(id.data(), id.data() + id.size());
        buf.push_back(' ');
        const fmt::format_int length(lengths[i]);
        buf.append(length.data(), length.data() + length.size());
        buf.push_back(' ');
        fmt::format_to(fmt::appender(buf), "{}", probs[i]);
        buf.push_back('\t');
      }
    }
    if (!terminated) break;
    sum.total += line_total;
    sum.oovs += line_oovs;
    if (out) {
      fmt::format_to(fmt::appender(buf), "Total: {} OOV: {}\n", line_total, line_oovs);
      out->write(buf.data(), static_cast<std::streamsize>(buf.size()));
    }
  }
  if (out)
    fmt::print(*out, "Perplexity including OOVs:\t{}\nPerplexity excluding OOVs:\t{}\nOOVs:\t{}\nTokens:\t{}\n",
               sum.perplexity_including_oovs(), sum.perplexity_excluding_oovs(), sum.oovs, sum.tokens);
  return sum;
}

}  // namespace w2v::lm
