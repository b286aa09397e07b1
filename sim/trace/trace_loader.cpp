#include "trace/trace_loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "sched/yield_point_named.hpp"
#include "trace/diagnostics.hpp"
#include "trace/json_reader.hpp"
#include "trace/stat_names.hpp"
#include "trace/value_syntax.hpp"

namespace vmsim {
namespace {

using json::Type;
using json::Value;

constexpr std::string_view kFormat = "vmsim-trace/1";
constexpr uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxFileSize = 4 * kGiB;
constexpr uint64_t kMaxExecSegment = 64 * kGiB;
constexpr uint32_t kMaxCpus = 64;

// ---- Errors and fields ------------------------------------------------------

// A rejected trace: thrown by the checks below, turned into a LoadError at
// the API boundary.
struct Failure {
  SourceLoc loc;
  std::string message;  // "PATH: what is wrong"
};

// A JSON value and its path in the trace.
struct Field {
  Value value;
  std::string path;  // empty for the top level
  SourceLoc loc() const { return value.loc(); }
};

Field child(const Field& parent, std::string_view key, Value v) {
  return {v, json::path_key(parent.path, key)};
}

[[noreturn]] void fail(SourceLoc loc, std::string_view path, const std::string& what) {
  throw Failure{loc, path.empty() ? what : std::string(path) + ": " + what};
}
[[noreturn]] void fail(const Field& f, const std::string& what) {
  fail(f.loc(), f.path, what);
}
[[noreturn]] void fail_expected(const Field& f, std::string_view expected,
                                std::string_view note = {}) {
  std::string what = "expected " + std::string(expected) + ", got " + json::describe(f.value);
  if (!note.empty()) what += " (" + std::string(note) + ")";
  fail(f, what);
}
void check(bool ok, const Field& f, std::string_view expected, std::string_view note = {}) {
  if (!ok) fail_expected(f, expected, note);
}

std::string quoted_list(const std::vector<std::string_view>& items, std::string_view sep = ", ") {
  std::string out;
  for (std::string_view s : items) out += (out.empty() ? "" : std::string(sep)) + json::quote(s);
  return out;
}

std::string plain_list(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view s : items) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

std::string loc_text(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

// "64MiB" when exact, else the byte count.
std::string size_text(uint64_t bytes) {
  for (auto [unit, scale] : {std::pair{"GiB", kGiB}, {"MiB", kMiB}, {"KiB", kKiB}}) {
    if (bytes >= scale && bytes % scale == 0) return std::to_string(bytes / scale) + unit;
  }
  return std::to_string(bytes);
}

// ---- Objects ----------------------------------------------------------------

// What an object may contain and how messages refer to it.
struct Shape {
  std::string expected;                // for a value that is not an object
  std::string where;                   // "in \"machine\"", "for op \"mmap\"", ...
  std::vector<std::string_view> keys;  // allowed, in the order messages list them
  std::vector<std::string_view> required;
  std::string_view selector;  // a key that chose this shape ("op"): accepted, not visited
};

// Checks that `f` is an object of `shape`, calling visit(key, field) for each
// member in file order; unknown keys fail where they stand, missing required
// keys at the object.
template <typename Visit>
void walk(const Field& f, const Shape& shape, Visit&& visit) {
  check(f.value.type() == Type::kObject, f, shape.expected);
  for (json::Member m : f.value.members()) {
    if (!shape.selector.empty() && m.key == shape.selector) continue;
    if (std::find(shape.keys.begin(), shape.keys.end(), m.key) == shape.keys.end()) {
      std::string allowed = shape.keys.empty() ? "none" : plain_list(shape.keys);
      fail(m.key_loc, json::path_key(f.path, m.key),
           "unknown key " + json::quote(m.key) + " " + shape.where + " (allowed: " + allowed + ")");
    }
    visit(m.key, child(f, m.key, m.value));
  }
  for (std::string_view key : shape.required) {
    if (!f.value.find(key)) {
      fail(f, "missing key " + json::quote(key) + " (required " + shape.where + ")");
    }
  }
}

// The member `key` of an object already walked, which must be present.
Field member(const Field& f, std::string_view key) {
  return child(f, key, *f.value.find(key));
}
bool has(const Field& f, std::string_view key) {
  return f.value.find(key).has_value();
}

// Of two members that exclude each other, the one the reader meets second.
const Field& later(const Field& a, const Field& b) {
  SourceLoc x = a.loc(), y = b.loc();
  return (x.line != y.line ? x.line > y.line : x.column > y.column) ? a : b;
}

// ---- Scalars ----------------------------------------------------------------

bool read_bool(const Field& f) {
  check(f.value.type() == Type::kBool, f, "a boolean (true or false)");
  return f.value.boolean();
}

std::string_view read_string(const Field& f) {
  check(f.value.type() == Type::kString, f, "a string");
  return f.value.text();
}

std::string read_name(const Field& f) {
  constexpr std::string_view kExpected =
      R"(a name (a letter or "_", then up to 63 letters, digits, "_", ".", "-"))";
  check(f.value.type() == Type::kString && is_name(f.value.text()), f, kExpected);
  return std::string(f.value.text());
}

// A JSON integer in [lo, hi].
uint64_t read_uint(const Field& f, uint64_t lo, uint64_t hi) {
  std::string expected =
      hi != UINT64_MAX ? "an integer between " + std::to_string(lo) + " and " + std::to_string(hi)
      : lo == 0        ? "a non-negative integer"
                       : "an integer of at least " + std::to_string(lo);
  std::optional<uint64_t> v = f.value.as_u64();
  check(v && *v >= lo && *v <= hi, f, expected);
  return *v;
}

// One of a few strings.
template <typename T>
T read_choice(const Field& f, std::initializer_list<std::pair<std::string_view, T>> choices) {
  if (f.value.type() == Type::kString) {
    for (const auto& [name, value] : choices) {
      if (f.value.text() == name) return value;
    }
  }
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.first);
  std::string expected =
      names.size() == 2 ? quoted_list(names, " or ") : "one of " + quoted_list(names);
  fail_expected(f, expected);
}

// The kinds of number a trace writes as an integer or as a string.
struct NumberKind {
  std::string_view noun;      // for overflow: "a size"
  std::string_view expected;  // the full explanation
  Decoded (*decode)(std::string_view, uint64_t*);
};

const NumberKind kSize{
    "a size", R"(a size (a non-negative integer, or a string such as "4096", "0x1000", "64KiB"))",
    decode_size};
const NumberKind kValue{
    "a value", R"(a value (a non-negative integer, or a hex string such as "0xff"))", decode_hex};
const NumberKind kUint{"an integer", R"(a non-negative integer, or a hex string such as "0x2a")",
                       decode_hex};
const NumberKind kPhysAddress{
    "an address",
    R"(a physical address (a non-negative integer, or a hex string such as "0xfd000000"))",
    decode_hex};
const NumberKind kAddress{
    "an address",
    R"(an address (a non-negative integer, a hex string such as "0x7f0000001000", )"
    R"(or a label such as "@buf" or "@buf+0x2000"))",
    decode_hex};

[[noreturn]] void fail_overflow(const Field& f, const NumberKind& kind) {
  fail_expected(f, std::string(kind.noun) + " below 2^64");
}

uint64_t read_number(const Field& f, const NumberKind& kind) {
  const Value& v = f.value;
  if (v.type() == Type::kNumber) {
    if (auto u = v.as_u64()) return *u;
    bool positive = !v.text().starts_with("-");
    if (v.number_class() == json::NumberClass::kOutOfRange && positive) fail_overflow(f, kind);
  } else if (v.type() == Type::kString) {
    uint64_t out;
    switch (kind.decode(v.text(), &out)) {
      case Decoded::kOk:
        return out;
      case Decoded::kOverflow:
        fail_overflow(f, kind);
      case Decoded::kInvalid:
        break;
    }
  }
  fail_expected(f, kind.expected);
}

uint64_t read_size(const Field& f) {
  return read_number(f, kSize);
}

// A size that is a whole number of pages, at most `max`.
uint64_t read_page_size(const Field& f, uint64_t max) {
  uint64_t v = read_size(f);
  check(v % kPageSize == 0, f, "a multiple of 4096 (the page size)");
  check(v <= max, f, "a size of at most " + size_text(max));
  return v;
}

AddrExpr read_address(const Field& f) {
  if (f.value.type() == Type::kString && f.value.text().starts_with("@")) {
    AddrExpr a;
    switch (decode_address(f.value.text(), &a)) {
      case Decoded::kOk:
        return a;
      case Decoded::kOverflow:
        fail_overflow(f, kAddress);
      case Decoded::kInvalid:
        fail_expected(f, kAddress.expected);
    }
  }
  return AddrExpr{"", read_number(f, kAddress)};
}

uint8_t read_prot(const Field& f) {
  std::optional<uint8_t> p;
  if (f.value.type() == Type::kString) p = decode_prot(f.value.text());
  check(p.has_value(), f,
        R"(a protection (the letters r, w, x, each at most once, such as "rw" or ""))");
  return *p;
}

// An access size: 1, 2, 4 or 8.
uint32_t read_access_size(const Field& f) {
  std::optional<uint64_t> v = f.value.as_u64();
  check(v && (*v == 1 || *v == 2 || *v == 4 || *v == 8), f, "an access size (1, 2, 4 or 8)");
  return static_cast<uint32_t>(*v);
}

// ---- Ops --------------------------------------------------------------------

struct OpShape {
  OpKind kind;
  Shape shape;
};

const std::vector<OpShape>& op_shapes() {
  struct Row {
    OpKind kind;
    std::vector<std::string_view> keys, required;
  };
  // Keys as the spec lists them; every op also takes expect_fault and result.
  static const std::vector<Row> rows = {
      {OpKind::kMmap,
       {"addr", "len", "prot", "share", "fixed", "file", "device", "offset", "populate", "as"},
       {"len", "prot", "share"}},
      {OpKind::kMunmap, {"addr", "len"}, {"addr", "len"}},
      {OpKind::kMprotect, {"addr", "len", "prot"}, {"addr", "len", "prot"}},
      {OpKind::kMadvise, {"addr", "len", "advice"}, {"addr", "len", "advice"}},
      {OpKind::kBrk, {"addr"}, {"addr"}},
      {OpKind::kSbrk, {"incr"}, {"incr"}},
      {OpKind::kRead, {"addr", "size", "value"}, {"addr"}},
      {OpKind::kWrite, {"addr", "size", "value"}, {"addr", "value"}},
      {OpKind::kTouch, {"addr", "len", "access", "stride", "value"}, {"addr", "len", "access"}},
      {OpKind::kPoke, {"process", "addr", "size", "value"}, {"process", "addr", "size", "value"}},
      {OpKind::kFork, {"child"}, {"child"}},
      {OpKind::kExec, {"text", "data", "bss", "stack"}, {"text", "data", "bss", "stack"}},
      {OpKind::kExit, {}, {}},
      {OpKind::kTruncate, {"file", "size"}, {"file", "size"}},
      {OpKind::kPwrite, {"file", "offset", "value", "len"}, {"file", "offset", "value", "len"}},
      {OpKind::kCachePut, {"id", "addr", "len"}, {"id", "addr", "len"}},
      {OpKind::kCacheGet, {"id", "addr"}, {"id", "addr"}},
      {OpKind::kPageout, {"pages"}, {"pages"}},
      {OpKind::kYield, {}, {}},
  };
  static const std::vector<OpShape> shapes = [] {
    std::vector<OpShape> out;
    for (const Row& r : rows) {
      std::string name = json::quote(op_kind_name(r.kind));
      std::vector<std::string_view> keys = r.keys;
      keys.push_back("expect_fault");
      keys.push_back("result");
      out.push_back({r.kind, Shape{"an op (an object with \"op\")", "for op " + name, keys,
                                   r.required, "op"}});
    }
    return out;
  }();
  return shapes;
}

std::string op_names() {
  std::vector<std::string_view> names;
  for (const OpShape& s : op_shapes()) names.push_back(op_kind_name(s.kind));
  return plain_list(names);
}

// ---- Other objects ----------------------------------------------------------

const Shape kTopShape{
    "a trace (a JSON object)",
    "at the top level",
    {"format", "name", "description", "machine", "files", "threads", "schedule", "expect"},
    {"format", "name", "threads"},
    {}};
const Shape kMachineShape{
    "an object",
    "in \"machine\"",
    {"cpus", "memory", "swap", "reserved", "compressor", "devices", "large_pages"},
    {},
    {}};
const Shape kDeviceShape{"a device (an object)",
                         "in a device",
                         {"name", "phys", "size", "content"},
                         {"name", "phys", "size", "content"},
                         {}};
const Shape kFileShape{"a file (an object)",
                       "in a file",
                       {"name", "size", "content"},
                       {"name", "size", "content"},
                       {}};
const Shape kContentShape{R"(an object: {"fill": byte} or {"seed": integer})",
                          "in a file's \"content\"",
                          {"fill", "seed"},
                          {},
                          {}};
const Shape kDeviceContentShape{
    kContentShape.expected, "in a device's \"content\"", {"fill", "seed"}, {}, {}};
const Shape kThreadShape{"a thread (an object)",
                         "in a thread",
                         {"name", "process", "cpu", "privileged", "ops"},
                         {"name", "process", "ops"},
                         {}};
const Shape kPolicyShape{"an object", "in \"schedule\"", {"policy", "seed"}, {"policy"}, {}};
const Shape kStepShape{"a schedule step (an object)",
                       "in a schedule step",
                       {"thread", "ops", "until", "count"},
                       {"thread"},
                       {}};
const Shape kExpectShape{
    "an object", "in \"expect\"", {"result", "violation", "digest", "stats"}, {}, {}};

// ---- The loader -------------------------------------------------------------

class Loader {
 public:
  explicit Loader(const std::string& file) { trace_.file = file; }

