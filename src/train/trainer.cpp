#include "train/trainer.h"

#include <chrono>
#include <ctime>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "checkpoint/fairseq_config.h"
#include "config/schema.h"
#include "checkpoint/model_io.h"
#include "data/loader.h"
#include "train/adam.h"
#include "train/config_value.h"
#include "train/contrastive_criterion.h"
#include "train/ctc_criterion.h"
#include "train/distributed.h"
#include "train/save_dir.h"
#include "train/state_sync.h"
#include "train/lr_scheduler.h"
#include "train/masking.h"
#include "train/negatives.h"
#include "train/tensorboard.h"
#include "util/error.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace w2v::train {

using ckpt::Value;
using nlohmann::json;

namespace {

constexpr int kMaxConsecutiveBadUpdates = 10;
constexpr uint64_t kValidStream = 0x76616c6964ULL;  // "valid": masks of validation batches

int64_t optional_int(const config::Config& cfg, const std::string& key) {
  return cfg.is_set(key) ? cfg.integer(key) : 0;
}

// Copies every tensor of `from` into the same-named one of `to`; names missing in `from` are
// an error unless `allow_missing`, shape mismatches always.
void copy_state(torch::nn::Module& from, torch::nn::Module& to, const std::string& where,
                bool allow_missing) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  auto src_buf = from.named_buffers();
  auto copy = [&](const std::string& name, torch::Tensor& dst) {
    const torch::Tensor* s = src.find(name);
    if (!s) s = src_buf.find(name);
    if (!s) {
      if (allow_missing) return;
      throw Error(where + ": has no tensor '" + name + "'");
    }
    if (s->sizes() != dst.sizes()) {
      std::ostringstream msg;
      msg << where << ": tensor '" << name << "' has shape " << s->sizes() << ", expected "
          << dst.sizes();
      throw Error(msg.str());
    }
    dst.copy_(*s);
  };
  for (auto& p : to.named_parameters()) copy(p.key(), p.value());
  for (auto& b : to.named_buffers()) copy(b.key(), b.value());
}

double log2_scale(double v, double n) { return n > 0 ? v / n / std::log(2.0) : 0.0; }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Sums over a run of updates (since the last train_inner line, or since the epoch began).
struct Window {
  LoggingOutput logs;
  int64_t updates = 0;
  double gnorm = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void reset() { *this = Window(); }
};

struct StepOutput {
  CriterionResult result;
  torch::Tensor logits, frame_padding_mask;  // CTC only, for validation metrics
};

}  // namespace

struct Trainer::Impl {
  config::Config cfg;
  std::ostream& log;
  TrainerOptions options;
  bool pretraining = false;
  uint64_t seed = 1;
  std::string data_dir, save_dir;

  std::shared_ptr<data::Dictionary> dictionary;
  ckpt::LoadedModel lm;
  std::shared_ptr<data::AudioDataset> train_set;
  std::unique_ptr<data::Loader> train_loader;
  std::vector<std::pair<std::string, std::shared_ptr<data::AudioDataset>>> valid_sets;
  data::LoaderOptions valid_options;

  std::unique_ptr<ContrastiveCriterion> contrastive;
  std::unique_ptr<CtcCriterion> ctc;
  WordDecoder lm_decoder;  // empty: wer is the greedy WER
  std::unique_ptr<Adam> adam;
  std::unique_ptr<Distributed> dist;  // null: one process
  std::unique_ptr<SaveDirLock> save_dir_lock;  // rank 0 owns save_dir unless checkpoint.no_save
  std::unique_ptr<LrScheduler> scheduler;
  MaskOptions time_mask, channel_mask;
  double mask_channel_prob = 0;
  int64_t num_negatives = 100;

  int64_t num_updates = 0, epoch = 1, iterations_in_epoch = 0;
  int64_t skipped = 0, consecutive_bad = 0;
  bool has_best = false;
  double best = 0;

  Window interval, epoch_window;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double last_loss = 0, last_accuracy = 0;  // of the latest update, for the progress bar
  std::unique_ptr<Progress> progress;
  std::map<std::string, std::unique_ptr<SummaryWriter>> boards;  // by record tag / subset

  Impl(const config::Config& c, std::ostream& l, TrainerOptions o) : cfg(c), log(l), options(std::move(o)) {}

  // Writes one JSON log line (erasing the progress bar first so that the line stays whole).
  void emit(const json& j) {
    if (progress) progress->clear();
    log << j.dump() << "\n";
    log.flush();
  }
  // Adds the numeric fields of `stats` to TensorBoard under `tag` at the current update.
  void board(const std::string& tag, const json& stats);

