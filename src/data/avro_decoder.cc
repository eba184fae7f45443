// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The writer schema is parsed and validated by Avro C. Datums are walked by
// the bounded reader below instead of Avro C's generic reader: that one
// allocates whatever a length prefix claims before checking it against the
// payload, so a 6-byte record could ask for gigabytes, and it allocates per
// string and array on every record. This reader allocates nothing per
// record, checks every length and count against the bytes left, and is
// tested against datums written by Avro C.
#include "streamml/data/avro_decoder.h"

#include <avro.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "data/base64url.h"
#include "data/decoder_factories.h"
#include "data/spec_reader.h"
#include "streamml/common/error.h"

namespace streamml::data {

namespace {

constexpr std::string_view kAvroForm =
    "avro:schema=PATH|schema64=BASE64URL[,confluent][,schema_id=N][,features=F+..]"
    "[,label=F+..][,features_only][,missing=error|zero|nan] where F is a field, arr[2] or arr[0..7]";
constexpr uintmax_t kMaxSchemaBytes = 16u << 20;
constexpr size_t kNoElement = std::numeric_limits<size_t>::max();

enum class Kind { kNull, kBoolean, kInt, kLong, kFloat, kDouble, kString, kBytes, kArray };

bool is_numeric(Kind k) {
  return k == Kind::kBoolean || k == Kind::kInt || k == Kind::kLong || k == Kind::kFloat ||
         k == Kind::kDouble;
}

struct Branch {
  Kind kind = Kind::kNull;
  Kind item = Kind::kNull;  // arrays: element kind
};

struct FieldInfo {
  std::string name;
  bool is_union = false;
  std::vector<Branch> branches;  // one unless is_union
  std::optional<double> default_value;  // a numeric schema default
  bool numeric = false;  // every non-null branch is a number or boolean
  bool array = false;    // every non-null branch is an array of numbers
  bool nullable = false;
};

// A field of one decoded datum. Strings point into the payload; array
// elements live in the thread's element buffer.
struct FieldView {
  Kind kind = Kind::kNull;
  double number = 0;
  int64_t integer = 0;  // exact value of int/long fields (number may round)
  std::string_view text;
  size_t elements_begin = 0;
  size_t elements_size = 0;
};

struct Scratch {
  std::vector<FieldView> fields;
  std::vector<double> elements;
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

[[noreturn]] void config_error(std::string_view option, const std::string& why) {
  throw ConfigError("avro decoder: option '" + std::string(option) + "': " + why +
                    " (expected: " + std::string(kAvroForm) + ")");
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kNull: return "null";
    case Kind::kBoolean: return "boolean";
    case Kind::kInt: return "int";
    case Kind::kLong: return "long";
    case Kind::kFloat: return "float";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kBytes: return "bytes";
    case Kind::kArray: return "array";
  }
  return "?";
}

std::optional<Kind> primitive_kind(avro_schema_t s) {
  switch (avro_typeof(s)) {
    case AVRO_NULL: return Kind::kNull;
    case AVRO_BOOLEAN: return Kind::kBoolean;
    case AVRO_INT32: return Kind::kInt;
    case AVRO_INT64: return Kind::kLong;
    case AVRO_FLOAT: return Kind::kFloat;
    case AVRO_DOUBLE: return Kind::kDouble;
    case AVRO_STRING: return Kind::kString;
    case AVRO_BYTES: return Kind::kBytes;
    default: return std::nullopt;
  }
}

std::optional<Branch> branch_of(avro_schema_t s) {
  if (is_avro_array(s)) {
    auto item = primitive_kind(avro_schema_array_items(s));
    if (!item || !(*item == Kind::kInt || *item == Kind::kLong || *item == Kind::kFloat ||
                   *item == Kind::kDouble)) {
      return std::nullopt;
    }
    return Branch{Kind::kArray, *item};
  }
  auto kind = primitive_kind(s);
  if (!kind) return std::nullopt;
  return Branch{*kind, Kind::kNull};
}

// Bounded reader over one datum.
class Cursor {
 public:
  Cursor(const char* p, const char* end) : p_(p), end_(end) {}
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  const char* pos() const { return p_; }

