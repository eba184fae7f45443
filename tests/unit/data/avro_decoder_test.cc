// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/avro_decoder.h"

#include <avro.h>
#include <gtest/gtest.h>

#include <limits>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>
#include <tuple>

#include "decoder_test_util.h"
#include "streamml/common/error.h"

namespace streamml::data {
namespace {

using test_util::config_error_of;

// Writes one datum of `schema_json` with Avro C's own writer.
std::string write_datum(const std::string& schema_json,
                        const std::function<void(avro_value_t&)>& fill) {
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema) != 0) {
    ADD_FAILURE() << avro_strerror();
    return {};
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t record;
  avro_generic_value_new(iface, &record);
  fill(record);
  std::string buffer(1 << 16, '\0');
  avro_writer_t writer = avro_writer_memory(buffer.data(), static_cast<int64_t>(buffer.size()));
  EXPECT_EQ(avro_value_write(writer, &record), 0) << avro_strerror();
  buffer.resize(static_cast<size_t>(avro_writer_tell(writer)));
  avro_writer_free(writer);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return buffer;
}

avro_value_t field(avro_value_t& record, const char* name) {
  avro_value_t out;
  EXPECT_EQ(avro_value_get_by_name(&record, name, &out, nullptr), 0) << name;
  return out;
}

std::string confluent_frame(int32_t id, const std::string& datum) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((id >> shift) & 0xff));
  return out + datum;
}

std::string base64url(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
  }
  return out;
}

const std::string kTfioSchema = R"({"type":"record","name":"myrecord","fields":[
  {"name":"f1","type":"string"},
  {"name":"f2","type":"long"},
  {"name":"f3","type":["null","string"],"default":null}]})";

// TensorFlow I/O's test_avro_encode_decode: three Confluent-framed records,
// decoded to (value1,1,""), (value2,2,"2"), (value3,3,"").
TEST(AvroDecoder, TensorFlowIoConfluentRecords) {
  std::vector<std::string> payloads;
  for (int i = 1; i <= 3; ++i) {
    payloads.push_back(confluent_frame(1, write_datum(kTfioSchema, [&](avro_value_t& r) {
      avro_value_t f1 = field(r, "f1");
      avro_value_set_string(&f1, ("value" + std::to_string(i)).c_str());
      avro_value_t f2 = field(r, "f2");
      avro_value_set_long(&f2, i);
      avro_value_t f3 = field(r, "f3");
      avro_value_t branch;
      if (i == 2) {
        avro_value_set_branch(&f3, 1, &branch);
        avro_value_set_string(&branch, "2");
      } else {
        avro_value_set_branch(&f3, 0, &branch);
        avro_value_set_null(&branch);
      }
    })));
  }
  AvroOptions options;
  options.schema_json = kTfioSchema;
  options.confluent = true;
  AvroDecoder decoder(options);
  EXPECT_EQ(decoder.field_names(), (std::vector<std::string>{"f1", "f2", "f3"}));
  std::vector<std::tuple<std::string, int64_t, std::string>> rows;
  for (const std::string& payload : payloads) {
    std::vector<FieldValue> fields = decoder.decode_fields(payload);
    ASSERT_EQ(fields.size(), 3u);
    rows.emplace_back(std::get<std::string>(fields[0]), std::get<int64_t>(fields[1]),
                      to_string(fields[2]));
  }
  using T = std::tuple<std::string, int64_t, std::string>;
  EXPECT_EQ(rows, (std::vector<T>{T{"value1", 1, ""}, T{"value2", 2, "2"}, T{"value3", 3, ""}}));
  // The null is a typed null; only its string form is "".
  EXPECT_TRUE(std::holds_alternative<std::monostate>(decoder.decode_fields(payloads[0])[2]));
  // As features: the numeric field is the only default feature.
  EXPECT_EQ(decoder.feature_names(), (std::vector<std::string>{"f2"}));
  float f = 0;
  ASSERT_FALSE(decoder.decode(payloads[1], &f, nullptr));
  EXPECT_EQ(f, 2.0f);
}

