// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/json_decoder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "decoder_test_util.h"
#include "streamml/common/error.h"

namespace streamml::data {
namespace {

using test_util::decode;
using test_util::Row;
using test_util::config_error_of;

TEST(JsonDecoder, FieldsNestedPathsArraysAndBooleans) {
  auto d = make_decoder("json:features=a+b.c+d[0..2]+e[1].f+flag,label=y");
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"a", "b.c", "d[0]", "d[1]", "d[2]",
                                                          "e[1].f", "flag"}));
  EXPECT_EQ(d->label_names(), (std::vector<std::string>{"y"}));
  Row r = decode(*d, R"({"y": 1, "a": 1.5, "b": {"c": -2}, "d": [10, 20, 30, 40],
                         "e": [{"f": 0}, {"f": 7}], "flag": true, "ignored": "x"})");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features, (std::vector<float>{1.5f, -2, 10, 20, 30, 7, 1}));
  EXPECT_EQ(r.labels, (std::vector<float>{1}));
}

TEST(JsonDecoder, NumberKindsAndNumericStrings) {
  auto d = make_decoder("json:features=i+u+f+s+b");
  Row r = decode(*d, R"({"i": -9007199254740993, "u": 18446744073709551615, "f": 2.5e-3,
                         "s": " 4.25 ", "b": false})");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_FLOAT_EQ(r.features[0], -9007199254740993.0f);
  EXPECT_FLOAT_EQ(r.features[1], 18446744073709551615.0f);
  EXPECT_FLOAT_EQ(r.features[2], 0.0025f);
  EXPECT_EQ(r.features[3], 4.25f);
  EXPECT_EQ(r.features[4], 0.0f);
}

TEST(JsonDecoder, RepeatedKeysFirstOccurrenceWins) {
  auto d = make_decoder("json:features=a+b.c");
  Row r = decode(*d, R"({"a": 1, "b": {"c": 2, "c": 3}, "a": 4})");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features, (std::vector<float>{1, 2}));
}

TEST(JsonDecoder, TopLevelArrayPath) {
  auto d = make_decoder("json:features=[0..1],label=[2]");
  Row r = decode(*d, "[1, 2, 3]");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features, (std::vector<float>{1, 2}));
  EXPECT_EQ(r.labels, (std::vector<float>{3}));
}

TEST(JsonDecoder, MissingPolicyError) {
  auto d = make_decoder("json:features=a+v[0..2],label=y");
  struct Case {
    std::string doc;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"v": [1,2,3], "y": 1})", "field 'a' is missing"},
           {R"({"a": null, "v": [1,2,3], "y": 1})", "field 'a' is null"},
           {R"({"a": "x1", "v": [1,2,3], "y": 1})", "field 'a' is not a number: \"x1\""},
           {R"({"a": [1], "v": [1,2,3], "y": 1})", "field 'a' is an array, not a number"},
           {R"({"a": {}, "v": [1,2,3], "y": 1})", "field 'a' is an object, not a number"},
           {R"({"a": 1, "v": [1,2], "y": 1})", "field 'v[2]' is missing (past the end of the array)"},
           {R"({"a": 1, "v": 5, "y": 1})", "field 'v[0]' is not reachable (not an array on the way)"},
           {R"({"a": 1, "v": [1,2,3]})", "field 'y' is missing"},
           {R"([1,2])", "field 'a' is not reachable (not an object on the way)"}}) {
    Row r = decode(*d, c.doc);
    ASSERT_TRUE(r.error) << c.doc;
    EXPECT_EQ(*r.error, c.reason) << c.doc;
  }
}

TEST(JsonDecoder, InvalidJsonIsAReasonNotACrash) {
  auto d = make_decoder("json:features=a,missing=zero");
  for (std::string_view doc : {"", "{", "{\"a\": 1", "nul", "{\"a\": 1}}", "\xff\xfe"}) {
    Row r = decode(*d, doc);
    ASSERT_TRUE(r.error) << doc;
    EXPECT_EQ(r.error->rfind("invalid JSON: ", 0), 0u) << *r.error;
  }
  const std::string with_nul("{\"a\": 1}\0", 9);
  EXPECT_TRUE(decode(*d, with_nul).error);
}

TEST(JsonDecoder, MissingPolicyZeroAndNan) {
  auto zero = make_decoder("json:features=a+b[0..1],label=y,missing=zero");
  Row r = decode(*zero, R"({"a": null, "b": [5]})");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{0, 5, 0}));
  EXPECT_EQ(r.labels, (std::vector<float>{0}));
  auto nan = make_decoder("json:features=a+b,missing=nan");
  r = decode(*nan, R"({"a": "zz", "b": 2})");
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(std::isnan(r.features[0]));
  EXPECT_EQ(r.features[1], 2.0f);
}

