#include "model/gelu.h"

namespace w2v::model {
namespace {

struct Gelu : torch::autograd::Function<Gelu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return at::gelu(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    auto x = ctx->get_saved_variables()[0];
    return {at::gelu_backward(grad[0].contiguous(), x.contiguous())};
  }
};

}  // namespace

torch::Tensor gelu(const torch::Tensor& x) {
  // Without autograd the stock kernel is both correct and cheaper.
  if (!x.requires_grad() || !torch::GradMode::is_enabled()) return at::gelu(x);
  return Gelu::apply(x);
}

}  // namespace w2v::model
