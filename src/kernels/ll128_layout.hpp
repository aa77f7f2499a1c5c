#pragma once
/// @file
/// LL128 geometry of the native exchange and the index math that the GPU kernel, the host
/// reference packer and the CPU emulation of the FIFO protocol all share.
///
/// Wire format: ll128_line.hpp (the flag in the last word of every line, which lane moves which
/// words). Everything here is about where lines go: streams, channels, slots, segments.
///
/// Stream. For one (sender s -> receiver r) the payload of one call is a stream of 8-byte words:
/// first the partial_o rows (e, r) of s's input for e = 0..E-1 (D*2/8 words each), then the stats
/// rows (e, r) (S*4/8 words each for even S; for S = 1, the reduce's LSE, the E values are packed
/// two per word: word v holds the LSE of entry 2v in its lower and of entry 2v+1 in its upper 4
/// bytes, 0 past E). Line L of the stream carries payload words [15L, 15L+15); words past the end
/// of the stream are zero. Channel c carries a contiguous range of the
/// stream's lines (channel_first_line), so no row needs to fit in one line, slot or channel.
///
/// FIFO. A channel's lines are cut into slots of `slot_lines` lines. Per (pair, channel) a FIFO of
/// `depth` slots lives in the RECEIVER's segment. Stream slot k of the pair's lifetime (a 64-bit
/// sequence number) lands in physical slot k mod depth, and every line of it carries flag k + 1.
/// Workspace memory starts zeroed, so flag 0 never matches; a stale line of an earlier use of the
/// same physical slot carries k + 1 - m*depth, which never matches either.
///
/// Segment layout of rank x (byte offsets; see Geometry):
///   [0, kHeaderBytes)            error record of rank x (ErrorWord::*), written only by rank x
///   counters                     one kCounterRecordBytes record per (peer, channel):
///                                  word kHeadWord:   x's sender head for x -> peer (local)
///                                  word kTailWord:   x's receiver tail for peer -> x (local)
///                                  word kCreditWord: copy of peer's tail for x -> peer, written
///                                                    remotely by peer's receiver (release)
///   FIFOs (4 KiB aligned)        one FIFO per (sender s, channel c): data s sends to x
///
/// C++20 and host-compilable (included by .cu files); no CUDA headers.

#include <cstdint>

#include "core/host_device.hpp"
#include "core/shape.hpp"
#include "kernels/ll128_line.hpp"

namespace dcp::kernels::ll128 {

// ---- workspace geometry -------------------------------------------------------------------------

inline constexpr int kMaxCp = 64;             ///< largest cp the kernel parameters can address
inline constexpr int kMaxChannels = 128;      ///< largest C_max a geometry may have
inline constexpr int kChannelBudget = 512;    ///< C_max(cp) = clamp(kChannelBudget / cp, 1, cap)
inline constexpr int kChannelCap = 128;       ///< the cap of the default C_max(cp)
inline constexpr int kDefaultDepth = 4;       ///< slots per FIFO
inline constexpr int kDefaultSlotLines = 32;  ///< lines per slot (4 KiB)
/// The channel split aims at this many lines per warp and call (one warp store instruction):
/// latency falls with the number of warps moving a stream in parallel, because a warp's lines
/// cost instruction time and arrive at different times (docs/perf/native-speed.md).
inline constexpr int kTargetLinesPerWarp = 4;
inline constexpr std::int64_t kHeaderBytes = 256;
inline constexpr std::int64_t kCounterRecordBytes = 128;
inline constexpr std::int64_t kFifoAlignBytes = 4096;

/// Words of a counter record (see the file comment).
inline constexpr int kHeadWord = 0;
inline constexpr int kTailWord = 1;
inline constexpr int kCreditWord = 8;  ///< second 64-byte half: written remotely
static_assert(kCreditWord * kWordBytes < kCounterRecordBytes);

/// Words of the error record at the start of every segment.
enum ErrorWord : int {
  kErrorInfo = 0,      ///< 0 = no error; else encode_error_info(); claimed by atomicCAS
  kErrorSequence = 1,  ///< awaited sequence number (slot of the pair's lifetime)
  kErrorLine = 2,      ///< awaited line of the call's stream (receiver) or 0 (sender)
  kErrorObserved = 3,  ///< what was seen instead: flag (receiver) or credit (sender)
  kErrorWords = 4,
};

/// Row-order signature in every segment's header, after the error record: {magic ^ nonce, rank}
/// written by the segment's owner at every setup and read back by every rank through its peer
/// table, so a table whose row r is not rank r's segment is caught before any exchange.
inline constexpr std::int64_t kSignatureOffset = 128;
inline constexpr std::uint64_t kSignatureMagic = 0xDC9A2A5167A70000ull;
static_assert(kErrorWords * kWordBytes <= kSignatureOffset);
static_assert(kSignatureOffset + 2 * kWordBytes <= kHeaderBytes);

/// Who gave up waiting.
enum class ErrorRole : std::uint32_t {
  kSend = 0,   ///< a sender waited for FIFO credit from the receiving peer
  kRecv = 1,   ///< a receiver waited for a line from the sending peer
  kAbort = 2,  ///< a warp stopped because its own rank or the awaited peer had failed already
};

/// Rounds `v` up to a multiple of `a` (a > 0).
DCP_HOST_DEVICE constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) {
  return (v + a - 1) / a * a;
}

