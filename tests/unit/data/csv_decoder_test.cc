// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/data/csv_decoder.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <string>
#include <vector>
#include <thread>

#include "decoder_test_util.h"
#include "streamml/common/error.h"

namespace streamml::data {
namespace {

using test_util::decode;
using test_util::Row;
using test_util::config_error_of;

TEST(CsvDecoder, DefaultFeaturesAreEveryColumnButTheLabel) {
  auto d = make_decoder("csv:names=a+b+y+c,label=y");
  EXPECT_EQ(d->num_features(), 3u);
  EXPECT_EQ(d->num_labels(), 1u);
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d->label_names(), (std::vector<std::string>{"y"}));
  Row r = decode(*d, "1.5,-2,1,4e2\r\n");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features, (std::vector<float>{1.5f, -2.0f, 400.0f}));
  EXPECT_EQ(r.labels, (std::vector<float>{1.0f}));
}

TEST(CsvDecoder, IndicesRangesAndMultipleLabels) {
  auto d = make_decoder("csv:features=0..2+5,label=4+3");
  EXPECT_EQ(d->num_features(), 4u);
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"c0", "c1", "c2", "c5"}));
  Row r = decode(*d, "0,1,2,3,4,5,6");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{0, 1, 2, 5}));
  EXPECT_EQ(r.labels, (std::vector<float>{4, 3}));
}

TEST(CsvDecoder, ColumnsOptionAllowsDefaultFeaturesWithoutNames) {
  auto d = make_decoder("csv:columns=3,label=0");
  EXPECT_EQ(d->num_features(), 2u);
  Row r = decode(*d, "7,8,9");
  EXPECT_EQ(r.features, (std::vector<float>{8, 9}));
  EXPECT_EQ(r.labels, (std::vector<float>{7}));
  EXPECT_NE(config_error_of("csv:label=0").find("option 'features'"), std::string::npos);
  EXPECT_NE(config_error_of("csv:columns=3,label=3").find("out of range"), std::string::npos);
  EXPECT_NE(config_error_of("csv:columns=2,names=a+b+c").find("option 'columns'"),
            std::string::npos);
}

TEST(CsvDecoder, Delimiters) {
  for (auto [spec, line] : std::vector<std::pair<std::string, std::string>>{
           {"csv:delim=;,columns=3", "1;2;3"},
           {"csv:delim=semicolon,columns=3", "1;2;3"},
           {"csv:delim=tab,columns=3", "1\t2\t3"},
           {"csv:delim=pipe,columns=3", "1|2|3"},
           {"csv:delim=space,columns=3", "1 2 3"},
           {"csv:delim=comma,columns=3", "1,2,3"},
           {"csv:delim=%2B,columns=3", "1+2+3"}}) {
    auto d = make_decoder(spec);
    Row r = decode(*d, line);
    ASSERT_FALSE(r.error) << spec << ": " << *r.error;
    EXPECT_EQ(r.features, (std::vector<float>{1, 2, 3})) << spec;
    auto again = make_decoder(d->spec());
    EXPECT_EQ(decode(*again, line).features, r.features) << d->spec();
  }
  EXPECT_NE(config_error_of("csv:delim=ab,columns=2").find("option 'delim'"), std::string::npos);
  EXPECT_NE(config_error_of("csv:delim=\",columns=2").find("option 'delim'"), std::string::npos);
}

TEST(CsvDecoder, QuotedFields) {
  auto d = make_decoder("csv:names=id+text+x+y,features=x,label=y,missing=error");
  Row r = decode(*d, "1,\"hello, \"\"world\"\"\n2nd line\",\"3.5\",\" 7 \"");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features, (std::vector<float>{3.5f}));
  EXPECT_EQ(r.labels, (std::vector<float>{7.0f}));
  // Escaped quotes never make a number.
  r = decode(*d, "1,a,\"3\"\"\",1");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("'x' (index 2): not a number"), std::string::npos) << *r.error;
  r = decode(*d, "1,\"open,3,1");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("unterminated quoted field"), std::string::npos) << *r.error;
  r = decode(*d, "1,\"a\"b,3,1");
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("after a closing quote"), std::string::npos) << *r.error;
}

