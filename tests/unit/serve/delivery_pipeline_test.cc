// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve::DeliveryPipeline without a broker: delivery reports are simulated
// by calling acknowledge() with the opaque a produce would have carried.
#include "serve/delivery_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace streamml::serve {
namespace {

using std::chrono::milliseconds;

const kafka::KafkaError kOk;

// Pushes a batch of `records` input records with `outputs` outputs, all
// tracked (as if produced); returns it.
InFlightBatch& produce_batch(DeliveryPipeline& pipeline, size_t records, size_t outputs, int64_t first_offset) {
  InFlightBatch& batch = pipeline.push(records, outputs);
  for (size_t i = 0; i < outputs; ++i) {
    DeliveryPipeline::track(batch, {&batch, -1, nullptr, 0, first_offset + static_cast<int64_t>(i)});
  }
  batch.offsets = {{"in", 0, first_offset + static_cast<int64_t>(records)}};
  return batch;
}

TEST(DeliveryPipeline, BatchesRetireInOrderOnlyWhenAcknowledged) {
  DeliveryPipeline pipeline;
  InFlightBatch& first = produce_batch(pipeline, 2, 2, 0);
  InFlightBatch& second = produce_batch(pipeline, 1, 1, 2);
  EXPECT_EQ(pipeline.records(), 3u);

  pipeline.acknowledge(&second.outputs[0], kOk);
  EXPECT_TRUE(pipeline.retire().batches.empty()) << "the second batch must wait for the first";
  pipeline.acknowledge(&first.outputs[0], kOk);
  EXPECT_TRUE(pipeline.retire().batches.empty()) << "the first batch has an output without a report";

  pipeline.acknowledge(&first.outputs[1], kOk);
  DeliveryPipeline::Retired retired = pipeline.retire();
  EXPECT_TRUE(retired.failure.empty());
  ASSERT_EQ(retired.batches.size(), 2u);
  EXPECT_EQ(retired.batches[0]->offsets[0].offset, 2);
  EXPECT_EQ(retired.batches[1]->offsets[0].offset, 3);
  EXPECT_TRUE(pipeline.empty());
  EXPECT_EQ(pipeline.records(), 0u);
}

TEST(DeliveryPipeline, AFailedReportStopsRetirementAtThatBatchAndNamesIt) {
  DeliveryPipeline pipeline;
  InFlightBatch& a = produce_batch(pipeline, 1, 1, 0);
  InFlightBatch& b = produce_batch(pipeline, 1, 1, 1);
  InFlightBatch& c = produce_batch(pipeline, 1, 1, 2);
  pipeline.acknowledge(&a.outputs[0], kOk);
  EXPECT_TRUE(pipeline.note_delivery_failure());
  EXPECT_FALSE(pipeline.note_delivery_failure()) << "only the first failure is the first";
  EXPECT_TRUE(pipeline.delivery_failed());
  pipeline.acknowledge(&b.outputs[0], kafka::KafkaError(kafka::kErrMessageTimedOut, "broker gone"));
  pipeline.acknowledge(&c.outputs[0], kOk);

  DeliveryPipeline::Retired retired = pipeline.retire();
  ASSERT_EQ(retired.batches.size(), 1u);
  EXPECT_EQ(retired.batches[0].get(), &a);
  EXPECT_NE(retired.failure.find("broker gone"), std::string::npos) << retired.failure;
  EXPECT_EQ(retired.failure_code, kafka::kErrMessageTimedOut);

  // The failed batch stays at the head, and so does everything after it.
  retired = pipeline.retire();
  EXPECT_TRUE(retired.batches.empty());
  EXPECT_FALSE(retired.failure.empty());
  EXPECT_EQ(pipeline.records(), 2u);
  const auto stuck = pipeline.stuck();
  ASSERT_TRUE(stuck.has_value());
  EXPECT_TRUE(stuck->failed);
  EXPECT_NE(stuck->failure.find("broker gone"), std::string::npos);
}

TEST(DeliveryPipeline, BackPressureBlocksAtMaxInFlightAndReleasesOnAcknowledgement) {
  DeliveryPipeline pipeline;
  const InFlightLimit ten{.records = 10, .bytes = 1 << 20};
  EXPECT_TRUE(pipeline.wait_for_room(/*incoming=*/5, ten, milliseconds(0))) << "empty";
  InFlightBatch& first = produce_batch(pipeline, 5, 1, 0);
  EXPECT_TRUE(pipeline.wait_for_room(5, ten, milliseconds(0))) << "5 + 5 fit in 10";
  produce_batch(pipeline, 1, 0, 5);  // a batch without outputs: acknowledged at once
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pipeline.wait_for_room(5, ten, milliseconds(50))) << "6 + 5 do not fit in 10";
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(40)) << "it waited for an acknowledgement";

  // A waiter is woken by the acknowledgement, long before its timeout.
  std::promise<void> waiting;
  auto waiter = std::async(std::launch::async, [&] {
    waiting.set_value();
    const auto t0 = std::chrono::steady_clock::now();
    const bool room = pipeline.wait_for_room(5, ten, milliseconds(10000));
    return std::make_pair(room, std::chrono::steady_clock::now() - t0);
  });
  waiting.get_future().wait();
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(waiter.wait_for(milliseconds(0)), std::future_status::timeout) << "it must block until acknowledged";
  pipeline.acknowledge(&first.outputs[0], kOk);
  ASSERT_EQ(waiter.wait_for(milliseconds(5000)), std::future_status::ready);
  const auto [room, waited] = waiter.get();
  EXPECT_FALSE(room) << "woken to retire, then ask again";
  EXPECT_LT(waited, milliseconds(5000));

  EXPECT_EQ(pipeline.retire().batches.size(), 2u);
  EXPECT_TRUE(pipeline.wait_for_room(5, ten, milliseconds(0)));
}