/// C_max(cp): FIFOs per (sender, receiver) pair in the layout, and the most channels a call may
/// use. Depends only on cp, so every rank and every shape of a cp agree on the layout.
DCP_HOST_DEVICE constexpr int max_channels_for(int cp) {
  const int c = kChannelBudget / (cp > 0 ? cp : 1);
  return c < 1 ? 1 : (c > kChannelCap ? kChannelCap : c);
}

/// Layout of one rank's segment. Values must be identical on every rank of an exchange.
struct Geometry {
  int cp_size = 1;                     ///< ranks
  int max_channels = 1;                ///< C_max: FIFOs per (sender, receiver) pair
  int depth = kDefaultDepth;           ///< slots per FIFO
  int slot_lines = kDefaultSlotLines;  ///< lines per slot

  DCP_HOST_DEVICE constexpr std::int64_t slot_bytes() const {
    return std::int64_t{slot_lines} * kLineBytes;
  }
  DCP_HOST_DEVICE constexpr std::int64_t fifo_bytes() const { return slot_bytes() * depth; }
  /// Offset of the counter record for (peer, channel).
  DCP_HOST_DEVICE constexpr std::int64_t counter_offset(int peer, int channel) const {
    return kHeaderBytes + (std::int64_t{peer} * max_channels + channel) * kCounterRecordBytes;
  }
  /// Offset of the first FIFO.
  DCP_HOST_DEVICE constexpr std::int64_t fifos_offset() const {
    return align_up(kHeaderBytes + std::int64_t{cp_size} * max_channels * kCounterRecordBytes,
                    kFifoAlignBytes);
  }
  /// Offset (in the receiver's segment) of the FIFO holding what `sender` sends on `channel`.
  DCP_HOST_DEVICE constexpr std::int64_t fifo_offset(int sender, int channel) const {
    return fifos_offset() + (std::int64_t{sender} * max_channels + channel) * fifo_bytes();
  }
  /// Physical slot of sequence number `seq`: seq mod depth (depth is a power of two).
  DCP_HOST_DEVICE constexpr std::uint32_t physical_slot(std::uint64_t seq) const {
    return static_cast<std::uint32_t>(seq) & static_cast<std::uint32_t>(depth - 1);
  }
  /// Offset of line `line` of the physical slot that sequence number `seq` uses.
  DCP_HOST_DEVICE constexpr std::int64_t line_offset(int sender, int channel, std::uint64_t seq,
                                                     int line) const {
    return fifo_offset(sender, channel) + std::int64_t{physical_slot(seq)} * slot_bytes() +
           std::int64_t{line} * kLineBytes;
  }
  /// Bytes of one segment (a multiple of kFifoAlignBytes).
  DCP_HOST_DEVICE constexpr std::int64_t segment_bytes() const {
    return fifos_offset() + std::int64_t{cp_size} * max_channels * fifo_bytes();
  }
};

