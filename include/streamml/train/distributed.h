// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Distributed data-parallel training on LibTorch's c10d with the Gloo
// backend: N processes ("ranks") train one model, each on its own share of
// the records.
//
//   rank 0 hosts the rendezvous (a c10d TCPStore at host:port); every rank
//     joins one ProcessGroupGloo;
//   broadcast_model() gives every rank rank 0's model (weights, feature
//     statistics, optimizer state, offsets, metadata);
//   Trainer::set_process_group() makes every optimizer step collective:
//     each rank computes the gradient of the summed loss of its batch (or
//     zero gradients when it has no batch this step), the gradients are
//     summed across ranks in a few flat buckets (not one call per
//     parameter) together with the record counts, divided by the total
//     record count, and every rank takes the same optimizer step. The step
//     equals one step of a single process on the union of the ranks'
//     batches; the weights stay equal on every rank (up to float rounding,
//     which is the same everywhere: the summed buffers are identical).
//
// A rank that dies or stops answering makes every collective of the others
// fail within `timeout` with a DistributedError naming the rank that is gone
// (found by asking the rendezvous store which ranks still answer), never a
// hang.
//
// Joining a group ignores SIGPIPE when nothing handles it (as Python does):
// a write to a rank that is gone must be an error, not kill this one.
//
// LibTorch types stay in the implementation (src/train/distributed*.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streamml/common/error.h"
#include "streamml/kafka/range_spec.h"
#include "streamml/kafka/types.h"

namespace streamml::model {
class Model;
}  // namespace streamml::model

namespace streamml::train {

// A collective failed: a rank died, stopped answering, or never joined.
class DistributedError : public Error {
 public:
  using Error::Error;
};

struct DistributedOptions {
  int world_size = 1;                      // ranks in all (>= 1)
  int rank = 0;                            // this process, in [0, world_size)
  std::string host = "127.0.0.1";          // rendezvous host: rank 0 listens there, the others connect
  uint16_t port = 29500;                   // rendezvous port (torchrun's MASTER_PORT default)
  std::chrono::milliseconds timeout{60000};  // a collective or the rendezvous waits this long at most
  size_t bucket_bytes = 4u << 20;          // gradients are summed in flat buckets of at most this size

  // Throws ConfigError naming the invalid field.
  void validate() const;
  // "host:port"
  std::string rendezvous() const;
};

// Parses "HOST:PORT" (--rendezvous); throws ConfigError naming `flag`.
void parse_rendezvous(const std::string& text, DistributedOptions& options, const std::string& flag = "--rendezvous");

// What the collectives cost so far (bench/train_distributed_bench).
struct CollectiveStats {
  int64_t gradient_reductions = 0;  // collective optimizer steps
  double gradient_seconds = 0.0;    // wall time in their all-reduces
  int64_t gradient_bytes = 0;       // bytes summed (per rank)
  int64_t buckets = 0;              // all-reduce calls for gradients
};

// One rank's membership of the group. Not thread-safe: one thread of each
// process calls the collectives, in the same order on every rank.
class ProcessGroup {
 public:
  // Joins the group (rank 0 first starts the rendezvous store). Throws
  // ConfigError for invalid options, DistributedError when the ranks do not
  // all join within the timeout.
  explicit ProcessGroup(DistributedOptions options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  const DistributedOptions& options() const;

  // Replaces `model` on every rank but 0 by rank 0's, whole (weights,
  // feature statistics, optimizer state, offsets, metadata).
  void broadcast_model(model::Model& model);
  // Element-wise sum over the ranks (every rank passes as many values).
  std::vector<double> all_reduce_sum(const std::vector<double>& values, const std::string& what);
  // Every rank's `text`, by rank.
  std::vector<std::string> all_gather(const std::string& text, const std::string& what);
  // Returns when every rank got here.
  void barrier(const std::string& what);

  CollectiveStats stats() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Bounded ranges: rank `rank`'s share of `ranges`. Each range is cut into
// `world_size` contiguous pieces whose sizes differ by one record at most;
// rank r gets piece r of every range (empty pieces are left out). The shares
// are disjoint and together hold every record exactly once; the split
// depends only on the ranges, so every rank computes the same one.
std::vector<kafka::ResolvedRange> split_ranges(const std::vector<kafka::ResolvedRange>& ranges, int rank,
                                               int world_size);

// Merges every rank's offsets (gathered at an online checkpoint): per
// topic-partition the furthest one.
std::vector<kafka::TopicPartitionOffset> merge_offsets(
    const std::vector<std::vector<kafka::TopicPartitionOffset>>& per_rank);

// The L2 norm of all the weights of `model`: a fingerprint that the ranks
// print, equal on every rank when the weights are.
double weights_l2(model::Model& model);

// "t:0:12 t:1:40" and back (throws Error for malformed text).
std::string offsets_to_text(const std::vector<kafka::TopicPartitionOffset>& offsets);
std::vector<kafka::TopicPartitionOffset> offsets_from_text(const std::string& text);

}  // namespace streamml::train
