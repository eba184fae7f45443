// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/decoder_spec.h"

#include <gtest/gtest.h>

#include "streamml/common/error.h"
#include "streamml/data/decoder.h"

namespace streamml::data {
namespace {

std::string config_error_of(std::string_view spec) {
  try {
    make_decoder(spec);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DecoderSpec, ParsesFormatOptionsAndFlags) {
  DecoderSpec spec = DecoderSpec::parse("csv:label=y,header,features=a+b");
  EXPECT_EQ(spec.format(), "csv");
  ASSERT_EQ(spec.options().size(), 3u);
  EXPECT_EQ(spec.options()[0].key, "label");
  EXPECT_EQ(spec.options()[0].value, "y");
  EXPECT_TRUE(spec.options()[0].has_value);
  EXPECT_FALSE(spec.options()[1].has_value);
  EXPECT_TRUE(spec.has("header"));
  EXPECT_EQ(spec.find("features")->value, "a+b");
  EXPECT_EQ(spec.find("missing"), nullptr);
  EXPECT_TRUE(DecoderSpec::parse("raw").options().empty());
  EXPECT_TRUE(DecoderSpec::parse("raw:").options().empty());
}

TEST(DecoderSpec, RejectsMalformedSpecs) {
  EXPECT_THROW(DecoderSpec::parse(""), ConfigError);
  EXPECT_THROW(DecoderSpec::parse(":a=1"), ConfigError);
  EXPECT_THROW(DecoderSpec::parse("CSV:a=1"), ConfigError);
  EXPECT_THROW(DecoderSpec::parse("csv:a=1,,b=2"), ConfigError);
  EXPECT_THROW(DecoderSpec::parse("csv:a=1,"), ConfigError);
  EXPECT_THROW(DecoderSpec::parse("csv:=1"), ConfigError);
  try {
    DecoderSpec::parse("csv:label=a,label=b");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'label' is given twice"), std::string::npos) << e.what();
  }
}

TEST(DecoderSpec, EscapeRoundTripsAnyBytes) {
  const std::string nasty("a,b+c=d%e f\tg\0h\xff", 16);
  const std::string escaped = spec_escape(nasty);
  EXPECT_EQ(escaped.find_first_of(",+= \t"), std::string::npos) << escaped;
  EXPECT_EQ(spec_unescape(escaped), nasty);
  EXPECT_EQ(spec_escape("plain.name_1[0]"), "plain.name_1[0]");
  EXPECT_THROW(spec_unescape("%2"), ConfigError);
  EXPECT_THROW(spec_unescape("%zz"), ConfigError);
}

TEST(MakeDecoder, ErrorsNameTheOptionAndShowTheForm) {
  std::string e = config_error_of("xml:a=1");
  EXPECT_NE(e.find("unknown format \"xml\""), std::string::npos) << e;
  e = config_error_of("csv:columns=3,colour=red");
  EXPECT_NE(e.find("unknown option 'colour'"), std::string::npos) << e;
  EXPECT_NE(e.find("known: delim"), std::string::npos) << e;
  e = config_error_of("csv:columns=3,missing=maybe");
  EXPECT_NE(e.find("option 'missing'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected:"), std::string::npos) << e;
  e = config_error_of("csv:columns=x");
  EXPECT_NE(e.find("option 'columns'"), std::string::npos) << e;
  e = config_error_of("csv:columns=3,header=yes");
  EXPECT_NE(e.find("option 'header': is a flag"), std::string::npos) << e;
  e = config_error_of("csv:columns=3,label=");
  EXPECT_NE(e.find("option 'label': needs a value"), std::string::npos) << e;
  e = config_error_of("csv:columns=3,features=0++1");
  EXPECT_NE(e.find("option 'features': has an empty item"), std::string::npos) << e;
  e = config_error_of("csv:features=%4");
  EXPECT_NE(e.find("option 'features'"), std::string::npos) << e;
}

TEST(MissingPolicy, ParsesAndPrints) {
  EXPECT_EQ(parse_missing_policy("error"), MissingPolicy::kError);
  EXPECT_EQ(parse_missing_policy("zero"), MissingPolicy::kZero);
  EXPECT_EQ(parse_missing_policy("nan"), MissingPolicy::kNan);
  EXPECT_THROW(parse_missing_policy("Zero"), ConfigError);
  EXPECT_EQ(to_string(MissingPolicy::kNan), "nan");
}

TEST(FeaturesOnlySpec, AddsTheFlagOnlyWhenASpecNamesALabel) {
  EXPECT_EQ(features_only_spec("csv:columns=31,label=30"), "csv:columns=31,label=30,features_only");
  EXPECT_EQ(features_only_spec("csv:columns=31"), "csv:columns=31");
  EXPECT_EQ(features_only_spec("json:features=a,label=y,features_only"), "json:features=a,label=y,features_only");
  EXPECT_EQ(features_only_spec("raw:bytes=4,label=0"), "raw:bytes=4,label=0,features_only");
  EXPECT_THROW(features_only_spec(":label=y"), ConfigError);
}

}  // namespace
}  // namespace streamml::data
