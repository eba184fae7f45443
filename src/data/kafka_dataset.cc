// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// A KafkaDataset is wired from parts (src/data/): a RecordReader
// (RangeReader for bounded ranges, GroupReader for a consumer group) hands
// records in order to a BatchBuilder (decoding, bad records, shuffle), on a
// prefetch thread that a PrefetchQueue owns (bounded ranges decode on a
// ChunkDecoder's workers, see chunk_decoder.h). This file validates the
// options, connects, drives that thread, and keeps the caller-side progress:
// offsets returned so far, commit() and state()/restore().
#include "streamml/data/kafka_dataset.h"

#include <charconv>
#include <climits>
#include <map>
#include <mutex>
#include <sstream>

#include "data/batch_builder.h"
#include "data/chunk_decoder.h"
#include "data/group_reader.h"
#include "data/prefetch_queue.h"
#include "data/range_reader.h"
#include "streamml/common/error.h"
#include "streamml/common/logging.h"
#include "streamml/data/dead_letter.h"
#include "streamml/data/decoder.h"
#include "streamml/kafka/consumer.h"
#include "streamml/kafka/message.h"
#include "streamml/kafka/range_spec.h"

namespace streamml::data {
namespace {

using Clock = std::chrono::steady_clock;
using kafka::milliseconds;

// librdkafka's queued.min.messages default here (see the constructor).
constexpr int kQueuedMinMessages = 1000000;

// What the prefetch thread hands to next(): a batch (or the end of the
// epoch) and the read position after its last record.
struct Item {
  std::optional<Batch> batch;  // nullopt: end of epoch
  std::map<kafka::TopicPartition, int64_t> consumed;  // next offset per partition
  BoundedPosition position;
};

// A non-negative decimal of a saved state, or nullopt.
std::optional<int64_t> parse_state_number(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

struct KafkaDataset::Impl {
  KafkaDatasetOptions options;
  std::unique_ptr<Decoder> decoder;
  bool group_mode = false;
  std::vector<kafka::ResolvedRange> ranges;
  std::unique_ptr<kafka::Consumer> consumer;
  std::unique_ptr<DeadLetterProducer> dead_letters;
  BadRecordCounter bad;
  std::unique_ptr<RangeReader> range_reader;  // bounded
  std::unique_ptr<GroupReader> group_reader;  // group
  RecordReader* reader = nullptr;             // the one of the two in use
  std::unique_ptr<BatchBuilder> builder;      // prefetch thread
  std::unique_ptr<RowDecoder> rows;           // bounded, with decode workers
  std::unique_ptr<ChunkDecoder> chunks;       // bounded, with decode workers
  size_t chunk_records = 0;
  std::unique_ptr<PrefetchQueue<Item>> prefetch;  // the prefetch thread and its batches
  bool epoch_done = false;                    // caller thread only
  int epoch = 0;

  // Caller-side progress.
  mutable std::mutex returned_mu;  // the rebalance callback reads `returned`
  std::map<kafka::TopicPartition, int64_t> returned;  // guarded by returned_mu
  BoundedPosition returned_position;
  BoundedPosition start_position;  // where the next epoch starts (restore())
  uint64_t returned_count = 0;

  // Prefetch-thread state.
  std::map<kafka::TopicPartition, int64_t> consumed;
  std::map<kafka::TopicPartition, int64_t>::iterator consumed_last = consumed.end();  // of the last record
  BoundedPosition assembled;  // with decode workers: the position after the last record assembled

  BoundedPosition position() const {
    return chunks ? assembled : range_reader ? range_reader->position() : BoundedPosition{};
  }

  bool emit(Batch batch) {
    if (options.map) options.map(batch);
    reader->before_handover();
    return prefetch->push(Item{std::move(batch), consumed, position()});
  }

  // The `consumed` entry of a partition; the last one is cached, as records
  // come in runs of one partition.
  int64_t& consumed_slot(std::string_view topic, int32_t partition) {
    if (consumed_last == consumed.end() || consumed_last->first.partition != partition ||
        consumed_last->first.topic != topic) {
      consumed_last = consumed.try_emplace(kafka::TopicPartition{std::string(topic), partition}, 0).first;
    }
    return consumed_last->second;
  }

  // Adds one record; emits a full batch. Returns false to stop.
  bool add(const kafka::Message& m) {
    int64_t& slot = consumed_slot(m.topic_view(), m.partition());
    slot = m.offset() + 1;
    std::optional<Batch> full = builder->add(m.value(), meta_of(m, consumed_last->first.topic));
    return !full || emit(std::move(*full));
  }

  // Flushes the shuffle buffer and the partial batch, then the end marker.
  void finish_epoch() {
    while (std::optional<Batch> batch = builder->flush()) {
      if (!emit(std::move(*batch))) return;
    }
    prefetch->push(Item{std::nullopt, consumed, position()});
  }

  // The prefetch thread with decode workers (bounded ranges).
  void produce_chunks() {
    builder->start(options.seed + static_cast<uint64_t>(epoch));
    range_reader->start(start_position);
    assembled = start_position;
    ChunkedReadHooks hooks{
        .note = [this](const RecordMeta& meta, const BoundedPosition& after) {
          consumed_slot(meta.topic, meta.partition) = meta.offset + 1;
          assembled = after;
        },
        .emit = [this](Batch batch) { return emit(std::move(batch)); },
        .stopping = [this] { return prefetch->stopping(); }};
    switch (read_in_chunks(*range_reader, *builder, *chunks, chunk_records, hooks)) {
      case ChunkedEnd::kEnd:
        assembled = range_reader->position();
        finish_epoch();
        return;
      case ChunkedEnd::kTakeDone:
        reader->end_early();
        finish_epoch();
        return;
      case ChunkedEnd::kStopped:
        return;
    }
  }

  // The prefetch thread: reads records until the epoch ends (or the stream
  // stops) or the queue asks it to stop.
  void produce() {
    if (chunks) {
      produce_chunks();
      return;
    }
    builder->start(options.seed + static_cast<uint64_t>(epoch));
    if (group_mode) {
      group_reader->start();
    } else {
      range_reader->start(start_position);
    }
    // Online mini-batches (group): a batch closes batch_wait after its first record.
    const bool online = group_mode && options.batch_wait.count() >= 0;
    Clock::time_point batch_opened{};
    kafka::Message m;
    while (true) {
      RecordReader::Limits limits{options.batch_size - builder->pending()};
      if (online && builder->pending() > 0) limits.deadline = batch_opened + options.batch_wait;
      switch (reader->next(m, limits)) {
        case RecordReader::Status::kRecord:
          if (online && builder->pending() == 0) batch_opened = Clock::now();
          if (!add(m)) return;
          if (builder->take_done()) {
            reader->end_early();
            finish_epoch();
            return;
          }
          continue;
        case RecordReader::Status::kEnd:
          finish_epoch();
          return;
        case RecordReader::Status::kIdle:
          break;
      }
      if (online && builder->pending() > 0 && Clock::now() >= batch_opened + options.batch_wait) {
        if (!emit(builder->take_pending())) return;
      }
      if (prefetch->stopping()) return;
    }
  }

  void start() {
    epoch_done = false;
    prefetch->start([this] { produce(); });
  }

  void halt() { prefetch->stop(); }
};

KafkaDataset::KafkaDataset(KafkaDatasetOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  KafkaDatasetOptions& o = d.options;
  const bool bounded = !o.ranges.empty();
  d.group_mode = !o.group.empty() || !o.topics.empty();
  if (bounded == d.group_mode) {
    throw ConfigError("a Kafka dataset reads either ranges (topic:partition:start:end) or a group with topics, "
                      "not both and not neither");
  }
  if (d.group_mode && (o.group.empty() || o.topics.empty())) {
    throw ConfigError("consumer-group mode needs both a group id (-G) and at least one topic");
  }
  if (o.batch_size == 0) throw ConfigError("batch_size must be at least 1");
  if (o.prefetch == 0) throw ConfigError("prefetch must be at least 1");
  if (o.repeat < 1) throw ConfigError("repeat " + std::to_string(o.repeat) + " is invalid: use 1 or more");
  if (o.stream_timeout.count() < -1) {
    throw ConfigError("stream_timeout " + std::to_string(o.stream_timeout.count()) +
                      " ms is invalid: use -1 (never stop) or a value >= 0");
  }
  if (o.message_poll_timeout.count() <= 0) {
    throw ConfigError("message_poll_timeout " + std::to_string(o.message_poll_timeout.count()) + " ms must be > 0");
  }
  if (o.decode_threads < -1) {  // -1: auto
    throw ConfigError("decode_threads " + std::to_string(o.decode_threads) + " is invalid: use -1 (auto), 0 or more");
  }
  if (o.batch_wait.count() < -1) {
    throw ConfigError("batch_wait " + std::to_string(o.batch_wait.count()) + " ms is invalid");
  }
  if (d.group_mode && o.shuffle_buffer > 0) {
    throw ConfigError("shuffle is for bounded ranges; a consumer group commits in arrival order");
  }
  // A full queue is refilled once the reader took half of it; interrupt()
  // is noticed within one poll timeout.
  d.prefetch = std::make_unique<PrefetchQueue<Item>>(o.prefetch, o.message_poll_timeout);
  if (!d.group_mode && o.stream_timeout.count() >= 0) {
    log_debug("stream_timeout applies to consumer-group datasets; bounded ranges end at their end offset");
  }
  if (!o.decoder.empty()) d.decoder = make_decoder(o.decoder);
  if (o.bad_records == BadRecordPolicy::kDeadLetter && !o.dead_letter) {
    if (o.dead_letter_topic.empty()) {
      throw ConfigError("bad-record policy dead-letter needs a dead-letter topic");
    }
    d.dead_letters = std::make_unique<DeadLetterProducer>(o.config, o.dead_letter_topic);
    o.dead_letter = d.dead_letters->sink();
  }
  d.builder = std::make_unique<BatchBuilder>(
      BatchBuilder::Options{.batch_size = o.batch_size,
                            .drop_remainder = o.drop_remainder,
                            .take = o.take,
                            .shuffle_buffer = o.shuffle_buffer,
                            .keep_payloads = o.keep_payloads || !d.decoder,
                            .bad_records = o.bad_records,
                            .check = o.check,
                            .dead_letter = o.dead_letter},
      d.decoder.get(), d.bad);

  // Topic-level properties given as "topic.X" are X in a kafka::Config.
  kafka::Config config = o.config;
  // librdkafka 2.0 stops fetching for up to a second once its queue holds
  // queued.min.messages (default 100000) records, however soon they are
  // consumed after that: a reader slower than the fetching (training) then
  // finds the queue empty and waits. Let the byte bound
  // (queued.max.messages.kbytes) be the one that applies.
  config.set_default("queued.min.messages", std::to_string(kQueuedMinMessages));
  if (d.group_mode) {
    config.set("group.id", o.group);
    d.consumer = std::make_unique<kafka::Consumer>(config);
    d.consumer->set_data_loss_policy(o.on_data_loss);
    for (const auto& topic : o.topics) d.consumer->partitions_of(topic);  // clear error when missing
    d.group_reader = std::make_unique<GroupReader>(*d.consumer, o.group, o.message_poll_timeout,
                                                   o.stream_timeout);
    d.reader = d.group_reader.get();
    GroupReader& reader = *d.group_reader;
    d.consumer->subscribe(o.topics, [&reader](kafka::RebalanceEvent e, const auto& parts) {
      reader.on_rebalance(e, parts);
    });
  } else {
    config.set_default("auto.offset.reset", "error");  // never jump over missing records
    d.consumer = std::make_unique<kafka::Consumer>(config);
    std::vector<kafka::RangeSpec> specs;
    for (const auto& s : o.ranges) specs.push_back(kafka::parse_range_spec(s));
    d.ranges = kafka::resolve_ranges(*d.consumer, specs, kafka::kDefaultTimeout,
                                     o.wait_for_records ? kafka::FutureOffsets::kWait : kafka::FutureOffsets::kFail);
    d.range_reader = std::make_unique<RangeReader>(
        *d.consumer, d.ranges,
        RangeReader::Options{.repeat = o.repeat,
                             .poll_timeout = o.message_poll_timeout,
                             .read_ahead_bytes = o.read_ahead_bytes,
                             .wait_for_records = o.wait_for_records});
    d.reader = d.range_reader.get();
    if (o.decode_threads < 0) o.decode_threads = static_cast<int>(ChunkDecoder::default_threads());
    if (o.decode_threads > 0) {
      d.chunk_records = chunk_records_for(o.batch_size);
      d.rows = std::make_unique<RowDecoder>(d.decoder.get(), o.check, o.keep_payloads || !d.decoder);
      d.chunks = std::make_unique<ChunkDecoder>(*d.rows, o.batch_size, static_cast<size_t>(o.decode_threads));
    }
  }
}

KafkaDataset::~KafkaDataset() {
  impl_->halt();
  if (impl_->dead_letters) {
    try {
      impl_->dead_letters->flush();
    } catch (const std::exception& e) {
      log_error("{}", e.what());
    }
  }
  impl_->consumer->close();
}

bool KafkaDataset::ready(std::chrono::milliseconds wait) {
  Impl& d = *impl_;
  if (d.epoch_done || d.prefetch->interrupted()) return true;
  if (!d.prefetch->running()) d.start();
  return d.prefetch->wait_ready(wait);
}

std::optional<Batch> KafkaDataset::next() {
  Impl& d = *impl_;
  if (d.epoch_done || d.prefetch->interrupted()) return std::nullopt;
  if (!d.prefetch->running()) d.start();
  std::optional<Item> popped;
  try {
    popped = d.prefetch->pop();  // stops the prefetch thread when it failed or on interrupt()
  } catch (...) {
    d.epoch_done = true;
    throw;
  }
  if (!popped) {  // interrupted
    d.epoch_done = true;
    return std::nullopt;
  }
  Item item = std::move(*popped);
  {
    std::lock_guard<std::mutex> lock(d.returned_mu);
    for (const auto& [tp, offset] : item.consumed) d.returned[tp] = offset;
  }
  d.returned_position = item.position;
  if (!item.batch) {
    d.epoch_done = true;
    if (d.dead_letters) d.dead_letters->flush();
    BadRecordReport report = d.bad.report();
    if (report.count > 0) {
      log_warn("dataset: {} {}", d.options.bad_records == BadRecordPolicy::kSkip ? "skipped" : "dead-lettered",
               report.summary());
    }
    return std::nullopt;
  }
  d.returned_count += item.batch->size;
  return std::move(item.batch);
}

void KafkaDataset::interrupt() { impl_->prefetch->interrupt(); }
bool KafkaDataset::interrupted() const { return impl_->prefetch->interrupted(); }

void KafkaDataset::reset() {
  Impl& d = *impl_;
  if (d.group_mode) throw ConfigError("a consumer-group dataset is a stream: it has no epochs to reset");
  d.halt();
  ++d.epoch;
  d.start_position = {};
  d.bad.clear();
  d.epoch_done = false;
}

void KafkaDataset::commit() {
  Impl& d = *impl_;
  if (!d.group_mode) return;
  std::vector<kafka::TopicPartitionOffset> offsets;
  {
    std::lock_guard<std::mutex> lock(d.returned_mu);
    for (const auto& [tp, offset] : d.returned) offsets.push_back({tp.topic, tp.partition, offset});
  }
  d.group_reader->commit(offsets);
}

int64_t KafkaDataset::lost_records() const { return impl_->consumer->lost_records(); }

size_t KafkaDataset::num_features() const { return impl_->decoder ? impl_->decoder->num_features() : 0; }
size_t KafkaDataset::num_labels() const { return impl_->decoder ? impl_->decoder->num_labels() : 0; }
std::vector<std::string> KafkaDataset::feature_names() const {
  return impl_->decoder ? impl_->decoder->feature_names() : std::vector<std::string>{};
}
std::string KafkaDataset::decoder_spec() const { return impl_->decoder ? impl_->decoder->spec() : std::string(); }

std::vector<std::string> KafkaDataset::resolved_ranges() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->ranges) out.push_back(r.to_string());
  return out;
}

std::vector<kafka::TopicPartitionOffset> KafkaDataset::positions() const {
  std::lock_guard<std::mutex> lock(impl_->returned_mu);
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& [tp, offset] : impl_->returned) out.push_back({tp.topic, tp.partition, offset});
  return out;
}