// Longs keep all 64 bits in decode_fields (found by the fuzzer: they used to
// pass through a double, which rounds above 2^53 and overflows at 2^63).
TEST(AvroDecoder, DecodeFieldsKeepsExtremeLongsExact) {
  for (int64_t value : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                        (int64_t{1} << 53) + 1}) {
    std::string payload = write_datum(kTfioSchema, [&](avro_value_t& r) {
      avro_value_t f1 = field(r, "f1");
      avro_value_set_string(&f1, "x");
      avro_value_t f2 = field(r, "f2");
      avro_value_set_long(&f2, value);
      avro_value_t f3 = field(r, "f3");
      avro_value_t branch;
      avro_value_set_branch(&f3, 0, &branch);
      avro_value_set_null(&branch);
    });
    AvroOptions options;
    options.schema_json = kTfioSchema;
    AvroDecoder decoder(options);
    EXPECT_EQ(std::get<int64_t>(decoder.decode_fields(payload)[1]), value);
  }
}

const std::string kNumericSchema = R"({"type":"record","name":"sample","namespace":"t","fields":[
  {"name":"i","type":"int"},
  {"name":"l","type":"long"},
  {"name":"f","type":"float"},
  {"name":"d","type":"double"},
  {"name":"b","type":"boolean"},
  {"name":"n","type":["null","double"],"default":null},
  {"name":"m","type":["long","null"],"default":5},
  {"name":"s","type":"string"},
  {"name":"raw","type":"bytes"},
  {"name":"v","type":{"type":"array","items":"float"}},
  {"name":"y","type":"int"}]})";

std::string numeric_datum(bool n_null, bool m_null, std::vector<float> v, int32_t i = -7) {
  return write_datum(kNumericSchema, [&](avro_value_t& r) {
    avro_value_t x = field(r, "i");
    avro_value_set_int(&x, i);
    x = field(r, "l");
    avro_value_set_long(&x, int64_t{1} << 40);
    x = field(r, "f");
    avro_value_set_float(&x, 0.25f);
    x = field(r, "d");
    avro_value_set_double(&x, -1.5);
    x = field(r, "b");
    avro_value_set_boolean(&x, 1);
    avro_value_t branch;
    x = field(r, "n");
    if (n_null) {
      avro_value_set_branch(&x, 0, &branch);
      avro_value_set_null(&branch);
    } else {
      avro_value_set_branch(&x, 1, &branch);
      avro_value_set_double(&branch, 3.5);
    }
    x = field(r, "m");
    if (m_null) {
      avro_value_set_branch(&x, 1, &branch);
      avro_value_set_null(&branch);
    } else {
      avro_value_set_branch(&x, 0, &branch);
      avro_value_set_long(&branch, 11);
    }
    x = field(r, "s");
    avro_value_set_string(&x, "text");
    x = field(r, "raw");
    avro_value_set_bytes(&x, const_cast<char*>("a\0b"), 3);
    x = field(r, "v");
    for (float e : v) {
      avro_value_t element;
      avro_value_append(&x, &element, nullptr);
      avro_value_set_float(&element, e);
    }
    x = field(r, "y");
    avro_value_set_int(&x, 1);
  });
}

std::string numeric_spec(const std::string& rest) {
  return "avro:schema64=" + base64url(kNumericSchema) + (rest.empty() ? "" : "," + rest);
}

TEST(AvroDecoder, NumericFieldsAsFeatures) {
  auto d = make_decoder(numeric_spec("label=y,missing=nan"));
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"i", "l", "f", "d", "b", "n", "m"}));
  EXPECT_EQ(d->label_names(), (std::vector<std::string>{"y"}));
  std::vector<float> features(d->num_features());
  float label = 0;
  ASSERT_FALSE(d->decode(numeric_datum(false, false, {1, 2}), features.data(), &label));
  EXPECT_EQ(features, (std::vector<float>{-7, 1099511627776.0f, 0.25f, -1.5f, 1, 3.5f, 11}));
  EXPECT_EQ(label, 1.0f);
  // Nulls: no numeric default -> policy (NaN); default 5 -> 5.
  ASSERT_FALSE(d->decode(numeric_datum(true, true, {}), features.data(), &label));
  EXPECT_TRUE(std::isnan(features[5]));
  EXPECT_EQ(features[6], 5.0f);
}