  void build();
  void build_model();
  void build_data();
  void build_lm_decoder();
  void resume();
  StepOutput forward(const data::Batch& batch, Rng& rng, bool training);
  bool train_step(const std::vector<data::Batch>& group);
  std::vector<torch::Tensor> parameters() const { return lm.module().parameters(); }
  json window_stats(const Window& w) const;
  void log_train_inner();
  void log_train_epoch();
  void validate_and_maybe_save(bool end_of_epoch, bool force_validate);
  std::map<std::string, double> validate(const std::string& name, const data::AudioDataset& set);
  void save(bool end_of_epoch, bool is_best);
  Value optimizer_state() const;
  void load_optimizer_state(const Value& state, const std::string& where);
  bool master() const { return !dist || dist->rank() == 0; }
  int64_t validations_without_improvement = 0;
  // The loop learns that an epoch ended only after its last update was handled, so the
  // end-of-epoch call can land on an update that was just validated: it reuses that result.
  int64_t last_validated_update = -1;
  bool last_validation_was_best = false;
  bool should_stop() const {
    const int64_t max_update = cfg.integer("optimization.max_update");
    const double hours = cfg.real("optimization.stop_time_hours");
    const int64_t patience = cfg.integer("checkpoint.patience");
    return (max_update > 0 && num_updates >= max_update) ||
           (hours > 0 && seconds() >= hours * 3600.0) ||
           (num_updates > 0 && adam->lr() <= cfg.real("optimization.stop_min_lr")) ||
           (patience > 0 && validations_without_improvement >= patience);
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

void Trainer::Impl::build() {
  config::check_ranges(cfg);
  seed = static_cast<uint64_t>(cfg.integer("common.seed"));
  torch::manual_seed(seed);
  const std::string model = cfg.choice("model"), criterion = cfg.choice("criterion");
  if (model.empty()) throw key_error("model._name", "is required (wav2vec2 or wav2vec_ctc)");
  pretraining = model == "wav2vec2";
  if (pretraining && criterion != "wav2vec")
    throw key_error("criterion._name", "model wav2vec2 trains with criterion wav2vec, got '" + criterion + "'");
  if (!pretraining && criterion != "ctc")
    throw key_error("criterion._name", "model wav2vec_ctc trains with criterion ctc, got '" + criterion + "'");
  if (cfg.choice("optimizer") != "adam") throw key_error("optimizer._name", "is required (adam)");
  data_dir = cfg.text("task.data");
  save_dir = cfg.text("checkpoint.save_dir");
  const int64_t world = cfg.integer("distributed_training.distributed_world_size");
  dist = Distributed::from_env(cfg);
  if (master() && !cfg.flag("checkpoint.no_save")) save_dir_lock = std::make_unique<SaveDirLock>(save_dir);
  if (master())
    for (const auto& w : cfg.warnings()) emit(json{{"warning", w}});
  if (save_dir_lock && save_dir_lock->removed_temp_files() > 0)
    emit(json{{"warning", "removed " + std::to_string(save_dir_lock->removed_temp_files()) +
                              " temp file(s) of interrupted saves from " + save_dir}});
  if (world > 1 && !dist)
    emit(json{{"warning", "distributed_training.distributed_world_size=" + std::to_string(world) +
                              " runs as one process accumulating " + std::to_string(world) +
                              "x update_freq batches per update (the same gradient)"}});

  build_model();
  build_data();
  scheduler = make_lr_scheduler(cfg);
  const auto betas = cfg.reals("optimizer.adam_betas");
  if (betas.size() != 2) throw key_error("optimizer.adam_betas", "expects two values");
  adam = std::make_unique<Adam>(parameters(), scheduler->initial(),
                                std::array<double, 2>{betas[0], betas[1]},
                                cfg.real("optimizer.adam_eps"), cfg.real("optimizer.weight_decay"));
  if (pretraining) {
    contrastive = std::make_unique<ContrastiveCriterion>(
        cfg.is_set("criterion.loss_weights") ? cfg.reals("criterion.loss_weights") : std::vector<double>{});
    if (!cfg.flag("criterion.infonce"))
      throw key_error("criterion.infonce", "only the InfoNCE loss (true) is implemented");
  } else {
    ctc = std::make_unique<CtcCriterion>(cfg.flag("criterion.zero_infinity"), cfg.flag("criterion.sentence_avg"),
                                         cfg.text("criterion.post_process"));
    build_lm_decoder();
  }
  resume();
  if (dist) {  // ranks whose machine lacks rank 0's checkpoint resume with it all the same
    std::vector<double> c{double(num_updates), double(epoch), double(iterations_in_epoch), double(skipped)};
    auto tensors = parameters();
    for (auto& b : lm.module().buffers()) tensors.push_back(b);
    broadcast_training_state(*dist, tensors, *adam, c);
    num_updates = int64_t(c[0]), epoch = int64_t(c[1]), iterations_in_epoch = int64_t(c[2]), skipped = int64_t(c[3]);
    adam->set_lr(num_updates > 0 ? scheduler->lr(num_updates) : scheduler->initial());
  }
}

void Trainer::Impl::build_model() {
  const auto& m = cfg;
  time_mask.prob = m.real("model.mask_prob");
  time_mask.length = m.integer("model.mask_length");
  time_mask.selection = m.text("model.mask_selection");
  time_mask.other = m.real("model.mask_other");
  time_mask.min_masks = 2;  // fairseq's apply_mask
  time_mask.require_same_masks = m.flag("model.require_same_masks");
  time_mask.mask_dropout = m.real("model.mask_dropout");
  mask_channel_prob = m.real("model.mask_channel_prob");
  channel_mask.prob = mask_channel_prob;
  channel_mask.length = m.integer("model.mask_channel_length");
  channel_mask.selection = m.text("model.mask_channel_selection");
  channel_mask.other = m.real("model.mask_channel_other");
  channel_mask.require_same_masks = m.flag("model.require_same_masks");
  if (m.flag("model.no_mask_overlap") || m.flag("model.no_mask_channel_overlap"))
    throw key_error("model.no_mask_overlap", "only overlapping spans (false) are implemented");
  if (m.flag("model.mask_channel_before"))
    throw key_error("model.mask_channel_before", "only channel masks after time masks (false) are implemented");
  const bool normalize = m.flag("task.normalize");
  if (pretraining) {
    Value section = config_section(cfg, "model");
    model::Wav2Vec2Config mc = ckpt::read_wav2vec2_config(section, "config model");
    mc.normalize = normalize;
    if (!mc.quantize_targets)
      throw key_error("model.quantize_targets", "pre-training needs quantized targets (true)");
    if (time_mask.prob <= 0) throw key_error("model.mask_prob", "pre-training needs masked frames (> 0)");
    if (m.integer("model.cross_sample_negatives") != 0 || m.integer("model.codebook_negatives") != 0 ||
        m.flag("model.negatives_from_everywhere"))
      throw key_error("model.cross_sample_negatives", "only in-utterance negatives are implemented");
    num_negatives = mc.num_negatives;
    lm.kind = ckpt::ModelKind::kPretraining;
    lm.config = mc;
    lm.pretraining = model::Wav2Vec2Model(mc, true);
    return;
  }
  const std::string labels = cfg.text("task.labels");
  dictionary = std::make_shared<data::Dictionary>(data::Dictionary::load(data_dir + "/dict." + labels + ".txt"));
  const std::string w2v_path = cfg.text("model.w2v_path");
  ckpt::LoadedModel pre = ckpt::load_model(w2v_path);
  if (pre.kind != ckpt::ModelKind::kPretraining)
    throw key_error("model.w2v_path", w2v_path + " is a fine-tuned model; expected a pre-trained wav2vec2 checkpoint");
  if (pre.config.normalize != normalize)
    throw key_error("task.normalize", std::string(normalize ? "true" : "false") + " does not match the pre-trained model's normalize=" +
                                          (pre.config.normalize ? "true" : "false") + " (" + w2v_path + ")");
  Value section = config_section(cfg, "model");
  Value args = Value::dict();
  args.set("model", ckpt::wav2vec2_config_to_dict(pre.config));
  Value task = Value::dict();
  task.set("normalize", Value::boolean(pre.config.normalize));
  args.set("task", task);
  section.set("w2v_args", args);
  ckpt::CtcConfig cc = ckpt::read_ctc_config(section, "config model");
  lm.kind = ckpt::ModelKind::kCtc;
  lm.config = cc.encoder;
  lm.asr = cc.asr;
  lm.ctc = model::Wav2VecCtc(cc.encoder, dictionary->size(), cc.asr);
  lm.dictionary = *dictionary;
  if (!cfg.flag("model.no_pretrained_weights"))
    copy_state(*pre.encoder(), *lm.ctc->w2v_encoder->w2v_model, w2v_path, /*allow_missing=*/false);
}

void Trainer::Impl::build_lm_decoder() {
  LmDecoderSpec spec = read_lm_decoder_spec(cfg);
  if (spec.kenlm_model.empty()) return;  // fairseq: no LM, wer = raw_wer
  if (!options.make_lm_decoder)
    throw key_error("criterion.wer_kenlm_model", "needs an LM decoder, which this Trainer was not given (w2v train gives one)");
  for (int64_t i = 0; i < dictionary->size(); ++i) spec.symbols.push_back(dictionary->symbol(i));
  lm_decoder = options.make_lm_decoder(spec);
}

void Trainer::Impl::board(const std::string& tag, const json& stats) {
  if (!cfg.is_set("common.tensorboard_logdir")) return;
  auto& w = boards[tag];
  if (!w) w = std::make_unique<SummaryWriter>(cfg.text("common.tensorboard_logdir") + "/" + tag);
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [k, v] : stats.items())
    if (v.is_number()) scalars.emplace_back(k, v.get<double>());
  w->add_scalars(num_updates, scalars);
}

void Trainer::Impl::build_data() {
  if (cfg.integer("task.sample_rate") != 16000)
    throw key_error("task.sample_rate", "wav2vec 2.0 models take 16000 Hz audio");
  data::DatasetOptions opts;
  opts.min_sample_size = optional_int(cfg, "task.min_sample_size");
  opts.max_sample_size = optional_int(cfg, "task.max_sample_size");
  opts.pad = !pretraining || cfg.flag("task.enable_padding");
  opts.normalize = cfg.flag("task.normalize");
  const std::string labels = pretraining ? "" : cfg.text("task.labels");
  auto open = [&](const std::string& split) {
    const std::string tsv = data_dir + "/" + split + ".tsv";
    return std::make_shared<data::AudioDataset>(tsv, opts, labels.empty() ? "" : data_dir + "/" + split + "." + labels,
                                                dictionary);
  };
  train_set = open(cfg.text("dataset.train_subset"));
  if (train_set->size() == 0)
    throw Error(data_dir + "/" + cfg.text("dataset.train_subset") + ".tsv: no training samples (" +
                std::to_string(train_set->skipped()) + " skipped by task.min_sample_size=" +
                std::to_string(opts.min_sample_size) + " / task.max_sample_size)");
  data::LoaderOptions lo;
  lo.max_tokens = optional_int(cfg, "dataset.max_tokens");
  lo.max_sentences = optional_int(cfg, "dataset.batch_size");
  if (lo.max_tokens == 0 && lo.max_sentences == 0)
    throw key_error("dataset.max_tokens", "or dataset.batch_size must be set");
  lo.required_batch_size_multiple = cfg.integer("dataset.required_batch_size_multiple");
  lo.seed = seed;
  lo.num_workers = static_cast<int>(cfg.integer("dataset.num_workers"));
  lo.prefetch = static_cast<int>(std::max<int64_t>(1, cfg.integer("dataset.data_buffer_size")));
  if (dist) {
    lo.rank = dist->rank();
    lo.world_size = dist->world_size();
  }
  train_loader = std::make_unique<data::Loader>(train_set, lo);
  valid_options = lo;
  valid_options.shuffle = false;
  valid_options.rank = 0;
  valid_options.world_size = 1;
  valid_options.max_tokens = optional_int(cfg, "dataset.max_tokens_valid");
  valid_options.max_sentences = optional_int(cfg, "dataset.batch_size_valid");
  if (!cfg.flag("dataset.disable_validation"))
    for (const auto& split : split(cfg.text("dataset.valid_subset"), ','))
      valid_sets.emplace_back(split, open(split));
}

void Trainer::Impl::resume() {
  std::string path = cfg.text("checkpoint.restore_file");
  if (path == "checkpoint_last.pt") path = save_dir + "/" + path;
  if (!fs::exists(path)) return;
  ckpt::LoadOptions load;
  load.keep_optimizer_state = true;
  ckpt::LoadedModel r = ckpt::load_model(path, load);
  if (r.kind != lm.kind) throw Error(path + ": holds a different model kind than model._name=" + cfg.choice("model"));
  copy_state(r.module(), lm.module(), path, /*allow_missing=*/false);
  const Value& tree = r.checkpoint;
  const Value* history = tree.find("optimizer_history");
  if (history && !history->items().empty())
    num_updates = history->items().back().get("num_updates").as_int(path + ": optimizer_history[-1].num_updates");
  if (!cfg.flag("checkpoint.reset_dataloader")) {
    if (const Value* it = tree.find_path("extra_state.train_iterator")) {
      epoch = it->get("epoch").as_int(path + ": extra_state.train_iterator.epoch");
      iterations_in_epoch = it->get("iterations_in_epoch").as_int(path + ": extra_state.train_iterator.iterations_in_epoch");
    }
  }
  if (const Value* b = tree.find_path("extra_state.best"); b && !b->is_none()) {
    has_best = true;
    best = b->as_double(path + ": extra_state.best");
  }
  if (const Value* s = tree.find_path("extra_state.w2v_skipped_updates")) skipped = s->as_int();
  if (!cfg.flag("checkpoint.reset_optimizer")) {
    const Value* o = tree.find("last_optimizer_state");
    if (o && !o->is_none()) load_optimizer_state(*o, path);
    else if (master())
      emit(json{{"warning", path + " has no optimizer state; Adam starts afresh"}});
  }
  adam->set_lr(num_updates > 0 ? scheduler->lr(num_updates) : scheduler->initial());
  if (master())
    emit(json{{"resumed", path}, {"num_updates", num_updates}, {"epoch", epoch},
              {"iterations_in_epoch", iterations_in_epoch}});
}

Value Trainer::Impl::optimizer_state() const {
  Value state = Value::dict();
  const auto& st = adam->state();
  for (size_t i = 0; i < st.size(); ++i) {
    if (!st[i].exp_avg.defined()) continue;
    Value s = Value::dict();
    s.set("step", Value::integer(st[i].step));
    s.set("exp_avg", Value::tensor(st[i].exp_avg.clone()));
    s.set("exp_avg_sq", Value::tensor(st[i].exp_avg_sq.clone()));
    state.as_dict().items.emplace_back(Value::integer(static_cast<int64_t>(i)), s);
  }
  const auto betas = cfg.reals("optimizer.adam_betas");
  Value group = Value::dict();
  group.set("lr", Value::real(adam->lr()));
  group.set("betas", Value::tuple({Value::real(betas[0]), Value::real(betas[1])}));
  group.set("eps", Value::real(cfg.real("optimizer.adam_eps")));
  group.set("weight_decay", Value::real(cfg.real("optimizer.weight_decay")));
  ckpt::List ids;
  for (size_t i = 0; i < st.size(); ++i) ids.push_back(Value::integer(static_cast<int64_t>(i)));
  group.set("params", Value::list(ids));
  Value out = Value::dict();
  out.set("state", state);
  out.set("param_groups", Value::list({group}));
  return out;
}

void Trainer::Impl::load_optimizer_state(const Value& o, const std::string& where) {
  auto& st = adam->state();
  const auto& params = adam->params();
  for (const auto& [k, v] : o.get("state").as_dict(where + ": last_optimizer_state.state").items) {
    const int64_t i = k.as_int(where + ": last_optimizer_state.state key");
    if (i < 0 || i >= static_cast<int64_t>(st.size()))
      throw Error(where + ": optimizer state for parameter " + std::to_string(i) + " but the model has " +
                  std::to_string(st.size()));
    st[i].step = v.get("step").as_int();
    st[i].exp_avg = v.get("exp_avg").as_tensor().clone();
    st[i].exp_avg_sq = v.get("exp_avg_sq").as_tensor().clone();
    if (st[i].exp_avg.sizes() != params[i].sizes())
      throw Error(where + ": optimizer state of parameter " + std::to_string(i) + " does not match its shape");
  }
}

StepOutput Trainer::Impl::forward(const data::Batch& batch, Rng& rng, bool training) {
  StepOutput out;
  const int64_t B = batch.size(), L = batch.source.size(1);
  auto encoder = lm.encoder();
  const int64_t D = lm.config.encoder_embed_dim;
  auto draw_masks = [&](torch::Tensor& mask, torch::Tensor& channels) {
    const int64_t T = encoder->output_length(L);
    auto fpm = encoder->frame_padding_mask(batch.padding_mask, T);
    if (time_mask.prob > 0) mask = mask_tensor(compute_mask_indices(valid_lengths(fpm, B, T), time_mask, rng), T);
    if (mask_channel_prob > 0)
      channels = mask_tensor(compute_mask_indices(std::vector<int64_t>(B, D), channel_mask, rng), D);
  };
  torch::Tensor mask, channels;
  if (pretraining) {
    draw_masks(mask, channels);
    const int64_t M = mask.sum().item<int64_t>() / B;
    auto negatives = sample_negatives(B, M, num_negatives, rng);
    auto o = lm.pretraining->forward(batch.source, batch.padding_mask, mask, negatives, channels);
    out.result = (*contrastive)(o.logits, o.quantized.prob_perplexity, o.quantized.num_vars, o.features_pen);
    out.result.logging["code_perplexity"] = o.quantized.code_perplexity.item<double>();
    out.result.logging["temp"] = o.quantized.temp;
    return out;
  }
  if (training && lm.asr.apply_mask) draw_masks(mask, channels);
  auto o = lm.ctc->forward(batch.source, batch.padding_mask, mask, channels);
  out.result = (*ctc)(o.logits, o.padding_mask, batch.target);
  out.logits = o.logits;
  out.frame_padding_mask = o.padding_mask;
  return out;
}

bool Trainer::Impl::train_step(const std::vector<data::Batch>& group) {
  lm.module().train();
  if (pretraining) lm.pretraining->set_num_updates(num_updates);
  else lm.ctc->set_num_updates(num_updates);
  auto params = parameters();
  for (auto& p : params)
    if (p.grad().defined()) p.mutable_grad().zero_();
  double sample_size = 0;
  bool finite = true;
  LoggingOutput logs;
  for (size_t i = 0; i < group.size(); ++i) {
    // The batch's position in the global accumulation cycle (rank r of W takes r, r + W, ...)
    // seeds its masks, negatives, dropout and Gumbel noise, so W workers x update_freq k
    // draw exactly what one process with update_freq k * W draws.
    const uint64_t position = dist ? i * dist->world_size() + dist->rank() : i;
    torch::manual_seed(stream_seed(seed, static_cast<uint64_t>(num_updates), position) >> 1);
    Rng rng(stream_seed(seed, static_cast<uint64_t>(num_updates), position));
    StepOutput s = forward(group[i], rng, true);
    const double loss = s.result.loss.item<double>();
    if (std::isfinite(loss)) s.result.loss.backward();
    else finite = false;
    sample_size += s.result.sample_size;
    accumulate(logs, s.result.logging);
    logs["batches"] += 1;
    logs["bsz"] += static_cast<double>(group[i].size());
  }
  if (dist) {
    // Sum gradients (zeros where a worker had none), which parameters had one anywhere, the
    // sample sizes, the finite flags and every logged statistic, in one collective.
    std::vector<torch::Tensor> bufs;
    auto has = torch::zeros({static_cast<int64_t>(params.size())}, torch::kDouble);
    for (size_t i = 0; i < params.size(); ++i) {
      const bool defined = params[i].grad().defined();
      has[i] = defined ? 1.0 : 0.0;
      bufs.push_back(defined ? params[i].grad() : torch::zeros_like(params[i]));
    }
    std::vector<double> stats{sample_size, finite ? 0.0 : 1.0};
    for (const auto& [k, v] : logs) stats.push_back(v);
    bufs.push_back(has);
    bufs.push_back(torch::tensor(stats, torch::kDouble));
    dist->all_reduce_sum(bufs);
    for (size_t i = 0; i < params.size(); ++i)
      if (has[i].item<double>() > 0) params[i].mutable_grad() = bufs[i];
    auto reduced = bufs.back().contiguous();
    const double* r = reduced.data_ptr<double>();
    sample_size = r[0];
    finite = r[1] == 0.0;
    size_t j = 2;
    for (auto& kv : logs) kv.second = r[j++];
  }
  double gnorm = 0;
  {
    torch::NoGradGuard no_grad;
    double sq = 0;
    for (auto& p : params)
      if (p.grad().defined()) {
        p.mutable_grad().mul_(sample_size > 0 ? 1.0 / sample_size : 0.0);
        sq += p.grad().pow(2).sum().item<double>();
      }
    gnorm = std::sqrt(sq);
    const double clip = cfg.real("optimization.clip_norm");
    if (clip > 0 && std::isfinite(gnorm)) {
      const double coef = std::min(1.0, clip / (gnorm + 1e-6));
      if (coef < 1.0)
        for (auto& p : params)
          if (p.grad().defined()) p.mutable_grad().mul_(coef);
    }
  }
  if (!finite || !std::isfinite(gnorm)) {
    ++skipped;
    ++consecutive_bad;
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().zero_();
    if (master())
      emit(json{{"warning", "skipping update: non-finite loss or gradient"}, {"num_updates", num_updates},
                {"consecutive", consecutive_bad}});
    if (consecutive_bad >= kMaxConsecutiveBadUpdates) {
      if (master()) save(false, false);
      throw Error("training stopped: " + std::to_string(consecutive_bad) +
                  " consecutive updates had a non-finite loss or gradient (at update " +
                  std::to_string(num_updates) + (cfg.flag("checkpoint.no_save") || cfg.flag("checkpoint.no_last_checkpoints")
                                                     ? "; no checkpoint saved: checkpoint.no_save/no_last_checkpoints"
                                                     : "; checkpoint_last.pt saved in " + save_dir) +
                  "); lower optimization.lr or set optimization.clip_norm");
    }
    return false;
  }
  consecutive_bad = 0;
  adam->step();
  ++num_updates;
  adam->set_lr(scheduler->lr(num_updates));
  logs["sample_size_total"] = sample_size;
  for (Window* w : {&interval, &epoch_window}) {
    accumulate(w->logs, logs);
    w->gnorm += gnorm;
    ++w->updates;
  }
  last_loss = log2_scale(logs["loss"], sample_size);
  if (pretraining) last_accuracy = logs["count"] > 0 ? logs["correct"] / logs["count"] : 0.0;
  return true;
}

json Trainer::Impl::window_stats(const Window& w) const {
  LoggingOutput sums = w.logs;  // operator[] below must not insert into the window
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.start).count();
  const double ss = sums["sample_size_total"];
  json j;
  j["loss"] = log2_scale(sums["loss"], ss);
  if (pretraining) {
    if (sums.count("loss_0")) j["loss_0"] = log2_scale(sums["loss_0"], ss);
    if (sums.count("loss_1")) j["loss_1"] = log2_scale(sums["loss_1"], ss);
    j["accuracy"] = sums["count"] > 0 ? sums["correct"] / sums["count"] : 0.0;
    const double n = sums["batches"];
    j["prob_perplexity"] = sums["prob_perplexity"] / n;
    j["code_perplexity"] = sums["code_perplexity"] / n;
    j["temp"] = sums["temp"] / n;
  } else {
    j["ntokens"] = sums["ntokens"];
    j["nsentences"] = sums["nsentences"];
    if (sums["ntokens"] != ss) j["nll_loss"] = log2_scale(sums["loss"], sums["ntokens"]);
    j["impossible"] = sums["impossible"];
  }
  const double updates = static_cast<double>(w.updates);
  j["bsz"] = sums["bsz"] / updates;
  j["lr"] = adam->lr();
  j["gnorm"] = w.gnorm / updates;
  j["ups"] = dt > 0 ? updates / dt : 0.0;
  j["skipped_updates"] = skipped;
  j["wall"] = seconds();
  j["cpu"] = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;  // process CPU seconds, all threads
  return j;
}

