#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (corpus/<target>/seed-*), taken from the
inputs the unit tests use. Fields of one input are joined by NUL (fuzz_support.h).
Regression inputs of findings are kept beside them as corpus/<target>/regression-*; this
script never touches those. Run it from anywhere: python3 tests/fuzz/make_seeds.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    for i, seed in enumerate(seeds):
        data = seed if isinstance(seed, bytes) else seed.encode("utf-8", "surrogatepass")
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)


def j(*fields):
    return b"\0".join(f if isinstance(f, bytes) else f.encode() for f in fields)


PY = [
    "{'userName': 'alice', 'userPwd': 'pw123456', 'returnTopic': 'aliceregister'}",
    "{'message_id': 3}", "{}", "  {'a': [1, 2.5, -3, True, False, None], 'b': {'c': ()}}\n",
    "\"it's\"", "'say \"hi\"'", r"'a\'b\\c\nd\te\x41\u00e9\U0001F600\101\0'", "u'x'", "r'a\\b'",
    "'''one\ntwo'''", "'中文'", "'a\\\nb'", "0", "-0", "1_000", "0x1F", "0o17", "0b101",
    "9223372036854775807", "-9223372036854775808", "18446744073709551615", "1.5", ".5", "1.",
    "-2e3", "1e-400", "1e400", "2.0", "[1, 2,]", "{'a': 1,}", "{'a': 1, 'a': 2}",
    "{'a': __import__('os')}", "'abc", "{'a': 'x\n'}", "{'a': 1", "[1, 2", "{'a' 1}",
    "{1: 'a'}", "", "{} {}", "007", "1__0", b"'\xff\xfe'", "18446744073709551616",
    "-9223372036854775809", "{'a': {1, 2}}", "b'x'", "f'{x}'", "1j", "# c\n{}", "'\\ud800'",
    "'\\N{DASH}'", "[" * 40 + "]" * 40, "{'x': (1, [2, {'y': None}])}", '{"a": true, "b": null}',
    "{'chat': 'hi', 'userName': 'bob', 'returnTopic': 'bobchat', 'token': 'x'}",
]
write("py_literal", PY)

JSON = [
    '{"op":"login","user":"alice","password":"pw123456","reply_to":"gatehouse/inbox/c1"}',
    '{"token":"t","room":"lobby","text":"hello","client_msg_id":"m1"}', '{}', '[]', 'null',
    '"\\u00e9\\ud83d\\ude00"', '"\\ud800"', '1e400', '-0', '12345678901234567890', '1.5e-3',
    '{"a":' * 40 + '1' + '}' * 40, '{"a":1,"a":2}', '{"a":"\\/"}', b'"\xff"', '{"a":1,}',
    '{"state":"LOCKED"}', '{"type":"door","name":"Front","firmware":"1.2"}', ' \t\n{ } ',
    '{"reported":"UNLOCKED","command_id":"c-1"}', "[1,2,3,[4,[5]]]", '"a\\u0000b"',
]
write("json", JSON)

TOPICS = [
    j("gatehouse/inbox/c1", "gatehouse/chat/+", "gatehouse"),
    j("gatehouse/inbox/c1/replies", "gatehouse/#", "gatehouse"),
    j("gatehouse/inbox/c1/+", "#", "gatehouse"), j("$SYS/broker", "+/broker", "gatehouse"),
    j("a//b", "a/+/b", "gatehouse"), j("/a", "+/a", "gatehouse"), j("a/", "a/#", "gatehouse"),
    j("aliceregister", "register", "gatehouse"), j("register", "register", "gatehouse"),
    j("gatehouse/devices/d1/state", "gatehouse/devices/+/state", "gatehouse"),
    j("gatehouse/inbox/" + "x" * 70, "gatehouse/inbox/#", "gatehouse"), j("", "", ""),
    j(b"a\xffb", "a", "gatehouse"), j(b"a\x00b", "a", "p"), j("device/d1", "", ""),
    j("user/alice", "", ""), j("room/lobby", "", ""), j("system/tokens", "", ""),
    j("d-1.x_y", "#", "gatehouse"), j("x" * 300, "+", "gatehouse"),
]
write("topics", TOPICS)

HEAD = "POST /api/devices/d1/lock HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-1\r\n" \
       "Content-Type: application/json\r\n\r\n{}"
