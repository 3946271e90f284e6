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

bool all_tab_keyed(const std::string& content) {
  bool any = false;
  for (const auto& [number, line] : lines_of(content)) {
    if (trim(line).empty()) continue;
    if (line.find('\t') == std::string::npos) return false;
    any = true;
  }
  return any;
}

// "dir/u1.wav" -> "u1".
std::string file_stem(const std::string& key) {
  const size_t slash = key.find_last_of('/');
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
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
      case TranscriptLayout::kTabKey: {
        if (line.empty()) continue;
        const size_t tab = raw.find('\t');
        if (tab == std::string::npos) throw file_error(name, number, "expected 'key<TAB>text', got '" + line + "'");
        t.id = trim(raw.substr(0, tab));
        t.text = trim(raw.substr(tab + 1));
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
                                             TranscriptLayout layout, std::string* note) {
  std::string ref_content = read_file(ref_path), hyp_content = read_file(hyp_path);
  if (note) note->clear();
  TranscriptLayout hyp_layout = layout;
  if (layout == TranscriptLayout::kAuto) {
    const bool ref_tabs = all_tab_keyed(ref_content), hyp_tabs = all_tab_keyed(hyp_content);
    if (all_suffix_ids(ref_content) && all_suffix_ids(hyp_content)) {
      layout = hyp_layout = TranscriptLayout::kSuffixId;
    } else if (ref_tabs && hyp_tabs) {
      layout = hyp_layout = TranscriptLayout::kTabKey;
    } else if (hyp_tabs) {
      layout = TranscriptLayout::kLine;
      hyp_layout = TranscriptLayout::kTabKey;
      if (note)
        *note = hyp_path + ": every line is 'key<TAB>text' (w2v transcribe of several files): the keys are not "
                           "scored; lines are paired with " + ref_path + " by position (give the reference as "
                           "'key<TAB>text' lines to pair by key)";
    } else {
      layout = hyp_layout = TranscriptLayout::kLine;
    }
  }
  auto refs = parse_transcripts(ref_content, ref_path, layout);
  auto hyps = parse_transcripts(hyp_content, hyp_path, hyp_layout);
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
  // kTabKey: a path key also answers to its file stem, when no other key has that stem.
  std::unordered_map<std::string, const Transcript*> by_stem;
  std::unordered_map<std::string, int> stem_count;
  if (layout == TranscriptLayout::kTabKey)
    for (const auto& h : hyps) {
      by_stem[file_stem(h.id)] = &h;
      ++stem_count[file_stem(h.id)];
    }
  std::unordered_map<const Transcript*, long> used;
  std::unordered_map<std::string, long> seen;
  for (const auto& r : refs) {
    if (!seen.emplace(r.id, r.line).second) throw file_error(ref_path, r.line, "duplicate utterance id '" + r.id + "'");
    const Transcript* h = nullptr;
    if (auto it = by_id.find(r.id); it != by_id.end()) h = it->second;
    else if (auto st = by_stem.find(file_stem(r.id)); st != by_stem.end() && stem_count[st->first] == 1) h = st->second;
    if (!h) throw file_error(ref_path, r.line, "utterance id '" + r.id + "' has no hypothesis in " + hyp_path);
    if (!used.emplace(h, r.line).second)
      throw file_error(ref_path, r.line, "utterance id '" + r.id + "' pairs with hypothesis '" + h->id +
                                             "', which another reference line already took");
    pairs.push_back({r.id, r.text, h->text});
  }
  for (const auto& h : hyps) {
    if (!used.count(&h)) throw file_error(hyp_path, h.line, "utterance id '" + h.id + "' has no reference in " + ref_path);
  }
  return pairs;
}

}  // namespace w2v::eval
