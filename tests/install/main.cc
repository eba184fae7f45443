// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Built against an installed streamml (scripts/install_test.sh): produces
// three CSV records to an embedded cluster, reads them back as a bounded
// range with KafkaDataset, and exits 0 when the rows come back in order.
#include <cstdio>

#include "streamml/data/kafka_dataset.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/producer.h"

int main() {
  streamml::kafka::EmbeddedCluster cluster;
  cluster.create_topic("points", 1);
  streamml::kafka::Config config;
  config.set("bootstrap.servers", cluster.bootstrap_servers());

  streamml::kafka::Producer producer(config);
  for (const char* line : {"1,2,3", "4,5,6", "7,8,9"}) {
    if (!producer.produce({.topic = "points", .partition = 0, .value = line}).ok()) return 1;
  }
  if (!producer.flush().ok()) return 1;

  streamml::data::KafkaDatasetOptions options;
  options.config = config;
  options.ranges = {"points:0"};
  options.decoder = "csv:names=a+b+y,label=y";
  streamml::data::KafkaDataset dataset(options);
  size_t rows = 0;
  float first = 0.0f;
  while (auto batch = dataset.next()) {
    if (rows == 0 && !batch->empty()) first = batch->row(0)[0];
    rows += batch->size;
  }
  std::printf("read %zu rows from points:0, first feature %.0f\n", rows, first);
  return rows == 3 && first == 1.0f ? 0 : 1;
}