HTTP = [
    j("42", HEAD), j("0", "GET / HTTP/1.1\r\n\r\n"), j("18446744073709551616", "GET / HTTP/1.1\r\n"),
    j("-1", "GET / HTTP/1.1\n\n"), j("2026-11-23T09:04:23.123Z", "GET /\r\n" + "X: y\r\n" * 30),
    j("2026-11-23T09:04:23+01:00", "x" * 3000), j("1969-12-31T23:59:59Z", "\r\n\r\n"),
    j("2026-11-23T09:04:23.123456789-05:30", "GET / HTTP/1.1\r\nA: b\r\n\r\n"),
    j("2026-02-30T00:00:00Z", ""), j("application/json; charset=utf-8", ""),
    j("APPLICATION/JSON", ""), j("text/plain", ""), j("k-1", ""), j("a" * 65, ""),
    j("a b", ""), j("../x", ""), j("30", ""), j("31", ""), j(" 5", ""), j("+5", ""),
    j("1700000000000", ""),
]
write("http_params", HTTP)

PID = "0123456789abcdef0123456789abcdef"
URLS = [
    j(PID, "1800000000", "0" * 64), j(PID, "1900000000", "g" * 64), j(PID, "-1", "ab"),
    j(PID, "99999999999999999999", "0" * 64), j("", "", ""), j(PID, "1800000000", "A" * 64),
    j("../x", "1800000001", "f" * 64), j(PID, "+1", "0" * 64), j(PID, " 1", "0" * 64),
]
write("url_signer", URLS)

INFO = [
    '{"type":"door","name":"Front door","firmware":"1.2.3"}', '', '   ', '{}', '[]', 'null',
    '{"type":null}', '{"type":1}', '{"name":"' + "x" * 100 + '"}', '{"type":"door"', 'hello',
    '{"type":"door","extra":{"nested":[1,2]}}', b'{"name":"\xff"}', '{"firmware":"\\u0000"}',
]
write("device_info", INFO)


def be64(n):
    return struct.pack(">Q", n)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + varint(payload)


def envelope(stream, version, event_field=None, event=b""):
    # Envelope: stream = 1, version = 2 (events/event.proto); the event oneof is one of the
    # later fields, given by the caller from the golden data.
    body = field(1, 2, stream.encode()) + field(2, 0, version)
    if event_field:
        body += field(event_field, 2, event)
    return body


def key(stream, version):
    return stream.encode() + b"\0" + be64(version)


EVENT_SEEDS = []
golden = os.path.join(HERE, "..", "data")
for root, _dirs, files in os.walk(golden):
    for name in sorted(files):
        if name.endswith(".bin") and len(EVENT_SEEDS) < 12:
            with open(os.path.join(root, name), "rb") as f:
                EVENT_SEEDS.append(f.read()[:2048])
RECORDS = [key("device/d1", 1) + b"\0" + envelope("device/d1", 1, 100, b""),
           key("device/d1", 2) + b"\0" + envelope("device/d1", 1, 100, b""),
           key("device/d1", 1) + b"\0" + envelope("device/d1", 1),
           key("device/d1", 1) + b"\0" + b"\xff\xff\xff", b"short", b"",
           be64(1) + be64(2) + be64(3),
           key("room/lobby", 7) + b"\0" + envelope("room/lobby", 7, 303, field(1, 2, b"hi"))]
write("event_record", RECORDS + [key("user/lee", 1) + b"\0" + s for s in EVENT_SEEDS])

SNAPS = [bytes([0]) + field(1, 2, b"device/d1") + field(2, 0, 3),
         bytes([0]) + field(1, 2, b"device/d1") + field(2, 0, 3) + field(10, 2, b""),
         bytes([1]) + field(1, 2, b"room/lobby") + field(2, 0, 3) + field(12, 2, b""),
         bytes([2]) + field(1, 2, b"user/alice") + field(2, 0, 3) + field(11, 2, b""),
         bytes([0]) + b"\xff\xfe", bytes([1]), bytes([2]) + field(1, 2, b"user/bob")]
write("snapshot", SNAPS + [bytes([i % 3]) + s for i, s in enumerate(EVENT_SEEDS[:6])])

LUA = [
    "function handle(msg) return 'hello ' .. msg.args end",
    "function handle(msg) gh.lock(msg.args) end",
    "local n = 0\nfunction handle(msg) for i = 1, 10 do n = n + i end return n end",
    "while true do end", "x = {} for i=1,1e9 do x[i] = i end", "return 1",
    "function handle(msg) return string.rep('x', 100) end", "os.execute('id')",
    "load('return 1')()", "\x1bLua", "function handle( end", "error('boom')",
    "setmetatable({}, {__gc = function() end})", "local function f() return f() end f()",
    "local function f() return 1 + f() end f()", "function handle(msg) gh.publish('a', 'b') end",
    "string.dump(print)", "collectgarbage()", "coroutine.wrap(function() end)()",
]
write("lua_check", [j(s, "") for s in LUA] +
      [j("function handle() end", struct.pack("<I", 5) + b"check"),
       j("", struct.pack("<I", 3) + b"run" + struct.pack("<I", 0xFFFFFFFF))])

