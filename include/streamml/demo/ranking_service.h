// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A minimal serving loop for the ranking service: consume the live topic with
// a consumer group, hand each micro-batch to a serve::Processor, produce its
// outputs to the rankings topic, and commit the input offsets once the
// outputs of everything before them were delivered (at-least-once). Rejected
// inputs are logged (the first few) and counted.
//
// This is the stand-in for serve::Server until it lands: the processor is the
// same object the server takes, so switching is a change of this one call.
//
// Thread-safety: run_ranking_service() blocks its calling thread; `stop` may
// be set from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "streamml/kafka/config.h"
#include "streamml/serve/processor.h"

namespace streamml::demo {

struct RankingServiceOptions {
  std::string input_topic;                        // live telemetry topic
  std::string output_topic;                       // rankings topic
  std::string group = "streamml-race-ranking";    // consumer group of the service
  size_t max_batch = 512;                         // records per micro-batch (>= 1)
  int64_t poll_timeout_ms = 5;                    // how long a micro-batch waits for records (>= 1)
  int64_t commit_interval_ms = 500;               // how often delivered inputs are committed (>= 1)
  int64_t idle_timeout_ms = -1;                   // stop after this long without input (-1: never)
};

struct RankingServiceStats {
  uint64_t inputs = 0;    // records consumed
  uint64_t outputs = 0;   // rankings delivered
  uint64_t rejected = 0;  // inputs the processor rejected
  uint64_t batches = 0;   // micro-batches processed
};

// Runs until `stop` is set (or the idle timeout). `ready`, when given, turns
// true once the group assigned the input partitions (so a producer can wait
// for it before streaming). Throws ConfigError for bad options,
// KafkaException when output cannot be delivered, and what the processor
// throws.
RankingServiceStats run_ranking_service(const kafka::Config& config, serve::Processor& processor,
                                        const RankingServiceOptions& options, const std::atomic<bool>& stop,
                                        std::atomic<bool>* ready = nullptr);

}  // namespace streamml::demo
