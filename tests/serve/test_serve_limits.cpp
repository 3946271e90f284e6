// `w2v serve` under bad and heavy traffic: malformed and oversized requests get the right
// status and a JSON error and leave the server answering; a full line gets 503 + Retry-After; a
// stalled client is dropped after the timeout; SIGTERM and SIGINT let requests in flight finish
// and exit 0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <thread>

#include "audio/audio.h"
#include "serve/serve_test_env.h"

namespace w2v::test {
namespace {

using json = nlohmann::json;

// The JSON error body every refusal carries.
void expect_error(const httplib::Result& r, int status, const std::string& code, const std::string& message_part = "") {
  ASSERT_TRUE(r) << "no response (" << httplib::to_string(r.error()) << ")";
  EXPECT_EQ(r->status, status) << r->body;
  json j;
  ASSERT_NO_THROW(j = json::parse(r->body)) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find(message_part), std::string::npos) << r->body;
}

// A raw TCP connection to the server, for requests no HTTP client library would send.
int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string send_raw(int port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) return "";
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && out.find("}") != std::string::npos) break;
  }
  close(fd);
  return out;
}

TEST(ServeLimits, BadRequestsGetJsonErrorsAndTheServerGoesOn) {
  const auto& env = ServeEnv::get();
  // 25 s of audio at 8 kHz (400 kB) is under the 1 MiB upload limit but over 20 s.
  const std::string too_long = env.dir + "/too_long.wav";
  audio::write(too_long, std::vector<float>(25 * 8000, 0.1f), 8000);
  ServerProcess server({env.model, "--max-upload-mb", "1", "--max-audio-seconds", "20"}, env.dir + "/limits.log");
  auto c = client(server.port());
  const std::string path = "/v1/audio/transcriptions";

  expect_error(c->Post(path, "{\"file\": \"x\"}", "application/json"), 415, "unsupported_media_type", "multipart");
  expect_error(c->Post(path, httplib::MultipartFormDataItems{{"model", "whisper-1", "", ""}}), 400, "missing_file");
  expect_error(c->Post(path, httplib::MultipartFormDataItems{{"file", "RIFF....WAVEfmt garbage", "broken.wav", "audio/wav"}}),
               400, "invalid_audio", "broken.wav");
  expect_error(c->Post(path, httplib::MultipartFormDataItems{{"file", "", "empty.wav", "audio/wav"}}), 400,
               "invalid_audio", "empty.wav");
  expect_error(c->Post(path, form(env.speech, {{"response_format", "xml"}})), 400, "invalid_value", "xml");
  expect_error(c->Post(path, form(env.speech, {{"temperature", "hot"}})), 400, "invalid_value", "temperature");
  expect_error(c->Post(path, form(env.speech, {{"stream", "maybe"}})), 400, "invalid_value", "stream");
  expect_error(c->Post(path, form(env.speech, {{"timestamp_granularities[]", "char"}})), 400, "invalid_value", "char");
  expect_error(c->Post(path, form(too_long)), 413, "audio_too_long", "over the server's limit of 20 s");
  // 1.5 MiB of "audio": refused by size, before any decoding.
  httplib::MultipartFormDataItems big = {{"file", std::string(3 << 19, 'x'), "big.wav", "audio/wav"}};
  expect_error(c->Post(path, big), 413, "file_too_large", "limit");
  expect_error(c->Get("/v1/nothing"), 404, "not_found", "/v1/nothing");
  // A chunked upload has no length to check against the limit: 411.
  const std::string chunked = send_raw(server.port(), "POST " + path +
                                                          " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                                          "Content-Type: multipart/form-data; boundary=b\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 411", 0), 0u) << chunked;
  EXPECT_NE(chunked.find("length_required"), std::string::npos) << chunked;
  // Garbage instead of HTTP.
  EXPECT_EQ(send_raw(server.port(), "\x16\x03\x01 not http\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);

  // Still serving, with the right answer.
  auto ok = c->Post(path, form(env.speech));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["text"], env.speech_text);
  EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();
}

TEST(ServeLimits, FullLineGets503WithRetryAfter) {
  const auto& env = ServeEnv::get();
  ServerProcess server({env.model, "--max-concurrency", "1", "--max-queue", "1"}, env.dir + "/queue.log");
  const int n = 8;
  std::vector<std::future<std::pair<int, std::string>>> answers;
  std::vector<std::string> retry_after(n);
  for (int i = 0; i < n; ++i)
    answers.push_back(std::async(std::launch::async, [&, i] {
      auto c = client(server.port());
      auto r = c->Post("/v1/audio/transcriptions", form(env.long_speech, {{"response_format", "text"}}));
      if (!r) return std::make_pair(-1, std::string());
      retry_after[i] = r->get_header_value("Retry-After");
      return std::make_pair(r->status, r->body);
    }));
  int ok = 0, busy = 0;
  for (int i = 0; i < n; ++i) {
    auto [status, body] = answers[i].get();
    if (status == 200) {
      ++ok;
      EXPECT_EQ(body, env.long_text + "\n");
    } else {
      ASSERT_EQ(status, 503) << body;
      ++busy;
      EXPECT_EQ(json::parse(body)["error"]["code"], "queue_full");
      EXPECT_GE(std::stoi(retry_after[i]), 1);
    }
  }
  // One running + one waiting fit; eight at once cannot all have.
  EXPECT_GE(ok, 2);
  EXPECT_GE(busy, 1);
  auto after = client(server.port())->Post("/v1/audio/transcriptions", form(env.speech));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(server.stop(SIGINT), 0) << server.log();
}

TEST(ServeLimits, StalledClientIsDropped) {
  const auto& env = ServeEnv::get();
  ServerProcess server({env.model, "--timeout", "1"}, env.dir + "/timeout.log");
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  // Headers promising a body that never comes.
  const std::string head = "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                           "Content-Type: multipart/form-data; boundary=b\r\n\r\n--b";
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  const auto start = std::chrono::steady_clock::now();
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  ssize_t n;
  std::string reply;
  while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  EXPECT_EQ(n, 0) << "the server should close the connection";
  EXPECT_LT(waited, 5.0);
  EXPECT_GE(waited, 0.9);
  auto h = client(server.port())->Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();
}

// A signal while requests run and wait: all of them are answered in full, then exit 0.
TEST(ServeLimits, SignalsFinishRequestsInFlight) {
  const auto& env = ServeEnv::get();
  for (int sig : {SIGTERM, SIGINT}) {
    ServerProcess server({env.model, "--max-concurrency", "1", "--max-queue", "4"},
                         env.dir + "/signal" + std::to_string(sig) + ".log");
    const int port = server.port();
    std::vector<std::future<std::string>> answers;
    for (int i = 0; i < 3; ++i)
      answers.push_back(std::async(std::launch::async, [&, i] {
        auto r = client(port)->Post("/v1/audio/transcriptions",
                                    form(env.long_speech, {{"response_format", "text"}, {"stream", i == 2 ? "true" : "false"}}));
        return r ? std::to_string(r->status) + " " + r->body : std::string("no answer");
      }));
    // Wait until one runs and the other two wait, then signal.
    auto c = client(port);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool busy = false;
    while (!busy && std::chrono::steady_clock::now() < deadline) {
      auto h = c->Get("/health");
      if (h && h->status == 200) {
        auto j = json::parse(h->body);
        busy = j["running"] == 1 && j["queued"] == 2;
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(busy) << "requests did not overlap";
    EXPECT_EQ(server.stop(sig), 0) << server.log();
    for (int i = 0; i < 3; ++i) {
      const std::string a = answers[i].get();
      if (i == 2) {
        EXPECT_EQ(a.rfind("200 data: ", 0), 0u) << a;
        EXPECT_NE(a.find("transcript.text.done"), std::string::npos) << a;
      } else {
        EXPECT_EQ(a, "200 " + env.long_text + "\n") << "request " << i;
      }
    }
    EXPECT_LT(connect_to(port), 0) << "still accepting after exit";
    EXPECT_NE(server.log().find("finishing requests in flight"), std::string::npos) << server.log();
  }
}

}  // namespace
}  // namespace w2v::test
