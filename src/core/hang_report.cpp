#include "core/hang_report.hpp"

#include <fmt/format.h>

namespace dcp {

namespace {

/// One channel's counters with what they mean.
std::string state_text(const HangChannel& c) {
  std::string send = fmt::format("send head {} credit {}", c.head, c.credit);
  if (c.head > c.credit) {
    send += fmt::format(" ({} slot{} not consumed by peer {})", c.head - c.credit,
                        c.head - c.credit == 1 ? "" : "s", c.peer);
  }
  std::string recv;
  if (!c.consumed_known) {
    recv = fmt::format("recv tail {}, arrived {} (peer {}'s segment unreadable)", c.tail, c.arrived,
                       c.peer);
  } else if (c.arrived > c.consumed) {
    recv = fmt::format("recv awaits {} (tail {}), arrived {} ({} slot{} arrived, not consumed)",
                       c.consumed, c.tail, c.arrived, c.arrived - c.consumed,
                       c.arrived - c.consumed == 1 ? "" : "s");
  } else {
    recv = fmt::format("recv awaits {} (tail {}), arrived {} (nothing new from peer {})",
                       c.consumed, c.tail, c.arrived, c.peer);
  }
  return send + "; " + recv;
}

}  // namespace

std::string to_text(const HangReport& r, std::size_t max_rows) {
  const std::size_t total = r.channels.size() + r.idle_channels;
  std::string out = fmt::format(
      "FIFO state after the timeout ({} rank{} of cp {}, {} channels per pair): {} of {} "
      "channels not idle",
      r.ranks, r.ranks == 1 ? "" : "s", r.peers, r.channels_per_pair, r.channels.size(), total);
  for (const std::string& e : r.errors)
    out += "\n  error record: " + e;
  std::size_t rows = 0;
  std::vector<const HangChannel*> differing;
  // Channels are grouped by (rank, peer) in the order given.
  for (std::size_t i = 0; i < r.channels.size();) {
    const HangChannel& first = r.channels[i];
    std::size_t j = i;
    std::size_t alike = 0;
    for (; j < r.channels.size() && r.channels[j].rank == first.rank &&
           r.channels[j].peer == first.peer;
         ++j) {
      if (r.channels[j].same_state(first)) {
        ++alike;
      } else {
        differing.push_back(&r.channels[j]);
      }
    }
    if (rows < max_rows) {
      out +=
          fmt::format("\n  rank {} / peer {}: {} channel{} not idle; ch {}: {}", first.rank,
                      first.peer, j - i, j - i == 1 ? "" : "s", first.channel, state_text(first));
      if (alike > 1) out += fmt::format(" [{} channels alike]", alike);
    }
    ++rows;
    i = j;
  }
  for (const HangChannel* c : differing) {
    if (rows < max_rows) {
      out += fmt::format("\n  rank {} / peer {} ch {}: {}", c->rank, c->peer, c->channel,
                         state_text(*c));
    }
    ++rows;
  }
  if (rows > max_rows) out += fmt::format("\n  ({} more lines not shown)", rows - max_rows);
  return out;
}

}  // namespace dcp