  bool read_long(int64_t& out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      value |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  bool read_bytes(size_t n, const char*& out) {
    if (n > left()) return false;
    out = p_;
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

struct AvroDecoder::Impl {
  AvroOptions options;
  std::string record_name;
  std::vector<FieldInfo> fields;
  // Selected values: features first, then labels.
  struct Selection {
    size_t field = 0;
    size_t element = kNoElement;
    std::string name;
  };
  std::vector<Selection> selections;
  std::vector<std::string> feature_items;  // as given (or defaulted), for spec()
  std::vector<std::string> label_items;
  // features_only: the record without its label-only fields, and where each
  // field of `fields` is in it (kNoElement: a label-only field). Empty when
  // no field is only a label.
  std::vector<FieldInfo> unlabelled_fields;
  std::vector<size_t> unlabelled_index;

  // Walks one datum of a record of `record_fields` into scratch.fields.
  // Returns the reason on failure.
  std::optional<std::string> read(std::string_view payload, Scratch& scratch,
                                  const std::vector<FieldInfo>& record_fields) const;
  void select(const std::string& item, std::string_view option);
};

std::optional<std::string> AvroDecoder::Impl::read(std::string_view payload, Scratch& scratch,
                                                   const std::vector<FieldInfo>& record_fields) const {
  if (options.confluent) {
    if (payload.size() < 5) {
      return fmt::format(
          "payload of {} bytes is too short for the Confluent wire format (magic byte 0 and a "
          "4-byte schema id, then the datum)",
          payload.size());
    }
    const auto magic = static_cast<uint8_t>(payload[0]);
    if (magic != 0) {
      return fmt::format(
          "wrong magic byte 0x{:02x}: the Confluent wire format starts with 0x00 (is the payload "
          "plain Avro? then drop the confluent option)",
          magic);
    }
    const auto id = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint8_t>(payload[1])) << 24 |
                                         static_cast<uint32_t>(static_cast<uint8_t>(payload[2])) << 16 |
                                         static_cast<uint32_t>(static_cast<uint8_t>(payload[3])) << 8 |
                                         static_cast<uint32_t>(static_cast<uint8_t>(payload[4])));
    if (options.schema_id && id != *options.schema_id) {
      return fmt::format("schema id {} in the Confluent header, expected {}", id,
                         *options.schema_id);
    }
    payload.remove_prefix(5);
  }
  scratch.fields.resize(record_fields.size());
  scratch.elements.clear();
  Cursor in(payload.data(), payload.data() + payload.size());
  auto truncated = [&](const FieldInfo& f) {
    return fmt::format("truncated or corrupt datum: field '{}' cannot be read ({} bytes left)",
                       f.name, in.left());
  };
  for (size_t i = 0; i < record_fields.size(); ++i) {
    const FieldInfo& f = record_fields[i];
    const Branch* branch = &f.branches[0];
    if (f.is_union) {
      int64_t index = 0;
      if (!in.read_long(index)) return truncated(f);
      if (index < 0 || static_cast<size_t>(index) >= f.branches.size()) {
        return fmt::format("field '{}': union branch {} does not exist ({} branches)", f.name,
                           index, f.branches.size());
      }
      branch = &f.branches[static_cast<size_t>(index)];
    }
    FieldView& view = scratch.fields[i];
    view = FieldView{};
    view.kind = branch->kind;
    auto read_number = [&](Kind kind, double& out, int64_t* exact = nullptr) -> bool {
      const char* p = nullptr;
      int64_t v = 0;
      switch (kind) {
        case Kind::kBoolean:
          if (!in.read_bytes(1, p)) return false;
          if (*p != 0 && *p != 1) return false;
          out = *p;
          return true;
        case Kind::kInt:
          if (!in.read_long(v) || v < std::numeric_limits<int32_t>::min() ||
              v > std::numeric_limits<int32_t>::max()) {
            return false;
          }
          out = static_cast<double>(v);
          if (exact != nullptr) *exact = v;
          return true;
        case Kind::kLong:
          if (!in.read_long(v)) return false;
          out = static_cast<double>(v);
          if (exact != nullptr) *exact = v;
          return true;
        case Kind::kFloat: {
          if (!in.read_bytes(4, p)) return false;
          uint32_t bits = 0;
          for (int k = 3; k >= 0; --k) bits = bits << 8 | static_cast<uint8_t>(p[k]);
          out = std::bit_cast<float>(bits);
          return true;
        }
        case Kind::kDouble: {
          if (!in.read_bytes(8, p)) return false;
          uint64_t bits = 0;
          for (int k = 7; k >= 0; --k) bits = bits << 8 | static_cast<uint8_t>(p[k]);
          out = std::bit_cast<double>(bits);
          return true;
        }
        default:
          return false;
      }
    };
    switch (branch->kind) {
      case Kind::kNull:
        break;
      case Kind::kBoolean:
      case Kind::kInt:
      case Kind::kLong:
      case Kind::kFloat:
      case Kind::kDouble:
        if (!read_number(branch->kind, view.number, &view.integer)) return truncated(f);
        break;
      case Kind::kString:
      case Kind::kBytes: {
        int64_t length = 0;
        const char* p = nullptr;
        if (!in.read_long(length) || length < 0 ||
            !in.read_bytes(static_cast<size_t>(length), p)) {
          return truncated(f);
        }
        view.text = std::string_view(p, static_cast<size_t>(length));
        break;
      }
      case Kind::kArray: {
        view.elements_begin = scratch.elements.size();
        while (true) {
          int64_t count = 0;
          if (!in.read_long(count)) return truncated(f);
          if (count == 0) break;
          if (count < 0) {
            int64_t block_bytes = 0;
            if (count == std::numeric_limits<int64_t>::min() || !in.read_long(block_bytes)) {
              return truncated(f);
            }
            count = -count;
          }
          // Every number takes at least one byte: a count beyond the bytes
          // left is corrupt, and this bounds the buffer by the payload.
          if (static_cast<uint64_t>(count) > in.left()) return truncated(f);
          for (int64_t k = 0; k < count; ++k) {
            double v = 0;
            if (!read_number(branch->item, v)) return truncated(f);
            scratch.elements.push_back(v);
          }
        }
        view.elements_size = scratch.elements.size() - view.elements_begin;
        break;
      }
    }
  }
  if (in.left() != 0) {
    return fmt::format("{} trailing bytes after the datum (does the writer schema match?)",
                       in.left());
  }
  return std::nullopt;
}

void AvroDecoder::Impl::select(const std::string& item, std::string_view option) {
  std::string_view name = item;
  std::optional<std::pair<size_t, size_t>> range;
  const size_t bracket = name.find('[');
  if (bracket != std::string_view::npos) {
    if (name.back() != ']') config_error(option, "malformed selector \"" + item + "\"");
    const std::string_view inside = name.substr(bracket + 1, name.size() - bracket - 2);
    bool reversed = false;
    if (auto r = internal::parse_range(inside, &reversed)) {
      if (r->second - r->first >= (size_t{1} << 20)) config_error(option, "range too large");
      range = r;
    } else if (auto index = internal::parse_index(inside)) {
      range = std::make_pair(*index, *index);
    } else {
      config_error(option, "\"" + item + "\": expected NAME, NAME[N] or NAME[A..B]");
    }
    name = name.substr(0, bracket);
  }
  size_t field = 0;
  while (field < fields.size() && fields[field].name != name) ++field;
  if (field == fields.size()) {
    std::string known;
    for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.name;
    config_error(option, "record " + record_name + " has no field \"" + std::string(name) +
                             "\" (fields: " + known + ")");
  }
  const FieldInfo& f = fields[field];
  if (range) {
    if (!f.array) {
      config_error(option, "field \"" + f.name + "\" is not an array of numbers; select it as \"" +
                               f.name + "\"");
    }
    for (size_t k = range->first; k <= range->second; ++k) {
      selections.push_back({field, k, fmt::format("{}[{}]", f.name, k)});
    }
    return;
  }
  if (f.array) {
    config_error(option, "field \"" + f.name +
                             "\" is an array: declare the elements, e.g. " + f.name + "[0.." +
                             "7]");
  }
  if (!f.numeric) {
    std::string types;
    for (const Branch& b : f.branches) types += (types.empty() ? "" : "|") + std::string(kind_name(b.kind));
    config_error(option, "field \"" + f.name + "\" is " + types +
                             ": only int, long, float, double, boolean (or nullable ones) and "
                             "arrays of numbers can be features or labels");
  }
  selections.push_back({field, kNoElement, f.name});
}

AvroDecoder::AvroDecoder(AvroOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = std::move(options);
  const std::string& json = m.options.schema_json;
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(json.data(), json.size(), &schema) != 0) {
    config_error("schema", std::string("invalid Avro schema: ") + avro_strerror());
  }
  struct SchemaRef {
    avro_schema_t s;
    ~SchemaRef() { avro_schema_decref(s); }
  } schema_ref{schema};
  if (!is_avro_record(schema)) {
    config_error("schema", std::string("the schema is a ") + avro_schema_type_name(schema) +
                               ", not a record");
  }
  m.record_name = avro_schema_name(schema);
  const size_t n = avro_schema_record_size(schema);
  for (size_t i = 0; i < n; ++i) {
    FieldInfo f;
    f.name = avro_schema_record_field_name(schema, static_cast<int>(i));
    avro_schema_t type = avro_schema_record_field_get_by_index(schema, static_cast<int>(i));
    auto unsupported = [&](avro_schema_t t) {
      config_error("schema", "field \"" + f.name + "\" has type " + avro_schema_type_name(t) +
                                 "; supported: null, boolean, int, long, float, double, string, "
                                 "bytes, arrays of numbers and unions of those");
    };
    if (is_avro_union(type)) {
      f.is_union = true;
      for (size_t b = 0; b < avro_schema_union_size(type); ++b) {
        avro_schema_t branch = avro_schema_union_branch(type, static_cast<int>(b));
        auto info = branch_of(branch);
        if (!info) unsupported(branch);
        f.branches.push_back(*info);
      }
    } else {
      auto info = branch_of(type);
      if (!info) unsupported(type);
      f.branches.push_back(*info);
    }
    bool any_value = false;
    f.numeric = true;
    f.array = true;
    for (const Branch& b : f.branches) {
      if (b.kind == Kind::kNull) {
        f.nullable = true;
        continue;
      }
      any_value = true;
      if (!is_numeric(b.kind)) f.numeric = false;
      if (b.kind != Kind::kArray) f.array = false;
    }
    if (!any_value) f.numeric = f.array = false;
    m.fields.push_back(std::move(f));
  }
  // Numeric defaults, for null values (Avro C does not expose field defaults).
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array json_fields;
  if (!parser.parse(json.data(), json.size()).get(root) &&
      !root["fields"].get_array().get(json_fields)) {
    for (simdjson::dom::element field : json_fields) {
      std::string_view name;
      simdjson::dom::element value;
      if (field["name"].get_string().get(name) || field["default"].get(value)) continue;
      for (FieldInfo& f : m.fields) {
        if (f.name != name) continue;
        double d = 0;
        if (value.is_bool()) {
          f.default_value = bool(value) ? 1.0 : 0.0;
        } else if (!value.get_double().get(d)) {
          f.default_value = d;
        } else if (int64_t v = 0; !value.get_int64().get(v)) {
          f.default_value = static_cast<double>(v);
        } else if (uint64_t u = 0; !value.get_uint64().get(u)) {
          f.default_value = static_cast<double>(u);
        }
      }
    }
  }
  if (m.options.schema_id && !m.options.confluent) {
    config_error("schema_id", "only applies to the Confluent wire format (add confluent)");
  }