std::string KafkaDataset::state() const {
  const Impl& d = *impl_;
  std::ostringstream out;
  if (d.group_mode) {
    out << "group";
    for (const auto& p : positions()) out << ' ' << p.topic << ':' << p.partition << ':' << p.offset;
  } else {
    out << "bounded " << d.returned_position.pass << ' ' << d.returned_position.range << ' '
        << d.returned_position.offset;
  }
  return out.str();
}

void KafkaDataset::restore(const std::string& state) {
  Impl& d = *impl_;
  std::istringstream in(state);
  std::string mode;
  in >> mode;
  auto bad = [&](const std::string& why) {
    return ConfigError("cannot restore dataset state '" + state + "': " + why);
  };
  if (d.group_mode) {
    if (mode != "group") throw bad("a consumer-group dataset expects 'group TOPIC:PARTITION:OFFSET ...'");
    std::vector<kafka::TopicPartitionOffset> offsets;
    std::string item;
    while (in >> item) {
      const size_t a = item.rfind(':');
      const size_t b = a == std::string::npos || a == 0 ? std::string::npos : item.rfind(':', a - 1);
      std::optional<int64_t> partition, offset;
      if (b != std::string::npos && b > 0) {
        partition = parse_state_number(std::string_view(item).substr(b + 1, a - b - 1));
        offset = parse_state_number(std::string_view(item).substr(a + 1));
      }
      if (!partition || !offset || *partition > INT32_MAX) {
        throw bad("'" + item + "' is not TOPIC:PARTITION:OFFSET with a non-negative partition and offset");
      }
      offsets.push_back({item.substr(0, b), static_cast<int32_t>(*partition), *offset});
    }
    d.consumer->set_start_offsets(offsets);
    return;
  }
  BoundedPosition p;
  if (mode != "bounded" || !(in >> p.pass >> p.range >> p.offset) || p.pass < 0 || p.offset < -1 ||
      p.range > d.ranges.size()) {
    throw bad("a bounded dataset of " + std::to_string(d.ranges.size()) + " range(s) expects 'bounded PASS RANGE OFFSET'");
  }
  d.halt();
  d.start_position = p;
  d.epoch_done = false;
}

BadRecordReport KafkaDataset::report() const { return impl_->bad.report(); }
uint64_t KafkaDataset::records_returned() const { return impl_->returned_count; }

}  // namespace streamml::data