TEST(CsvDecoder, MissingPolicyError) {
  auto d = make_decoder("csv:names=a+b+y,label=y");
  Row r = decode(*d, "1,,3");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "column 'b' (index 1) is empty");
  r = decode(*d, "1,abc,3");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "column 'b' (index 1): not a number: \"abc\"");
  r = decode(*d, "1,2");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, "column 'y' (index 2) is missing: the record has 2 fields");
  r = decode(*d, "1,2x,3");
  ASSERT_TRUE(r.error);
  r = decode(*d, std::string("1,2\0,3", 6));
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("\\x00"), std::string::npos) << *r.error;
}

TEST(CsvDecoder, MissingPolicyZeroAndNan) {
  auto zero = make_decoder("csv:names=a+b+y,label=y,missing=zero");
  Row r = decode(*zero, "x,,");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{0, 0}));
  EXPECT_EQ(r.labels, (std::vector<float>{0}));
  r = decode(*zero, "5");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{5, 0}));
  auto nan = make_decoder("csv:names=a+b+y,label=y,missing=nan");
  r = decode(*nan, "1,oops");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features[0], 1.0f);
  EXPECT_TRUE(std::isnan(r.features[1]));
  EXPECT_TRUE(std::isnan(r.labels[0]));
}

TEST(CsvDecoder, NumberForms) {
  auto d = make_decoder("csv:columns=9");
  Row r = decode(*d, " 1 ,+2,-3.5,1e-3,true,false,inf,-inf,1e300");
  ASSERT_FALSE(r.error) << *r.error;
  EXPECT_EQ(r.features[0], 1.0f);
  EXPECT_EQ(r.features[1], 2.0f);
  EXPECT_EQ(r.features[2], -3.5f);
  EXPECT_FLOAT_EQ(r.features[3], 0.001f);
  EXPECT_EQ(r.features[4], 1.0f);
  EXPECT_EQ(r.features[5], 0.0f);
  EXPECT_TRUE(std::isinf(r.features[6]) && r.features[6] > 0);
  EXPECT_TRUE(std::isinf(r.features[7]) && r.features[7] < 0);
  EXPECT_TRUE(std::isinf(r.features[8]));  // beyond float: saturates
  EXPECT_TRUE(decode(*d, "++1,2,3,4,5,6,7,8,9").error);
  EXPECT_TRUE(decode(*d, "0x10,2,3,4,5,6,7,8,9").error);
}

// Plain decimals take a fast path; it must give exactly the float that
// std::from_chars gives, for every length and rounding case.
TEST(CsvDecoder, PlainDecimalsDecodeExactlyAsFromChars) {
  auto d = make_decoder("csv:columns=1");
  std::mt19937_64 rng(7);
  std::vector<std::string> texts = {"0", "-0", "0.0", "-0.0", "16777216", "16777217", "-16777217", "0.1",
                                    "1.0000000001", "0.0000000001", "9999999.9", "3.4028235", "000123.4500",
                                    "1.", ".5", "-", "1.2.3", "12345678901234567890", "0.00000000001",
                                    // halfway between two floats: the double path leaves them to from_chars
                                    "2097152.125", "-2097152.375", "16777217.5", "8388609.5", "1048576.0625",
                                    "12.345678", "-23.456789", "99999999.9999999", "0.000000001"};
  for (int i = 0; i < 200000; ++i) {
    const int int_digits = static_cast<int>(rng() % 9);
    const int decimals = static_cast<int>(rng() % 12);
    std::string text = rng() % 2 ? "-" : "";
    for (int k = 0; k < std::max(int_digits, 1); ++k) text += static_cast<char>('0' + rng() % 10);
    if (decimals > 0) {
      text += '.';
      for (int k = 0; k < decimals; ++k) text += static_cast<char>('0' + rng() % 10);
    }
    texts.push_back(std::move(text));
  }
  for (const std::string& text : texts) {
    float expected = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), expected);
    if (ec != std::errc() || ptr != text.data() + text.size()) continue;  // not a plain number
    Row r = decode(*d, text);
    ASSERT_FALSE(r.error) << text << ": " << *r.error;
    ASSERT_EQ(r.features.size(), 1u);
    EXPECT_EQ(std::bit_cast<uint32_t>(r.features[0]), std::bit_cast<uint32_t>(expected)) << text;
  }
}

