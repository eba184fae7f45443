// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/svg.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <set>
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

// CIE L*a*b* of an sRGB colour "#rrggbb" (D65), for perceptual distances.
std::array<double, 3> lab(std::string_view hex) {
  double rgb[3];
  for (int i = 0; i < 3; ++i) {
    const double c = std::stoi(std::string(hex.substr(1 + 2 * i, 2)), nullptr, 16) / 255.0;
    rgb[i] = c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
  }
  const double x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047;
  const double y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  const double z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883;
  auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
  return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

TEST(Palette, EveryTwoColoursAreClearlyApart) {
  std::set<std::string_view> colours;
  for (size_t i = 0; i < kPaletteSize; ++i) {
    colours.insert(palette_colour(i));
    for (size_t j = 0; j < i; ++j) {
      const auto a = lab(palette_colour(i));
      const auto b = lab(palette_colour(j));
      const double delta_e = std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      EXPECT_GE(delta_e, 25.0) << palette_colour(i) << " and " << palette_colour(j);
    }
  }
  EXPECT_EQ(colours.size(), kPaletteSize);
  EXPECT_EQ(palette_colour(kPaletteSize), palette_colour(0));  // wraps
}

TEST(PanelTitle, IsBoldCentredAndEscaped) {
  EXPECT_EQ(panel_title(100, 20, "Loss & <AUC>"),
            "<text class=\"panel-title\" x=\"100.0\" y=\"20.0\" text-anchor=\"middle\" font-size=\"15\" "
            "font-weight=\"bold\">Loss &amp; &lt;AUC&gt;</text>\n");
}

TEST(LegendEntry, SeriesGetAHorizontalSampleAndMarkersAVerticalOne) {
  const std::string series = legend_entry(10, 50, LegendEntry{.text = "#3 (winner)", .colour = "#0072b2",
                                                               .stroke_width = 3.5, .bold = true});
  EXPECT_NE(series.find(R"(<line x1="10.0" y1="50.0" x2="34.0" y2="50.0" stroke="#0072b2" stroke-width="3.5"/>)"),
            std::string::npos)
      << series;
  EXPECT_NE(series.find(R"(font-weight="bold">#3 (winner)</text>)"), std::string::npos) << series;
  const std::string marker = legend_entry(
      10, 50, LegendEntry{.text = "a < b", .colour = "#999", .dasharray = "4 4", .marker = true, .opacity = 0.5});
  EXPECT_NE(marker.find(R"(<line x1="22.0" y1="43.0" x2="22.0" y2="57.0")"), std::string::npos) << marker;
  EXPECT_NE(marker.find(R"(stroke-dasharray="4 4" stroke-opacity="0.5")"), std::string::npos) << marker;
  EXPECT_NE(marker.find(">a &lt; b</text>"), std::string::npos) << marker;
  EXPECT_EQ(marker.find("bold"), std::string::npos) << marker;
}

}  // namespace
}  // namespace streamml::svg
