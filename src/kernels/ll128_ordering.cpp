#include "kernels/ll128_ordering.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::kernels::ll128 {

namespace {

using Words = std::array<std::uint64_t, kWordsPerLine>;

/// splitmix64: a small PRNG whose output is the same on every platform (std distributions and
/// std::shuffle are not), so the stepped driver's counts are exact facts of the seed.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

/// The word layout of both line parities, computed once (the formulas depend on the parity only).
struct LayoutTable {
  explicit LayoutTable(LineLayout layout) {
    for (std::uint32_t parity = 0; parity < 2; ++parity) {
      flag[parity] = flag_word(parity, layout);
      for (int w = 0; w < kWordsPerLine; ++w)
        index[parity][w] = payload_index(parity, w, layout);
    }
  }
  /// What the writer puts in word `w` of line `line` (the flag or a payload word).
  [[nodiscard]] std::uint64_t word(std::uint64_t line, int w) const {
    const int i = index[line & 1u][w];
    return i < 0 ? flag_for(line) : ordering_payload(line, i);
  }
  [[nodiscard]] int flag_of(std::uint64_t line) const { return flag[line & 1u]; }

  int flag[2] = {};
  int index[2][kWordsPerLine] = {};
};

/// Reading orders: a random permutation of the 16 words per sampling pass, drawn from a pool of
/// permutations made once from the seed (one PRNG call per pass instead of 15), or ascending.
class Orders {
 public:
  Orders(Rng& rng, bool ascending) : rng_(rng), ascending_(ascending) {
    for (auto& order : pool_) {
      for (int i = 0; i < kWordsPerLine; ++i)
        order[static_cast<std::size_t>(i)] = i;
      for (int i = kWordsPerLine - 1; i > 0; --i) {
        const auto j = rng.below(static_cast<std::uint32_t>(i + 1));
        std::swap(order[static_cast<std::size_t>(i)], order[j]);
      }
    }
    for (int i = 0; i < kWordsPerLine; ++i)
      identity_[static_cast<std::size_t>(i)] = i;
  }
  const std::array<int, kWordsPerLine>& next() {
    return ascending_ ? identity_ : pool_[rng_.next() % kPool];
  }

 private:
  static constexpr std::size_t kPool = 1024;
  Rng& rng_;
  bool ascending_;
  std::array<std::array<int, kWordsPerLine>, kPool> pool_{};
  std::array<int, kWordsPerLine> identity_{};
};

/// Counts the payload words of accepted line `line` that are not what the writer wrote into it
/// (`want`: the line's 16 words, `flag`: its flag word).
void judge(std::uint64_t line, const Words& got, const Words& want, int flag, OrderingResult& r) {
  std::uint64_t bad = 0;
  for (std::size_t w = 0; w < kWordsPerLine; ++w) {
    if (static_cast<int>(w) != flag && got[w] != want[w]) ++bad;
  }
  ++r.lines;
  r.torn_words += bad;
  if (bad > 0) {
    ++r.torn_lines;
    if ((line & 1u) != 0) ++r.torn_odd_lines;
  }
}

void check_options(const OrderingOptions& o) {
  if (o.depth < 1) throw ConfigError(fmt::format("ordering model: depth {} must be >= 1", o.depth));
  for (char c : o.script) {
    if (c != 'w' && c != 'r') {
      throw ConfigError(fmt::format("ordering model: script step '{}' is not 'w' or 'r'", c));
    }
  }
}

// ---- stepped driver -----------------------------------------------------------------------------

/// Writer and reader as state machines over one ring, advanced one word access per step. One
/// thread runs them, so every step is visible to the next at once: a store "arrives" at its step,
/// and the words of a line arrive in ascending order because the writer stores them so.
class SteppedModel {
 public:
  SteppedModel(const OrderingOptions& o, Rng& rng)
      : o_(o),
        table_(o.layout),
        orders_(rng, o.ascending_reads),
        depth_(static_cast<std::uint64_t>(o.depth)),
        ring_(depth_ * kWordsPerLine, 0),
        want_(depth_),
        order_(orders_.next().data()) {
    start_line();
  }

  [[nodiscard]] bool done() const { return rline_ >= o_.lines; }
  [[nodiscard]] const OrderingResult& result() const { return r_; }

  /// `steps` writer steps: one word store each, ascending; nothing while it waits for credit.
  void write(std::uint32_t steps) {
    std::uint64_t* const ring = ring_.data();
    for (; steps > 0 && wline_ < o_.lines; --steps) {
      if (wword_ == 0) {
        // Flow control: line n reuses the slot of line n - depth, consumed once credit > n - depth.
        if (credit_ + depth_ <= wline_) return;
        // What line wline_ carries, kept per slot for the reader's verdict (the slot's next line
        // cannot start before the reader has judged this one).
        Words& want = want_[wline_ % depth_];
        for (int w = 0; w < kWordsPerLine; ++w)
          want[static_cast<std::size_t>(w)] = table_.word(wline_, w);
        wbuf_ = want.data();
        wslot_ = ring + (wline_ % depth_) * kWordsPerLine;
      }
      wslot_[wword_] = wbuf_[wword_];
      if (++wword_ == kWordsPerLine) {
        wword_ = 0;
        ++wline_;
      }
    }
  }