  Trace load(Value root) {
    Field top{root, ""};
    check(root.type() == Type::kObject, top, kTopShape.expected);
    // The version says how to read everything else, so it is judged first.
    if (!has(top, "format")) fail(top, "missing key \"format\" (required at the top level)");
    Field format = member(top, "format");
    check(format.value.type() == Type::kString && format.value.text() == kFormat, format,
          json::quote(kFormat));

    walk(top, kTopShape, [&](std::string_view key, const Field& f) {
      // The trace's name also names output files (`explore --out`), so
      // it follows the names rule: never a '/' or "..".
      if (key == "name") trace_.name = read_name(f);
      if (key == "description") trace_.description = std::string(read_string(f));
      if (key == "machine") read_machine(f);
      if (key == "files") read_files(f);
      if (key == "threads") read_threads(f);
      if (key == "schedule") read_schedule(f);
      if (key == "expect") read_expect(f);
    });
    check_references();
    return std::move(trace_);
  }

 private:
  void read_machine(const Field& f) {
    MachineSpec& m = trace_.machine;
    walk(f, kMachineShape, [&](std::string_view key, const Field& v) {
      if (key == "cpus") m.cpus = static_cast<uint32_t>(read_uint(v, 1, kMaxCpus));
      if (key == "memory") {
        m.memory = read_page_size(v, 4 * kGiB);
        check(m.memory >= kMiB, v, "a size of at least 1MiB");
      }
      if (key == "swap") m.swap = read_page_size(v, 64 * kGiB);
      if (key == "reserved") m.reserved = read_page_size(v, UINT64_MAX);
      if (key == "compressor") m.compressor = read_page_size(v, UINT64_MAX);
      if (key == "devices") read_devices(v);
      if (key == "large_pages") {
        m.large_pages = read_choice<LargePages>(v, {{"never", LargePages::kNever},
                                                    {"always", LargePages::kAlways},
                                                    {"madvise", LargePages::kMadvise}});
      }
    });
    // Limits relative to memory, which may come after them.
    if (has(f, "reserved")) {
      check(m.reserved < m.memory / 2, member(f, "reserved"),
            "a size below half of machine.memory (" + size_text(m.memory / 2) + ")");
    }
    if (has(f, "compressor")) {
      check(m.compressor <= m.memory, member(f, "compressor"),
            "a size of at most machine.memory (" + size_text(m.memory) + ")");
    }
    check_device_ranges();
  }