  for (const std::string& item : m.options.labels) m.select(item, "label");
  const size_t num_labels = m.selections.size();
  if (m.options.features.empty()) {
    for (const FieldInfo& f : m.fields) {
      if (!f.numeric) continue;
      bool is_label = false;
      for (const auto& s : m.selections) is_label |= m.fields[s.field].name == f.name;
      if (!is_label) m.feature_items.push_back(f.name);
    }
    if (m.feature_items.empty()) {
      config_error("features", "record " + m.record_name + " has no numeric field left to use");
    }
  } else {
    m.feature_items = m.options.features;
  }
  m.label_items = m.options.labels;
  for (const std::string& item : m.feature_items) m.select(item, "features");
  // Features first, then labels.
  std::vector<Impl::Selection> ordered(m.selections.begin() + static_cast<ptrdiff_t>(num_labels),
                                       m.selections.end());
  ordered.insert(ordered.end(), m.selections.begin(),
                 m.selections.begin() + static_cast<ptrdiff_t>(num_labels));
  m.selections = std::move(ordered);
  num_features_ = m.selections.size() - num_labels;
  for (size_t i = 0; i < m.selections.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (m.selections[i].name == m.selections[j].name) {
        config_error(i < num_features_ ? "features" : "label",
                     "\"" + m.selections[i].name + "\" is selected twice");
      }
    }
  }
  if (m.options.features_only) {
    std::vector<bool> label_only(m.fields.size(), false);
    for (size_t i = num_features_; i < m.selections.size(); ++i) {
      if (m.selections[i].element == kNoElement) label_only[m.selections[i].field] = true;
    }
    for (size_t i = 0; i < num_features_; ++i) label_only[m.selections[i].field] = false;
    m.selections.resize(num_features_);
    if (std::find(label_only.begin(), label_only.end(), true) != label_only.end()) {
      for (size_t f = 0; f < m.fields.size(); ++f) {
        m.unlabelled_index.push_back(label_only[f] ? kNoElement : m.unlabelled_fields.size());
        if (!label_only[f]) m.unlabelled_fields.push_back(m.fields[f]);
      }
    }
  }
}

AvroDecoder::~AvroDecoder() = default;

size_t AvroDecoder::num_labels() const { return impl_->selections.size() - num_features_; }

std::vector<std::string> AvroDecoder::feature_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < num_features_; ++i) names.push_back(impl_->selections[i].name);
  return names;
}