TEST(AvroDecoder, ArrayElementsAndTheirMissingPolicy) {
  auto d = make_decoder(numeric_spec("features=v[0..2]+i,label=y"));
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"v[0]", "v[1]", "v[2]", "i"}));
  std::vector<float> features(4);
  float label = 0;
  ASSERT_FALSE(d->decode(numeric_datum(false, false, {1, 2, 3, 4}), features.data(), &label));
  EXPECT_EQ(features, (std::vector<float>{1, 2, 3, -7}));
  auto error = d->decode(numeric_datum(false, false, {1}), features.data(), &label);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "field 'v[1]' is missing: the array has 1 elements");
  auto zero = make_decoder(numeric_spec("features=v[0..2],label=y,missing=zero"));
  ASSERT_FALSE(zero->decode(numeric_datum(false, false, {9}), features.data(), &label));
  EXPECT_EQ(features[0], 9.0f);
  EXPECT_EQ(features[1], 0.0f);
  EXPECT_EQ(features[2], 0.0f);
}

TEST(AvroDecoder, NullWithoutDefaultUnderErrorPolicy) {
  auto d = make_decoder(numeric_spec("features=n,label=y"));
  float f = 0, y = 0;
  auto error = d->decode(numeric_datum(true, false, {}), &f, &y);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "field 'n' is null");
}

TEST(AvroDecoder, DecodeFieldsTypes) {
  AvroOptions options;
  options.schema_json = kNumericSchema;
  options.labels = {"y"};
  AvroDecoder d(options);
  std::vector<FieldValue> v = d.decode_fields(numeric_datum(true, false, {1.5f, 2}));
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(std::get<int64_t>(v[0]), -7);
  EXPECT_EQ(std::get<int64_t>(v[1]), int64_t{1} << 40);
  EXPECT_EQ(std::get<double>(v[2]), 0.25);
  EXPECT_EQ(std::get<double>(v[3]), -1.5);
  EXPECT_EQ(std::get<bool>(v[4]), true);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(v[5]));
  EXPECT_EQ(std::get<int64_t>(v[6]), 11);
  EXPECT_EQ(std::get<std::string>(v[7]), "text");
  EXPECT_EQ(std::get<std::string>(v[8]), std::string("a\0b", 3));
  EXPECT_EQ(std::get<std::vector<double>>(v[9]), (std::vector<double>{1.5, 2}));
  EXPECT_EQ(to_string(v[9]), "[1.5,2]");
  EXPECT_EQ(to_string(v[4]), "true");
  EXPECT_THROW(d.decode_fields("\x01"), InputError);
}

TEST(AvroDecoder, ConfluentFramingErrors) {
  const std::string datum = write_datum(kTfioSchema, [](avro_value_t& r) {
    avro_value_t f = field(r, "f1");
    avro_value_set_string(&f, "x");
    f = field(r, "f2");
    avro_value_set_long(&f, 1);
    avro_value_t b;
    f = field(r, "f3");
    avro_value_set_branch(&f, 0, &b);
  });
  const std::string schema64 = base64url(kTfioSchema);
  auto d = make_decoder("avro:schema64=" + schema64 + ",confluent,schema_id=7,features=f2");
  float value = 0;
  EXPECT_FALSE(d->decode(confluent_frame(7, datum), &value, nullptr));
  EXPECT_EQ(value, 1.0f);
  auto error = d->decode(confluent_frame(8, datum), &value, nullptr);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "schema id 8 in the Confluent header, expected 7");
  std::string wrong = confluent_frame(7, datum);
  wrong[0] = 1;
  error = d->decode(wrong, &value, nullptr);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("wrong magic byte 0x01"), std::string::npos) << *error;
  error = d->decode(std::string("\0\0\0", 3), &value, nullptr);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("too short for the Confluent wire format"), std::string::npos);
  // A plain datum is decoded by a decoder without `confluent`.
  auto plain = make_decoder("avro:schema64=" + schema64 + ",features=f2");
  EXPECT_FALSE(plain->decode(datum, &value, nullptr));
  EXPECT_NE(config_error_of("avro:schema64=" + schema64 + ",schema_id=1").find("option 'schema_id'"),
            std::string::npos);
  EXPECT_NE(config_error_of("avro:schema64=" + schema64 + ",confluent,schema_id=2147483648")
                .find("option 'schema_id'"),
            std::string::npos);
}

