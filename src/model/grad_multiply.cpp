#include "model/grad_multiply.h"

namespace w2v::model {
namespace {

struct GradMultiply : torch::autograd::Function<GradMultiply> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double scale) {
    ctx->saved_data["scale"] = scale;
    return x.clone();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    return {grad[0] * ctx->saved_data["scale"].toDouble(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor grad_multiply(const torch::Tensor& x, double scale) { return GradMultiply::apply(x, scale); }

}  // namespace w2v::model
