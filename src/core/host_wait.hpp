#pragma once
/// @file
/// How long the host waits for an exchange's device work. Device-side waits on a peer give up
/// after the case's timeout T (ExchangeSetup::timeout_s) and record who they waited for; the host
/// must wait LONGER than that, or it gives up first and prints a generic "GPU work did not
/// finish" instead of the device's record (rank, peer, channel, awaited sequence) and the FIFO
/// dump that AllToAllImpl::check() builds from it.

namespace dcp {

/// Seconds the host waits beyond the device timeout. It covers what separates the host's clock
/// from the device's: the host starts waiting when the work is enqueued, a device wait starts
/// when its kernel reaches it (after queued fills, verifies and earlier calls of a stress loop),
/// and once one warp gave up the others notice within a few dozen polls and the grids drain.
inline constexpr double kHostWaitMarginS = 5.0;

/// The host-side deadline (s) for device work whose device-side waits time out after
/// `device_timeout_s`.
constexpr double host_wait_s(double device_timeout_s) {
  return device_timeout_s + kHostWaitMarginS;
}

}  // namespace dcp
