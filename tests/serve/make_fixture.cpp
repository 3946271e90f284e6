// serve_fixture DIR: writes DIR/model.pt (the tiny model of fixture.h), DIR/speech.wav (2.3 s)
// and DIR/long.wav (the same ten times) for the tests that run outside C++ (the browser page
// and the Python module) and for bench/serve/load.py.
#include <filesystem>
#include <iostream>

#include "serve/fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: serve_fixture DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  w2v::test::save_serve_model((dir / "model.pt").string());
  w2v::test::save_speech((dir / "speech.wav").string(), w2v::test::kSentence);
  w2v::test::save_speech((dir / "long.wav").string(), w2v::test::kSentence, 10);
  return 0;
}
