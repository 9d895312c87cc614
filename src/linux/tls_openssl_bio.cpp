#include "tls_openssl_bio.hpp"

#include <algorithm>
#include <cstring>

namespace proact::detail {
namespace {

// The first allocation holds a whole record (16 KiB of plaintext and the
// largest overhead), so that the queue does not grow again on the first
// large transfer after the handshake.
constexpr std::size_t first_capacity = 16384 + 2048 + 5;

}  // namespace

void cipher_queue::append(const void* data, std::size_t n) {
  if (n == 0) return;
  if (capacity_ - end_ < n) {
    const std::size_t held = size();
    if (capacity_ - held >= n) {
      // Room at the front: the unread bytes (a partial record) move down.
      std::memmove(data_.get(), data_.get() + begin_, held);
    } else {
      const std::size_t grown = std::max({capacity_ * 2, held + n, first_capacity});
      // Not zeroed: every byte is written before it is read.
      std::unique_ptr<unsigned char[]> bigger(new unsigned char[grown]);
      if (held != 0) std::memcpy(bigger.get(), data_.get() + begin_, held);
      data_ = std::move(bigger);
      capacity_ = grown;
    }
    begin_ = 0;
    end_ = held;
  }
  std::memcpy(data_.get() + end_, data, n);
  end_ += n;
}

std::size_t cipher_queue::take(void* out, std::size_t n) noexcept {
  const std::size_t k = std::min(n, size());
  if (k == 0) return 0;
  std::memcpy(out, data_.get() + begin_, k);
  begin_ += k;
  if (begin_ == end_) begin_ = end_ = 0;  // empty: the next append starts at the front
  return k;
}

namespace {

cipher_queue& queue_of(BIO* b) {
  return *static_cast<cipher_queue*>(BIO_get_data(b));
}

int queue_write(BIO* b, const char* data, std::size_t size, std::size_t* written) {
  BIO_clear_retry_flags(b);
  queue_of(b).append(data, size);
  *written = size;
  return 1;
}

int queue_read(BIO* b, char* out, std::size_t size, std::size_t* read) {
  BIO_clear_retry_flags(b);
  cipher_queue& q = queue_of(b);
  *read = q.take(out, size);
  if (*read != 0) return 1;
  // Empty: wait for more ciphertext, unless the transport ended (then the
  // caller sees the end: a truncation or the close_notify before it).
  if (!q.ended()) BIO_set_retry_read(b);
  return 0;
}

long queue_ctrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_PENDING:
      return static_cast<long>(queue_of(b).size());
    case BIO_CTRL_EOF:
      return queue_of(b).ended() && queue_of(b).size() == 0 ? 1 : 0;
    case BIO_CTRL_FLUSH:  // written bytes are already where they go
      return 1;
    default:
      return 0;
  }
}

int queue_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

int queue_destroy(BIO*) {
  return 1;
}  // the queue belongs to the session

const BIO_METHOD* queue_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "proact-queue");
    if (m != nullptr &&
        (BIO_meth_set_write_ex(m, queue_write) != 1 || BIO_meth_set_read_ex(m, queue_read) != 1 ||
         BIO_meth_set_ctrl(m, queue_ctrl) != 1 || BIO_meth_set_create(m, queue_create) != 1 ||
         BIO_meth_set_destroy(m, queue_destroy) != 1)) {
      BIO_meth_free(m);
      m = nullptr;
    }
    return m;
  }();
  return method;
}

}  // namespace

BIO* new_queue_bio(cipher_queue& q) {
  const BIO_METHOD* m = queue_method();
  if (m == nullptr) return nullptr;
  BIO* b = BIO_new(m);
  if (b != nullptr) BIO_set_data(b, &q);
  return b;
}

}  // namespace proact::detail
