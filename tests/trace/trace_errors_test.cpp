// Invalid traces: each class of mistake yields one message naming the file,
// the JSON path, the line:column of the offending value and what was wrong.
#include <gtest/gtest.h>

#include <string>

#include "trace/json_reader.hpp"
#include "trace_test_util.hpp"

namespace vmsim {
namespace {

using testing::load_error;
using testing::with_members;
using testing::with_ops;

// The ops start at 4:5 (see with_ops).
std::string op_error(std::string_view ops) {
  return load_error(with_ops(ops));
}
// The member starts at 3:2 (see with_members).
std::string member_error(std::string_view member) {
  return load_error(with_members(member));
}

constexpr std::string_view kSize =
    R"(expected a size (a non-negative integer, or a string such as "4096", "0x1000", "64KiB"))";
constexpr std::string_view kAddress =
    R"(expected an address (a non-negative integer, a hex string such as "0x7f0000001000", )"
    R"(or a label such as "@buf" or "@buf+0x2000"))";
constexpr std::string_view kName =
    R"(expected a name (a letter or "_", then up to 63 letters, digits, "_", ".", "-"))";

std::string cat(std::string_view a, std::string_view b, std::string_view c = "") {
  return std::string(a) + std::string(b) + std::string(c);
}

// ---- Syntax -----------------------------------------------------------------

TEST(TraceErrors, TrailingCommas) {
  EXPECT_EQ(
      load_error(R"({"a": [1, 2,]})"),
      R"(t.json:1:13: syntax error: expected a JSON value, got "]" (JSON has no trailing commas))");
  EXPECT_EQ(
      load_error("{\"a\": 1,\n}"),
      R"(t.json:2:1: syntax error: expected a string key, got "}" (JSON has no trailing commas))");
}

