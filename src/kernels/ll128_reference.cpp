// Why one file of ~730 lines: the reference packer and the CPU-thread emulation of the LL128
// FIFO protocol are two users of one private line codec and stream geometry (the anonymous
// namespace below); splitting them would export that codec to every includer. Split when the
// emulation grows a second delivery model.
#include "kernels/ll128_reference.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::kernels::ll128 {

namespace {

using Clock = std::chrono::steady_clock;

/// Byte address of a located word inside a rank's tensors.
template <typename O, typename S>
auto* word_address(const WordLoc& loc, O* o, S* stats) {
  using Byte = std::conditional_t<std::is_const_v<O>, const char, char>;
  Byte* base = loc.stats ? reinterpret_cast<Byte*>(stats) : reinterpret_cast<Byte*>(o);
  return base + loc.index * kWordBytes;
}

/// The stream word at `loc` in a rank's input tensors (two fp32 values for packed LSE words).
std::uint64_t read_located(const WordLoc& loc, const std::uint16_t* o, const std::uint32_t* stats) {
  if (loc.packed) {
    const std::uint64_t lo = stats[loc.index];
    const std::uint64_t hi = loc.index2 >= 0 ? stats[loc.index2] : 0u;
    return lo | hi << 32;
  }
  std::uint64_t v = 0;
  std::memcpy(&v, word_address(loc, o, stats), kWordBytes);
  return v;
}

/// Writes the stream word at `loc` into a rank's output tensors (inverse of read_located).
void write_located(const WordLoc& loc, std::uint64_t v, std::uint16_t* o, std::uint32_t* stats) {
  if (loc.packed) {
    stats[loc.index] = static_cast<std::uint32_t>(v);
    if (loc.index2 >= 0) stats[loc.index2] = static_cast<std::uint32_t>(v >> 32);
    return;
  }
  std::memcpy(word_address(loc, o, stats), &v, kWordBytes);
}

}  // namespace

std::vector<std::uint64_t> gather_stream(const ExchangeShape& shape, int channels, int channel,
                                         int receiver, const std::uint16_t* in_o,
                                         const std::uint32_t* in_stats) {
  const StreamGeometry g = stream_geometry(shape, channels, channel, 1);
  const RowDivisors d = RowDivisors::make(shape);
  const std::uint32_t first = g.first_line * kPayloadWordsPerLine;
  std::vector<std::uint64_t> out(g.channel_words());
  for (std::uint32_t i = 0; i < out.size(); ++i) {
    const WordLoc loc = locate_word(g, d, shape.cp_size, receiver, first + i);
    out[i] = read_located(loc, in_o, in_stats);
  }
  return out;
}

void scatter_stream(const ExchangeShape& shape, int channels, int channel, int sender,
                    std::span<const std::uint64_t> payload, std::uint16_t* out_o,
                    std::uint32_t* out_stats) {
  const StreamGeometry g = stream_geometry(shape, channels, channel, 1);
  DCP_CHECK(payload.size() == g.channel_words(),
            "scatter_stream: payload size does not match the channel");
  const RowDivisors d = RowDivisors::make(shape);
  const std::uint32_t first = g.first_line * kPayloadWordsPerLine;
  for (std::uint32_t i = 0; i < payload.size(); ++i) {
    const WordLoc loc = locate_word(g, d, shape.cp_size, sender, first + i);
    write_located(loc, payload[i], out_o, out_stats);
  }
}

Line pack_line(std::span<const std::uint64_t> payload, std::uint32_t line, std::uint64_t flag,
               std::uint32_t first_line, LineLayout layout) {
  Line out{};
  const std::uint32_t stream_line = first_line + line;
  const std::size_t first = std::size_t{line} * kPayloadWordsPerLine;
  for (int i = 0; i < kPayloadWordsPerLine; ++i) {
    const std::size_t w = first + static_cast<std::size_t>(i);
    out[static_cast<std::size_t>(payload_slot(stream_line, i, layout))] =
        w < payload.size() ? payload[w] : 0;
  }
  out[static_cast<std::size_t>(flag_word(stream_line, layout))] = flag;
  return out;
}

