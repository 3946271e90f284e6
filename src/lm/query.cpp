#include "lm/query.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cmath>
#include <ostream>

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
  while (in.next(line)) {
    State state = sentence_context ? model.begin() : model.null_context();
    float line_total = 0;  // float, as KenLM accumulates a line
    uint64_t line_oovs = 0;
    buf.clear();
    auto score = [&](std::string_view word, WordIndex id) {
      int n = 0;
      ScoreResult r = model.score(state, id, &n);
      state = r.next;
      line_total += r.log10_prob;
      ++sum.tokens;
      if (id == model.unk_index()) {
        ++line_oovs;
        sum.oov_total += r.log10_prob;
      }
      if (out) fmt::format_to(std::back_inserter(buf), "{}={} {} {}\t", word, id, n, r.log10_prob);
    };
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (j > i) score(line.substr(i, j - i), model.index(line.substr(i, j - i)));
      i = j;
    }
    // KenLM stops at the end of input before scoring </s> of an unterminated line and before
    // adding its total and OOV count; its tokens and OOV scores are already in.
    if (!in.terminated()) break;
    if (sentence_context) score("</s>", model.eos_index());
    sum.total += line_total;
    sum.oovs += line_oovs;
    if (out) {
      fmt::format_to(std::back_inserter(buf), "Total: {} OOV: {}\n", line_total, line_oovs);
      out->write(buf.data(), static_cast<std::streamsize>(buf.size()));
    }
  }
  if (out)
    fmt::print(*out, "Perplexity including OOVs:\t{}\nPerplexity excluding OOVs:\t{}\nOOVs:\t{}\nTokens:\t{}\n",
               sum.perplexity_including_oovs(), sum.perplexity_excluding_oovs(), sum.oovs, sum.tokens);
  return sum;
}

}  // namespace w2v::lm
