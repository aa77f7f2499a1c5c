#include "kernels/direct_protocol.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::kernels::direct {

const char* op_name(Op op) {
  switch (op) {
    case Op::kWriteRows:
      return "write";
    case Op::kReleaseFlag:
      return "release";
    case Op::kAwaitFlag:
      return "await";
    case Op::kDeliver:
      return "deliver";
    case Op::kAdvanceEpoch:
      return "advance";
    case Op::kArrive:
      return "arrive";
  }
  return "?";
}

namespace {

Action write_rows(int dst, std::uint32_t parity, std::uint32_t block) {
  return Action{Op::kWriteRows, dst, parity, block, 0, 0, 0};
}
Action flag_action(Op op, int peer, std::uint32_t parity, std::uint32_t slot, fused::Range cover,
                   std::uint64_t value) {
  return Action{op, peer, parity, slot, cover.first, cover.count, value};
}
Action deliver(std::uint32_t parity, std::uint32_t block) {
  return Action{Op::kDeliver, 0, parity, block, 0, 0, 0};
}

}  // namespace

Program fused_cta_program(const Layout& layout, const fused::FusedPlan& plan, int rank, int cta,
                          std::uint64_t epoch) {
  DCP_CHECK(plan.transport == fused::Transport::kDirect && plan.entries == layout.entries &&
                plan.unit_entries == layout.block_entries && plan.units == layout.blocks,
            "fused_cta_program: the plan is not a direct plan of this layout");
  const int cp = layout.cp_size;
  const std::uint32_t parity = parity_of(epoch);
  const std::uint64_t value = flag_for(epoch);
  const fused::Range blocks = fused::cta_blocks(plan, cta);
  Program p;
  for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
    for (int k = 0; k < cp; ++k)
      p.push_back(write_rows(fused::send_peer(rank, k, cp), parity, b));
    // GPU: __syncthreads(), then thread k releases the flag to send_peer(rank, k).
    for (int k = 0; k < cp; ++k) {
      p.push_back(flag_action(Op::kReleaseFlag, fused::send_peer(rank, k, cp), parity, b,
                              fused::Range{b, 1}, value));
    }
  }
  for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
    for (int k = 0; k < cp; ++k) {
      p.push_back(flag_action(Op::kAwaitFlag, fused::recv_peer(rank, k, cp), parity, b,
                              fused::Range{b, 1}, value));
    }
    p.push_back(deliver(parity, b));  // GPU: __syncthreads() first
  }
  p.push_back(Action{Op::kArrive, 0, 0, 0, 0, 0, 0});
  return p;
}

int staged_ctas(StagedStep step, const Layout& layout, int max_ctas) {
  if (step == StagedStep::kAdvance || step == StagedStep::kSignal) return 1;
  const std::int64_t c = std::min<std::int64_t>(layout.blocks, std::max(max_ctas, 1));
  return static_cast<int>(std::max<std::int64_t>(c, 1));
}

fused::Range staged_cta_blocks(const Layout& layout, int cta, int ctas) {
  const auto c = static_cast<std::uint32_t>(cta);
  const auto n = static_cast<std::uint32_t>(ctas);
  const std::uint32_t q = layout.blocks / n;
  const std::uint32_t r = layout.blocks % n;
  return fused::Range{q * c + std::min(c, r), q + (c < r ? 1u : 0u)};
}

Program staged_cta_program(const Layout& layout, StagedStep step, int rank, int cta, int ctas,
                           std::uint64_t epoch) {
  const int cp = layout.cp_size;
  const std::uint32_t parity = parity_of(epoch);
  const std::uint64_t value = flag_for(epoch);
  const fused::Range all{0, layout.blocks};
  Program p;
  switch (step) {
    case StagedStep::kAdvance:
      p.push_back(Action{Op::kAdvanceEpoch, 0, 0, 0, 0, 0, epoch + 1});
      break;
    case StagedStep::kWrite: {
      const fused::Range blocks = staged_cta_blocks(layout, cta, ctas);
      for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
        for (int k = 0; k < cp; ++k)
          p.push_back(write_rows(fused::send_peer(rank, k, cp), parity, b));
      }
      break;
    }
    case StagedStep::kSignal:
      for (int k = 0; k < cp; ++k) {
        p.push_back(flag_action(Op::kReleaseFlag, fused::send_peer(rank, k, cp), parity,
                                kPairFlagBlock, all, value));
      }
      break;
    case StagedStep::kWaitDeliver: {
      for (int k = 0; k < cp; ++k) {
        p.push_back(flag_action(Op::kAwaitFlag, fused::recv_peer(rank, k, cp), parity,
                                kPairFlagBlock, all, value));
      }
      const fused::Range blocks = staged_cta_blocks(layout, cta, ctas);
      for (std::uint32_t b = blocks.first; b < blocks.end(); ++b)
        p.push_back(deliver(parity, b));
      break;
    }
  }
  return p;
}

