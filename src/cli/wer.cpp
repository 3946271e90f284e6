// w2v wer REF HYP: word (or character) error rate of a hypothesis file against a reference file.
#include <fmt/core.h>

#include <map>

#include "cli/command.h"
#include "eval/scoring.h"
#include "eval/transcripts.h"
#include "util/fs.h"

namespace {

W2V_COMMAND("wer", "Word/character error rate of a hypothesis file against a reference file", [](CLI::App& sub) {
  struct Options {
    std::string ref, hyp, report, layout = "auto";
    bool cer = false;
    size_t top = 20;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("REF", o->ref, "reference transcripts")->required()->check(CLI::ExistingFile);
  sub.add_option("HYP", o->hyp, "hypothesis transcripts")->required()->check(CLI::ExistingFile);
  sub.add_flag("--cer", o->cer, "score characters instead of words (the space between words counts)");
  sub.add_option("--report", o->report, "write an sclite-like report (alignments, totals, confusions) to FILE");
  sub.add_option("--top", o->top, "confusions listed in the report")->capture_default_str();
  sub.add_option("--layout", o->layout,
                 "pairing of lines: auto (by '(id)' suffix when every line has one, by key when every line of "
                 "both is 'key<TAB>text', else by line - dropping HYP's keys if only it has them), line, "
                 "suffix-id, first-column (Kaldi: id then text), tab-key (w2v transcribe's several-file output)")
      ->check(CLI::IsMember({"auto", "line", "suffix-id", "first-column", "tab-key"}))
      ->capture_default_str();
  return [o] {
    using w2v::eval::TranscriptLayout;
    static const std::map<std::string, TranscriptLayout> layouts = {{"auto", TranscriptLayout::kAuto},
                                                                    {"line", TranscriptLayout::kLine},
                                                                    {"suffix-id", TranscriptLayout::kSuffixId},
                                                                    {"first-column", TranscriptLayout::kFirstColumn},
                                                                    {"tab-key", TranscriptLayout::kTabKey}};
    w2v::eval::Scorer scorer(o->cer);
    std::string note;
    for (const auto& p : w2v::eval::pair_transcripts(o->ref, o->hyp, layouts.at(o->layout), &note))
      scorer.add(p.id, p.ref, p.hyp);
    if (!note.empty()) fmt::print(stderr, "note: {}\n", note);
    fmt::print("{}: {:.2f} % ({} errors / {} {}: S {} D {} I {}; {} sentences, {} with errors)\n",
               o->cer ? "CER" : "WER", scorer.error_rate(), scorer.errors(), scorer.ref_units(),
               o->cer ? "characters" : "words", scorer.substitutions(), scorer.deletions(), scorer.insertions(),
               scorer.sentences(), scorer.sentence_errors());
    if (!o->report.empty()) w2v::write_file_atomic(o->report, scorer.report(o->top));
    return 0;
  };
});

}  // namespace
