// File-system helpers. Every file w2v writes goes through write_atomic, so that a crash or a
// kill never leaves a half-written checkpoint, manifest, LM or result file behind.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace w2v {

// Calls write(stream) on "<path>.tmp.<pid>", flushes, fsyncs and renames it onto path.
// On any failure the temporary file is removed and w2v::Error names the path.
void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Same, for content already in memory.
void write_file_atomic(const std::string& path, const std::string& content);

// Whole file into a string; w2v::Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace w2v