std::vector<Line> pack_stream(std::span<const std::uint64_t> payload, std::uint64_t first_seq,
                              int slot_lines, std::uint32_t first_line, LineLayout layout) {
  const std::size_t lines = (payload.size() + kPayloadWordsPerLine - 1) / kPayloadWordsPerLine;
  std::vector<Line> out;
  out.reserve(lines);
  for (std::size_t l = 0; l < lines; ++l) {
    const std::uint64_t seq = first_seq + l / static_cast<std::size_t>(slot_lines);
    out.push_back(
        pack_line(payload, static_cast<std::uint32_t>(l), flag_for(seq), first_line, layout));
  }
  return out;
}

std::vector<std::uint64_t> unpack_stream(std::span<const Line> lines, std::uint64_t first_seq,
                                         int slot_lines, std::uint32_t words,
                                         std::uint32_t first_line, LineLayout layout) {
  const std::size_t need = (std::size_t{words} + kPayloadWordsPerLine - 1) / kPayloadWordsPerLine;
  if (lines.size() < need) {
    throw Error(
        fmt::format("unpack_stream: {} words need {} lines, got {}", words, need, lines.size()));
  }
  std::vector<std::uint64_t> out(words);
  for (std::size_t l = 0; l < need; ++l) {
    const std::uint64_t want = flag_for(first_seq + l / static_cast<std::size_t>(slot_lines));
    const auto line = first_line + static_cast<std::uint32_t>(l);
    const std::uint64_t flag = lines[l][static_cast<std::size_t>(flag_word(line, layout))];
    if (flag != want) {
      throw Error(fmt::format("unpack_stream: line {} has flag {}, expected {}", l, flag, want));
    }
    for (int i = 0; i < kPayloadWordsPerLine; ++i) {
      const std::size_t w = l * kPayloadWordsPerLine + static_cast<std::size_t>(i);
      if (w < words) out[w] = lines[l][static_cast<std::size_t>(payload_slot(line, i, layout))];
    }
  }
  return out;
}

std::string describe_error(const ErrorInfo& e, double timeout_s) {
  constexpr const char* kWhy =
      " — the peer never launched the exchange, died, or runs a different sweep";
  switch (e.role) {
    case ErrorRole::kRecv:
      return fmt::format(
          "rank {}: no data from peer {} on channel {} (awaited sequence {}, line {}) within {:g} "
          "s{}",
          e.rank, e.peer, e.channel, e.sequence, e.line, timeout_s, kWhy);
    case ErrorRole::kSend:
      return fmt::format(
          "rank {}: peer {} freed no FIFO space on channel {} (awaited credit for sequence {}, "
          "credit is {}) within {:g} s{}",
          e.rank, e.peer, e.channel, e.sequence, e.observed, timeout_s, kWhy);
    case ErrorRole::kAbort:
      return fmt::format(
          "rank {}: stopped waiting for peer {} on channel {} (sequence {}) because rank {} or "
          "peer {} had already failed",
          e.rank, e.peer, e.channel, e.sequence, e.rank, e.peer);
  }
  return fmt::format("rank {}: unknown error record", e.rank);
}

// ---- emulation ----------------------------------------------------------------------------------

namespace {

/// The emulated workspace: cp segments of atomic words, laid out like the GPU's.
struct EmulatedWorkspace {
  Geometry geometry;
  std::int64_t words = 0;  ///< words per segment
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>[]>> segments;

