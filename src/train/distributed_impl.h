// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// ProcessGroup's LibTorch side, for the trainer: the bucketed gradient
// all-reduce.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "streamml/train/distributed.h"

namespace streamml::train::detail {

// Sums `grads` (float tensors, summed in place) and `control` (a double
// tensor of a few counters) over the ranks: the gradients go in flat
// buckets of at most options().bucket_bytes, all launched before any is
// waited for. Throws DistributedError naming the step and the rank gone.
void all_reduce_gradients(ProcessGroup& group, std::vector<torch::Tensor>& grads, torch::Tensor& control,
                          int64_t step);

}  // namespace streamml::train::detail
