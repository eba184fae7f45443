// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// CsvDecoder: one CSV line (RFC 4180 quoting) -> float features and labels.
// Spec: csv:[delim=C][,header][,names=a+b+..][,columns=N]
//           [,features=SEL+..][,label=SEL+..][,missing=error|zero|nan]
// where SEL is a 0-based column index, an index range `0..29` or a column
// name (resolved against names= or the file header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamml/data/decoder.h"

namespace streamml::data {

// A column chosen by 0-based index, or by name when `name` is not empty.
struct ColumnRef {
  size_t index = 0;
  std::string name;

  static ColumnRef at(size_t i) { return ColumnRef{i, {}}; }
  static ColumnRef named(std::string n) { return ColumnRef{0, std::move(n)}; }
};

struct CsvOptions {
  char delimiter = ',';                // field separator; '"' and '\n' are not allowed
  bool header = false;                 // files start with a header line (names come from it)
  std::vector<std::string> names;      // column names (from names= or the header); may be empty
  size_t num_columns = 0;              // columns per record (columns=N); 0 = from names or unknown
  std::vector<ColumnRef> features;     // empty = every column except the labels
  std::vector<ColumnRef> labels;       // empty = unlabeled records
  MissingPolicy missing = MissingPolicy::kError;  // empty, absent or non-numeric fields
  // Decode the features only (num_labels() is 0), from records with or
  // without the label columns: a record as wide as the labelled one (or
  // wider) has its features where the spec says; a narrower one is taken as
  // the same columns with the label columns removed.
  bool features_only = false;
};

// Thread-safety: immutable; decode() may run on several threads at once.
// decode() allocates nothing.
class CsvDecoder final : public Decoder {
 public:
  // Throws ConfigError naming the option (features, label, names, delim,
  // columns) when a column cannot be resolved or is selected twice.
  explicit CsvDecoder(CsvOptions options);

  size_t num_features() const override { return feature_columns_.size(); }
  size_t num_labels() const override { return options_.features_only ? 0 : label_columns_.size(); }
  std::vector<std::string> feature_names() const override;
  std::vector<std::string> label_names() const override;
  std::optional<std::string> decode(std::string_view line, float* features,
                                    float* labels) const override;
  std::string spec() const override;

  const CsvOptions& options() const { return options_; }
  // Resolved 0-based column indices (label columns as the spec names them,
  // also with features_only).
  const std::vector<size_t>& feature_columns() const { return feature_columns_; }
  const std::vector<size_t>& label_columns() const { return label_columns_; }

 private:
  std::string column_name(size_t column) const;
  // Decodes `line` (line breaks removed) with the column -> slot table `slots`.
  std::optional<std::string> decode_columns(std::string_view line, const std::vector<int32_t>& slots,
                                            float* features, float* labels) const;
  // The columns from `fields` on are missing from the record: the policy's
  // value, or the error naming the first needed one.
  std::optional<std::string> fill_missing(size_t fields, const std::vector<int32_t>& slots, float* features,
                                          float* labels) const;
  // features_only: why a record of `fields` fields has neither width.
  std::string widths_error(size_t fields) const;

  CsvOptions options_;
  std::vector<size_t> feature_columns_;
  std::vector<size_t> label_columns_;
  // slot_of_column_[c]: output slot of column c (features first, then
  // labels), or -1 when the column is not used. With features_only, labels
  // have no slot.
  std::vector<int32_t> slot_of_column_;
  // features_only, when a label column comes before a feature column: the
  // slots of records without the label columns (empty otherwise: both kinds
  // of record then have their features in the same columns).
  std::vector<int32_t> unlabelled_slot_of_column_;
  // How many leading columns are features 0, 1, ... in order (copied as a
  // block), with each of the two tables.
  size_t feature_prefix_ = 0;
  size_t unlabelled_feature_prefix_ = 0;
  // features_only: fields of a labelled record (columns=, names= or the
  // last selected column) and of one without labels; `exact_widths_` when
  // the column count is known.
  size_t labelled_width_ = 0;
  size_t unlabelled_width_ = 0;
  bool exact_widths_ = false;
};

// Splits one CSV line into its fields (RFC 4180 quotes removed, "" -> ").
// For tools and tests; decoders do not allocate like this. Returns nullopt
// and sets *error on a malformed quoted field.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char delimiter,
                                                       std::string* error = nullptr);

// True when `line` ends inside a quoted field (the record continues on the
// next line).
bool csv_line_is_open(std::string_view line);

}  // namespace streamml::data
