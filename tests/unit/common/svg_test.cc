// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/svg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace streamml::svg {
namespace {

TEST(XmlEscape, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(xml_escape("&"), "&amp;");
  EXPECT_EQ(xml_escape("<"), "&lt;");
  EXPECT_EQ(xml_escape(">"), "&gt;");
  EXPECT_EQ(xml_escape("\""), "&quot;");
  EXPECT_EQ(xml_escape("'"), "&apos;");
  EXPECT_EQ(xml_escape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;");
}

TEST(XmlEscape, CopiesEverythingElse) {
  EXPECT_EQ(xml_escape(""), "");
  EXPECT_EQ(xml_escape("loss (train) 0.5%"), "loss (train) 0.5%");
  EXPECT_EQ(xml_escape("Zürich \xe2\x86\x92 Bern"), "Zürich \xe2\x86\x92 Bern");
  // An entity already in the text is escaped again (the text is not markup).
  EXPECT_EQ(xml_escape("&amp;"), "&amp;amp;");
}

TEST(NiceStep, IsOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(10, 10), 1);
  EXPECT_DOUBLE_EQ(nice_step(10, 5), 2);
  EXPECT_DOUBLE_EQ(nice_step(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(100, 8), 10);   // 12.5 -> 10
  EXPECT_DOUBLE_EQ(nice_step(50, 8), 5);     // 6.25 -> 5
  EXPECT_DOUBLE_EQ(nice_step(0.37, 5), 0.1); // 0.074 -> 0.1
  EXPECT_DOUBLE_EQ(nice_step(2500, 5), 500);
  EXPECT_DOUBLE_EQ(nice_step(1e6, 4), 2e5);  // 250000 -> 200000
}

TEST(NiceStep, RoundsAtTheThresholds) {
  EXPECT_DOUBLE_EQ(nice_step(14.9, 10), 1);  // 1.49
  EXPECT_DOUBLE_EQ(nice_step(15, 10), 2);    // 1.5
  EXPECT_DOUBLE_EQ(nice_step(29, 10), 2);    // 2.9
  EXPECT_DOUBLE_EQ(nice_step(31, 10), 5);    // 3.1
  EXPECT_DOUBLE_EQ(nice_step(69, 10), 5);    // 6.9
  EXPECT_DOUBLE_EQ(nice_step(71, 10), 10);   // 7.1
}

TEST(NiceStep, DegenerateRangesGiveOne) {
  EXPECT_DOUBLE_EQ(nice_step(0, 5), 1);
  EXPECT_DOUBLE_EQ(nice_step(-3, 5), 1);
  EXPECT_DOUBLE_EQ(nice_step(std::numeric_limits<double>::quiet_NaN(), 5), 1);
  EXPECT_DOUBLE_EQ(nice_step(std::numeric_limits<double>::infinity(), 5), 1);
  EXPECT_DOUBLE_EQ(nice_step(10, 0), 10);  // count < 1 counts as 1
}

}  // namespace
}  // namespace streamml::svg