// Mantissas above 2^24 are divided in double and rounded again to float. The
// decimals exactly halfway between two floats (ties, to even) and one unit in
// the last place either side are where a second rounding could go wrong: the
// midpoints of floats from 2^17 to 2^26, printed exactly in at most 7
// decimals, must decode as std::from_chars decodes them, in a field with
// bytes after it and at the end of the record.
TEST(CsvDecoder, DecimalsHalfwayBetweenFloatsRoundToEven) {
  auto d = make_decoder("csv:features=0");
  std::mt19937_64 rng(23);
  for (int i = 0; i < 20000; ++i) {
    const float low = std::ldexp(1.0f + static_cast<float>(rng() % (1u << 23)) / (1u << 23), 17 + static_cast<int>(rng() % 9));
    const double mid = (static_cast<double>(low) + static_cast<double>(std::nextafter(low, 1e30f))) / 2;
    for (int decimals = 0; decimals <= 7; ++decimals) {
      char text[64];
      std::snprintf(text, sizeof(text), "%.*f", decimals, mid);
      if (std::strtod(text, nullptr) != mid) continue;  // not exact in this many decimals
      for (const double offset : {0.0, -1.0, 1.0}) {
        std::snprintf(text, sizeof(text), "%s%.*f", rng() % 2 ? "-" : "", decimals,
                      mid + offset * std::pow(10.0, -decimals));
        const std::string field(text);
        float expected = 0;
        std::from_chars(field.data(), field.data() + field.size(), expected);
        for (const std::string& record : {field, field + ",0,0,0,0,0,0,0,0,0,0"}) {
          const Row r = decode(*d, record);
          ASSERT_FALSE(r.error) << record;
          ASSERT_EQ(std::bit_cast<uint32_t>(r.features[0]), std::bit_cast<uint32_t>(expected)) << record;
        }
      }
      break;
    }
  }
}

// A field with at least 16 bytes after it is parsed 8 bytes at a time; a
// short one (near the end of the record) digit by digit; a record with quotes
// is split field by field. All must give the float strtof gives, and the same
// verdict on anything that is not a plain decimal (which then goes to the
// general parser or is an error).
TEST(CsvDecoder, FieldsDecodeTheSameWithOrWithoutBytesAfterThem) {
  auto d = make_decoder("csv:features=0");
  auto with_quotes = make_decoder("csv:features=0+3");
  const std::string padding = ",0,0,0,0,0,0,0,0,0,0";
  std::mt19937_64 rng(11);
  std::vector<std::string> texts = {
      "0", "-0", "0.0", "-0.0", "7", "1234567", "12345678", "123456789", "-9999999", "16777216", "16777217",
      "-16777217", "1677721.6", "1677721.7", "167772.17", "0.1", "0.1234567", "0.12345678", "9.9999999",
      "1.0000000001", "3.4028235", "000123.4500", "0000000.0000001", "1.", ".5", "-", "--1", "-.5", "+1.5",
      "1.2.3", "1.5e3", "1.5E-3", "1e5", "1.5x", "12,", "1 ", " 1", "1.5 ", "nan", "-inf", "0x10", "1.5.",
      "12345678901234567890", "0.00000000001", "99999999999999999999.5", "2097152.125", "-2097152.375",
      "8388609.5", "12.345678", "-23.456789", "1.5-", "1..5", "1.5.5", "12345678", "-1234567.", "99.99999"};
  const std::string suffixes[] = {"", "", "", "", "e3", "E-2", "x", ".", " ", "5.", "-"};
  for (int i = 0; i < 100000; ++i) {
    const int int_digits = static_cast<int>(rng() % 10);
    const int decimals = static_cast<int>(rng() % 10);
    std::string text = rng() % 2 ? "-" : "";
    for (int k = 0; k < int_digits; ++k) text += static_cast<char>('0' + rng() % 10);
    if (decimals > 0 || rng() % 8 == 0) text += '.';
    for (int k = 0; k < decimals; ++k) text += static_cast<char>('0' + rng() % 10);
    text += suffixes[rng() % std::size(suffixes)];
    texts.push_back(std::move(text));
  }
  for (const std::string& text : texts) {
    const Row alone = decode(*d, text);
    const Row padded = decode(*d, text + padding);
    ASSERT_EQ(alone.error.has_value(), padded.error.has_value()) << text;
    if (alone.error) {
      EXPECT_EQ(*alone.error, *padded.error) << text;
      continue;
    }
    EXPECT_EQ(std::bit_cast<uint32_t>(alone.features[0]), std::bit_cast<uint32_t>(padded.features[0])) << text;
    const Row quoted = decode(*with_quotes, text + ",0,0,\"7\"" + padding);
    ASSERT_FALSE(quoted.error) << text << ": " << *quoted.error;
    EXPECT_EQ(std::bit_cast<uint32_t>(alone.features[0]), std::bit_cast<uint32_t>(quoted.features[0])) << text;
    if (text.find(',') == std::string::npos) {
      EXPECT_EQ(quoted.features[1], 7.0f) << text;
    }
    char* end = nullptr;
    const float expected = std::strtof(text.c_str(), &end);
    if (end == text.c_str() + text.size() && !std::isnan(expected)) {
      EXPECT_EQ(std::bit_cast<uint32_t>(padded.features[0]), std::bit_cast<uint32_t>(expected)) << text;
    }
  }
}