std::vector<std::string> AvroDecoder::label_names() const {
  std::vector<std::string> names;
  for (size_t i = num_features_; i < impl_->selections.size(); ++i) {
    names.push_back(impl_->selections[i].name);
  }
  return names;
}

std::vector<std::string> AvroDecoder::field_names() const {
  std::vector<std::string> names;
  for (const FieldInfo& f : impl_->fields) names.push_back(f.name);
  return names;
}

std::optional<std::string> AvroDecoder::decode(std::string_view payload, float* features,
                                               float* labels) const {
  const Impl& m = *impl_;
  Scratch& scratch = thread_scratch();
  bool unlabelled = false;
  if (auto error = m.read(payload, scratch, m.fields)) {
    if (m.unlabelled_fields.empty()) return error;
    // features_only: perhaps a datum written without the label fields.
    if (auto without = m.read(payload, scratch, m.unlabelled_fields)) {
      return "the datum reads neither with the label fields (" + *error + ") nor without them (" + *without + ")";
    }
    unlabelled = true;
  }
  const MissingPolicy policy = m.options.missing;
  for (size_t i = 0; i < m.selections.size(); ++i) {
    const Impl::Selection& s = m.selections[i];
    const FieldView& view = scratch.fields[unlabelled ? m.unlabelled_index[s.field] : s.field];
    float value = 0;
    if (view.kind == Kind::kNull) {
      const FieldInfo& f = m.fields[s.field];
      if (f.default_value && s.element == kNoElement) {
        value = static_cast<float>(*f.default_value);
      } else if (policy == MissingPolicy::kError) {
        return "field '" + s.name + "' is null";
      } else {
        value = internal::missing_value(policy);
      }
    } else if (s.element != kNoElement) {
      if (s.element >= view.elements_size) {
        if (policy == MissingPolicy::kError) {
          return fmt::format("field '{}' is missing: the array has {} elements", s.name,
                             view.elements_size);
        }
        value = internal::missing_value(policy);
      } else {
        value = static_cast<float>(scratch.elements[view.elements_begin + s.element]);
      }
    } else {
      value = static_cast<float>(view.number);
    }
    if (i < num_features_) {
      features[i] = value;
    } else {
      labels[i - num_features_] = value;
    }
  }
  return std::nullopt;
}

