// Why one file of ~630 lines: the CPU emulation of the direct-store protocol (writers, flags,
// waiters, delivery through the real merge) keeps its threads' shared state private here, as
// ll128_reference.cpp does for the LL128 protocol.
#include "kernels/direct_reference.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <numeric>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/pattern.hpp"
#include "kernels/direct_workspace.hpp"
#include "kernels/fused_plan.hpp"
#include "merge/merge_shape.hpp"
#include "merge/reference.hpp"

namespace dcp::kernels::direct {

namespace {

using Clock = std::chrono::steady_clock;

std::uint32_t float_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float bits_float(std::uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// Runs f(i) for i in [0, n) on n threads and rethrows the first exception (a launch's CTAs, or
/// the ranks of a run).
template <typename F>
void run_threads(int n, F&& f) {
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      try {
        f(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace

// ---- the emulated workspace ---------------------------------------------------------------------

namespace {

/// cp segments. Header and flags are 64-bit atomics; the receive area is 32-bit atomics (rows are
/// moved as 4-byte units, stats are 4 bytes), so every access is an atomic of one size.
struct Workspace {
  struct Segment {
    std::unique_ptr<std::atomic<std::uint64_t>[]> words;  ///< [0, recv_offset)
    std::unique_ptr<std::atomic<std::uint32_t>[]> recv;   ///< [recv_offset, segment_bytes)
  };
  Geometry g;
  std::int64_t word_count = 0;
  std::int64_t unit_count = 0;
  std::vector<Segment> segments;

  explicit Workspace(const Geometry& geometry)
      : g(geometry),
        word_count(geometry.recv_offset() / 8),
        unit_count((geometry.segment_bytes() - geometry.recv_offset()) / 4) {
    for (int r = 0; r < g.cp_size; ++r) {
      Segment s;
      s.words.reset(new std::atomic<std::uint64_t>[static_cast<std::size_t>(word_count)]);
      s.recv.reset(new std::atomic<std::uint32_t>[static_cast<std::size_t>(unit_count)]);
      segments.push_back(std::move(s));
    }
    zero();
  }
  /// Zeroes every segment; only while no rank thread runs (creation and join order it).
  void zero() {
    for (auto& s : segments) {
      for (std::int64_t i = 0; i < word_count; ++i)
        s.words[static_cast<std::size_t>(i)].store(0, std::memory_order_relaxed);
      for (std::int64_t i = 0; i < unit_count; ++i)
        s.recv[static_cast<std::size_t>(i)].store(0, std::memory_order_relaxed);
    }
  }
  std::atomic<std::uint64_t>& word(int rank, std::int64_t byte_offset) {
    return segments[static_cast<std::size_t>(rank)]
        .words[static_cast<std::size_t>(byte_offset / 8)];
  }
  /// The 4-byte unit at `byte_offset` (in the receive area) of rank r's segment.
  std::atomic<std::uint32_t>& unit(int rank, std::int64_t byte_offset) {
    return segments[static_cast<std::size_t>(rank)]
        .recv[static_cast<std::size_t>((byte_offset - g.recv_offset()) / 4)];
  }
  bool failed(int rank) { return word(rank, kErrorInfo * 8).load(std::memory_order_acquire) != 0; }
  /// First error of a rank wins (compare-and-swap on the info word), as on the GPU.
  void record(int rank, ErrorRole role, int peer, std::uint64_t block, std::uint64_t epoch,
              std::uint64_t observed) {
    std::uint64_t expected = 0;
    if (word(rank, kErrorInfo * 8)
            .compare_exchange_strong(expected, encode_error_info(role, rank, peer))) {
      word(rank, kErrorBlock * 8).store(block);
      word(rank, kErrorEpoch * 8).store(epoch);
      word(rank, kErrorObserved * 8).store(observed);
    }
  }
};

/// One rank's tensors. Exchange: in/out [E, cp, D] and [E, cp, S] (stats as fp32 bits).
/// Reduce: in as for exchange with S = 1 (the LSE), out [E, D] and lse_out [E].
struct RankData {
  std::vector<std::uint16_t> in_o, out_o;
  std::vector<std::uint32_t> in_stats, out_stats;
  std::vector<float> lse_out;
};

static_assert(kMaxCp <= merge::kMaxCp, "the merge routine handles every cp of the layout");

/// Everything a CTA needs besides its program.
struct CallContext {
  Workspace& ws;
  const Layout& layout;
  const ExchangeShape& shape;
  const EmulationOptions& options;
  int rank = 0;
  std::uint32_t call = 0;
  RankData& data;
};

/// Executes one CTA's program.
class CtaRunner {
 public:
  CtaRunner(const CallContext& ctx, int cta, int ctas)
      : ctx_(ctx),
        g_(ctx.ws.g),
        cta_(cta),
        ctas_(ctas),
        rng_(ctx.options.schedule_seed * 0x9E3779B97F4A7C15ull ^ (std::uint64_t{ctx.call} << 24) ^
             (static_cast<std::uint64_t>(ctx.rank) << 8) ^ static_cast<std::uint64_t>(cta)) {}

  /// Runs `program` of the call with `epoch`; false when the CTA stopped on an error.
  bool run(const Program& program, std::uint64_t epoch) {
    // A failed rank touches nothing (as the kernels do: they read the error record first).
    if (ctx_.ws.failed(ctx_.rank)) return false;
    for (const Action& a : program) {
      switch (a.op) {
        case Op::kWriteRows:
          write_rows(a);
          break;
        case Op::kReleaseFlag:
          ctx_.ws.word(a.peer, g_.flag_offset(a.parity, a.block, ctx_.rank))
              .store(a.value, std::memory_order_release);
          hook(HookPoint::kAfterRelease, &a);
          break;
        case Op::kAwaitFlag:
          hook(HookPoint::kBeforeAwait, &a);
          if (!await(a)) return false;
          break;
        case Op::kDeliver:
          deliver(a);
          hook(HookPoint::kAfterDeliver, &a);
          break;
        case Op::kAdvanceEpoch:
          ctx_.ws.word(ctx_.rank, kEpochWord * 8).store(a.value, std::memory_order_relaxed);
          break;
        case Op::kArrive: {
          auto& arrivals = ctx_.ws.word(ctx_.rank, kArrivalWord * 8);
          const std::uint64_t before = arrivals.fetch_add(1, std::memory_order_acq_rel);
          if (last_arrival(before, static_cast<std::uint32_t>(ctas_))) {
            arrivals.store(0, std::memory_order_relaxed);
            ctx_.ws.word(ctx_.rank, kEpochWord * 8).store(epoch + 1, std::memory_order_relaxed);
          }
          break;
        }
      }
    }
    return true;
  }

 private:
  void hook(HookPoint point, const Action* a) {
    if (ctx_.options.hook) ctx_.options.hook(ctx_.rank, cta_, ctx_.call, point, a);
  }

  /// Rows (e, dst) of the block and their stats into dst's region (parity, this rank).
  void write_rows(const Action& a) {
    const Layout& l = ctx_.layout;
    const int cp = l.cp_size;
    const int d = ctx_.shape.head_dim;
    const int s = ctx_.shape.stats_dim;
    const std::int64_t region = g_.region_offset(a.parity, ctx_.rank);
    std::vector<std::uint32_t> order(l.block_size(a.block));
    std::iota(order.begin(), order.end(), l.block_first(a.block));
    if (ctx_.options.shuffle_stores) std::shuffle(order.begin(), order.end(), rng_);
    for (const std::uint32_t e : order) {
      const std::int64_t row = std::int64_t{e} * cp + a.peer;
      const std::uint16_t* src = ctx_.data.in_o.data() + row * d;
      for (int i = 0; i < d / 2; ++i) {
        std::uint32_t u = 0;
        std::memcpy(&u, src + 2 * i, sizeof u);
        ctx_.ws.unit(a.peer, region + l.row_offset(e) + 4 * i).store(u, std::memory_order_relaxed);
      }
      for (int k = 0; k < s; ++k) {
        ctx_.ws.unit(a.peer, region + l.stats_offset(e) + 4 * k)
            .store(ctx_.data.in_stats[static_cast<std::size_t>(row * s + k)],
                   std::memory_order_relaxed);
      }
    }
  }

  /// Bounded acquire wait for a flag; records the error and returns false on failure.
  bool await(const Action& a) {
    auto& flag = ctx_.ws.word(ctx_.rank, g_.flag_offset(a.parity, a.block, a.peer));
    const std::uint64_t epoch = a.value - 1;
    const auto start = Clock::now();
    for (int spins = 0;; ++spins) {
      const std::uint64_t v = flag.load(std::memory_order_acquire);
      const FlagState state = flag_state(v, epoch);
      if (state == FlagState::kArrived) return true;
      if (state == FlagState::kAhead) {
        ctx_.ws.record(ctx_.rank, ErrorRole::kAhead, a.peer, a.block, epoch, v);
        return false;
      }
      if (Clock::now() - start > ctx_.options.timeout) {
        ctx_.ws.record(ctx_.rank, ErrorRole::kRecv, a.peer, a.block, epoch, v);
        return false;
      }
      if (ctx_.ws.failed(ctx_.rank) || ctx_.ws.failed(a.peer)) {
        ctx_.ws.record(ctx_.rank, ErrorRole::kAbort, a.peer, a.block, epoch, v);
        return false;
      }
      if (spins < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    }
  }

  /// Reads block `a.block` of every source from this rank's regions (parity) and writes the
  /// outputs: the rows (exchange) or their merge (reduce).
  void deliver(const Action& a) {
    if (ctx_.options.reduce) {
      deliver_merged(a);
      return;
    }
    const Layout& l = ctx_.layout;
    const int cp = l.cp_size;
    const int d = ctx_.shape.head_dim;
    const int s = ctx_.shape.stats_dim;
    for (std::uint32_t e = l.block_first(a.block);
         e < l.block_first(a.block) + l.block_size(a.block); ++e) {
      for (int src = 0; src < cp; ++src) {
        const std::int64_t region = g_.region_offset(a.parity, src);
        const std::int64_t row = std::int64_t{e} * cp + src;
        std::uint16_t* dst = ctx_.data.out_o.data() + row * d;
        for (int i = 0; i < d / 2; ++i) {
          const std::uint32_t u = ctx_.ws.unit(ctx_.rank, region + l.row_offset(e) + 4 * i)
                                      .load(std::memory_order_relaxed);
          std::memcpy(dst + 2 * i, &u, sizeof u);
        }
        for (int k = 0; k < s; ++k) {
          ctx_.data.out_stats[static_cast<std::size_t>(row * s + k)] =
              ctx_.ws.unit(ctx_.rank, region + l.stats_offset(e) + 4 * k)
                  .load(std::memory_order_relaxed);
        }
      }
    }
  }

  /// The fused kernel's merge of one block: per entry, the weights once from the cp LSEs
  /// (merge_weights), then 8 elements (16 bytes) at a time from the live sources only
  /// (merge_lanes calls the load for live sources, in source order).
  void deliver_merged(const Action& a) {
    const Layout& l = ctx_.layout;
    const int cp = l.cp_size;
    const int d = ctx_.shape.head_dim;
    constexpr int kLanes = 8;  // one 16-byte vector of bf16/fp16
    float lse[merge::kMaxCp];
    float scale[merge::kMaxCp];
    for (std::uint32_t e = l.block_first(a.block);
         e < l.block_first(a.block) + l.block_size(a.block); ++e) {
      for (int src = 0; src < cp; ++src) {
        lse[src] =
            bits_float(ctx_.ws.unit(ctx_.rank, g_.region_offset(a.parity, src) + l.stats_offset(e))
                           .load(std::memory_order_relaxed));
      }
      const merge::MergeWeights w = merge::merge_weights(lse, 1, cp, ctx_.options.lse_base, scale);
      std::uint16_t* out = ctx_.data.out_o.data() + std::int64_t{e} * d;
      for (int k = 0; k < d; k += kLanes) {
        merge::merge_lanes<kLanes>(
            scale, w.live, ctx_.shape.fp16,
            [&](int src, std::uint16_t* bits) {
              const std::int64_t at =
                  g_.region_offset(a.parity, src) + l.row_offset(e) + std::int64_t{k} * 2;
              for (int i = 0; i < kLanes / 2; ++i) {
                const std::uint32_t u =
                    ctx_.ws.unit(ctx_.rank, at + 4 * i).load(std::memory_order_relaxed);
                std::memcpy(bits + 2 * i, &u, sizeof u);
              }
            },
            out + k);
      }
      ctx_.data.lse_out[e] = w.lse_out;
    }
  }

  const CallContext& ctx_;
  const Geometry& g_;
  int cta_;
  int ctas_;
  std::mt19937_64 rng_;
};

/// Runs one launch: one thread per CTA program; true when no CTA stopped on an error.
bool run_launch(const CallContext& ctx, const std::vector<Program>& programs, std::uint64_t epoch,
                bool fused) {
  const int ctas = static_cast<int>(programs.size());
  std::vector<char> ok(programs.size(), 0);
  run_threads(ctas, [&](int c) {
    if (fused && !ctx.ws.failed(ctx.rank)) {
      // The last-arrival rule: every CTA of a fused launch reads the same epoch at its start.
      const std::uint64_t seen = ctx.ws.word(ctx.rank, kEpochWord * 8).load();
      DCP_CHECK(seen == epoch, "emulator: a CTA of the fused launch saw another epoch");
    }
    ok[static_cast<std::size_t>(c)] =
        CtaRunner(ctx, c, ctas).run(programs[static_cast<std::size_t>(c)], epoch) ? 1 : 0;
  });
  return std::all_of(ok.begin(), ok.end(), [](char v) { return v != 0; });
}

}  // namespace

struct Emulator::Impl : Workspace {
  using Workspace::Workspace;
};

Emulator::Emulator(const Geometry& geometry) : geometry_(geometry) {
  if (const char* p = geometry_problem(geometry)) {
    throw ConfigError(fmt::format("direct emulator: {}", p));
  }
  impl_ = std::make_unique<Impl>(geometry);
}

Emulator::~Emulator() = default;

EmulationResult Emulator::run(const ExchangeShape& shape, std::uint64_t seed,
                              std::uint32_t first_call, std::uint32_t calls,
                              const EmulationOptions& options) {
  if (const char* p = shape_problem(shape))
    throw ConfigError(fmt::format("direct emulator: {}", p));
  if (shape.cp_size != geometry_.cp_size) {
    throw ConfigError("direct emulator: the shape's cp differs from the workspace's");
  }
  const Layout layout = make_layout(shape, options.block_entries);
  if (const char* p = layout_problem(geometry_, layout)) {
    throw ConfigError(fmt::format("direct emulator: {}", p));
  }
  if (options.reduce && shape.stats_dim != 1) {
    throw ConfigError("direct emulator: reduce moves one LSE per row (stats_dim = 1)");
  }
  if (options.ctas < 1) throw ConfigError("direct emulator: ctas must be >= 1");
  fused::FusedPlan plan;
  if (options.scheme == Scheme::kFused) {
    fused::PlanRequest req;
    req.transport = fused::Transport::kDirect;
    req.shape = shape;
    req.sm_count = options.ctas;
    req.ctas_per_sm = 1;
    req.warps_per_cta = 1;
    req.block_entries = layout.block_entries;
    fused::PlanOutcome planned = fused::make_fused_plan(req);
    if (!planned.plan) throw ConfigError(planned.problem);
    plan = *planned.plan;
  }

  const int cp = shape.cp_size;
  const auto o_in = static_cast<std::size_t>(shape.rows() * shape.head_dim);
  const auto s_in = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
  std::vector<RankData> data(static_cast<std::size_t>(cp));
  for (RankData& d : data) {
    d.in_o.resize(o_in);
    d.in_stats.resize(s_in);
    if (options.reduce) {
      d.out_o.resize(static_cast<std::size_t>(shape.entries * shape.head_dim));
      d.lse_out.resize(static_cast<std::size_t>(shape.entries));
    } else {
      d.out_o.resize(o_in);
      d.out_stats.resize(s_in);
    }
  }
  const merge::MergeShape merge_shape{cp, shape.entries, shape.head_dim, shape.fp16,
                                      options.lse_base};
  std::vector<EmulationResult> per_rank(static_cast<std::size_t>(cp));

  run_threads(cp, [&](int r) {
    RankData& d = data[static_cast<std::size_t>(r)];
    EmulationResult& res = per_rank[static_cast<std::size_t>(r)];
    for (std::uint32_t i = 0; i < calls; ++i) {
      const std::uint32_t call = first_call + i;
      const bool skip = std::find(options.skip.begin(), options.skip.end(),
                                  std::pair<int, std::uint32_t>{r, call}) != options.skip.end();
      if (skip) continue;
      if (impl_->failed(r)) break;  // a failed rank touches nothing until reset()
      // Fresh inputs, poisoned outputs.
      if (options.reduce) {
        std::vector<float> lse(s_in);
        merge::fill_reduce_inputs_host(merge_shape, seed, call, r, d.in_o.data(), lse.data());
        std::transform(lse.begin(), lse.end(), d.in_stats.begin(), float_bits);
        std::fill(d.out_o.begin(), d.out_o.end(), pattern::kPoisonO);
        std::fill(d.lse_out.begin(), d.lse_out.end(), bits_float(pattern::kPoisonStats));
      } else {
        fill_inputs_host(shape, seed, call, r, d.in_o.data(), d.in_stats.data());
        poison_outputs_host(shape, d.out_o.data(), d.out_stats.data());
      }
      if (options.hook) options.hook(r, -1, call, HookPoint::kCallStart, nullptr);

      const CallContext ctx{*impl_, layout, shape, options, r, call, d};
      bool ok = true;
      if (shape.entries > 0) {  // E = 0: nothing launched, no epoch advanced
        auto& epoch_word = impl_->word(r, kEpochWord * 8);
        if (options.scheme == Scheme::kFused) {
          const std::uint64_t epoch = epoch_word.load(std::memory_order_relaxed);
          RankCall rc = fused_call(layout, plan, r, epoch);
          if (options.mutate) options.mutate(r, call, 0, rc[0]);
          ok = run_launch(ctx, rc[0], epoch, true);
        } else {
          for (int s = 0; s < kStagedSteps && ok; ++s) {
            const auto step = static_cast<StagedStep>(s);
            const std::uint64_t epoch =
                staged_call_epoch(step, epoch_word.load(std::memory_order_relaxed));
            const int ctas = staged_ctas(step, layout, options.ctas);
            std::vector<Program> programs;
            for (int c = 0; c < ctas; ++c)
              programs.push_back(staged_cta_program(layout, step, r, c, ctas, epoch));
            if (options.mutate) options.mutate(r, call, s, programs);
            ok = run_launch(ctx, programs, epoch, false);
          }
        }
      }
      if (!ok) {
        ++res.failed;
        continue;  // the next iteration sees the error record and stops
      }
      ++res.completed;
      if (options.reduce) {
        res.accuracy.merge(
            merge::check_merge_host(merge_shape, seed, call, r, d.out_o.data(), d.lse_out.data()));
      } else {
        res.verify.merge(
            verify_outputs_host(shape, seed, call, r, d.out_o.data(), d.out_stats.data()));
      }
    }
  });

  EmulationResult out;
  for (const EmulationResult& r : per_rank) {
    out.verify.merge(r.verify);
    out.accuracy.merge(r.accuracy);
    out.completed += r.completed;
    out.failed += r.failed;
  }
  out.errors = errors();
  return out;
}

void Emulator::reset() {
  impl_->zero();
}

std::vector<ErrorInfo> Emulator::errors() const {
  std::vector<ErrorInfo> out;
  for (int r = 0; r < geometry_.cp_size; ++r) {
    std::uint64_t rec[kErrorWords];
    for (int i = 0; i < kErrorWords; ++i)
      rec[i] = impl_->word(r, std::int64_t{i} * 8).load();
    const ErrorInfo e = decode_error(rec);
    if (e.valid) out.push_back(e);
  }
  return out;
}

std::uint64_t Emulator::epoch(int rank) const {
  return impl_->word(rank, kEpochWord * 8).load();
}

std::uint64_t Emulator::flag(int rank, std::uint32_t parity, std::int64_t block, int source) const {
  return impl_->word(rank, geometry_.flag_offset(parity, block, source)).load();
}

}  // namespace dcp::kernels::direct
