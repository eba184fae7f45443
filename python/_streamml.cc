// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// _streamml: the thin pybind11 layer under the Python package streamml
// (python/streamml/__init__.py holds the Pythonic API and the docs). Data and
// Kafka types here; models in _streamml_model.cc. No LibTorch header.
//
// Every call that can block releases the GIL. Iteration waits in slices of
// kSignalCheck and runs Python's signal handlers between them, so Ctrl-C
// raises KeyboardInterrupt within about that long; the dataset stays usable
// (the batch it was waiting for comes with the next call).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "_streamml.h"
#include "streamml/common/error.h"
#include "streamml/data/batch.h"
#include "streamml/data/kafka_dataset.h"
#include "streamml/data/output_sequence.h"
#include "streamml/kafka/admin.h"
#include "streamml/kafka/embedded_cluster.h"
#include "streamml/kafka/error.h"
#include "streamml/kafka/producer.h"

namespace py = pybind11;

namespace streamml::python {
namespace {

constexpr kafka::milliseconds kSignalCheck{100};

// Waits in slices of kSignalCheck until `ready` (called without the GIL)
// returns true; raises KeyboardInterrupt (or what a signal handler raised)
// between slices.
template <typename Ready>
void wait_interruptibly(Ready ready) {
  for (;;) {
    bool done;
    {
      py::gil_scoped_release release;
      done = ready(kSignalCheck);
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (done) return;
  }
}

std::string text_of(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::bytes>(value)) return value.cast<std::string>();
  return py::str(value).cast<std::string>();
}

int64_t int_or(const py::dict& d, const char* key, int64_t fallback) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<int64_t>() : fallback;
}
std::string str_or(const py::dict& d, const char* key, std::string fallback = {}) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<std::string>() : fallback;
}
std::vector<std::string> strings_or_empty(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return {};
  if (py::isinstance<py::str>(d[key])) return {d[key].cast<std::string>()};
  return d[key].cast<std::vector<std::string>>();
}

py::bytes bytes_of(const std::string& s) { return py::bytes(s.data(), s.size()); }

py::object optional_bytes(const std::optional<std::string>& s) {
  return s ? py::object(bytes_of(*s)) : py::object(py::none());
}

py::list headers_of(const kafka::Headers& headers) {
  py::list out;
  for (const auto& h : headers) out.append(py::make_tuple(h.name, optional_bytes(h.value)));
  return out;
}

kafka::Headers headers_from(const py::handle& value) {
  kafka::Headers out;
  if (value.is_none()) return out;
  py::object items = py::isinstance<py::dict>(value) ? py::reinterpret_borrow<py::dict>(value).attr("items")()
                                                      : py::reinterpret_borrow<py::object>(value);
  for (const py::handle& item : items) {
    auto pair = item.cast<py::tuple>();
    if (pair.size() != 2) throw ConfigError("a header is a (name, value) pair");
    kafka::Header h;
    h.name = pair[0].cast<std::string>();
    if (!pair[1].is_none()) h.value = text_of(pair[1]);
    out.push_back(std::move(h));
  }
  return out;
}

// A decoded batch. features/labels are NumPy views of its vectors: the
// arrays keep this object (and so the C++ batch) alive.
struct PyBatch {
  data::Batch batch;

  py::array rows(const std::vector<float>& values, size_t width, py::handle owner) const {
    const auto n = static_cast<py::ssize_t>(batch.size);
    const auto w = static_cast<py::ssize_t>(width);
    // An empty vector has no storage: point at a static float instead.
    static float none = 0;
    const float* data = values.empty() ? &none : values.data();
    py::array out(py::dtype::of<float>(), {n, w}, {static_cast<py::ssize_t>(sizeof(float)) * w,
                                                  static_cast<py::ssize_t>(sizeof(float))},
                  data, owner);
    return out;
  }
};