TEST(AvroDecoder, CorruptDatumsAreReasonsNeverCrashes) {
  auto d = make_decoder(numeric_spec("label=y"));
  const std::string good = numeric_datum(false, false, {1, 2, 3});
  std::vector<float> features(d->num_features());
  float label = 0;
  ASSERT_FALSE(d->decode(good, features.data(), &label));
  for (size_t n = 0; n < good.size(); ++n) {
    auto error = d->decode(good.substr(0, n), features.data(), &label);
    ASSERT_TRUE(error) << "prefix " << n;
    EXPECT_NE(error->find("truncated or corrupt datum"), std::string::npos) << *error;
  }
  auto error = d->decode(good + "x", features.data(), &label);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "1 trailing bytes after the datum (does the writer schema match?)");
  // A string claiming 2^62 bytes.
  const std::string huge = "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01";
  EXPECT_TRUE(make_decoder("avro:schema64=" + base64url(kTfioSchema) + ",features=f2")
                  ->decode(huge, features.data(), nullptr));
  // Union branch out of range: f3 is the last field of the TFIO schema.
  const std::string tfio = write_datum(kTfioSchema, [](avro_value_t& r) {
    avro_value_t f = field(r, "f1");
    avro_value_set_string(&f, "");
    avro_value_t b;
    f = field(r, "f3");
    avro_value_set_branch(&f, 0, &b);
  });
  std::string bad_branch = tfio;
  bad_branch.back() = 4;  // zigzag 2: branch 2 of a 2-branch union
  auto tf = make_decoder("avro:schema64=" + base64url(kTfioSchema) + ",features=f2");
  error = tf->decode(bad_branch, features.data(), nullptr);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "field 'f3': union branch 2 does not exist (2 branches)");
}

TEST(AvroDecoder, SpecErrorsNameTheFieldAndOption) {
  std::string e = config_error_of(numeric_spec("features=s"));
  EXPECT_NE(e.find("option 'features'"), std::string::npos) << e;
  EXPECT_NE(e.find("field \"s\" is string"), std::string::npos) << e;
  e = config_error_of(numeric_spec("features=i,label=raw"));
  EXPECT_NE(e.find("option 'label'"), std::string::npos) << e;
  e = config_error_of(numeric_spec("features=v"));
  EXPECT_NE(e.find("is an array: declare the elements"), std::string::npos) << e;
  e = config_error_of(numeric_spec("features=i[0]"));
  EXPECT_NE(e.find("not an array of numbers"), std::string::npos) << e;
  e = config_error_of(numeric_spec("features=nope"));
  EXPECT_NE(e.find("has no field \"nope\""), std::string::npos) << e;
  e = config_error_of(numeric_spec("features=i+i"));
  EXPECT_NE(e.find("selected twice"), std::string::npos) << e;
  e = config_error_of("avro:features=x");
  EXPECT_NE(e.find("option 'schema'"), std::string::npos) << e;
  e = config_error_of("avro:schema64=" + base64url("{\"type\":\"record\""));
  EXPECT_NE(e.find("invalid Avro schema"), std::string::npos) << e;
  e = config_error_of("avro:schema64=" + base64url("\"long\""));
  EXPECT_NE(e.find("not a record"), std::string::npos) << e;
  e = config_error_of("avro:schema64=" + base64url(R"({"type":"record","name":"r","fields":[
      {"name":"m","type":{"type":"map","values":"long"}}]})"));
  EXPECT_NE(e.find("field \"m\" has type map"), std::string::npos) << e;
  e = config_error_of("avro:schema64=!!");
  EXPECT_NE(e.find("option 'schema64'"), std::string::npos) << e;
  e = config_error_of("avro:schema=/nonexistent/x.avsc");
  EXPECT_NE(e.find("cannot read schema file \"/nonexistent/x.avsc\""), std::string::npos) << e;
}

