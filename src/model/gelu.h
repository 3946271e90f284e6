// Exact (erf) GELU whose backward is correct for any gradient layout. LibTorch 1.13 as
// packaged by Debian computes a wrong input gradient when the incoming gradient is not
// contiguous (e.g. after the transposes that follow the conv blocks and pos_conv); this
// function makes the gradient contiguous before calling the stock kernel.
#pragma once

#include <torch/csrc/autograd/custom_function.h>

namespace w2v::model {

torch::Tensor gelu(const torch::Tensor& x);

}  // namespace w2v::model
