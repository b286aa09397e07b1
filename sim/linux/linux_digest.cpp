#include "linux/linux_digest.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "lib/digest_writer.hpp"

namespace vmsim::linux_run {
namespace {

constexpr uint64_t kPage = 4096;
using PageBytes = std::array<uint8_t, kPage>;

// One line of /proc/PID/maps.
struct Vma {
  uint64_t start = 0, end = 0;
  vm::Prot prot = vm::kProtNone;
  bool shared = false;
  uint64_t offset = 0;
  const RealFile* file = nullptr;  // nullptr: anonymous (shared anonymous is a shmem file)
};

std::vector<Vma> read_maps(pid_t pid, const std::vector<RealFile>& files) {
  const std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Vma> vmas;
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    char perms[5] = {};
    unsigned int major_dev = 0, minor_dev = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %4s %llx %x:%x %llu", &start, &end, perms, &offset,
                    &major_dev, &minor_dev, &inode) != 7) {
      throw std::runtime_error("unexpected line in " + path + ": " + line);
    }
    if (start >= kUserTop || (start == kAgentPage && end == kAgentEnd)) continue;
    Vma v;
    v.start = start;
    v.end = end;
    v.prot = static_cast<vm::Prot>((perms[0] == 'r' ? vm::kProtRead : 0) |
                                   (perms[1] == 'w' ? vm::kProtWrite : 0) |
                                   (perms[2] == 'x' ? vm::kProtExec : 0));
    v.shared = perms[3] == 's';
    v.offset = offset;
    if (inode != 0) {
      for (const RealFile& f : files) {
        if (f.ino == inode && major(f.dev) == major_dev && minor(f.dev) == minor_dev) v.file = &f;
      }
    }
    vmas.push_back(v);
  }
  return vmas;
}

uint64_t file_size(const RealFile& f) {
  struct stat st;
  if (fstat(f.fd, &st) != 0) throw std::runtime_error("fstat of file " + f.name + " failed");
  return static_cast<uint64_t>(st.st_size);
}

// Pages of a private anonymous range that were never touched read as zero:
// /proc/PID/pagemap says which are neither present nor swapped, so a sparse
// gigabyte costs a pagemap read, not a gigabyte of zeros.
std::vector<bool> maybe_content(pid_t pid, const Vma& v) {
  const uint64_t pages = (v.end - v.start) / kPage;
  std::vector<bool> maybe(pages, true);
  if (v.shared || v.file != nullptr) return maybe;
  const std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return maybe;
  std::vector<uint64_t> entries(pages);
  if (std::fseek(f, static_cast<long>(v.start / kPage * 8), SEEK_SET) == 0 &&
      std::fread(entries.data(), 8, pages, f) == pages) {
    for (uint64_t i = 0; i < pages; ++i) maybe[i] = (entries[i] >> 62) != 0;  // present or swapped
  }
  std::fclose(f);
  return maybe;
}

}  // namespace

std::string linux_digest(const std::map<std::string, Tracee>& processes,
                         const std::vector<RealFile>& files) {
  vm::DigestWriter w;
  PageBytes bytes;
  for (const auto& [name, tracee] : processes) {
    w.begin_process(name.c_str());
    const std::vector<Vma> vmas = read_maps(tracee.pid(), files);
    for (const Vma& v : vmas) {
      w.mapping(vm::DigestMapping{
          v.start, v.end, v.prot, v.shared ? vm::Share::kShared : vm::Share::kPrivate,
          v.file != nullptr ? v.file->name.c_str() : nullptr, v.file != nullptr ? v.offset : 0});
    }
    w.end_mappings();
    for (const Vma& v : vmas) {
      uint64_t end = v.end;
      if (v.file != nullptr) {  // pages wholly past the end of the file are left out
        const uint64_t eof = (file_size(*v.file) + kPage - 1) / kPage * kPage;
        end = v.offset >= eof ? v.start : std::min(v.end, v.start + (eof - v.offset));
      }
      const std::vector<bool> maybe = maybe_content(tracee.pid(), v);
      for (uint64_t va = v.start; va < end; va += kPage) {
        if (!maybe[(va - v.start) / kPage]) continue;
        if (!tracee.peek(va, bytes.data(), kPage)) {
          throw std::runtime_error("reading page 0x" + std::to_string(va) + " of process " + name +
                                   " through /proc/PID/mem failed: " + std::strerror(errno));
        }
        w.page(va, bytes.data());
      }
    }
  }
  for (const RealFile& f : files) {
    const uint64_t size = file_size(f);
    w.file(f.name.c_str(), size);
    for (uint64_t off = 0; off < size;) {
      // Holes read as zero: skip to the next data.
      const off_t data = lseek(f.fd, static_cast<off_t>(off), SEEK_DATA);
      if (data < 0) break;
      off = static_cast<uint64_t>(data) / kPage * kPage;
      if (off >= size) break;
      bytes.fill(0);
      const uint64_t n = std::min(kPage, size - off);
      if (pread(f.fd, bytes.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
        throw std::runtime_error("reading file " + f.name + " failed");
      w.file_page(off, bytes.data());
      off += kPage;
    }
  }
  char hex[65];
  w.finish(hex);
  return hex;
}

}  // namespace vmsim::linux_run