/// The geometry the native exchange uses for `cp` ranks: C_max(cp) = clamp(512 / cp, 1, 128)
/// channels, depth 4, 32-line (4 KiB) slots. The workspace size depends only on cp.
///
/// Why many small FIFOs rather than few big ones: at decode batch sizes the exchange is latency
/// bound, and latency falls with the number of warps moving a stream in parallel (measured on an
/// H200, sim, graph: cp=2, B=128, D=512 at 9 lines per warp on 128 channels 2.96 us against 3.31
/// us at 18 lines on 64 channels of 64-line slots, the same 4 MiB; docs/perf/native-speed.md).
DCP_HOST_DEVICE constexpr Geometry default_geometry(int cp) {
  return Geometry{cp, max_channels_for(cp), kDefaultDepth, kDefaultSlotLines};
}

/// Bytes per rank of the native exchange's workspace for `cp` ranks (default geometry):
/// 4,231,168 B at cp=2 and 8,458,240 B at cp=4, 8 and 16 (C_max = 128, 128, 64, 32).
DCP_HOST_DEVICE constexpr std::int64_t workspace_bytes(int cp) {
  return default_geometry(cp).segment_bytes();
}

/// Why `g` cannot be used (nullptr when it can).
constexpr const char* geometry_problem(const Geometry& g) {
  if (g.cp_size < 1 || g.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (g.max_channels < 1 || g.max_channels > kMaxChannels) {
    return "max_channels must be in [1, 128]";
  }
  if (g.depth < 1 || g.depth > 1024 || (g.depth & (g.depth - 1)) != 0) {
    return "depth must be a power of two in [1, 1024]";
  }
  if (g.slot_lines < 1 || g.slot_lines > (1 << 20)) return "slot_lines must be in [1, 2^20]";
  return nullptr;
}

static_assert(workspace_bytes(2) == 36864 + 2 * 128 * 4 * 32 * 128);  // 4.04 MiB
static_assert(workspace_bytes(8) == 69632 + 8 * 64 * 4 * 32 * 128);   // 8.07 MiB
static_assert(workspace_bytes(8) <= 16 * 1024 * 1024, "target: <= 16 MiB per rank at cp=8");
static_assert(workspace_bytes(16) <= 16 * 1024 * 1024);
static_assert(default_geometry(4).fifos_offset() % kFifoAlignBytes == 0);

// ---- error record -------------------------------------------------------------------------------

/// Packs who failed into the error record's info word (never 0: bit 63 is set).
DCP_HOST_DEVICE constexpr std::uint64_t encode_error_info(ErrorRole role, int rank, int peer,
                                                          int channel) {
  return (std::uint64_t{1} << 63) | (std::uint64_t{static_cast<std::uint32_t>(role)} << 48) |
         (std::uint64_t{static_cast<std::uint16_t>(rank)} << 32) |
         (std::uint64_t{static_cast<std::uint16_t>(peer)} << 16) |
         std::uint64_t{static_cast<std::uint16_t>(channel)};
}

/// The error record of one rank, decoded.
struct ErrorInfo {
  bool valid = false;
  ErrorRole role = ErrorRole::kRecv;
  int rank = 0;  ///< the rank that gave up
  int peer = 0;  ///< the peer it waited for
  int channel = 0;
  std::uint64_t sequence = 0;  ///< awaited slot sequence number
  std::uint64_t line = 0;      ///< awaited line of the call's stream (receiver)
  std::uint64_t observed = 0;  ///< flag seen (receiver) or credit seen (sender)
};

/// Decodes the kErrorWords words of an error record.
DCP_HOST_DEVICE constexpr ErrorInfo decode_error(const std::uint64_t* words) {
  ErrorInfo e;
  const std::uint64_t info = words[kErrorInfo];
  if (info == 0) return e;
  e.valid = true;
  e.role = static_cast<ErrorRole>((info >> 48) & 0x7FFFu);
  e.rank = static_cast<int>((info >> 32) & 0xFFFFu);
  e.peer = static_cast<int>((info >> 16) & 0xFFFFu);
  e.channel = static_cast<int>(info & 0xFFFFu);
  e.sequence = words[kErrorSequence];
  e.line = words[kErrorLine];
  e.observed = words[kErrorObserved];
  return e;
}

// ---- fast division ------------------------------------------------------------------------------

/// Division of 32-bit unsigned values by a fixed divisor d >= 1 with one multiply-high, add and
/// shift (round-up method: l = ceil(log2 d), m = floor(2^32 (2^l - d) / d) + 1,
/// q = (mulhi(m, n) + n) >> l, the sum taken in 64 bits). Exact for every 32-bit n.
struct FastDivU32 {
  std::uint32_t divisor = 1;
  std::uint32_t multiplier = 1;
  std::uint32_t shift = 0;

  /// Precomputes the constants (host or device; not hot).
  static constexpr FastDivU32 make(std::uint32_t d) {
    FastDivU32 f;
    f.divisor = d == 0 ? 1 : d;
    std::uint32_t l = 0;
    while ((std::uint64_t{1} << l) < f.divisor)
      ++l;
    f.shift = l;
    const std::uint64_t two_l = std::uint64_t{1} << l;
    f.multiplier =
        static_cast<std::uint32_t>((std::uint64_t{1} << 32) * (two_l - f.divisor) / f.divisor + 1);
    return f;
  }
  /// n / divisor. (The 64-bit product's upper half compiles to one mul.hi.u32 on the GPU.)
  DCP_HOST_DEVICE constexpr std::uint32_t div(std::uint32_t n) const {
    const auto hi = static_cast<std::uint32_t>((std::uint64_t{multiplier} * n) >> 32);
    return static_cast<std::uint32_t>((std::uint64_t{hi} + n) >> shift);
  }
};

static_assert(FastDivU32::make(1).div(12345) == 12345);
static_assert(FastDivU32::make(7).div(0xFFFFFFFFu) == 0xFFFFFFFFu / 7);
static_assert(FastDivU32::make(33).div(1000) == 30);

// ---- stream geometry ----------------------------------------------------------------------------

/// Largest payload stream (words per pair and call) the 32-bit index math accepts.
inline constexpr std::int64_t kMaxStreamWords = (std::int64_t{1} << 31) - 1;

/// Payload words of one partial_o row (D*2/8) and of one stats row (S*4/8).
DCP_HOST_DEVICE constexpr std::uint32_t o_row_words(const ExchangeShape& s) {
  return static_cast<std::uint32_t>(s.head_dim * 2 / kWordBytes);
}
DCP_HOST_DEVICE constexpr std::uint32_t stats_row_words(const ExchangeShape& s) {
  return static_cast<std::uint32_t>(s.stats_dim * 4 / kWordBytes);
}

/// Whether the stats rows are single fp32 values (S = 1, the reduce's LSE) packed two per word.
DCP_HOST_DEVICE constexpr bool packed_stats(const ExchangeShape& s) {
  return s.stats_dim == 1;
}
/// Payload words of the stats part of one pair's stream: E * S*4/8 (even S) or ceil(E / 2)
/// (S = 1, packed).
DCP_HOST_DEVICE constexpr std::int64_t stats_stream_words(const ExchangeShape& s) {
  return packed_stats(s) ? (s.entries + 1) / 2 : s.entries * std::int64_t{stats_row_words(s)};
}

/// Payload words of one pair's stream per call: E partial_o rows, then the stats part.
DCP_HOST_DEVICE constexpr std::int64_t pair_stream_words(const ExchangeShape& s) {
  return s.entries * std::int64_t{o_row_words(s)} + stats_stream_words(s);
}
/// Lines of one pair's stream per call: ceil(words / 15).
DCP_HOST_DEVICE constexpr std::int64_t pair_stream_lines(const ExchangeShape& s) {
  return (pair_stream_words(s) + kPayloadWordsPerLine - 1) / kPayloadWordsPerLine;
}

/// First stream line of `channel` when the pair's L lines are split into `channels` contiguous
/// ranges: with q = L / C and r = L % C, channels [0, r) carry q + 1 lines and the others q, so
/// channel 0 is always a largest one. (The kernel evaluates this from q and r.)
DCP_HOST_DEVICE constexpr std::int64_t channel_first_line(std::int64_t lines, int channels,
                                                          int channel) {
  const std::int64_t q = lines / channels;
  const std::int64_t r = lines % channels;
  return q * channel + (channel < r ? channel : r);
}

/// What one (pair, channel) moves in one call: a contiguous range of the pair's stream lines.
/// Identical for every pair of the exchange.
///
/// The pair stream (sender s -> receiver r) is the words of rows (e, r) of s's partial_o for
/// e = 0..E-1, then of rows (e, r) of its softmax_stats; stream line L carries words
/// [15L, 15L + 15) (zeros past the end). Channels split the stream by LINES, not by entries, so
/// that a call can use up to L warps per pair and every warp gets the same number of lines.
struct StreamGeometry {
  std::uint32_t first_line = 0;       ///< the channel's stream lines are [first_line, +lines)
  std::uint32_t lines = 0;            ///< lines of the channel
  std::uint32_t o_row_words = 0;      ///< words per partial_o row
  std::uint32_t stats_row_words = 0;  ///< words per stats row (0 for S = 1)
  std::uint32_t lse_values = 0;       ///< S = 1: E, the LSE values packed two per word; else 0
  std::uint32_t o_words = 0;          ///< E * o_row_words: partial_o part of the pair stream
  std::uint32_t words = 0;            ///< payload words of the pair stream
  std::uint32_t slots = 0;            ///< ceil(lines / slot_lines): sequence numbers consumed

  /// Lines of the channel's slot `k` (0 <= k < slots).
  DCP_HOST_DEVICE constexpr std::uint32_t lines_in_slot(std::uint32_t k,
                                                        std::uint32_t slot_lines) const {
    const std::uint32_t rest = lines - k * slot_lines;
    return rest < slot_lines ? rest : slot_lines;
  }
  /// Payload words of the channel: those of its lines that exist in the pair stream.
  DCP_HOST_DEVICE constexpr std::uint32_t channel_words() const {
    const std::uint64_t begin = std::uint64_t{first_line} * kPayloadWordsPerLine;
    const std::uint64_t end = std::uint64_t{first_line + lines} * kPayloadWordsPerLine;
    const std::uint64_t w = words;
    return static_cast<std::uint32_t>((end < w ? end : w) - (begin < w ? begin : w));
  }
};

/// Stream geometry of `channel` for one call. The caller has checked the shape (shape_problem)
/// and that the pair stream fits kMaxStreamWords.
DCP_HOST_DEVICE constexpr StreamGeometry stream_geometry(const ExchangeShape& s, int channels,
                                                         int channel, int slot_lines) {
  StreamGeometry g;
  const std::int64_t lines = pair_stream_lines(s);
  g.first_line = static_cast<std::uint32_t>(channel_first_line(lines, channels, channel));
  g.lines =
      static_cast<std::uint32_t>(channel_first_line(lines, channels, channel + 1)) - g.first_line;
  g.o_row_words = o_row_words(s);
  g.stats_row_words = stats_row_words(s);
  g.lse_values = packed_stats(s) ? static_cast<std::uint32_t>(s.entries) : 0u;
  g.o_words = static_cast<std::uint32_t>(s.entries * g.o_row_words);
  g.words = static_cast<std::uint32_t>(pair_stream_words(s));
  g.slots = (g.lines + static_cast<std::uint32_t>(slot_lines) - 1) /
            static_cast<std::uint32_t>(slot_lines);
  return g;
}

/// Largest index (in u64 words, exclusive) of either tensor that the kernel's 32-bit index math
/// can address: E * cp * max(D/4, S/2) must stay below this.
inline constexpr std::int64_t kMaxTensorWords = std::int64_t{1} << 32;

/// Per-call constants of the kernel, computed once on the host (make_kernel_plan) so that the
/// device evaluates the channel split and the word addressing without a single division: every
/// division left is by a FastDivU32 constant. Identical on every rank.
struct KernelPlan {
  std::uint32_t lines_per_channel = 0;  ///< q = L / C
  std::uint32_t extra_lines = 0;        ///< r = L % C: channels [0, r) carry q + 1 lines
  std::uint32_t o_words = 0;            ///< E * D*2/8: partial_o part of the pair stream
  std::uint32_t words = 0;              ///< payload words of the pair stream
  std::uint32_t o_row_words = 0;        ///< D*2/8
  std::uint32_t stats_row_words = 0;    ///< S*4/8 (0 for S = 1)
  std::uint32_t lse_values = 0;         ///< S = 1: E, the LSE values packed two per word; else 0
  std::uint32_t o_skip = 0;             ///< (cp - 1) * o_row_words: rows of the other ranks
  std::uint32_t stats_skip = 0;         ///< (cp - 1) * stats_row_words
  FastDivU32 o_div;                     ///< division by o_row_words
  FastDivU32 stats_div;                 ///< division by stats_row_words
  FastDivU32 cp_div;                    ///< division by cp (warp index -> channel, peer)
};

/// The kernel plan of `s` split into `channels` channels (channels >= 1).
constexpr KernelPlan make_kernel_plan(const ExchangeShape& s, int channels) {
  KernelPlan k;
  const int c = channels < 1 ? 1 : channels;
  const std::int64_t lines = pair_stream_lines(s);
  k.lines_per_channel = static_cast<std::uint32_t>(lines / c);
  k.extra_lines = static_cast<std::uint32_t>(lines % c);
  k.o_row_words = o_row_words(s);
  k.stats_row_words = stats_row_words(s);
  k.lse_values = packed_stats(s) ? static_cast<std::uint32_t>(s.entries) : 0u;
  k.o_words = static_cast<std::uint32_t>(s.entries * k.o_row_words);
  k.words = static_cast<std::uint32_t>(pair_stream_words(s));
  k.o_skip = static_cast<std::uint32_t>(s.cp_size - 1) * k.o_row_words;
  k.stats_skip = static_cast<std::uint32_t>(s.cp_size - 1) * k.stats_row_words;
  k.o_div = FastDivU32::make(k.o_row_words);
  k.stats_div = FastDivU32::make(k.stats_row_words);
  k.cp_div = FastDivU32::make(static_cast<std::uint32_t>(s.cp_size));
  return k;
}

constexpr bool same_div(const FastDivU32& a, const FastDivU32& b) {
  return a.divisor == b.divisor && a.multiplier == b.multiplier && a.shift == b.shift;
}

/// Equality of two plans (the launcher checks the plan it was given against the shape).
constexpr bool same_plan(const KernelPlan& a, const KernelPlan& b) {
  return a.lines_per_channel == b.lines_per_channel && a.extra_lines == b.extra_lines &&
         a.o_words == b.o_words && a.words == b.words && a.o_row_words == b.o_row_words &&
         a.stats_row_words == b.stats_row_words && a.lse_values == b.lse_values &&
         a.o_skip == b.o_skip && a.stats_skip == b.stats_skip && same_div(a.o_div, b.o_div) &&
         same_div(a.stats_div, b.stats_div) && same_div(a.cp_div, b.cp_div);
}

/// One (pair, channel) stream of one call as the kernel sees it, in 32-bit words: the channel's
/// lines are stream lines [first_line, first_line + lines); stream word w < o_words is partial_o
/// word o_base + w + (w / D*2/8) * o_skip, and w >= o_words is stats word
/// stats_base + w' + (w' / S*4/8) * stats_skip with w' = w - o_words (for S = 1: the fp32 values
/// 2w' and 2w'+1 at fp32 index i * cp + stats_base, lse_value_index). `other_rank` is the cp
/// index of the rows: the receiver for the sender's inputs, the sender for the receiver's outputs
/// (both sides use the same window). Matches stream_geometry() and locate_word() (tested).
struct StreamWindow {
  std::uint32_t first_line = 0;  ///< first stream line of the channel
  std::uint32_t lines = 0;       ///< lines of the channel
  std::uint32_t o_words = 0;     ///< partial_o part of the pair stream
  std::uint32_t words = 0;       ///< payload words of the pair stream
  std::uint32_t o_base = 0;      ///< index of the first word of row (0, other_rank)
  std::uint32_t stats_base = 0;  ///< the same in the stats tensor (in fp32 values for S = 1)
};

DCP_HOST_DEVICE DCP_FORCEINLINE StreamWindow stream_window(const KernelPlan& k, int channel,
                                                           int other_rank) {
  const auto ch = static_cast<std::uint32_t>(channel);
  const std::uint32_t extra = k.extra_lines;
  StreamWindow w;
  w.first_line = k.lines_per_channel * ch + (ch < extra ? ch : extra);
  w.lines = k.lines_per_channel + (ch < extra ? 1u : 0u);
  w.o_words = k.o_words;
  w.words = k.words;
  w.o_base = static_cast<std::uint32_t>(other_rank) * k.o_row_words;
  w.stats_base = k.lse_values != 0 ? static_cast<std::uint32_t>(other_rank)
                                   : static_cast<std::uint32_t>(other_rank) * k.stats_row_words;
  return w;
}

/// partial_o index of stream word w (< o_words) of a window.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint32_t o_word_index(const KernelPlan& k,
                                                           const StreamWindow& sw,
                                                           std::uint32_t w) {
  return sw.o_base + w + k.o_div.div(w) * k.o_skip;
}
/// softmax_stats index of stream word w (o_words <= w < words) of a window.
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint32_t stats_word_index(const KernelPlan& k,
                                                               const StreamWindow& sw,
                                                               std::uint32_t w) {
  const std::uint32_t v = w - sw.o_words;
  return sw.stats_base + v + k.stats_div.div(v) * k.stats_skip;
}