std::optional<std::string> AvroDecoder::decode_fields(std::string_view payload,
                                                      std::vector<FieldValue>& out) const {
  const Impl& m = *impl_;
  Scratch& scratch = thread_scratch();
  if (auto error = m.read(payload, scratch, m.fields)) return error;
  out.clear();
  out.reserve(m.fields.size());
  for (const FieldView& view : scratch.fields) {
    switch (view.kind) {
      case Kind::kNull:
        out.emplace_back(std::monostate{});
        break;
      case Kind::kBoolean:
        out.emplace_back(view.number != 0);
        break;
      case Kind::kInt:
      case Kind::kLong:
        out.emplace_back(view.integer);
        break;
      case Kind::kFloat:
      case Kind::kDouble:
        out.emplace_back(view.number);
        break;
      case Kind::kString:
      case Kind::kBytes:
        out.emplace_back(std::string(view.text));
        break;
      case Kind::kArray:
        out.emplace_back(std::vector<double>(
            scratch.elements.begin() + static_cast<ptrdiff_t>(view.elements_begin),
            scratch.elements.begin() +
                static_cast<ptrdiff_t>(view.elements_begin + view.elements_size)));
        break;
    }
  }
  return std::nullopt;
}

std::vector<FieldValue> AvroDecoder::decode_fields(std::string_view payload) const {
  std::vector<FieldValue> out;
  if (auto error = decode_fields(payload, out)) throw InputError("avro decoder: " + *error);
  return out;
}

