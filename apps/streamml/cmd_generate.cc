// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// streamml generate: a synthetic concept-drift stream (SEA concepts or a
// rotating hyperplane, data/concept_stream.h) as CSV lines "f1,...,label",
// to a topic (-t) or to stdout. Records go to one partition (0 unless -p), so
// a record's offset is its number in the stream and --drift-at names offsets.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>

#include "cli_common.h"
#include "command.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/concept_stream.h"
#include "streamml/kafka/producer.h"

namespace streamml::cli {
namespace {

struct GenerateOptions {
  KafkaOptions kafka;
  std::string kind;
  std::string topic;
  int partition = 0;
  int64_t records = 10000;
  std::vector<int64_t> drift_at;
  uint64_t seed = 1;
  double noise = 0.0;
  std::vector<int> concepts;
  int features = 3;
  double magnitude = 0.0;
};

int run(GenerateOptions& o) {
  data::ConceptStreamOptions options;
  options.kind = data::parse_concept_stream(o.kind);
  options.seed = o.seed;
  options.drift_at = o.drift_at;
  options.noise = o.noise;
  if (!o.concepts.empty()) options.sea_concepts = o.concepts;
  options.hyperplane_features = o.features;
  options.hyperplane_magnitude = o.magnitude;
  if (options.kind == data::ConceptStreamKind::kSea && o.features != 3) {
    throw ConfigError("--features is for hyperplane: SEA has 3 features");
  }
  try {
    options.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("--drift-at/--noise/--concepts/--features/--magnitude: ") + e.what());
  }
  data::ConceptStream stream(options);
  if (o.topic.empty()) {
    for (int64_t i = 0; i < o.records; ++i) std::printf("%s\n", stream.next_csv().c_str());
    return kExitOk;
  }
  if (o.kafka.brokers.empty()) throw ConfigError("-t TOPIC needs -b BROKERS");
  kafka::Config config = o.kafka.make_config();
  int64_t failures_reported = 0;
  kafka::Producer producer(config, [&](const kafka::DeliveryReport& r) {
    if (!r.error.ok() && failures_reported++ < 10) {
      log_error("record {} to {} not delivered: {}", r.opaque, o.topic, r.error.message());
    }
  });
  for (int64_t i = 0; i < o.records; ++i) {
    const std::string line = stream.next_csv();
    kafka::ProduceRecord record;
    record.topic = o.topic;
    record.partition = o.partition;
    record.value = line;
    record.opaque = static_cast<uint64_t>(i);
    // produce() waits while the local queue is full.
    kafka::KafkaError err = producer.produce(record);
    if (!err.ok()) throw kafka::KafkaException(err.code(), fmt::format("producing record {}: {}", i, err.message()));
    producer.poll();
  }
  kafka::FlushResult flushed = producer.flush(std::max(o.kafka.timeout(), kafka::kDefaultFlushTimeout));
  const int64_t delivered = producer.delivered_count();
  std::fprintf(stderr, "delivered %lld of %lld %s record(s) to %s [%d]%s\n", static_cast<long long>(delivered),
              static_cast<long long>(o.records), o.kind.c_str(), o.topic.c_str(), o.partition,
              o.drift_at.empty() ? "" : fmt::format(", drifts at {}", fmt::join(o.drift_at, ",")).c_str());
  if (!flushed.ok() || delivered != o.records) {
    std::fprintf(stderr, "streamml: error: %lld record(s) not delivered\n",
                 static_cast<long long>(o.records - delivered));
    return kExitFailure;
  }
  return kExitOk;
}

RunFunction setup(CLI::App& sub) {
  auto o = std::make_shared<GenerateOptions>();
  o->kafka.add_to(sub, /*brokers_required=*/false);
  sub.add_option("generator", o->kind, "sea or hyperplane")->required();
  sub.add_option("-t,--topic", o->topic, "Topic to write to (default: print to stdout)");
  sub.add_option("-p,--partition", o->partition, "Partition of every record")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--records", o->records, "Records to generate")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--drift-at", o->drift_at, "Record numbers where a new concept starts (comma-separated)")
      ->delimiter(',');
  sub.add_option("--seed", o->seed, "Random seed")->capture_default_str();
  sub.add_option("--noise", o->noise, "Probability of a flipped label")->capture_default_str();
  sub.add_option("--concepts", o->concepts,
                 "SEA: concepts of the segments, cycled (0..3: theta 8, 9, 7, 9.5; "
                 "default 0,1,2,3)")
      ->delimiter(',');
  sub.add_option("--features", o->features, "Hyperplane: features")->capture_default_str();
  sub.add_option("--magnitude", o->magnitude, "Hyperplane: weight change per record (incremental drift)")
      ->capture_default_str();
  set_examples(sub, {"streamml generate sea --records 1000",
                     "streamml generate hyperplane -b localhost:9092 -t stream --records 100000 --drift-at 50000"});
  return [o] { return run(*o); };
}

}  // namespace

STREAMML_REGISTER_COMMAND("generate", "Write a synthetic concept-drift stream (SEA, rotating hyperplane) as CSV", 35,
                          setup);

}  // namespace streamml::cli