TEST(AvroDecoder, SchemaFromFileAndCanonicalSpecRoundTrip) {
  const std::string path = ::testing::TempDir() + "/streamml_avro_test.avsc";
  {
    std::ofstream out(path);
    out << kNumericSchema;
  }
  auto d = make_decoder("avro:schema=" + path + ",label=y,features=v[0..1]+n,missing=zero");
  std::remove(path.c_str());
  const std::string spec = d->spec();
  EXPECT_EQ(spec.rfind("avro:schema64=" + base64url(kNumericSchema) + ",features=v[0..1]+n,label=y,missing=zero", 0), 0u) << spec;
  auto again = make_decoder(spec);
  EXPECT_EQ(again->spec(), spec);
  EXPECT_EQ(again->feature_names(), d->feature_names());
  const std::string datum = numeric_datum(true, false, {4, 5});
  std::vector<float> a(3), b(3);
  float ya = 0, yb = 0;
  ASSERT_FALSE(d->decode(datum, a.data(), &ya));
  ASSERT_FALSE(again->decode(datum, b.data(), &yb));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, (std::vector<float>{4, 5, 0}));
  EXPECT_EQ(ya, yb);
}

TEST(AvroDecoder, DecodeIsThreadSafe) {
  auto d = make_decoder(numeric_spec("features=i,label=y"));
  std::vector<std::string> datums;
  for (int i = 0; i < 8; ++i) datums.push_back(numeric_datum(i % 2 == 0, false, {1}, i));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 4000; ++k) {
        float f = -1, y = -1;
        if (d->decode(datums[k % 8], &f, &y) || f != static_cast<float>(k % 8)) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}


constexpr const char* kLabelledSchema =
    R"({"type":"record","name":"r","fields":[{"name":"a","type":"double"},{"name":"y","type":["null","int"]},)"
    R"({"name":"b","type":"float"}]})";
constexpr const char* kUnlabelledSchema =
    R"({"type":"record","name":"r","fields":[{"name":"a","type":"double"},{"name":"b","type":"float"}]})";

TEST(AvroDecoder, FeaturesOnlyAcceptsANullOrAbsentLabel) {
  auto d = make_decoder(
      features_only_spec("avro:schema64=" + base64url(kLabelledSchema) + ",label=y"));
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d->num_labels(), 0u);
  auto labelled = [](bool null_label) {
    return write_datum(kLabelledSchema, [&](avro_value_t& r) {
      avro_value_t x = field(r, "a");
      avro_value_set_double(&x, 1.5);
      x = field(r, "y");
      avro_value_t branch;
      avro_value_set_branch(&x, null_label ? 0 : 1, &branch);
      if (null_label) {
        avro_value_set_null(&branch);
      } else {
        avro_value_set_int(&branch, 1);
      }
      x = field(r, "b");
      avro_value_set_float(&x, 2.5f);
    });
  };
  const std::string unlabelled = write_datum(kUnlabelledSchema, [](avro_value_t& r) {
    avro_value_t x = field(r, "a");
    avro_value_set_double(&x, 3.5);
    x = field(r, "b");
    avro_value_set_float(&x, 4.5f);
  });
  std::vector<float> x(2);
  auto error = d->decode(labelled(false), x.data(), nullptr);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(x, (std::vector<float>{1.5f, 2.5f}));
  error = d->decode(labelled(true), x.data(), nullptr);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(x, (std::vector<float>{1.5f, 2.5f}));
  error = d->decode(unlabelled, x.data(), nullptr);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(x, (std::vector<float>{3.5f, 4.5f}));
  error = d->decode("\x01", x.data(), nullptr);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("neither with the label fields"), std::string::npos) << *error;
  // Training still needs the label.
  auto training = make_decoder("avro:schema64=" + base64url(kLabelledSchema) + ",label=y");
  float y = 0;
  EXPECT_TRUE(training->decode(unlabelled, x.data(), &y));
  EXPECT_EQ(make_decoder(d->spec())->spec(), d->spec());
}

}  // namespace
}  // namespace streamml::data
