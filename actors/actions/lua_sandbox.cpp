#include "actors/actions/lua_sandbox.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <lua.hpp>

#include "events/stream_name.h"

// Lua is C: its errors are longjmps. A longjmp across a C++ frame skips that frame's
// destructors, so the C functions below keep no object with a destructor alive across a
// Lua call that may raise (any push may raise "not enough memory"); what they build in C++
// goes into the Context, which outlives the state.

namespace gh::actions {

namespace {

constexpr int kHookStep = 1000;  // instructions between two calls of the count hook
constexpr size_t kMaxTopicSuffix = 128;

struct Context {
  const SandboxLimits* limits = nullptr;
  const Host* host = nullptr;
  const std::string* source = nullptr;
  const Message* message = nullptr;
  std::string word, args;
  bool call_handle = true;

  size_t used = 0, peak = 0;
  uint64_t instructions = 0;
  int step = kHookStep;
  bool budget_exceeded = false;
  bool memory_exceeded = false;
  std::vector<Effect> effects;
  std::optional<DeviceView> device;  // gh.device's answer, while it is pushed
};

Context& context_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<Context*>(ud);
}

// The allocator: Lua's contract (lua_Alloc), refusing any growth past the cap. A refusal
// makes Lua collect garbage and retry once, then raise a memory error.
void* capped_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto& ctx = *static_cast<Context*>(ud);
  const size_t old = ptr == nullptr ? 0 : osize;  // without ptr, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    ctx.used -= old;
    return nullptr;
  }
  if (nsize > old && ctx.used - old + nsize > ctx.limits->max_memory_bytes) return nullptr;
  void* grown = std::realloc(ptr, nsize);
  if (grown == nullptr) return nullptr;
  ctx.used = ctx.used - old + nsize;
  ctx.peak = std::max(ctx.peak, ctx.used);
  return grown;
}

// The count hook: the instruction budget. Once it is spent, the hook fires on every
// instruction and raises each time, so no pcall in the script can carry on for long.
void budget_hook(lua_State* L, lua_Debug*) {
  auto& ctx = context_of(L);
  ctx.instructions += static_cast<uint64_t>(ctx.step);
  if (ctx.instructions < ctx.limits->max_instructions && !ctx.budget_exceeded) return;
  if (!ctx.budget_exceeded) {
    ctx.budget_exceeded = true;
    ctx.step = 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
  }
  luaL_error(L, "instruction budget of %I exceeded",
             static_cast<lua_Integer>(ctx.limits->max_instructions));
}

// After a protected call inside the script: a spent budget or a refused allocation are
// raised again, so that the script cannot swallow them.
void reraise_if_fatal(lua_State* L, int status) {
  auto& ctx = context_of(L);
  if (status == LUA_ERRMEM) ctx.memory_exceeded = true;
  if (ctx.budget_exceeded || ctx.memory_exceeded) lua_error(L);
}

// setmetatable without finalizers: Lua runs __gc with hooks off (lgc.c, GCTM), so a
// finalizer would be beyond the instruction budget. Only a __gc present when the metatable is
// set marks an object for finalization, so refusing it here is enough.
int safe_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "__gc metamethods are not allowed");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int safe_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  const int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  if (status != LUA_OK) reraise_if_fatal(L, status);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

int safe_xpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);  // (f, msgh, true, f, args...)
  const int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
  if (status != LUA_OK) reraise_if_fatal(L, status);
  lua_pushboolean(L, status == LUA_OK);
  lua_replace(L, 3);
  return lua_gettop(L) - 2;
}