  // machine.devices (spec §10): each alone; check_device_ranges relates them
  // to RAM and to each other once memory is known.
  void read_devices(const Field& f) {
    check(f.value.type() == Type::kArray, f, "an array of devices");
    size_t i = 0;
    for (Value item : f.value.items()) {
      Field device{item, json::path_index(f.path, i++)};
      check(i <= DeviceSpec::kMaxDevices, device,
            "at most " + std::to_string(DeviceSpec::kMaxDevices) + " devices");
      DeviceSpec spec;
      spec.path = device.path;
      walk(device, kDeviceShape, [&](std::string_view key, const Field& v) {
        if (key == "name") {
          spec.name = read_name(v);
          define_once(device_names_, v, "device");
        }
        if (key == "phys") {
          spec.phys = read_number(v, kPhysAddress);
          check(spec.phys % kPageSize == 0, v, "a page-aligned physical address");
        }
        if (key == "size") {
          spec.size = read_page_size(v, DeviceSpec::kMaxDeviceBytes);
          check(spec.size > 0, v, "a device size of at least 4096");
        }
        if (key == "content") read_content(v, spec);
      });
      const Field phys = member(device, "phys");
      check(spec.phys <= DeviceSpec::kMaxDeviceEnd - spec.size, phys,
            "a device range ending at most at physical " + size_text(DeviceSpec::kMaxDeviceEnd));
      device_phys_.push_back(phys);
      trace_.machine.devices.push_back(std::move(spec));
    }
  }

