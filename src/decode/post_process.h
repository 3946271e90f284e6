// decode's names for the unit post-processing of eval/post_process.h (one implementation,
// shared with training's validation WER, which cannot depend on decode).
#pragma once

#include "eval/post_process.h"

namespace w2v::decode {

using eval::parse_post_process;
using eval::post_process;
using eval::PostProcess;
using eval::spell_unit;

}  // namespace w2v::decode
