// The core's page codec next to LZ4 and zstd level 1 on the same pages of
// real memory, measured in one process (`vmsim bench compressor`,
// docs/compressor.md). LZ4 and zstd are linked here only, never into the core.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct CodecFigures {
  double ratio = 0;  // bytes in / bytes out (a page that does not shrink counts 4096)
  double compress_gbps = 0;
  double decompress_gbps = 0;
  uint64_t bytes_out = 0;
};

struct CompressorFigures {
  uint64_t pages = 0;
  uint64_t single_value_pages = 0;    // one repeated 64-bit word (the core stores 8 bytes)
  uint64_t incompressible_pages = 0;  // the core's codec could not shrink them
  CodecFigures core, lz4, zstd;
};

// Compresses and decompresses every 4096-byte page of `data` (its size is a
// multiple of 4096) with each codec, checking every round trip; throws
// std::runtime_error if one is not bit-exact.
CompressorFigures measure_compressors(const std::vector<uint8_t>& data);

}  // namespace bench
