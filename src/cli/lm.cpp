// w2v lm build|compile|query: KenLM-compatible n-gram LM toolkit (lmplz, build_binary, query).
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>
#include <iostream>

#include "cli/command.h"
#include "lm/kenlm_model.h"
#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"
#include "lm/query.h"
#include "util/error.h"

namespace {

// estimate_kneser_ney's errors name KneserNeyOptions' fields; the user typed flags. Field names
// at the start of a message are the option's own error, "set <field>" a hint.
std::string with_flags(std::string message) {
  const std::pair<std::string, std::string> hints[] = {{"set skip_symbols", "pass --skip-symbols"},
                                                       {"set discount_fallback", "pass --discount-fallback"}};
  for (const auto& [from, to] : hints)
    if (const size_t at = message.find(from); at != std::string::npos) message.replace(at, from.size(), to);
  const std::pair<std::string, std::string> fields[] = {
      {"discount_fallback", "--fallback-discounts"}, {"order ", "--order "}, {"prune:", "--prune:"}};
  for (const auto& [from, to] : fields)
    if (message.compare(0, from.size(), from) == 0) return to + message.substr(from.size());
  return message;
}

// --prune takes thresholds as separate words or comma-separated. CLI11 gives the option every
// word up to the next option, so a corpus named after the thresholds arrives here: a last
// word that is not a number is the corpus when none was given apart.
void parse_prune(std::vector<std::string> words, std::string& text, std::vector<uint64_t>& prune) {
  auto is_number = [](const std::string& w) {
    return !w.empty() && w.find_first_not_of("0123456789,") == std::string::npos;
  };
  if (!words.empty() && !is_number(words.back()) && text.empty()) {
    text = words.back();
    words.pop_back();
  }
  for (const std::string& word : words) {
    std::stringstream values(word);
    for (std::string value; std::getline(values, value, ',');) {
      if (value.empty() || !is_number(value) || value.size() > 18)
        throw w2v::Error("--prune: expected non-negative integer thresholds like '0 1' or '0,1', got '" + word + "'");
      prune.push_back(std::stoull(value));
    }
  }
  if (text.empty()) throw w2v::Error("lm build: the corpus TEXT is required");
}

W2V_COMMAND("lm", "n-gram language models: build (modified Kneser-Ney, like lmplz), compile (binary), query",
            [](CLI::App& sub) {
              sub.require_subcommand(1);
              auto options = std::make_shared<w2v::lm::KneserNeyOptions>();
              auto text = std::make_shared<std::string>();
              auto output = std::make_shared<std::string>();
              auto tokens = std::make_shared<std::string>("words");
              CLI::App* build =
                  sub.add_subcommand("build", "estimate an interpolated modified Kneser-Ney ARPA model from text");
              // Not required here: `--prune 0 1 corpus.txt` hands the corpus to --prune (see below).
              build->add_option("text", *text, "corpus, one sentence per line (plain or .gz; '-' = stdin)");
              build->add_option("-o,--output", *output, "output ARPA (.gz to compress)")->required();
              build->add_option("--order", options->order, "model order")->required();
              auto prune = std::make_shared<std::vector<std::string>>();
              build->add_option("--prune", *prune,
                                "drop n-grams with raw count <= t, one threshold per order (last repeats): "
                                "'--prune 0 1' or '--prune 0,1'");
              build->add_option("--vocab-limit", options->vocab_limit, "keep only the V most frequent words");
              // A flag plus a separate value option: an optional-value option would swallow the corpus path.
              auto fallback = std::make_shared<bool>(false);
              auto fallback_values = std::make_shared<std::string>();
              build->add_flag("--discount-fallback", *fallback,
                              "use fallback discounts for orders whose estimate fails (default 0.5 1 1.5)");
              build->add_option("--fallback-discounts", *fallback_values,
                                "fallback D1[,D2[,D3+]] (last repeats); implies --discount-fallback");
              build->add_option("--interpolate-unigrams", options->interpolate_unigrams,
                                "1 (default): unigrams share gamma uniformly; 0: SRILM style, <unk> gets it all");
              build->add_flag("--skip-symbols", options->skip_symbols, "treat <s>, </s>, <unk> in the text as whitespace");
              build->add_option("--tokens", *tokens, "words, or letters: every character plus '|' after each word")
                  ->check(CLI::IsMember({"words", "letters"}));

              auto model_path = std::make_shared<std::string>();
              auto binary_out = std::make_shared<std::string>();
              CLI::App* compile = sub.add_subcommand(
                  "compile", "convert an ARPA model to KenLM's probing binary (as build_binary probing), which loads without parsing");
              compile->add_option("arpa", *model_path, "ARPA or ARPA.gz")->required();
              compile->add_option("-o,--output", *binary_out, "output binary model")->required();

              auto query_model = std::make_shared<std::string>();
              auto no_context = std::make_shared<bool>(false);
              auto input = std::make_shared<std::string>("-");
              CLI::App* query = sub.add_subcommand("query", "score text like KenLM's query: per-line log10 and perplexity");
              query->add_option("model", *query_model, "ARPA, ARPA.gz or KenLM binary model")->required();
              query->add_option("--input", *input, "text to score (default stdin)");
              query->add_flag("-n", *no_context, "no <s> context and no </s> (KenLM query -n)");

              return [=] {
                if (build->parsed()) {
                  parse_prune(*prune, *text, options->prune);
                  if (!fallback_values->empty()) {
                    std::stringstream values(*fallback_values);
                    for (std::string value; std::getline(values, value, ',');) {
                      char* end = nullptr;
                      options->discount_fallback.push_back(std::strtod(value.c_str(), &end));
                      if (value.empty() || *end != '\0')
                        throw w2v::Error("--fallback-discounts: expected numbers like 0.5,1,1.5, got '" +
                                         *fallback_values + "'");
                    }
                  } else if (*fallback)
                    options->discount_fallback = {0.5, 1.0, 1.5};
                  options->letters = *tokens == "letters";
                  auto start = std::chrono::steady_clock::now();
                  try {
                    w2v::lm::estimate_kneser_ney(*text, *output, *options, &std::cerr);
                  } catch (const w2v::Error& e) {
                    throw w2v::Error(with_flags(e.what()));
                  }
                  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                  fmt::print(stderr, "wrote {} in {:.1f} s\n", *output, seconds);
                } else if (compile->parsed()) {
                  const auto wrote = w2v::lm::write_kenlm_probing(*model_path, *binary_out);
                  fmt::print(stderr, "wrote {}: order {}, {} words\n", *binary_out, wrote.order, wrote.words);
                } else if (query->parsed()) {
                  auto model = w2v::lm::open_language_model(*query_model);
                  w2v::lm::query_text(*model, *input, &std::cout, !*no_context);
                  std::cout.flush();
                }
                return 0;
              };
            });

}  // namespace
