// Transcript normalisation (docs/alignment.md): case, digits, punctuation, splitting, folding,
// and unknown characters reported by position, never dropped silently.
#include <gtest/gtest.h>

#include "align/numbers.h"
#include "align/text.h"
#include "align_test_util.h"
#include "util/error.h"

namespace w2v::align {
namespace {

std::vector<std::string> spoken(const AlignText& t) {
  std::vector<std::string> out;
  for (const auto& w : t.spoken) out.push_back(w.text);
  return out;
}

std::vector<std::string> source(const AlignText& t) {
  std::vector<std::string> out;
  for (const auto& w : t.source) out.push_back(w.text);
  return out;
}

using V = std::vector<std::string>;

TEST(Numbers, CardinalsAndDigitByDigit) {
  auto join = [](const V& v) {
    std::string s;
    for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
    return s;
  };
  EXPECT_EQ(join(number_words("0")), "ZERO");
  EXPECT_EQ(join(number_words("13")), "THIRTEEN");
  EXPECT_EQ(join(number_words("42")), "FORTY TWO");
  EXPECT_EQ(join(number_words("100")), "ONE HUNDRED");
  EXPECT_EQ(join(number_words("1984")), "ONE THOUSAND NINE HUNDRED EIGHTY FOUR");
  EXPECT_EQ(join(number_words("2000005")), "TWO MILLION FIVE");
  EXPECT_EQ(join(number_words("999999999")),
            "NINE HUNDRED NINETY NINE MILLION NINE HUNDRED NINETY NINE THOUSAND NINE HUNDRED NINETY NINE");
  EXPECT_EQ(join(number_words("007")), "ZERO ZERO SEVEN");
  EXPECT_EQ(join(number_words("1234567890")), "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE ZERO");
}

TEST(Normalize, CasePunctuationAndSeparators) {
  const auto symbols = test::letter_symbols();
  const AlignText t = normalize("Hello, world!\n  \"Don't\" -- stop.", symbols, "t.txt");
  EXPECT_EQ(spoken(t), (V{"HELLO", "WORLD", "DON'T", "STOP"}));
  EXPECT_EQ(source(t), (V{"Hello,", "world!", "\"Don't\" --", "stop."}));
  EXPECT_EQ(t.source[2].position.line, 2);
  EXPECT_EQ(t.source[2].position.column, 3);
  EXPECT_EQ(t.separator, 4);
  // H E L L O | W O R L D | ...: the separator between spoken words only.
  const auto labels = t.labels();
  EXPECT_EQ(labels.size(), 5u + 1 + 5 + 1 + 5 + 1 + 4);
  EXPECT_EQ(labels[5], 4);
  EXPECT_NE(labels.front(), 4);
  EXPECT_NE(labels.back(), 4);
}

TEST(Normalize, DigitsSplittersAndDiacritics) {
  const auto symbols = test::letter_symbols();
  const AlignText t = normalize("42 well-known 3.14 1,000 3rd café Straße", symbols, "t");
  EXPECT_EQ(spoken(t), (V{"FORTY", "TWO", "WELL", "KNOWN", "THREE", "POINT", "ONE", "FOUR", "ONE", "THOUSAND",
                          "THREE", "RD", "CAFE", "STRASSE"}));
  EXPECT_EQ(source(t), (V{"42", "well-known", "3.14", "1,000", "3rd", "café", "Straße"}));
  EXPECT_EQ(t.spoken[1].source, 0);
  EXPECT_EQ(t.spoken[3].source, 1);
}

TEST(Normalize, DictionaryCaseAndCharactersItHas) {
  // A lower-case dictionary without an apostrophe but with digits.
  std::vector<std::string> symbols = {"<s>", "<pad>", "</s>", "<unk>", "|"};
  for (char c = 'a'; c <= 'z'; ++c) symbols.emplace_back(1, c);
  for (char c = '0'; c <= '9'; ++c) symbols.emplace_back(1, c);
  const AlignText t = normalize("DON'T Call 911", symbols, "t");
  EXPECT_EQ(spoken(t), (V{"dont", "call", "911"}));
}

TEST(Normalize, UnknownCharactersAreErrorsByPosition) {
  const auto symbols = test::letter_symbols();
  try {
    normalize("ok ЖУК\npay $5 + tax", symbols, "script.txt");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("script.txt: 5 character(s)", 0), 0u) << m;
    EXPECT_NE(m.find("1:4 'Ж', 1:5 'У', 1:6 'К', 2:5 '$', 2:8 '+'"), std::string::npos) << m;
  }
  const AlignText t = normalize("ok ЖУК\npay $5", symbols, "script.txt", Unknown::kSkip);
  EXPECT_EQ(spoken(t), (V{"OK", "PAY", "FIVE"}));
  EXPECT_EQ(source(t), (V{"ok ЖУК", "pay", "$5"}));
  ASSERT_EQ(t.skipped.size(), 4u);
  EXPECT_EQ(t.skipped[3].character, "$");
  EXPECT_EQ(t.skipped[3].position.line, 2);
  EXPECT_EQ(t.skipped[3].position.column, 5);
}

TEST(Normalize, NothingToAlignAndBadUtf8AreErrors) {
  const auto symbols = test::letter_symbols();
  EXPECT_THROW(normalize(" ... !! ", symbols, "t"), Error);
  try {
    normalize("abc\nde\xff", symbols, "bad.txt");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "bad.txt:2: column 3: invalid UTF-8 (byte 0xFF)");
  }
}

}  // namespace
}  // namespace w2v::align