  void check_device_ranges() {
    const MachineSpec& m = trace_.machine;
    uint64_t total = 0;
    for (size_t i = 0; i < m.devices.size(); ++i) {
      const DeviceSpec& d = m.devices[i];
      const Field& phys = device_phys_[i];
      check(d.phys >= m.memory, phys,
            "a device range outside RAM (machine.memory is [0, " + size_text(m.memory) + "))");
      for (size_t j = 0; j < i; ++j) {
        const DeviceSpec& e = m.devices[j];
        if (d.phys < e.phys + e.size && e.phys < d.phys + d.size) {
          fail(phys, "device " + json::quote(d.name) + " overlaps device " + json::quote(e.name) +
                         " (" + e.path + ")");
        }
      }
      total += d.size;
      check(total <= DeviceSpec::kMaxDeviceBytes, phys,
            "devices of at most " + size_text(DeviceSpec::kMaxDeviceBytes) + " together");
    }
  }

  void read_files(const Field& f) {
    check(f.value.type() == Type::kArray, f, "an array of files");
    size_t i = 0;
    for (Value item : f.value.items()) {
      Field file{item, json::path_index(f.path, i++)};
      FileSpec spec;
      spec.path = file.path;
      walk(file, kFileShape, [&](std::string_view key, const Field& v) {
        if (key == "name") {
          spec.name = read_name(v);
          define_once(file_names_, v, "file");
        }
        if (key == "size") {
          spec.size = read_size(v);
          check(spec.size <= kMaxFileSize, v, "a file size of at most 4GiB");
        }
        if (key == "content") read_content(v, spec);
      });
      trace_.files.push_back(std::move(spec));
    }
  }

  template <typename Spec>  // FileSpec or DeviceSpec: filled alike (spec §2, §10)
  void read_content(const Field& f, Spec& spec) {
    const bool device = std::is_same_v<Spec, DeviceSpec>;
    walk(f, device ? kDeviceContentShape : kContentShape,
         [&](std::string_view key, const Field& v) {
           if (key == "fill") spec.fill = static_cast<uint8_t>(read_uint(v, 0, 255));
           if (key == "seed") {
             spec.seed = read_number(v, kUint);
             spec.seeded = true;
           }
         });
    size_t given = has(f, "fill") + has(f, "seed");
    if (given == 0) fail(f, R"(expected exactly one of "fill" and "seed", got neither)");
    if (given == 2) {
      fail(later(member(f, "fill"), member(f, "seed")),
           R"(expected exactly one of "fill" and "seed", got both)");
    }
  }