void Trainer::Impl::log_train_inner() {
  if (interval.updates == 0 || !master()) return;
  const json stats = window_stats(interval);
  if (pretraining) {
    // A collapsed codebook makes the contrastive task trivial (the negatives equal the
    // positive) and the representations useless: say so while it happens.
    const auto& mc = lm.pretraining->config();
    const double codes = static_cast<double>(mc.latent_vars * mc.latent_groups);
    const double pp = stats["prob_perplexity"].get<double>();
    if (pp < 0.05 * codes)
      emit(json{{"warning", "prob_perplexity " + std::to_string(pp) + " is below 5% of the " +
                                std::to_string(static_cast<int64_t>(codes)) +
                                " codebook entries: the quantizer is collapsing (raise criterion.loss_weights[0] "
                                "or lower the learning rate)"},
                {"num_updates", num_updates}});
  }
  json j{{"tag", "train_inner"}, {"epoch", epoch}, {"num_updates", num_updates}};
  j.update(stats);
  emit(j);
  board("train_inner", stats);
  interval.reset();
}

// fairseq's end-of-epoch "train" record: the epoch's averages, keys prefixed with "train_".
void Trainer::Impl::log_train_epoch() {
  if (epoch_window.updates == 0 || !master()) return;
  const json stats = window_stats(epoch_window);
  json j{{"tag", "train"}, {"epoch", epoch}, {"num_updates", num_updates}};
  for (const auto& [k, v] : stats.items()) j["train_" + k] = v;
  emit(j);
  board("train", stats);
  epoch_window.reset();
}

