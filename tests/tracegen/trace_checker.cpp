#include "trace_checker.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace vmsim::tracegen::testing {

namespace {

using Json = nlohmann::json;
using KeySet = std::set<std::string>;

constexpr uint64_t kSafeInt = uint64_t{1} << 53;

// Allowed keys of each op the generator may write ("op" itself aside), from
// the table in spec §3, and the keys each requires.
const std::map<std::string, KeySet>& allowed_keys() {
  static const std::map<std::string, KeySet> kKeys = {
      {"mmap", {"len", "prot", "share", "addr", "fixed", "file", "offset", "populate", "as"}},
      {"munmap", {"addr", "len"}},
      {"mprotect", {"addr", "len", "prot"}},
      {"madvise", {"addr", "len", "advice"}},
      {"brk", {"addr"}},
      {"sbrk", {"incr"}},
      {"read", {"addr", "size", "value"}},
      {"write", {"addr", "size", "value"}},
      {"touch", {"addr", "len", "access", "stride", "value"}},
      {"yield", {}},
      {"poke", {"process", "addr", "size", "value"}},
      {"fork", {"child"}},
      {"exec", {"text", "data", "bss", "stack"}},
      {"exit", {}},
      {"truncate", {"file", "size"}},
      {"pwrite", {"file", "offset", "value", "len"}},
  };
  return kKeys;
}

const std::map<std::string, KeySet>& required_keys() {
  static const std::map<std::string, KeySet> kKeys = {
      {"mmap", {"len", "prot", "share"}},
      {"munmap", {"addr", "len"}},
      {"mprotect", {"addr", "len", "prot"}},
      {"madvise", {"addr", "len", "advice"}},
      {"brk", {"addr"}},
      {"sbrk", {"incr"}},
      {"read", {"addr"}},
      {"write", {"addr", "value"}},
      {"touch", {"addr", "len", "access"}},
      {"yield", {}},
      {"poke", {"process", "addr", "size", "value"}},
      {"fork", {"child"}},
      {"exec", {"text", "data", "bss", "stack"}},
      {"exit", {}},
      {"truncate", {"file", "size"}},
      {"pwrite", {"file", "offset", "value", "len"}},
  };
  return kKeys;
}

constexpr uint64_t kMaxFileSize = uint64_t{4} << 30;

bool is_name(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool later = (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!letter && (i == 0 || !later)) return false;
  }
  return true;
}

bool all_of_class(const std::string& text, bool hex) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex_letter = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit && !(hex && hex_letter)) return false;
  }
  return true;
}

// "0x" and 1..16 hex digits.
std::optional<uint64_t> hex_value(const std::string& text) {
  if (text.size() < 3 || text.size() > 18 || text.compare(0, 2, "0x") != 0) return std::nullopt;
  const std::string digits = text.substr(2);
  if (!all_of_class(digits, true)) return std::nullopt;
  return std::stoull(digits, nullptr, 16);
}