TEST(TraceErrors, Comments) {
  EXPECT_EQ(load_error("{\"a\": 1 // why\n}"),
            R"(t.json:1:9: syntax error: expected ',' or '}', got "//" (JSON has no comments))");
  EXPECT_EQ(load_error("/* x */ {}"),
            R"(t.json:1:1: syntax error: expected a JSON value, got "/*" (JSON has no comments))");
}

TEST(TraceErrors, NotJsonValues) {
  EXPECT_EQ(load_error(R"({"a": NaN})"),
            R"(t.json:1:7: syntax error: expected a JSON value, got "NaN")");
  EXPECT_EQ(load_error(R"([-Infinity])"),
            R"(t.json:1:3: syntax error: expected a digit after '-', got "Infinity")");
  EXPECT_EQ(load_error(R"([tru])"),
            R"(t.json:1:2: syntax error: expected a JSON value, got "tru")");
  EXPECT_EQ(load_error(R"(['a'])"),
            R"(t.json:1:2: syntax error: expected a JSON value, got "'a'")");
  EXPECT_EQ(load_error("[- 1]"),
            R"(t.json:1:3: syntax error: expected a digit after '-', got " ")");
  EXPECT_EQ(load_error(R"([01])"),
            R"(t.json:1:2: syntax error: expected a number without leading zeros, got "01")");
  EXPECT_EQ(load_error(R"([1.])"),
            R"(t.json:1:4: syntax error: expected a digit after '.', got "]")");
  EXPECT_EQ(load_error(R"([1e+])"),
            R"(t.json:1:5: syntax error: expected a digit in the exponent, got "]")");
}

TEST(TraceErrors, StructureMistakes) {
  EXPECT_EQ(load_error(R"({"a" 1})"),
            R"(t.json:1:6: syntax error: expected ':' after the key, got "1")");
  EXPECT_EQ(load_error(R"({a: 1})"),
            R"(t.json:1:2: syntax error: expected a string key or '}', got "a")");
  EXPECT_EQ(load_error(R"([1 2])"), R"(t.json:1:4: syntax error: expected ',' or ']', got "2")");
  EXPECT_EQ(load_error("{}\n  x"),
            R"(t.json:2:3: syntax error: expected end of file after the top-level value, got "x")");
  EXPECT_EQ(load_error("{} {}"),
            R"(t.json:1:4: syntax error: expected end of file after the top-level value, got "{")");
}

TEST(TraceErrors, StringMistakes) {
  EXPECT_EQ(load_error("{\"a\": \"x\ty\"}"),
            "t.json:1:9: syntax error: expected a character or an escape sequence, got the control "
            "character U+0009 (control characters must be escaped)");
  EXPECT_EQ(load_error("[\"x\ny\"]"),
            "t.json:1:4: syntax error: expected a character or an escape sequence, got the control "
            "character U+000A (control characters must be escaped)");
  EXPECT_EQ(load_error(R"(["\q"])"),
            R"(t.json:1:3: syntax error: expected an escape sequence (\" \\ \/ \b \f \n \r \t or )"
            R"(\uXXXX), got "\\q")");
  EXPECT_EQ(load_error(R"(["\u12G4"])"),
            R"(t.json:1:3: syntax error: expected four hex digits after \u, got "\\u12G4")");
  EXPECT_EQ(load_error(R"(["ok \ud800 then"])"),
            R"(t.json:1:6: syntax error: expected a low surrogate (\uDC00 to \uDFFF) after the )"
            R"(high surrogate, got the lone high surrogate "\\ud800")");
  EXPECT_EQ(load_error(R"(["\ud800\u0041"])"),
            R"(t.json:1:3: syntax error: expected a low surrogate (\uDC00 to \uDFFF) after the )"
            R"(high surrogate, got the lone high surrogate "\\ud800")");
  EXPECT_EQ(load_error(R"(["\uDC00"])"),
            R"(t.json:1:3: syntax error: expected a Unicode character, got the lone low )"
            R"(surrogate "\\uDC00")");
}

TEST(TraceErrors, TruncatedFile) {
  EXPECT_EQ(load_error(R"({"a": [1, )"),
            "t.json:1:11: syntax error: expected a JSON value, got end of file");
  EXPECT_EQ(load_error("{\"a\":\n  \"abc"),
            R"(t.json:2:3: syntax error: expected '"' to close this string, got end of file)");
  EXPECT_EQ(load_error(R"({"a": 1)"),
            "t.json:1:8: syntax error: expected ',' or '}', got end of file");
  EXPECT_EQ(load_error(R"(["\)"),
            R"(t.json:1:3: syntax error: expected an escape sequence (\" \\ \/ \b \f \n \r \t or )"
            R"(\uXXXX), got end of file)");
  EXPECT_EQ(load_error(R"([-)"),
            "t.json:1:3: syntax error: expected a digit after '-', got end of file");
}

TEST(TraceErrors, EmptyFiles) {
  EXPECT_EQ(load_error(""), "t.json: empty file");
  EXPECT_EQ(load_error("\xef\xbb\xbf"), "t.json: empty file");
  EXPECT_EQ(load_error(" \n\t\r\n  "), "t.json: empty file (only whitespace)");
}

TEST(TraceErrors, NotUtf8) {
  // Outside strings, in strings, and after a syntax error: the encoding is
  // judged first, at the first bad byte.
  EXPECT_EQ(load_error("{\"a\": 1,\n \xff}"),
            "t.json:2:2: syntax error: expected UTF-8 text, got the byte 0xff");
  EXPECT_EQ(load_error("[\"\xc3\xa9\xc3\x28\"]"),
            "t.json:1:4: syntax error: expected UTF-8 text, got the byte 0xc3");
  EXPECT_EQ(load_error("[x, \"\xe9t\xe9\"]"),
            "t.json:1:6: syntax error: expected UTF-8 text, got the byte 0xe9");
  EXPECT_EQ(load_error("[\"\xc0\xaf\"]"),  // overlong '/'
            "t.json:1:3: syntax error: expected UTF-8 text, got the byte 0xc0");
  EXPECT_EQ(load_error("[\"\xed\xa0\x80\"]"),  // an encoded surrogate
            "t.json:1:3: syntax error: expected UTF-8 text, got the byte 0xed");
  EXPECT_EQ(load_error("[\"\xf4\x90\x80\x80\"]"),  // above U+10FFFF
            "t.json:1:3: syntax error: expected UTF-8 text, got the byte 0xf4");
  EXPECT_EQ(load_error("[\"\xe2\x82"),  // cut short by the end of the file
            "t.json:1:3: syntax error: expected UTF-8 text, got the byte 0xe2");
}

TEST(TraceErrors, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(load_error("{\"\xc3\xa9t\xc3\xa9\": \"\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x98\x80\", "
                       "\"x\": tru}"),
            R"(t.json:1:21: syntax error: expected a JSON value, got "tru")");
}

TEST(TraceErrors, DeepNesting) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(load_error(ok), "t.json:1:1: expected a trace (a JSON object), got an array");
  EXPECT_EQ(load_error(std::string(65, '[') + std::string(65, ']')),
            "t.json:1:65: syntax error: expected at most 64 nested arrays and objects, got more");
  EXPECT_EQ(load_error(std::string(10000, '[')),
            "t.json:1:65: syntax error: expected at most 64 nested arrays and objects, got more");
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  EXPECT_EQ(load_error(objects),
            "t.json:1:321: syntax error: expected at most 64 nested arrays and objects, got more");
}

TEST(TraceErrors, DuplicateJsonKeys) {
  EXPECT_EQ(member_error(R"("machine": {"cpus": 2, "cpus": 3})"),
            R"(t.json:3:25: machine.cpus: duplicate key "cpus" (first at 3:14))");
  EXPECT_EQ(load_error("{\"name\": 1,\n \"name\": 2}"),
            R"(t.json:2:2: name: duplicate key "name" (first at 1:2))");
  EXPECT_EQ(op_error(R"({"op": "yield", "op": "yield"})"),
            R"(t.json:4:21: threads[0].ops[0].op: duplicate key "op" (first at 4:6))");
  // Past the linear scan, in a big object, with an escaped spelling.
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\": 0, ";
  big += R"("k\u0031": 0})";
  EXPECT_EQ(load_error(big), R"(t.json:1:392: k1: duplicate key "k1" (first at 1:11))");
}

TEST(TraceErrors, TooLargeText) {
  std::string text(json::kMaxInputBytes + 1, ' ');
  EXPECT_EQ(load_error(text), "t.json: file too large (more than 64 MiB)");
}

// ---- Top level --------------------------------------------------------------

TEST(TraceErrors, TopLevel) {
  EXPECT_EQ(load_error("[]"), "t.json:1:1: expected a trace (a JSON object), got an empty array");
  EXPECT_EQ(load_error(R"({"name": "t"})"),
            R"(t.json:1:1: missing key "format" (required at the top level))");
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/2", "nmae": 1})"),
            R"(t.json:1:12: format: expected "vmsim-trace/1", got "vmsim-trace/2")");
  EXPECT_EQ(member_error(R"("nmae": "x")"),
            R"(t.json:3:2: nmae: unknown key "nmae" at the top level (allowed: format, name, )"
            R"(description, machine, files, threads, schedule, expect))");
  EXPECT_EQ(member_error(R"("a b": 1)"),
            R"(t.json:3:2: ["a b"]: unknown key "a b" at the top level (allowed: format, name, )"
            R"(description, machine, files, threads, schedule, expect))");
  EXPECT_EQ(member_error(R"("": 1)"),
            R"(t.json:3:2: [""]: unknown key "" at the top level (allowed: format, name, )"
            R"(description, machine, files, threads, schedule, expect))");
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/1", "threads": []})"),
            "t.json:1:40: threads: expected at least one thread, got an empty array");
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/1", "name": "t"})"),
            R"(t.json:1:1: missing key "threads" (required at the top level))");
  EXPECT_EQ(member_error(R"("description": 7)"),
            "t.json:3:17: description: expected a string, got 7");
}

TEST(TraceErrors, TraceName) {
  // The trace's name names output files (`explore --out DIR` writes
  // DIR/NAME.KIND.json): the names rule keeps it inside DIR.
  const char* kExpected =
      R"(expected a name (a letter or "_", then up to 63 letters, digits, "_", ".", "-"))";
  auto named = [](std::string_view name) {
    return load_error(std::string(R"({"format": "vmsim-trace/1", "name": )") + std::string(name) +
                      R"(, "threads": [{"name": "a", "process": "p", "ops": []}]})");
  };
  EXPECT_EQ(named(R"("")"), cat("t.json:1:37: name: ", kExpected, R"(, got "")"));
  EXPECT_EQ(named(R"("../../x")"), cat("t.json:1:37: name: ", kExpected, R"(, got "../../x")"));
  EXPECT_EQ(named(R"("a/b")"), cat("t.json:1:37: name: ", kExpected, R"(, got "a/b")"));
  EXPECT_EQ(named(R"("..")"), cat("t.json:1:37: name: ", kExpected, R"(, got "..")"));
  EXPECT_EQ(named(R"("two words")"), cat("t.json:1:37: name: ", kExpected, R"(, got "two words")"));
  EXPECT_EQ(named(R"("two\nlines")"),
            cat("t.json:1:37: name: ", kExpected, R"(, got "two\nlines")"));
  EXPECT_EQ(named('"' + std::string(65, 'n') + '"'),
            cat("t.json:1:37: name: ", kExpected,
                R"(, got "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...")"));
  EXPECT_EQ(named("null"), cat("t.json:1:37: name: ", kExpected, ", got null"));
}

// ---- Machine ----------------------------------------------------------------

TEST(TraceErrors, MachineKeysAndTypes) {
  EXPECT_EQ(member_error(R"("machine": {"cpu": 2})"),
            R"(t.json:3:14: machine.cpu: unknown key "cpu" in "machine" (allowed: cpus, memory, )"
            R"(swap, reserved, compressor, devices, large_pages))");
  EXPECT_EQ(member_error(R"("machine": [])"),
            "t.json:3:13: machine: expected an object, got an empty array");
  EXPECT_EQ(member_error(R"("machine": {"cpus": "4"})"),
            R"(t.json:3:22: machine.cpus: expected an integer between 1 and 64, got "4")");
  EXPECT_EQ(member_error(R"("machine": {"cpus": 2.0})"),
            "t.json:3:22: machine.cpus: expected an integer between 1 and 64, got 2.0");
}

// Spec §9: machine.large_pages and the large-page madvise advice.
TEST(TraceErrors, LargePages) {
  EXPECT_EQ(member_error(R"("machine": {"large_pages": "sometimes"})"),
            R"(t.json:3:29: machine.large_pages: expected one of "never", "always", )"
            R"("madvise", got "sometimes")");
  EXPECT_EQ(member_error(R"("machine": {"large_pages": true})"),
            R"(t.json:3:29: machine.large_pages: expected one of "never", "always", )"
            R"("madvise", got true)");
  EXPECT_EQ(op_error(R"({"op": "madvise", "addr": 65536, "len": 4096, "advice": "huge"})"),
            R"(t.json:4:61: threads[0].ops[0].advice: expected one of "dontneed", "willneed", )"
            R"("hugepage", "nohugepage", got "huge")");
}

TEST(TraceErrors, CpusOutOfRange) {
  EXPECT_EQ(member_error(R"("machine": {"cpus": 0})"),
            "t.json:3:22: machine.cpus: expected an integer between 1 and 64, got 0");
  EXPECT_EQ(member_error(R"("machine": {"cpus": 65})"),
            "t.json:3:22: machine.cpus: expected an integer between 1 and 64, got 65");
  // The machine comes after the threads: checked once everything is read.
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/1", "name": "t",
  "threads": [{"name": "a", "process": "p", "ops": []},
              {"name": "b", "process": "p", "cpu": 2, "ops": []}],
  "machine": {"cpus": 2}})"),
            "t.json:3:52: threads[1].cpu: expected a CPU below machine.cpus (2), got 2");
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/1", "name": "t",
  "threads": [{"name": "a", "process": "p", "cpu": 64, "ops": []}]})"),
            "t.json:2:52: threads[0].cpu: expected an integer between 0 and 63, got 64");
}

TEST(TraceErrors, AbsurdMachineSizes) {
  EXPECT_EQ(member_error(R"("machine": {"memory": "8GiB"})"),
            R"(t.json:3:24: machine.memory: expected a size of at most 4GiB, got "8GiB")");
  EXPECT_EQ(member_error(R"("machine": {"memory": "512KiB"})"),
            R"(t.json:3:24: machine.memory: expected a size of at least 1MiB, got "512KiB")");
  EXPECT_EQ(
      member_error(R"("machine": {"memory": 1000000})"),
      "t.json:3:24: machine.memory: expected a multiple of 4096 (the page size), got 1000000");
  EXPECT_EQ(member_error(R"("machine": {"memory": "1TiB"})"),
            cat("t.json:3:24: machine.memory: ", kSize, R"(, got "1TiB")"));
  EXPECT_EQ(member_error(R"("machine": {"swap": "128GiB"})"),
            R"(t.json:3:22: machine.swap: expected a size of at most 64GiB, got "128GiB")");
  EXPECT_EQ(member_error(R"("machine": {"reserved": "32MiB"})"),
            R"(t.json:3:26: machine.reserved: expected a size below half of machine.memory )"
            R"((32MiB), got "32MiB")");
  EXPECT_EQ(member_error(R"("machine": {"compressor": "8MiB", "memory": "4MiB"})"),
            R"(t.json:3:28: machine.compressor: expected a size of at most machine.memory )"
            R"((4MiB), got "8MiB")");
}

// ---- Files ------------------------------------------------------------------

TEST(TraceErrors, Files) {
  EXPECT_EQ(member_error(R"("files": [{"name": "f", "size": 1, "content": {"fill": 1}}, )"
                         R"({"name": "f", "size": 1, "content": {"fill": 1}}])"),
            R"(t.json:3:71: files[1].name: duplicate file "f" (first at files[0].name, 3:21))");
  EXPECT_EQ(
      member_error(R"("files": [{"name": "f", "size": 1, "content": {"fill": 1, "seed": 2}}])"),
      R"(t.json:3:68: files[0].content.seed: expected exactly one of "fill" and "seed", got both)");
  EXPECT_EQ(
      member_error(R"("files": [{"name": "f", "size": 1, "content": {}}])"),
      R"(t.json:3:48: files[0].content: expected exactly one of "fill" and "seed", got neither)");
  EXPECT_EQ(member_error(R"("files": [{"name": "f", "size": 1, "content": {"fil": 1}}])"),
            R"(t.json:3:49: files[0].content.fil: unknown key "fil" in a file's "content" )"
            R"((allowed: fill, seed))");
  EXPECT_EQ(member_error(R"("files": [{"name": "f", "size": "5GiB", "content": {"fill": 1}}])"),
            R"(t.json:3:34: files[0].size: expected a file size of at most 4GiB, got "5GiB")");
  EXPECT_EQ(member_error(R"("files": [{"name": "f", "size": 1, "content": {"fill": 256}}])"),
            "t.json:3:57: files[0].content.fill: expected an integer between 0 and 255, got 256");
  EXPECT_EQ(member_error(R"("files": [{"name": "f", "size": 1}])"),
            R"(t.json:3:12: files[0]: missing key "content" (required in a file))");
}

// ---- Threads ----------------------------------------------------------------

TEST(TraceErrors, Threads) {
  auto threads = [](std::string_view body) {
    return load_error(std::string(R"({"format": "vmsim-trace/1", "name": "t", "threads": [)") +
                      std::string(body) + "]}");
  };
  EXPECT_EQ(
      threads(R"({"name": "a", "process": "p", "ops": []}, )"
              R"({"name": "a", "process": "q", "ops": []})"),
      R"(t.json:1:105: threads[1].name: duplicate thread "a" (first at threads[0].name, 1:63))");
  EXPECT_EQ(threads(R"({"name": "1a", "process": "p", "ops": []})"),
            cat("t.json:1:63: threads[0].name: ", kName, R"(, got "1a")"));
  EXPECT_EQ(threads('{' + std::string(R"("name": ")") + std::string(65, 'a') +
                    R"(", "process": "p", "ops": []})"),
            cat("t.json:1:63: threads[0].name: ", kName,
                R"(, got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...")"));
  EXPECT_EQ(threads(R"({"name": "a", "ops": []})"),
            R"(t.json:1:54: threads[0]: missing key "process" (required in a thread))");
  EXPECT_EQ(threads(R"({"name": "a", "process": "p", "ops": [], "cpus": 1})"),
            R"(t.json:1:95: threads[0].cpus: unknown key "cpus" in a thread (allowed: name, )"
            R"(process, cpu, privileged, ops))");
  EXPECT_EQ(threads(R"({"name": "a", "process": "p", "ops": {}})"),
            "t.json:1:91: threads[0].ops: expected an array of ops, got an empty object");
  EXPECT_EQ(threads("7"), "t.json:1:54: threads[0]: expected a thread (an object), got 7");
}

// ---- Ops --------------------------------------------------------------------

TEST(TraceErrors, UnknownKeysInOps) {
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "lenn": 4096, "prot": "rw", "share": "private"})"),
      R"(t.json:4:20: threads[0].ops[0].lenn: unknown key "lenn" for op "mmap" (allowed: )"
      R"(addr, len, prot, share, fixed, file, device, offset, populate, as, expect_fault, result))");
  EXPECT_EQ(op_error(R"({"op": "exit", "addr": 0})"),
            R"(t.json:4:20: threads[0].ops[0].addr: unknown key "addr" for op "exit" (allowed: )"
            R"(expect_fault, result))");
}

TEST(TraceErrors, UnknownOrMissingOp) {
  EXPECT_EQ(op_error(R"({"op": "mmapp", "len": 1})"),
            R"(t.json:4:12: threads[0].ops[0].op: expected an op name (mmap, munmap, mprotect, )"
            R"(madvise, brk, sbrk, read, write, touch, poke, fork, exec, exit, truncate, pwrite, )"
            R"(cache_put, cache_get, pageout, yield), got "mmapp")");
  EXPECT_EQ(op_error(R"({"len": 1})"), R"(t.json:4:5: threads[0].ops[0]: missing key "op")");
  EXPECT_EQ(op_error("5"),
            R"(t.json:4:5: threads[0].ops[0]: expected an op (an object with "op"), got 5)");
  EXPECT_EQ(op_error(R"({"op": "mmap", "len": 4096, "prot": "r"})"),
            R"(t.json:4:5: threads[0].ops[0]: missing key "share" (required for op "mmap"))");
}

TEST(TraceErrors, WrongTypesInOps) {
  EXPECT_EQ(op_error(R"({"op": "mmap", "len": 4096, "prot": "rwr", "share": "private"})"),
            R"(t.json:4:41: threads[0].ops[0].prot: expected a protection (the letters r, w, x, )"
            R"(each at most once, such as "rw" or ""), got "rwr")");
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "public"})"),
      R"(t.json:4:55: threads[0].ops[0].share: expected "private" or "shared", got "public")");
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "fixed": "yes"})"),
      R"(t.json:4:75: threads[0].ops[0].fixed: expected a boolean (true or false), got "yes")");
  EXPECT_EQ(op_error(R"({"op": "sbrk", "incr": -9223372036854775808})"),
            "t.json:4:28: threads[0].ops[0].incr: expected an integer of magnitude below 2^63, "
            "got -9223372036854775808");
  EXPECT_EQ(op_error(R"({"op": "sbrk", "incr": "4096"})"),
            R"(t.json:4:28: threads[0].ops[0].incr: expected an integer of magnitude below 2^63, )"
            R"(got "4096")");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": 65536, "size": 3})"),
            "t.json:4:43: threads[0].ops[0].size: expected an access size (1, 2, 4 or 8), got 3");
  EXPECT_EQ(op_error(R"({"op": "pageout", "pages": 0})"),
            "t.json:4:32: threads[0].ops[0].pages: expected an integer of at least 1, got 0");
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "as": "1st"})"),
      cat("t.json:4:72: threads[0].ops[0].as: ", kName, R"(, got "1st")"));
}

TEST(TraceErrors, BadSizes) {
  auto len = [](std::string_view text) {
    return op_error(std::string(R"({"op": "munmap", "addr": 65536, "len": )") + std::string(text) +
                    "}");
  };
  const std::string at = "t.json:4:44: threads[0].ops[0].len: ";
  EXPECT_EQ(len(R"("12 pages")"), at + std::string(kSize) + R"(, got "12 pages")");
  EXPECT_EQ(len("-1"), at + std::string(kSize) + ", got -1");
  EXPECT_EQ(len(R"("-1")"), at + std::string(kSize) + R"(, got "-1")");
  EXPECT_EQ(len(R"("0x")"), at + std::string(kSize) + R"(, got "0x")");
  EXPECT_EQ(len(R"("0X10")"), at + std::string(kSize) + R"(, got "0X10")");
  EXPECT_EQ(len(R"("1.5MiB")"), at + std::string(kSize) + R"(, got "1.5MiB")");
  EXPECT_EQ(len("1.5"), at + std::string(kSize) + ", got 1.5");
  EXPECT_EQ(len("4e3"), at + std::string(kSize) + ", got 4e3");
  EXPECT_EQ(len(R"("64kib")"), at + std::string(kSize) + R"(, got "64kib")");
  EXPECT_EQ(len(R"("64 KiB")"), at + std::string(kSize) + R"(, got "64 KiB")");
  EXPECT_EQ(len(R"("007")"), at + std::string(kSize) + R"(, got "007")");
  EXPECT_EQ(len(R"(" 4096")"), at + std::string(kSize) + R"(, got " 4096")");
  EXPECT_EQ(len(R"("")"), at + std::string(kSize) + R"(, got "")");
  EXPECT_EQ(len("true"), at + std::string(kSize) + ", got true");
  EXPECT_EQ(len("[4096]"), at + std::string(kSize) + ", got an array");
  EXPECT_EQ(len(R"("18446744073709551616")"),
            at + R"(expected a size below 2^64, got "18446744073709551616")");
  EXPECT_EQ(len("18446744073709551616"),
            at + "expected a size below 2^64, got 18446744073709551616");
  EXPECT_EQ(len(R"("17179869184GiB")"), at + R"(expected a size below 2^64, got "17179869184GiB")");
  EXPECT_EQ(len(R"("0x10000000000000000")"),
            at + R"(expected a size below 2^64, got "0x10000000000000000")");
  EXPECT_EQ(len("-99999999999999999999"), at + std::string(kSize) + ", got -99999999999999999999");
  EXPECT_EQ(len(std::string(100, '9')),
            at + "expected a size below 2^64, got 9999999999999999999999999999999999999999...");
}

TEST(TraceErrors, BadAddresses) {
  const std::string at = "t.json:4:28: threads[0].ops[0].addr: ";
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "4096"})"),
            at + std::string(kAddress) + R"(, got "4096")");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": -4096})"),
            at + std::string(kAddress) + ", got -4096");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "@"})"),
            at + std::string(kAddress) + R"(, got "@")");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "@b+"})"),
            at + std::string(kAddress) + R"(, got "@b+")");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "@b+1KiB"})"),
            at + std::string(kAddress) + R"(, got "@b+1KiB")");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "@b+0x10000000000000000"})"),
            at + R"(expected an address below 2^64, got "@b+0x10000000000000000")");
}

TEST(TraceErrors, MisalignedAccesses) {
  EXPECT_EQ(op_error(R"({"op": "read", "addr": "0x20000002", "size": 4})"),
            R"(t.json:4:28: threads[0].ops[0].addr: expected an address aligned to 4 bytes, got )"
            R"("0x20000002" (misaligned for an access of size 4))");
  EXPECT_EQ(op_error(R"({"op": "write", "addr": "@buf+4", "size": 8, "value": 1})"),
            R"(t.json:4:29: threads[0].ops[0].addr: expected an address aligned to 8 bytes, got )"
            R"("@buf+4" (misaligned for an access of size 8; labels are page-aligned))");
  EXPECT_EQ(op_error(R"({"op": "poke", "process": "p", "addr": 4097, "size": 2, "value": 1})"),
            "t.json:4:44: threads[0].ops[0].addr: expected an address aligned to 2 bytes, got "
            "4097 (misaligned for an access of size 2)");
}

TEST(TraceErrors, UndefinedNames) {
  EXPECT_EQ(
      op_error(R"({"op": "read", "addr": "@nope+8", "size": 8})"),
      R"(t.json:4:28: threads[0].ops[0].addr: undefined label "nope" (no mmap binds it with "as"))");
  // Names may contain '-', so this is the label "buf-8", not a displacement.
  EXPECT_EQ(
      op_error(R"({"op": "read", "addr": "@buf-8"})"),
      R"(t.json:4:28: threads[0].ops[0].addr: undefined label "buf-8" (no mmap binds it with "as"))");
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "file": "g"})"),
      R"(t.json:4:74: threads[0].ops[0].file: undefined file "g" (not in "files"))");
  EXPECT_EQ(op_error(R"({"op": "poke", "process": "q", "addr": 65536, "size": 1, "value": 1})"),
            R"(t.json:4:31: threads[0].ops[0].process: undefined process "q" (no thread names it )"
            R"(and no fork creates it))");
}

TEST(TraceErrors, DuplicateLabelsAndForks) {
  EXPECT_EQ(op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "as": "x"}, )"
                     R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "as": "x"})"),
            R"(t.json:4:145: threads[0].ops[1].as: duplicate label "x" (first at )"
            R"(threads[0].ops[0].as, 4:72))");
  EXPECT_EQ(op_error(R"({"op": "fork", "child": "c"}, {"op": "fork", "child": "c"})"),
            R"(t.json:4:59: threads[0].ops[1].child: duplicate fork of process "c" (first at )"
            R"(threads[0].ops[0].child, 4:29))");
  EXPECT_EQ(op_error(R"({"op": "fork", "child": "p"})"),
            R"(t.json:4:29: threads[0].ops[0].child: process "p" cannot fork itself (threads[0] )"
            R"(runs in it))");
  EXPECT_EQ(load_error(R"({"format": "vmsim-trace/1", "name": "t", "threads": [
  {"name": "a", "process": "p", "ops": [{"op": "fork", "child": "q"}]},
  {"name": "b", "process": "q", "ops": [{"op": "fork", "child": "p"}]}]})"),
            R"(t.json:2:65: threads[0].ops[0].child: process "q" would be forked by "p", a )"
            R"(process forked from it)");
}

TEST(TraceErrors, ValuesOutOfRangeForTheirSize) {
  EXPECT_EQ(op_error(R"({"op": "write", "addr": 65536, "size": 2, "value": 70000})"),
            "t.json:4:56: threads[0].ops[0].value: expected a value that fits in 2 bytes (at most "
            "0xffff), got 70000");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": 65536, "value": 256})"),
            "t.json:4:44: threads[0].ops[0].value: expected a value that fits in 1 byte (at most "
            "0xff), got 256");
  EXPECT_EQ(op_error(R"({"op": "touch", "addr": 65536, "len": 4096, "access": "w", "value": 256})"),
            "t.json:4:73: threads[0].ops[0].value: expected a value that fits in 1 byte (at most "
            "0xff), got 256");
  EXPECT_EQ(
      op_error(R"({"op": "pwrite", "file": "f", "offset": 0, "value": "0x100", "len": 1})"),
      R"(t.json:4:57: threads[0].ops[0].value: expected a value that fits in 1 byte (at most )"
      R"(0xff), got "0x100")");
  EXPECT_EQ(
      op_error(R"({"op": "write", "addr": 65536, "value": -1})"),
      R"(t.json:4:45: threads[0].ops[0].value: expected a value (a non-negative integer, or a )"
      R"(hex string such as "0xff"), got -1)");
  EXPECT_EQ(op_error(R"({"op": "pwrite", "file": "f", "offset": "4GiB", "value": 1, "len": 1})"),
            "t.json:4:72: threads[0].ops[0].len: expected a write ending at most at 4GiB (offset + "
            "len), got 1");
  EXPECT_EQ(
      op_error(R"({"op": "truncate", "file": "f", "size": "5GiB"})"),
      R"(t.json:4:45: threads[0].ops[0].size: expected a file size of at most 4GiB, got "5GiB")");
  EXPECT_EQ(op_error(R"({"op": "exec", "text": "65GiB", "data": 0, "bss": 0, "stack": 0})"),
            R"(t.json:4:28: threads[0].ops[0].text: expected a segment size of at most 64GiB, got )"
            R"("65GiB")");
  EXPECT_EQ(op_error(R"({"op": "touch", "addr": 65536, "len": 4096, "access": "w", "stride": 0})"),
            "t.json:4:74: threads[0].ops[0].stride: expected a stride of at least 1, got 0");
}

TEST(TraceErrors, KeysThatNeedOtherKeys) {
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "fixed": true})"),
      R"(t.json:4:75: threads[0].ops[0].fixed: "fixed": true needs "addr")");
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "offset": 0})"),
      R"(t.json:4:76: threads[0].ops[0].offset: "offset" needs "file" or "device" (anonymous )"
      R"(memory has no offset))");
  EXPECT_EQ(op_error(R"({"op": "touch", "addr": 65536, "len": 4096, "access": "r", "value": 1})"),
            R"(t.json:4:73: threads[0].ops[0].value: "value" needs "access": "w" (reads store )"
            R"(nothing))");
}

TEST(TraceErrors, Results) {
  EXPECT_EQ(
      op_error(R"({"op": "mmap", "len": 4096, "prot": "r", "share": "private", "result": "hit"})"),
      R"(t.json:4:76: threads[0].ops[0].result: expected "ok", "enomem", "einval", )"
      R"("efault" or "eperm", got "hit" ("hit" and "miss" are for cache_get))");
  EXPECT_EQ(op_error(R"({"op": "cache_get", "id": 1, "addr": 65536, "result": "ok"})"),
            R"(t.json:4:59: threads[0].ops[0].result: expected "hit", "miss", "einval" or )"
            R"("efault", got "ok" (the )"
            R"(results of cache_get))");
  EXPECT_EQ(op_error(R"({"op": "read", "addr": 65536, "expect_fault": "segv", "result": "ok"})"),
            R"(t.json:4:69: threads[0].ops[0].result: "result" cannot be combined with )"
            R"("expect_fault")");
  EXPECT_EQ(
      op_error(R"({"op": "read", "addr": 65536, "expect_fault": "kill"})"),
      R"(t.json:4:51: threads[0].ops[0].expect_fault: expected one of "segv", "bus", "oom", got "kill")");
  EXPECT_EQ(op_error(R"({"op": "yield", "result": "fine"})"),
            R"(t.json:4:31: threads[0].ops[0].result: expected one of "ok", "enomem", "einval", )"
            R"("efault", "eperm", "hit", "miss", got "fine")");
}

// ---- Schedule ---------------------------------------------------------------

TEST(TraceErrors, Schedule) {
  EXPECT_EQ(member_error(R"("schedule": [{"thread": "zz"}])"),
            R"(t.json:3:26: schedule[0].thread: undefined thread "zz" (no thread has this name))");
  EXPECT_EQ(
      member_error(R"("schedule": [{"thread": "a", "until": "fault.start"}])"),
      R"(t.json:3:40: schedule[0].until: expected a yield point (fault.begin, )"
      R"(fault.lookup_done, fault.pager_io, fault.pte_install, resize.begin, )"
      R"(resize.pages_removed, cow.copy, collapse.begin, munmap.pte_cleared, tlb.shootdown, )"
      R"(pageout.pte_cleared, pageout.io, poke.retry, swap.alloc, fork.protect, compress.store, )"
      R"(cache.put_copied, thp.split), got "fault.start")");
  EXPECT_EQ(member_error(R"("schedule": [{"thraed": "a"}])"),
            R"(t.json:3:16: schedule[0].thraed: unknown key "thraed" in a schedule step (allowed: )"
            R"(thread, ops, until, count))");
  EXPECT_EQ(
      member_error(R"("schedule": [{"thread": "a", "ops": 1, "until": "cow.copy"}])"),
      R"(t.json:3:50: schedule[0].until: expected either "ops" or "until" in a step, got both)");
  EXPECT_EQ(
      member_error(R"("schedule": [{"until": "cow.copy", "thread": "a", "ops": 1}])"),
      R"(t.json:3:59: schedule[0].ops: expected either "ops" or "until" in a step, got both)");
  EXPECT_EQ(member_error(R"("schedule": [{"thread": "a", "count": 2}])"),
            R"(t.json:3:40: schedule[0].count: "count" needs "until")");
  EXPECT_EQ(member_error(R"("schedule": [{"thread": "a", "ops": 0}])"),
            "t.json:3:38: schedule[0].ops: expected an integer of at least 1, got 0");
  EXPECT_EQ(member_error(R"("schedule": {"policy": "fifo"})"),
            R"(t.json:3:25: schedule.policy: expected one of "round-robin", "sequential", )"
            R"("random", got "fifo")");
  EXPECT_EQ(member_error(R"("schedule": "random")"),
            R"(t.json:3:14: schedule: expected a schedule (an object with "policy", or an array )"
            R"(of steps), got "random")");
  EXPECT_EQ(
      member_error(R"("schedule": {"policy": "random", "sede": 1})"),
      R"(t.json:3:35: schedule.sede: unknown key "sede" in "schedule" (allowed: policy, seed))");
  EXPECT_EQ(member_error(R"("schedule": {"seed": 1})"),
            R"(t.json:3:14: schedule: missing key "policy" (required in "schedule"))");
}

// ---- Expect -----------------------------------------------------------------

TEST(TraceErrors, Expect) {
  EXPECT_EQ(member_error(R"("expect": {"result": "pass", "violation": "leak"})"),
            R"(t.json:3:44: expect.violation: expected no violation kind when "result" is )"
            R"("pass", got "leak")");
  EXPECT_EQ(member_error(R"("expect": {"violation": "crash"})"),
            R"(t.json:3:26: expect.violation: expected one of "read-mismatch", )"
            R"("state-mismatch", "unexpected-fault", "missing-fault", "invariant", "stale-tlb", )"
            R"("out-of-memory", "leak", "deadlock", "panic", got "crash")");
  EXPECT_EQ(member_error(R"("expect": {"digets": "00"})"),
            R"(t.json:3:13: expect.digets: unknown key "digets" in "expect" (allowed: result, )"
            R"(violation, digest, stats))");
  EXPECT_EQ(member_error(R"("expect": {"stats": {"faults": 1, "fualts": 2}})"),
            R"(t.json:3:36: expect.stats.fualts: unknown stat "fualts" (see )"
            R"(docs/result-format.md))");
  EXPECT_EQ(member_error(R"("expect": {"stats": {"faults": -1}})"),
            "t.json:3:33: expect.stats.faults: expected a non-negative integer below 2^63, got -1");
}

TEST(TraceErrors, BadDigest) {
  const std::string upper = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(member_error(R"("expect": {"digest": ")" + upper + "\"}"),
            "t.json:3:23: expect.digest: expected a digest (64 lowercase hex digits), got "
            "\"0123456789ABCDEF0123456789abcdef01234567...\"");
  EXPECT_EQ(
      member_error(R"("expect": {"digest": "abc"})"),
      R"(t.json:3:23: expect.digest: expected a digest (64 lowercase hex digits), got "abc")");
  EXPECT_EQ(member_error(R"("expect": {"digest": 5})"),
            "t.json:3:23: expect.digest: expected a digest (64 lowercase hex digits), got 5");
}

}  // namespace
}  // namespace vmsim