  explicit EmulatedWorkspace(const Geometry& g)
      : geometry(g), words(g.segment_bytes() / kWordBytes) {
    for (int r = 0; r < g.cp_size; ++r) {
      segments.emplace_back(new std::atomic<std::uint64_t>[static_cast<std::size_t>(words)]);
    }
    zero();
  }
  void zero() {
    for (auto& s : segments) {
      for (std::int64_t i = 0; i < words; ++i)
        s[static_cast<std::size_t>(i)].store(0, std::memory_order_relaxed);
    }
    // No fence needed: segments are zeroed only while no rank thread runs (thread creation and
    // join order these stores with every rank's accesses).
  }
  std::atomic<std::uint64_t>& word(int rank, std::int64_t byte_offset) {
    return segments[static_cast<std::size_t>(rank)]
                   [static_cast<std::size_t>(byte_offset / kWordBytes)];
  }
  bool failed(int rank) { return word(rank, kErrorInfo * kWordBytes).load() != 0; }
  void record(int rank, ErrorRole role, int peer, int channel, std::uint64_t seq,
              std::uint64_t line, std::uint64_t observed) {
    std::uint64_t expected = 0;
    if (word(rank, kErrorInfo * kWordBytes)
            .compare_exchange_strong(expected, encode_error_info(role, rank, peer, channel))) {
      word(rank, kErrorSequence * kWordBytes).store(seq);
      word(rank, kErrorLine * kWordBytes).store(line);
      word(rank, kErrorObserved * kWordBytes).store(observed);
    }
  }
};

/// One rank's tensors in host memory.
struct RankData {
  std::vector<std::uint16_t> in_o, out_o;
  std::vector<std::uint32_t> in_stats, out_stats;
};

/// A sender or receiver "warp" of the emulation: a state machine stepped by its rank's thread.
struct Task {
  bool sender = true;
  bool then_receive = false;    ///< single-warp mode: become the receiver once the send is done
  std::uint64_t recv_base = 0;  ///< single-warp mode: tail at the start of the call
  int peer = 0;
  int channel = 0;
  StreamGeometry g;
  std::uint64_t base_seq = 0;  ///< head (sender) or tail (receiver) at the start of the call
  std::uint64_t credit = 0;    ///< sender: last credit seen
  std::uint32_t slot = 0;      ///< stream slot in progress
  std::uint32_t line = 0;      ///< line of that slot in progress
  bool done = false;
  Clock::time_point last_progress;
};

class RankRunner {
 public:
  RankRunner(EmulatedWorkspace& ws, const ExchangeShape& shape, int channels, int rank,
             RankData& data, const EmulationOptions& options)
      : ws_(ws),
        geo_(ws.geometry),
        shape_(shape),
        channels_(channels),
        rank_(rank),
        data_(data),
        options_(options),
        divisors_(RowDivisors::make(shape)),
        rng_(options.schedule_seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(rank)) {
    corrupt_peer_ = options.fault && options.fault->kind == FaultKind::kCorruptLine &&
                            options.fault->applies_to(rank)
                        ? (rank + 1) % shape.cp_size
                        : -1;
  }

  void run() {
    // Mirrors the kernel: a rank that failed earlier touches nothing.
    if (ws_.failed(rank_)) return;
    const int cp = shape_.cp_size;
    // The GPU's rule: the largest channel (0) decides for the whole call.
    const bool single =
        options_.single_warp &&
        single_warp_allowed(stream_geometry(shape_, channels_, 0, geo_.slot_lines).slots,
                            geo_.depth);
    std::vector<Task> tasks;
    for (int idx = 0; idx < cp * channels_; ++idx) {
      const int channel = idx / cp;
      const int peer = (rank_ + 1 + idx % cp) % cp;
      const StreamGeometry g = stream_geometry(shape_, channels_, channel, geo_.slot_lines);
      if (g.lines == 0) continue;  // no entries: no sequence numbers
      for (bool sender : {true, false}) {
        if (single && !sender) continue;  // the sender task receives afterwards
        Task t;
        t.sender = sender;
        t.then_receive = single;
        t.peer = peer;
        t.channel = channel;
        t.g = g;
        if (sender) {
          t.base_seq = counter(peer, channel, kHeadWord).load();
          t.credit = counter(peer, channel, kCreditWord).load(std::memory_order_acquire);
        }
        if (!sender || single) t.recv_base = counter(peer, channel, kTailWord).load();
        if (!sender) t.base_seq = t.recv_base;
        t.last_progress = Clock::now();
        tasks.push_back(t);
      }
    }
    std::vector<std::size_t> order(tasks.size());
    std::iota(order.begin(), order.end(), 0);
    std::size_t open = tasks.size();
    while (open > 0) {
      std::shuffle(order.begin(), order.end(), rng_);
      bool progress = false;
      for (std::size_t i : order) {
        Task& t = tasks[i];
        if (t.done) continue;
        progress |= t.sender ? step_sender(t) : step_receiver(t);
        if (t.done) --open;
      }
      if (!progress) std::this_thread::yield();
    }
  }

 private:
  std::atomic<std::uint64_t>& counter(int peer, int channel, int word, int owner = -1) {
    const int rank = owner < 0 ? rank_ : owner;
    return ws_.word(rank, geo_.counter_offset(peer, channel) + std::int64_t{word} * kWordBytes);
  }

