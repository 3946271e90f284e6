// Identity in the forward pass whose backward multiplies the gradient by `scale` (fairseq
// GradMultiply): lets feature_grad_mult damp the feature encoder's updates.
#pragma once

#include <torch/csrc/autograd/custom_function.h>

namespace w2v::model {

torch::Tensor grad_multiply(const torch::Tensor& x, double scale);

}  // namespace w2v::model