RankCall fused_call(const Layout& layout, const fused::FusedPlan& plan, int rank,
                    std::uint64_t epoch) {
  RankCall call;
  if (layout.entries == 0) return call;  // E = 0: nothing launched
  call.emplace_back();
  for (int c = 0; c < plan.ctas; ++c)
    call[0].push_back(fused_cta_program(layout, plan, rank, c, epoch));
  return call;
}

RankCall staged_call(const Layout& layout, int max_ctas, int rank, std::uint64_t epoch) {
  RankCall call;
  if (layout.entries == 0) return call;
  for (int s = 0; s < kStagedSteps; ++s) {
    const auto step = static_cast<StagedStep>(s);
    const int ctas = staged_ctas(step, layout, max_ctas);
    call.emplace_back();
    for (int c = 0; c < ctas; ++c)
      call.back().push_back(staged_cta_program(layout, step, rank, c, ctas, epoch));
  }
  return call;
}

// ---- the checker --------------------------------------------------------------------------------

namespace {

/// Where an action sits: launch, CTA, index in the CTA's program.
struct Pos {
  std::size_t launch = 0;
  std::size_t cta = 0;
  std::size_t index = 0;
};

/// a is ordered before b on the same rank: an earlier launch (kernel boundary), or earlier in
/// the same CTA's program. Two CTAs of one launch are not ordered.
bool before(const Pos& a, const Pos& b) {
  return a.launch < b.launch || (a.launch == b.launch && a.cta == b.cta && a.index < b.index);
}

std::string where(int rank, const Pos& p, const Action& a) {
  return fmt::format("rank {} launch {} CTA {} action {} ({} peer {} parity {} block {})", rank,
                     p.launch, p.cta, p.index, op_name(a.op), a.peer, a.parity, a.block);
}

}  // namespace

