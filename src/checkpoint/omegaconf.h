// fairseq checkpoints saved between 2020-10 and 2021-03 pickle their hydra `cfg` as omegaconf
// objects (DictConfig/ListConfig holding value nodes, each with a `_parent` back-reference);
// later fairseq saves OmegaConf.to_container(cfg), plain dicts. plain_omegaconf turns the
// former into the latter, so both read the same way. Nothing of omegaconf is executed.
#pragma once

#include "checkpoint/value.h"

namespace w2v::ckpt {

// `root` with every omegaconf container replaced by the dict/list it holds and every value node
// by its value (an enum by its value); `_parent` links are dropped. Containers without omegaconf
// objects below them are returned as they are (shared, not copied). Cycles and nesting deeper
// than 1000 levels are left in place for check_tree to report. Consumes root's omegaconf
// objects: they, and what only they reach, are emptied so that their cycles free.
Value plain_omegaconf(const Value& root);

}  // namespace w2v::ckpt
