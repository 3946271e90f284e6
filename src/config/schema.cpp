#include "config/schema.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "config/config.h"
#include "config/model_fields.h"
#include "util/error.h"

namespace w2v::config {
namespace {

constexpr Type B = Type::Bool, I = Type::Int, F = Type::Float, S = Type::String,
               IL = Type::IntList, FL = Type::FloatList, SL = Type::StringList,
               FT = Type::FloatTuple;

const char* kCpu = "w2v trains in fp32 on CPU";
const char* kOneProcess = "w2v runs one process per worker without a GPU backend";
const char* kNotUsed = W2V_NOT_USED;
const char* kEvalOnly = "read by fairseq's evaluation scripts; w2v infer takes flags";

// The model table's members with their defaults (what model::Wav2Vec2Config holds; config comes
// before model, so the schema builds its own copy from the same table).
struct ModelDefaults {
#define W2V_MEMBER(type, name, default_value, hf_name, hf_default) type name = default_value;
  W2V_WAV2VEC2_FIELDS(W2V_MEMBER)
#undef W2V_MEMBER
};

Type type_of(const std::string&) { return S; }
Type type_of(bool) { return B; }
Type type_of(int64_t) { return I; }
Type type_of(double) { return F; }
Type type_of(const LatentTemp&) { return FT; }

// A default as YAML text: a string plain when YAML reads it back as itself, else single-quoted;
// a float always with a '.' or exponent, as fairseq's yaml files write them.
std::string yaml_of(const std::string& v) {
  bool plain = false;
  try {
    const YAML::Node n = YAML::Load(v);
    plain = n.IsScalar() && n.Scalar() == v;
  } catch (const YAML::Exception&) {
  }
  return plain ? v : "'" + v + "'";
}
std::string yaml_of(bool v) { return v ? "true" : "false"; }
std::string yaml_of(int64_t v) { return std::to_string(v); }
std::string yaml_of(double v) {
  char buf[32];
  const std::string t(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return t.find_first_of(".e") == std::string::npos ? t + ".0" : t;
}
std::string yaml_of(const LatentTemp& v) { return "[" + yaml_of(v[0]) + ", " + yaml_of(v[1]) + ", " + yaml_of(v[2]) + "]"; }

std::vector<KeySpec> build() {
  std::vector<KeySpec> s;
  auto add = [&](const char* section, const char* choice, const char* key, Type t,
                 const std::string& def, const char* ignored = "") {
    s.push_back({section, choice, key, t, def, ignored});
  };
  // common (fairseq CommonConfig)
  add("common", "", "no_progress_bar", B, "false");
  add("common", "", "log_interval", I, "100");
  add("common", "", "log_format", S, "null");
  add("common", "", "log_file", S, "null", "log lines go to stdout");
  add("common", "", "tensorboard_logdir", S, "null");
  add("common", "", "wandb_project", S, "null", kNotUsed);
  add("common", "", "azureml_logging", B, "false", kNotUsed);
  add("common", "", "seed", I, "1");
  add("common", "", "cpu", B, "false", "w2v always runs on CPU");
  add("common", "", "tpu", B, "false", kCpu);
  add("common", "", "bf16", B, "false", kCpu);
  add("common", "", "memory_efficient_bf16", B, "false", kCpu);
  add("common", "", "fp16", B, "false", kCpu);
  add("common", "", "memory_efficient_fp16", B, "false", kCpu);
  add("common", "", "fp16_no_flatten_grads", B, "false", kCpu);
  add("common", "", "fp16_init_scale", I, "128", kCpu);
  add("common", "", "fp16_scale_window", I, "null", kCpu);
  add("common", "", "fp16_scale_tolerance", F, "0.0", kCpu);
  add("common", "", "on_cpu_convert_precision", B, "false", kCpu);
  add("common", "", "min_loss_scale", F, "0.0001", kCpu);
  add("common", "", "threshold_loss_scale", F, "null", kCpu);
  add("common", "", "amp", B, "false", kCpu);
  add("common", "", "amp_batch_retries", I, "2", kCpu);
  add("common", "", "amp_init_scale", I, "128", kCpu);
  add("common", "", "amp_scale_window", I, "null", kCpu);
  add("common", "", "user_dir", S, "null", kNotUsed);
  add("common", "", "empty_cache_freq", I, "0", kCpu);
  add("common", "", "all_gather_list_size", I, "16384", kNotUsed);
  add("common", "", "model_parallel_size", I, "1", kNotUsed);
  add("common", "", "quantization_config_path", S, "null", kNotUsed);
  add("common", "", "profile", B, "false", kNotUsed);
  add("common", "", "reset_logging", B, "false", kNotUsed);
  add("common", "", "suppress_crashes", B, "false", kNotUsed);
  // common_eval
  add("common_eval", "", "path", S, "null", kEvalOnly);
  add("common_eval", "", "post_process", S, "null", kEvalOnly);
  add("common_eval", "", "quiet", B, "false", kEvalOnly);
  add("common_eval", "", "model_overrides", S, "'{}'", kNotUsed);
  add("common_eval", "", "results_path", S, "null", kEvalOnly);
  // checkpoint
  add("checkpoint", "", "save_dir", S, "checkpoints");
  add("checkpoint", "", "restore_file", S, "checkpoint_last.pt");
  add("checkpoint", "", "finetune_from_model", S, "null", kNotUsed);
  add("checkpoint", "", "reset_dataloader", B, "false");
  add("checkpoint", "", "reset_lr_scheduler", B, "false",
      "the learning rate follows the update count; there is no scheduler state to reset");
  add("checkpoint", "", "reset_meters", B, "false", "meters are not saved: a resumed run starts them afresh");
  add("checkpoint", "", "reset_optimizer", B, "false");
  add("checkpoint", "", "optimizer_overrides", S, "'{}'", kNotUsed);
  add("checkpoint", "", "save_interval", I, "1");
  add("checkpoint", "", "save_interval_updates", I, "0");
  add("checkpoint", "", "keep_interval_updates", I, "-1");
  add("checkpoint", "", "keep_interval_updates_pattern", I, "-1", kNotUsed);
  add("checkpoint", "", "keep_last_epochs", I, "-1");
  add("checkpoint", "", "keep_best_checkpoints", I, "-1", kNotUsed);
  add("checkpoint", "", "no_save", B, "false");
  add("checkpoint", "", "no_epoch_checkpoints", B, "false");
  add("checkpoint", "", "no_last_checkpoints", B, "false");
  add("checkpoint", "", "no_save_optimizer_state", B, "false");
  add("checkpoint", "", "best_checkpoint_metric", S, "loss");
  add("checkpoint", "", "maximize_best_checkpoint_metric", B, "false");
  add("checkpoint", "", "patience", I, "-1");
  add("checkpoint", "", "checkpoint_suffix", S, "''");
  add("checkpoint", "", "checkpoint_shard_count", I, "1", kNotUsed);
  add("checkpoint", "", "load_checkpoint_on_all_dp_ranks", B, "false", kNotUsed);
  add("checkpoint", "", "write_checkpoints_asynchronously", B, "false", kNotUsed);
  // dataset
  add("dataset", "", "num_workers", I, "1");
  // fairseq filters validation items by max_positions with it, and its audio tasks' max_positions
  // is (sys.maxsize, sys.maxsize) (the models give None): nothing is ever removed. An item longer
  // than max_tokens fails batching in fairseq and in w2v (an error naming it) either way.
  add("dataset", "", "skip_invalid_size_inputs_valid_test", B, "false",
      "fairseq's audio tasks allow any length (max_positions sys.maxsize), so it skips nothing; an item over "
      "max_tokens is an error");
  add("dataset", "", "max_tokens", I, "null");
  add("dataset", "", "batch_size", I, "null");
  add("dataset", "", "required_batch_size_multiple", I, "8");
  add("dataset", "", "required_seq_len_multiple", I, "1", kNotUsed);
  add("dataset", "", "dataset_impl", S, "null", kNotUsed);
  add("dataset", "", "data_buffer_size", I, "10");
  add("dataset", "", "train_subset", S, "train");
  add("dataset", "", "valid_subset", S, "valid");
  add("dataset", "", "combine_valid_subsets", B, "null", kNotUsed);
  add("dataset", "", "ignore_unused_valid_subsets", B, "false", kNotUsed);
  add("dataset", "", "validate_interval", I, "1");
  add("dataset", "", "validate_interval_updates", I, "0");
  add("dataset", "", "validate_after_updates", I, "0");
  add("dataset", "", "fixed_validation_seed", I, "null",
      "validation draws its masks from common.seed, the same at every validation");
  add("dataset", "", "disable_validation", B, "false");
  add("dataset", "", "max_tokens_valid", I, "${dataset.max_tokens}");
  add("dataset", "", "batch_size_valid", I, "${dataset.batch_size}");
  add("dataset", "", "max_valid_steps", I, "null");
  add("dataset", "", "curriculum", I, "0", kNotUsed);
  add("dataset", "", "gen_subset", S, "test", kEvalOnly);
  add("dataset", "", "num_shards", I, "1", kNotUsed);
  add("dataset", "", "shard_id", I, "0", kNotUsed);
  // distributed_training
  add("distributed_training", "", "distributed_world_size", I, "1");
  add("distributed_training", "", "distributed_num_procs", I, "null", kOneProcess);
  add("distributed_training", "", "distributed_rank", I, "0");
  add("distributed_training", "", "distributed_backend", S, "nccl", kOneProcess);
  add("distributed_training", "", "distributed_init_method", S, "null");
  add("distributed_training", "", "distributed_port", I, "-1");
  add("distributed_training", "", "nprocs_per_node", I, "1");
  add("distributed_training", "", "device_id", I, "0", kCpu);
  add("distributed_training", "", "distributed_no_spawn", B, "false", kOneProcess);
  add("distributed_training", "", "ddp_backend", S, "pytorch_ddp",
      "gradients are summed after every accumulation cycle whatever the backend (a parameter no worker "
      "has a gradient for is not stepped, as with pytorch_ddp)");
  add("distributed_training", "", "bucket_cap_mb", I, "25", kOneProcess);
  add("distributed_training", "", "fix_batches_to_gpus", B, "false", kOneProcess);
  add("distributed_training", "", "find_unused_parameters", B, "false", kOneProcess);
  add("distributed_training", "", "fast_stat_sync", B, "false", kOneProcess);
  // Seconds a collective may wait for a peer (-1: torch's default, 1800).
  add("distributed_training", "", "heartbeat_timeout", I, "-1");
  // w2v's own: seconds the rendezvous waits for every rank to arrive.
  add("distributed_training", "", "rendezvous_timeout", I, "300");
  add("distributed_training", "", "broadcast_buffers", B, "false", kOneProcess);
  add("distributed_training", "", "zero_sharding", S, "none", kOneProcess);
  add("distributed_training", "", "fp16", B, "${common.fp16}", kCpu);
  add("distributed_training", "", "memory_efficient_fp16", B, "${common.memory_efficient_fp16}",
      kCpu);
  add("distributed_training", "", "tpu", B, "${common.tpu}", kCpu);
  // optimization
  add("optimization", "", "max_epoch", I, "0");
  add("optimization", "", "max_update", I, "0");
  add("optimization", "", "stop_time_hours", F, "0");
  add("optimization", "", "clip_norm", F, "0.0");
  add("optimization", "", "sentence_avg", B, "false");
  add("optimization", "", "update_freq", IL, "[1]");
  add("optimization", "", "lr", FL, "[0.25]");
  add("optimization", "", "stop_min_lr", F, "-1.0");
  add("optimization", "", "use_bmuf", B, "false", kNotUsed);
  add("optimization", "", "skip_remainder_batch", B, "false");
  // optimizer: adam (FairseqAdamConfig)
  add("optimizer", "adam", "adam_betas", FT, "(0.9, 0.999)");
  add("optimizer", "adam", "adam_eps", F, "1e-8");
  add("optimizer", "adam", "weight_decay", F, "0.0");
  add("optimizer", "adam", "use_old_adam", B, "false", kNotUsed);
  add("optimizer", "adam", "fp16_adam_stats", B, "false", kCpu);
  add("optimizer", "adam", "tpu", B, "${common.tpu}", kCpu);
  add("optimizer", "adam", "lr", FL, "${optimization.lr}", "the learning rate comes from lr_scheduler.lr");
  // lr_scheduler: polynomial_decay
  add("lr_scheduler", "polynomial_decay", "warmup_updates", I, "0");
  add("lr_scheduler", "polynomial_decay", "force_anneal", I, "null", kNotUsed);
  add("lr_scheduler", "polynomial_decay", "end_learning_rate", F, "0.0");
  add("lr_scheduler", "polynomial_decay", "power", F, "1.0");
  add("lr_scheduler", "polynomial_decay", "total_num_update", F, "${optimization.max_update}");
  add("lr_scheduler", "polynomial_decay", "lr", FL, "${optimization.lr}");
  // lr_scheduler: tri_stage
  add("lr_scheduler", "tri_stage", "warmup_steps", I, "0");
  add("lr_scheduler", "tri_stage", "hold_steps", I, "0");
  add("lr_scheduler", "tri_stage", "decay_steps", I, "0");
  add("lr_scheduler", "tri_stage", "phase_ratio", FL, "null");
  add("lr_scheduler", "tri_stage", "init_lr_scale", F, "0.01");
  add("lr_scheduler", "tri_stage", "final_lr_scale", F, "0.01");
  add("lr_scheduler", "tri_stage", "max_update", I, "${optimization.max_update}");
  add("lr_scheduler", "tri_stage", "lr", FL, "${optimization.lr}");
  // criterion: wav2vec (Wav2VecCriterionConfig)
  add("criterion", "wav2vec", "infonce", B, "false");
  add("criterion", "wav2vec", "loss_weights", FL, "null");
  add("criterion", "wav2vec", "log_keys", SL, "[]");
  // criterion: ctc (CtcCriterionConfig)
  add("criterion", "ctc", "zero_infinity", B, "false");
  add("criterion", "ctc", "sentence_avg", B, "${optimization.sentence_avg}");
  add("criterion", "ctc", "post_process", S, "letter");
  add("criterion", "ctc", "wer_kenlm_model", S, "null");
  add("criterion", "ctc", "wer_lexicon", S, "null");
  add("criterion", "ctc", "wer_lm_weight", F, "2.0");
  add("criterion", "ctc", "wer_word_score", F, "-1.0");
  add("criterion", "ctc", "wer_args", S, "null");
  // task: audio_pretraining / audio_finetuning (AudioPretrainingConfig, AudioFinetuningConfig)
  for (const char* task : {"audio_pretraining", "audio_finetuning"}) {
    add("task", task, "data", S, "???");
    add("task", task, "labels", S, "null");
    add("task", task, "binarized_dataset", B, "false", kNotUsed);
    add("task", task, "sample_rate", I, "16000");
    add("task", task, "normalize", B, "false");
    add("task", task, "enable_padding", B, "false");
    add("task", task, "max_sample_size", I, "null");
    add("task", task, "min_sample_size", I, "null");
    add("task", task, "num_batch_buckets", I, "0", kNotUsed);
    add("task", task, "precompute_mask_indices", B, "false", kNotUsed);
    add("task", task, "tpu", B, "${common.tpu}", kCpu);
    add("task", task, "text_compression_level", S, "none", kNotUsed);
    add("task", task, "eval_wer", B, "false", "for sequence-to-sequence models; CTC validation reports uer/wer");
    add("task", task, "eval_wer_post_process", S, "letter", "CTC validation uses criterion.post_process");
    add("task", task, "autoregressive", B, "false", kNotUsed);
    // w2v's own: training-time augmentation of the train split (data/augment.h), all off.
    add("task", task, "augment_speed", FL, "null");
    add("task", task, "augment_noise_prob", F, "0.0");
    add("task", task, "augment_noise_snr", FL, "[10, 30]");
    add("task", task, "augment_reverb_prob", F, "0.0");
    add("task", task, "augment_reverb_rt60", FL, "[0.2, 0.8]");
    add("task", task, "augment_band_prob", F, "0.0");
    add("task", task, "augment_telephone_prob", F, "0.0");
  }
  // model: wav2vec2 (Wav2Vec2Config) and wav2vec_ctc (Wav2Vec2AsrConfig), from the model table.
  const char* m = "wav2vec2";
  const ModelDefaults d;
#define W2V_KEY(type, name, default_value, hf_name, hf_default) add("model", m, #name, type_of(d.name), yaml_of(d.name));
  W2V_WAV2VEC2_FIELDS(W2V_KEY)
#undef W2V_KEY
#define W2V_KEY(type, name, value) add("model", m, #name, type_of(type(value)), yaml_of(type(value)));
  W2V_WAV2VEC2_FIXED_FIELDS(W2V_KEY)
#undef W2V_KEY
#define W2V_KEY(type, name, default_yaml, ignored) add("model", m, #name, type_of(type{}), default_yaml, ignored);
  W2V_WAV2VEC2_UNUSED_FIELDS(W2V_KEY)
#undef W2V_KEY
  const char* c = "wav2vec_ctc";
#define W2V_KEY(name, default_value, member)                           \
  add("model", c, #name, type_of(d.member), yaml_of(decltype(d.member)(default_value)));
  W2V_FINETUNING_OVERRIDES(W2V_KEY)
#undef W2V_KEY
#define W2V_KEY(type, name, default_yaml, ignored) add("model", c, #name, type_of(type{}), default_yaml, ignored);
  W2V_FINETUNING_OWN_FIELDS(W2V_KEY)
#undef W2V_KEY
  return s;
}


constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kIntMax = 9.007199254740992e15;  // 2^53: every integer up to it is exact as a double
constexpr double kDim = 65536;                    // model widths, heads, counts: bounds allocations

// Ranges of every numeric key w2v uses (a test checks that none is missing). -1 where fairseq
// uses it for "off"; probabilities and dropouts in [0, 1].
const std::map<std::string, Range>& range_table() {
  static const std::map<std::string, Range> t = [] {
    std::map<std::string, Range> r;
    const Range count{0, kIntMax}, positive{1, kIntMax}, off_or_count{-1, kIntMax}, prob{0, 1},
        nonneg{0, kInf}, any{-kInf, kInf}, dim{1, kDim};
    for (const char* k : {"checkpoint.save_interval_updates", "common.log_interval", "common.seed",
                          "dataset.data_buffer_size", "dataset.max_valid_steps", "dataset.validate_after_updates",
                          "dataset.validate_interval_updates", "dataset.fixed_validation_seed",
                          "lr_scheduler.decay_steps", "lr_scheduler.hold_steps", "lr_scheduler.max_update",
                          "lr_scheduler.warmup_steps", "lr_scheduler.warmup_updates", "model.freeze_finetune_updates",
                          "optimization.max_epoch", "optimization.max_update", "task.min_sample_size"})
      r[k] = count;
    for (const char* k : {"checkpoint.save_interval", "dataset.batch_size", "dataset.batch_size_valid",
                          "dataset.max_tokens", "dataset.max_tokens_valid", "dataset.required_batch_size_multiple",
                          "dataset.validate_interval", "task.max_sample_size", "task.sample_rate"})
      r[k] = positive;
    for (const char* k : {"checkpoint.keep_interval_updates", "checkpoint.keep_last_epochs", "checkpoint.patience",
                          "distributed_training.heartbeat_timeout"})
      r[k] = off_or_count;
    for (const char* k : {"model.activation_dropout", "model.attention_dropout", "model.dropout", "model.dropout_features",
                          "model.dropout_input", "model.encoder_layerdrop", "model.final_dropout", "model.layerdrop",
                          "model.mask_channel_prob", "model.mask_dropout", "model.mask_prob",
                          "task.augment_noise_prob", "task.augment_reverb_prob", "task.augment_band_prob",
                          "task.augment_telephone_prob"})
      r[k] = prob;
    for (const char* k : {"lr_scheduler.end_learning_rate", "lr_scheduler.final_lr_scale", "lr_scheduler.init_lr_scale",
                          "lr_scheduler.power", "lr_scheduler.total_num_update", "model.feature_grad_mult",
                          "model.mask_channel_other", "model.mask_other", "optimization.clip_norm",
                          "optimization.stop_time_hours", "optimizer.adam_eps", "optimizer.weight_decay"})
      r[k] = nonneg;
    for (const char* k : {"criterion.wer_lm_weight", "criterion.wer_word_score", "model.blank_weight",
                          "optimization.stop_min_lr"})
      r[k] = any;
    for (const char* k : {"model.conv_pos", "model.conv_pos_groups", "model.encoder_attention_heads",
                          "model.encoder_embed_dim", "model.encoder_ffn_embed_dim", "model.encoder_layers",
                          "model.latent_groups", "model.latent_vars", "model.mask_channel_length", "model.mask_length",
                          "model.num_negatives", "model.pos_conv_depth", "model.quantizer_depth",
                          "model.quantizer_factor", "model.required_seq_len_multiple", "model.crop_seq_to_multiple"})
      r[k] = dim;
    for (const char* k : {"model.final_dim", "model.latent_dim", "model.codebook_negatives",
                          "model.cross_sample_negatives", "model.mask_min_space", "model.mask_channel_min_space"})
      r[k] = Range{0, kDim};
    r["model.max_positions"] = Range{1, 1e7};
    r["model.logit_temp"] = Range{0, kInf, true};
    r["model.latent_temp"] = Range{0, kInf, true, 3, 3};
    r["dataset.num_workers"] = Range{0, 256};
    r["distributed_training.distributed_world_size"] = Range{1, kDim};
    r["distributed_training.distributed_rank"] = Range{0, kDim - 1};
    r["distributed_training.nprocs_per_node"] = Range{1, 1024};
    r["distributed_training.distributed_port"] = Range{-1, 65535};
    r["distributed_training.rendezvous_timeout"] = Range{1, 86400};
    r["optimization.update_freq"] = Range{1, 1e6, false, 1};
    // Speed factors within resampling's reach; SNRs in dB; RT60 in seconds (bounds the room
    // response's length: 2 s = 32 000 taps).
    r["task.augment_speed"] = Range{0.5, 2, false, 1};
    r["task.augment_noise_snr"] = Range{-30, 100, false, 2, 2};
    r["task.augment_reverb_rt60"] = Range{0.01, 2, false, 2, 2};
    r["criterion.loss_weights"] = nonneg;
    for (const char* k : {"optimization.lr", "optimizer.lr", "lr_scheduler.lr"}) r[k] = Range{0, kInf, false, 1};
    r["optimizer.adam_betas"] = Range{0, 1, false, 2, 2};
    r["lr_scheduler.phase_ratio"] = Range{0, 1, false, 3, 3};
    return r;
  }();
  return t;
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> s = build();
  return s;
}

const std::vector<std::string>& choices(const std::string& section) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> optimizer{"adam"}, lr{"polynomial_decay", "tri_stage"},
      criterion{"wav2vec", "ctc"}, task{"audio_pretraining", "audio_finetuning"},
      model{"wav2vec2", "wav2vec_ctc"};
  if (section == "optimizer") return optimizer;
  if (section == "lr_scheduler") return lr;
  if (section == "criterion") return criterion;
  if (section == "task") return task;
  if (section == "model") return model;
  return none;
}

const std::vector<std::string>& sections() {
  static const std::vector<std::string> s{
      "common",       "common_eval", "checkpoint",   "task",         "dataset",
      "distributed_training", "criterion", "optimization", "optimizer", "lr_scheduler", "model"};
  return s;
}

const Range* range_of(const std::string& dotted_key) {
  const auto& t = range_table();
  auto it = t.find(dotted_key);
  return it == t.end() ? nullptr : &it->second;
}

void check_ranges(const Config& cfg) {
  for (const auto& k : schema()) {
    if (k.type == Type::Bool || k.type == Type::String || k.type == Type::StringList || !k.ignored_because.empty())
      continue;
    if (!k.choice.empty() && cfg.choice(k.section) != k.choice) continue;
    const std::string key = k.section + "." + k.key;
    const Range* r = range_of(key);
    if (!r || !cfg.is_set(key)) continue;
    const std::vector<double> values = cfg.reals(key);
    const bool list = k.type == Type::IntList || k.type == Type::FloatList || k.type == Type::FloatTuple;
    if (list && (values.size() < r->min_count || values.size() > r->max_count))
      throw key_error(key, "expects " +
                               (r->min_count == r->max_count ? std::to_string(r->min_count)
                                                             : std::to_string(r->min_count) + " or more") +
                               " values, got " + std::to_string(values.size()));
    for (size_t i = 0; i < values.size(); ++i) {
      const double v = values[i];
      const std::string which = list ? "element " + std::to_string(i) + " " : "";
      if (!std::isfinite(v)) throw key_error(key, which + "must be a finite number, got " + number(v));
      if ((r->lo_open ? v > r->lo : v >= r->lo) && v <= r->hi) continue;
      throw key_error(key, which + "must be in " +
                               (r->lo_open ? "(" : "[") + number(r->lo) + ", " + number(r->hi) + "], got " +
                               number(v));
    }
  }
}

const char* type_name(Type t) {
  switch (t) {
    case Type::Bool: return "a boolean";
    case Type::Int: return "an integer";
    case Type::Float: return "a number";
    case Type::String: return "a string";
    case Type::IntList: return "a list of integers";
    case Type::FloatList: return "a list of numbers";
    case Type::StringList: return "a list of strings";
    case Type::FloatTuple: return "a tuple of numbers like [0.9, 0.98] or '(0.9,0.98)'";
  }
  return "?";
}

}  // namespace w2v::config