  void read_threads(const Field& f) {
    check(f.value.type() == Type::kArray, f, "an array of threads");
    check(f.value.items().begin() != f.value.items().end(), f, "at least one thread");
    size_t i = 0;
    for (Value item : f.value.items()) {
      Field thread{item, json::path_index(f.path, i++)};
      ThreadSpec spec;
      spec.path = thread.path;
      walk(thread, kThreadShape, [&](std::string_view key, const Field& v) {
        if (key == "name") {
          spec.name = read_name(v);
          define_once(thread_names_, v, "thread");
        }
        if (key == "process") spec.process = read_name(v);
        if (key == "privileged") {
          spec.privileged = read_bool(v);
          if (spec.privileged) privileged_uses_.push_back({v, trace_.threads.size()});
        }
        if (key == "cpu") {
          spec.cpu = static_cast<uint32_t>(read_uint(v, 0, kMaxCpus - 1));
          cpu_uses_.push_back(v);
        }
        if (key == "ops") {
          check(v.value.type() == Type::kArray, v, "an array of ops");
          size_t k = 0;
          for (Value op : v.value.items()) {
            spec.ops.push_back(read_op(Field{op, json::path_index(v.path, k++)}));
          }
        }
      });
      trace_.threads.push_back(std::move(spec));
    }
  }

  Op read_op(const Field& f) {
    Op op;
    op.path = f.path;
    op.loc = f.loc();
    check(f.value.type() == Type::kObject, f, R"(an op (an object with "op"))");
    if (!has(f, "op")) fail(f, "missing key \"op\"");
    Field name = member(f, "op");
    const OpShape* shape = nullptr;
    for (const OpShape& s : op_shapes()) {
      if (name.value.type() == Type::kString && name.value.text() == op_kind_name(s.kind)) {
        shape = &s;
      }
    }
    if (!shape) fail_expected(name, "an op name (" + op_names() + ")");
    op.kind = shape->kind;
    walk(f, shape->shape, [&](std::string_view key, const Field& v) { read_op_key(op, key, v); });
    check_op(op, f);
    return op;
  }

  // One member of an op; checks that involve several members are in check_op.
  void read_op_key(Op& op, std::string_view key, const Field& v) {
    if (key == "addr") {
      op.addr = read_address(v);
      op.has_addr = true;
      if (op.addr.is_label()) label_uses_.push_back({v, op.addr.label});
    } else if (key == "len") {
      op.len = read_size(v);
    } else if (key == "prot") {
      op.prot = read_prot(v);
    } else if (key == "share") {
      op.shared = read_choice<bool>(v, {{"private", false}, {"shared", true}});
    } else if (key == "fixed") {
      op.fixed = read_bool(v);
    } else if (key == "populate") {
      op.populate = read_bool(v);
    } else if (key == "file") {
      op.file = read_name(v);
      file_uses_.push_back(v);
    } else if (key == "device") {
      op.device = read_name(v);
      device_uses_.push_back(v);
    } else if (key == "offset") {
      op.offset = read_size(v);
    } else if (key == "as") {
      op.as = read_name(v);
      define_once(labels_, v, "label");
    } else if (key == "advice") {
      op.advice = read_choice<Advice>(v, {{"dontneed", Advice::kDontneed},
                                          {"willneed", Advice::kWillneed},
                                          {"hugepage", Advice::kHugepage},
                                          {"nohugepage", Advice::kNohugepage}});
    } else if (key == "incr") {
      std::optional<int64_t> incr = v.value.as_i64();
      check(incr && *incr != INT64_MIN, v, "an integer of magnitude below 2^63");
      op.incr = *incr;
    } else if (key == "size" && op.kind == OpKind::kTruncate) {
      op.file_size = read_size(v);
      check(op.file_size <= kMaxFileSize, v, "a file size of at most 4GiB");
    } else if (key == "size") {
      op.size = read_access_size(v);
    } else if (key == "value") {
      op.value = read_number(v, kValue);
      op.has_value = true;
    } else if (key == "access") {
      op.touch_write = read_choice<bool>(v, {{"r", false}, {"w", true}});
    } else if (key == "stride") {
      op.stride = read_size(v);
      check(op.stride >= 1, v, "a stride of at least 1");
    } else if (key == "process") {
      op.process = read_name(v);
      process_uses_.push_back(v);
    } else if (key == "child") {
      op.child = read_name(v);
      define_once(fork_children_, v, "fork of process");
      forks_.push_back({v, trace_.threads.size()});
    } else if (key == "text" || key == "data" || key == "bss" || key == "stack") {
      uint64_t size = read_size(v);
      check(size <= kMaxExecSegment, v, "a segment size of at most 64GiB");
      (key == "text" ? op.text : key == "data" ? op.data : key == "bss" ? op.bss : op.stack) = size;
    } else if (key == "id") {
      op.id = read_number(v, kUint);
    } else if (key == "pages") {
      op.pages = read_uint(v, 1, UINT64_MAX);
    } else if (key == "expect_fault") {
      op.expect_fault = read_choice<FaultKind>(
          v, {{"segv", FaultKind::kSegv}, {"bus", FaultKind::kBus}, {"oom", FaultKind::kOom}});
    } else if (key == "result") {
      op.result = read_choice<ExpectedResult>(v, {{"ok", ExpectedResult::kOk},
                                                  {"enomem", ExpectedResult::kEnomem},
                                                  {"einval", ExpectedResult::kEinval},
                                                  {"efault", ExpectedResult::kEfault},
                                                  {"eperm", ExpectedResult::kEperm},
                                                  {"hit", ExpectedResult::kHit},
                                                  {"miss", ExpectedResult::kMiss}});
      op.result_given = true;
    }
  }