class PyKafkaDataset {
 public:
  explicit PyKafkaDataset(const py::dict& o) {
    data::KafkaDatasetOptions options;
    static const std::vector<std::string> known = {
        "config", "ranges", "group", "topics", "decoder", "keep_payloads", "batch_size", "drop_remainder",
        "repeat", "take", "shuffle_buffer", "seed", "stream_timeout_ms", "message_poll_timeout_ms",
        "batch_wait_ms", "prefetch", "read_ahead_bytes", "decode_threads", "wait_for_records", "bad_records",
        "on_data_loss", "dead_letter_topic"};
    for (const auto& [key, value] : o) {
      const auto name = key.cast<std::string>();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        throw ConfigError("KafkaDataset has no option '" + name + "'");
      }
    }
    if (o.contains("config") && !o["config"].is_none()) options.config = config_from(o["config"]);
    options.ranges = strings_or_empty(o, "ranges");
    options.group = str_or(o, "group");
    options.topics = strings_or_empty(o, "topics");
    options.decoder = str_or(o, "decoder");
    options.keep_payloads = o.contains("keep_payloads") && o["keep_payloads"].cast<bool>();
    const int64_t batch_size = int_or(o, "batch_size", 32);
    if (batch_size < 1) throw ConfigError("batch_size " + std::to_string(batch_size) + " is invalid: use 1 or more");
    options.batch_size = static_cast<size_t>(batch_size);
    options.drop_remainder = o.contains("drop_remainder") && o["drop_remainder"].cast<bool>();
    options.repeat = static_cast<int>(int_or(o, "repeat", 1));
    options.take = int_or(o, "take", -1);
    const int64_t shuffle = int_or(o, "shuffle_buffer", 0);
    if (shuffle < 0) throw ConfigError("shuffle_buffer " + std::to_string(shuffle) + " is invalid: use 0 or more");
    options.shuffle_buffer = static_cast<size_t>(shuffle);
    options.seed = static_cast<uint64_t>(int_or(o, "seed", 0));
    options.stream_timeout = kafka::milliseconds(int_or(o, "stream_timeout_ms", -1));
    options.message_poll_timeout = kafka::milliseconds(int_or(o, "message_poll_timeout_ms", 100));
    options.batch_wait = kafka::milliseconds(int_or(o, "batch_wait_ms", -1));
    const int64_t prefetch = int_or(o, "prefetch", 16);
    if (prefetch < 1) throw ConfigError("prefetch " + std::to_string(prefetch) + " is invalid: use 1 or more");
    options.prefetch = static_cast<size_t>(prefetch);
    const int64_t read_ahead = int_or(o, "read_ahead_bytes", 16 << 20);
    if (read_ahead < 0) throw ConfigError("read_ahead_bytes " + std::to_string(read_ahead) + " is invalid");
    options.read_ahead_bytes = static_cast<size_t>(read_ahead);
    options.decode_threads = static_cast<int>(int_or(o, "decode_threads", -1));
    options.wait_for_records = o.contains("wait_for_records") && o["wait_for_records"].cast<bool>();
    options.bad_records = data::parse_bad_record_policy(str_or(o, "bad_records", "fail"));
    const std::string loss = str_or(o, "on_data_loss", "report");
    if (loss != "report" && loss != "fail") {
      throw ConfigError("on_data_loss '" + loss + "' is invalid: use 'report' or 'fail'");
    }
    options.on_data_loss = loss == "fail" ? kafka::DataLossPolicy::kFail : kafka::DataLossPolicy::kReport;
    options.dead_letter_topic = str_or(o, "dead_letter_topic");
    py::gil_scoped_release release;  // connects, resolves ranges
    dataset_ = std::make_unique<data::KafkaDataset>(std::move(options));
  }

  ~PyKafkaDataset() { close(); }

  void close() {
    if (!dataset_) return;
    py::gil_scoped_release release;  // joins the prefetch thread, closes the consumer
    dataset_.reset();
  }

  // The next batch, or None at the end of the epoch / stream.
  py::object next() {
    data::KafkaDataset& d = get();
    wait_interruptibly([&d](kafka::milliseconds slice) { return d.wait_for_batch(slice); });
    std::optional<data::Batch> batch;
    {
      py::gil_scoped_release release;
      batch = d.next();
    }
    if (!batch) return py::none();
    return py::cast(PyBatch{std::move(*batch)});
  }

  data::KafkaDataset& get() {
    if (!dataset_) throw ConfigError("the KafkaDataset was closed");
    return *dataset_;
  }

 private:
  std::unique_ptr<data::KafkaDataset> dataset_;
};

