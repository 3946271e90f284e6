// w2v dict: a fairseq dictionary (dict.ltr.txt) from a label file.
#include <fmt/core.h>

#include "cli/command.h"
#include "data/dictionary.h"

namespace {

W2V_COMMAND("dict", "write a fairseq dictionary (symbol count, by descending count) from a label file",
            [](CLI::App& sub) {
              auto labels = std::make_shared<std::string>();
              auto output = std::make_shared<std::string>();
              sub.add_option("labels", *labels, "label file, e.g. DIR/train.ltr")->required();
              sub.add_option("-o,--output", *output, "output dictionary, e.g. DIR/dict.ltr.txt")->required();
              return [=] {
                const w2v::data::Dictionary dict = w2v::data::Dictionary::build(*labels);
                dict.save(*output);
                fmt::print("{}: {} symbols\n", *output, dict.size() - w2v::data::Dictionary::kNumSpecial);
                return 0;
              };
            });

}  // namespace