  /// `steps` reader steps: one word load each; after a pass of 16, the flag check (sampling) or
  /// the verdict and the credit (after the reload, or after a single read).
  void read(std::uint32_t steps) {
    const std::uint64_t* const ring = ring_.data();
    for (; steps > 0 && !done(); --steps) {
      const int w = order_[pos_];
      if (!(reloading_ && w == rflag_)) got_[static_cast<std::size_t>(w)] = ring[rbase_ + w];
      if (++pos_ < kWordsPerLine) continue;
      pos_ = 0;
      order_ = orders_.next().data();
      if (!reloading_) {
        ++r_.polls;
        if (got_[static_cast<std::size_t>(rflag_)] != flag_for(rline_)) continue;  // sample again
        if (o_.read == ReadMode::kReloadAfterFlag) {
          reloading_ = true;  // one more pass over the payload words
          continue;
        }
      }
      reloading_ = false;
      judge(rline_, got_, want_[rline_ % depth_], rflag_, r_);
      credit_ = ++rline_;
      start_line();
    }
  }

 private:
  const OrderingOptions& o_;
  LayoutTable table_;
  Orders orders_;
  std::uint64_t depth_;
  std::vector<std::uint64_t> ring_;
  std::uint64_t credit_ = 0;             ///< lines the reader has consumed
  std::uint64_t wline_ = 0;              ///< writer: line being written
  int wword_ = 0;                        ///< writer: its next word
  std::vector<Words> want_;              ///< per slot: the words of the line the writer put there
  const std::uint64_t* wbuf_ = nullptr;  ///< writer: the words of its line
  std::uint64_t* wslot_ = nullptr;       ///< writer: its line's slot
  std::uint64_t rline_ = 0;              ///< reader: line awaited
  std::uint64_t rbase_ = 0;              ///< reader: its slot's first word in the ring
  int rflag_ = 0;                        ///< reader: its line's flag word
  bool reloading_ = false;
  int pos_ = 0;
  const int* order_;
  Words got_{};
  OrderingResult r_;

  void start_line() {
    rbase_ = (rline_ % depth_) * kWordsPerLine;
    rflag_ = table_.flag_of(rline_);
  }
};

// ---- threaded driver ----------------------------------------------------------------------------

/// The ring of `depth` one-line slots (zero-filled, like the workspace) and the reader's credit.
struct Ring {
  explicit Ring(int slots)
      : depth(static_cast<std::uint64_t>(slots)),
        words(new std::atomic<std::uint64_t>[depth * kWordsPerLine]) {
    for (std::uint64_t i = 0; i < depth * kWordsPerLine; ++i)
      words[i].store(0, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t>& word(std::uint64_t line, int w) {
    return words[(line % depth) * kWordsPerLine + static_cast<std::uint64_t>(w)];
  }
  std::uint64_t depth;
  std::unique_ptr<std::atomic<std::uint64_t>[]> words;
  std::atomic<std::uint64_t> credit{0};  ///< lines the reader has consumed
};

/// A random pause: mostly nothing, sometimes a short spin, rarely a yield.
void pause(Rng& rng) {
  const std::uint32_t r = rng.below(64);
  if (r == 0) {
    std::this_thread::yield();
  } else if (r < 8) {
    volatile std::uint32_t sink = 0;
    for (std::uint32_t i = 0; i < r * 16; ++i)
      sink = sink + i;
  }
}

}  // namespace

OrderingResult run_ordering_stepped(const OrderingOptions& o) {
  check_options(o);
  Rng rng{o.seed * 0xD1B54A32D192ED03ull + 1};
  SteppedModel model(o, rng);
  std::size_t next = 0;
  while (!model.done()) {
    if (next < o.script.size()) {
      if (o.script[next++] == 'w') {
        model.write(1);
      } else {
        model.read(1);
      }
      continue;
    }
    // Seeded schedule: a run of 1..16 steps of one side, either side equally likely. (When the
    // writer waits for credit its steps do nothing; the reader then always progresses, because
    // every line below the writer's has been written completely.)
    const bool writer_turn = (rng.next() & 1u) != 0;
    const std::uint32_t steps = 1 + rng.below(16);
    if (writer_turn) {
      model.write(steps);
    } else {
      model.read(steps);
    }
  }
  return model.result();
}

OrderingResult run_ordering_threaded(const OrderingOptions& o) {
  check_options(o);
  Ring ring(o.depth);
  const LayoutTable table(o.layout);
  std::thread writer([&] {
    Rng rng{o.seed * 0x9E3779B97F4A7C15ull + 7};
    for (std::uint64_t line = 0; line < o.lines; ++line) {
      while (ring.credit.load(std::memory_order_acquire) + ring.depth <= line)
        std::this_thread::yield();
      // Ascending address order, one release store per word: a reader that acquires word k
      // also sees words 0..k-1 of this line.
      for (int w = 0; w < kWordsPerLine; ++w) {
        ring.word(line, w).store(table.word(line, w), std::memory_order_release);
        pause(rng);
      }
    }
  });
  OrderingResult r;
  Rng rng{o.seed * 0xD1B54A32D192ED03ull + 3};
  Orders orders(rng, o.ascending_reads);
  for (std::uint64_t line = 0; line < o.lines; ++line) {
    const int fw = table.flag_of(line);
    Words got{};
    for (;;) {
      for (int w : orders.next()) {
        got[static_cast<std::size_t>(w)] = ring.word(line, w).load(std::memory_order_acquire);
        pause(rng);
      }
      ++r.polls;
      if (got[static_cast<std::size_t>(fw)] == flag_for(line)) break;
      std::this_thread::yield();  // let the writer run (the machine may have one free core)
    }
    if (o.read == ReadMode::kReloadAfterFlag) {
      for (int w : orders.next()) {
        if (w != fw) {
          got[static_cast<std::size_t>(w)] = ring.word(line, w).load(std::memory_order_acquire);
        }
      }
    }
    Words want{};
    for (int w = 0; w < kWordsPerLine; ++w)
      want[static_cast<std::size_t>(w)] = table.word(line, w);
    judge(line, got, want, fw, r);
    ring.credit.store(line + 1, std::memory_order_release);
  }
  writer.join();
  return r;
}

}  // namespace dcp::kernels::ll128
