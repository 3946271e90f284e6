// Digits the way a speaker reads them, for models whose dictionary has letters but no digits
// (docs/alignment.md, "Text normalisation"): English cardinal words, upper case.
#pragma once

#include <string>
#include <vector>

namespace w2v::align {

// "0".."999999999" without a leading zero -> cardinal words ("1984" -> ONE THOUSAND NINE
// HUNDRED EIGHTY FOUR; no "AND"); any other run of digits (a leading zero, ten or more digits)
// is read digit by digit ("007" -> ZERO ZERO SEVEN). digits must be non-empty, '0'-'9' only.
std::vector<std::string> number_words(const std::string& digits);

// Digit by digit ("14" -> ONE FOUR), as a decimal fraction is read after POINT.
std::vector<std::string> digit_words(const std::string& digits);

}  // namespace w2v::align
