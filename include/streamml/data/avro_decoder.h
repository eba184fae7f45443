// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// AvroDecoder: one Avro binary datum (plain, or in the Confluent wire format:
// magic byte 0, 4-byte big-endian schema id, datum) of a record schema ->
// float features and labels, or typed field values (decode_fields()).
// Spec: avro:schema=PATH | schema64=BASE64URL  (writer schema, a record)
//           [,confluent][,schema_id=N][,features=F+..][,label=F+..]
//           [,features_only][,missing=error|zero|nan]
// F: a numeric field `f2`, or elements of an array field `v[0]`, `v[0..7]`.
// Supported field types: null, boolean, int, long, float, double, string,
// bytes, unions of null and one of those, arrays of int/long/float/double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "streamml/data/decoder.h"

namespace streamml::data {

// A decoded field: null, int/long, float/double, boolean, string/bytes, or an
// array of numbers.
using FieldValue =
    std::variant<std::monostate, int64_t, double, bool, std::string, std::vector<double>>;

// Renders a field as TensorFlow I/O does: null -> "", numbers in shortest
// round-trip form, booleans "true"/"false", arrays "[1,2]".
std::string to_string(const FieldValue& value);

struct AvroOptions {
  std::string schema_json;            // writer schema (JSON); a record
  bool confluent = false;             // payloads use the Confluent wire format
  std::optional<int32_t> schema_id;   // with confluent: reject other schema ids
  std::vector<std::string> features;  // fields/elements; empty = every numeric scalar field but labels
  std::vector<std::string> labels;    // fields/elements; empty = unlabeled
  MissingPolicy missing = MissingPolicy::kError;  // null without a numeric default
  // Decode the features only (num_labels() is 0): a null label is fine, and
  // so is a datum written without the label fields (a schema like this one
  // minus the fields that are only labels), tried when the datum does not
  // read with the full schema.
  bool features_only = false;
};

// Thread-safety: immutable; decode() and decode_fields() may run on several
// threads at once (each thread walks datums with its own thread_local
// scratch buffers; nothing is allocated per record once they have grown).
class AvroDecoder final : public Decoder {
 public:
  // Throws ConfigError naming the option: `schema` when the schema does not
  // parse, is not a record or has an unsupported field type; `features` or
  // `label` when a field is unknown, a string, or an array without indices.
  explicit AvroDecoder(AvroOptions options);
  ~AvroDecoder() override;
  AvroDecoder(const AvroDecoder&) = delete;
  AvroDecoder& operator=(const AvroDecoder&) = delete;

  size_t num_features() const override { return num_features_; }
  size_t num_labels() const override;
  std::vector<std::string> feature_names() const override;
  std::vector<std::string> label_names() const override;
  std::optional<std::string> decode(std::string_view payload, float* features,
                                    float* labels) const override;
  std::string spec() const override;

  // Names of the record's fields, in schema order.
  std::vector<std::string> field_names() const;
  // Decodes every field of the record into `out` (one value per field, in
  // schema order). Returns nullopt, or the reason the payload is undecodable.
  std::optional<std::string> decode_fields(std::string_view payload,
                                           std::vector<FieldValue>& out) const;
  // Same, throwing InputError with the reason.
  std::vector<FieldValue> decode_fields(std::string_view payload) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t num_features_ = 0;
};

}  // namespace streamml::data