  int batch() { return 1 + static_cast<int>(rng_() % 6); }

  /// A random pause between two word accesses of kAscendingWords (gives other rank threads a
  /// chance to run between the words of one line).
  void pause() {
    if ((rng_() & 15u) == 0) std::this_thread::yield();
  }

  /// Writes `line` (stream line `stream_line`, flag included) at byte `off` of `peer`'s segment.
  void publish_line(int peer, std::int64_t off, const Line& line, std::uint32_t stream_line) {
    if (options_.delivery == Delivery::kAscendingWords) {
      // Spec §3.8's contract: the line may arrive in pieces, in ascending address order. One
      // release store per word: a reader that acquires word k also sees words 0..k-1.
      for (int w = 0; w < kWordsPerLine; ++w) {
        ws_.word(peer, off + std::int64_t{w} * kWordBytes)
            .store(line[static_cast<std::size_t>(w)], std::memory_order_release);
        pause();
      }
      return;
    }
    // kWholeLine: payload first (any order, relaxed), flag last with release.
    const int fw = flag_word(stream_line, options_.layout);
    std::array<int, kWordsPerLine> idx{};
    std::iota(idx.begin(), idx.end(), 0);
    if (options_.shuffle_payload_stores) std::shuffle(idx.begin(), idx.end(), rng_);
    for (int w : idx) {
      if (w == fw) continue;
      ws_.word(peer, off + std::int64_t{w} * kWordBytes)
          .store(line[static_cast<std::size_t>(w)], std::memory_order_relaxed);
    }
    ws_.word(peer, off + std::int64_t{fw} * kWordBytes)
        .store(line[static_cast<std::size_t>(fw)], std::memory_order_release);
  }

  /// Reads line `stream_line` at byte `off` of this rank's segment into `out`; true when its flag
  /// equals `flag` (then `out` holds the payload to use; else out[flag word] = the flag seen).
  bool read_line(std::int64_t off, std::uint32_t stream_line, std::uint64_t flag, Line& out) {
    const int fw = flag_word(stream_line, options_.layout);
    auto word = [&](int w) -> std::atomic<std::uint64_t>& {
      return ws_.word(rank_, off + std::int64_t{w} * kWordBytes);
    };
    if (options_.delivery == Delivery::kAscendingWords) {
      // Sample all 16 words in a random order (a warp-wide load whose pieces are served at
      // different times), accept on the flag.
      std::array<int, kWordsPerLine> order{};
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng_);
      for (int w : order) {
        out[static_cast<std::size_t>(w)] = word(w).load(std::memory_order_acquire);
        pause();
      }
      if (out[static_cast<std::size_t>(fw)] != flag) return false;
      if (options_.reload) {
        // The kernel's DCP_NATIVE_RELOAD: the payload from loads issued after the flag matched.
        for (int w = 0; w < kWordsPerLine; ++w) {
          if (w != fw) out[static_cast<std::size_t>(w)] = word(w).load(std::memory_order_acquire);
        }
      }
      return true;
    }
    out[static_cast<std::size_t>(fw)] = word(fw).load(std::memory_order_acquire);
    if (out[static_cast<std::size_t>(fw)] != flag) return false;
    for (int w = 0; w < kWordsPerLine; ++w) {
      if (w != fw) out[static_cast<std::size_t>(w)] = word(w).load(std::memory_order_relaxed);
    }
    return true;
  }

  /// Bounded wait bookkeeping: true when the task must stop (error recorded).
  bool give_up(Task& t, ErrorRole role, std::uint64_t seq, std::uint64_t line,
               std::uint64_t observed) {
    if (Clock::now() - t.last_progress > options_.timeout) {
      ws_.record(rank_, role, t.peer, t.channel, seq, line, observed);
    } else if (ws_.failed(rank_) || ws_.failed(t.peer)) {
      ws_.record(rank_, ErrorRole::kAbort, t.peer, t.channel, seq, line, observed);
    } else {
      return false;
    }
    t.done = true;
    return true;
  }