def mq(handler, topic, payload, response=""):
    return bytes([handler]) + j(topic, payload, response)


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
MQTT = [
    mq(0, "gatehouse/devices/d1/hello", '{"type":"door","name":"Front","firmware":"1.0"}'),
    mq(4, "gatehouse/devices/d1/hello", ""), mq(0, "gatehouse/devices/bad id!/hello", "{}"),
    mq(0, "gatehouse/devices/d1/availability", "online"),
    mq(0, "gatehouse/devices/d1/availability", "offline"),
    mq(0, "gatehouse/devices/d1/state", "LOCKED"), mq(4, "gatehouse/devices/d1/state", '{"state":"UNLOCKED"}'),
    mq(0, "gatehouse/devices/d1/stranger", PNG), mq(0, "gatehouse/devices/d1/stranger", b"\xff\xd8\xff" + b"x" * 8),
    mq(8, "gatehouse/devices/d1/state", "LOCKED"), mq(0, "gatehouse/devices/door9/bogus", "x"),
    mq(0, "gatehouse/devices/+/state", "LOCKED"), mq(0, "gatehouse/devices/d1/command", "LOCK"),
    mq(1, "gatehouse/chat/register", '{"id":"r1","user":"alice","password":"pw123456","reply_to":"gatehouse/inbox/c1"}'),
    mq(1, "gatehouse/chat/login", '{"id":"l1","user":"alice","password":"pw123456","reply_to":"gatehouse/inbox/c1/x"}'),
    mq(1, "gatehouse/chat/post", '{"id":7,"token":"t","room":"lobby","text":"hi","client_msg_id":"m1"}', "gatehouse/inbox/c1"),
    mq(5, "gatehouse/chat/history", '{"id":"h","token":"t","room":"lobby","before":10,"limit":5,"reply_to":"gatehouse/inbox/c1"}'),
    mq(1, "gatehouse/chat/like", '{"id":"k","token":"t","room":"lobby","message_id":3,"reply_to":"gatehouse/inbox/c1/#"}'),
    mq(1, "gatehouse/chat/rooms", '{"id":"x","token":"t","limit":2000,"reply_to":"$SYS/x"}'),
    mq(17, "gatehouse/chat/join", '{"id":{"x":1},"token":"t","room":"r1"}', "gatehouse/inbox/c2"),
    mq(1, "gatehouse/chat/nonsense", '{"id":"n","reply_to":"gatehouse/inbox/c1"}'),
    mq(1, "gatehouse/chat/login", '{"id":"d","reply_to":"gatehouse/inbox/c1","x":' + "[" * 40 + "]" * 40 + "}"),
    mq(2, "register", "{'userName': 'alice', 'userPwd': 'pw123456', 'returnTopic': 'aliceregister'}"),
    mq(2, "login", "{'userName': 'alice', 'userPwd': 'pw123456', 'returnTopic': 'alicelogin'}"),
    mq(6, "chatsend", "{'userName': 'alice', 'chat': 'hi', 'returnTopic': 'alicechat'}"),
    mq(2, "chatall", "{'returnTopic': 'all'}"), mq(2, "like", "{'message_id': 3, 'returnTopic': 'l'}"),
    mq(2, "set_security_question", "{'userName': 'a', 'question': 'q', 'answer': 'x', 'returnTopic': 'gatehouse/x'}"),
    mq(2, "request_security_question", "{'userName': 'a', 'returnTopic': 'register'}"),
    mq(2, "verify_security_answer", "{'userName': 'a', 'answer': 'x', 'newPwd': 'pw123456', 'returnTopic': 'a/+'}"),
    mq(3, "server", "hand_shake d1"), mq(3, "server", "lock d1"), mq(7, "server", "unlock"),
    mq(3, "server", "find_stranger d1 iVBORw0KGgoAAAAAAAAAAAAAAAAAAAA="), mq(3, "server", "find_stranger d1 %%%"),
    mq(3, "server", "$SYS/x hello"), mq(3, "server", "server lock"), mq(3, "server", "whatever args"),
    mq(11, "server", "lock d1"),
]
write("mqtt_topics", MQTT)
print("seeds written under", os.path.join(HERE, "corpus"))
