#include "cli/compile_cmd.hpp"

#include <cstdio>
#include <variant>

#include "compile/trace_compiler.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {

int cmd_compile(const std::string& trace_file, const std::string& out_file) {
  auto loaded = load_trace_file(trace_file);
  if (auto* e = std::get_if<LoadError>(&loaded)) {
    std::fprintf(stderr, "vmsim: %s\n", e->message.c_str());
    return 2;
  }
  const std::vector<uint8_t> image = compile_trace(std::get<Trace>(loaded));
  std::FILE* f = std::fopen(out_file.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "vmsim: %s: cannot open for writing\n", out_file.c_str());
    return 3;
  }
  const bool ok = std::fwrite(image.data(), 1, image.size(), f) == image.size();
  if (std::fclose(f) != 0 || !ok) {
    std::fprintf(stderr, "vmsim: %s: write failed\n", out_file.c_str());
    std::remove(out_file.c_str());
    return 3;
  }
  return 0;
}

}  // namespace vmsim