TEST(DeliveryPipeline, OutputBytesInFlightAlsoHoldTheNextBatchBack) {
  DeliveryPipeline pipeline;
  const InFlightLimit limit{.records = 100000, .bytes = 1000};
  InFlightBatch& first = produce_batch(pipeline, 2, 2, 0);
  pipeline.add_bytes(first, 600);
  EXPECT_TRUE(pipeline.wait_for_room(5, limit, milliseconds(0))) << "600 of 1000 bytes";
  InFlightBatch& second = produce_batch(pipeline, 1, 1, 2);
  pipeline.add_bytes(second, 500);
  EXPECT_EQ(pipeline.bytes(), 1100u);
  EXPECT_FALSE(pipeline.wait_for_room(5, limit, milliseconds(0))) << "1100 of 1000 bytes, 3 records of 100000";
  pipeline.acknowledge(&first.outputs[0], kOk);
  pipeline.acknowledge(&first.outputs[1], kOk);
  EXPECT_EQ(pipeline.retire().batches.size(), 1u);
  EXPECT_EQ(pipeline.bytes(), 500u) << "the retired batch's bytes left";
  EXPECT_TRUE(pipeline.wait_for_room(5, limit, milliseconds(0)));
}

TEST(DeliveryPipeline, AFailedDeliveryLetsTheLoopGoOnToFailTheService) {
  const InFlightLimit ten{.records = 10, .bytes = 1 << 20};
  DeliveryPipeline pipeline;
  produce_batch(pipeline, 20, 1, 0);
  EXPECT_FALSE(pipeline.wait_for_room(5, ten, milliseconds(0)));
  pipeline.note_delivery_failure();
  EXPECT_TRUE(pipeline.wait_for_room(5, ten, milliseconds(0)));
}

TEST(DeliveryPipeline, ARefusedOutputLeavesTheBatchCount) {
  DeliveryPipeline pipeline;
  InFlightBatch& batch = pipeline.push(2, 2);
  DeliveryPipeline::track(batch, {&batch, -1, nullptr, 0, 0});
  DeliveryPipeline::track(batch, {&batch, -1, nullptr, 0, 1});
  pipeline.refuse(batch, "too large", /*code=*/10, /*fails_batch=*/false);
  EXPECT_EQ(batch.outputs.size(), 1u);
  pipeline.acknowledge(&batch.outputs[0], kOk);
  DeliveryPipeline::Retired retired = pipeline.retire();
  EXPECT_TRUE(retired.failure.empty()) << "a refusal that does not fail the batch is no failure";
  EXPECT_EQ(retired.batches.size(), 1u) << "the refused output must not be awaited";
}

TEST(DeliveryPipeline, ARefusalThatFailsTheBatchStopsRetirementNamingIt) {
  DeliveryPipeline pipeline;
  InFlightBatch& batch = pipeline.push(1, 1);
  DeliveryPipeline::track(batch, {&batch, -1, nullptr, 0, 0});
  pipeline.refuse(batch, "output of in:0@0 refused: not authorized", /*code=*/29, /*fails_batch=*/true);
  DeliveryPipeline::Retired retired = pipeline.retire();
  EXPECT_TRUE(retired.batches.empty());
  EXPECT_EQ(retired.failure, "output of in:0@0 refused: not authorized");
  EXPECT_EQ(retired.failure_code, 29);
}

TEST(DeliveryPipeline, ReportsInFlightOutputsToTheMetrics) {
  ServeMetrics metrics;
  DeliveryPipeline pipeline(&metrics);
  InFlightBatch& batch = produce_batch(pipeline, 3, 3, 0);
  EXPECT_EQ(metrics.in_flight(), 3);
  pipeline.acknowledge(&batch.outputs[0], kOk);
  pipeline.refuse(batch, "too large", 10, false);
  EXPECT_EQ(metrics.in_flight(), 1);
}

TEST(DeliveryPipeline, AFinishedTransactionForgetsOnlyAcknowledgedBatches) {
  DeliveryPipeline pipeline;
  InFlightBatch& waiting = produce_batch(pipeline, 2, 1, 0);
  produce_batch(pipeline, 3, 0, 2);
  EXPECT_FALSE(pipeline.wait_acknowledged(milliseconds(10)));
  pipeline.forget_acknowledged();
  EXPECT_EQ(pipeline.records(), 2u) << "the batch still waiting for a report stays";
  pipeline.acknowledge(&waiting.outputs[0], kafka::KafkaError(kafka::kErrFail, "aborted"));
  EXPECT_TRUE(pipeline.wait_acknowledged(milliseconds(10)));
  pipeline.forget_acknowledged();
  EXPECT_TRUE(pipeline.empty()) << "failed batches of a finished transaction go too";
}

}  // namespace
}  // namespace streamml::serve