std::string AvroDecoder::spec() const {
  const Impl& m = *impl_;
  std::string out = "avro:schema64=" + internal::base64url_encode(m.options.schema_json) + ",";
  if (m.options.confluent) out += "confluent,";
  if (m.options.schema_id) out += fmt::format("schema_id={},", *m.options.schema_id);
  out += "features=" + internal::join_items(m.feature_items) + ",";
  if (!m.label_items.empty()) out += "label=" + internal::join_items(m.label_items) + ",";
  if (m.options.features_only) out += "features_only,";
  out += "missing=" + std::string(to_string(m.options.missing));
  return out;
}

std::string to_string(const FieldValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<double>& v) const {
      return fmt::format("[{}]", fmt::join(v, ","));
    }
  };
  return std::visit(Visitor{}, value);
}

namespace internal {

std::unique_ptr<Decoder> make_avro_decoder(const DecoderSpec& spec) {
  SpecReader reader(spec,
                    {"schema", "schema64", "confluent", "schema_id", "features", "label", "features_only",
                     "missing"},
                    kAvroForm);
  AvroOptions options;
  auto path = reader.scalar("schema");
  auto inline_schema = reader.scalar("schema64");
  if (path && inline_schema) reader.fail("schema64", "give either schema=PATH or schema64=, not both");
  if (path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(*path, ec);
    if (ec || !std::filesystem::is_regular_file(*path, ec)) {
      reader.fail("schema", "cannot read schema file \"" + *path + "\": " +
                                (ec ? ec.message() : std::string("not a regular file")));
    }
    if (size > kMaxSchemaBytes) {
      reader.fail("schema", fmt::format("schema file \"{}\" has {} bytes (more than {})", *path,
                                        size, kMaxSchemaBytes));
    }
    std::ifstream in(*path, std::ios::binary);
    if (!in) reader.fail("schema", "cannot read schema file \"" + *path + "\": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    options.schema_json = text.str();
  } else if (inline_schema) {
    auto decoded = base64url_decode(*inline_schema);
    if (!decoded) reader.fail("schema64", "is not valid base64url");
    options.schema_json = std::move(*decoded);
  } else {
    reader.fail("schema", "a writer schema is required");
  }
  options.confluent = reader.flag("confluent");
  if (auto id = reader.size("schema_id", 0, std::numeric_limits<int32_t>::max())) options.schema_id = static_cast<int32_t>(*id);
  if (auto features = reader.list("features")) options.features = std::move(*features);
  if (auto labels = reader.list("label")) options.labels = std::move(*labels);
  options.features_only = reader.flag("features_only");
  options.missing = reader.missing();
  reader.finish();
  try {
    return std::make_unique<AvroDecoder>(std::move(options));
  } catch (const ConfigError& e) {
    throw ConfigError(spec_context(spec.text()) + e.what());
  }
}

}  // namespace internal

}  // namespace streamml::data
