// A fresh directory for one test under GoogleTest's TempDir: removed when
// the test passed, kept (and named on stderr) when it failed, for a look at
// what it wrote.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace vmsim::test_support {

class ScratchDir {
 public:
  // `prefix` names the test family: vmsim-cli, vmsim-lackey, ...
  explicit ScratchDir(const std::string& prefix) {
    std::string tmpl =
        (std::filesystem::path(::testing::TempDir()) / (prefix + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~ScratchDir() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "scratch files kept in %s\n", path_.c_str());
    } else {
      std::filesystem::remove_all(path_);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace vmsim::test_support
