// `w2v serve` over HTTP, as OpenAI clients and browsers talk to it: every response_format, the
// Server-Sent Events of stream=true, /health, /v1/models, the page, and concurrent clients
// sharing the model (same audio, same text, at any concurrency).
#include <gtest/gtest.h>

#include <thread>

#include "serve/serve_test_env.h"

namespace w2v::test {
namespace {

using json = nlohmann::json;

class ServeHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto& env = ServeEnv::get();
    server_ = new ServerProcess({env.model, "--max-concurrency", "2", "--max-queue", "16"}, env.dir + "/http.log");
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(SIGTERM), 0) << server_->log();
    delete server_;
  }
  static ServerProcess* server_;
  const ServeEnv& env = ServeEnv::get();
};
ServerProcess* ServeHttp::server_ = nullptr;

TEST_F(ServeHttp, TheFixtureSaysSomething) {
  // Otherwise equal texts below would prove little.
  EXPECT_FALSE(env.speech_text.empty());
  EXPECT_GE(std::count(env.long_text.begin(), env.long_text.end(), ' '), 1) << env.long_text;  // two words at least
  EXPECT_GT(env.long_text.size(), env.speech_text.size());
}

TEST_F(ServeHttp, HealthModelsAndPage) {
  auto c = client(server_->port());
  auto h = c->Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto hj = json::parse(h->body);
  EXPECT_EQ(hj["status"], "ok");
  EXPECT_EQ(hj["max_concurrency"], 2);
  auto m = c->Get("/v1/models");
  ASSERT_TRUE(m);
  auto mj = json::parse(m->body);
  EXPECT_EQ(mj["object"], "list");
  EXPECT_EQ(mj["data"][0]["id"], "model");  // the model file's name
  auto p = c->Get("/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(p->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(p->body.find("id=\"file\""), std::string::npos);
  EXPECT_NE(p->body.find("/v1/audio/transcriptions"), std::string::npos);
}

TEST_F(ServeHttp, EveryResponseFormat) {
  auto c = client(server_->port());
  auto post = [&](const std::string& format, std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.push_back({"response_format", format});
    auto r = c->Post("/v1/audio/transcriptions", form(env.speech, extra));
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    return *r;
  };
  auto j = post("json");
  EXPECT_EQ(j.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(j.body)["text"], env.speech_text);
  EXPECT_EQ(post("text").body, env.speech_text + "\n");
  // Defaults to json when no response_format is given.
  auto d = c->Post("/v1/audio/transcriptions", form(env.speech));
  ASSERT_TRUE(d);
  EXPECT_EQ(json::parse(d->body)["text"], env.speech_text);

  auto v = json::parse(post("verbose_json", {{"timestamp_granularities[]", "word"},
                                             {"timestamp_granularities[]", "segment"},
                                             {"language", "en"},
                                             {"temperature", "0"},
                                             {"prompt", "ignored"}})
                           .body);
  EXPECT_EQ(v["text"], env.speech_text);
  EXPECT_EQ(v["language"], "en");
  EXPECT_NEAR(v["duration"].get<double>(), 2.3, 0.01);
  ASSERT_TRUE(v.contains("words") && v.contains("segments"));
  std::string joined;
  double last_end = 0;
  for (const auto& w : v["words"]) {
    joined += (joined.empty() ? "" : " ") + w["word"].get<std::string>();
    EXPECT_LE(w["start"].get<double>(), w["end"].get<double>());
    EXPECT_GE(w["start"].get<double>(), last_end - 1e-9);
    last_end = w["end"].get<double>();
  }
  EXPECT_EQ(joined, env.speech_text);
  std::string from_segments;
  for (const auto& s : v["segments"]) from_segments += (from_segments.empty() ? "" : " ") + s["text"].get<std::string>();
  EXPECT_EQ(from_segments, env.speech_text);
  // Without timestamp_granularities[]: segments only (OpenAI's default).
  auto plain = json::parse(post("verbose_json").body);
  EXPECT_TRUE(plain.contains("segments"));
  EXPECT_FALSE(plain.contains("words"));

  auto srt = post("srt").body;
  EXPECT_EQ(srt.rfind("1\n00:00:", 0), 0u) << srt;
  auto vtt = post("vtt");
  EXPECT_EQ(vtt.body.rfind("WEBVTT\n\n1\n00:00:", 0), 0u) << vtt.body;
  EXPECT_EQ(vtt.get_header_value("Content-Type"), "text/vtt; charset=utf-8");
}

