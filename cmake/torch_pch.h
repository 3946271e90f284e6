// Precompiled header shared by every target that uses LibTorch (see CMakeLists.txt).
#pragma once
#include <torch/torch.h>
