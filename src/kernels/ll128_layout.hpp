#pragma once
/// @file
/// LL128 geometry of the native exchange and the index math that the GPU kernel, the host
/// reference packer and the CPU emulation of the FIFO protocol all share.
///
/// Wire format. A line is 128 bytes = 16 little-endian u64 words. Words 0..14 carry payload, word
/// 15 (kFlagWord, a FIXED position) carries the line's flag. On the GPU a line is written by one
/// warp store instruction, 8 lanes x 16 bytes: lane j of an 8-lane group holds words 2j and 2j+1,
/// so lane 7 holds payload word 14 and the flag. One warp instruction covers 4 lines.
///
/// Stream. For one (sender s -> receiver r, channel c) the payload of one call is a stream of
/// 8-byte words: first the partial_o rows (e, r) of s's input for the channel's entries e (in
/// entry order, D*2/8 words each), then their stats rows (S*4/8 words each). Line L of the stream
/// carries payload words [15L, 15L+15); words past the end of the stream are zero. No row needs to
/// fit in one line or one slot, so there is no per-token size limit.
///
/// FIFO. The stream is cut into slots of `slot_lines` lines. Per (pair, channel) a FIFO of
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

namespace dcp::kernels::ll128 {

// ---- line geometry ------------------------------------------------------------------------------

inline constexpr int kLineBytes = 128;           ///< bytes per LL128 line
inline constexpr int kWordBytes = 8;             ///< bytes per word (payload and flag)
inline constexpr int kWordsPerLine = 16;         ///< words per line
inline constexpr int kPayloadWordsPerLine = 15;  ///< payload words per line
inline constexpr int kFlagWord = 15;             ///< fixed index of the flag word
inline constexpr int kLanesPerLine = 8;          ///< lanes writing/reading one line
inline constexpr int kWarpLanes = 32;            ///< lanes per warp
inline constexpr int kWordsPerLane = kWordsPerLine / kLanesPerLine;     ///< 2 (16 bytes)
inline constexpr int kLinesPerWarpAccess = kWarpLanes / kLanesPerLine;  ///< 4
inline constexpr int kFlagLane = kFlagWord / kWordsPerLane;  ///< 7: lane holding the flag

static_assert(kWordsPerLine * kWordBytes == kLineBytes);
static_assert(kPayloadWordsPerLine == kWordsPerLine - 1);
static_assert(kFlagWord == kWordsPerLine - 1, "the flag is the last word of a line");
static_assert(kLanesPerLine * kWordsPerLane * kWordBytes == kLineBytes);
static_assert(kFlagWord % kWordsPerLane == 1, "the flag is the upper half of lane 7's 16 bytes");

// ---- workspace geometry -------------------------------------------------------------------------

inline constexpr int kMaxCp = 64;             ///< largest cp the kernel parameters can address
inline constexpr int kMaxChannels = 64;       ///< largest C_max a geometry may have
inline constexpr int kChannelBudget = 256;    ///< C_max(cp) = clamp(kChannelBudget / cp, 1, cap)
inline constexpr int kChannelCap = 64;        ///< the cap of the default C_max(cp)
inline constexpr int kDefaultDepth = 4;       ///< slots per FIFO
inline constexpr int kDefaultSlotLines = 64;  ///< lines per slot (8 KiB)
/// The channel split aims at this many lines per warp and call (one warp store instruction):
/// latency falls with the number of warps moving a stream in parallel. Measured on an H100 (sim,
/// graph, cp=2, B=128, D=128): 3.6 us per exchange at 4 lines/warp, 4.4 us at 8, 5.7 us at 16;
/// cp=4, B=16, D=128: 3.6 / 4.4 / 5.0 us.
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
  /// Offset of line `line` of the physical slot that sequence number `seq` uses.
  DCP_HOST_DEVICE constexpr std::int64_t line_offset(int sender, int channel, std::uint64_t seq,
                                                     int line) const {
    const auto slot = static_cast<std::int64_t>(seq % static_cast<std::uint64_t>(depth));
    return fifo_offset(sender, channel) + slot * slot_bytes() + std::int64_t{line} * kLineBytes;
  }
  /// Bytes of one segment (a multiple of kFifoAlignBytes).
  DCP_HOST_DEVICE constexpr std::int64_t segment_bytes() const {
    return fifos_offset() + std::int64_t{cp_size} * max_channels * fifo_bytes();
  }
};

