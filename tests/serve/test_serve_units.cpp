// The server's pieces without a network: OpenAI's response shapes for hand-made transcripts and
// the bounded admission line.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "serve/admission.h"
#include "serve/response_format.h"
#include "util/error.h"

namespace w2v::serve {
namespace {

Transcript sample() {
  Transcript t;
  t.duration = 4.2;
  t.words = {{"HELLO", 0.10, 0.50, 0.9}, {"WORLD", 0.60, 1.00, 0.8}, {"AGAIN", 2.00, 2.40, 0.5}};
  t.text = "HELLO WORLD AGAIN";
  for (const char* tok : {"H", "E", "L", "O", "|", "W", "A"}) t.tokens.push_back({tok, 0});
  t.tokens[0].time = 0.10;  // H
  t.tokens[1].time = 0.20;  // E
  t.tokens[2].time = 0.30;  // L
  t.tokens[3].time = 0.40;  // O
  t.tokens[4].time = 0.52;  // |
  t.tokens[5].time = 0.60;  // W
  t.tokens[6].time = 2.00;  // A
  return t;
}
const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "E", "H", "L", "O", "W", "A"};

TEST(ResponseFormat, ParsesOpenAINamesOnly) {
  EXPECT_EQ(parse_response_format("verbose_json"), ResponseFormat::kVerboseJson);
  EXPECT_EQ(parse_response_format("vtt"), ResponseFormat::kVtt);
  try {
    parse_response_format("xml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected json, text, srt, vtt or verbose_json, got 'xml'"), std::string::npos);
  }
}

TEST(ResponseFormat, SegmentsSplitAtPauses) {
  const auto segs = segments(sample(), kSymbols, 0.5);
  ASSERT_EQ(segs.size(), 2u);  // the 1 s pause before AGAIN splits; the 0.1 s one does not
  EXPECT_EQ(segs[0].text, "HELLO WORLD");
  EXPECT_DOUBLE_EQ(segs[0].start, 0.10);
  EXPECT_DOUBLE_EQ(segs[0].end, 1.00);
  EXPECT_NEAR(segs[0].avg_logprob, (std::log(0.9) + std::log(0.8)) / 2, 1e-12);
  // H E L O | W in the first segment (token ids = symbol rows), A in the second.
  EXPECT_EQ(segs[0].tokens, (std::vector<int>{6, 5, 7, 8, 4, 9}));
  EXPECT_EQ(segs[1].tokens, (std::vector<int>{10}));
  EXPECT_EQ(segments(sample(), kSymbols, 2.0).size(), 1u);
}

TEST(ResponseFormat, VerboseJsonHasOpenAIFields) {
  auto j = verbose_json(sample(), kSymbols, "en", {true, true}, 0.5);
  EXPECT_EQ(j["task"], "transcribe");
  EXPECT_EQ(j["language"], "en");
  EXPECT_DOUBLE_EQ(j["duration"].get<double>(), 4.2);
  EXPECT_EQ(j["text"], "HELLO WORLD AGAIN");
  ASSERT_EQ(j["segments"].size(), 2u);
  for (const char* key : {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                          "compression_ratio", "no_speech_prob"})
    EXPECT_TRUE(j["segments"][0].contains(key)) << key;
  EXPECT_EQ(j["segments"][1]["id"], 1);
  EXPECT_EQ(j["segments"][1]["seek"], 200);
  ASSERT_EQ(j["words"].size(), 3u);
  EXPECT_EQ(j["words"][2]["word"], "AGAIN");
  EXPECT_DOUBLE_EQ(j["words"][2]["start"].get<double>(), 2.0);
  EXPECT_EQ(j["usage"]["seconds"], 5);
  // Granularities choose what is there: words only when asked, segments by default.
  auto plain = verbose_json(sample(), kSymbols, "en", Granularities{}, 0.5);
  EXPECT_TRUE(plain.contains("segments"));
  EXPECT_FALSE(plain.contains("words"));
  auto words_only = verbose_json(sample(), kSymbols, "en", {true, false}, 0.5);
  EXPECT_FALSE(words_only.contains("segments"));
  EXPECT_TRUE(words_only.contains("words"));
}

TEST(ResponseFormat, RendersTextSrtVttJson) {
  const auto t = sample();
  EXPECT_EQ(render(t, ResponseFormat::kText).body, "HELLO WORLD AGAIN\n");
  EXPECT_EQ(nlohmann::json::parse(render(t, ResponseFormat::kJson).body)["text"], "HELLO WORLD AGAIN");
  const auto srt = render(t, ResponseFormat::kSrt).body;
  EXPECT_EQ(srt.rfind("1\n00:00:00,100 --> ", 0), 0u) << srt;
  const auto vtt = render(t, ResponseFormat::kVtt);
  EXPECT_EQ(vtt.content_type, "text/vtt; charset=utf-8");
  EXPECT_EQ(vtt.body.rfind("WEBVTT\n\n1\n00:00:00.100 --> ", 0), 0u) << vtt.body;
  EXPECT_EQ(vtt.body.find(','), std::string::npos) << vtt.body;
  EXPECT_NE(vtt.body.find("HELLO WORLD"), std::string::npos);
}

TEST(ResponseFormat, SseAndErrorShapes) {
  EXPECT_EQ(sse_event({{"type", "x"}, {"delta", "a b"}}), "data: {\"type\":\"x\",\"delta\":\"a b\"}\n\n");
  auto e = nlohmann::json::parse(error_json("bad file", "invalid_request_error", "file", "invalid_audio"));
  EXPECT_EQ(e["error"]["message"], "bad file");
  EXPECT_EQ(e["error"]["param"], "file");
  EXPECT_TRUE(nlohmann::json::parse(error_json("m", "t", "", ""))["error"]["param"].is_null());
}

TEST(Admission, RunsKQueuesQRefusesTheRest) {
  Admission a(2, 1);
  auto t1 = a.enter();
  auto t2 = a.enter();
  ASSERT_TRUE(t1 && t2);
  EXPECT_EQ(a.running(), 2);
  std::atomic<bool> third_in{false};
  std::thread waiter([&] {
    auto t3 = a.enter();  // waits for a slot
    third_in = t3 != nullptr;
  });
  while (a.waiting() != 1) std::this_thread::yield();
  EXPECT_EQ(a.enter(), nullptr);  // the line (1) is full: refused at once
  EXPECT_GE(a.retry_after_seconds(), 1);
  EXPECT_FALSE(third_in);
  t1.reset();
  waiter.join();
  EXPECT_TRUE(third_in);
  EXPECT_EQ(a.waiting(), 0);
  EXPECT_EQ(a.running(), 1);  // t2 (t3 was released when the waiter's scope ended)
  EXPECT_THROW(Admission(0, 1), Error);
}

TEST(Admission, WaitersGetInInArrivalOrder) {
  Admission a(1, 8);
  auto first = a.enter();
  std::vector<int> order;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto t = a.enter();
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    while (a.waiting() != i + 1) std::this_thread::yield();  // i arrives before i + 1
  }
  first.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace w2v::serve
