#include "kernels/fused_reduce_model.hpp"

#include <cstddef>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "kernels/fused_reduce_layout.hpp"
#include "kernels/ll128_reference.hpp"

namespace dcp::kernels::fused {

namespace {

/// The payload of a stream computed straight from its definition (not through gather_lane).
std::vector<std::uint64_t> stream_payload(const StreamShape& st, std::uint32_t first, int cp,
                                          int dst, std::uint32_t o_row_words,
                                          const std::vector<std::uint16_t>& partial_o,
                                          const std::vector<float>& lse) {
  std::vector<std::uint64_t> out(st.words, 0);
  for (std::uint32_t w = 0; w < st.o_words; ++w) {
    const std::size_t e = first + w / o_row_words;
    const std::size_t idx =
        (e * static_cast<std::size_t>(cp) + static_cast<std::size_t>(dst)) * o_row_words +
        w % o_row_words;
    std::memcpy(&out[w], partial_o.data() + idx * 4, 8);
  }
  for (std::uint32_t i = 0; i < st.entries; ++i) {
    std::uint32_t bits = 0;
    std::memcpy(
        &bits, &lse[(first + i) * static_cast<std::size_t>(cp) + static_cast<std::size_t>(dst)], 4);
    out[st.o_words + i / 2] |= std::uint64_t{bits} << (32 * (i % 2));
  }
  return out;
}

}  // namespace

merge::MergeOutputs model_fused_reduce(const FusedPlan& plan, const merge::MergeShape& shape,
                                       const ll128::Geometry& g, std::uint64_t seed,
                                       std::uint32_t call, int dst, std::uint64_t base_seq) {
  const int cp = shape.cp;
  DCP_CHECK(plan.cp_size == cp && plan.entries == static_cast<std::uint32_t>(shape.entries),
            "fused model: plan and shape disagree");
  DCP_CHECK(g.slot_lines % static_cast<int>(kLinesPerItem) == 0,
            "fused model: slot_lines must be a multiple of 4");
  const auto d = static_cast<std::uint32_t>(shape.head_dim);
  const std::size_t e_total = static_cast<std::size_t>(shape.entries);
  std::vector<std::vector<std::uint16_t>> in_o(static_cast<std::size_t>(cp));
  std::vector<std::vector<float>> in_lse(static_cast<std::size_t>(cp));
  for (int s = 0; s < cp; ++s) {
    auto& o = in_o[static_cast<std::size_t>(s)];
    auto& l = in_lse[static_cast<std::size_t>(s)];
    o.resize(e_total * static_cast<std::size_t>(cp) * d);
    l.resize(e_total * static_cast<std::size_t>(cp));
    merge::fill_reduce_inputs_host(shape, seed, call, s, o.data(), l.data());
  }
  merge::MergeOutputs result;
  result.out.assign(e_total * d, 0xFFFF);  // poisoned: every element must be written
  result.lse_out.assign(e_total, 0.0f);
  std::vector<bool> written(e_total, false);

  std::map<std::int64_t, ll128::Line> fifo;  // this rank's segment: byte offset -> line
  for (int c = 0; c < plan.ctas; ++c) {
    StreamCtx x;
    x.st = ll128_stream(plan, c);
    x.first = cta_entries(plan, c).first;
    x.o_row_words = plan.o_row_words;
    x.o_div = ll128::FastDivU32::make(plan.o_row_words);
    x.cp = cp;
    const std::uint32_t n = x.st.entries;
    const StageLayout sl = stage_layout(cp, n, plan.o_row_words);
    // The CTA's shared memory: bytes (objects of any type live in it, as on the GPU), filled
    // with a pattern so that a value staged nowhere shows.
    std::vector<std::byte> shared(sl.bytes, std::byte{0xDE});
    auto* smem = reinterpret_cast<std::uint64_t*>(shared.data());
    auto* stage_rows = reinterpret_cast<std::uint16_t*>(shared.data());
    auto* stage_lse = reinterpret_cast<float*>(shared.data() + sl.lse);
    auto* scale = reinterpret_cast<float*>(shared.data() + sl.scale);
    auto* live = reinterpret_cast<std::uint64_t*>(shared.data() + sl.live);

    for (int src = 0; src < cp; ++src) {
      const auto& o = in_o[static_cast<std::size_t>(src)];
      const auto& l = in_lse[static_cast<std::size_t>(src)];
      const std::vector<std::uint64_t> payload =
          stream_payload(x.st, x.first, cp, dst, plan.o_row_words, o, l);
      const std::int64_t fifo_begin = g.fifo_offset(src, c);
      const std::int64_t fifo_end = fifo_begin + g.fifo_bytes();
      for (std::uint32_t line = 0; line < x.st.lines; ++line) {
        const std::uint64_t seq = base_seq + line / static_cast<std::uint32_t>(g.slot_lines);
        // The sender: lane by lane, as the kernel.
        ll128::Line wire{};
        for (int part = 0; part < ll128::kLanesPerLine; ++part) {
          const ll128::LaneMove m = ll128::lane_move(x.st.o_words, line, part);
          std::uint64_t lo = 0;
          std::uint64_t hi = 0;
          gather_lane(
              x, dst, m,
              [&](std::uint32_t idx, std::uint64_t& a, std::uint64_t& b) {
                DCP_CHECK(idx % 2 == 0, "fused model: a pair load is not 16-byte aligned");
                std::memcpy(&a, o.data() + std::size_t{idx} * 4, 8);
                std::memcpy(&b, o.data() + std::size_t{idx + 1} * 4, 8);
              },
              [&](std::uint32_t idx) {
                std::uint64_t v = 0;
                std::memcpy(&v, o.data() + std::size_t{idx} * 4, 8);
                return v;
              },
              [&](std::uint32_t idx) {
                std::uint32_t v = 0;
                std::memcpy(&v, &l[idx], 4);
                return v;
              },
              lo, hi);
          if (part == ll128::kLanesPerLine - 1) hi = ll128::flag_for(seq);
          wire[static_cast<std::size_t>(2 * part)] = lo;
          wire[static_cast<std::size_t>(2 * part + 1)] = hi;
        }
        const ll128::Line want = ll128::pack_line(payload, line, ll128::flag_for(seq));
        if (wire != want) {
          throw Error(
              fmt::format("fused model: CTA {} source {} line {} differs from the "
                          "reference packer's",
                          c, src, line));
        }
        const std::int64_t off = stream_line_offset(g, src, c, base_seq, line);
        if (off < fifo_begin || off + ll128::kLineBytes > fifo_end || (off - fifo_begin) % 128) {
          throw Error(fmt::format("fused model: CTA {} source {} line {} lands outside its FIFO", c,
                                  src, line));
        }
        if (!fifo.emplace(off, wire).second) {
          throw Error(fmt::format("fused model: CTA {} source {} line {} reuses a FIFO line", c,
                                  src, line));
        }
      }
      // The receiver: flag check, then lane by lane into the staging areas.
      for (std::uint32_t line = 0; line < x.st.lines; ++line) {
        const std::uint64_t seq = base_seq + line / static_cast<std::uint32_t>(g.slot_lines);
        const ll128::Line& got = fifo.at(stream_line_offset(g, src, c, base_seq, line));
        if (got[15] != ll128::flag_for(seq)) {
          throw Error(
              fmt::format("fused model: CTA {} source {} line {}: wrong flag", c, src, line));
        }
        for (int part = 0; part < ll128::kLanesPerLine; ++part) {
          const ll128::LaneMove m = ll128::lane_move(x.st.o_words, line, part);
          stage_lane(
              x, src, m, got[static_cast<std::size_t>(2 * part)],
              got[static_cast<std::size_t>(2 * part + 1)],
              [&](std::uint32_t idx, std::uint64_t a, std::uint64_t b) {
                DCP_CHECK(idx % 2 == 0, "fused model: a pair store is not 16-byte aligned");
                smem[idx] = a;
                smem[idx + 1] = b;
              },
              [&](std::uint32_t idx, std::uint64_t v) { smem[idx] = v; },
              [&](std::uint32_t idx, std::uint32_t v) { std::memcpy(&stage_lse[idx], &v, 4); });
        }
      }
    }
    // The merge of the CTA's entries, as the kernel's two phases.
    for (std::uint32_t i = 0; i < n; ++i) {
      result.lse_out[x.first + i] = staged_weights(stage_lse, n, cp, shape.base, i, scale, live);
      written[x.first + i] = true;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      for (std::uint32_t chunk = 0; chunk < d / kMergeVector; ++chunk) {
        staged_chunk(
            scale, live, n, cp, d, shape.fp16, i, chunk,
            [&](std::uint32_t el, std::uint16_t* bits) {
              std::memcpy(bits, stage_rows + el, 2 * kMergeVector);
            },
            result.out.data() + (std::size_t{x.first} + i) * d + std::size_t{chunk} * kMergeVector);
      }
    }
  }
  for (std::size_t e = 0; e < e_total; ++e)
    DCP_CHECK(written[e], "fused model: an entry was owned by no CTA");
  return result;
}

}  // namespace dcp::kernels::fused