class PyOutputSequence {
 public:
  PyOutputSequence(std::string topic, const py::object& config, int32_t partition, int64_t first_index,
                   int64_t produce_timeout_ms) {
    data::OutputSequenceOptions options;
    options.topic = std::move(topic);
    options.config = config_from(config);
    options.partition = partition;
    options.first_index = first_index;
    options.produce_timeout = kafka::milliseconds(produce_timeout_ms);
    py::gil_scoped_release release;
    sequence_ = std::make_unique<data::OutputSequence>(std::move(options));
  }
  ~PyOutputSequence() { close(); }

  void set(int64_t index, const py::object& value, const py::object& key, const py::object& headers,
           int32_t partition) {
    data::OutputItem item;
    item.value = text_of(value);
    if (!key.is_none()) item.key = text_of(key);
    item.headers = headers_from(headers);
    item.partition = partition;
    data::OutputSequence& s = get();
    py::gil_scoped_release release;  // may wait for queue space
    s.set(index, std::move(item));
  }

  py::dict flush(int64_t timeout_ms) {
    data::OutputSequence& s = get();
    data::OutputFlushResult r;
    {
      py::gil_scoped_release release;
      r = s.flush(kafka::milliseconds(timeout_ms));
    }
    py::dict out;
    out["written"] = r.written;
    out["delivered"] = r.delivered;
    out["held"] = r.held;
    out["next_index"] = r.next_index;
    return out;
  }

  void close() {
    if (!sequence_) return;
    py::gil_scoped_release release;
    sequence_.reset();
  }

  data::OutputSequence& get() {
    if (!sequence_) throw ConfigError("the OutputSequence was closed");
    return *sequence_;
  }

 private:
  std::unique_ptr<data::OutputSequence> sequence_;
};

class PyEmbeddedCluster {
 public:
  explicit PyEmbeddedCluster(int brokers) {
    if (brokers < 1) throw ConfigError("brokers " + std::to_string(brokers) + " is invalid: use 1 or more");
    py::gil_scoped_release release;
    cluster_ = std::make_unique<kafka::EmbeddedCluster>(kafka::EmbeddedClusterOptions{.brokers = brokers});
  }
  ~PyEmbeddedCluster() { close(); }
  void close() {
    if (!cluster_) return;
    py::gil_scoped_release release;
    cluster_.reset();
  }
  kafka::EmbeddedCluster& get() {
    if (!cluster_) throw ConfigError("the EmbeddedCluster was stopped");
    return *cluster_;
  }

 private:
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
};

// Produces `values` (bytes or str) to `topic`, waits for delivery; returns
// the (partition, offset) of each.
py::list produce(const std::string& topic, const py::sequence& values, const py::object& config,
                 int32_t partition, const py::object& keys) {
  std::vector<std::string> payloads;
  std::vector<std::optional<std::string>> key_list;
  payloads.reserve(values.size());
  for (const py::handle& v : values) payloads.push_back(text_of(v));
  if (!keys.is_none()) {
    for (const py::handle& k : keys) key_list.push_back(k.is_none() ? std::nullopt : std::optional(text_of(k)));
    if (key_list.size() != payloads.size()) throw ConfigError("produce: keys and values differ in length");
  }
  kafka::Config c = config_from(config);
  std::vector<std::pair<int32_t, int64_t>> placed(payloads.size(), {-1, -1});
  std::string failure;
  {
    py::gil_scoped_release release;
    kafka::Producer producer(c, [&](const kafka::DeliveryReport& r) {
      if (!r.error.ok()) {
        if (failure.empty()) failure = r.error.message();
        return;
      }
      placed[r.opaque] = {r.partition, r.offset};
    });
    for (size_t i = 0; i < payloads.size(); ++i) {
      kafka::ProduceRecord record;
      record.topic = topic;
      record.partition = partition;
      record.value = payloads[i];
      if (!key_list.empty() && key_list[i]) record.key = std::string_view(*key_list[i]);
      record.opaque = i;
      for (;;) {
        kafka::KafkaError e = producer.produce(record);
        if (e.ok()) break;
        if (!e.is_queue_full()) throw kafka::KafkaException(e.code(), "produce to " + topic + ": " + e.message());
        producer.poll(kafka::milliseconds(10));
      }
    }
    kafka::FlushResult f = producer.flush(kafka::milliseconds(60000));
    if (!f.ok() && failure.empty()) failure = std::to_string(f.still_queued) + " records not delivered in 60 s";
  }
  if (!failure.empty()) throw kafka::KafkaException(-1, "produce to " + topic + ": " + failure);
  py::list out;
  for (const auto& [p, o] : placed) out.append(py::make_tuple(p, o));
  return out;
}

