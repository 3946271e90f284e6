#include "align/numbers.h"

namespace w2v::align {

namespace {

const char* const kOnes[] = {"ZERO",    "ONE",     "TWO",       "THREE",    "FOUR",     "FIVE",    "SIX",
                             "SEVEN",   "EIGHT",   "NINE",      "TEN",      "ELEVEN",   "TWELVE",  "THIRTEEN",
                             "FOURTEEN", "FIFTEEN", "SIXTEEN",  "SEVENTEEN", "EIGHTEEN", "NINETEEN"};
const char* const kTens[] = {"", "", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"};

// 1..999 appended to out.
void below_thousand(int n, std::vector<std::string>& out) {
  if (n >= 100) {
    out.push_back(kOnes[n / 100]);
    out.push_back("HUNDRED");
    n %= 100;
  }
  if (n >= 20) {
    out.push_back(kTens[n / 10]);
    n %= 10;
  }
  if (n > 0) out.push_back(kOnes[n]);
}

}  // namespace

std::vector<std::string> digit_words(const std::string& digits) {
  std::vector<std::string> out;
  for (char c : digits) out.push_back(kOnes[c - '0']);
  return out;
}

std::vector<std::string> number_words(const std::string& digits) {
  if (digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return digit_words(digits);
  int n = std::stoi(digits);
  if (n == 0) return {"ZERO"};
  std::vector<std::string> out;
  const struct {
    int unit;
    const char* name;
  } scales[] = {{1000000, "MILLION"}, {1000, "THOUSAND"}};
  for (const auto& s : scales) {
    if (n >= s.unit) {
      below_thousand(n / s.unit, out);
      out.push_back(s.name);
      n %= s.unit;
    }
  }
  below_thousand(n, out);
  return out;
}

}  // namespace w2v::align
