// The legacy payload codec: Python literals in (parsed, never evaluated), Python literals out
// (eval can only yield a literal). Pure: no broker, no actors.
#include "adapters/codec/py_literal.h"

#include <gtest/gtest.h>

#include <string>

namespace gh::codec {
namespace {

using nlohmann::json;

json ok(std::string_view text) {
  auto parsed = parse_py_literal(text);
  EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
  return parsed ? *parsed : json();
}

Status refused(std::string_view text, PyLiteralLimits limits = {}) {
  auto parsed = parse_py_literal(text, limits);
  EXPECT_FALSE(parsed.is_ok()) << text << " parsed as " << (parsed ? parsed->dump() : "");
  return parsed.status();
}

TEST(PyLiteralTest, ParsesWhatStrOfADictWrites) {
  EXPECT_EQ(
      ok("{'userName': 'alice', 'userPwd': 'pw123456', 'returnTopic': 'aliceregister'}"),
      json({{"userName", "alice"}, {"userPwd", "pw123456"}, {"returnTopic", "aliceregister"}}));
  EXPECT_EQ(ok("{'message_id': 3}"), json({{"message_id", 3}}));
  EXPECT_EQ(ok("{}"), json::object());
  EXPECT_EQ(ok("  {'a': [1, 2.5, -3, True, False, None], 'b': {'c': ()}}\n"),
            json({{"a", {1, 2.5, -3, true, false, nullptr}}, {"b", {{"c", json::array()}}}}));
}

TEST(PyLiteralTest, StringsAndEscapes) {
  EXPECT_EQ(ok(R"("it's")"), "it's");
  EXPECT_EQ(ok(R"('say "hi"')"), "say \"hi\"");
  EXPECT_EQ(ok(R"('a\'b\\c\nd\te\x41\u00e9\U0001F600\101\0')"),
            std::string("a'b\\c\nd\teA\xC3\xA9\xF0\x9F\x98\x80"
                        "A") +
                std::string(1, '\0'));
  EXPECT_EQ(ok(R"('\q')"), "\\q");  // Python keeps an unknown escape
  EXPECT_EQ(ok("u'x'"), "x");
  EXPECT_EQ(ok(R"(r'a\nb')"), "a\\nb");
  EXPECT_EQ(ok("'''one\ntwo'''"), "one\ntwo");
  EXPECT_EQ(ok("'中文'"), "中文");  // raw UTF-8, as str() writes it
  EXPECT_EQ(ok("'a\\\nb'"), "ab");  // line continuation
}

TEST(PyLiteralTest, Numbers) {
  EXPECT_EQ(ok("0"), 0);
  EXPECT_EQ(ok("-0"), 0);
  EXPECT_EQ(ok("1_000"), 1000);
  EXPECT_EQ(ok("0x1F"), 31);
  EXPECT_EQ(ok("0o17"), 15);
  EXPECT_EQ(ok("0b101"), 5);
  EXPECT_EQ(ok("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ok("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ok("18446744073709551615"), UINT64_MAX);
  EXPECT_DOUBLE_EQ(ok("1.5").get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(ok(".5").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(ok("1.").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ok("-2e3").get<double>(), -2000.0);
  EXPECT_DOUBLE_EQ(ok("1e-400").get<double>(), 0.0);  // Python rounds it to 0.0 too
  EXPECT_TRUE(ok("2.0").is_number_float());
}

TEST(PyLiteralTest, TuplesAndParentheses) {
  EXPECT_EQ(ok("(1, 2)"), json({1, 2}));
  EXPECT_EQ(ok("(1,)"), json({1}));
  EXPECT_EQ(ok("(1)"), 1);  // parentheses, not a tuple
  EXPECT_EQ(ok("[1, 2,]"), json({1, 2}));
  EXPECT_EQ(ok("{'a': 1,}"), json({{"a", 1}}));
  EXPECT_EQ(ok("{'a': 1, 'a': 2}"), json({{"a", 2}}));  // the last one wins, as in Python
}

TEST(PyLiteralTest, JsonSpellingsAreAccepted) {
  EXPECT_EQ(ok(R"({"a": true, "b": false, "c": null})"),
            json({{"a", true}, {"b", false}, {"c", nullptr}}));
}

TEST(PyLiteralTest, RefusesCodeAndNames) {
  for (std::string_view hostile : {"__import__('os')",
                                   "__import__('os').system('rm -rf /')",
                                   "os.system('id')",
                                   "{'a': __import__('os')}",
                                   "{'a': open('/etc/passwd').read()}",
                                   "eval('1')",
                                   "[x for x in range(10)]",
                                   "lambda: 1",
                                   "{'a': 1 + 1}",
                                   "{'a': -x}",
                                   "inf",
                                   "nan",
                                   "{'a': 1}.keys()",
                                   "Ellipsis",
                                   "...",
                                   "{**{'a': 1}}",
                                   "'a' 'b'",
                                   "1 if True else 2",
                                   "{'a': 1} # comment",
                                   "b'bytes'",
                                   "f'{1}'",
                                   "{1, 2}",
                                   "1j",
                                   "{'a': (yield)}"}) {
    auto s = refused(hostile);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << hostile;
    EXPECT_TRUE(s.message().starts_with("python literal: ")) << s.message();
  }
  auto s = refused("{'a': __import__('os')}");
  EXPECT_NE(s.message().find("names are not allowed: '__import__'"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("at offset 6"), std::string::npos) << s.message();
}

TEST(PyLiteralTest, RefusesBrokenSyntaxWithClearErrors) {
  EXPECT_NE(refused("'abc").message().find("unterminated string"), std::string::npos);
  EXPECT_NE(refused("{'a': 'x\n'}").message().find("unterminated string"), std::string::npos);
  EXPECT_NE(refused("{'a': 1").message().find("unterminated dict"), std::string::npos);
  EXPECT_NE(refused("[1, 2").message().find("unterminated list"), std::string::npos);
  EXPECT_NE(refused("{'a' 1}").message().find("expected ':'"), std::string::npos);
  EXPECT_NE(refused("{1: 'a'}").message().find("dict keys must be strings"), std::string::npos);
  EXPECT_NE(refused("").message().find("unexpected end of input"), std::string::npos);
  EXPECT_NE(refused("{} {}").message().find("unexpected text after the value"), std::string::npos);
  EXPECT_NE(refused("007").message().find("leading zeros"), std::string::npos);
  EXPECT_NE(refused("1__0").message().find("'_'"), std::string::npos);
  EXPECT_NE(refused(R"('\ud800')").message().find("surrogate"), std::string::npos);
  EXPECT_NE(refused(R"('\N{DASH}')").message().find("\\N{...}"), std::string::npos);
  EXPECT_NE(refused(R"('\x4')").message().find("truncated"), std::string::npos);
  EXPECT_NE(refused(R"('\U00110000')").message().find("U+10FFFF"), std::string::npos);
  EXPECT_NE(refused("'\xff\xfe'").message().find("not UTF-8"), std::string::npos);
}

TEST(PyLiteralTest, RefusesHugeNumbers) {
  EXPECT_NE(refused("18446744073709551616").message().find("out of range"), std::string::npos);
  EXPECT_NE(refused("-9223372036854775809").message().find("out of range"), std::string::npos);
  EXPECT_NE(refused(std::string(5000, '9')).message().find("out of range"), std::string::npos);
  EXPECT_NE(refused("1e400").message().find("float out of range"), std::string::npos);
  EXPECT_NE(refused("0x" + std::string(40, 'f')).message().find("out of range"), std::string::npos);
}

TEST(PyLiteralTest, LimitsSizeAndDepth) {
  EXPECT_EQ(refused(std::string(100000, '[') + std::string(100000, ']')).code(), Code::kTooLarge);
  PyLiteralLimits limits;
  limits.max_depth = 4;
  EXPECT_EQ(refused("[[[[[1]]]]]", limits).code(), Code::kTooLarge);
  EXPECT_TRUE(parse_py_literal("[[[[1]]]]", limits).is_ok());
  EXPECT_EQ(refused("((((((1,),),),),),)", limits).code(), Code::kTooLarge);
  EXPECT_EQ(refused("{'a': {'a': {'a': {'a': {'a': 1}}}}}", limits).code(), Code::kTooLarge);
  // Deep nesting is refused before it costs a deep stack, whatever the limit on size.
  limits.max_bytes = 10 << 20;
  limits.max_depth = 32;
  EXPECT_EQ(refused(std::string(1 << 20, '['), limits).code(), Code::kTooLarge);
  limits.max_bytes = 10;
  EXPECT_EQ(refused("{'a': 'bcdefghijk'}", limits).code(), Code::kTooLarge);
}

TEST(PyLiteralTest, LegacyPayloadIsJsonOrALiteralDict) {
  auto json_payload = parse_legacy_payload(R"({"userName":"a\/b","n":1})");
  ASSERT_TRUE(json_payload.is_ok());
  EXPECT_EQ((*json_payload)["userName"], "a/b");  // JSON's meaning of \/ wins
  auto literal = parse_legacy_payload("{'userName': 'bob', 'flag': True}");
  ASSERT_TRUE(literal.is_ok());
  EXPECT_EQ((*literal)["flag"], true);
  // Brackets inside single-quoted strings are text, not nesting.
  auto brackets = parse_legacy_payload("{'message': '" + std::string(100, '[') + "'}");
  ASSERT_TRUE(brackets.is_ok()) << brackets.status().to_string();
  for (std::string_view not_dict : {"[1, 2]", "'text'", "42", "None", "[]"}) {
    auto s = parse_legacy_payload(not_dict);
    ASSERT_FALSE(s.is_ok()) << not_dict;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find("must be a dict"), std::string::npos);
  }
  EXPECT_EQ(parse_legacy_payload(std::string(70000, ' ')).status().code(), Code::kTooLarge);
  EXPECT_EQ(parse_legacy_payload("__import__('os')").status().code(), Code::kInvalidArgument);
}

TEST(PyLiteralTest, WritesWhatReprWrites) {
  EXPECT_EQ(to_py_literal(json({{"code", 1}, {"message", "ok"}})), "{'code': 1, 'message': 'ok'}");
  EXPECT_EQ(to_py_literal(json::array({1, -2, 2.5, 2.0, true, false, nullptr})),
            "[1, -2, 2.5, 2.0, True, False, None]");
  EXPECT_EQ(to_py_literal(json::array()), "[]");
  EXPECT_EQ(to_py_literal(json::object()), "{}");
  EXPECT_EQ(to_py_literal(json(UINT64_MAX)), "18446744073709551615");
  EXPECT_EQ(to_py_literal(json(1e300)), "1e+300");
  EXPECT_EQ(to_py_literal(json(std::nan(""))), "None");
}

TEST(PyLiteralTest, WrittenStringsCannotEscapeTheirQuotes) {
  EXPECT_EQ(to_py_literal("it's"), R"('it\'s')");
  EXPECT_EQ(to_py_literal("back\\slash"), R"('back\\slash')");
  EXPECT_EQ(to_py_literal("a\nb\rc\td"), R"('a\nb\rc\td')");
  EXPECT_EQ(to_py_literal(std::string("\x01\x7f", 2)), R"('\x01\x7f')");
  EXPECT_EQ(to_py_literal("é中😀"), R"('\xe9\u4e2d\U0001f600')");
  EXPECT_EQ(to_py_literal("\xff"), R"('\ufffd')");  // invalid UTF-8
  EXPECT_EQ(to_py_literal("'); __import__('os').system('id'); ('"),
            R"('\'); __import__(\'os\').system(\'id\'); (\'')");
  // Everything written is printable ASCII.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (char c : to_py_literal(all)) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(PyLiteralTest, RoundTrips) {
  json value = {{"text", "it's a \"test\"\n\\ 中文 😀 \x01"},
                {"list", {1, -2, 3.25, true, nullptr, json::array(), json::object()}},
                {"nested", {{"deep", {{"deeper", "x"}}}}},
                {"big", UINT64_MAX},
                {"small", INT64_MIN}};
  auto back = parse_py_literal(to_py_literal(value));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, value);
}

}  // namespace
}  // namespace gh::codec