/// The geometry the native exchange uses for `cp` ranks: C_max(cp) channels, depth 4, 64-line
/// (8 KiB) slots. The workspace size depends only on cp.
///
/// Why many small FIFOs rather than few big ones: at decode batch sizes the exchange is latency
/// bound, and latency falls with the number of warps moving a stream in parallel; measured on an
/// H100 (sim, graph) C_max 64 with 64-line slots beat C_max 32 with 128-line slots at the same
/// 8 MiB (cp=2, B=128, D=128: 4.4 vs 7.2 us; cp=4, B=4096, D=512: 145 vs 187 us).
DCP_HOST_DEVICE constexpr Geometry default_geometry(int cp) {
  return Geometry{cp, max_channels_for(cp), kDefaultDepth, kDefaultSlotLines};
}

/// Bytes per rank of the native exchange's workspace for `cp` ranks (default geometry):
/// 4,214,784 B at cp=2 and 8,425,472 B at cp=4, 8 and 16 (C_max = 64, 64, 32, 16).
DCP_HOST_DEVICE constexpr std::int64_t workspace_bytes(int cp) {
  return default_geometry(cp).segment_bytes();
}

/// Why `g` cannot be used (nullptr when it can).
constexpr const char* geometry_problem(const Geometry& g) {
  if (g.cp_size < 1 || g.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (g.max_channels < 1 || g.max_channels > kMaxChannels) return "max_channels must be in [1, 64]";
  if (g.depth < 1 || g.depth > 1024) return "depth must be in [1, 1024]";
  if (g.slot_lines < 1 || g.slot_lines > (1 << 20)) return "slot_lines must be in [1, 2^20]";
  return nullptr;
}

static_assert(workspace_bytes(2) == 20480 + 2 * 64 * 4 * 64 * 128);  // 4.02 MiB
static_assert(workspace_bytes(8) == 36864 + 8 * 32 * 4 * 64 * 128);  // 8.04 MiB
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

/// Largest payload stream (words per pair, channel and call) the 32-bit index math accepts.
inline constexpr std::int64_t kMaxStreamWords = (std::int64_t{1} << 31) - 1;

/// First entry of `channel` when E entries are split into `channels` contiguous blocks.
DCP_HOST_DEVICE constexpr std::int64_t channel_first_entry(std::int64_t entries, int channels,
                                                           int channel) {
  return entries * channel / channels;
}

/// Payload words of one partial_o row (D*2/8) and of one stats row (S*4/8).
DCP_HOST_DEVICE constexpr std::uint32_t o_row_words(const ExchangeShape& s) {
  return static_cast<std::uint32_t>(s.head_dim * 2 / kWordBytes);
}
DCP_HOST_DEVICE constexpr std::uint32_t stats_row_words(const ExchangeShape& s) {
  return static_cast<std::uint32_t>(s.stats_dim * 4 / kWordBytes);
}

/// What one (pair, channel) moves in one call. Identical for every pair of the exchange.
struct StreamGeometry {
  std::int64_t first_entry = 0;       ///< the channel's entries are [first_entry, +entries)
  std::uint32_t entries = 0;          ///< entries of the channel
  std::uint32_t o_row_words = 0;      ///< words per partial_o row
  std::uint32_t stats_row_words = 0;  ///< words per stats row
  std::uint32_t o_words = 0;          ///< entries * o_row_words: partial_o part of the stream
  std::uint32_t words = 0;            ///< payload words of the stream
  std::uint32_t lines = 0;            ///< ceil(words / 15)
  std::uint32_t slots = 0;            ///< ceil(lines / slot_lines): sequence numbers consumed

  /// Lines of stream slot `k` (0 <= k < slots).
  DCP_HOST_DEVICE constexpr std::uint32_t lines_in_slot(std::uint32_t k,
                                                        std::uint32_t slot_lines) const {
    const std::uint32_t rest = lines - k * slot_lines;
    return rest < slot_lines ? rest : slot_lines;
  }
};

/// Stream geometry of `channel` for one call. The caller has checked the shape (valid_shape)
/// and that the stream fits kMaxStreamWords.
DCP_HOST_DEVICE constexpr StreamGeometry stream_geometry(const ExchangeShape& s, int channels,
                                                         int channel, int slot_lines) {
  StreamGeometry g;
  g.first_entry = channel_first_entry(s.entries, channels, channel);
  g.entries = static_cast<std::uint32_t>(channel_first_entry(s.entries, channels, channel + 1) -
                                         g.first_entry);
  g.o_row_words = o_row_words(s);
  g.stats_row_words = stats_row_words(s);
  g.o_words = g.entries * g.o_row_words;
  g.words = g.o_words + g.entries * g.stats_row_words;
  g.lines = (g.words + kPayloadWordsPerLine - 1) / kPayloadWordsPerLine;
  g.slots = (g.lines + static_cast<std::uint32_t>(slot_lines) - 1) /
            static_cast<std::uint32_t>(slot_lines);
  return g;
}

/// Words of the largest channel's stream when E entries use `channels` channels (64-bit).
DCP_HOST_DEVICE constexpr std::int64_t max_stream_words(const ExchangeShape& s, int channels) {
  const std::int64_t entries = (s.entries + channels - 1) / channels;
  return entries * (std::int64_t{o_row_words(s)} + stats_row_words(s));
}

/// Why `s` cannot be exchanged (nullptr when it can).
constexpr const char* shape_problem(const ExchangeShape& s) {
  if (s.cp_size < 1 || s.cp_size > kMaxCp) return "cp_size must be in [1, 64]";
  if (s.entries < 0) return "batch (entries) must be >= 0";
  if (s.head_dim <= 0 || (s.head_dim * 2) % 16 != 0)
    return "head_dim * 2 bytes must be a positive multiple of 16 (head_dim a multiple of 8)";
  if (s.stats_dim < 2 || s.stats_dim % 2 != 0) return "stats_dim must be even and >= 2";
  return nullptr;
}

/// Channels C for a call: about `target_lines_per_warp` lines per (pair, channel) warp, at least
/// 1, at most min(channel_limit, E). 0 for E = 0. A pure function of the shape and the limit, so
/// every rank computes the same C.
constexpr int channel_count(const ExchangeShape& s, int channel_limit,
                            int target_lines_per_warp = kTargetLinesPerWarp) {
  if (s.entries <= 0) return 0;
  const std::int64_t words = s.entries * (std::int64_t{o_row_words(s)} + stats_row_words(s));
  const std::int64_t lines = (words + kPayloadWordsPerLine - 1) / kPayloadWordsPerLine;
  const std::int64_t target = target_lines_per_warp < 1 ? 1 : target_lines_per_warp;
  std::int64_t c = (lines + target - 1) / target;
  if (c > channel_limit) c = channel_limit;
  if (c > s.entries) c = s.entries;
  if (c < 1) c = 1;
  return static_cast<int>(c);
}

// ---- word addressing ----------------------------------------------------------------------------

/// Where a payload word lives in a [E, cp, X] tensor viewed as u64 words.
struct WordLoc {
  bool stats = false;        ///< false: partial_o, true: softmax_stats
  bool next_in_row = false;  ///< stream word w + 1 is word index + 1 of the same row
  std::int64_t index = 0;    ///< u64 index into that tensor
};

/// Divisors for locate_word (the words per row of both tensors), computed once on the host.
struct RowDivisors {
  FastDivU32 o;
  FastDivU32 stats;
  static constexpr RowDivisors make(const ExchangeShape& s) {
    return RowDivisors{FastDivU32::make(o_row_words(s)), FastDivU32::make(stats_row_words(s))};
  }
};

/// Location of stream word `w` (< g.words) in the tensor of the rank that owns it. For the sender
/// it is its input row (e, receiver); for the receiver its output row (e, sender): `other_rank`
/// is the cp index of that row, so both sides share this function.
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
    row_words = g.stats_row_words;
    q = d.stats.div(w);
  }
  const std::uint32_t k = w - q * row_words;
  loc.next_in_row = k + 1 < row_words;
  loc.index = ((g.first_entry + q) * cp + other_rank) * std::int64_t{row_words} + k;
  return loc;
}

/// Flag value of every line of sequence number `seq`.
DCP_HOST_DEVICE constexpr std::uint64_t flag_for(std::uint64_t seq) {
  return seq + 1;
}

}  // namespace dcp::kernels::ll128
