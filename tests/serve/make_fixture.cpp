// serve_fixture DIR [--base]: writes DIR/model.pt (the tiny model of fixture.h), DIR/speech.wav
// (2.3 s) and DIR/long.wav (the same ten times) for the tests that run outside C++ (the browser
// page and the Python module); with --base also DIR/base.pt, a BASE-sized random model for
// bench/serve/load.py.
#include <filesystem>
#include <iostream>
#include <string>

#include "serve/fixture.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "--base")) {
    std::cerr << "usage: serve_fixture DIR [--base]\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  w2v::test::save_serve_model((dir / "model.pt").string());
  if (argc == 3) w2v::test::save_serve_model((dir / "base.pt").string(), /*base=*/true);
  w2v::test::save_speech((dir / "speech.wav").string(), w2v::test::kSentence);
  w2v::test::save_speech((dir / "long.wav").string(), w2v::test::kSentence, 10);
  return 0;
}
