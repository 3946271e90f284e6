// Strict JSON parsing for checkpoint metadata (HF config.json, vocab.json, *.index.json,
// safetensors headers): a repeated object key is an error (parsers disagree on which copy
// wins, so a file with one is ambiguous), and every error is one w2v::Error line naming `where`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace w2v::ckpt {

// Parses `text`; `where` (a path, or "path: header") prefixes the error.
nlohmann::ordered_json parse_json(std::string_view text, const std::string& where);

// Reads and parses a file; a directory or unreadable file is an error naming it.
nlohmann::ordered_json read_json_file(const std::string& path);

}  // namespace w2v::ckpt
