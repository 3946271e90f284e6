#include "model/config.h"

#include <cctype>

#include "util/error.h"

namespace w2v::model {
namespace {

// Recursive-descent parser over fairseq's conv_feature_layers grammar:
//   expr := term ('+' term)* ; term := list ('*' int)? ; list := '[' tuple (',' tuple)* ']'
//   tuple := '(' int ',' int ',' int ')'
class ConvLayersParser {
 public:
  explicit ConvLayersParser(const std::string& s) : s_(s) {}

  std::vector<ConvLayerSpec> parse() {
    std::vector<ConvLayerSpec> out = term();
    while (accept('+')) {
      auto more = term();
      out.insert(out.end(), more.begin(), more.end());
    }
    skip_space();
    if (pos_ != s_.size()) fail("unexpected character");
    if (out.empty()) fail("no layers");
    return out;
  }

 private:
  std::vector<ConvLayerSpec> term() {
    std::vector<ConvLayerSpec> list;
    expect('[');
    do list.push_back(tuple());
    while (accept(','));
    expect(']');
    if (accept('*')) {
      int64_t n = integer();
      std::vector<ConvLayerSpec> rep;
      for (int64_t i = 0; i < n; ++i) rep.insert(rep.end(), list.begin(), list.end());
      return rep;
    }
    return list;
  }

  ConvLayerSpec tuple() {
    expect('(');
    ConvLayerSpec spec{};
    spec.dim = integer();
    expect(',');
    spec.kernel = integer();
    expect(',');
    spec.stride = integer();
    expect(')');
    if (spec.dim <= 0 || spec.kernel <= 0 || spec.stride <= 0) fail("dim, kernel and stride must be positive");
    return spec;
  }

  int64_t integer() {
    skip_space();
    size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (start == pos_ || pos_ - start > 9) fail("expected an integer");
    return std::stoll(s_.substr(start, pos_ - start));
  }

  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw key_error("conv_feature_layers", "cannot parse \"" + s_ + "\" at position " + std::to_string(pos_) +
                                               ": " + what + " (expected e.g. \"[(512, 10, 5)] + [(512, 3, 2)] * 4\")");
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<ConvLayerSpec> parse_conv_feature_layers(const std::string& expr) {
  return ConvLayersParser(expr).parse();
}

int64_t conv_output_length(const std::vector<ConvLayerSpec>& layers, int64_t samples) {
  int64_t n = samples;
  for (const auto& l : layers) {
    if (n < l.kernel) return 0;
    n = (n - l.kernel) / l.stride + 1;
  }
  return n;
}

std::vector<ConvLayerSpec> Wav2Vec2Config::conv_layers() const { return parse_conv_feature_layers(conv_feature_layers); }

int64_t Wav2Vec2Config::conv_dim() const { return conv_layers().back().dim; }

Wav2Vec2Config Wav2Vec2Config::preset(const std::string& name) {
  Wav2Vec2Config c;
  if (name == "base") {  // wav2vec2_base_librispeech.yaml
    c.quantize_targets = true;
    c.final_dim = 256;
    c.encoder_layerdrop = 0.05;
    c.dropout_input = 0.1;
    c.dropout_features = 0.1;
    c.feature_grad_mult = 0.1;
  } else if (name == "large") {  // release-era LARGE-LS command (libri960_big)
    c.quantize_targets = true;
    c.final_dim = 768;
    c.encoder_layers = 24;
    c.encoder_embed_dim = 1024;
    c.encoder_ffn_embed_dim = 4096;
    c.encoder_attention_heads = 16;
    c.dropout = 0.0;
    c.attention_dropout = 0.1;
    c.encoder_layerdrop = 0.0;
    c.dropout_input = 0.1;
    c.dropout_features = 0.1;
    c.feature_grad_mult = 0.03;
  } else if (name == "large_lv") {  // wav2vec2_large_librivox.yaml (vox_new)
    c.quantize_targets = true;
    c.extractor_mode = "layer_norm";
    c.layer_norm_first = true;
    c.conv_bias = true;
    c.final_dim = 768;
    c.latent_temp = {2.0, 0.1, 0.999995};
    c.encoder_layers = 24;
    c.encoder_embed_dim = 1024;
    c.encoder_ffn_embed_dim = 4096;
    c.encoder_attention_heads = 16;
    c.dropout = 0.0;
    c.attention_dropout = 0.0;
    c.encoder_layerdrop = 0.0;
    c.dropout_input = 0.0;
    c.dropout_features = 0.0;
    c.feature_grad_mult = 1.0;
    c.normalize = true;
  } else {
    throw Error("unknown model preset '" + name + "' (expected base, large or large_lv)");
  }
  return c;
}

void Wav2Vec2Config::validate() const {
  auto bad = [](const std::string& key, const std::string& what) { throw key_error(key, what); };
  if (extractor_mode != "default" && extractor_mode != "layer_norm")
    bad("extractor_mode", "expected 'default' or 'layer_norm', got '" + extractor_mode + "'");
  conv_layers();  // throws w2v::Error on a malformed expression
  if (activation_fn != "gelu") bad("activation_fn", "only 'gelu' is supported, got '" + activation_fn + "'");
  if (encoder_layers < 1) bad("encoder_layers", "must be >= 1");
  if (encoder_embed_dim < 1 || encoder_attention_heads < 1 || encoder_embed_dim % encoder_attention_heads != 0)
    bad("encoder_attention_heads", std::to_string(encoder_attention_heads) + " heads do not divide encoder_embed_dim " +
                                       std::to_string(encoder_embed_dim));
  if (encoder_ffn_embed_dim < 1) bad("encoder_ffn_embed_dim", "must be >= 1");
  if (conv_pos < 1) bad("conv_pos", "must be >= 1");
  if (conv_pos_groups < 1 || encoder_embed_dim % conv_pos_groups != 0)
    bad("conv_pos_groups", std::to_string(conv_pos_groups) + " groups do not divide encoder_embed_dim " +
                               std::to_string(encoder_embed_dim));
  for (auto [key, p] : {std::pair{"dropout", dropout}, {"attention_dropout", attention_dropout},
                        {"activation_dropout", activation_dropout}, {"encoder_layerdrop", encoder_layerdrop},
                        {"dropout_input", dropout_input}, {"dropout_features", dropout_features}})
    if (!(p >= 0.0 && p <= 1.0)) bad(key, "must be in [0, 1], got " + std::to_string(p));
  if (feature_grad_mult < 0) bad("feature_grad_mult", "must be >= 0");
  if (crop_seq_to_multiple < 1) bad("crop_seq_to_multiple", "must be >= 1");
  if (quantize_targets) {
    if (latent_groups < 1 || latent_vars < 1) bad("latent_groups", "latent_groups and latent_vars must be >= 1");
    if (vq_dim() % latent_groups != 0)
      bad("latent_dim", "codebook dim " + std::to_string(vq_dim()) + " not divisible by latent_groups " +
                            std::to_string(latent_groups));
    if (!(latent_temp[0] > 0 && latent_temp[1] > 0 && latent_temp[2] > 0))
      bad("latent_temp", "(max, min, decay) must be positive");
  }
  if (logit_temp <= 0) bad("logit_temp", "must be > 0");
}

}  // namespace w2v::model
