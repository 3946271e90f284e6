// w2v lexicon: letter spellings of words in fairseq/flashlight's lexicon format.
#include <fmt/core.h>

#include <cctype>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "cli/command.h"
#include "data/dictionary.h"
#include "lm/letters.h"
#include "lm/ngram_model.h"
#include "lm/text_file.h"
#include "util/error.h"

namespace {

// Words of a word list (whitespace-separated, first occurrence kept) or of an LM's vocabulary
// (without <s>, </s>, <unk>).
std::vector<std::string> read_words(const std::string& words_path, const std::string& lm_path) {
  std::vector<std::string> words;
  if (!lm_path.empty()) {
    auto model = w2v::lm::open_language_model(lm_path);
    if (!model->has_words())
      throw w2v::Error(lm_path + ": this KenLM binary has no vocabulary strings (build_binary was run without them)");
    for (w2v::lm::WordIndex i = 0; i < model->vocab_size(); ++i)
      if (i != model->bos_index() && i != model->eos_index() && i != model->unk_index())
        words.emplace_back(model->word(i));
    return words;
  }
  std::unordered_set<std::string> seen;
  w2v::lm::LineReader in(words_path);
  std::string_view line;
  while (in.next(line)) {
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i && seen.emplace(line.substr(i, j - i)).second) words.emplace_back(line.substr(i, j - i));
      i = j;
    }
  }
  return words;
}

W2V_COMMAND("lexicon", "letter spellings (WORD<TAB>W O R D |) of a word list or an LM's vocabulary",
            [](CLI::App& sub) {
              auto words_path = std::make_shared<std::string>();
              auto lm_path = std::make_shared<std::string>();
              auto output = std::make_shared<std::string>();
              auto dict_path = std::make_shared<std::string>();
              auto* words_opt = sub.add_option("--words", *words_path, "word list (whitespace-separated)");
              auto* lm_opt = sub.add_option("--lm", *lm_path, "take the words of this LM (ARPA, .gz, w2v or KenLM binary)");
              words_opt->excludes(lm_opt);
              sub.add_option("-o,--output", *output, "output lexicon")->required();
              sub.add_option("--dict", *dict_path, "fairseq dict.ltr.txt: skip words with characters outside it");
              return [=] {
                if (words_path->empty() && lm_path->empty()) throw w2v::Error("lexicon: give --words or --lm");
                const std::vector<std::string> words = read_words(*words_path, *lm_path);
                std::unique_ptr<w2v::data::Dictionary> dict;
                if (!dict_path->empty())
                  dict = std::make_unique<w2v::data::Dictionary>(w2v::data::Dictionary::load(*dict_path));
                std::string text;
                std::vector<std::string> skipped;
                size_t written = 0;
                for (const std::string& word : words) {
                  std::string spelling;
                  std::string missing;
                  for (std::string_view letter : w2v::lm::utf8_characters(word)) {
                    if (dict && missing.empty() && dict->index(std::string(letter)) == w2v::data::Dictionary::kUnk)
                      missing = letter;
                    spelling.append(letter).push_back(' ');
                  }
                  if (!missing.empty()) {
                    skipped.push_back(fmt::format("{} ('{}')", word, missing));
                    continue;
                  }
                  text += word + '\t' + spelling + std::string(w2v::lm::kWordBoundary) + '\n';
                  ++written;
                }
                w2v::lm::write_text_atomic(*output, [&](std::ostream& out) { out << text; });
                fmt::print(stderr, "wrote {}: {} words", *output, written);
                if (!skipped.empty()) {
                  fmt::print(stderr, "; skipped {} with characters outside {}:", skipped.size(), *dict_path);
                  for (size_t i = 0; i < skipped.size() && i < 20; ++i) fmt::print(stderr, " {}", skipped[i]);
                  if (skipped.size() > 20) fmt::print(stderr, " ...");
                }
                fmt::print(stderr, "\n");
                return 0;
              };
            });

}  // namespace
