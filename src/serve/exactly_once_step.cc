// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/exactly_once_step.h"

#include <chrono>
#include <map>
#include <utility>

#include "streamml/common/logging.h"

namespace streamml::serve {
namespace {

// How long a transactional call (sending offsets, commit, abort) may take in
// all, calling it again while it fails with a retriable error
// (kafka::Producer): librdkafka's default transaction.timeout.ms, after which
// the coordinator aborts the transaction anyway.
constexpr auto kTransactionTimeout = std::chrono::seconds(60);

}  // namespace

ExactlyOnceStep::ExactlyOnceStep(kafka::Producer& producer, kafka::Consumer& consumer,
                                 data::DeadLetterProducer* dead_letters, DeliveryPipeline& pipeline,
                                 std::string transactional_id, CommitFailed commit_failed)
    : producer_(producer),
      consumer_(consumer),
      dead_letters_(dead_letters),
      pipeline_(pipeline),
      transactional_id_(std::move(transactional_id)),
      commit_failed_(std::move(commit_failed)) {}

std::optional<std::vector<kafka::TopicPartitionOffset>> ExactlyOnceStep::run(const std::vector<kafka::Message>& msgs,
                                                                             const ServeBatch& serve) {
  const int64_t failed_before = producer_.failed_count();
  producer_.begin_transaction();
  try {
    const std::vector<kafka::TopicPartitionOffset> offsets = serve();
    if (dead_letters_ != nullptr) dead_letters_->flush();
    producer_.send_offsets_to_transaction(offsets, consumer_, kTransactionTimeout);
    producer_.commit_transaction(kTransactionTimeout);  // flushes: every output was acknowledged
    if (producer_.failed_count() > failed_before) {
      throw kafka::KafkaException(kafka::kErrFail, "outputs failed inside a committed transaction");
    }
    forget_pipeline();
    if (!offsets_checked_) {
      offsets_checked_ = true;
      plain_commits_ = !consumer_.stores_transactional_offsets(offsets);
    }
    if (plain_commits_) {
      // librdkafka's mock cluster acknowledges TxnOffsetCommit without
      // storing the offsets: store them with a plain commit there (the
      // transaction already committed the outputs).
      if (auto err = consumer_.commit(offsets, /*async=*/true)) commit_failed_("commit", err);
    }
    return offsets;
  } catch (const kafka::KafkaException& e) {
    if (const kafka::KafkaError fatal = producer_.fatal_error()) {
      log_error("serve: transactional producer '{}' failed (fenced by a newer instance?): {}", transactional_id_,
                fatal.message());
      throw;
    }
    if (dynamic_cast<const OutputRefused*>(&e) != nullptr) {
      // Serving the batch again would meet the same refusal: stop.
      log_error("serve: aborting the transaction of a {}-record batch and stopping: {}", msgs.size(), e.what());
      producer_.abort_transaction(kTransactionTimeout);
      producer_.flush();
      forget_pipeline();
      throw;
    }
    if (const auto* txn = dynamic_cast<const kafka::TransactionError*>(&e); txn != nullptr && txn->retriable()) {
      // Still retriable after kTransactionTimeout: the call is in progress,
      // so the transaction cannot be aborted either.
      throw kafka::KafkaException(e.code(), std::string("the transaction of a ") + std::to_string(msgs.size()) +
                                                "-record batch did not finish within " +
                                                std::to_string(kTransactionTimeout.count()) + " s: " + e.what());
    }
    log_warn("serve: aborting the transaction of a {}-record batch: {}", msgs.size(), e.what());
    producer_.abort_transaction(kTransactionTimeout);
    producer_.flush();  // serves the reports of the purged outputs
    forget_pipeline();
    rewind(msgs);
    return std::nullopt;
  }
}

void ExactlyOnceStep::forget_pipeline() {
  // Every delivery report was served (commit and abort flush); the poll
  // thread may still be finishing the last callback.
  pipeline_.wait_acknowledged(std::chrono::seconds(5));
  pipeline_.forget_acknowledged();
}

void ExactlyOnceStep::rewind(const std::vector<kafka::Message>& msgs) {
  std::map<kafka::TopicPartition, int64_t> first;
  for (const auto& m : msgs) first.try_emplace({m.topic(), m.partition()}, m.offset());
  for (const auto& [tp, off] : first) {
    if (auto err = consumer_.seek({tp.topic, tp.partition, off})) {
      throw kafka::KafkaException(err.code(), "rewinding " + tp.topic + ":" + std::to_string(tp.partition) +
                                                  " after an aborted transaction: " + err.message());
    }
  }
}

}  // namespace streamml::serve