std::map<std::string, double> Trainer::Impl::validate(const std::string& name, const data::AudioDataset& set) {
  torch::NoGradGuard no_grad;
  lm.module().eval();
  data::LoaderOptions lo = valid_options;
  lo.num_workers = 0;
  auto shared = std::shared_ptr<const data::AudioDataset>(std::shared_ptr<const data::AudioDataset>{}, &set);
  data::Loader loader(shared, lo);
  loader.start_epoch(1);
  LoggingOutput sums;
  data::Batch batch;
  const int64_t max_steps = optional_int(cfg, "dataset.max_valid_steps");
  for (uint64_t j = 0; (max_steps <= 0 || static_cast<int64_t>(j) < max_steps) && loader.next(batch); ++j) {
    Rng rng(stream_seed(seed, kValidStream, j));
    StepOutput s = forward(batch, rng, false);
    accumulate(sums, s.result.logging);
    if (!pretraining)
      accumulate(sums, ctc->validation_errors(s.logits, s.frame_padding_mask, batch.target, *dictionary, lm_decoder));
  }
  std::map<std::string, double> out;
  out["loss"] = log2_scale(sums["loss"], sums["sample_size"]);
  if (pretraining) {
    out["accuracy"] = sums["count"] > 0 ? sums["correct"] / sums["count"] : 0.0;
  } else {
    out["uer"] = sums["c_total"] > 0 ? 100.0 * sums["c_errors"] / sums["c_total"] : 0.0;
    out["wer"] = sums["w_total"] > 0 ? 100.0 * sums["w_errors"] / sums["w_total"] : 0.0;
    out["raw_wer"] = sums["w_total"] > 0 ? 100.0 * sums["wv_errors"] / sums["w_total"] : 0.0;
    out["impossible"] = sums["impossible"];
  }
  json j{{"tag", "valid"}, {"subset", name}, {"epoch", epoch}, {"num_updates", num_updates}};
  for (const auto& [k, v] : out) j["valid_" + k] = v;
  emit(j);
  board(name, json(out));
  return out;
}

