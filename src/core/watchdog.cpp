#include "core/watchdog.hpp"

#include <algorithm>

namespace dcp {

Watchdog::Watchdog(ExpireFn on_expire)
    : on_expire_(std::move(on_expire)), thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Watchdog::Token Watchdog::arm(std::string what, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    regions_.emplace(id, Region{deadline, std::move(what), seconds});
  }
  cv_.notify_all();
  return Token(this, id);
}

void Watchdog::Token::release() noexcept {
  if (dog_) dog_->disarm(id_);
  dog_ = nullptr;
}

void Watchdog::disarm(std::uint64_t id) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    regions_.erase(id);
  }
  cv_.notify_all();
}

void Watchdog::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (regions_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto first = std::min_element(
        regions_.begin(), regions_.end(),
        [](const auto& a, const auto& b) { return a.second.deadline < b.second.deadline; });
    const auto deadline = first->second.deadline;
    if (std::chrono::steady_clock::now() >= deadline) {
      const Region expired = first->second;
      regions_.erase(first);
      lock.unlock();
      on_expire_(expired.what, expired.seconds);
      lock.lock();
      continue;
    }
    cv_.wait_until(lock, deadline);
  }
}

}  // namespace dcp