// A JSON integer that is not negative, however the parser stored it.
std::optional<uint64_t> uint_value(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

// A size per spec §1.
std::optional<uint64_t> size_value(const Json& value) {
  if (value.is_number()) return uint_value(value);
  if (!value.is_string()) return std::nullopt;
  const std::string text = value.get<std::string>();
  if (auto hex = hex_value(text)) return hex;
  std::string digits = text;
  uint64_t scale = 1;
  const std::string suffix = text.size() > 3 ? text.substr(text.size() - 3) : "";
  if (suffix == "KiB") scale = 1ull << 10;
  if (suffix == "MiB") scale = 1ull << 20;
  if (suffix == "GiB") scale = 1ull << 30;
  if (scale != 1) digits.resize(digits.size() - 3);
  if (digits.size() > 12 || !all_of_class(digits, false)) return std::nullopt;
  return std::stoull(digits) * scale;
}

struct Checker {
  std::vector<std::string> problems;
  std::set<std::string> all_labels;  // unique across the trace
  std::set<std::string> files;       // names in "files"

  // Where the op being checked is, and what the process-level ops were.
  size_t thread_index = 0;
  size_t op_index = 0;
  struct Site {
    size_t thread = 0;
    size_t op = 0;
    std::string path;
  };
  std::map<std::string, Site> forks;  // child process -> its fork op
  std::vector<Site> exits;
  struct Poke {
    Site site;
    std::string process;
  };
  std::vector<Poke> pokes;
  std::set<std::string> forked_threads;  // threads of processes a fork creates

  void fail(const std::string& path, const std::string& what) {
    problems.push_back(path + ": " + what);
  }

  // Integer (< 2^53 by the generator's rule), or "@label[+0x..]" with a label
  // this thread bound earlier. Returns the absolute value or the label
  // offset, for alignment checks.
  std::optional<uint64_t> address(const Json& value, const std::string& path,
                                  const std::set<std::string>& thread_labels) {
    if (value.is_number()) {
      const std::optional<uint64_t> v = uint_value(value);
      if (!v) {
        fail(path, "not a non-negative integer address");
      } else if (*v >= kSafeInt) {
        fail(path, "integer address at or above 2^53");
      }
      return v;
    }
    if (!value.is_string()) {
      fail(path, "address is neither integer nor string");
      return std::nullopt;
    }
    const std::string text = value.get<std::string>();
    if (text.empty() || text[0] != '@') {
      auto hex = hex_value(text);
      if (!hex) {
        fail(path, "malformed address '" + text + "'");
      } else if (*hex < kSafeInt) {
        fail(path, "hex string address below 2^53");
      }
      return hex;
    }
    // "@name" or "@name+0x<hex>".
    const size_t plus = text.find('+');
    const std::string label = text.substr(1, plus == std::string::npos ? plus : plus - 1);
    std::optional<uint64_t> offset = 0;
    if (plus != std::string::npos) offset = hex_value(text.substr(plus + 1));
    if (!is_name(label) || !offset) {
      fail(path, "malformed label reference '" + text + "'");
      return std::nullopt;
    }
    if (thread_labels.count(label) == 0) {
      fail(path, "label '" + label + "' not bound earlier in this thread");
    }
    return offset;
  }

  void size_field(const Json& op, const char* key, const std::string& path, bool nonzero) {
    if (!op.contains(key)) return;
    auto size = size_value(op[key]);
    if (!size) {
      fail(path + "." + key, "not a size: " + op[key].dump());
    } else if (nonzero && *size == 0) {
      fail(path + "." + key, "zero");
    }
  }

  void file_field(const Json& op, const std::string& path) {
    if (!op["file"].is_string() || files.count(op["file"].get<std::string>()) == 0) {
      fail(path + ".file", "not a file of \"files\": " + op["file"].dump());
    }
  }

  // A size field that must exist, at most `max`.
  std::optional<uint64_t> bounded_size(const Json& op, const char* key, const std::string& path,
                                       uint64_t max) {
    const std::optional<uint64_t> size = size_value(op[key]);
    if (!size) {
      fail(path + "." + key, "not a size: " + op[key].dump());
    } else if (*size > max) {
      fail(path + "." + key, "above " + std::to_string(max));
    }
    return size;
  }

  // 1, 2, 4 or 8 (1 when absent).
  uint32_t access_size(const Json& op, const std::string& path) {
    if (!op.contains("size")) return 1;
    const std::optional<uint64_t> v = uint_value(op["size"]);
    if (!v || (*v != 1 && *v != 2 && *v != 4 && *v != 8)) {
      fail(path + ".size", "not 1, 2, 4 or 8");
      return 1;
    }
    return static_cast<uint32_t>(*v);
  }

  void prot_field(const Json& op, const std::string& path) {
    if (!op["prot"].is_string()) return fail(path + ".prot", "not a string");
    const std::string prot = op["prot"].get<std::string>();
    std::set<char> seen;
    for (char c : prot) {
      if ((c != 'r' && c != 'w' && c != 'x') || !seen.insert(c).second) {
        fail(path + ".prot", "bad prot '" + prot + "'");
      }
    }
  }

  // A stored value fitting `size` bytes; strings exactly from 2^53 up
  // (hex below 2^53 allowed too).
  void value_field(const Json& value, uint32_t size, const std::string& path) {
    std::optional<uint64_t> v;
    if (value.is_number()) {
      v = uint_value(value);
      if (!v) fail(path, "not a non-negative integer value");
      if (v && *v >= kSafeInt) fail(path, "integer value at or above 2^53");
    } else if (value.is_string()) {
      v = hex_value(value.get<std::string>());
      if (!v) fail(path, "malformed value " + value.dump());
    } else {
      fail(path, "value is neither unsigned integer nor hex string");
    }
    if (v && size < 8 && *v >= (uint64_t{1} << (8 * size))) {
      fail(path, "value does not fit in " + std::to_string(size) + " bytes");
    }
  }

  void op(const Json& op, const std::string& path, std::set<std::string>& thread_labels) {
    if (!op.is_object() || !op.contains("op") || !op["op"].is_string()) {
      return fail(path, "not an object with an \"op\" string");
    }
    const size_t problems_before = problems.size();
    const std::string kind = op["op"].get<std::string>();
    auto allowed = allowed_keys().find(kind);
    if (allowed == allowed_keys().end()) return fail(path, "op '" + kind + "' not generated");
    for (const auto& [key, value] : op.items()) {
      if (key == "op") continue;
      if (key == "expect_fault" || key == "result") {
        fail(path + "." + key, "random traces carry no expectations");
      } else if (allowed->second.count(key) == 0) {
        fail(path + "." + key, "key not allowed on " + kind);
      }
    }
    for (const std::string& key : required_keys().at(kind)) {
      if (!op.contains(key)) fail(path, "missing required key '" + key + "'");
    }
    if (problems.size() != problems_before) return;  // the rest assumes the keys are right

    std::optional<uint64_t> addr;
    if (op.contains("addr")) addr = address(op["addr"], path + ".addr", thread_labels);
    size_field(op, "len", path, kind == "touch");

    if (kind == "mmap") {
      prot_field(op, path);
      const std::string share = op["share"].is_string() ? op["share"].get<std::string>() : "";
      if (share != "private" && share != "shared") fail(path + ".share", "bad share");
      if (op.contains("file")) file_field(op, path);
      if (op.contains("offset")) {
        if (!op.contains("file")) fail(path + ".offset", "offset without file");
        bounded_size(op, "offset", path, UINT64_MAX);
      }
      for (const char* key : {"fixed", "populate"}) {
        if (op.contains(key) && !op[key].is_boolean()) fail(path + "." + key, "not a boolean");
      }
      if (op.contains("as")) {
        const std::string label = op["as"].is_string() ? op["as"].get<std::string>() : "";
        if (!is_name(label)) fail(path + ".as", "bad label name");
        if (!all_labels.insert(label).second) fail(path + ".as", "label '" + label + "' reused");
        thread_labels.insert(label);
      }
    } else if (kind == "mprotect") {
      prot_field(op, path);
    } else if (kind == "madvise") {
      const std::string advice = op["advice"].is_string() ? op["advice"].get<std::string>() : "";
      if (advice != "dontneed" && advice != "willneed" && advice != "hugepage" &&
          advice != "nohugepage")
        fail(path + ".advice", "bad advice");
    } else if (kind == "sbrk") {
      if (!op["incr"].is_number_integer()) fail(path + ".incr", "not an integer");
    } else if (kind == "read" || kind == "write" || kind == "poke") {
      const uint32_t size = access_size(op, path);
      if (addr && *addr % size != 0) {
        fail(path + ".addr", "not aligned to " + std::to_string(size));
      }
      if (kind == "read" && op.contains("value")) fail(path + ".value", "value on a read");
      if (kind != "read") value_field(op["value"], size, path + ".value");
      if (kind == "poke") {
        const std::string process =
            op["process"].is_string() ? op["process"].get<std::string>() : "";
        if (!is_name(process)) fail(path + ".process", "bad process name");
        pokes.push_back({{thread_index, op_index, path}, process});
      }
    } else if (kind == "fork") {
      const std::string child = op["child"].is_string() ? op["child"].get<std::string>() : "";
      if (!is_name(child)) fail(path + ".child", "bad process name");
      if (!forks.emplace(child, Site{thread_index, op_index, path}).second) {
        fail(path + ".child", "process '" + child + "' forked twice");
      }
    } else if (kind == "exec") {
      for (const char* key : {"text", "data", "bss", "stack"}) {
        bounded_size(op, key, path, uint64_t{64} << 30);
      }
    } else if (kind == "exit") {
      exits.push_back({thread_index, op_index, path});
    } else if (kind == "truncate") {
      file_field(op, path);
      bounded_size(op, "size", path, kMaxFileSize);
    } else if (kind == "pwrite") {
      file_field(op, path);
      const auto offset = bounded_size(op, "offset", path, kMaxFileSize);
      const auto len = bounded_size(op, "len", path, kMaxFileSize);
      if (offset && len && *offset + *len > kMaxFileSize) fail(path, "ends past 4GiB");
      if (uint_value(op["value"]).value_or(256) > 255) fail(path + ".value", "not a byte");
    } else if (kind == "touch") {
      const std::string access = op["access"].is_string() ? op["access"].get<std::string>() : "";
      if (access != "r" && access != "w") fail(path + ".access", "not r or w");
      if (op.contains("stride") && uint_value(op["stride"]).value_or(0) == 0) {
        fail(path + ".stride", "not a positive integer");
      }
      if (op.contains("value")) {
        if (access != "w") fail(path + ".value", "value on a read touch");
        if (uint_value(op["value"]).value_or(256) > 255) {
          fail(path + ".value", "not a byte");
        }
      }
    }
  }

  void schedule(const Json& schedule, const std::map<std::string, uint64_t>& op_counts) {
    if (schedule.is_object()) {
      for (const auto& [key, value] : schedule.items()) {
        if (key != "policy" && key != "seed") fail("schedule." + key, "key not allowed");
      }
      const std::string policy =
          schedule.value("policy", Json()).is_string() ? schedule["policy"].get<std::string>() : "";
      if (policy != "round-robin" && policy != "sequential" && policy != "random") {
        fail("schedule.policy", "bad policy");
      }
      return;
    }
    if (!schedule.is_array()) return fail("schedule", "neither object nor array");
    std::map<std::string, uint64_t> left = op_counts;
    for (size_t i = 0; i < schedule.size(); ++i) {
      const std::string path = "schedule[" + std::to_string(i) + "]";
      const Json& step = schedule[i];
      if (!step.is_object() || !step.contains("thread") || !step["thread"].is_string()) {
        fail(path, "not a step naming a thread");
        continue;
      }
      for (const auto& [key, value] : step.items()) {
        if (key != "thread" && key != "ops") fail(path + "." + key, "key not generated");
      }
      const std::string thread = step["thread"].get<std::string>();
      auto it = left.find(thread);
      if (it == left.end()) {
        fail(path, "unknown thread '" + thread + "'");
        continue;
      }
      if (forked_threads.count(thread) != 0) {
        fail(path, "thread '" + thread + "' of a forked process may not have started");
      }
      if (it->second == 0) fail(path, "thread '" + thread + "' has already finished");
      if (step.contains("ops")) {
        const uint64_t n = uint_value(step["ops"]).value_or(0);
        if (n == 0) {
          fail(path + ".ops", "not a positive integer");
          continue;
        }
        if (n > it->second) fail(path + ".ops", "more ops than the thread has left");
        it->second -= n > it->second ? it->second : n;
      } else {
        it->second = 0;
      }
    }
  }

  void trace(const Json& trace) {
    static const KeySet kTop = {"format", "name",    "description", "machine",
                                "files",  "threads", "schedule",    "expect"};
    if (!trace.is_object()) return fail("$", "not an object");
    for (const auto& [key, value] : trace.items()) {
      if (kTop.count(key) == 0) fail(key, "top-level key not allowed");
    }
    if (trace.contains("expect")) fail("expect", "random traces carry no expectations");
    if (trace.value("format", "") != "vmsim-trace/1") fail("format", "not vmsim-trace/1");
    if (!trace.contains("name") || !trace["name"].is_string()) fail("name", "missing");

    uint64_t cpus = 1;
    if (trace.contains("machine")) {
      static const KeySet kMachine = {"cpus",     "memory",     "swap",
                                      "reserved", "compressor", "large_pages"};
      const Json& machine = trace["machine"];
      for (const auto& [key, value] : machine.items()) {
        if (kMachine.count(key) == 0) fail("machine." + key, "key not allowed");
      }
      if (machine.contains("cpus")) {
        const uint64_t value = uint_value(machine["cpus"]).value_or(0);
        if (value < 1 || value > 64) {
          fail("machine.cpus", "not in 1..64");
        } else {
          cpus = value;
        }
      }
      if (machine.contains("memory") && !size_value(machine["memory"])) {
        fail("machine.memory", "not a size");
      }
    }
    if (trace.contains("files")) files_list(trace["files"]);

    if (!trace.contains("threads") || !trace["threads"].is_array() || trace["threads"].empty()) {
      return fail("threads", "missing or empty");
    }
    static const KeySet kThread = {"name", "process", "cpu", "ops"};
    std::map<std::string, uint64_t> op_counts;
    for (size_t t = 0; t < trace["threads"].size(); ++t) {
      const std::string path = "threads[" + std::to_string(t) + "]";
      const Json& thread = trace["threads"][t];
      for (const auto& [key, value] : thread.items()) {
        if (kThread.count(key) == 0) fail(path + "." + key, "key not allowed");
      }
      const std::string name = thread.value("name", "");
      if (!is_name(name)) fail(path + ".name", "bad name");
      if (!is_name(thread.value("process", ""))) fail(path + ".process", "bad process name");
      if (op_counts.count(name) != 0) fail(path + ".name", "duplicate thread name");
      if (thread.contains("cpu") && uint_value(thread["cpu"]).value_or(UINT64_MAX) >= cpus) {
        fail(path + ".cpu", "not below machine.cpus");
      }
      if (!thread.contains("ops") || !thread["ops"].is_array()) {
        fail(path + ".ops", "missing");
        continue;
      }
      std::set<std::string> thread_labels;
      thread_index = t;
      for (size_t i = 0; i < thread["ops"].size(); ++i) {
        op_index = i;
        op(thread["ops"][i], path + ".ops[" + std::to_string(i) + "]", thread_labels);
      }
      op_counts[name] = thread["ops"].size();
    }
    if (!problems.empty()) return;  // the rest assumes well-formed threads
    processes(trace["threads"]);
    if (trace.contains("schedule")) schedule(trace["schedule"], op_counts);
  }

  void files_list(const Json& list) {
    if (!list.is_array() || list.empty()) return fail("files", "not a non-empty array");
    static const KeySet kFile = {"name", "size", "content"};
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = "files[" + std::to_string(i) + "]";
      const Json& file = list[i];
      if (!file.is_object()) {
        fail(path, "not an object");
        continue;
      }
      for (const auto& [key, value] : file.items()) {
        if (kFile.count(key) == 0) fail(path + "." + key, "key not allowed");
      }
      for (const char* key : {"name", "size", "content"}) {
        if (!file.contains(key)) fail(path, std::string("missing required key '") + key + "'");
      }
      const std::string name = file.value("name", "");
      if (!is_name(name)) fail(path + ".name", "bad name");
      if (!files.insert(name).second) fail(path + ".name", "duplicate file name");
      if (file.contains("size")) bounded_size(file, "size", path, kMaxFileSize);
      if (!file.contains("content")) continue;
      const Json& content = file["content"];
      if (!content.is_object() || content.size() != 1 ||
          (!content.contains("fill") && !content.contains("seed"))) {
        fail(path + ".content", "not exactly one of fill, seed");
      } else if (content.contains("fill")) {
        if (uint_value(content["fill"]).value_or(256) > 255) {
          fail(path + ".content.fill", "not a byte");
        }
      } else if (!uint_value(content["seed"]) &&
                 !(content["seed"].is_string() && hex_value(content["seed"].get<std::string>()))) {
        fail(path + ".content.seed", "not an unsigned integer");
      }
    }
  }

  // Forks, exits and pokes against each other, and the generator's own rules
  // that keep them valid in every run order: exit only as the last op of a
  // process's only thread; a poke names its own process, a process created by
  // a thread that never exits, or a forked process that never exits whose
  // fork surely ran before the poke.
  void processes(const Json& threads) {
    std::map<std::string, std::vector<size_t>> threads_of;
    for (size_t t = 0; t < threads.size(); ++t) {
      threads_of[threads[t]["process"].get<std::string>()].push_back(t);
    }
    auto process_of = [&](size_t t) { return threads[t]["process"].get<std::string>(); };
    for (size_t t = 0; t < threads.size(); ++t) {
      if (forks.count(process_of(t)) != 0) forked_threads.insert(threads[t]["name"]);
    }

    std::set<std::string> exiting;
    for (const Site& exit : exits) {
      const std::string process = process_of(exit.thread);
      if (exit.op + 1 != threads[exit.thread]["ops"].size()) {
        fail(exit.path, "exit is not the thread's last op");
      }
      if (threads_of[process].size() != 1) {
        fail(exit.path, "exit in process '" + process + "', which has more than one thread");
      }
      exiting.insert(process);
    }

    // Parent links: no process forks itself or an ancestor of its own.
    for (const auto& [child, site] : forks) {
      std::string p = process_of(site.thread);
      for (size_t steps = 0; steps <= forks.size(); ++steps) {
        if (p == child) {
          fail(site.path, "process '" + child + "' forked by itself or a descendant");
          break;
        }
        auto it = forks.find(p);
        if (it == forks.end()) break;
        p = process_of(it->second.thread);
      }
    }
    if (!problems.empty()) return;

    // Forked processes whose fork surely ran before op `op` of thread `t`:
    // those it forked itself earlier, and, if its process was forked, the
    // fork of its process and all that ran before that.
    std::function<std::set<std::string>(size_t, size_t)> known = [&](size_t t, size_t op) {
      std::set<std::string> out;
      auto parent = forks.find(process_of(t));
      if (parent != forks.end()) {
        out = known(parent->second.thread, parent->second.op);
        out.insert(parent->first);
      }
      for (const auto& [child, site] : forks) {
        if (site.thread == t && site.op < op) out.insert(child);
      }
      return out;
    };
    for (const Poke& poke : pokes) {
      const std::string& target = poke.process;
      const bool forked = forks.count(target) != 0;
      if (!forked && threads_of.count(target) == 0) {
        fail(poke.site.path + ".process", "process '" + target + "' does not exist");
        continue;
      }
      if (target == process_of(poke.site.thread)) continue;
      if (exiting.count(target) != 0) {
        fail(poke.site.path + ".process", "process '" + target + "' may have exited");
      } else if (forked && known(poke.site.thread, poke.site.op).count(target) == 0) {
        fail(poke.site.path + ".process", "process '" + target + "' may not be forked yet");
      }
    }
  }
};

}  // namespace

std::vector<std::string> check_generated_trace(const nlohmann::json& trace) {
  Checker checker;
  checker.trace(trace);
  return checker.problems;
}

}  // namespace vmsim::tracegen::testing