  // Rules between the members of one op.
  void check_op(const Op& op, const Field& f) {
    switch (op.kind) {
      case OpKind::kMmap:
        if (op.fixed && !op.has_addr) fail(member(f, "fixed"), R"("fixed": true needs "addr")");
        if (has(f, "file") && has(f, "device")) {
          fail(later(member(f, "file"), member(f, "device")),
               R"(expected either "file" or "device", got both)");
        }
        if (has(f, "offset") && op.file.empty() && op.device.empty()) {
          fail(member(f, "offset"),
               R"("offset" needs "file" or "device" (anonymous memory has no offset))");
        }
        if (!op.device.empty() && !op.shared) {
          fail_expected(member(f, "share"), R"("shared")",
                        "a device mapping is always shared (spec §10)");
        }
        break;
      case OpKind::kRead:
      case OpKind::kWrite:
      case OpKind::kPoke:
        if (op.has_value) check_fits(member(f, "value"), op.value, op.size);
        if (op.addr.offset % op.size != 0) {
          std::string size = std::to_string(op.size);
          std::string note = "misaligned for an access of size " + size;
          if (op.addr.is_label()) note += "; labels are page-aligned";
          fail_expected(member(f, "addr"), "an address aligned to " + size + " bytes", note);
        }
        break;
      case OpKind::kTouch:
        if (op.has_value) {
          Field value = member(f, "value");
          if (!op.touch_write) fail(value, R"("value" needs "access": "w" (reads store nothing))");
          check_fits(value, op.value, 1);
        }
        break;
      case OpKind::kPwrite:
        check_fits(member(f, "value"), op.value, 1);
        check(op.len <= kMaxFileSize && op.offset <= kMaxFileSize - op.len, member(f, "len"),
              "a write ending at most at 4GiB (offset + len)");
        break;
      default:
        break;
    }
    if (op.result_given) {
      Field result = member(f, "result");
      bool cache = op.result == ExpectedResult::kHit || op.result == ExpectedResult::kMiss;
      if (op.kind == OpKind::kCacheGet) {
        // A get whose block cannot go to `addr` fails like any call.
        check(cache || op.result == ExpectedResult::kEinval || op.result == ExpectedResult::kEfault,
              result, R"("hit", "miss", "einval" or "efault")", "the results of cache_get");
      } else {
        check(!cache, result, R"("ok", "enomem", "einval", "efault" or "eperm")",
              "\"hit\" and \"miss\" are for cache_get");
      }
      // A faulting op returns nothing, so a result beside expect_fault can
      // only be a mistake.
      if (op.expect_fault) fail(result, R"("result" cannot be combined with "expect_fault")");
    }
  }

  static void check_fits(const Field& f, uint64_t value, uint32_t bytes) {
    if (bytes >= 8) return;
    uint64_t max = (uint64_t{1} << (8 * bytes)) - 1;
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(max));
    check(value <= max, f,
          "a value that fits in " + std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes") +
              " (at most " + hex + ")");
  }

  void read_schedule(const Field& f) {
    Schedule& s = trace_.schedule;
    if (f.value.type() == Type::kObject) {
      walk(f, kPolicyShape, [&](std::string_view key, const Field& v) {
        if (key == "policy") {
          s.policy = read_choice<Policy>(v, {{"round-robin", Policy::kRoundRobin},
                                             {"sequential", Policy::kSequential},
                                             {"random", Policy::kRandom}});
        }
        if (key == "seed") s.seed = read_number(v, kUint);
      });
      return;
    }
    check(f.value.type() == Type::kArray, f,
          R"(a schedule (an object with "policy", or an array of steps))");
    size_t i = 0;
    for (Value item : f.value.items())
      s.steps.push_back(read_step({item, json::path_index(f.path, i++)}));
  }

