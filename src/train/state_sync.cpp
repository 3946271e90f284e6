#include "train/state_sync.h"

namespace w2v::train {

void broadcast_training_state(Distributed& dist, const std::vector<torch::Tensor>& model_tensors, Adam& adam,
                              std::vector<double>& counters) {
  torch::NoGradGuard no_grad;
  auto& st = adam.state();
  // First which parameters have Adam state on rank 0, with the counters.
  std::vector<double> head = counters;
  for (const auto& s : st) head.push_back(s.exp_avg.defined() ? static_cast<double>(s.step) : -1.0);
  std::vector<torch::Tensor> h{torch::tensor(head, torch::kDouble)};
  dist.broadcast_from_rank0(h);
  const auto got = h[0].contiguous();
  const double* g = got.data_ptr<double>();
  for (size_t i = 0; i < counters.size(); ++i) counters[i] = g[i];
  std::vector<torch::Tensor> tensors(model_tensors.begin(), model_tensors.end());
  for (size_t i = 0; i < st.size(); ++i) {
    const double step = g[counters.size() + i];
    if (step < 0) {
      st[i] = Adam::State{};
      continue;
    }
    st[i].step = static_cast<int64_t>(step);
    if (!st[i].exp_avg.defined()) {
      st[i].exp_avg = torch::zeros_like(adam.params()[i]);
      st[i].exp_avg_sq = torch::zeros_like(adam.params()[i]);
    }
    tensors.push_back(st[i].exp_avg);
    tensors.push_back(st[i].exp_avg_sq);
  }
  dist.broadcast_from_rank0(tensors);
}

}  // namespace w2v::train
