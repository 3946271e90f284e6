#include "eval/transcripts.h"

#include <algorithm>
#include <unordered_map>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::eval {

namespace {

std::vector<std::pair<long, std::string>> lines_of(const std::string& content) {
  std::vector<std::pair<long, std::string>> lines;
  size_t start = 0;
  long number = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.emplace_back(++number, std::move(line));
    start = end + 1;
  }
  return lines;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool has_suffix_id(const std::string& line) {
  std::string t = trim(line);
  return !t.empty() && t.back() == ')' && t.find('(') != std::string::npos;
}

bool all_suffix_ids(const std::string& content) {
  bool any = false;
  for (const auto& [number, line] : lines_of(content)) {
    if (trim(line).empty()) continue;
    if (!has_suffix_id(line)) return false;
    any = true;
  }
  return any;
}

}  // namespace

std::vector<Transcript> parse_transcripts(const std::string& content, const std::string& name,
                                          TranscriptLayout layout) {
  std::vector<Transcript> out;
  for (auto& [number, raw] : lines_of(content)) {
    std::string line = trim(raw);
    Transcript t;
    t.line = number;
    switch (layout) {
      case TranscriptLayout::kAuto:
      case TranscriptLayout::kLine:
        t.id = std::to_string(number);
        t.text = line;
        break;
      case TranscriptLayout::kSuffixId: {
        if (line.empty()) continue;
        size_t open = line.rfind('(');
        if (line.back() != ')' || open == std::string::npos)
          throw file_error(name, number, "expected a transcript ending with '(id)', got '" + line + "'");
        t.id = line.substr(open + 1, line.size() - open - 2);
        t.text = trim(line.substr(0, open));
        break;
      }
      case TranscriptLayout::kFirstColumn: {
        if (line.empty()) continue;
        size_t space = line.find_first_of(" \t");
        t.id = line.substr(0, space);
        t.text = space == std::string::npos ? std::string() : trim(line.substr(space));
        break;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TranscriptPair> pair_transcripts(const std::string& ref_path, const std::string& hyp_path,
                                             TranscriptLayout layout) {
  std::string ref_content = read_file(ref_path), hyp_content = read_file(hyp_path);
  if (layout == TranscriptLayout::kAuto) {
    layout = all_suffix_ids(ref_content) && all_suffix_ids(hyp_content) ? TranscriptLayout::kSuffixId
                                                                          : TranscriptLayout::kLine;
  }
  auto refs = parse_transcripts(ref_content, ref_path, layout);
  auto hyps = parse_transcripts(hyp_content, hyp_path, layout);
  std::vector<TranscriptPair> pairs;
  if (layout == TranscriptLayout::kLine) {
    if (refs.size() != hyps.size()) {
      const std::string& shorter = refs.size() < hyps.size() ? ref_path : hyp_path;
      size_t n = std::min(refs.size(), hyps.size());
      throw file_error(shorter, static_cast<long>(n + 1),
                       "expected a line for every line of the other file (" + std::to_string(refs.size()) +
                           " reference lines vs " + std::to_string(hyps.size()) + " hypothesis lines)");
    }
    for (size_t i = 0; i < refs.size(); ++i) pairs.push_back({refs[i].id, refs[i].text, hyps[i].text});
    return pairs;
  }
  std::unordered_map<std::string, const Transcript*> by_id;
  for (const auto& h : hyps) {
    if (!by_id.emplace(h.id, &h).second) throw file_error(hyp_path, h.line, "duplicate utterance id '" + h.id + "'");
  }
  std::unordered_map<std::string, long> seen;
  for (const auto& r : refs) {
    if (!seen.emplace(r.id, r.line).second) throw file_error(ref_path, r.line, "duplicate utterance id '" + r.id + "'");
    auto it = by_id.find(r.id);
    if (it == by_id.end())
      throw file_error(ref_path, r.line, "utterance id '" + r.id + "' has no hypothesis in " + hyp_path);
    pairs.push_back({r.id, r.text, it->second->text});
  }
  for (const auto& h : hyps) {
    if (!seen.count(h.id)) throw file_error(hyp_path, h.line, "utterance id '" + h.id + "' has no reference in " + ref_path);
  }
  return pairs;
}

}  // namespace w2v::eval