void Trainer::Impl::validate_and_maybe_save(bool end_of_epoch, bool force) {
  // Workers other than rank 0 hold the same model; rank 0 alone validates and writes.
  if (!master()) return;
  const int64_t save_every = cfg.integer("checkpoint.save_interval_updates");
  const int64_t valid_every = cfg.integer("dataset.validate_interval_updates");
  const bool stop = should_stop();
  const bool save_now = force || stop ||
                        (end_of_epoch && epoch % cfg.integer("checkpoint.save_interval") == 0) ||
                        (!end_of_epoch && save_every > 0 && num_updates % save_every == 0);
  bool validate_now = stop || (end_of_epoch && epoch % cfg.integer("dataset.validate_interval") == 0) ||
                      (save_now && !end_of_epoch) || (valid_every > 0 && num_updates % valid_every == 0);
  validate_now = validate_now && !valid_sets.empty() && num_updates >= cfg.integer("dataset.validate_after_updates");
  bool is_best = false;
  if (validate_now && num_updates == last_validated_update) {
    validate_now = false;
    is_best = last_validation_was_best;
  }
  if (validate_now) {
    const std::string metric = cfg.text("checkpoint.best_checkpoint_metric");
    const bool maximize = cfg.flag("checkpoint.maximize_best_checkpoint_metric");
    auto first = validate(valid_sets[0].first, *valid_sets[0].second);
    for (size_t i = 1; i < valid_sets.size(); ++i) validate(valid_sets[i].first, *valid_sets[i].second);
    auto it = first.find(metric);
    if (it == first.end())
      throw key_error("checkpoint.best_checkpoint_metric", "'" + metric + "' is not a validation metric of this model");
    // As fairseq: a tie still makes the newer checkpoint the best one, but only a strict
    // improvement resets the patience counter.
    const double value = it->second;
    const bool improved = !has_best || (maximize ? value > best : value < best);
    is_best = improved || value == best;
    if (is_best) {
      best = value;
      has_best = true;
    }
    if (improved) {
      validations_without_improvement = 0;
    } else {
      ++validations_without_improvement;
    }
    last_validated_update = num_updates;
    last_validation_was_best = is_best;
  }
  // A new best is written when it is found, save point or not: fairseq records it only at save
  // points, so a best found by a validate_interval_updates validation between them is lost.
  if (save_now || is_best) save(end_of_epoch, is_best);
}

