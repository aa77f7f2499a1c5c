#include "kernels/hang_dump.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "kernels/ll128_reference.hpp"

namespace dcp::kernels::ll128 {

HangReport decode_hang(const Geometry& g, std::span<const RankWords> ranks, double timeout_s) {
  HangReport out;
  out.ranks = static_cast<int>(ranks.size());
  out.peers = g.cp_size;
  out.channels_per_pair = g.max_channels;
  const auto header_words = static_cast<std::size_t>(g.fifos_offset() / kWordBytes);
  const auto flags = static_cast<std::size_t>(slot_flag_count(g));
  const auto credits =
      static_cast<std::size_t>(g.cp_size) * static_cast<std::size_t>(g.max_channels);
  std::vector<ErrorInfo> errors;
  for (const RankWords& w : ranks) {
    DCP_CHECK(w.rank >= 0 && w.rank < g.cp_size, "decode_hang: rank out of range");
    DCP_CHECK(w.header.size() == header_words,
              "decode_hang: header words do not match the geometry");
    DCP_CHECK(w.slot_flags.size() == flags, "decode_hang: slot flags do not match the geometry");
    DCP_CHECK(w.peer_credit.empty() || w.peer_credit.size() == credits,
              "decode_hang: peer credits do not match the geometry");
    const ErrorInfo e = decode_error(w.header.data());
    if (e.valid) errors.push_back(e);
    for (int peer = 0; peer < g.cp_size; ++peer) {
      for (int ch = 0; ch < g.max_channels; ++ch) {
        const auto rec = static_cast<std::size_t>(g.counter_offset(peer, ch) / kWordBytes);
        HangChannel c;
        c.rank = w.rank;
        c.peer = peer;
        c.channel = ch;
        c.head = w.header[rec + kHeadWord];
        c.tail = w.header[rec + kTailWord];
        c.credit = w.header[rec + kCreditWord];
        // A slot's line 0 carries flag seq + 1 (0 = never written): the largest is `arrived`.
        for (int slot = 0; slot < g.depth; ++slot) {
          c.arrived =
              std::max(c.arrived,
                       w.slot_flags[static_cast<std::size_t>(slot_flag_index(g, peer, ch, slot))]);
        }
        c.consumed_known = !w.peer_credit.empty();
        if (c.consumed_known) {
          c.consumed = w.peer_credit[static_cast<std::size_t>(peer) *
                                         static_cast<std::size_t>(g.max_channels) +
                                     static_cast<std::size_t>(ch)];
        }
        if (c.idle()) {
          ++out.idle_channels;
        } else {
          out.channels.push_back(c);
        }
      }
    }
  }
  // Root causes (a wait that expired) before the warps that stopped because of them.
  std::stable_sort(errors.begin(), errors.end(), [](const ErrorInfo& a, const ErrorInfo& b) {
    return (a.role == ErrorRole::kAbort) < (b.role == ErrorRole::kAbort);
  });
  for (const ErrorInfo& e : errors)
    out.errors.push_back(describe_error(e, timeout_s));
  return out;
}

}  // namespace dcp::kernels::ll128