std::optional<std::string> protocol_problem(const Layout& layout,
                                            const std::vector<RankCall>& calls,
                                            std::uint64_t epoch) {
  const int cp = layout.cp_size;
  if (static_cast<int>(calls.size()) != cp) return "protocol: one call per rank expected";
  const std::uint32_t parity = parity_of(epoch);
  const std::uint64_t value = flag_for(epoch);

  using WriteKey = std::tuple<int, int, std::uint32_t>;                // src, dst, block
  using FlagKey = std::tuple<int, std::uint32_t, std::uint32_t, int>;  // dst, parity, slot, src
  std::map<WriteKey, std::vector<Pos>> writes;
  std::map<FlagKey, std::vector<std::pair<Pos, Action>>> releases;
  std::map<std::pair<int, std::uint32_t>, int> delivered;  // (rank, block) -> count

  for (int r = 0; r < cp; ++r) {
    const RankCall& call = calls[static_cast<std::size_t>(r)];
    if (layout.entries == 0) {
      if (!call.empty()) return fmt::format("protocol: rank {} launches for E = 0", r);
      continue;
    }
    for (std::size_t l = 0; l < call.size(); ++l) {
      for (std::size_t c = 0; c < call[l].size(); ++c) {
        const Program& prog = call[l][c];
        for (std::size_t i = 0; i < prog.size(); ++i) {
          const Action& a = prog[i];
          const Pos pos{l, c, i};
          const bool uses_region = a.op == Op::kWriteRows || a.op == Op::kDeliver ||
                                   a.op == Op::kReleaseFlag || a.op == Op::kAwaitFlag;
          if (uses_region && a.parity != parity) {
            return fmt::format("protocol: {} uses parity {}, the call's epoch {} has parity {}",
                               where(r, pos, a), a.parity, epoch, parity);
          }
          if ((a.op == Op::kReleaseFlag || a.op == Op::kAwaitFlag) && a.value != value) {
            return fmt::format("protocol: {} carries flag {}, the call's flag is {}",
                               where(r, pos, a), a.value, value);
          }
          if (a.op == Op::kWriteRows) writes[{r, a.peer, a.block}].push_back(pos);
          if (a.op == Op::kReleaseFlag)
            releases[{a.peer, a.parity, a.block, r}].push_back({pos, a});
        }
      }
    }
  }
  if (layout.entries == 0) return std::nullopt;

  // Rows: every (source, destination, block) written exactly once.
  for (int s = 0; s < cp; ++s) {
    for (int d = 0; d < cp; ++d) {
      for (std::uint32_t b = 0; b < layout.blocks; ++b) {
        const auto it = writes.find({s, d, b});
        const std::size_t n = it == writes.end() ? 0 : it->second.size();
        if (n != 1) {
          return fmt::format(
              "protocol: rank {} writes block {} to rank {} {} times (once expected)", s, b, d, n);
        }
      }
    }
  }
  if (writes.size() != std::size_t{layout.blocks} * cp * cp) {
    return "protocol: a write names a block or rank outside the call";
  }
  // Flags: released at most once; released only after the rows they cover were written.
  for (const auto& [key, list] : releases) {
    const int src = std::get<3>(key);
    if (list.size() != 1) {
      return fmt::format("protocol: rank {} releases flag slot {} of rank {} {} times", src,
                         std::get<2>(key), std::get<0>(key), list.size());
    }
    const auto& [pos, a] = list.front();
    for (std::uint32_t b = a.cover_first; b < a.cover_first + a.cover_count; ++b) {
      const auto it = writes.find({src, a.peer, b});
      if (it == writes.end() || !before(it->second.front(), pos)) {
        return fmt::format(
            "protocol: {} covers block {}, whose rows are not written before it (same CTA "
            "earlier, or an earlier launch)",
            where(src, pos, a), b);
      }
    }
  }
  // Awaits match a release; deliveries follow the awaits of every source in the same CTA.
  for (int r = 0; r < cp; ++r) {
    const RankCall& call = calls[static_cast<std::size_t>(r)];
    int advances = 0;
    for (std::size_t l = 0; l < call.size(); ++l) {
      for (std::size_t c = 0; c < call[l].size(); ++c) {
        const Program& prog = call[l][c];
        std::vector<std::vector<bool>> covered(static_cast<std::size_t>(cp),
                                               std::vector<bool>(layout.blocks, false));
        for (std::size_t i = 0; i < prog.size(); ++i) {
          const Action& a = prog[i];
          const Pos pos{l, c, i};
          if (a.op == Op::kAwaitFlag) {
            const auto it = releases.find({r, a.parity, a.block, a.peer});
            if (it == releases.end()) {
              return fmt::format("protocol: {} awaits a flag nobody releases", where(r, pos, a));
            }
            const Action& rel = it->second.front().second;
            if (rel.cover_first != a.cover_first || rel.cover_count != a.cover_count) {
              return fmt::format("protocol: {} expects other blocks than the release covers",
                                 where(r, pos, a));
            }
            for (std::uint32_t b = a.cover_first; b < a.cover_first + a.cover_count; ++b)
              covered[static_cast<std::size_t>(a.peer)][b] = true;
          } else if (a.op == Op::kDeliver) {
            for (int s = 0; s < cp; ++s) {
              if (a.block >= layout.blocks || !covered[static_cast<std::size_t>(s)][a.block]) {
                return fmt::format(
                    "protocol: {} before awaiting the flag of source {} that covers it",
                    where(r, pos, a), s);
              }
            }
            ++delivered[{r, a.block}];
          } else if (a.op == Op::kAdvanceEpoch) {
            if (l != 0 || call[0].size() != 1 || prog.size() != 1) {
              return fmt::format("protocol: {} is not alone in the first launch", where(r, pos, a));
            }
            ++advances;
          } else if (a.op == Op::kArrive && (call.size() != 1 || i + 1 != prog.size())) {
            return fmt::format("protocol: {} is not the last action of a single launch",
                               where(r, pos, a));
          }
        }
        if (call.size() == 1 && (prog.empty() || prog.back().op != Op::kArrive)) {
          return fmt::format("protocol: rank {} CTA {} of the single launch never arrives", r, c);
        }
      }
    }
    if (call.size() != 1 && advances != 1) {
      return fmt::format("protocol: rank {} advances its epoch {} times in a staged call", r,
                         advances);
    }
    for (std::uint32_t b = 0; b < layout.blocks; ++b) {
      const auto it = delivered.find({r, b});
      const int n = it == delivered.end() ? 0 : it->second;
      if (n != 1) {
        return fmt::format("protocol: rank {} delivers block {} {} times (once expected)", r, b, n);
      }
    }
  }
  return std::nullopt;
}

}  // namespace dcp::kernels::direct
