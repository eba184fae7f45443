// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Built against an installed streamml (scripts/install_test.sh): produces
// three CSV records to an embedded cluster (or the broker in
// STREAMML_TEST_BOOTSTRAP), reads them back as a bounded range with
// KafkaDataset, and exits 0 when the rows come back in order.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"

int main() {
  const char* external = std::getenv("STREAMML_TEST_BOOTSTRAP");
  std::unique_ptr<streamml::kafka::EmbeddedCluster> cluster;
  if (external == nullptr) cluster = std::make_unique<streamml::kafka::EmbeddedCluster>();
  streamml::kafka::Config config;
  config.set("bootstrap.servers", cluster ? cluster->bootstrap_servers() : std::string(external));
  const std::string topic = "install-test-" + std::to_string(::getpid());
  streamml::kafka::Admin(config).create_topics({{.name = topic, .partitions = 1}});

  streamml::kafka::Producer producer(config);
  for (const char* line : {"1,2,3", "4,5,6", "7,8,9"}) {
    if (!producer.produce({.topic = topic, .partition = 0, .value = line}).ok()) return 1;
  }
  if (!producer.flush().ok()) return 1;

  streamml::data::KafkaDatasetOptions options;
  options.config = config;
  options.ranges = {topic + ":0"};
  options.decoder = "csv:names=a+b+y,label=y";
  streamml::data::KafkaDataset dataset(options);
  size_t rows = 0;
  float first = 0.0f;
  while (auto batch = dataset.next()) {
    if (rows == 0 && !batch->empty()) first = batch->row(0)[0];
    rows += batch->size;
  }
  std::printf("read %zu rows from %s:0, first feature %.0f\n", rows, topic.c_str(), first);
  return rows == 3 && first == 1.0f ? 0 : 1;
}
