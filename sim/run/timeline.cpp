#include "run/timeline.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace vmsim {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string cpu_list(uint64_t mask) {
  std::string s;
  for (uint32_t i = 0; i < 64; ++i) {
    if ((mask >> i & 1) == 0) continue;
    if (!s.empty()) s += ',';
    s += std::to_string(i);
  }
  return s;
}

}  // namespace

Timeline::Timeline(uint32_t cpu_count, std::vector<std::string> thread_names)
    : cpu_count_(cpu_count), thread_names_(std::move(thread_names)) {}

Timeline::Track Timeline::thread_track(uint32_t cpu, size_t thread) {
  if (thread >= thread_names_.size())
    throw std::logic_error("timeline: no thread " + std::to_string(thread));
  cpu_of_[thread] = cpu;
  return Track{cpu, thread + 1};
}

Timeline::Json Timeline::event(const char* phase, const std::string& name, const char* category,
                               Track track) {
  used_.insert(track);
  Json e;
  e["name"] = name;
  if (category != nullptr) e["cat"] = category;
  e["ph"] = phase;
  e["ts"] = tick_++;
  e["pid"] = track.cpu + 1;
  e["tid"] = track.tid;
  return e;
}

void Timeline::begin(Track track, const std::string& name, const char* category, bool is_op,
                     Json args) {
  Json e = event("B", name, category, track);
  if (!args.empty()) e["args"] = std::move(args);
  events_.push_back(std::move(e));
  open_[track].push_back(OpenSlice{name, is_op});
}

void Timeline::end(Track track, Json args) {
  std::vector<OpenSlice>& open = open_[track];
  Json e = event("E", open.back().name, nullptr, track);
  if (!args.empty()) e["args"] = std::move(args);
  events_.push_back(std::move(e));
  open.pop_back();
}

void Timeline::op_begin(uint32_t cpu, size_t thread, size_t op_index, const std::string& label) {
  begin(thread_track(cpu, thread), label, "op", true, Json{{"op", op_index}});
}

void Timeline::op_end(uint32_t cpu, size_t thread, size_t op_index, const std::string& outcome) {
  const Track track = thread_track(cpu, thread);
  std::vector<OpenSlice>& open = open_[track];
  bool op_open = false;
  for (const OpenSlice& s : open) op_open = op_open || s.is_op;
  if (!op_open)
    throw std::logic_error("timeline: op " + std::to_string(op_index) + " of thread " +
                           thread_names_[thread] + " ends but never began");
  while (!open.back().is_op) end(track, Json{{"result", "unfinished"}});
  end(track, Json{{"op", op_index}, {"outcome", outcome}});
}

void Timeline::yield_point(uint32_t cpu, size_t thread, const std::string& name) {
  Json e = event("i", name, "yield", thread_track(cpu, thread));
  e["s"] = "t";
  events_.push_back(std::move(e));
}

void Timeline::switch_to(uint32_t cpu, size_t thread) {
  const std::string& name = thread_names_.at(thread);
  cpu_of_[thread] = cpu;
  if (running_) end(*running_, Json());
  running_ = running_track(cpu);
  begin(*running_, name, "sched", false, Json());
}

void Timeline::fault_begin(uint32_t cpu, size_t thread, uint64_t va, bool write) {
  begin(thread_track(cpu, thread), "fault", "fault", false,
        Json{{"va", hex(va)}, {"access", write ? "write" : "read"}});
}

void Timeline::fault_end(uint32_t cpu, size_t thread, const std::string& result) {
  const Track track = thread_track(cpu, thread);
  const std::vector<OpenSlice>& open = open_[track];
  if (open.empty() || open.back().is_op)
    throw std::logic_error("timeline: a fault of thread " + thread_names_[thread] +
                           " ends but never began");
  end(track, Json{{"result", result}});
}

void Timeline::shootdown(uint32_t from_cpu, uint64_t cpus, std::optional<uint64_t> va) {
  Json e = event("i", "tlb shootdown", "tlb", running_track(from_cpu));
  e["s"] = "p";  // drawn across the sending CPU
  e["args"] = Json{{"cpus", cpu_list(cpus)}, {"va", va ? hex(*va) : "all"}};
  events_.push_back(std::move(e));
}

