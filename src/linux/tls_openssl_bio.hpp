// The OpenSSL engine's ciphertext queues and the BIO that reads and writes
// them. OpenSSL's memory BIO zeroes every byte it appends before copying it
// in (BUF_MEM_grow_clean) and moves its contents back on writes after a
// partial read; this queue does neither: it grows to the largest burst once,
// then appends and takes with one copy each.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <memory>

namespace proact::detail {

class cipher_queue {
 public:
  std::size_t size() const noexcept { return end_ - begin_; }
  // Keeps all n bytes (grows if it must).
  void append(const void* data, std::size_t n);
  // Moves up to n bytes to `out`; how many.
  std::size_t take(void* out, std::size_t n) noexcept;
  // No more input will come: an empty queue then reads as the end.
  void set_end() noexcept { ended_ = true; }
  bool ended() const noexcept { return ended_; }

 private:
  std::unique_ptr<unsigned char[]> data_;
  std::size_t capacity_ = 0, begin_ = 0, end_ = 0;
  bool ended_ = false;
};

// A BIO over `q`, which it does not own and which must outlive it: reads
// take from q (empty: retry later, or the end once set_end() was called),
// writes append to it. Null if OpenSSL cannot make one.
BIO* new_queue_bio(cipher_queue& q);

}  // namespace proact::detail
