// Reading reference/hypothesis transcript files and pairing their utterances.
//
// Three layouts, one per file pair:
//   kLine      one transcript per line; line i of the reference pairs with line i of the hypothesis.
//   kSuffixId  every line ends with "(id)" as in fairseq's hypo.word/ref.word ("HELLO WORLD (None-3)");
//              pairing is by id, in reference order.
//   kFirstColumn  Kaldi "text" layout: the first whitespace-separated field is the id.
// kAuto picks kSuffixId when every non-empty line of both files ends with "(...)", else kLine.
#pragma once

#include <string>
#include <vector>

namespace w2v::eval {

enum class TranscriptLayout { kAuto, kLine, kSuffixId, kFirstColumn, kTabKey };

struct Transcript {
  std::string id;
  std::string text;
  long line = 0;  // 1-based line in its file, for error messages
};

// Parses a file's content (name used in errors). Throws w2v::Error naming file:line when a line
// does not fit the layout.
std::vector<Transcript> parse_transcripts(const std::string& content, const std::string& name,
                                          TranscriptLayout layout);

struct TranscriptPair {
  std::string id, ref, hyp;
};

// Reads both files and pairs them. Missing, extra or duplicate ids and differing line counts are
// errors naming the file and line, never silently dropped utterances. note, if given, gets a
// sentence for the user when kAuto had to guess (else it is cleared).
std::vector<TranscriptPair> pair_transcripts(const std::string& ref_path, const std::string& hyp_path,
                                             TranscriptLayout layout, std::string* note = nullptr);

}  // namespace w2v::eval