void Trainer::Impl::save(bool end_of_epoch, bool is_best) {
  if (cfg.flag("checkpoint.no_save")) return;
  fs::create_directories(save_dir);
  Value extra = Value::dict();
  Value c = config_tree(cfg);
  c.as_dict().items.erase(std::remove_if(c.as_dict().items.begin(), c.as_dict().items.end(),
                                         [](const auto& kv) { return kv.first.as_string() == "model"; }),
                          c.as_dict().items.end());
  extra.set("cfg", c);
  Value hist = Value::dict();
  hist.set("criterion_name", Value::string(pretraining ? "Wav2vecCriterion" : "CtcCriterion"));
  hist.set("optimizer_name", Value::string("FairseqAdam"));
  Value sched = Value::dict();
  sched.set("best", has_best ? Value::real(best) : Value());
  hist.set("lr_scheduler_state", sched);
  hist.set("num_updates", Value::integer(num_updates));
  extra.set("optimizer_history", Value::list({hist}));
  if (!cfg.flag("checkpoint.no_save_optimizer_state")) extra.set("last_optimizer_state", optimizer_state());
  Value it = Value::dict();
  it.set("epoch", Value::integer(end_of_epoch ? epoch + 1 : epoch));
  it.set("iterations_in_epoch", Value::integer(end_of_epoch ? 0 : iterations_in_epoch));
  it.set("shuffle", Value::boolean(true));
  Value es = Value::dict();
  es.set("train_iterator", it);
  es.set("best", has_best ? Value::real(best) : Value());
  es.set("w2v_skipped_updates", Value::integer(skipped));
  extra.set("extra_state", es);

  const std::string suffix = cfg.text("checkpoint.checkpoint_suffix");
  std::vector<std::string> names;
  const int64_t save_every = cfg.integer("checkpoint.save_interval_updates");
  if (end_of_epoch && !cfg.flag("checkpoint.no_epoch_checkpoints") &&
      epoch % cfg.integer("checkpoint.save_interval") == 0)
    names.push_back("checkpoint" + std::to_string(epoch) + suffix + ".pt");
  if (!end_of_epoch && save_every > 0 && num_updates % save_every == 0)
    names.push_back("checkpoint_" + std::to_string(epoch) + "_" + std::to_string(num_updates) + suffix + ".pt");
  if (is_best) names.push_back("checkpoint_best" + suffix + ".pt");
  if (!cfg.flag("checkpoint.no_last_checkpoints")) names.push_back("checkpoint_last" + suffix + ".pt");
  for (const auto& n : names) ckpt::save_model(save_dir + "/" + n, lm, extra);

  const int64_t keep_epochs = cfg.integer("checkpoint.keep_last_epochs");
  if (end_of_epoch && keep_epochs > 0)
    for (int64_t e = epoch - keep_epochs; e >= 1; --e)
      fs::remove(save_dir + "/checkpoint" + std::to_string(e) + suffix + ".pt");
  remove_old_update_checkpoints(save_dir, suffix, cfg.integer("checkpoint.keep_interval_updates"));
}