// Wide records take the vector path four fields at a time (in place, and the
// last few from a padded copy); a record with a quote anywhere takes the
// field-by-field path. Both must give the same floats and the same error for
// every mix of short, long, signed and odd fields, at every position.
TEST(CsvDecoder, WideRecordsDecodeTheSameOnEveryPath) {
  constexpr int kColumns = 37;
  auto d = make_decoder("csv:features=0..35,label=36");
  auto quoted = make_decoder("csv:features=1..36,label=37");  // after a quoted column 0
  const std::string odd[] = {"1e5", " 1", "1 ", "+1.5", "nan", "-inf", "12345678", "-12345678", "123456789",
                             "0.000001", "-0", "-0.0", "00.50", "1234567.8", "9999999.9", "-.5", "5.", "",
                             "1.2.3", "x", "--1", "1-", "0x1f", "16777217", "1.5E-3", "-"};
  std::mt19937_64 rng(31);
  for (int i = 0; i < 20000; ++i) {
    std::string record;
    for (int c = 0; c < kColumns; ++c) {
      if (c > 0) record += ',';
      if (rng() % 6 == 0) {
        const std::string& field = odd[rng() % std::size(odd)];
        // Fields that are not numbers only now and then: most records decode.
        if (!field.empty() && field != "1.2.3" && field != "x" && field != "--1" && field != "1-" &&
            field != "0x1f" && field != "-" && field != "-.5" && field != "5.") {
          record += field;
          continue;
        }
        if (rng() % 8 == 0) {
          record += field;
          continue;
        }
      }
      if (rng() % 2) record += '-';
      const int int_digits = 1 + static_cast<int>(rng() % 4);
      const int decimals = static_cast<int>(rng() % 8);
      for (int k = 0; k < int_digits; ++k) record += static_cast<char>('0' + rng() % 10);
      if (decimals > 0) record += '.';
      for (int k = 0; k < decimals; ++k) record += static_cast<char>('0' + rng() % 10);
    }
    const Row fast = decode(*d, record);
    const Row slow = decode(*quoted, "\"q\"," + record);
    ASSERT_EQ(fast.error.has_value(), slow.error.has_value()) << record;
    if (fast.error) {
      // The same message, about the column one to the left of the quoted record's.
      std::smatch m;
      ASSERT_TRUE(std::regex_search(*slow.error, m, std::regex("^column ([0-9]+)(.*)$"))) << *slow.error;
      EXPECT_EQ(*fast.error, "column " + std::to_string(std::stoi(m[1]) - 1) + m[2].str()) << record;
      continue;
    }
    ASSERT_EQ(fast.features.size(), 36u);
    for (size_t c = 0; c < fast.features.size(); ++c) {
      ASSERT_EQ(std::bit_cast<uint32_t>(fast.features[c]), std::bit_cast<uint32_t>(slow.features[c]))
          << "column " << c << " of " << record;
    }
    ASSERT_EQ(std::bit_cast<uint32_t>(fast.labels[0]), std::bit_cast<uint32_t>(slow.labels[0])) << record;
  }
}

TEST(CsvDecoder, ExtraColumnsAreIgnored) {
  auto d = make_decoder("csv:features=0,label=1");
  Row r = decode(*d, "1,2,3,\"unterminated");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.features, (std::vector<float>{1}));
}

