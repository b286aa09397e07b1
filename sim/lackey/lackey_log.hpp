// A valgrind lackey log (`valgrind --tool=lackey --trace-mem=yes`), read as a
// stream of data accesses (spec §11): plain text or gzip, from a file or
// standard input, never held whole (logs run to gigabytes).
//
//   I  0401ab70,3        an instruction fetch: skipped
//    L 1fff000618,8      a load, a store (S) or a modify (M): hex address, size
//   ==25904== ...        valgrind's own lines: skipped
//   --25904-- ...        valgrind's warnings: skipped (docs/lackey.md)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

namespace vmsim {

struct LackeyAccess {
  enum class Kind : uint8_t { kLoad, kStore, kModify };
  Kind kind = Kind::kLoad;
  uint64_t addr = 0;
  uint32_t size = 0;
  uint64_t line = 0;  // 1-based
};

class LackeyLog {
 public:
  // Accesses at most this long (valgrind's largest, xsave, is a few KiB).
  static constexpr uint32_t kMaxSize = 65536;
  static constexpr size_t kMaxLine = 4096;

  // Opens `path` ("-": standard input); gzip is recognized by its magic.
  // An error message names the file and why.
  static std::variant<std::unique_ptr<LackeyLog>, std::string> open(const std::string& path);
  ~LackeyLog();
  LackeyLog(const LackeyLog&) = delete;
  LackeyLog& operator=(const LackeyLog&) = delete;

  // The next data access; false at the end of the log or on an error, which
  // error() then names (file:line and what was expected).
  bool next(LackeyAccess* access);
  const std::string& error() const { return error_; }

  // Progress: bytes of the file consumed so far, and its size (0 when it is
  // not a regular file, as standard input).
  uint64_t consumed() const;
  uint64_t file_size() const { return file_size_; }
  uint64_t lines() const { return line_; }
  const std::string& name() const { return name_; }

 private:
  LackeyLog(std::string name, void* gz, uint64_t file_size);
  bool fill();
  bool parse(const char* begin, const char* end, LackeyAccess* access);
  bool fail(const std::string& what);

  std::string name_;
  void* gz_;  // gzFile
  uint64_t file_size_;
  std::unique_ptr<char[]> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes of buffer_
  bool eof_ = false;
  uint64_t line_ = 0;
  std::string error_;
};

}  // namespace vmsim
