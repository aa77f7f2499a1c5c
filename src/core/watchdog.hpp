#pragma once
/// @file
/// Watchdog: a background thread that ends the process when an armed region outlives its
/// deadline. It is the backstop behind dcpbench's bounded waits: every collective and every
/// blocking setup step is armed, so even a call that blocks inside MPI, NCCL or the CUDA driver
/// cannot hang the job — the expiry handler (World: print the rank-tagged message, MPI_Abort)
/// runs on the watchdog thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace dcp {

class Watchdog {
 public:
  /// `on_expire(what, seconds)` is called on the watchdog thread for the first region whose
  /// deadline passes; it is expected not to return (it ends the process). If it returns, the
  /// region is dropped and watching goes on.
  using ExpireFn = std::function<void(const std::string& what, double seconds)>;

  explicit Watchdog(ExpireFn on_expire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Disarms its region when destroyed.
  class Token {
   public:
    Token() = default;
    Token(Token&& o) noexcept : dog_(o.dog_), id_(o.id_) { o.dog_ = nullptr; }
    Token& operator=(Token&& o) noexcept {
      if (this != &o) {
        release();
        dog_ = o.dog_;
        id_ = o.id_;
        o.dog_ = nullptr;
      }
      return *this;
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() { release(); }
    void release() noexcept;

   private:
    friend class Watchdog;
    Token(Watchdog* d, std::uint64_t id) : dog_(d), id_(id) {}
    Watchdog* dog_ = nullptr;
    std::uint64_t id_ = 0;
  };

  /// Arms a region named `what` that must end within `seconds`.
  [[nodiscard]] Token arm(std::string what, double seconds);

 private:
  struct Region {
    std::chrono::steady_clock::time_point deadline;
    std::string what;
    double seconds;
  };
  void disarm(std::uint64_t id) noexcept;
  void loop();

  ExpireFn on_expire_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Region> regions_;
  std::uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dcp
