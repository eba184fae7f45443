// Copyright streamml authors. Licensed under the Apache License 2.0.
#include "streamml/common/svg.h"

#include <cmath>

namespace streamml::svg {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

double nice_step(double range, int count) {
  if (!(range > 0) || !std::isfinite(range)) return 1.0;
  const double raw = range / (count < 1 ? 1 : count);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / power;  // in [1, 10)
  // Thresholds near the geometric means of neighbours (sqrt(2), sqrt(10),
  // sqrt(50)), as in Heckbert's "Nice numbers for graph labels".
  const double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * power;
}

}  // namespace streamml::svg