TEST(CsvDecoder, NamesFromHeader) {
  std::vector<std::string> header{"x1", "x2", "label"};
  auto d = make_decoder("csv:header,label=label", header);
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"x1", "x2"}));
  Row r = decode(*d, "1,2,0");
  EXPECT_EQ(r.labels, (std::vector<float>{0}));
  // Without the header the names cannot resolve.
  EXPECT_NE(config_error_of("csv:header,label=label").find("option 'label'"), std::string::npos);
  EXPECT_NE(config_error_of("csv:header,label=nope", header).find("no column named \"nope\""),
            std::string::npos);
  // A header that contradicts names= is rejected.
  EXPECT_NE(config_error_of("csv:header,names=a+b+c,label=c", header).find("differs"),
            std::string::npos);
}

TEST(CsvDecoder, SelectionErrors) {
  EXPECT_NE(config_error_of("csv:names=a+b,features=a+a").find("selected twice"), std::string::npos);
  EXPECT_NE(config_error_of("csv:names=a+b,features=a,label=a").find("selected twice"),
            std::string::npos);
  EXPECT_NE(config_error_of("csv:names=a+a").find("appears twice"), std::string::npos);
  EXPECT_NE(config_error_of("csv:names=y,label=y").find("no feature column"), std::string::npos);
  EXPECT_NE(config_error_of("csv:features=3..1").find("ends before it starts"), std::string::npos);
  EXPECT_NE(config_error_of("csv:features=a").find("column names are unknown"), std::string::npos);
  EXPECT_NE(config_error_of("csv:features=99999999999").find("beyond the limit"), std::string::npos);
  EXPECT_NE(config_error_of("csv:columns=99999999999").find("option 'columns'"), std::string::npos);
}

TEST(CsvDecoder, CanonicalSpecRoundTrip) {
  std::vector<std::string> header{"a,1", "b+2", "weird name", "y"};
  auto d = make_decoder("csv:delim=tab,header,label=y,missing=nan", header);
  const std::string spec = d->spec();
  EXPECT_EQ(spec,
            "csv:delim=tab,header,names=a%2C1+b%2B2+weird%20name+y,features=0..2,label=3,missing=nan");
  auto again = make_decoder(spec);
  EXPECT_EQ(again->spec(), spec);
  EXPECT_EQ(again->feature_names(), d->feature_names());
  EXPECT_EQ(again->label_names(), d->label_names());
  for (std::string_view line : {"1\t2\t3\t4", "\"1\"\t\t3\t", "a\tb"}) {
    Row r1 = decode(*d, line);
    Row r2 = decode(*again, line);
    EXPECT_EQ(r1.error, r2.error);
    for (size_t i = 0; i < r1.features.size(); ++i) {
      EXPECT_TRUE(r1.features[i] == r2.features[i] ||
                  (std::isnan(r1.features[i]) && std::isnan(r2.features[i])));
    }
  }
  auto plain = make_decoder("csv:columns=31,label=30");
  EXPECT_EQ(plain->spec(), "csv:columns=31,features=0..29,label=30,missing=error");
}