void create_topic(const std::string& name, int partitions, const py::object& config, int replication_factor) {
  kafka::Config c = config_from(config);
  py::gil_scoped_release release;
  kafka::Admin admin(c);
  kafka::NewTopic topic;
  topic.name = name;
  topic.partitions = partitions;
  topic.replication_factor = replication_factor;
  admin.create_topics({topic});
}

}  // namespace

kafka::Config config_from(const py::handle& value) {
  kafka::Config config;
  if (value.is_none()) return config;
  for (const auto& [key, v] : py::reinterpret_borrow<py::dict>(value)) {
    config.set(key.cast<std::string>(), text_of(v));
  }
  return config;
}

void register_exceptions(py::module_& m) {
  static py::handle error = PyErr_NewExceptionWithDoc(
      "streamml.Error", "Base class of streamml's errors.", PyExc_RuntimeError, nullptr);
  auto derived = [&m](const char* name, const char* doc, PyObject* other) {
    py::tuple bases = other ? py::make_tuple(error, py::handle(other)) : py::make_tuple(error);
    PyObject* type = PyErr_NewExceptionWithDoc((std::string("streamml.") + name).c_str(), doc, bases.ptr(), nullptr);
    m.attr(name) = py::handle(type);
    return py::handle(type);
  };
  m.attr("Error") = error;
  static py::handle config_error = derived("ConfigError", "An invalid option or spec (exit code 2 in the CLI).",
                                           PyExc_ValueError);
  static py::handle input_error = derived("InputError", "Bad input data or files, naming the record or file.",
                                          PyExc_ValueError);
  static py::handle data_loss = derived("DataLossError", "Records no longer in the log.", nullptr);
  static py::handle kafka_error = derived("KafkaError", "An error of the Kafka cluster or client.", nullptr);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      PyErr_SetString(config_error.ptr(), e.what());
    } catch (const InputError& e) {
      PyErr_SetString(input_error.ptr(), e.what());
    } catch (const DataLossError& e) {
      PyErr_SetString(data_loss.ptr(), e.what());
    } catch (const kafka::KafkaException& e) {
      PyErr_SetString(kafka_error.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });
}