void Timeline::memory(const MemorySample& s) {
  if (last_memory_ == s) return;
  last_memory_ = s;
  Json e;
  e["name"] = "memory";
  e["ph"] = "C";
  e["ts"] = tick_++;
  e["pid"] = cpu_count_ + 1;  // the "Memory" process, after the CPUs
  e["args"] = Json{{"free frames", s.free_frames},
                   {"resident user pages", s.resident_user_pages},
                   {"swap slots", s.swap_slots},
                   {"compressor bytes", s.compressor_bytes}};
  events_.push_back(std::move(e));
}

void Timeline::violation(const std::string& kind, const std::string& message,
                         std::optional<size_t> thread, long op) {
  std::optional<uint32_t> cpu;
  if (thread) {
    auto it = cpu_of_.find(*thread);
    if (it != cpu_of_.end()) cpu = it->second;
  }
  const Track track = cpu ? Track{*cpu, *thread + 1} : running_track(0);
  Json e = event("i", "violation: " + kind, "violation", track);
  e["s"] = "g";  // across the whole timeline
  Json args{{"message", message}};
  if (thread) {
    args["thread"] = thread_names_.at(*thread);
    args["op"] = op;
  }
  e["args"] = std::move(args);
  events_.push_back(std::move(e));
}

std::string Timeline::track_name(Track track) const {
  if (track.tid >= 1 && track.tid <= thread_names_.size()) return thread_names_[track.tid - 1];
  return "running (CPU " + std::to_string(track.cpu) + ")";
}

std::string Timeline::json() const {
  std::vector<Json> out;
  auto meta = [&out](const char* name, uint32_t pid, size_t tid, Json args) {
    Json e;
    e["name"] = name;
    e["ph"] = "M";
    e["pid"] = pid;
    e["tid"] = tid;
    e["args"] = std::move(args);
    out.push_back(std::move(e));
  };
  for (uint32_t cpu = 0; cpu < cpu_count_; ++cpu) {
    meta("process_name", cpu + 1, 0, Json{{"name", "CPU " + std::to_string(cpu)}});
    meta("process_sort_index", cpu + 1, 0, Json{{"sort_index", cpu}});
  }
  if (last_memory_) {
    meta("process_name", cpu_count_ + 1, 0, Json{{"name", "Memory"}});
    meta("process_sort_index", cpu_count_ + 1, 0, Json{{"sort_index", cpu_count_}});
  }
  for (const Track& t : used_) {
    meta("thread_name", t.cpu + 1, t.tid, Json{{"name", track_name(t)}});
    // The running track first, then the threads in trace order.
    const size_t order = t.tid > thread_names_.size() ? 0 : t.tid;
    meta("thread_sort_index", t.cpu + 1, t.tid, Json{{"sort_index", order}});
  }
  for (const Json& e : events_) out.push_back(e);
  // Close what a run cut short left open, innermost first, one tick each.
  uint64_t tick = tick_;
  for (const auto& [track, open] : open_) {
    for (auto it = open.rbegin(); it != open.rend(); ++it) {
      Json e;
      e["name"] = it->name;
      e["ph"] = "E";
      e["ts"] = tick++;
      e["pid"] = track.cpu + 1;
      e["tid"] = track.tid;
      // The last running segment ends with the run; anything else was cut.
      if (track.tid <= thread_names_.size()) e["args"] = Json{{"unfinished", true}};
      out.push_back(std::move(e));
    }
  }
  // One event per line: diffable, and still one JSON document.
  std::string s = "{\"traceEvents\":[\n";
  for (size_t i = 0; i < out.size(); ++i) {
    s += out[i].dump();
    s += i + 1 < out.size() ? ",\n" : "\n";
  }
  s += "],\n";
  s += "\"otherData\":{\"format\":\"vmsim-timeline/1\",\"clock\":\"logical: one tick per "
       "event\"}}\n";
  return s;
}

bool Timeline::write(const std::string& path, std::string* error) const {
  const std::string text = json();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    *error = path + ": write failed";
    return false;
  }
  return true;
}

}  // namespace vmsim