// string.find/match/gmatch/gsub with the subject capped (the matcher is C: no hook there).
int capped_pattern(lua_State* L) {
  auto& ctx = context_of(L);
  size_t len = 0;
  if (lua_type(L, 1) == LUA_TSTRING) lua_tolstring(L, 1, &len);
  if (len > ctx.limits->max_pattern_subject)
    return luaL_error(L, "pattern functions take subjects of at most %I bytes",
                      static_cast<lua_Integer>(ctx.limits->max_pattern_subject));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int add_effect(lua_State* L, Effect::Kind kind, const char* target, size_t target_len,
               const char* payload, size_t payload_len) {
  auto& ctx = context_of(L);
  if (ctx.effects.size() >= ctx.limits->max_effects)
    return luaL_error(L, "more than %I host calls in one call",
                      static_cast<lua_Integer>(ctx.limits->max_effects));
  ctx.effects.push_back(
      Effect{kind, std::string(target, target_len), std::string(payload, payload_len)});
  return 0;
}

int lock_or_unlock(lua_State* L, Effect::Kind kind) {
  size_t len = 0;
  const char* id = luaL_checklstring(L, 1, &len);
  if (!is_valid_id(std::string_view(id, len)))
    return luaL_error(L, "a device id is 1-64 characters of A-Z a-z 0-9 . _ -");
  return add_effect(L, kind, id, len, "", 0);
}

int gh_lock(lua_State* L) { return lock_or_unlock(L, Effect::Kind::kLock); }
int gh_unlock(lua_State* L) { return lock_or_unlock(L, Effect::Kind::kUnlock); }

bool valid_suffix(std::string_view suffix) {
  if (suffix.empty() || suffix.size() > kMaxTopicSuffix) return false;
  size_t start = 0;
  while (start <= suffix.size()) {
    size_t slash = suffix.find('/', start);
    if (slash == std::string_view::npos) slash = suffix.size();
    if (!is_valid_id(suffix.substr(start, slash - start))) return false;
    start = slash + 1;
  }
  return true;
}

int gh_publish(lua_State* L) {
  auto& ctx = context_of(L);
  size_t suffix_len = 0, text_len = 0;
  const char* suffix = luaL_checklstring(L, 1, &suffix_len);
  const char* text = luaL_checklstring(L, 2, &text_len);
  if (!valid_suffix(std::string_view(suffix, suffix_len)))
    return luaL_error(L,
                      "gh.publish: the topic below actions/out/ is 1-128 characters of "
                      "segments of A-Z a-z 0-9 . _ - separated by /");
  if (text_len > ctx.limits->max_output_bytes)
    return luaL_error(L, "gh.publish: the payload has more than %I bytes",
                      static_cast<lua_Integer>(ctx.limits->max_output_bytes));
  return add_effect(L, Effect::Kind::kPublish, suffix, suffix_len, text, text_len);
}

int gh_log(lua_State* L) {
  auto& ctx = context_of(L);
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t len = 0;
  const char* line = lua_tolstring(L, -1, &len);
  return add_effect(L, Effect::Kind::kLog, "", 0, line, std::min(len, ctx.limits->max_log_bytes));
}

void set_string(lua_State* L, const char* key, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

void set_bool(lua_State* L, const char* key, bool value) {
  lua_pushboolean(L, value);
  lua_setfield(L, -2, key);
}

int gh_device(lua_State* L) {
  auto& ctx = context_of(L);
  size_t len = 0;
  const char* id = luaL_checklstring(L, 1, &len);
  if (!is_valid_id(std::string_view(id, len)))
    return luaL_error(L, "a device id is 1-64 characters of A-Z a-z 0-9 . _ -");
  ctx.device.reset();
  if (ctx.host != nullptr && ctx.host->device) {
    try {
      ctx.device = ctx.host->device(std::string(id, len));
    } catch (...) {
      ctx.device.reset();  // a host bug must not unwind through Lua
    }
  }
  if (!ctx.device) {
    lua_pushnil(L);
    return 1;
  }
  const DeviceView& d = *ctx.device;
  lua_createtable(L, 0, 7);
  set_string(L, "id", d.id);
  set_bool(L, "registered", d.registered);
  set_bool(L, "online", d.online);
  set_string(L, "reported", d.reported);
  set_string(L, "desired", d.desired);
  set_string(L, "name", d.name);
  set_string(L, "type", d.type);
  return 1;
}

// Only the safe parts of the standard library, and the host API.
void open_sandbox(lua_State* L) {
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_settop(L, 0);
  for (const char* name :
       {"dofile", "loadfile", "load", "loadstring", "require", "collectgarbage", "warn"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, safe_setmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_pushcfunction(L, safe_pcall);
  lua_setglobal(L, "pcall");
  lua_pushcfunction(L, safe_xpcall);
  lua_setglobal(L, "xpcall");
  lua_pushcfunction(L, gh_log);
  lua_setglobal(L, "print");

  lua_getglobal(L, LUA_STRLIBNAME);  // also the __index of strings' metatable
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  for (const char* name : {"find", "match", "gmatch", "gsub"}) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, capped_pattern, 1);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);

  static const luaL_Reg kHostApi[] = {{"device", gh_device}, {"lock", gh_lock},
                                      {"unlock", gh_unlock}, {"publish", gh_publish},
                                      {"log", gh_log},       {nullptr, nullptr}};
  luaL_newlib(L, kHostApi);
  lua_setglobal(L, "gh");
}

// The whole of a call, inside one protected call: nothing here can take the process down.
int protected_main(lua_State* L) {
  auto& ctx = context_of(L);
  open_sandbox(L);
  // "t": text only. A binary chunk could carry bytecode the verifier-less VM trusts.
  if (luaL_loadbufferx(L, ctx.source->data(), ctx.source->size(), "=action", "t") != LUA_OK)
    return lua_error(L);
  lua_call(L, 0, 0);
  if (lua_getglobal(L, "handle") != LUA_TFUNCTION)
    return luaL_error(L, "the script defines no function handle(msg)");
  if (!ctx.call_handle) return 0;
  lua_createtable(L, 0, 4);
  set_string(L, "topic", ctx.message->topic);
  set_string(L, "payload", ctx.message->payload);
  set_string(L, "word", ctx.word);
  set_string(L, "args", ctx.args);
  lua_call(L, 1, 1);
  const int type = lua_type(L, -1);
  if (type == LUA_TNIL) return 0;
  if (type != LUA_TSTRING && type != LUA_TNUMBER)
    return luaL_error(L, "handle must return a string, a number or nothing, not a %s",
                      lua_typename(L, type));
  size_t len = 0;
  lua_tolstring(L, -1, &len);
  if (len > ctx.limits->max_output_bytes)
    return luaL_error(L, "the reply has %I bytes; at most %I are allowed",
                      static_cast<lua_Integer>(len),
                      static_cast<lua_Integer>(ctx.limits->max_output_bytes));
  return 1;
}

std::string error_text(lua_State* L) {
  if (lua_type(L, -1) == LUA_TSTRING) return lua_tostring(L, -1);
  return std::string("(error object is a ") + luaL_typename(L, -1) + " value)";
}

// Runs protected_main in a fresh state; fills `result` (effects only on success).
void execute(Context& ctx, RunResult& result) {
  if (ctx.source->size() > ctx.limits->max_source_bytes) {
    result.outcome = Outcome::kError;
    result.error = "the script has " + std::to_string(ctx.source->size()) + " bytes; at most " +
                   std::to_string(ctx.limits->max_source_bytes) + " are allowed";
    return;
  }
  ctx.step = static_cast<int>(
      std::clamp<uint64_t>(ctx.limits->max_instructions, 1, static_cast<uint64_t>(kHookStep)));
  lua_State* L = lua_newstate(capped_alloc, &ctx);
  if (L == nullptr) {
    result.outcome = Outcome::kMemoryExceeded;
    result.error = "memory cap of " + std::to_string(ctx.limits->max_memory_bytes) +
                   " bytes is too small for a Lua state";
    return;
  }
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, ctx.step);
  lua_pushcfunction(L, protected_main);
  const int status = lua_pcall(L, 0, 1, 0);
  if (status == LUA_OK) {
    if (lua_type(L, -1) == LUA_TNIL) {
      result.outcome = Outcome::kNoReply;
    } else {
      size_t len = 0;
      const char* reply = lua_tolstring(L, -1, &len);  // a string already: no allocation
      result.outcome = Outcome::kReplied;
      result.reply.assign(reply, len);
    }
    result.effects = std::move(ctx.effects);
  } else if (ctx.budget_exceeded) {
    result.outcome = Outcome::kBudgetExceeded;
    result.error =
        "instruction budget of " + std::to_string(ctx.limits->max_instructions) + " exceeded";
  } else if (ctx.memory_exceeded || status == LUA_ERRMEM) {
    result.outcome = Outcome::kMemoryExceeded;
    result.error =
        "memory cap of " + std::to_string(ctx.limits->max_memory_bytes) + " bytes exceeded";
  } else {
    result.outcome = Outcome::kError;
    result.error = error_text(L).substr(0, kMaxErrorBytes);  // error(('x'):rep(1e6)) is legal
  }
  result.instructions = ctx.instructions;
  lua_close(L);  // no finalizers to run: setmetatable refuses __gc
  result.peak_memory_bytes = ctx.peak;
}

}  // namespace