void register_data(py::module_& m) {
  py::class_<PyBatch>(m, "Batch", "One batch of decoded records (see streamml.KafkaDataset).")
      .def_property_readonly("size", [](const PyBatch& b) { return b.batch.size; })
      .def("__len__", [](const PyBatch& b) { return b.batch.size; })
      .def_property_readonly("num_features", [](const PyBatch& b) { return b.batch.num_features; })
      .def_property_readonly("num_labels", [](const PyBatch& b) { return b.batch.num_labels; })
      .def_property_readonly(
          "features", [](py::object self) {
            const auto& b = self.cast<const PyBatch&>();
            return b.rows(b.batch.features, b.batch.num_features, self);
          },
          "float32 [size, num_features], a view of the batch's rows (no copy)")
      .def_property_readonly(
          "labels", [](py::object self) {
            const auto& b = self.cast<const PyBatch&>();
            return b.rows(b.batch.labels, b.batch.num_labels, self);
          },
          "float32 [size, num_labels], a view of the batch's labels (no copy)")
      .def_property_readonly(
          "payloads", [](const PyBatch& b) {
            py::list out;
            for (const auto& p : b.batch.payloads) out.append(bytes_of(p));
            return out;
          },
          "the record values as bytes (without a decoder, or with keep_payloads=True), else []")
      .def_property_readonly(
          "meta", [](const PyBatch& b) {
            py::list out;
            py::object record_meta = py::module_::import("streamml").attr("RecordMeta");
            for (const auto& r : b.batch.meta) {
              out.append(record_meta(r.topic, r.partition, r.offset,
                                     r.has_key ? py::object(bytes_of(r.key)) : py::object(py::none()),
                                     r.timestamp_ms, headers_of(r.headers)));
            }
            return out;
          },
          "one streamml.RecordMeta(topic, partition, offset, key, timestamp, headers) per row");

  py::class_<PyKafkaDataset>(m, "_KafkaDataset")
      .def(py::init<const py::dict&>())
      .def("next", &PyKafkaDataset::next)
      .def("close", &PyKafkaDataset::close)
      .def("reset", [](PyKafkaDataset& d) {
        auto& ds = d.get();
        py::gil_scoped_release release;
        ds.reset();
      })
      .def("commit", [](PyKafkaDataset& d) {
        auto& ds = d.get();
        py::gil_scoped_release release;
        ds.commit();
      })
      .def("interrupt", [](PyKafkaDataset& d) { d.get().interrupt(); })
      .def("state", [](PyKafkaDataset& d) { return d.get().state(); })
      .def("restore", [](PyKafkaDataset& d, const std::string& s) {
        auto& ds = d.get();
        py::gil_scoped_release release;
        ds.restore(s);
      })
      .def("resolved_ranges", [](PyKafkaDataset& d) { return d.get().resolved_ranges(); })
      .def("positions", [](PyKafkaDataset& d) {
        py::list out;
        for (const auto& p : d.get().positions()) out.append(py::make_tuple(p.topic, p.partition, p.offset));
        return out;
      })
      .def("report", [](PyKafkaDataset& d) {
        data::BadRecordReport r = d.get().report();
        py::dict out;
        out["count"] = r.count;
        py::list examples;
        for (const auto& e : r.examples) examples.append(py::make_tuple(e.location, e.reason));
        out["examples"] = examples;
        out["summary"] = r.summary();
        return out;
      })
      // Benchmarks only (bench/python_dataset_bench.py): reads to the end of
      // the epoch in C++, touching each batch as the C++ ingest benchmark
      // does; returns (rows, checksum).
      .def("_drain", [](PyKafkaDataset& d) {
        auto& ds = d.get();
        py::gil_scoped_release release;
        int64_t rows = 0;
        double sum = 0;
        while (auto batch = ds.next()) {
          sum += (batch->features.empty() ? 0.0f : batch->features[0]) +
                 (batch->labels.empty() ? 0.0f : batch->labels[batch->size - 1]);
          rows += static_cast<int64_t>(batch->size);
        }
        return std::make_pair(rows, sum);
      })
      .def("records_returned", [](PyKafkaDataset& d) { return d.get().records_returned(); })
      .def("lost_records", [](PyKafkaDataset& d) { return d.get().lost_records(); })
      .def("num_features", [](PyKafkaDataset& d) { return d.get().num_features(); })
      .def("num_labels", [](PyKafkaDataset& d) { return d.get().num_labels(); })
      .def("feature_names", [](PyKafkaDataset& d) { return d.get().feature_names(); })
      .def("decoder_spec", [](PyKafkaDataset& d) { return d.get().decoder_spec(); });

  py::class_<PyOutputSequence>(m, "_OutputSequence")
      .def(py::init<std::string, py::object, int32_t, int64_t, int64_t>())
      .def("set", &PyOutputSequence::set)
      .def("flush", &PyOutputSequence::flush)
      .def("close", &PyOutputSequence::close)
      .def("next_index", [](PyOutputSequence& s) { return s.get().next_index(); })
      .def("held", [](PyOutputSequence& s) { return s.get().held(); });

  py::class_<PyEmbeddedCluster>(m, "_EmbeddedCluster")
      .def(py::init<int>())
      .def("close", &PyEmbeddedCluster::close)
      .def("bootstrap_servers", [](PyEmbeddedCluster& c) { return c.get().bootstrap_servers(); })
      .def("create_topic", [](PyEmbeddedCluster& c, const std::string& name, int partitions) {
        auto& cluster = c.get();
        py::gil_scoped_release release;
        cluster.create_topic(name, partitions);
      });

  m.def("_produce", &produce);
  m.def("_create_topic", &create_topic);
}

}  // namespace streamml::python

PYBIND11_MODULE(_streamml, m) {
  m.doc() = "streamml's C++ core; use the package streamml.";
  streamml::python::register_exceptions(m);
  streamml::python::register_data(m);
  streamml::python::register_model(m);
}
