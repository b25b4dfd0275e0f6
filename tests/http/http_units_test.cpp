// Pure pieces of the HTTP adapter: the status table, parameter parsing, metrics text.
#include <gtest/gtest.h>

#include "adapters/http/bounded_wait.h"
#include "adapters/http/connection_limits.h"
#include "adapters/http/http_status.h"
#include "adapters/http/metrics_text.h"
#include "adapters/http/params.h"
#include "adapters/http/request_head.h"

namespace gh::http {
namespace {

TEST(HttpStatus, OneTableForEveryCode) {
  EXPECT_EQ(http_status(Code::kOk), 200);
  EXPECT_EQ(http_status(Code::kInvalidArgument), 400);
  EXPECT_EQ(http_status(Code::kUnauthenticated), 401);
  EXPECT_EQ(http_status(Code::kPermissionDenied), 403);
  EXPECT_EQ(http_status(Code::kNotFound), 404);
  EXPECT_EQ(http_status(Code::kAlreadyExists), 409);
  EXPECT_EQ(http_status(Code::kConflict), 409);
  EXPECT_EQ(http_status(Code::kFailedPrecondition), 409);
  EXPECT_EQ(http_status(Code::kTooLarge), 413);
  EXPECT_EQ(http_status(Code::kTimeout), 504);
  EXPECT_EQ(http_status(Code::kUnavailable), 503);
  EXPECT_EQ(http_status(Code::kLeaseLost), 503);
  EXPECT_EQ(http_status(Code::kDataLoss), 500);
  EXPECT_EQ(http_status(Code::kInternal), 500);
}

TEST(HttpStatus, HttplibStatusesMapBackToCodes) {
  EXPECT_EQ(code_for_http_status(404), Code::kNotFound);
  EXPECT_EQ(code_for_http_status(413), Code::kTooLarge);
  EXPECT_EQ(code_for_http_status(400), Code::kInvalidArgument);
  EXPECT_EQ(code_for_http_status(500), Code::kInternal);
}

TEST(WaitBounded, AnswersTimesOutOrReportsADroppedCallback) {
  auto answered = wait_bounded<int>(std::chrono::seconds(60), [](auto done) { done(7); });
  EXPECT_EQ(*answered, 7);
  auto failed =
      wait_bounded<int>(std::chrono::seconds(60), [](auto done) { done(not_found("nothing")); });
  EXPECT_EQ(failed.status().code(), Code::kNotFound);
  // Never answered: the bound applies, and a late answer lands harmlessly.
  std::function<void(Result<int>)> kept;
  auto late = wait_bounded<int>(std::chrono::milliseconds(1), [&](auto done) { kept = done; });
  EXPECT_EQ(late.status().code(), Code::kTimeout);
  kept(1);
  // Dropped without an answer.
  auto dropped = wait_bounded<int>(std::chrono::seconds(60), [](auto) {});
  EXPECT_EQ(dropped.status().code(), Code::kInternal);
}

TEST(Params, Limit) {
  EXPECT_EQ(*parse_limit("", 50, 500), 50u);
  EXPECT_EQ(*parse_limit("7", 50, 500), 7u);
  EXPECT_EQ(*parse_limit("100000", 50, 500), 500u);
  EXPECT_EQ(parse_limit("0", 50, 500).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_limit("-1", 50, 500).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_limit("5x", 50, 500).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_limit("99999999999999999999999", 50, 500).status().code(),
            Code::kInvalidArgument);
}

TEST(Params, TimeAsUnixMillisOrIso8601) {
  EXPECT_EQ(*parse_time_ms("1700000000123"), 1700000000123);
  EXPECT_EQ(*parse_time_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_time_ms("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*parse_time_ms("2023-11-14T22:13:20.123Z"), 1700000000123);
  EXPECT_EQ(*parse_time_ms("2023-11-14T22:13:20.1Z"), 1700000000100);
  EXPECT_EQ(*parse_time_ms("2023-11-14T22:13:20.123456789Z"), 1700000000123);
  EXPECT_EQ(*parse_time_ms("2023-11-15T00:13:20+02:00"), 1700000000000);
  EXPECT_EQ(*parse_time_ms("2023-11-14T20:13:20-02:00"), 1700000000000);
  EXPECT_EQ(*parse_time_ms("2024-02-29T00:00:00Z"), 1709164800000);
  for (const char* bad :
       {"", "yesterday", "2023-11-14T22:13:20", "2023-11-14", "2023-02-30T00:00:00Z",
        "2023-11-14T25:00:00Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk",
        "1969-12-31T23:59:59Z", "2023-11-14T22:13:20+2:00"}) {
    EXPECT_EQ(parse_time_ms(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Params, WaitIsBounded) {
  EXPECT_EQ(parse_wait("0", std::chrono::seconds(60))->count(), 0);
  EXPECT_EQ(parse_wait("60", std::chrono::seconds(60))->count(), 60);
  EXPECT_EQ(parse_wait("61", std::chrono::seconds(60)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_wait("1.5", std::chrono::seconds(60)).status().code(), Code::kInvalidArgument);
}

TEST(MetricsText, RendersCountersHistogramsAndExtras) {
  MetricsValues values;
  values.requests[{"POST /devices/{id}/lock", "ok"}] = 3;
  values.requests[{"POST /devices/{id}/lock", "not_found"}] = 1;
  JournalStats stats;
  stats.events_appended = 10;
  stats.batches_synced = 4;
  stats.batch_size_buckets[0] = 2;  // <= 1
  stats.batch_size_buckets[3] = 2;  // <= 8
  stats.append_latency_buckets[4] = 5;
  stats.append_latency_sum_ms = 7.5;
  values.journal = stats;
  values.live_actors = 12;
  values.broker_connected = true;
  values.extra = {{"gatehouse_mqtt_received_total{topic=\"hello\"}", 4},
                  {"bad name", 1},
                  {"gatehouse_mqtt_reconnects_total", 2}};
  std::string text = render_metrics(values);
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\nin\n" << text;
  };
  has("# TYPE gatehouse_http_requests_total counter");
  has("gatehouse_http_requests_total{route=\"POST /devices/{id}/lock\",outcome=\"ok\"} 3");
  has("gatehouse_http_requests_total{route=\"POST /devices/{id}/lock\",outcome=\"not_found\"} 1");
  has("gatehouse_journal_events_appended_total 10");
  has("gatehouse_journal_batches_synced_total 4");
  has("# TYPE gatehouse_journal_batch_size_events histogram");
  has("gatehouse_journal_batch_size_events_bucket{le=\"1\"} 2");
  has("gatehouse_journal_batch_size_events_bucket{le=\"4\"} 2");
  has("gatehouse_journal_batch_size_events_bucket{le=\"8\"} 4");
  has("gatehouse_journal_batch_size_events_bucket{le=\"+Inf\"} 4");
  has("gatehouse_journal_batch_size_events_count 4");
  // Seconds, the base unit (Prometheus naming): the journal's milliseconds / 1000.
  has("gatehouse_journal_append_latency_seconds_bucket{le=\"0.0001\"} 0");
  has("gatehouse_journal_append_latency_seconds_bucket{le=\"0.0025\"} 5");
  has("gatehouse_journal_append_latency_seconds_sum 0.0075");
  has("gatehouse_journal_append_latency_seconds_count 5");
  has("# TYPE gatehouse_journal_fsync_duration_seconds histogram");
  has("gatehouse_journal_fsync_duration_seconds_count 0");
  has("gatehouse_live_actors 12");
  has("gatehouse_broker_connected 1");
  has("gatehouse_mqtt_received_total{topic=\"hello\"} 4");
  // Every family contributed as an extra has its HELP and TYPE once.
  has("# TYPE gatehouse_mqtt_received_total counter");
  has("# TYPE gatehouse_mqtt_reconnects_total counter");
  EXPECT_EQ(text.find("# HELP gatehouse_mqtt_received_total"),
            text.rfind("# HELP gatehouse_mqtt_received_total"));
  has("gatehouse_mqtt_reconnects_total 2");
  EXPECT_EQ(text.find("bad name"), std::string::npos);
}

TEST(RequestHead, CompleteOnlyAtTheBlankLineAndWithinLimits) {
  HeadLimits limits{64, 2};
  EXPECT_EQ(scan_request_head("", limits), HeadScan::kIncomplete);
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nHost: x\r\n", limits), HeadScan::kIncomplete);
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nHost: x\r\n\r\n", limits), HeadScan::kComplete);
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\n\r\nbody", limits), HeadScan::kComplete);
  // The request line never ends the head, as httplib reads it.
  EXPECT_EQ(scan_request_head("\r\n", limits), HeadScan::kIncomplete);
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            HeadScan::kTooManyHeaders);
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nA: " + std::string(60, 'a'), limits),
            HeadScan::kTooLarge);
  EXPECT_EQ(scan_request_head(std::string(64, 'a'), limits), HeadScan::kTooLarge);
  // Exactly at the limit is fine.
  std::string exact = "GET / HTTP/1.1\r\nA: ";
  exact += std::string(64 - exact.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(scan_request_head(exact, limits), HeadScan::kComplete);
  EXPECT_EQ(scan_request_head(exact.substr(0, 63) + "a\r\n\r\n", limits), HeadScan::kTooLarge);
}

TEST(MediaType, JsonWithAnyCaseAndParameters) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON"));
  EXPECT_TRUE(is_json_media_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type(" application/json ;charset=UTF-8"));
  EXPECT_FALSE(is_json_media_type(""));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
}

TEST(ConnectionLimitsTest, TotalAndPerSource) {
  ConnectionLimits limits(3, 2);
  EXPECT_EQ(limits.acquire("a"), ConnectionLimits::Admit::kOk);
  EXPECT_EQ(limits.acquire("a"), ConnectionLimits::Admit::kOk);
  EXPECT_EQ(limits.acquire("a"), ConnectionLimits::Admit::kSourceFull);
  EXPECT_EQ(limits.acquire("b"), ConnectionLimits::Admit::kOk);
  EXPECT_EQ(limits.acquire("c"), ConnectionLimits::Admit::kTotalFull);
  EXPECT_EQ(limits.open(), 3u);
  limits.release("a");
  EXPECT_EQ(limits.acquire("c"), ConnectionLimits::Admit::kOk);
  EXPECT_EQ(limits.open(), 3u);
}

TEST(MetricsText, RefusalsByReasonAndOpenConnections) {
  MetricsValues values;
  values.refusals = {{"header_too_large", 2}, {"streams_per_user", 0}};
  values.open_connections = 7;
  const std::string text = render_metrics(values);
  EXPECT_NE(text.find("# TYPE gatehouse_http_refused_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("gatehouse_http_refused_total{reason=\"header_too_large\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("gatehouse_http_refused_total{reason=\"streams_per_user\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("gatehouse_http_open_connections 7\n"), std::string::npos);
}

}  // namespace
}  // namespace gh::http