  ScheduleStep read_step(const Field& f) {
    ScheduleStep step;
    step.path = f.path;
    step.loc = f.loc();
    walk(f, kStepShape, [&](std::string_view key, const Field& v) {
      if (key == "thread") {
        step.thread = read_name(v);
        step_threads_.push_back(v);
      }
      if (key == "ops") step.ops = read_uint(v, 1, UINT64_MAX);
      if (key == "until") step.point = read_yield_point(v);
      if (key == "count") step.count = read_uint(v, 1, UINT64_MAX);
    });
    if (has(f, "ops") && has(f, "until")) {
      fail(later(member(f, "ops"), member(f, "until")),
           R"(expected either "ops" or "until" in a step, got both)");
    }
    if (has(f, "count") && !has(f, "until")) fail(member(f, "count"), R"("count" needs "until")");
    step.kind = has(f, "ops")     ? ScheduleStep::Kind::kOps
                : has(f, "until") ? ScheduleStep::Kind::kUntil
                                  : ScheduleStep::Kind::kRun;
    return step;
  }

  static std::string read_yield_point(const Field& f) {
    std::vector<std::string_view> names(std::begin(replay::kYieldPointNames),
                                        std::end(replay::kYieldPointNames));
    if (f.value.type() == Type::kString &&
        std::find(names.begin(), names.end(), f.value.text()) != names.end()) {
      return std::string(f.value.text());
    }
    fail_expected(f, "a yield point (" + plain_list(names) + ")");
  }

