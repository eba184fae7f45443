// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// Training, evaluation, prediction and online learning on Kafka streams,
// through the library and the `streamml` CLI (run as child processes), and
// OutputSequence write-back, against the embedded cluster or
// STREAMML_TEST_BOOTSTRAP.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "streamml/common/error.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/data/output_sequence.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/producer.h"
#include "streamml/model/model.h"
#include "streamml/train/kafka_callbacks.h"
#include "streamml/train/online_trainer.h"
#include "streamml/train/trainer.h"
#include "support/cli_json.h"
#include "support/test_kafka.h"

extern char** environ;

namespace streamml::train {
namespace {

using testing::json_value;

using testing::TestKafka;
using namespace std::chrono_literals;

struct Record {
  std::string key;
  std::string value;
};

void produce(const std::string& topic, const std::vector<Record>& records, int partition = -1) {
  kafka::Producer producer(TestKafka::get().config());
  for (const Record& r : records) {
    kafka::ProduceRecord p;
    p.topic = topic;
    p.partition = partition;
    if (!r.key.empty()) p.key = std::string_view(r.key);
    p.value = r.value;
    ASSERT_TRUE(producer.produce(p).ok());
  }
  ASSERT_TRUE(producer.flush().ok());
}

// A consumed record, copied (a consumer cannot be destroyed while its
// messages live).
struct Consumed {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value_;
  kafka::Headers headers_;
  std::string_view value() const { return value_; }
  const kafka::Headers& headers() const { return headers_; }
};

Consumed copy(const kafka::Message& m) {
  return Consumed{m.partition(), m.offset(), std::string(m.key()), std::string(m.value()), m.headers()};
}

// Every record of every partition of `topic`, per partition in offset order;
// waits until `expected` records arrived (or 30 s).
std::map<int32_t, std::vector<Consumed>> read_topic(const std::string& topic, size_t expected) {
  kafka::Config config = TestKafka::get().config();
  kafka::Consumer consumer(config);
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (int32_t p : consumer.partitions_of(topic)) assignment.push_back({topic, p, kafka::kOffsetBeginning});
  consumer.assign(assignment);
  std::map<int32_t, std::vector<Consumed>> out;
  size_t count = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (count < expected && std::chrono::steady_clock::now() < deadline) {
    for (auto& m : consumer.poll_batch(1000, 100ms)) {
      if (m.error()) continue;
      ++count;
      out[m.partition()].push_back(copy(m));
    }
  }
  // Nothing beyond what was expected.
  for (auto& m : consumer.poll_batch(1000, 300ms)) {
    if (!m.error()) out[m.partition()].push_back(copy(m));
  }
  return out;
}

std::string header(const Consumed& m, const std::string& name) {
  for (const auto& h : m.headers()) {
    if (h.name == name) return h.value.value_or("<null>");
  }
  return "<missing>";
}

// Learnable synthetic tasks over two features in [-1, 1].
enum class Synthetic { kBinary, kMulticlass, kRegression };

std::vector<Record> synthetic(Synthetic kind, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    float a = u(rng), b = u(rng);
    float y = 0;
    switch (kind) {
      case Synthetic::kBinary: y = a + b > 0 ? 1.0f : 0.0f; break;
      case Synthetic::kMulticlass: y = a < -0.33f ? 0.0f : (a < 0.33f ? 1.0f : 2.0f); break;
      case Synthetic::kRegression: y = 2.0f * a - 3.0f * b + 0.5f; break;
    }
    out.push_back({"k" + std::to_string(i % 17), fmt::format("{},{},{}", a, b, y)});
  }
  return out;
}

constexpr const char* kDecode = "csv:names=a+b+y,label=y";

using streamml::testing::TempDir;

// Runs the CLI; stdout into `out`, stderr into `err`; returns the exit code.
int cli(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
  std::string err_file = std::filesystem::temp_directory_path() / TestKafka::get().unique_name("stderr");
  int code = testing::run_command(testing::cli_path() + " " + args + " 2>" + err_file, out);
  std::ifstream in(err_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (err != nullptr) *err = text;
  if (code != 0) std::cerr << "streamml " << args << " -> exit " << code << "\n" << text;
  std::filesystem::remove(err_file);
  return code;
}

std::string broker() { return "-b " + TestKafka::get().bootstrap(); }

// --- OutputSequence -------------------------------------------------------------

TEST(OutputSequence, ShuffledSetsAreProducedInIndexOrderWithKeysHeadersAndNulBytes) {
  const std::string topic = TestKafka::get().create_topic("outseq", 2);
  data::OutputSequenceOptions options;
  options.config = TestKafka::get().config();
  options.topic = topic;
  options.partition = 1;
  data::OutputSequence sequence(options);
  const int n = 200;
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (int i : order) {
    data::OutputItem item;
    item.value = std::string("v") + std::to_string(i) + std::string("\0x\0", 3);
    item.key = std::string("k\0", 2) + std::to_string(i);
    item.headers = {{"index", std::to_string(i)}};
    sequence.set(i, std::move(item));
  }
  data::OutputFlushResult result = sequence.flush();
  EXPECT_EQ(result.written, n);
  EXPECT_EQ(result.held, 0);
  EXPECT_EQ(result.delivered, n);

  auto records = read_topic(topic, n);
  EXPECT_EQ(records.count(0), 0u) << "the chosen partition is honoured";
  ASSERT_EQ(records[1].size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const Consumed& m = records[1][i];
    EXPECT_EQ(m.value(), std::string("v") + std::to_string(i) + std::string("\0x\0", 3));
    EXPECT_EQ(m.key, std::string("k\0", 2) + std::to_string(i));
    EXPECT_EQ(header(m, "index"), std::to_string(i));
  }
}

TEST(OutputSequence, GapsAreHeldDuplicatesAndWrittenIndexesAreErrors) {
  const std::string topic = TestKafka::get().create_topic("outseq-gap", 1);
  data::OutputSequenceOptions options;
  options.config = TestKafka::get().config();
  options.topic = topic;
  data::OutputSequence sequence(options);
  sequence.set(1, "one");
  sequence.set(3, "three");
  EXPECT_EQ(sequence.next_index(), 0);
  EXPECT_EQ(sequence.held(), 2);
  data::OutputFlushResult held = sequence.flush();
  EXPECT_EQ(held.written, 0);
  EXPECT_EQ(held.held, 2);
  EXPECT_EQ(held.next_index, 0);
  try {
    sequence.set(3, "again");
    FAIL() << "duplicate accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("index 3 was set twice"), std::string::npos) << e.what();
  }
  sequence.set(0, "zero");  // fills the first gap: 0 and 1 go out
  EXPECT_EQ(sequence.next_index(), 2);
  EXPECT_EQ(sequence.held(), 1);
  try {
    sequence.set(1, "late");
    FAIL() << "already written index accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("index 1 was already written"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sequence.set(-1, "x"), InputError);
  sequence.set(2, "two");
  EXPECT_EQ(sequence.flush().written, 4);
  auto records = read_topic(topic, 4);
  ASSERT_EQ(records[0].size(), 4u);
  const char* expected[] = {"zero", "one", "two", "three"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(records[0][i].value(), expected[i]);
}

TEST(OutputSequence, ConcurrentSettersKeepIndexOrder) {
  const std::string topic = TestKafka::get().create_topic("outseq-mt", 1);
  data::OutputSequenceOptions options;
  options.config = TestKafka::get().config();
  options.topic = topic;
  data::OutputSequence sequence(options);
  const int n = 400, threads = 4;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = n - threads + t; i >= 0; i -= threads) sequence.set(i, std::to_string(i));  // backwards
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(sequence.flush().written, n);
  auto records = read_topic(topic, n);
  ASSERT_EQ(records[0].size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(records[0][i].value(), std::to_string(i));
}

TEST(OutputSequence, DeliveryFailureIsReportedByFlush) {
  data::OutputSequenceOptions options;
  options.config = TestKafka::get().config();
  options.config.set("message.timeout.ms", "1500");
  options.topic = TestKafka::get().unique_name("outseq-missing");
  options.partition = 5;  // the topic does not exist (and never gets a partition 5)
  options.config.set("allow.auto.create.topics", "false");
  data::OutputSequence sequence(options);
  bool reported = false;
  try {
    sequence.set(0, "lost?");
    sequence.flush(10s);
  } catch (const kafka::KafkaException& e) {
    reported = true;
    EXPECT_NE(std::string(e.what()).find(options.topic), std::string::npos) << e.what();
  }
  EXPECT_TRUE(reported) << "a record that cannot be delivered must not vanish silently";
}

// --- Library: multiclass and regression from Kafka ------------------------------

data::KafkaDatasetOptions ranges(const std::string& topic, size_t batch = 32) {
  data::KafkaDatasetOptions o;
  o.config = TestKafka::get().config();
  o.ranges = {topic};
  o.decoder = kDecode;
  o.batch_size = batch;
  return o;
}

TEST(TrainKafka, MulticlassAndRegressionLearnFromTopics) {
  for (Synthetic kind : {Synthetic::kMulticlass, Synthetic::kRegression}) {
    const bool multi = kind == Synthetic::kMulticlass;
    const std::string train_topic = TestKafka::get().create_topic("train", 2);
    const std::string test_topic = TestKafka::get().create_topic("test", 1);
    produce(train_topic, synthetic(kind, 2000, 1));
    produce(test_topic, synthetic(kind, 400, 2));
    data::KafkaDataset train_set(ranges(train_topic));
    data::KafkaDataset test_set(ranges(test_topic));
    model::ModelConfig config;
    config.task = multi ? model::Task::multiclass(3) : model::Task::regression();
    config.features = {2, {"a", "b"}, train_set.decoder_spec()};
    config.spec = model::parse_model_spec("mlp:32");
    model::Model model = model::Model::create(config);
    TrainOptions options;
    options.epochs = 15;
    options.learning_rate = 0.01;
    History history = fit(model, train_set, options);
    EXPECT_EQ(history.records, 2000 * 15);
    Metrics metrics = evaluate(model, test_set);
    EXPECT_EQ(metrics["records"], 400);
    if (multi) {
      EXPECT_GE(metrics["accuracy"], 0.9);
    } else {
      // The label's standard deviation is about 2.1 (2a - 3b, a, b ~ U[-1, 1]).
      EXPECT_LT(metrics["rmse"], 0.3);
    }
    // Trained offsets: every partition up to its end.
    int64_t total = 0;
    for (const auto& o : model.offsets()) total += o.offset;
    EXPECT_EQ(total, 2000);
  }
}

TEST(TrainKafka, LabelsThatDoNotFitTheTaskNameTheRecord) {
  const std::string topic = TestKafka::get().create_topic("badlabel", 1);
  produce(topic, {{"", "0.1,0.2,1"}, {"", "0.3,0.1,7"}});
  data::KafkaDataset source(ranges(topic));
  model::ModelConfig config;
  config.task = model::Task::multiclass(3);
  config.features = {2, {}, ""};
  model::Model model = model::Model::create(config);
  try {
    TrainOptions options;
    options.epochs = 1;
    fit(model, source, options);
    FAIL() << "label 7 accepted for multiclass:3";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(topic + ":0:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
  }
}

TEST(TrainKafka, PredictionsCallbackCarriesKeysAndSourceHeaders) {
  const std::string in = TestKafka::get().create_topic("pred-in", 1);
  const std::string out = TestKafka::get().create_topic("pred-out", 1);
  produce(in, synthetic(Synthetic::kBinary, 50, 3));
  data::KafkaDataset source(ranges(in, 8));
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features = {2, {}, kDecode};
  model::Model model = model::Model::create(config);
  KafkaPredictionsOptions options;
  options.config = TestKafka::get().config();
  options.topic = out;
  options.encoding = PredictionEncoding::kCsv;
  KafkaPredictionsCallback callback(options);
  EXPECT_EQ(predict(model, source, {&callback}), 50);
  callback.flush();
  auto records = read_topic(out, 50);
  ASSERT_EQ(records[0].size(), 50u);
  for (int i = 0; i < 50; ++i) {
    const Consumed& m = records[0][i];
    EXPECT_EQ(header(m, data::kHeaderSourceTopic), in);
    EXPECT_EQ(header(m, data::kHeaderSourcePartition), "0");
    EXPECT_EQ(header(m, data::kHeaderSourceOffset), std::to_string(i));
    EXPECT_EQ(m.key, "k" + std::to_string(i % 17));
    EXPECT_TRUE(m.value().find(',') != std::string_view::npos) << m.value();
  }
}

TEST(TrainKafka, MetricsCallbackWritesOneJsonObjectPerEpoch) {
  const std::string in = TestKafka::get().create_topic("metrics-in", 1);
  const std::string out = TestKafka::get().create_topic("metrics-out", 1);
  produce(in, synthetic(Synthetic::kBinary, 100, 4));
  data::KafkaDataset source(ranges(in));
  model::ModelConfig config;
  config.task = model::Task::binary();
  config.features = {2, {}, kDecode};
  model::Model model = model::Model::create(config);
  KafkaMetricsCallback callback(KafkaMetricsOptions{TestKafka::get().config(), out, "run-1", 0});
  TrainOptions options;
  options.epochs = 3;
  fit(model, source, options, nullptr, {&callback});
  auto records = read_topic(out, 5);
  ASSERT_EQ(records[0].size(), 5u) << "train_begin, 3 epochs, train_end";
  EXPECT_NE(std::string(records[0][0].value()).find("\"event\":\"train_begin\",\"run_id\":\"run-1\""),
            std::string::npos)
      << records[0][0].value();
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::string json(records[0][epoch + 1].value());
    EXPECT_NE(json.find("\"event\":\"epoch\""), std::string::npos) << json;
    EXPECT_EQ(json_value(json, "epoch"), epoch) << json;
    EXPECT_EQ(json_value(json, "records"), 100.0 * (epoch + 1)) << json;
    EXPECT_TRUE(std::isfinite(json_value(json, "loss"))) << json;
    EXPECT_EQ(records[0][epoch + 1].key, "run-1");
  }
  EXPECT_NE(std::string(records[0][4].value()).find("train_end"), std::string::npos);
}

// --- CLI ---------------------------------------------------------------------------

TEST(TrainCli, BinaryTrainEvaluatePredictThroughKafka) {
  TempDir dir;
  const std::string train_topic = TestKafka::get().create_topic("cli-train", 2);
  const std::string test_topic = TestKafka::get().create_topic("cli-test", 3);
  const std::string out_topic = TestKafka::get().create_topic("cli-pred", 3);
  const std::string metrics_topic = TestKafka::get().create_topic("cli-metrics", 1);
  produce(train_topic, synthetic(Synthetic::kBinary, 3000, 11));
  std::vector<Record> test = synthetic(Synthetic::kBinary, 600, 12);
  produce(test_topic, test);  // keyed: spread over 3 partitions by key
  const std::string model = dir / "model.smlm";
  std::string out;
  ASSERT_EQ(cli("train " + broker() + " --topic " + train_topic + " --decode " + kDecode +
                    " --model mlp:16 --task binary --epochs 8 --batch-size 32 --lr 0.01 --validation " +
                    test_topic + " --save " + model + " --metrics-log " + dir / "log.jsonl" + " --plot " +
                    dir / "curves.svg" + " --metrics-topic " + metrics_topic + " -q --json",
                &out),
            0);
  const double val_accuracy = json_value(out, "val_accuracy");
  EXPECT_GE(val_accuracy, 0.95) << out;
  EXPECT_EQ(json_value(out, "epochs"), 8) << out;
  EXPECT_TRUE(std::filesystem::file_size(dir / "curves.svg") > 1000);
  EXPECT_EQ(read_topic(metrics_topic, 10)[0].size(), 10u) << "train_begin + 8 epochs + train_end";

  // The model file in new processes: evaluate gives the validation metrics of
  // the last epoch, twice the same.
  std::string eval1, eval2;
  ASSERT_EQ(cli("evaluate " + broker() + " --model " + model + " --topic " + test_topic + " --json", &eval1), 0);
  ASSERT_EQ(cli("evaluate " + broker() + " --model " + model + " --topic " + test_topic + " --json", &eval2), 0);
  EXPECT_EQ(eval1, eval2);
  EXPECT_NEAR(json_value(eval1, "accuracy"), val_accuracy, 1e-9) << eval1;
  EXPECT_NEAR(json_value(eval1, "loss"), json_value(out, "val_loss"), 1e-5) << eval1;
  EXPECT_EQ(json_value(eval1, "records"), 600);

  // predict: one prediction per input, per partition in input order, key =
  // input key, headers = source coordinates.
  ASSERT_EQ(cli("predict " + broker() + " --model " + model + " --topic " + test_topic + " --output-topic " +
                out_topic + " --output-partition source"),
            0);
  auto inputs = read_topic(test_topic, 600);
  auto outputs = read_topic(out_topic, 600);
  size_t total = 0;
  for (auto& [partition, records] : outputs) {
    ASSERT_EQ(records.size(), inputs[partition].size()) << "partition " << partition;
    for (size_t i = 0; i < records.size(); ++i) {
      const Consumed& m = records[i];
      const Consumed& input = inputs[partition][i];
      EXPECT_EQ(header(m, data::kHeaderSourceTopic), test_topic);
      EXPECT_EQ(header(m, data::kHeaderSourcePartition), std::to_string(partition));
      EXPECT_EQ(header(m, data::kHeaderSourceOffset), std::to_string(input.offset));
      EXPECT_EQ(m.key, input.key);
      EXPECT_NE(std::string(m.value()).find("\"probability\""), std::string::npos);
    }
    total += records.size();
  }
  EXPECT_EQ(total, 600u);

  // stdout, with the same predictions as the topic (partition 0's first record).
  std::string printed;
  ASSERT_EQ(cli("predict " + broker() + " --model " + model + " --topic " + test_topic + ":0 --output -", &printed), 0);
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), static_cast<long>(inputs[0].size()));
  EXPECT_EQ(printed.substr(0, printed.find('\n')), std::string(outputs[0][0].value()));

  // Bad input: feature count mismatch names expected vs found and the record.
  std::string err;
  EXPECT_EQ(cli("predict " + broker() + " --model " + model + " --topic " + test_topic +
                    ":0 --decode csv:columns=3 --output -",
                nullptr, &err),
            1);
  EXPECT_NE(err.find("2"), std::string::npos) << err;
  EXPECT_NE(err.find("3"), std::string::npos) << err;
  EXPECT_NE(err.find(test_topic + ":0:0"), std::string::npos) << err;
}

TEST(TrainCli, BadInputsAreOneLineErrors) {
  TempDir dir;
  std::string err;
  EXPECT_EQ(cli("evaluate --model " + dir / "missing.smlm" + " --file " + dir / "x.csv", nullptr, &err), 1);
  EXPECT_NE(err.find("missing.smlm"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;

  std::ofstream(dir / "corrupt.smlm") << "SMLMODEL" << std::string("\x01\0\0\0garbage", 11);
  EXPECT_EQ(cli("predict --model " + dir / "corrupt.smlm" + " --file " + dir / "x.csv --output -", nullptr, &err), 1);
  EXPECT_NE(err.find("corrupt.smlm"), std::string::npos) << err;

  // A label that does not fit the task names the file and line.
  std::ofstream(dir / "bad.csv") << "0.1,0.2,1\n0.2,0.3,2\n0.5,0.5,7\n";
  EXPECT_EQ(cli("train --file " + dir / "bad.csv" + " --decode csv:names=a+b+y,label=y --task multiclass:3 -q "
                "--epochs 1",
                nullptr, &err),
            1);
  EXPECT_NE(err.find("bad.csv:3"), std::string::npos) << err;

  EXPECT_EQ(cli("train --file " + dir / "bad.csv" + " --decode csv:names=a+b+y,label=y --task ternary", nullptr, &err),
            2);
  EXPECT_NE(err.find("ternary"), std::string::npos) << err;
  EXPECT_EQ(cli("train --file " + dir / "bad.csv" + " --task binary", nullptr, &err), 2);
  EXPECT_NE(err.find("--decode"), std::string::npos) << err;
}

TEST(TrainCli, TorchScriptModelTrainsAndPredictsThroughKafka) {
  TempDir dir;
  const std::string script = dir / "make.py";
  const std::string module = dir / "net.pt";
  std::ofstream(script) << "import sys, torch\n"
                           "torch.manual_seed(0)\n"
                           "class Net(torch.nn.Module):\n"
                           "    def __init__(self):\n"
                           "        super().__init__()\n"
                           "        self.hidden = torch.nn.Linear(2, 8)\n"
                           "        self.out = torch.nn.Linear(8, 1)\n"
                           "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
                           "        return self.out(torch.tanh(self.hidden(x))).squeeze(1)\n"
                           "torch.jit.save(torch.jit.script(Net()), sys.argv[1])\n";
  if (testing::run_command("/usr/bin/python3 " + script + " " + module + " 2>/dev/null") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch (python3-torch missing)";
  }
  const std::string train_topic = TestKafka::get().create_topic("ts-train", 1);
  const std::string test_topic = TestKafka::get().create_topic("ts-test", 1);
  produce(train_topic, synthetic(Synthetic::kBinary, 2000, 31));
  produce(test_topic, synthetic(Synthetic::kBinary, 300, 32));
  const std::string model = dir / "ts-model.smlm";
  std::string out;
  ASSERT_EQ(cli("train " + broker() + " --topic " + train_topic + " --decode " + kDecode + " --model " + module +
                    " --task binary --epochs 6 --batch-size 32 --lr 0.02 --save " + model + " -q --json",
                &out),
            0);
  std::string eval;
  ASSERT_EQ(cli("evaluate " + broker() + " --model " + model + " --topic " + test_topic + " --json", &eval), 0);
  EXPECT_GE(json_value(eval, "accuracy"), 0.9) << eval;
  EXPECT_EQ(model::Model::load(model).kind(), model::ModelKind::kTorchScript);
  std::string printed;
  ASSERT_EQ(cli("predict " + broker() + " --model " + model + " --topic " + test_topic + " --output -", &printed), 0);
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 300);
}

// --- Online learning, killed and restarted ----------------------------------------

pid_t spawn_cli(const std::string& args, const std::string& log) {
  std::string command = "exec " + testing::cli_path() + " " + args + " >" + log + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return -1;
  return pid;
}

int64_t trained_records(const std::string& model_path) {
  model::Model model = model::Model::load(model_path);
  auto it = model.metadata().find(kOnlineRecordsKey);
  return it == model.metadata().end() ? 0 : std::stoll(it->second);
}

int64_t offsets_sum(const std::string& model_path) {
  int64_t sum = 0;
  const model::Model model = model::Model::load(model_path);  // not a temporary: the loop reads into it
  for (const auto& o : model.offsets()) sum += o.offset;
  return sum;
}

TEST(TrainCli, OnlineLearningKilledWithSigkillResumesFromTheCheckpoint) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("online", 2);
  const std::string group = TestKafka::get().unique_name("online-group");
  const std::string model = dir / "online.smlm";
  const int total = 6000;
  std::vector<Record> records = synthetic(Synthetic::kBinary, total, 21);
  const std::string args = "train " + broker() + " --online -G " + group + " --topic " + topic + " --decode " +
                           kDecode + " --task binary --model mlp:8 --batch-size 16 --batch-wait 20 " +
                           "--checkpoint-every 5 -X session.timeout.ms=6000 --save " + model;
  // First run: records arrive in chunks while it trains; kill it (SIGKILL,
  // no chance to save) once checkpoints exist and before the stream ends.
  produce(topic, {records.begin(), records.begin() + 2000});
  pid_t pid = spawn_cli(args, dir / "run1.log");
  ASSERT_GT(pid, 0);
  int64_t checkpointed = 0;
  for (int i = 0; i < 600 && checkpointed < 500; ++i) {
    std::this_thread::sleep_for(50ms);
    if (std::filesystem::exists(model)) {
      try {
        checkpointed = offsets_sum(model);
      } catch (const InputError&) {
      }
    }
  }
  ASSERT_GE(checkpointed, 1) << "no checkpoint written by the first run";
  produce(topic, {records.begin() + 2000, records.begin() + 4000});
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const int64_t at_kill = offsets_sum(model);
  EXPECT_EQ(trained_records(model), at_kill) << "checkpoint count and offsets agree";
  EXPECT_LT(at_kill, total) << "killed mid-stream";

  // Second run: the rest arrives; it stops after 3 s without records.
  produce(topic, {records.begin() + 4000, records.end()});
  std::string out;
  ASSERT_EQ(cli(args + " --stream-timeout 3000 --json", &out), 0);
  // Every record after the checkpoint was trained exactly once: the second
  // run trained exactly total - at_kill records, and the counts add up.
  EXPECT_EQ(json_value(out, "records"), static_cast<double>(total - at_kill)) << out;
  EXPECT_EQ(trained_records(model), total);
  EXPECT_EQ(offsets_sum(model), total);

  // The group's committed offsets agree with the checkpoint: a third run
  // finds nothing to train.
  out.clear();
  ASSERT_EQ(cli(args + " --stream-timeout 1500 --json", &out), 0);
  EXPECT_EQ(json_value(out, "records"), 0) << out;
  EXPECT_EQ(trained_records(model), total);
}

TEST(TrainCli, PredictAndServeSpecAcceptRecordsWithoutTheLabelSelectedByIndex) {
  TempDir dir;
  // Trained with the label by index: csv:columns=3,label=2.
  std::ofstream(dir / "train.csv") << "0.1,0.2,1\n-0.3,-0.1,0\n0.5,0.4,1\n-0.2,-0.6,0\n";
  const std::string model = dir / "indexed.smlm";
  ASSERT_EQ(cli("train --file " + dir / "train.csv" + " --decode csv:columns=3,label=2 --task binary --model mlp:4 "
                "--epochs 1 -q --save " + model),
            0);
  // Inputs of 2 fields (no label) and of 3 fields both predict, alike.
  std::ofstream(dir / "inputs.csv") << "0.1,0.2\n-0.3,-0.1\n";
  std::ofstream(dir / "labelled.csv") << "0.1,0.2,1\n-0.3,-0.1,0\n";
  std::string unlabelled, labelled, err;
  ASSERT_EQ(cli("predict --model " + model + " --file " + dir / "inputs.csv" + " --output -", &unlabelled, &err), 0)
      << err;
  ASSERT_EQ(cli("predict --model " + model + " --file " + dir / "labelled.csv" + " --output -", &labelled), 0);
  EXPECT_EQ(std::count(unlabelled.begin(), unlabelled.end(), '\n'), 2) << unlabelled;
  EXPECT_EQ(unlabelled, labelled);
  // Neither width: the error names both.
  std::ofstream(dir / "short.csv") << "0.1\n";
  EXPECT_EQ(cli("predict --model " + model + " --file " + dir / "short.csv" + " --output -", nullptr, &err), 1);
  EXPECT_NE(err.find("short.csv:1"), std::string::npos) << err;
  EXPECT_NE(err.find("expected 3 (with the label column) or 2 (without)"), std::string::npos) << err;
}

TEST(TrainCli, SkipPolicySkipsNonFiniteFeaturesAndInvalidLabelsInEveryCommand) {
  TempDir dir;
  const std::string topic = TestKafka::get().create_topic("cli-invalid", 1);
  std::vector<Record> records = synthetic(Synthetic::kBinary, 200, 31);
  // Undecodable, non-finite (1e39 overflows float) and a label outside binary.
  for (const char* bad : {"nan,0.1,1", "0.2,inf,0", "1e39,0.3,1", "0.1,0.2,7", "oops,0.1,1"}) {
    records.push_back({"", bad});
  }
  produce(topic, records, 0);
  const std::string model = dir / "model.smlm";
  const std::string skip = " --bad-records skip ";
  std::string out, err;
  ASSERT_EQ(cli("train " + broker() + " --topic " + topic + skip + "--decode " + kDecode +
                    " --task binary --model mlp:4 --epochs 1 -q --json --save " + model,
                &out, &err),
            0)
      << err;
  EXPECT_NE(err.find("skipped 5 bad records"), std::string::npos) << err;
  EXPECT_NE(err.find(topic + ":0:200"), std::string::npos) << err;  // the first one, named

  out.clear();  // cli() appends
  ASSERT_EQ(cli("evaluate " + broker() + " --model " + model + " --topic " + topic + skip + "--json", &out, &err), 0)
      << err;
  EXPECT_EQ(json_value(out, "records"), 200) << out;
  EXPECT_NE(err.find("skipped 5 bad records"), std::string::npos) << err;

  // predict needs no label: the label-7 record is predicted, the other four skipped.
  out.clear();
  ASSERT_EQ(cli("predict " + broker() + " --model " + model + " --topic " + topic + skip + "--output -", &out, &err),
            0)
      << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 201) << out;
  EXPECT_NE(err.find("skipped 4 bad records"), std::string::npos) << err;

  // Online learning too, on every restart.
  const std::string online = "train " + broker() + " --online -G " + TestKafka::get().unique_name("invalid") +
                             " --topic " + topic + skip + "--decode " + kDecode +
                             " --task binary --model mlp:4 --batch-size 16 --stream-timeout 2000 --json --save " +
                             dir / "online.smlm";
  out.clear();
  ASSERT_EQ(cli(online, &out, &err), 0) << err;
  EXPECT_EQ(json_value(out, "records"), 200) << out;

  // Under fail: one clear error naming the record.
  EXPECT_EQ(cli("evaluate " + broker() + " --model " + model + " --topic " + topic, &out, &err), 1);
  EXPECT_NE(err.find("invalid record " + topic + ":0:200: feature 'a' is nan"), std::string::npos) << err;
}

}  // namespace
}  // namespace streamml::train