  bool step_sender(Task& t) {
    const std::uint64_t seq = t.base_seq + t.slot;
    if (t.line == 0 && t.credit + static_cast<std::uint64_t>(geo_.depth) <= seq) {
      t.credit = counter(t.peer, t.channel, kCreditWord).load(std::memory_order_acquire);
      if (t.credit + static_cast<std::uint64_t>(geo_.depth) <= seq) {
        give_up(t, ErrorRole::kSend, seq, 0, t.credit);
        return false;
      }
    }
    const std::uint32_t slot_lines = static_cast<std::uint32_t>(geo_.slot_lines);
    const std::uint32_t n = t.g.lines_in_slot(t.slot, slot_lines);
    for (int b = batch(); b > 0 && !t.done; --b) {
      const std::uint32_t channel_line = t.slot * slot_lines + t.line;
      const std::uint32_t stream_line = t.g.first_line + channel_line;
      const LineLayout layout = options_.layout;
      Line line{};
      for (int i = 0; i < kPayloadWordsPerLine; ++i) {
        const std::uint32_t w = stream_line * kPayloadWordsPerLine + static_cast<std::uint32_t>(i);
        if (w < t.g.words) {
          const WordLoc loc = locate_word(t.g, divisors_, shape_.cp_size, t.peer, w);
          line[static_cast<std::size_t>(payload_slot(stream_line, i, layout))] =
              read_located(loc, data_.in_o.data(), data_.in_stats.data());
        }
      }
      // Fault injection: payload word 0 of stream line 0.
      if (corrupt_peer_ == t.peer && t.channel == 0 && stream_line == 0) {
        line[static_cast<std::size_t>(payload_slot(0, 0, layout))] ^= 0x01;
      }
      const int fw = flag_word(stream_line, layout);
      line[static_cast<std::size_t>(fw)] = flag_for(seq);
      publish_line(t.peer, geo_.line_offset(rank_, t.channel, seq, static_cast<int>(t.line)), line,
                   stream_line);
      if (++t.line == n) {
        t.line = 0;
        if (++t.slot == t.g.slots) {
          counter(t.peer, t.channel, kHeadWord).store(t.base_seq + t.g.slots);
          if (t.then_receive) {
            // Single-warp mode: the same task now receives the peer's stream.
            t.sender = false;
            t.slot = 0;
            t.base_seq = t.recv_base;
          } else {
            t.done = true;
          }
        }
        break;  // the next slot may need credit
      }
    }
    t.last_progress = Clock::now();
    return true;
  }

  bool step_receiver(Task& t) {
    const std::uint32_t slot_lines = static_cast<std::uint32_t>(geo_.slot_lines);
    bool progress = false;
    for (int b = batch(); b > 0 && !t.done; --b) {
      const std::uint64_t seq = t.base_seq + t.slot;
      const std::uint32_t n = t.g.lines_in_slot(t.slot, slot_lines);
      const std::uint32_t channel_line = t.slot * slot_lines + t.line;
      const std::uint32_t stream_line = t.g.first_line + channel_line;
      const std::int64_t off = geo_.line_offset(t.peer, t.channel, seq, static_cast<int>(t.line));
      Line line{};
      if (!read_line(off, stream_line, flag_for(seq), line)) {
        const auto observed =
            line[static_cast<std::size_t>(flag_word(stream_line, options_.layout))];
        if (!progress) give_up(t, ErrorRole::kRecv, seq, channel_line, observed);
        return progress;
      }
      for (int i = 0; i < kPayloadWordsPerLine; ++i) {
        const std::uint32_t w = stream_line * kPayloadWordsPerLine + static_cast<std::uint32_t>(i);
        if (w >= t.g.words) break;
        const std::uint64_t v =
            line[static_cast<std::size_t>(payload_slot(stream_line, i, options_.layout))];
        const WordLoc loc = locate_word(t.g, divisors_, shape_.cp_size, t.peer, w);
        write_located(loc, v, data_.out_o.data(), data_.out_stats.data());
      }
      progress = true;
      t.last_progress = Clock::now();
      if (++t.line == n) {
        t.line = 0;
        // Slot consumed: publish credit into the sender's segment (release).
        counter(rank_, t.channel, kCreditWord, t.peer).store(seq + 1, std::memory_order_release);
        if (++t.slot == t.g.slots) {
          counter(t.peer, t.channel, kTailWord).store(t.base_seq + t.g.slots);
          t.done = true;
        }
      }
    }
    return progress;
  }

