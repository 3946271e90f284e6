#include "train/checkpointing.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "train/save_dir.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace w2v::train {

using ckpt::Value;

void copy_state(torch::nn::Module& from, torch::nn::Module& to, const std::string& where, bool allow_missing) {
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
      msg << where << ": tensor '" << name << "' has shape " << s->sizes() << ", expected " << dst.sizes();
      throw Error(msg.str());
    }
    dst.copy_(*s);
  };
  for (auto& p : to.named_parameters()) copy(p.key(), p.value());
  for (auto& b : to.named_buffers()) copy(b.key(), b.value());
}

Checkpointer::Checkpointer(CheckpointSettings settings, UpdateSettings update, Value cfg_tree,
                           std::string criterion_name)
    : settings_(std::move(settings)), update_(std::move(update)), cfg_(std::move(cfg_tree)),
      criterion_name_(std::move(criterion_name)) {
  auto& items = cfg_.as_dict().items;
  items.erase(std::remove_if(items.begin(), items.end(), [](const auto& kv) { return kv.first.as_string() == "model"; }),
              items.end());
}

std::optional<Checkpointer::Resumed> Checkpointer::resume(ckpt::LoadedModel& model, Adam& adam, TrainState& state) const {
  const std::string& path = settings_.restore_file;
  if (!fs::exists(path)) return std::nullopt;
  ckpt::LoadOptions load;
  load.keep_optimizer_state = true;
  ckpt::LoadedModel r = ckpt::load_model(path, load);
  if (r.kind != model.kind)
    throw Error(path + ": holds a different model kind than model._name=" +
                (model.kind == ckpt::ModelKind::kPretraining ? "wav2vec2" : "wav2vec_ctc"));
  copy_state(r.module(), model.module(), path, /*allow_missing=*/false);
  const Value& tree = r.checkpoint;
  const Value* history = tree.find("optimizer_history");
  if (history && !history->items().empty())
    state.num_updates = history->items().back().get("num_updates").as_int(path + ": optimizer_history[-1].num_updates");
  if (!settings_.reset_dataloader) {
    if (const Value* it = tree.find_path("extra_state.train_iterator")) {
      state.epoch = it->get("epoch").as_int(path + ": extra_state.train_iterator.epoch");
      state.iterations_in_epoch =
          it->get("iterations_in_epoch").as_int(path + ": extra_state.train_iterator.iterations_in_epoch");
    }
  }
  if (const Value* b = tree.find_path("extra_state.best"); b && !b->is_none()) {
    state.has_best = true;
    state.best = b->as_double(path + ": extra_state.best");
  }
  if (const Value* s = tree.find_path("extra_state.w2v_skipped_updates")) state.skipped = s->as_int();
  Resumed out{path, true};
  if (!settings_.reset_optimizer) {
    const Value* o = tree.find("last_optimizer_state");
    if (o && !o->is_none()) load_optimizer_state(adam, *o, path);
    else out.had_optimizer_state = false;
  }
  return out;
}

Value Checkpointer::optimizer_state(const Adam& adam) const {
  Value state = Value::dict();
  const auto& st = adam.state();
  for (size_t i = 0; i < st.size(); ++i) {
    if (!st[i].exp_avg.defined()) continue;
    Value s = Value::dict();
    s.set("step", Value::integer(st[i].step));
    s.set("exp_avg", Value::tensor(st[i].exp_avg.clone()));
    s.set("exp_avg_sq", Value::tensor(st[i].exp_avg_sq.clone()));
    state.as_dict().items.emplace_back(Value::integer(static_cast<int64_t>(i)), s);
  }
  Value group = Value::dict();
  group.set("lr", Value::real(adam.lr()));
  group.set("betas", Value::tuple({Value::real(update_.adam_betas[0]), Value::real(update_.adam_betas[1])}));
  group.set("eps", Value::real(update_.adam_eps));
  group.set("weight_decay", Value::real(update_.weight_decay));
  ckpt::List ids;
  for (size_t i = 0; i < st.size(); ++i) ids.push_back(Value::integer(static_cast<int64_t>(i)));
  group.set("params", Value::list(ids));
  Value out = Value::dict();
  out.set("state", state);
  out.set("param_groups", Value::list({group}));
  return out;
}

void Checkpointer::load_optimizer_state(Adam& adam, const Value& o, const std::string& where) {
  auto& st = adam.state();
  const auto& params = adam.params();
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

void Checkpointer::save(const ckpt::LoadedModel& model, const Adam& adam, const TrainState& state, bool end_of_epoch,
                        bool is_best) const {
  const CheckpointSettings& c = settings_;
  if (c.no_save) return;
  fs::create_directories(c.save_dir);
  Value extra = Value::dict();
  extra.set("cfg", cfg_);
  Value hist = Value::dict();
  hist.set("criterion_name", Value::string(criterion_name_));
  hist.set("optimizer_name", Value::string("FairseqAdam"));
  Value sched = Value::dict();
  sched.set("best", state.has_best ? Value::real(state.best) : Value());
  hist.set("lr_scheduler_state", sched);
  hist.set("num_updates", Value::integer(state.num_updates));
  extra.set("optimizer_history", Value::list({hist}));
  if (!c.no_save_optimizer_state) extra.set("last_optimizer_state", optimizer_state(adam));
  Value it = Value::dict();
  it.set("epoch", Value::integer(end_of_epoch ? state.epoch + 1 : state.epoch));
  it.set("iterations_in_epoch", Value::integer(end_of_epoch ? 0 : state.iterations_in_epoch));
  it.set("shuffle", Value::boolean(true));
  Value es = Value::dict();
  es.set("train_iterator", it);
  es.set("best", state.has_best ? Value::real(state.best) : Value());
  es.set("w2v_skipped_updates", Value::integer(state.skipped));
  extra.set("extra_state", es);

  const int64_t epoch = state.epoch, updates = state.num_updates;
  std::vector<std::string> names;
  if (end_of_epoch && !c.no_epoch_checkpoints && epoch % c.save_interval == 0)
    names.push_back("checkpoint" + std::to_string(epoch) + c.suffix + ".pt");
  if (!end_of_epoch && c.save_interval_updates > 0 && updates % c.save_interval_updates == 0)
    names.push_back("checkpoint_" + std::to_string(epoch) + "_" + std::to_string(updates) + c.suffix + ".pt");
  if (is_best) names.push_back("checkpoint_best" + c.suffix + ".pt");
  if (!c.no_last_checkpoints) names.push_back("checkpoint_last" + c.suffix + ".pt");
  for (const auto& n : names) ckpt::save_model(c.save_dir + "/" + n, model, extra);

  if (end_of_epoch && c.keep_last_epochs > 0)
    for (int64_t e = epoch - c.keep_last_epochs; e >= 1; --e)
      fs::remove(c.save_dir + "/checkpoint" + std::to_string(e) + c.suffix + ".pt");
  remove_old_update_checkpoints(c.save_dir, c.suffix, c.keep_interval_updates);
}

}  // namespace w2v::train
