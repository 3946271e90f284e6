// Memory for an LM's hash tables: anonymous, 2 MiB-aligned and advised for transparent huge
// pages (KenLM's benchmark loads its files the same way). Lookups in tables of tens of MB miss
// the TLB on 4 KiB pages; with huge pages they don't.
#pragma once

#include <cstddef>
#include <string>

namespace w2v::lm {

// Zero-filled anonymous memory of at least `bytes`, reserved lazily (MAP_NORESERVE); release
// with release_model_memory(p, bytes). Throws w2v::Error naming `path` when it cannot be had.
void* model_memory(size_t bytes, const std::string& path);
void release_model_memory(void* p, size_t bytes);

// The whole file read into model_memory; *size receives its length (> 0, else an error).
void* read_model_file(const std::string& path, size_t* size);

}  // namespace w2v::lm