Trainer::Trainer(const config::Config& cfg, std::ostream& log, TrainerOptions options)
    : impl_(std::make_unique<Impl>(cfg, log, std::move(options))) {
  impl_->build();
}

Trainer::~Trainer() = default;

TrainSummary Trainer::train() {
  Impl& t = *impl_;
  const auto update_freqs = t.cfg.integers("optimization.update_freq");
  const int64_t world = t.cfg.integer("distributed_training.distributed_world_size");
  const int64_t max_epoch = t.cfg.integer("optimization.max_epoch");
  const int64_t log_interval = t.cfg.integer("common.log_interval");
  t.progress = std::make_unique<Progress>("train", t.cfg.integer("optimization.max_update"), t.num_updates, "ups",
                                          t.master() && !t.cfg.flag("common.no_progress_bar"));
  while (!t.should_stop() && (max_epoch == 0 || t.epoch <= max_epoch)) {
    const int64_t uf = update_freqs[std::min<size_t>(static_cast<size_t>(t.epoch - 1), update_freqs.size() - 1)] *
                       (t.dist ? 1 : std::max<int64_t>(1, world));
    t.train_loader->start_epoch(t.epoch, static_cast<size_t>(t.iterations_in_epoch));
    const bool from_start = t.iterations_in_epoch == 0;
    bool epoch_done = false;
    while (!t.should_stop()) {
      std::vector<data::Batch> group;
      for (int64_t k = 0; k < uf; ++k) {
        data::Batch b;
        if (!t.train_loader->next(b)) {
          epoch_done = true;
          break;
        }
        group.push_back(std::move(b));
      }
      const bool remainder = static_cast<int64_t>(group.size()) < uf;
      if (!group.empty() && !(remainder && t.cfg.flag("optimization.skip_remainder_batch"))) {
        t.iterations_in_epoch += static_cast<int64_t>(group.size());
        if (t.train_step(group)) {
          ProgressStats stats{{"loss", t.last_loss}};
          if (t.pretraining) stats.emplace_back("acc", t.last_accuracy);
          stats.emplace_back("lr", t.adam->lr());
          t.progress->update(t.num_updates, std::move(stats));
          if (log_interval > 0 && t.num_updates % log_interval == 0) t.log_train_inner();
          if (!epoch_done) t.validate_and_maybe_save(false, false);
        }
      }
      if (epoch_done) break;
    }
    if (epoch_done && from_start && t.iterations_in_epoch == 0)  // else every epoch is empty: a hang
      throw Error("an epoch of the training set gives no update (" + std::to_string(t.train_set->size()) +
                  " samples, distributed_world_size " + std::to_string(world) + ", update_freq " + std::to_string(uf) +
                  ", optimization.skip_remainder_batch): add data or lower the batch size");
    if (epoch_done) {
      t.log_train_inner();
      t.log_train_epoch();
      t.validate_and_maybe_save(true, false);
      ++t.epoch;
      t.iterations_in_epoch = 0;
    } else {
      t.log_train_inner();
      t.log_train_epoch();
    }
  }
  t.progress->finish();
  TrainSummary s;
  s.num_updates = t.num_updates;
  s.epoch = t.epoch;
  s.skipped_updates = t.skipped;
  s.best = t.best;
  return s;
}

}  // namespace w2v::train