TEST(CsvDecoder, DecodeIsThreadSafe) {
  auto d = make_decoder("csv:columns=4,label=3");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string line = std::to_string(t) + "," + std::to_string(i) + ",2,3";
        Row r = decode(*d, line);
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

TEST(CsvHelpers, SplitLineAndOpenQuotes) {
  auto fields = split_csv_line("a,\"b,\"\"c\"\"\",,d\r\n", ',');
  ASSERT_TRUE(fields);
  EXPECT_EQ(*fields, (std::vector<std::string>{"a", "b,\"c\"", "", "d"}));
  std::string error;
  EXPECT_FALSE(split_csv_line("a,\"b", ',', &error));
  EXPECT_NE(error.find("unterminated"), std::string::npos);
  EXPECT_TRUE(csv_line_is_open("a,\"b"));
  EXPECT_FALSE(csv_line_is_open("a,\"b\"\"c\""));
}


// ---- features_only: inference inputs with or without their label columns ----

std::string csv_row(int fields, int skip = -1) {  // "0,1,2,..." without column `skip`
  std::string out;
  for (int i = 0; i < fields; ++i) {
    if (i == skip) continue;
    out += (out.empty() ? "" : ",") + std::to_string(i);
  }
  return out;
}

TEST(CsvDecoderFeaturesOnly, LabelByIndexAcceptsBothWidths) {
  // The spec a model trained with `csv:columns=31,label=30` stores.
  auto d = make_decoder(features_only_spec("csv:columns=31,label=30"));
  EXPECT_EQ(d->num_features(), 30u);
  EXPECT_EQ(d->num_labels(), 0u);
  EXPECT_TRUE(d->label_names().empty());
  std::vector<float> expected;
  for (int i = 0; i < 30; ++i) expected.push_back(static_cast<float>(i));
  Row with = decode(*d, csv_row(31));
  ASSERT_FALSE(with.error) << *with.error;
  EXPECT_EQ(with.features, expected);
  Row without = decode(*d, csv_row(30));
  ASSERT_FALSE(without.error) << *without.error;
  EXPECT_EQ(without.features, expected);
  Row neither = decode(*d, csv_row(20));
  ASSERT_TRUE(neither.error);
  EXPECT_EQ(*neither.error, "the record has 20 fields; expected 31 (with the label column) or 30 (without)");
  // The label's value does not matter: it is not decoded.
  EXPECT_FALSE(decode(*d, csv_row(30) + ",?").error);
}

TEST(CsvDecoderFeaturesOnly, LabelBeforeTheFeaturesShiftsTheColumnsOfUnlabelledRecords) {
  auto d = make_decoder("csv:columns=5,label=0,features_only");
  Row with = decode(*d, "9,1,2,3,4");
  ASSERT_FALSE(with.error) << *with.error;
  EXPECT_EQ(with.features, (std::vector<float>{1, 2, 3, 4}));
  Row without = decode(*d, "1,2,3,4");
  ASSERT_FALSE(without.error) << *without.error;
  EXPECT_EQ(without.features, (std::vector<float>{1, 2, 3, 4}));
  // Quoted delimiters do not count as fields.
  Row quoted = decode(*d, "\"1\",2,3,\"4\"");
  ASSERT_FALSE(quoted.error) << *quoted.error;
  EXPECT_EQ(quoted.features, (std::vector<float>{1, 2, 3, 4}));
  Row neither = decode(*d, "1,2");
  ASSERT_TRUE(neither.error);
  EXPECT_EQ(*neither.error, "the record has 2 fields; expected 5 (with the label column) or 4 (without)");
}

TEST(CsvDecoderFeaturesOnly, LabelRangeInTheMiddle) {
  auto d = make_decoder("csv:features=0+1+4,label=2..3,features_only");
  Row with = decode(*d, "0,1,8,9,4");
  ASSERT_FALSE(with.error) << *with.error;
  EXPECT_EQ(with.features, (std::vector<float>{0, 1, 4}));
  Row without = decode(*d, "0,1,4");
  ASSERT_FALSE(without.error) << *without.error;
  EXPECT_EQ(without.features, (std::vector<float>{0, 1, 4}));
  Row neither = decode(*d, "0,1");
  ASSERT_TRUE(neither.error);
  EXPECT_EQ(*neither.error,
            "the record has 2 fields; expected at least 5 (with the label columns) or 3 (without)");
}

TEST(CsvDecoderFeaturesOnly, LabelByName) {
  auto d = make_decoder(features_only_spec("csv:names=a+y+b,label=y"));
  EXPECT_EQ(d->feature_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(decode(*d, "1,0,2").features, (std::vector<float>{1, 2}));
  EXPECT_EQ(decode(*d, "1,2").features, (std::vector<float>{1, 2}));
  // A file header without the label column.
  const std::vector<std::string> header = {"a", "b"};
  auto from_header = make_decoder("csv:header,label=y,features_only", header);
  EXPECT_EQ(from_header->feature_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(decode(*from_header, "1,2").features, (std::vector<float>{1, 2}));
}

TEST(CsvDecoderFeaturesOnly, CanonicalSpecKeepsTheFlagAndTheLabel) {
  auto d = make_decoder("csv:columns=31,label=30,features_only");
  EXPECT_EQ(d->spec(), "csv:columns=31,features=0..29,label=30,features_only,missing=error");
  EXPECT_EQ(make_decoder(d->spec())->spec(), d->spec());
  // Without the flag, today's training behaviour: the label is required.
  auto training = make_decoder("csv:columns=31,label=30");
  EXPECT_TRUE(decode(*training, csv_row(30)).error);
}

}  // namespace
}  // namespace streamml::data
