#include "adapters/codec/iso_time.h"

#include <chrono>
#include <cstdio>

namespace gh::codec {

std::string iso8601_ms(int64_t unix_ms) {
  // std::chrono's civil calendar avoids gmtime_r's time_t range and locale concerns.
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds{unix_ms}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

nlohmann::json iso8601_or_null(int64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return iso8601_ms(unix_ms);
}

}  // namespace gh::codec
