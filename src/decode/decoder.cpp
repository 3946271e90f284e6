#include "decode/decoder.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "decode/lexicon_decoder.h"
#include "decode/lexicon_free_decoder.h"
#include "decode/viterbi.h"
#include "lm/ngram_model.h"
#include "util/error.h"

namespace w2v::decode {

namespace {

class ViterbiAdapter : public Decoder {
 public:
  explicit ViterbiAdapter(const TokenSet& tokens) : d_(tokens) {}
  std::vector<DecodeResult> decode(const Emissions& e) override { return {d_.decode(e)}; }

 private:
  ViterbiDecoder d_;
};

template <class D>
class BeamAdapter : public Decoder {
 public:
  template <class... A>
  explicit BeamAdapter(A&&... args) : d_(std::forward<A>(args)...) {}
  std::vector<DecodeResult> decode(const Emissions& e) override { return d_.decode(e); }

 private:
  D d_;
};

}  // namespace

DecoderKind parse_decoder_kind(const std::string& name) {
  if (name == "viterbi") return DecoderKind::kViterbi;
  if (name == "lexicon" || name == "kenlm") return DecoderKind::kLexicon;
  if (name == "lexicon-free") return DecoderKind::kLexiconFree;
  throw Error("decoder '" + name + "': expected viterbi, lexicon or lexicon-free");
}

DecoderFactory::DecoderFactory(DecoderKind kind, std::vector<std::string> symbols, const std::string& lexicon_path,
                               const std::string& lm_path, BeamOptions options, PostProcess post_process)
    : kind_(kind), tokens_(std::move(symbols), post_process), options_(options) {
  if (kind_ == DecoderKind::kViterbi) return;
  if (lm_path.empty()) throw Error("DecoderFactory: lm_path is required by the lexicon and lexicon-free decoders");
  if (kind_ == DecoderKind::kLexicon) {
    if (lexicon_path.empty()) throw Error("DecoderFactory: lexicon_path is required by the lexicon decoder");
    lexicon_ = std::make_shared<const Lexicon>(Lexicon::load(lexicon_path, tokens_));
  }
  lm_ = lm::load_language_model(lm_path);
  if (lexicon_) trie_ = build_lexicon_trie(*lexicon_, *lm_, tokens_, options_);
}

DecoderFactory::~DecoderFactory() = default;

DecoderFactory DecoderFactory::with_options(const BeamOptions& options) const {
  DecoderFactory out(*this);
  out.options_ = options;
  // The trie depends on the options only through the hotwords' look-ahead bonus / lm_weight.
  if (lexicon_ && (!options.hotwords.empty() || !options_.hotwords.empty()))
    out.trie_ = build_lexicon_trie(*lexicon_, *lm_, tokens_, options);
  return out;
}

std::unique_ptr<Decoder> DecoderFactory::make() const {
  switch (kind_) {
    case DecoderKind::kViterbi: return std::make_unique<ViterbiAdapter>(tokens_);
    case DecoderKind::kLexicon: return std::make_unique<BeamAdapter<LexiconDecoder>>(tokens_, *lexicon_, *lm_, trie_, options_);
    case DecoderKind::kLexiconFree: return std::make_unique<BeamAdapter<LexiconFreeDecoder>>(tokens_, *lm_, options_);
  }
  throw Error("unknown decoder kind");
}

std::vector<std::vector<DecodeResult>> decode_all(const DecoderFactory& factory, const std::vector<Emissions>& utterances,
                                                  int threads, const std::function<void(size_t)>& on_done) {
  std::vector<std::vector<DecodeResult>> results(utterances.size());
  std::atomic<size_t> next{0};
  std::mutex report;
  size_t finished = 0;
  std::vector<std::exception_ptr> errors(std::max(1, threads));
  auto work = [&](int worker) {
    try {
      auto decoder = factory.make();
      for (size_t i = next++; i < utterances.size(); i = next++) {
        results[i] = decoder->decode(utterances[i]);
        if (on_done) {
          std::lock_guard<std::mutex> lock(report);
          on_done(++finished);
        }
      }
    } catch (...) {
      errors[worker] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace w2v::decode