std::string Effect::describe() const {
  switch (kind) {
    case Kind::kLock:
      return "lock " + target;
    case Kind::kUnlock:
      return "unlock " + target;
    case Kind::kPublish:
      return "publish actions/out/" + target + " (" + std::to_string(payload.size()) + " bytes)";
    case Kind::kLog:
      return "log " + payload;
  }
  return "log";
}

std::pair<std::string, std::string> split_word(const std::string& payload) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t start = 0;
  while (start < payload.size() && blank(payload[start])) ++start;
  size_t end = start;
  while (end < payload.size() && !blank(payload[end])) ++end;
  size_t rest = end;
  while (rest < payload.size() && blank(payload[rest])) ++rest;
  return {payload.substr(start, end - start), payload.substr(rest)};
}

Status check(const std::string& source, const SandboxLimits& limits) {
  if (source.size() > limits.max_source_bytes)
    return too_large("the script has " + std::to_string(source.size()) + " bytes; at most " +
                     std::to_string(limits.max_source_bytes) + " are allowed");
  Context ctx;
  Message none;
  ctx.limits = &limits;
  ctx.source = &source;
  ctx.message = &none;
  ctx.call_handle = false;
  RunResult result;
  execute(ctx, result);
  if (is_failure(result.outcome)) return invalid_argument(result.error);
  return Status::ok();
}

RunResult run(const std::string& source, const Message& message, const Host& host,
              const SandboxLimits& limits) {
  Context ctx;
  ctx.limits = &limits;
  ctx.host = &host;
  ctx.source = &source;
  ctx.message = &message;
  std::tie(ctx.word, ctx.args) = split_word(message.payload);
  RunResult result;
  execute(ctx, result);
  return result;
}

Invocation to_invocation(const Action& action, const Message& message, const RunResult& result) {
  Invocation out;
  out.name = action.name;
  out.source_sha256 = action.sha256;
  out.topic = message.topic;
  out.input = message.payload;
  out.outcome = result.outcome;
  out.output = result.reply;
  out.error = result.error;
  out.instructions = result.instructions;
  out.peak_memory_bytes = result.peak_memory_bytes;
  for (const auto& effect : result.effects) out.effects.push_back(effect.describe());
  return out;
}

}  // namespace gh::actions
