// `vmsim bench compressor FILE...`: the core's page codec against LZ4 and
// zstd -1 on files of raw memory (docs/compressor.md).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench.hpp"
#include "compressor_bench.hpp"

namespace vmsim {
namespace {

constexpr size_t kPage = 4096;

// The file's bytes, or nullopt after saying why they cannot be used.
std::optional<std::vector<uint8_t>> read_pages(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vmsim: bench compressor: %s: cannot read\n", file.c_str());
    return std::nullopt;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::fprintf(stderr, "vmsim: bench compressor: %s: read error\n", file.c_str());
    return std::nullopt;
  }
  if (data.empty() || data.size() % kPage != 0) {
    std::fprintf(stderr,
                 "vmsim: bench compressor: %s: size %zu is not a positive multiple of %zu "
                 "(expected raw memory, whole 4 KiB pages)\n",
                 file.c_str(), data.size(), kPage);
    return std::nullopt;
  }
  return data;
}

void print_codec(const char* name, const bench::CodecFigures& f, const bench::CodecFigures& lz4) {
  std::printf("  %-7s %7.3f %10.3f %11.3f   %5.2fx %6.2fx\n", name, f.ratio, f.compress_gbps,
              f.decompress_gbps, f.ratio / lz4.ratio, f.compress_gbps / lz4.compress_gbps);
}

void print_file(const std::string& name, const bench::CompressorFigures& f) {
  const double pages = static_cast<double>(f.pages);
  std::printf("%s: %llu pages, %.1f%% single-value, %.1f%% incompressible (vmsim)\n", name.c_str(),
              static_cast<unsigned long long>(f.pages), 100.0 * f.single_value_pages / pages,
              100.0 * f.incompressible_pages / pages);
  std::printf("  %-7s %7s %10s %11s   %6s %7s\n", "codec", "ratio", "comp GB/s", "decomp GB/s",
              "ratio", "speed");
  std::printf("  %-7s %7s %10s %11s   %6s %7s\n", "", "", "", "", "vs lz4", "vs lz4");
  print_codec("vmsim", f.core, f.lz4);
  print_codec("lz4", f.lz4, f.lz4);
  print_codec("zstd-1", f.zstd, f.lz4);
}

}  // namespace

int cmd_bench_compressor(const std::vector<std::string>& files) {
  // Every file is checked before any is measured: bad input costs no time.
  std::vector<std::vector<uint8_t>> contents;
  for (const std::string& f : files) {
    auto data = read_pages(f);
    if (!data) return 2;
    contents.push_back(std::move(*data));
  }
  std::printf(
      "vmsim bench compressor: every 4 KiB page compressed on its own; ratio = bytes in /"
      " bytes out\n(a page that does not shrink counts 4096; a single-value page 8 for"
      " vmsim); GB/s from this thread's CPU time, best of >= 3 passes\n\n");
  for (size_t i = 0; i < files.size(); ++i) {
    print_file(files[i], bench::measure_compressors(contents[i]));
    std::printf("\n");
  }
  return 0;
}

}  // namespace vmsim