/// S = 1 (packed stats): fp32 index in the [E, cp] stats tensor of LSE value `i` (< lse_values)
/// of a window, i.e. of entry i. Stats word w (o_words <= w < words) holds the values
/// i = 2 (w - o_words) (lower 4 bytes) and i + 1 (upper 4 bytes; 0 when i + 1 = E).
DCP_HOST_DEVICE DCP_FORCEINLINE std::uint32_t lse_value_index(const KernelPlan& k,
                                                              const StreamWindow& sw,
                                                              std::uint32_t i) {
  return i * k.cp_div.divisor + sw.stats_base;
}

/// Why `s` cannot be exchanged (nullptr when it can).
constexpr const char* shape_problem(const ExchangeShape& s) {
  if (s.cp_size < 1 || s.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (s.entries < 0) return "batch (entries) must be >= 0";
  if (s.head_dim <= 0 || (s.head_dim * 2) % 16 != 0)
    return "head_dim * 2 bytes must be a positive multiple of 16 (head_dim a multiple of 8)";
  if (s.stats_dim != 1 && (s.stats_dim < 2 || s.stats_dim % 2 != 0))
    return "stats_dim must be 1 (one LSE per row, packed two per word) or even and >= 2";
  return nullptr;
}

/// Channels C for a call: about `target_lines_per_warp` lines per (pair, channel) warp, at least
/// 1, at most min(channel_limit, L) with L the lines of a pair's stream. 0 for E = 0. A pure
/// function of the shape and the limit, so every rank computes the same C.
constexpr int channel_count(const ExchangeShape& s, int channel_limit,
                            int target_lines_per_warp = kTargetLinesPerWarp) {
  if (s.entries <= 0) return 0;
  const std::int64_t lines = pair_stream_lines(s);
  const std::int64_t target = target_lines_per_warp < 1 ? 1 : target_lines_per_warp;
  std::int64_t c = (lines + target - 1) / target;
  if (c > channel_limit) c = channel_limit;
  if (c > lines) c = lines;
  if (c < 1) c = 1;
  return static_cast<int>(c);
}

/// Whether one warp per (pair, channel) may do both jobs of a call, i.e. send its whole stream and
/// only then receive the peer's (instead of a sender warp and a receiver warp running side by
/// side): allowed when the call uses at most `depth` sequence numbers per (pair, channel).
///
/// Why this cannot deadlock. Both sides of every (pair, channel) consume the same number of
/// sequence numbers per call, so when a rank's call N starts sending at head h, the peer's
/// receivers of calls <= N-1 consume exactly the sequence numbers < h, after which credit = h.
/// Sending sequence numbers h .. h + slots - 1 needs credit >= h + slots - depth, which is <= h
/// when slots <= depth: the send part of call N waits at most for the peer's receivers of calls
/// <= N-1, never for anything of call N (in particular not for this warp's own receive part).
/// Those calls finish without call N: their receivers wait only for senders of calls <= N-1,
/// which by the same argument (induction over calls, starting from the zeroed workspace) wait
/// only for earlier receivers. So every wait ends, given that each rank's calls run in order and
/// all grids of a call are resident at once (the co-residency rule). The CPU emulation runs the
/// same rule with tiny FIFOs (ll128_emulation_test).
DCP_HOST_DEVICE constexpr bool single_warp_allowed(std::uint32_t slots_per_call, int depth) {
  return slots_per_call <= static_cast<std::uint32_t>(depth);
}

// ---- word addressing ----------------------------------------------------------------------------

/// Where a payload word lives in a [E, cp, X] tensor viewed as u64 words.
struct WordLoc {
  bool stats = false;        ///< false: partial_o, true: softmax_stats
  bool next_in_row = false;  ///< stream word w + 1 is word index + 1 of the same row
  std::int64_t index = 0;    ///< u64 index into that tensor (fp32 index when packed)
  /// S = 1: the word is two fp32 LSE values, the lower at fp32 index `index`, the upper at
  /// `index2` (-1: past E, the upper half is 0 on the wire and written nowhere).
  bool packed = false;
  std::int64_t index2 = -1;
};

/// Divisors for locate_word (the words per row of both tensors), computed once on the host.
struct RowDivisors {
  FastDivU32 o;
  FastDivU32 stats;
  static constexpr RowDivisors make(const ExchangeShape& s) {
    return RowDivisors{FastDivU32::make(o_row_words(s)), FastDivU32::make(stats_row_words(s))};
  }
};

/// Location of pair-stream word `w` (< g.words) in the tensor of the rank that owns it. For the
/// sender it is its input row (e, receiver); for the receiver its output row (e, sender):
/// `other_rank` is the cp index of that row, so both sides share this function.
DCP_HOST_DEVICE DCP_FORCEINLINE WordLoc locate_word(const StreamGeometry& g, const RowDivisors& d,
                                                    int cp, int other_rank, std::uint32_t w) {
  WordLoc loc;
  std::uint32_t row_words = g.o_row_words;
  std::uint32_t q = 0;
  if (w < g.o_words) {
    q = d.o.div(w);
  } else {
    w -= g.o_words;
    loc.stats = true;
    if (g.lse_values != 0) {  // S = 1: values 2w and 2w + 1, rows (i, other_rank) of [E, cp]
      const std::uint32_t i = 2 * w;
      loc.packed = true;
      loc.index = std::int64_t{i} * cp + other_rank;
      loc.index2 = i + 1 < g.lse_values ? (std::int64_t{i} + 1) * cp + other_rank : -1;
      return loc;
    }
    row_words = g.stats_row_words;
    q = d.stats.div(w);
  }
  const std::uint32_t k = w - q * row_words;
  loc.next_in_row = k + 1 < row_words;
  loc.index = (std::int64_t{q} * cp + other_rank) * std::int64_t{row_words} + k;
  return loc;
}

/// Flag value of every line of sequence number `seq`.
DCP_HOST_DEVICE constexpr std::uint64_t flag_for(std::uint64_t seq) {
  return seq + 1;
}

}  // namespace dcp::kernels::ll128
