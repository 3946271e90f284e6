#include "lm/arpa.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <cstdlib>
#include <ostream>

#include "lm/text_file.h"
#include "util/error.h"

namespace w2v::lm {

namespace {

bool is_blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

void split_fields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) fields.push_back(line.substr(i, j - i));
    i = j;
  }
}

float parse_float(std::string_view field, const LineReader& in, const char* what) {
  // from_chars reads the decimal forms ARPA writers print (and -inf), correctly rounded as
  // strtof, without copying the field or consulting the locale; whatever it leaves (a '+'
  // sign, hex, out of range, an error) goes the strtof way below.
  float fast;
  const auto [stop, ec] = std::from_chars(field.data(), field.data() + field.size(), fast);
  if (ec == std::errc() && stop == field.data() + field.size() && !std::isnan(fast) && fast != INFINITY) return fast;
  std::string s(field);
  char* end = nullptr;
  float v = std::strtof(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || std::isnan(v) || v == INFINITY)
    throw file_error(in.path(), in.line_number(), fmt::format("expected a {} (log10 number), got '{}'", what, s));
  return v;
}

// The most text bytes `path` can yield: its size, times deflate's maximum ratio (1032:1) if
// it is gzip, or kMaxStreamedArpaBytes for a pipe or other non-regular file.
uint64_t max_text_bytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return kMaxStreamedArpaBytes;
  unsigned char magic[2] = {};
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(magic), 2);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  return magic[0] == 0x1f && magic[1] == 0x8b ? size * 1032 : size;
}

// Declared counts drive allocation before any n-gram is read, so they must fit the file: a
// k-gram line takes at least 2k + 2 bytes ("0 a b\n").
void check_counts_fit(const std::vector<uint64_t>& counts, const std::vector<long>& lines, const LineReader& in) {
  const uint64_t limit = max_text_bytes(in.path());
  uint64_t need = 0;
  for (size_t k = 1; k <= counts.size(); ++k) {
    const uint64_t line_bytes = 2 * k + 2;
    if (counts[k - 1] > (limit - need) / line_bytes)
      throw file_error(in.path(), lines[k - 1],
                       fmt::format("the header declares {} {}-grams, more than {} bytes of text can hold", counts[k - 1],
                                   k, limit));
    need += counts[k - 1] * line_bytes;
  }
}

}  // namespace

void ArpaReader::read(const std::string& path, const HeaderFn& on_header, const NgramFn& on_ngram) {
  LineReader in(path);
  std::string_view line;
  bool found = false;
  while (in.next(line))
    if (trim(line) == "\\data\\") {
      found = true;
      break;
    }
  if (!found) throw file_error(in.path(), in.line_number(), "not an ARPA file: no '\\data\\' line");

  std::vector<uint64_t> counts;
  std::vector<long> count_lines;
  while (in.next(line)) {
    std::string_view t = trim(line);
    if (t.empty()) {
      if (counts.empty()) continue;
      break;
    }
    if (t.substr(0, 6) != "ngram " || t.find('=') == std::string_view::npos)
      throw file_error(in.path(), in.line_number(), fmt::format("expected 'ngram <k>=<count>', got '{}'", t));
    std::string_view key = trim(t.substr(6, t.find('=') - 6));
    std::string value(trim(t.substr(t.find('=') + 1)));
    char* end = nullptr;
    unsigned long long count = std::strtoull(value.c_str(), &end, 10);
    if (key != std::to_string(counts.size() + 1) || value.empty() || *end != '\0' || value[0] == '-')
      throw file_error(in.path(), in.line_number(),
                       fmt::format("expected 'ngram {}=<count>', got '{}'", counts.size() + 1, t));
    counts.push_back(count);
    count_lines.push_back(in.line_number());
  }
  if (counts.empty()) throw file_error(in.path(), in.line_number(), "ARPA header declares no n-gram counts");
  check_counts_fit(counts, count_lines, in);
  on_header(counts);

  const int max_order = static_cast<int>(counts.size());
  std::vector<std::string_view> fields;
  ArpaNgram ngram;
  for (int k = 1; k <= max_order; ++k) {
    const std::string heading = fmt::format("\\{}-grams:", k);
    bool have = false;
    while (in.next(line)) {
      if (is_blank(line)) continue;
      if (trim(line) != heading)
        throw file_error(in.path(), in.line_number(), fmt::format("expected '{}', got '{}'", heading, trim(line)));
      have = true;
      break;
    }
    if (!have) throw file_error(in.path(), in.line_number(), fmt::format("missing section '{}'", heading));
    ngram.order = k;
    for (uint64_t i = 0; i < counts[k - 1]; ++i) {
      if (!in.next(line) || is_blank(line) || line[0] == '\\')
        throw file_error(in.path(), in.line_number(),
                         fmt::format("header declares {} {}-grams but the section has {}", counts[k - 1], k, i));
      split_fields(line, fields);
      const size_t n = fields.size();
      if (n != static_cast<size_t>(k) + 1 && !(n == static_cast<size_t>(k) + 2 && k < max_order))
        throw file_error(in.path(), in.line_number(),
                         fmt::format("expected '<log10 prob> <{} words>{}', got {} fields", k,
                                     k < max_order ? " [<log10 backoff>]" : "", n));
      ngram.log10_prob = parse_float(fields[0], in, "probability");
      ngram.words.assign(fields.begin() + 1, fields.begin() + 1 + k);
      ngram.log10_backoff = n == static_cast<size_t>(k) + 2 ? parse_float(fields[k + 1], in, "backoff") : 0.0f;
      ngram.line = in.line_number();
      on_ngram(ngram);
    }
  }
  while (in.next(line)) {
    if (is_blank(line)) continue;
    if (trim(line) == "\\end\\") return;
    throw file_error(in.path(), in.line_number(),
                     fmt::format("expected '\\end\\' after {} {}-grams, got '{}'", counts.back(), max_order, trim(line)));
  }
  throw file_error(in.path(), in.line_number(), "missing '\\end\\'");
}

void write_arpa(std::ostream& out, const std::vector<uint64_t>& counts,
                const std::function<void(int, const std::function<void(const ArpaEntry&)>&)>& section) {
  const int max_order = static_cast<int>(counts.size());
  out << "\\data\\\n";
  for (int k = 1; k <= max_order; ++k) out << "ngram " << k << '=' << counts[k - 1] << '\n';
  fmt::memory_buffer buf;
  for (int k = 1; k <= max_order; ++k) {
    out << "\n\\" << k << "-grams:\n";
    uint64_t written = 0;
    section(k, [&](const ArpaEntry& e) {
      buf.clear();
      fmt::format_to(std::back_inserter(buf), "{}\t", e.log10_prob);
      for (size_t i = 0; i < e.words.size(); ++i) {
        if (i) buf.push_back(' ');
        buf.append(e.words[i].data(), e.words[i].data() + e.words[i].size());
      }
      if (k < max_order) fmt::format_to(std::back_inserter(buf), "\t{}", e.log10_backoff);
      buf.push_back('\n');
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      ++written;
    });
    if (written != counts[k - 1])
      throw Error(fmt::format("ARPA writer: {} {}-grams declared but {} written", counts[k - 1], k, written));
  }
  out << "\n\\end\\\n";
}

}  // namespace w2v::lm
