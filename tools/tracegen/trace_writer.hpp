// Writes a trace document as text: one top-level key per line and one op per
// line, so that generated traces diff and read well. The bytes depend only on
// the document.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vmsim::tracegen {

// `trace` is a vmsim-trace/1 document whose "threads" each carry "ops".
std::string format_trace(const nlohmann::ordered_json& trace);

}  // namespace vmsim::tracegen