  EmulatedWorkspace& ws_;
  const Geometry& geo_;
  const ExchangeShape& shape_;
  int channels_;
  int rank_;
  RankData& data_;
  const EmulationOptions& options_;
  RowDivisors divisors_;
  std::mt19937_64 rng_;
  int corrupt_peer_ = -1;
};

}  // namespace

struct FifoEmulator::Impl : EmulatedWorkspace {
  using EmulatedWorkspace::EmulatedWorkspace;
};

namespace {
const Geometry& checked(const Geometry& g) {
  if (const char* p = geometry_problem(g)) throw ConfigError(fmt::format("emulator: {}", p));
  return g;
}
}  // namespace

FifoEmulator::FifoEmulator(const Geometry& geometry)
    : geometry_(checked(geometry)), impl_(std::make_unique<Impl>(geometry)) {}

FifoEmulator::~FifoEmulator() = default;

EmulatedCall FifoEmulator::run_call(const ExchangeShape& shape, std::uint64_t seed,
                                    std::uint32_t call, const EmulationOptions& options) {
  if (const char* p = shape_problem(shape)) throw ConfigError(fmt::format("emulator: {}", p));
  DCP_CHECK(shape.cp_size == geometry_.cp_size, "emulator: shape and geometry disagree on cp");
  EmulatedCall result;
  if (shape.entries == 0) return result;  // no launch, no counters touched
  const int cp = shape.cp_size;
  result.channels =
      options.channels > 0 ? options.channels : channel_count(shape, geometry_.max_channels);
  // More channels than lines is allowed here (it exercises empty channels); the GPU launcher
  // never uses them.
  DCP_CHECK(result.channels >= 1 && result.channels <= geometry_.max_channels,
            "emulator: channel count out of range");

  std::vector<RankData> data(static_cast<std::size_t>(cp));
  const auto o_elems = static_cast<std::size_t>(shape.rows() * shape.head_dim);
  const auto s_elems = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
  for (int r = 0; r < cp; ++r) {
    RankData& d = data[static_cast<std::size_t>(r)];
    d.in_o.resize(o_elems);
    d.out_o.resize(o_elems);
    d.in_stats.resize(s_elems);
    d.out_stats.resize(s_elems);
    fill_inputs_host(shape, seed, call, r, d.in_o.data(), d.in_stats.data());
    poison_outputs_host(shape, d.out_o.data(), d.out_stats.data());
  }

  std::vector<std::thread> threads;
  for (int r = 0; r < cp; ++r) {
    if (options.fault && options.fault->kind == FaultKind::kSkipLaunch &&
        options.fault->applies_to(r)) {
      continue;
    }
    threads.emplace_back([&, r] {
      RankRunner(*impl_, shape, result.channels, r, data[static_cast<std::size_t>(r)], options)
          .run();
    });
  }
  for (auto& t : threads)
    t.join();

  for (int r = 0; r < cp; ++r) {
    const RankData& d = data[static_cast<std::size_t>(r)];
    result.verify.merge(
        verify_outputs_host(shape, seed, call, r, d.out_o.data(), d.out_stats.data()));
  }
  result.errors = errors();
  return result;
}

void FifoEmulator::set_all_counters(std::uint64_t seq) {
  for (int r = 0; r < geometry_.cp_size; ++r) {
    for (int p = 0; p < geometry_.cp_size; ++p) {
      for (int c = 0; c < geometry_.max_channels; ++c) {
        for (int w : {kHeadWord, kTailWord, kCreditWord}) {
          impl_->word(r, geometry_.counter_offset(p, c) + std::int64_t{w} * kWordBytes).store(seq);
        }
      }
    }
  }
}

void FifoEmulator::reset() {
  impl_->zero();
}

std::vector<ErrorInfo> FifoEmulator::errors() const {
  std::vector<ErrorInfo> out;
  for (int r = 0; r < geometry_.cp_size; ++r) {
    std::uint64_t rec[kErrorWords];
    for (int i = 0; i < kErrorWords; ++i)
      rec[i] = impl_->word(r, std::int64_t{i} * kWordBytes).load();
    const ErrorInfo e = decode_error(rec);
    if (e.valid) out.push_back(e);
  }
  return out;
}

std::uint64_t FifoEmulator::load_word(int rank, std::int64_t index) const {
  return impl_->word(rank, index * kWordBytes).load();
}

}  // namespace dcp::kernels::ll128
