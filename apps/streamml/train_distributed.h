// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml train's many-process mode (docs/training.md, "Many processes"):
// --world-size N --rank R --rendezvous HOST:PORT, or torchrun's WORLD_SIZE,
// RANK, MASTER_ADDR and MASTER_PORT. cmd_train.cc calls these at a few
// points; everything distributed about the command lives here.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "ml_common.h"
#include "streamml/kafka/config.h"
#include "streamml/model/model.h"
#include "streamml/train/distributed.h"
#include "streamml/train/metrics.h"

namespace streamml::cli {

struct DistributedFlags {
  int world_size = 0;      // 0: WORLD_SIZE, else one process
  int rank = -1;           // -1: RANK
  std::string rendezvous;  // "": MASTER_ADDR:MASTER_PORT, else 127.0.0.1:29500
  double timeout_s = 60;   // a collective waits this long for the other ranks
};

// Adds --world-size, --rank, --rendezvous and --dist-timeout.
void add_distributed_options(CLI::App& app, DistributedFlags& flags);

// This process's rank of a many-process run.
class DistributedRun {
 public:
  // Joins the group when the flags or torchrun's variables ask for more
  // than one process; nullptr for one process. ConfigError for bad values
  // (naming the flag or variable), DistributedError when the ranks do not
  // all join.
  static std::unique_ptr<DistributedRun> join(const DistributedFlags& flags);

  train::ProcessGroup& group() { return group_; }
  int rank() const { return group_.rank(); }
  // Rank 0 writes the model file; the other ranks write none.
  bool writes_model() const { return group_.rank() == 0; }

  // Bounded: replaces input.topics by this rank's share of the resolved
  // ranges (train::split_ranges), and takes its share of a Kafka
  // --validation spec for open_validation(). Files are refused as training
  // input: they are not split.
  void take_share(InputOptions& input, const std::string& validation, const kafka::Config& config);
  // cli::open_validation, over this rank's share of a Kafka spec (a file is
  // read whole by every rank: its reduced metrics are the file's).
  std::unique_ptr<data::BatchSource> open_validation(const std::string& spec, const std::string& decoder_spec,
                                                     const InputOptions& like, const kafka::Config& config,
                                                     data::RecordCheck check) const;
  // Every rank trains rank 0's model.
  void share_model(model::Model& model) { group_.broadcast_model(model); }
  // Adds rank, world_size, weights_l2 (equal on every rank when the
  // weights are) and the gradient all-reduce time to a run's summary.
  void add_summary(train::Metrics& summary, model::Model& model) const;

 private:
  explicit DistributedRun(train::DistributedOptions options) : group_(std::move(options)) {}
  train::ProcessGroup group_;
  std::vector<std::string> validation_topics_;  // this rank's share of a Kafka --validation spec
};

}  // namespace streamml::cli
