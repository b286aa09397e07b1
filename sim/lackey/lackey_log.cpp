#include "lackey/lackey_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace vmsim {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

gzFile as_gz(void* p) {
  return static_cast<gzFile>(p);
}

// The line as it can be quoted in a message: at most 60 bytes, anything
// unprintable as \xNN.
std::string quoted(const char* begin, const char* end) {
  static const char kHex[] = "0123456789abcdef";
  std::string q = "\"";
  for (const char* p = begin; p < end && p < begin + 60; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      q += static_cast<char>(c);
    } else {
      q += "\\x";
      q += kHex[c >> 4];
      q += kHex[c & 15];
    }
  }
  if (end - begin > 60) q += "...";
  return q + "\"";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A line valgrind writes itself: "==PID== ..." (the tool's messages; spec
// §11) or "--PID-- ..." (the core's warnings, e.g. an unhandled syscall).
bool valgrind_message(const char* p, const char* end) {
  return end - p >= 2 && ((p[0] == '=' && p[1] == '=') || (p[0] == '-' && p[1] == '-'));
}

}  // namespace

std::variant<std::unique_ptr<LackeyLog>, std::string> LackeyLog::open(const std::string& path) {
  const bool stdin_log = path == "-";
  const std::string name = stdin_log ? "<stdin>" : path;
  uint64_t size = 0;
  int fd = -1;
  if (stdin_log) {
    fd = dup(STDIN_FILENO);
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return name + ": is a directory, not a lackey log";
      }
      if (S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
    }
  }
  if (fd < 0) return name + ": cannot open: " + std::strerror(errno);
  gzFile gz = gzdopen(fd, "rb");  // reads plain text as it is
  if (gz == nullptr) {
    ::close(fd);
    return name + ": cannot read: out of memory";
  }
  gzbuffer(gz, 256 * 1024);
  return std::unique_ptr<LackeyLog>(new LackeyLog(name, gz, size));
}

LackeyLog::LackeyLog(std::string name, void* gz, uint64_t file_size)
    : name_(std::move(name)),
      gz_(gz),
      file_size_(file_size),
      buffer_(std::make_unique<char[]>(kBufferBytes)) {}

LackeyLog::~LackeyLog() {
  gzclose(as_gz(gz_));
}

uint64_t LackeyLog::consumed() const {
  const z_off_t at = gzoffset(as_gz(gz_));
  return at < 0 ? 0 : static_cast<uint64_t>(at);
}

bool LackeyLog::fail(const std::string& what) {
  error_ = name_ + ":" + std::to_string(line_) + ": " + what;
  return false;
}

// More bytes after the unread ones; false at the end of the stream or on
// an error (a truncated or corrupt gzip stream, a read error).
bool LackeyLog::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const int n =
      gzread(as_gz(gz_), buffer_.get() + end_, static_cast<unsigned>(kBufferBytes - end_));
  // Bytes before a break in the stream are good: they are read first, and
  // the next call meets the break again.
  if (n > 0) {
    end_ += static_cast<size_t>(n);
    return true;
  }
  int err = Z_OK;
  const char* why = gzerror(as_gz(gz_), &err);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) {
    ++line_;  // the line the stream broke in
    // zlib's message starts with its own name for the file ("<fd:3>: ").
    std::string detail = why;
    if (const size_t at = detail.find(">: ");
        detail.rfind("<fd:", 0) == 0 && at != std::string::npos)
      detail.erase(0, at + 3);
    error_ = name_ + ":" + std::to_string(line_) + ": " +
             (err == Z_BUF_ERROR ? "the gzip stream is truncated (" + detail + ")"
                                 : "cannot read: " + detail);
    return false;
  }
  eof_ = true;
  return false;
}

bool LackeyLog::next(LackeyAccess* access) {
  for (;;) {
    char* const begin = buffer_.get() + begin_;
    char* const end = buffer_.get() + end_;
    char* const nl = static_cast<char*>(std::memchr(begin, '\n', end - begin));
    if (nl == nullptr) {
      if (end - begin > static_cast<ptrdiff_t>(kMaxLine)) {
        ++line_;
        return fail("a line longer than " + std::to_string(kMaxLine) + " bytes");
      }
      if (!eof_) {
        if (!fill() && !error_.empty()) return false;
        continue;
      }
      if (begin == end) return false;  // the end
      begin_ = end_;                   // a last line without its newline
      if (parse(begin, end, access)) return true;
      if (!error_.empty()) return false;
      continue;
    }
    begin_ = static_cast<size_t>(nl + 1 - buffer_.get());
    if (nl - begin > static_cast<ptrdiff_t>(kMaxLine)) {
      ++line_;
      return fail("a line longer than " + std::to_string(kMaxLine) + " bytes");
    }
    if (parse(begin, nl, access)) return true;
    if (!error_.empty()) return false;
  }
}

// One line (without its newline): true for a data access, false for a line
// that is skipped or, with error_ set, malformed.
bool LackeyLog::parse(const char* p, const char* end, LackeyAccess* a) {
  ++line_;
  const char* const line = p;
  if (valgrind_message(p, end)) return false;
  if (end - p >= 2 && p[0] == 'I' && p[1] == ' ') return false;
  const auto malformed = [&](const char* what) {
    return fail(std::string("expected ") + what + ", got " + quoted(line, end));
  };
  if (end - p < 4 || p[0] != ' ' || p[2] != ' ')
    return malformed(
        "a lackey line (\" L|S|M address,size\", \"I  address,size\" or \"==pid== ...\")");
  switch (p[1]) {
    case 'L':
      a->kind = LackeyAccess::Kind::kLoad;
      break;
    case 'S':
      a->kind = LackeyAccess::Kind::kStore;
      break;
    case 'M':
      a->kind = LackeyAccess::Kind::kModify;
      break;
    default:
      return malformed("a data access of kind L, S or M");
  }
  p += 3;
  uint64_t addr = 0;
  int digits = 0;
  for (int d; p < end && (d = hex_digit(*p)) >= 0; ++p, ++digits) {
    if (digits == 16) return malformed("an address of at most 16 hex digits");
    addr = addr << 4 | static_cast<uint64_t>(d);
  }
  if (digits == 0 || p == end || *p != ',') return malformed("a hex address and a comma");
  ++p;
  uint64_t size = 0;
  if (p == end) return malformed("a decimal size after the comma");
  for (; p < end && *p >= '0' && *p <= '9'; ++p)  // saturating: anything large is too large
    size = size > kMaxSize ? size : size * 10 + static_cast<uint64_t>(*p - '0');
  if (p != end) return malformed("a decimal size and the end of the line");
  if (size == 0 || size > kMaxSize)
    return malformed(("a size of 1 to " + std::to_string(kMaxSize) + " bytes").c_str());
  a->addr = addr;
  a->size = static_cast<uint32_t>(size);
  a->line = line_;
  return true;
}

}  // namespace vmsim
