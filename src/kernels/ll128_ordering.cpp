#include "kernels/ll128_ordering.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <thread>

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

/// What the writer puts in every word of line `line` (flag included).
Words line_words(std::uint64_t line, LineLayout layout) {
  Words w{};
  const auto l = static_cast<std::uint32_t>(line);
  for (int i = 0; i < kPayloadWordsPerLine; ++i)
    w[static_cast<std::size_t>(payload_slot(l, i, layout))] = ordering_payload(line, i);
  w[static_cast<std::size_t>(flag_word(l, layout))] = flag_for(line);
  return w;
}

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

/// A random permutation of the 16 words (Fisher-Yates on Rng), or ascending.
void new_order(std::array<int, kWordsPerLine>& order, Rng& rng, bool ascending) {
  for (int i = 0; i < kWordsPerLine; ++i)
    order[static_cast<std::size_t>(i)] = i;
  if (ascending) return;
  for (int i = kWordsPerLine - 1; i > 0; --i) {
    const auto j = rng.below(static_cast<std::uint32_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[j]);
  }
}

/// Counts the payload words of accepted line `line` that are not what the writer wrote into it.
void judge(std::uint64_t line, const Words& got, LineLayout layout, OrderingResult& r) {
  const Words want = line_words(line, layout);
  const int fw = flag_word(static_cast<std::uint32_t>(line), layout);
  std::uint64_t bad = 0;
  for (int w = 0; w < kWordsPerLine; ++w) {
    if (w != fw && got[static_cast<std::size_t>(w)] != want[static_cast<std::size_t>(w)]) ++bad;
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

/// The writer as a state machine: one word store per step, ascending, release.
struct SteppedWriter {
  std::uint64_t line = 0;  ///< line being written
  int word = 0;            ///< its next word
  Words words{};

  void step(Ring& ring, const OrderingOptions& o) {
    if (line >= o.lines) return;
    if (word == 0) {
      // Flow control: line n reuses the slot of line n - depth, consumed once credit > n - depth.
      if (ring.credit.load(std::memory_order_acquire) + ring.depth <= line) return;
      words = line_words(line, o.layout);
    }
    ring.word(line, word).store(words[static_cast<std::size_t>(word)], std::memory_order_release);
    if (++word == kWordsPerLine) {
      word = 0;
      ++line;
    }
  }
};

/// The reader as a state machine: one word load per step, in a random order per pass.
struct SteppedReader {
  std::uint64_t line = 0;  ///< line awaited
  bool reloading = false;
  int pos = 0;
  std::array<int, kWordsPerLine> order{};
  Words got{};

  void step(Ring& ring, const OrderingOptions& o, Rng& rng, OrderingResult& r) {
    if (line >= o.lines) return;
    const int fw = flag_word(static_cast<std::uint32_t>(line), o.layout);
    const int w = order[static_cast<std::size_t>(pos)];
    if (!(reloading && w == fw)) {
      got[static_cast<std::size_t>(w)] = ring.word(line, w).load(std::memory_order_acquire);
    }
    if (++pos < kWordsPerLine) return;
    pos = 0;
    if (!reloading) {
      ++r.polls;
      if (got[static_cast<std::size_t>(fw)] != flag_for(line)) {
        new_order(order, rng, o.ascending_reads);  // not there yet: sample again
        return;
      }
      if (o.read == ReadMode::kReloadAfterFlag) {
        reloading = true;  // one more pass over the payload words (the flag word is skipped)
        new_order(order, rng, o.ascending_reads);
        return;
      }
    }
    reloading = false;
    judge(line, got, o.layout, r);
    ring.credit.store(line + 1, std::memory_order_release);
    ++line;
    new_order(order, rng, o.ascending_reads);
  }
};

// ---- threaded driver ----------------------------------------------------------------------------

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
  Ring ring(o.depth);
  Rng rng{o.seed * 0xD1B54A32D192ED03ull + 1};
  SteppedWriter writer;
  SteppedReader reader;
  new_order(reader.order, rng, o.ascending_reads);
  OrderingResult r;
  std::size_t next = 0;
  while (reader.line < o.lines) {
    if (next < o.script.size()) {
      if (o.script[next++] == 'w') {
        writer.step(ring, o);
      } else {
        reader.step(ring, o, rng, r);
      }
      continue;
    }
    // Seeded schedule: a run of 1..16 steps of one side, either side equally likely. (When the
    // writer waits for credit its steps do nothing; the reader then always progresses, because
    // every line below the writer's has been written completely.)
    const bool writer_turn = (rng.next() & 1u) != 0;
    for (std::uint32_t k = 1 + rng.below(16); k > 0 && reader.line < o.lines; --k) {
      if (writer_turn) {
        writer.step(ring, o);
      } else {
        reader.step(ring, o, rng, r);
      }
    }
  }
  return r;
}

OrderingResult run_ordering_threaded(const OrderingOptions& o) {
  check_options(o);
  Ring ring(o.depth);
  std::thread writer([&] {
    Rng rng{o.seed * 0x9E3779B97F4A7C15ull + 7};
    for (std::uint64_t line = 0; line < o.lines; ++line) {
      while (ring.credit.load(std::memory_order_acquire) + ring.depth <= line)
        std::this_thread::yield();
      const Words words = line_words(line, o.layout);
      for (int w = 0; w < kWordsPerLine; ++w) {
        ring.word(line, w).store(words[static_cast<std::size_t>(w)], std::memory_order_release);
        pause(rng);
      }
    }
  });
  OrderingResult r;
  Rng rng{o.seed * 0xD1B54A32D192ED03ull + 3};
  std::array<int, kWordsPerLine> order{};
  for (std::uint64_t line = 0; line < o.lines; ++line) {
    const int fw = flag_word(static_cast<std::uint32_t>(line), o.layout);
    Words got{};
    for (;;) {
      new_order(order, rng, o.ascending_reads);
      for (int w : order) {
        got[static_cast<std::size_t>(w)] = ring.word(line, w).load(std::memory_order_acquire);
        pause(rng);
      }
      ++r.polls;
      if (got[static_cast<std::size_t>(fw)] == flag_for(line)) break;
      std::this_thread::yield();  // let the writer run (the machine may have one free core)
    }
    if (o.read == ReadMode::kReloadAfterFlag) {
      new_order(order, rng, o.ascending_reads);
      for (int w : order) {
        if (w != fw)
          got[static_cast<std::size_t>(w)] = ring.word(line, w).load(std::memory_order_acquire);
      }
    }
    judge(line, got, o.layout, r);
    ring.credit.store(line + 1, std::memory_order_release);
  }
  writer.join();
  return r;
}

}  // namespace dcp::kernels::ll128
