// Corruption is detected and named (DESIGN.md): a damaged record is reported as kDataLoss
// naming its stream and version, never returned as if it were an event.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>

#include "events/keys.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::request_of;
using testing::TempStore;

bool mentions(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

Status put_raw(Database& database, rocksdb::ColumnFamilyHandle* family, const std::string& key,
               const std::string& value) {
  return from_rocksdb(database.db()->Put(rocksdb::WriteOptions(), family, key, value), "put");
}

TEST(CorruptionTest, GarbageEnvelopeIsDataLossNamingStreamAndVersion) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 3)).is_ok());
  // Field 1, length 127, then nothing: not a protobuf message.
  ASSERT_TRUE(put_raw(store.database(), store.database().events(), keys::versioned("device/d1", 2),
                      std::string("\x0a\x7f garbage", 10))
                  .is_ok());
  auto events = store.journal().read_stream("device/d1", 0);
  ASSERT_FALSE(events.is_ok());
  EXPECT_EQ(events.status().code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(events.status(), "device/d1 version 2")) << events.status().to_string();
  // Reading before the damage still works; reading across it does not.
  EXPECT_EQ(store.journal().read_stream("device/d1", 1, 1)->size(), 1u);
  auto all = store.journal().read_all(0, [](const Envelope&) { return true; });
  EXPECT_EQ(all.code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(all, "device/d1 version 2")) << all.to_string();
}

TEST(CorruptionTest, EnvelopeStoredUnderAnotherKeyIsDataLoss) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 2)).is_ok());
  auto first = (*store.journal().read_stream("device/d1", 1, 1))[0];
  ASSERT_TRUE(put_raw(store.database(), store.database().events(), keys::versioned("device/d1", 2),
                      first.SerializeAsString())
                  .is_ok());
  auto events = store.journal().read_stream("device/d1", 0);
  EXPECT_EQ(events.status().code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(events.status(), "device/d1 version 2")) << events.status().to_string();
}

TEST(CorruptionTest, EventOfUnknownTypeIsDataLoss) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 1)).is_ok());
  Envelope unknown = (*store.journal().read_stream("device/d1", 1))[0];
  unknown.clear_event();  // as a newer schema's event type looks to this build
  ASSERT_TRUE(put_raw(store.database(), store.database().events(), keys::versioned("device/d1", 1),
                      unknown.SerializeAsString())
                  .is_ok());
  auto events = store.journal().read_stream("device/d1", 0);
  EXPECT_EQ(events.status().code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(events.status(), "device/d1 version 1")) << events.status().to_string();
}

TEST(CorruptionTest, MissingVersionIsAGapNamingTheMissingVersion) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 4)).is_ok());
  ASSERT_TRUE(
      from_rocksdb(store.database().db()->Delete(rocksdb::WriteOptions(), store.database().events(),
                                                 keys::versioned("device/d1", 3)),
                   "delete")
          .is_ok());
  auto events = store.journal().read_stream("device/d1", 0);
  EXPECT_EQ(events.status().code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(events.status(), "device/d1 version 3")) << events.status().to_string();
  // The position index still points at it: read_all names it too.
  auto all = store.journal().read_all(0, [](const Envelope&) { return true; });
  EXPECT_EQ(all.code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(all, "device/d1 version 3")) << all.to_string();
  // A missing first event is a gap too.
  ASSERT_TRUE(
      from_rocksdb(store.database().db()->Delete(rocksdb::WriteOptions(), store.database().events(),
                                                 keys::versioned("device/d1", 1)),
                   "delete")
          .is_ok());
  auto from_start = store.journal().read_stream("device/d1", 0);
  EXPECT_EQ(from_start.status().code(), Code::kDataLoss);
  EXPECT_TRUE(mentions(from_start.status(), "device/d1 version 1"));
}

// The .sst files of the events column family, from RocksDB's own metadata.
std::vector<std::string> events_tables(Database& database) {
  std::vector<rocksdb::LiveFileMetaData> files;
  database.db()->GetLiveFilesMetaData(&files);
  std::vector<std::string> out;
  for (const auto& file : files)
    if (file.column_family_name == "events") out.push_back(file.db_path + "/" + file.name);
  return out;
}

TEST(CorruptionTest, FlippedByteInATableFileIsDetectedByTheBlockChecksum) {
  TempStore store;
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(
        store.journal().append_and_wait(request_of("device/d" + std::to_string(i), 0, 10)).is_ok());
  ASSERT_TRUE(
      from_rocksdb(store.database().db()->Flush(rocksdb::FlushOptions(), store.database().events()),
                   "flush")
          .is_ok());
  auto tables = events_tables(store.database());
  ASSERT_EQ(tables.size(), 1u);
  store.close();

  // Byte 100 lies in the first data block (blocks are ~4 KiB; index and footer are at the
  // end of the file).
  {
    std::fstream file(tables[0], std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good()) << tables[0];
    file.seekg(100);
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(100);
    byte = static_cast<char>(byte ^ 0x5a);
    file.write(&byte, 1);
  }

  auto database = Database::open(store.path(), OpenMode::kReadOnly);
  if (!database.is_ok()) {
    // Also acceptable: RocksDB refused to open the damaged file at all.
    EXPECT_EQ(database.status().code(), Code::kDataLoss) << database.status().to_string();
    return;
  }
  RocksdbJournal rocksdb_journal(database->get());
  const Journal& journal = rocksdb_journal;
  auto events = journal.read_stream("device/d0", 0);
  ASSERT_FALSE(events.is_ok()) << "a flipped byte went unnoticed";
  EXPECT_EQ(events.status().code(), Code::kDataLoss) << events.status().to_string();
  EXPECT_TRUE(mentions(events.status(), "device/d0")) << events.status().to_string();
  auto all = journal.read_all(0, [](const Envelope&) { return true; });
  EXPECT_EQ(all.code(), Code::kDataLoss) << all.to_string();
}

// The journal learns its last position from the position index at open. If that read
// fails, it must not start again from 1 and overwrite the index of existing events.
TEST(CorruptionTest, DamagedPositionIndexRefusesAppendsInsteadOfReusingPositions) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 3)).is_ok());
  store.close();
  {
    // A journal that read "empty" from an index that is not: hide the entries while it
    // opens, then put one back.
    auto database = Database::open(store.path(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok());
    auto* db = (*database)->db();
    std::string saved;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), (*database)->positions(), keys::be64(1), &saved).ok());
    for (uint64_t p = 1; p <= 3; ++p)
      ASSERT_TRUE(
          db->Delete(rocksdb::WriteOptions(), (*database)->positions(), keys::be64(p)).ok());
    RocksdbJournal journal(database->get());  // reads last position 0
    ASSERT_EQ(journal.last_position(), 0u);
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), (*database)->positions(), keys::be64(1), saved).ok());
    auto result = journal.append_and_wait(request_of("device/d2", 0));
    ASSERT_FALSE(result.is_ok());
    EXPECT_EQ(result.status().code(), Code::kDataLoss) << result.status().to_string();
    EXPECT_TRUE(mentions(result.status(), "position 1")) << result.status().to_string();
    std::string still;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), (*database)->positions(), keys::be64(1), &still).ok());
    EXPECT_EQ(still, saved);  // the old event's index entry was not overwritten
  }
}

}  // namespace
}  // namespace gh