  void read_expect(const Field& f) {
    Expectations& e = trace_.expect;
    walk(f, kExpectShape, [&](std::string_view key, const Field& v) {
      if (key == "result") {
        e.result = read_choice<std::string>(v, {{"pass", "pass"}, {"violation", "violation"}});
      }
      if (key == "violation") {
        e.violation = read_choice<std::string>(v, {{"read-mismatch", "read-mismatch"},
                                                   {"state-mismatch", "state-mismatch"},
                                                   {"unexpected-fault", "unexpected-fault"},
                                                   {"missing-fault", "missing-fault"},
                                                   {"invariant", "invariant"},
                                                   {"stale-tlb", "stale-tlb"},
                                                   {"out-of-memory", "out-of-memory"},
                                                   {"leak", "leak"},
                                                   {"deadlock", "deadlock"},
                                                   {"panic", "panic"}});
      }
      if (key == "digest") {
        std::string_view d = v.value.type() == Type::kString ? v.value.text() : "";
        bool ok = d.size() == 64 && std::all_of(d.begin(), d.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
        check(ok, v, "a digest (64 lowercase hex digits)");
        e.digest = std::string(d);
      }
      if (key == "stats") read_stats(v);
    });
    if (e.violation) {
      if (e.result == "pass") {
        fail_expected(member(f, "violation"), R"(no violation kind when "result" is "pass")");
      }
      e.result = "violation";  // a kind alone says the run must end in it
    }
  }

  void read_stats(const Field& f) {
    check(f.value.type() == Type::kObject, f, "an object of stat names and counts");
    for (json::Member m : f.value.members()) {
      Field stat = child(f, m.key, m.value);
      if (!is_known_stat(m.key)) {
        fail(m.key_loc, stat.path,
             "unknown stat " + json::quote(m.key) + " (see docs/result-format.md)");
      }
      std::optional<int64_t> count = m.value.as_i64();
      check(count && *count >= 0, stat, "a non-negative integer below 2^63");
      trace_.expect.stats[std::string(m.key)] = *count;
    }
  }

  // Names defined by one place only: the second definition fails.
  using Definitions = std::map<std::string, Field, std::less<>>;

  static void define_once(Definitions& defs, const Field& f, std::string_view what) {
    auto [it, inserted] = defs.emplace(std::string(f.value.text()), f);
    if (!inserted) {
      const Field& first = it->second;
      fail(f, "duplicate " + std::string(what) + " " + json::quote(f.value.text()) + " (first at " +
                  first.path + ", " + loc_text(first.loc()) + ")");
    }
  }

  // Everything that may refer forward: a thread's cpu to machine, names of
  // files, labels, processes and threads defined anywhere in the trace.
  void check_references() {
    const uint32_t cpus = trace_.machine.cpus;
    for (const Field& cpu : cpu_uses_) {
      check(*cpu.value.as_u64() < cpus, cpu,
            "a CPU below machine.cpus (" + std::to_string(cpus) + ")");
    }
    for (const Field& file : file_uses_) {
      if (!file_names_.contains(file.value.text())) {
        fail(file, "undefined file " + json::quote(file.value.text()) + " (not in \"files\")");
      }
    }
    for (const Field& device : device_uses_) {
      if (!device_names_.contains(device.value.text())) {
        fail(device, "undefined device " + json::quote(device.value.text()) +
                         " (not in \"machine.devices\")");
      }
    }
    for (const auto& [field, label] : label_uses_) {
      if (!labels_.contains(label)) {
        fail(field, "undefined label " + json::quote(label) + " (no mmap binds it with \"as\")");
      }
    }
    std::set<std::string, std::less<>> processes;
    for (const ThreadSpec& t : trace_.threads) processes.insert(t.process);
    for (const auto& [child, field] : fork_children_) processes.insert(child);
    for (const Field& p : process_uses_) {
      if (!processes.contains(p.value.text())) {
        fail(p, "undefined process " + json::quote(p.value.text()) +
                    " (no thread names it and no fork creates it)");
      }
    }
    check_forks();
    check_privileged();
    for (const Field& t : step_threads_) {
      if (!thread_names_.contains(t.value.text())) {
        fail(t, "undefined thread " + json::quote(t.value.text()) + " (no thread has this name)");
      }
    }
  }

  // A forked process starts only after its fork, so the fork must be made by
  // a process that can itself start: not the child, nor one of its
  // descendants.
  void check_forks() {
    std::map<std::string, std::string, std::less<>> parent;  // child -> forking process
    for (const Fork& fork : forks_) {
      parent[std::string(fork.child.value.text())] = trace_.threads[fork.thread].process;
    }
    for (const Fork& fork : forks_) {
      std::string_view child = fork.child.value.text();
      const std::string& forker = trace_.threads[fork.thread].process;
      if (forker == child) {
        fail(fork.child, "process " + json::quote(child) + " cannot fork itself (" +
                             trace_.threads[fork.thread].path + " runs in it)");
      }
      // Parent links are unique, so this walk ends within parent.size() steps.
      std::string_view p = forker;
      for (size_t steps = 0; steps <= parent.size(); ++steps) {
        auto it = parent.find(p);
        if (it == parent.end()) break;
        p = it->second;
        if (p == child) {
          fail(fork.child, "process " + json::quote(child) + " would be forked by " +
                               json::quote(forker) + ", a process forked from it");
        }
      }
    }
  }

  // `privileged` decides a process once, where it is created (spec §2): on
  // the first thread naming a process no fork creates. Elsewhere it would
  // be silently meaningless, so it is refused.
  void check_privileged() {
    for (const PrivilegedUse& use : privileged_uses_) {
      const std::string& process = trace_.threads[use.thread].process;
      if (fork_children_.contains(process)) {
        fail(use.field, "process " + json::quote(process) +
                            " is created by a fork and inherits its parent's privilege; "
                            "\"privileged\" belongs on the first thread of a process");
      }
      for (size_t i = 0; i < use.thread; ++i) {
        if (trace_.threads[i].process == process) {
          fail(use.field, "\"privileged\" belongs on the first thread of process " +
                              json::quote(process) + " (" + trace_.threads[i].path +
                              "), which creates it");
        }
      }
    }
  }

  struct LabelUse {
    Field field;
    std::string label;
  };
  struct Fork {
    Field child;
    size_t thread;  // index in trace_.threads
  };

  Trace trace_;
  Definitions thread_names_, file_names_, labels_, fork_children_, device_names_;
  std::vector<Field> cpu_uses_, file_uses_, process_uses_, step_threads_, device_uses_;
  std::vector<Field> device_phys_;  // machine.devices[i].phys
  struct PrivilegedUse {
    Field field;
    size_t thread;  // index in trace_.threads
  };
  std::vector<PrivilegedUse> privileged_uses_;  // `privileged: true` on a thread
  std::vector<LabelUse> label_uses_;
  std::vector<Fork> forks_;
};

std::string located(const std::string& file, SourceLoc loc, const std::string& message) {
  if (loc.line == 0) return file + ": " + message;
  return file + ":" + loc_text(loc) + ": " + message;
}

}  // namespace

std::variant<Trace, LoadError> load_trace_text(std::string_view text,
                                               const std::string& display_name) {
  try {
    std::variant<json::Document, json::ParseError> parsed = json::parse(text);
    if (auto* e = std::get_if<json::ParseError>(&parsed)) {
      return LoadError{located(display_name, e->loc, e->message)};
    }
    return Loader(display_name).load(std::get<json::Document>(parsed).root());
  } catch (const Failure& f) {
    return LoadError{located(display_name, f.loc, f.message)};
  } catch (const std::bad_alloc&) {
    return LoadError{display_name + ": out of memory"};
  } catch (const std::exception& e) {
    return LoadError{display_name + ": internal error: " + e.what()};
  } catch (...) {
    return LoadError{display_name + ": internal error"};
  }
}

std::variant<Trace, LoadError> load_trace_file(const std::string& path) {
  auto cannot_read = [&](int err) {
    return LoadError{path + ": cannot read: " + std::strerror(err)};
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return cannot_read(errno);
  struct stat st;
  if (fstat(fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > json::kMaxInputBytes) {
    return LoadError{path + ": " + std::string(json::kTooLargeMessage)};
  }
  try {
    // Not every file knows its size (pipes, /proc): read past the limit and
    // let the parser tell "too large".
    std::string text;
    char buf[1 << 16];
    size_t n;
    while (text.size() <= json::kMaxInputBytes &&
           (n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
      text.append(buf, n);
    }
    if (std::ferror(f.get())) return cannot_read(errno);
    return load_trace_text(text, path);
  } catch (const std::bad_alloc&) {
    return LoadError{path + ": out of memory"};
  }
}

}  // namespace vmsim