// stream=true: text/event-stream of "data: {json}" events; deltas add up to the final text,
// partials grow as windows are decoded, the last event is transcript.text.done.
TEST_F(ServeHttp, StreamSendsServerSentEvents) {
  auto c = client(server_->port());
  auto r = c->Post("/v1/audio/transcriptions",
                   form(env.long_speech, {{"stream", "true"}, {"response_format", "verbose_json"},
                                          {"timestamp_granularities[]", "word"}}));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  const std::string& body = r->body;
  ASSERT_GE(body.size(), 2u);
  EXPECT_EQ(body.substr(body.size() - 2), "\n\n");
  std::vector<json> events;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos) << "unterminated event at " << pos;
    const std::string block = body.substr(pos, end - pos);
    ASSERT_EQ(block.rfind("data: ", 0), 0u) << block;
    ASSERT_EQ(block.find('\n'), std::string::npos) << "one data line per event: " << block;
    events.push_back(json::parse(block.substr(6)));
    pos = end + 2;
  }
  ASSERT_GE(events.size(), 3u) << body;  // 23 s of audio: several windows, several partials
  std::string deltas;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    ASSERT_EQ(events[i]["type"], "transcript.text.delta") << events[i];
    deltas += events[i]["delta"].get<std::string>();
    // The partial transcript starts with everything final so far.
    EXPECT_EQ(events[i]["partial"].get<std::string>().rfind(deltas, 0), 0u) << events[i];
  }
  const auto& done = events.back();
  ASSERT_EQ(done["type"], "transcript.text.done");
  EXPECT_EQ(done["text"], deltas);
  EXPECT_EQ(done["text"], env.long_stream_text);  // the same words as the library's own Stream
  EXPECT_FALSE(done["words"].empty());
  EXPECT_NEAR(done["duration"].get<double>(), 23.0, 0.05);
}

TEST_F(ServeHttp, ConcurrentClientsGetTheSameText) {
  const int clients = 6, each = 3;
  std::vector<std::string> texts(clients * each);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      auto c = client(server_->port());
      for (int k = 0; k < each; ++k) {
        const bool is_long = (i + k) % 2 == 0;
        auto r = c->Post("/v1/audio/transcriptions", form(is_long ? env.long_speech : env.speech, {{"response_format", "text"}}));
        texts[i * each + k] = r && r->status == 200 ? (is_long ? "L:" : "S:") + r->body : "failed";
      }
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < clients; ++i)
    for (int k = 0; k < each; ++k) {
      const bool is_long = (i + k) % 2 == 0;
      EXPECT_EQ(texts[i * each + k], (is_long ? "L:" + env.long_text : "S:" + env.speech_text) + "\n")
          << "client " << i << " request " << k;
    }
}

// POST /v1/audio/alignments gives what `w2v align` gives for the same audio and text, in every
// format; a text the model cannot spell or a missing text is a 400 naming the problem.
TEST_F(ServeHttp, AlignmentsEqualTheAlignCommand) {
  const std::string text = "Hello world, this is a test";
  std::string cli_json;
  {
    const std::string cmd = std::string(W2V_BINARY) + " align '" + env.model + "' '" + env.speech + "' '" + text +
                            "' --format json 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) cli_json.append(buf, n);
    ASSERT_EQ(::pclose(p), 0) << cli_json;
  }
  auto c = client(server_->port());
  auto r = c->Post("/v1/audio/alignments", form(env.speech, {{"text", text}}));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json served = json::parse(r->body)["files"][0], local = json::parse(cli_json)["files"][0];
  EXPECT_EQ(served["audio"], "speech.wav");
  ASSERT_EQ(served["words"].size(), 6u) << served;
  ASSERT_EQ(served["words"].size(), local["words"].size());
  for (size_t i = 0; i < local["words"].size(); ++i) {
    const auto &a = served["words"][i], &b = local["words"][i];
    EXPECT_EQ(a["word"], b["word"]);
    EXPECT_EQ(a["start"], b["start"]);
    EXPECT_EQ(a["end"], b["end"]);
    EXPECT_NEAR(a["score"].get<double>(), b["score"].get<double>(), 1e-6);
  }
  EXPECT_EQ(served["words"][1]["word"], "world,");  // as written; spoken as WORLD

  auto format = [&](const std::string& f, const std::string& cue = "word") {
    auto res = c->Post("/v1/audio/alignments", form(env.speech, {{"text", text}, {"response_format", f}, {"cue", cue}}));
    EXPECT_TRUE(res && res->status == 200) << f << ": " << (res ? res->body : "no answer");
    return res ? res->body : std::string();
  };
  EXPECT_EQ(format("srt").rfind("1\n00:00:", 0), 0u);
  EXPECT_EQ(format("vtt", "line").rfind("WEBVTT", 0), 0u);
  const std::string ctm = format("ctm");
  EXPECT_EQ(std::count(ctm.begin(), ctm.end(), '\n'), 6) << ctm;  // one line per spoken word
  EXPECT_NE(format("textgrid").find("\"letters\""), std::string::npos);

  auto bad = c->Post("/v1/audio/alignments", form(env.speech, {{"text", "costs $5"}}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_EQ(json::parse(bad->body)["error"]["param"], "text");
  EXPECT_NE(json::parse(bad->body)["error"]["message"].get<std::string>().find("'$'"), std::string::npos) << bad->body;
  auto skipped = c->Post("/v1/audio/alignments", form(env.speech, {{"text", "costs $5"}, {"unknown", "skip"}}));
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->status, 200) << skipped->body;
  EXPECT_FALSE(json::parse(skipped->body)["files"][0]["skipped"].empty()) << skipped->body;
  auto missing = c->Post("/v1/audio/alignments", form(env.speech));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(json::parse(missing->body)["error"]["code"], "missing_text");
  auto wrong = c->Post("/v1/audio/alignments", form(env.speech, {{"text", "a"}, {"response_format", "xml"}}));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(json::parse(wrong->body)["error"]["param"], "response_format");
}

}  // namespace
}  // namespace w2v::test
