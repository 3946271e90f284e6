// The browser page served at GET / (src/serve/page.html, embedded in the binary at build time):
// choose an audio file or record from the microphone, see the transcript and each word's times.
#pragma once

#include <string>

namespace w2v::serve {

const std::string& page_html();

}  // namespace w2v::serve
