// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/raw_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "decoder_test_util.h"
#include "streamml/common/error.h"

namespace streamml::data {
namespace {

using test_util::decode;
using test_util::Row;
using test_util::config_error_of;

std::string float32_le(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  return out;
}

TEST(RawDecoder, BytesAreBinarySafe) {
  auto d = make_decoder("raw:bytes=4");
  EXPECT_EQ(d->num_features(), 4u);
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"v0", "v1", "v2", "v3"}));
  Row r = decode(*d, std::string("\0\xff\x01\0trailing ignored", 20));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{0, 255, 1, 0}));
}

TEST(RawDecoder, ShortPayloadFollowsPolicy) {
  auto error = make_decoder("raw:bytes=4");
  Row r = decode(*error, std::string("\0\0", 2));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "payload has 2 bytes, expected 4");
  auto zero = make_decoder("raw:bytes=4,missing=zero");
  r = decode(*zero, std::string("\x05\0", 2));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{5, 0, 0, 0}));
  auto nan = make_decoder("raw:bytes=2,missing=nan");
  r = decode(*nan, "");
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(std::isnan(r.features[0]) && std::isnan(r.features[1]));
}

TEST(RawDecoder, ScaleAndLabels) {
  auto d = make_decoder("raw:bytes=3,scale=255,label=0");
  EXPECT_EQ(d->num_labels(), 1u);
  Row r = decode(*d, std::string("\x01\xff\0", 3));
  ASSERT_FALSE(r.error);
  EXPECT_FLOAT_EQ(r.labels[0], 1.0f / 255.0f);
  EXPECT_EQ(r.features, (std::vector<float>{1.0f, 0.0f}));
}

TEST(RawDecoder, Float32LittleEndian) {
  auto d = make_decoder("raw:float32=3,features=0+1,label=2");
  Row r = decode(*d, float32_le({1.5f, -0.0f, 42.0f}));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{1.5f, -0.0f}));
  EXPECT_EQ(r.labels, (std::vector<float>{42.0f}));
  r = decode(*d, float32_le({1, 2, 3}) + "x");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "payload of 13 bytes is not a whole number of float32 values");
  r = decode(*d, float32_le({1, 2, 3, 4}));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "payload has 4 float32 values, expected 3");
  r = decode(*d, float32_le({1, 2}));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "payload has 2 float32 values, expected 3");
}

TEST(RawDecoder, SpecErrors) {
  EXPECT_NE(config_error_of("raw").find("option 'bytes'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=0").find("option 'bytes'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=999999999").find("option 'bytes'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,float32=2").find("not both"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,scale=0").find("option 'scale'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,scale=abc").find("option 'scale'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,label=2").find("out of range"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,features=0..2").find("option 'features'"),
            std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,features=a").find("option 'features'"), std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=2,features=0,label=0").find("selected twice"),
            std::string::npos);
  EXPECT_NE(config_error_of("raw:bytes=1,label=0").find("no feature"), std::string::npos);
}

TEST(RawDecoder, CanonicalSpecRoundTrip) {
  auto d = make_decoder("raw:float32=6,label=5,scale=0.5,missing=nan");
  EXPECT_EQ(d->spec(), "raw:float32=6,scale=0.5,features=0..4,label=5,missing=nan");
  auto again = make_decoder(d->spec());
  EXPECT_EQ(again->spec(), d->spec());
  const std::string payload = float32_le({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(decode(*d, payload).features, decode(*again, payload).features);
  EXPECT_EQ(decode(*again, payload).labels, (std::vector<float>{12}));
}


TEST(RawDecoder, FeaturesOnlyAcceptsPayloadsWithoutTheLabels) {
  auto d = make_decoder(features_only_spec("raw:bytes=4,label=1"));
  EXPECT_EQ(d->num_labels(), 0u);
  std::vector<float> x(3);
  EXPECT_FALSE(d->decode(std::string("\x01\x09\x02\x03", 4), x.data(), nullptr));
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3}));
  EXPECT_FALSE(d->decode(std::string("\x01\x02\x03", 3), x.data(), nullptr));
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3}));
  auto error = d->decode(std::string("\x01\x02", 2), x.data(), nullptr);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "payload has 2 bytes, expected 4 (with the labels) or 3 (without)");
}

}  // namespace
}  // namespace streamml::data
