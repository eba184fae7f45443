// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "serve/delivery_pipeline.h"

#include <algorithm>
#include <utility>

namespace streamml::serve {

InFlightBatch& DeliveryPipeline::push(size_t records, size_t num_outputs) {
  // The batch joins the pipeline before its first output is produced: the
  // pipeline owns what the delivery reports point to.
  auto owned = std::make_unique<InFlightBatch>();
  InFlightBatch& batch = *owned;
  batch.records = records;
  batch.outputs.reserve(num_outputs);
  // Every output is counted before the first is produced (reports can come
  // back while the loop still produces); one refused at once gets no report
  // and is taken off again (refuse()).
  batch.unacknowledged = num_outputs;
  if (metrics_ != nullptr) metrics_->add_in_flight(static_cast<int64_t>(num_outputs));
  std::lock_guard lock(mu_);
  records_ += records;
  batches_.push_back(std::move(owned));
  return batch;
}

uint64_t DeliveryPipeline::track(InFlightBatch& batch, const PendingOutput& output) {
  batch.outputs.push_back(output);
  batch.outputs.back().batch = &batch;
  return reinterpret_cast<uint64_t>(&batch.outputs.back());
}

void DeliveryPipeline::add_bytes(InFlightBatch& batch, size_t bytes) {
  std::lock_guard lock(mu_);
  batch.bytes += bytes;
  bytes_ += bytes;
}

void DeliveryPipeline::refuse(InFlightBatch& batch, const std::string& reason, int code, bool fails_batch) {
  batch.outputs.pop_back();
  if (metrics_ != nullptr) metrics_->add_in_flight(-1);
  std::lock_guard lock(mu_);
  if (--batch.unacknowledged == 0) cv_.notify_all();
  if (fails_batch && batch.failure.empty()) {
    batch.failure = reason;
    batch.failure_code = code;
  }
}

void DeliveryPipeline::acknowledge(PendingOutput* output, const kafka::KafkaError& error) {
  if (output == nullptr) return;
  if (metrics_ != nullptr) metrics_->add_in_flight(-1);
  std::lock_guard lock(mu_);
  InFlightBatch& b = *output->batch;
  if (!error.ok() && b.failure.empty()) {
    b.failure = error.message();
    b.failure_code = error.code();
  }
  if (--b.unacknowledged == 0) cv_.notify_all();
}

DeliveryPipeline::Retired DeliveryPipeline::retire() {
  Retired out;
  std::lock_guard lock(mu_);
  while (!batches_.empty() && batches_.front()->unacknowledged == 0) {
    if (!batches_.front()->failure.empty()) {
      out.failure = batches_.front()->failure;
      out.failure_code = batches_.front()->failure_code;
      break;
    }
    records_ -= batches_.front()->records;
    bytes_ -= batches_.front()->bytes;
    out.batches.push_back(std::move(batches_.front()));
    batches_.pop_front();
  }
  return out;
}

bool DeliveryPipeline::wait_for_room(size_t incoming, const InFlightLimit& limit, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (batches_.empty() || (records_ + incoming <= limit.records && bytes_ <= limit.bytes) ||
      delivery_failed_.load()) {
    return true;
  }
  cv_.wait_for(lock, wait, [&] { return batches_.front()->unacknowledged == 0 || delivery_failed_.load(); });
  return false;
}

bool DeliveryPipeline::wait_acknowledged(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return std::all_of(batches_.begin(), batches_.end(), [](const auto& b) { return b->unacknowledged == 0; });
  });
}

void DeliveryPipeline::forget_acknowledged() {
  std::lock_guard lock(mu_);
  std::erase_if(batches_, [&](const auto& b) {
    if (b->unacknowledged > 0) return false;
    records_ -= b->records;
    bytes_ -= b->bytes;
    return true;
  });
}

std::optional<DeliveryPipeline::Stuck> DeliveryPipeline::stuck() const {
  std::lock_guard lock(mu_);
  if (batches_.empty()) return std::nullopt;
  const InFlightBatch& head = *batches_.front();
  return Stuck{!head.failure.empty(), head.failure, head.failure_code};
}

bool DeliveryPipeline::empty() const {
  std::lock_guard lock(mu_);
  return batches_.empty();
}

size_t DeliveryPipeline::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

size_t DeliveryPipeline::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace streamml::serve
