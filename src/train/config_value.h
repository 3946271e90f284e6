// The effective config as a checkpoint Value tree (the `cfg` dict fairseq stores), typed by
// the schema: ints stay ints, lists lists, adam_betas keeps fairseq's "(0.9,0.98)" string.
#pragma once

#include <string>

#include "checkpoint/value.h"
#include "config/config.h"

namespace w2v::train {

// One section ("model") as a dict with its `_name`.
ckpt::Value config_section(const config::Config& cfg, const std::string& section);
// Every section.
ckpt::Value config_tree(const config::Config& cfg);

}  // namespace w2v::train