// Ranges expand to many names: the duplicate check is linear (pairwise, a
// spec of a million names took minutes: decoder_spec_fuzz timed out), and one
// range selects at most 65,536 elements.
TEST(JsonDecoder, LargeRangesBuildAndDuplicatesInThemAreFound) {
  auto d = make_decoder("json:features=v[0..65535]+w[0..65535],label=y");
  EXPECT_EQ(d->num_features(), 131072u);
  const std::string twice = config_error_of("json:features=v[0..65535]+w[0..65535]+v[65535]");
  EXPECT_NE(twice.find("\"v[65535]\" is selected twice"), std::string::npos) << twice;
  const std::string large = config_error_of("json:features=v[0..65536]");
  EXPECT_NE(large.find("range too large (at most 65536 elements)"), std::string::npos) << large;
}

TEST(JsonDecoder, SpecErrors) {
  EXPECT_NE(config_error_of("json:label=y").find("option 'features'"), std::string::npos);
  EXPECT_NE(config_error_of("json:features=a..b").find("empty key"), std::string::npos);
  EXPECT_NE(config_error_of("json:features=a[x]").find("expected [N] or [A..B]"), std::string::npos);
  EXPECT_NE(config_error_of("json:features=a[1").find("'[' without ']'"), std::string::npos);
  EXPECT_NE(config_error_of("json:features=a[0..1].b").find("must be the last step"),
            std::string::npos);
  EXPECT_NE(config_error_of("json:features=a[3..1]").find("ends before it starts"),
            std::string::npos);
  EXPECT_NE(config_error_of("json:features=a+a").find("selected twice"), std::string::npos);
  EXPECT_NE(config_error_of("json:features=a[0..1]+a[1]").find("selected twice"),
            std::string::npos);
  EXPECT_NE(config_error_of("json:features=a,delim=;").find("unknown option 'delim'"),
            std::string::npos);
  EXPECT_NE(config_error_of("json:features=a.").find("option 'features'"), std::string::npos);
}

TEST(JsonDecoder, CanonicalSpecRoundTrip) {
  auto d = make_decoder("json:label=out.y,features=x%2Cy+b[0..1],missing=zero");
  const std::string spec = d->spec();
  EXPECT_EQ(spec, "json:features=x%2Cy+b[0..1],label=out.y,missing=zero");
  auto again = make_decoder(spec);
  EXPECT_EQ(again->spec(), spec);
  EXPECT_EQ(again->feature_names(), (std::vector<std::string>{"x,y", "b[0]", "b[1]"}));
  const char* doc = R"({"x,y": 3, "b": [1], "out": {"y": 9}})";
  EXPECT_EQ(decode(*d, doc).features, decode(*again, doc).features);
  EXPECT_EQ(decode(*again, doc).labels, (std::vector<float>{9}));
}

TEST(JsonDecoder, DecodeIsThreadSafe) {
  auto d = make_decoder("json:features=a+b");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string doc = "{\"a\": " + std::to_string(t) + ", \"b\": " + std::to_string(i) + "}";
        Row r = decode(*d, doc);
        if (r.error || r.features[0] != static_cast<float>(t) ||
            r.features[1] != static_cast<float>(i)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}


TEST(JsonDecoder, FeaturesOnlyAcceptsDocumentsWithoutTheLabel) {
  auto d = make_decoder(features_only_spec("json:features=a+b.c,label=y"));
  EXPECT_EQ(d->num_features(), 2u);
  EXPECT_EQ(d->num_labels(), 0u);
  std::vector<float> x(2);
  EXPECT_FALSE(d->decode(R"({"a":1,"b":{"c":2},"y":1})", x.data(), nullptr));
  EXPECT_EQ(x, (std::vector<float>{1, 2}));
  EXPECT_FALSE(d->decode(R"({"a":3,"b":{"c":4}})", x.data(), nullptr));
  EXPECT_EQ(x, (std::vector<float>{3, 4}));
  EXPECT_FALSE(d->decode(R"({"a":3,"b":{"c":4},"y":null})", x.data(), nullptr));
  EXPECT_EQ(d->spec(), "json:features=a+b.c,label=y,features_only,missing=error");
  // Training still needs the label.
  auto training = make_decoder("json:features=a+b.c,label=y");
  std::vector<float> y(1);
  EXPECT_TRUE(training->decode(R"({"a":3,"b":{"c":4}})", x.data(), y.data()));
}

}  // namespace
}  // namespace streamml::data
