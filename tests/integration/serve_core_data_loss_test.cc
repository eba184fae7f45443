// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// serve after records were removed by retention before it served them (the
// group's committed offset is below the log start): the loss is counted in
// stats() and /metrics text and serving goes on from the log start, or, with
// DataLossPolicy::kFail, run() stops naming the records. Relies on the
// embedded cluster's ~5 MiB retention per partition.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "streamml/kafka/consumer.h"
#include "streamml/serve/server.h"
#include "serve_core_support.h"
#include "support/test_kafka.h"

namespace streamml::serve {
namespace {

using namespace std::chrono_literals;
using testing::ServingThread;
using testing::TestKafka;
using testing::wait_for;

class EchoProcessor : public Processor {
 public:
  std::string decoder_spec() const override { return ""; }
  void process(const data::Batch& batch, std::vector<ProcessResult>& results) override {
    for (size_t i = 0; i < batch.size; ++i) results.push_back({OutputRecord{std::nullopt, "ok", {}}, ""});
  }
  std::string version() const override { return "v1"; }
};

std::unique_ptr<Processor> echo() { return std::make_unique<EchoProcessor>(); }

class ServeDataLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TestKafka::get().embedded() == nullptr) GTEST_SKIP() << "relies on the embedded cluster's ~5 MiB retention";
    input_ = TestKafka::get().create_topic("serve-loss-in", 1);
    output_ = TestKafka::get().create_topic("serve-loss-out", 1);
    testing::produce_to(input_, 0, {"a", "b", "c"});
    // 8 MiB after them: more than a partition keeps, so the log start moves
    // past offset 3.
    testing::produce_to(input_, 0, std::vector<std::string>(1024, std::string(8 * 1024, 'r')));
    log_start_ = testing::watermarks(input_, 0).low;
    ASSERT_GT(log_start_, 3);
  }

  // A group whose committed offset (3) is below the log start.
  std::string group_behind(const std::string& name) {
    const std::string group = TestKafka::get().unique_name(name);
    kafka::Config config = TestKafka::get().consumer_config();
    config.set("group.id", group);
    kafka::Consumer consumer(config);
    consumer.assign({{input_, 0, 0}});
    EXPECT_TRUE(consumer.commit({{input_, 0, 3}}).ok());
    return group;
  }

  ServerOptions options(const std::string& group, kafka::DataLossPolicy policy) {
    ServerOptions o;
    o.input_topics = {input_};
    o.output_topic = output_;
    o.group = group;
    o.metrics_interval_ms = 100;
    o.on_data_loss = policy;
    o.kafka = TestKafka::get().config();
    return o;
  }

  std::string input_, output_;
  int64_t log_start_ = 0;
};

TEST_F(ServeDataLossTest, RecordsRemovedBeforeTheyWereServedAreCountedAndServingGoesOn) {
  ServingThread serving(options(group_behind("serve-loss"), kafka::DataLossPolicy::kReport), echo);
  const uint64_t lost = static_cast<uint64_t>(log_start_ - 3);
  ASSERT_TRUE(wait_for([&] { return serving.server().stats().lost_records == lost || serving.finished(); }, 60s))
      << "lost " << serving.server().stats().lost_records << ", expected " << lost << "; " << serving.error();
  EXPECT_NE(serving.server().metrics_text().find("streamml_serve_lost_records_total " + std::to_string(lost)),
            std::string::npos)
      << serving.server().metrics_text();
  // It serves on from the log start: every record still in the log.
  const int64_t high = testing::watermarks(input_, 0).high;
  EXPECT_TRUE(wait_for(
      [&] { return serving.server().stats().records_out >= static_cast<uint64_t>(high - log_start_); }, 60s))
      << serving.server().stats().records_out << " of " << high - log_start_;
  serving.stop();
  EXPECT_EQ(serving.error(), "");
}

TEST_F(ServeDataLossTest, UnderTheFailPolicyServingStopsNamingTheLostRecords) {
  ServingThread serving(options(group_behind("serve-loss-fail"), kafka::DataLossPolicy::kFail), echo);
  ASSERT_TRUE(wait_for([&] { return serving.finished(); }, 60s)) << "still serving";
  const std::string lost = "records 3.." + std::to_string(log_start_ - 1) + " of " + input_ + ":0";
  EXPECT_NE(serving.error().find(lost), std::string::npos) << serving.error();
  EXPECT_EQ(serving.server().stats().records_out, 0u);
}

}  // namespace
}  // namespace streamml::serve
