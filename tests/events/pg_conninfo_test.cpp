// The connection string of cluster mode (events/pg_conninfo.h): libpq's own parser, both of
// its forms, several hosts, a password added from a file and never shown.
#include "events/pg_conninfo.h"

#include <gtest/gtest.h>

namespace gh {
namespace {

TEST(PgConninfoTest, AUriWithSeveralHostsBecomesKeywordsWithThePasswordAdded) {
  auto built = pg_conninfo(
      "postgresql://gatehouse@db1:5432,db2:5433/gatehouse?target_session_attrs=read-write",
      "it's secret");
  ASSERT_TRUE(built.is_ok()) << built.status().to_string();
  for (const char* part :
       {"host='db1,db2'", "port='5432,5433'", "dbname='gatehouse'", "user='gatehouse'",
        "target_session_attrs='read-write'", "password='it\\'s secret'"})
    EXPECT_NE(built->find(part), std::string::npos) << part << " in " << *built;
}

TEST(PgConninfoTest, KeywordsWithoutAPasswordFileStayAsTheyAre) {
  auto built = pg_conninfo("host=127.0.0.1 port=5432 dbname=gatehouse", "");
  ASSERT_TRUE(built.is_ok());
  for (const char* part : {"host='127.0.0.1'", "port='5432'", "dbname='gatehouse'"})
    EXPECT_NE(built->find(part), std::string::npos) << part << " in " << *built;
  EXPECT_EQ(built->find("password"), std::string::npos) << *built;
}

TEST(PgConninfoTest, BadStringsAndTwoPasswordsAreRefusedByName) {
  auto bad = pg_conninfo("host=127.0.0.1 port", "");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a libpq connection string"), std::string::npos);
  EXPECT_EQ(pg_conninfo("hots=db1", "").status().code(), Code::kInvalidArgument)
      << "an unknown keyword";
  EXPECT_EQ(pg_conninfo("", "").status().code(), Code::kInvalidArgument);
  auto twice = pg_conninfo("host=db1 password=a", "b");
  EXPECT_EQ(twice.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(twice.status().message().find("password=a"), std::string::npos);
}

TEST(PgConninfoTest, TheRedactedFormNeverShowsThePassword) {
  const auto shown = pg_conninfo_redacted("postgresql://u:hunter2@db1/gh");
  for (const char* part : {"user=u", "dbname=gh", "host=db1"})
    EXPECT_NE(shown.find(part), std::string::npos) << part << " in " << shown;
  EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
  EXPECT_EQ(pg_conninfo_redacted("password=hunter2 host"), "(unparsable connection string)");
}

}  // namespace
}  // namespace gh
