// tls_stream: drives a TLS engine (tls_engine.hpp) with the underlying
// stream's own recv and send. One lock per stream guards the engine and the
// queues; the engine only ever sees memory.
//
// Each user operation keeps its progress in the operation's backend storage
// (it is on no backend while it is a TLS operation), so queuing allocates
// nothing. A send is complete once the ciphertext carrying its last byte was
// sent by the underlying stream: `mark` is that byte's position in the
// ciphertext stream, compared with the count the underlying sends completed.
#include "proact/tls.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>

#include "common/op_access.hpp"
#include "common/tls_engine.hpp"
#include "proact/error.hpp"
#include "proact/loop.hpp"

namespace proact {
namespace detail {

namespace {

enum class tls_kind : unsigned char { handshake, recv, send, shutdown };

struct tls_op_state {
  loop_node* next;
  tls_kind kind;
  bool encrypted;  // send: every byte is in the ciphertext (mark is set)
  unsigned char* data;
  std::size_t size;
  std::size_t done;    // send: bytes encrypted so far
  std::uint64_t mark;  // send, shutdown: ciphertext position of the last byte
};

tls_op_state& st(loop_node& op) noexcept {
  return op_access::backend<tls_op_state>(op);
}

// An intrusive FIFO of operations.
struct op_queue {
  loop_node* head = nullptr;
  loop_node* tail = nullptr;
  bool empty() const noexcept { return head == nullptr; }
  void push(loop_node& op) noexcept {
    st(op).next = nullptr;
    if (tail != nullptr) {
      st(*tail).next = &op;
    } else {
      head = &op;
    }
    tail = &op;
  }
  loop_node* pop() noexcept {
    loop_node* op = head;
    if (op != nullptr) {
      head = st(*op).next;
      if (head == nullptr) tail = nullptr;
    }
    return op;
  }
  bool remove(loop_node& op) noexcept {
    loop_node* prev = nullptr;
    for (loop_node* p = head; p != nullptr; prev = p, p = st(*p).next) {
      if (p != &op) continue;
      if (prev != nullptr) {
        st(*prev).next = st(*p).next;
      } else {
        head = st(*p).next;
      }
      if (tail == p) tail = prev;
      return true;
    }
    return false;
  }
};

// Ciphertext in flight to or from the underlying stream: a little more than
// one full record, so a record rarely needs two transfers.
constexpr std::size_t cipher_buffer = std::size_t{17} * 1024;
// Ciphertext one underlying send takes: two full records.
constexpr std::size_t cipher_out_buffer = 2 * cipher_buffer;
// Encrypting stops while this much ciphertext waits to be sent.
constexpr std::size_t output_high_water = std::size_t{64} * 1024;

}  // namespace

class tls_stream_state : public std::enable_shared_from_this<tls_stream_state> {
 public:
  tls_stream_state(loop& l, stream_handle& s, std::shared_ptr<tls_engine_context> engine)
      : loop_(l), stream_(s), engine_(std::move(engine)), rd_(*this), wr_(*this) {
    if (!engine_) {
      broken_ = make_error_code(error::invalid_argument);  // the context is not open
      return;
    }
    session_ = engine_->new_session(broken_);
    if (!session_ && !broken_) broken_ = make_error_code(error::invalid_argument);
  }

  std::error_code set_host_name(std::string_view name) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return broken_;
    if (started_) return make_error_code(error::operation_in_progress);
    return session_->set_host_name(name);
  }
  std::string alpn_protocol() {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_ ? session_->alpn_protocol() : std::string();
  }

  std::error_code start(loop_node& op, tls_kind kind, void* data, std::size_t size) {
    if (broken_) return broken_;
    if (size > max_transfer_size) return make_error_code(error::buffer_too_large);
    if (data == nullptr && size != 0) return make_error_code(error::invalid_argument);
    if (!on_loop(stream_)) return make_error_code(error::not_associated);
    if (loop_.stopped()) return make_error_code(error::port_closed);
    if (!op_access::try_begin(op)) return make_error_code(error::operation_in_progress);
    tls_op_state& s = op_access::construct_backend<tls_op_state>(op);
    s.kind = kind;
    s.data = static_cast<unsigned char*>(data);
    s.size = size;
    done_list out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) {
        op_access::abandon(op);
        return make_error_code(error::bad_handle);
      }
      started_ = true;
      if (std::error_code refusal = refuse(kind, size)) {
        finish(out, op, 0, refusal);
      } else {
        switch (kind) {
          case tls_kind::handshake:
            if (handshake_ != nullptr) {
              op_access::abandon(op);
              return make_error_code(error::operation_in_progress);
            }
            handshake_ = &op;
            break;
          case tls_kind::recv:
            recvs_.push(op);
            break;
          case tls_kind::send:
            sends_.push(op);
            if (unencrypted_ == nullptr) unencrypted_ = &op;
            unencrypted_bytes_ += size;
            break;
          case tls_kind::shutdown:
            if (shutdown_ != nullptr || shutdown_sent_) {
              op_access::abandon(op);
              return make_error_code(shutdown_ != nullptr ? error::operation_in_progress
                                                          : error::shut_down);
            }
            shutdown_ = &op;
            break;
        }
        drive(out);
      }
    }
    deliver(out, false);
    return {};
  }

  std::error_code cancel(operation* target) {
    done_list out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::error_code aborted = make_error_code(error::operation_aborted);
      bool found = false;
      auto take = [&](loop_node*& slot) {
        if (slot != nullptr && (target == nullptr || slot == target)) {
          loop_node* op = slot;
          slot = nullptr;
          finish(out, *op, 0, aborted);
          found = true;
        }
      };
      take(handshake_);
      take(shutdown_);
      for (loop_node* p = recvs_.head; p != nullptr;) {
        loop_node* next = st(*p).next;
        if (target == nullptr || p == target) {
          recvs_.remove(*p);
          finish(out, *p, 0, aborted);
          found = true;
        }
        p = next;
      }
      for (loop_node* p = sends_.head; p != nullptr;) {
        loop_node* next = st(*p).next;
        if (target == nullptr || p == target) {
          if (unencrypted_ == p) unencrypted_ = next;
          if (!st(*p).encrypted) unencrypted_bytes_ -= st(*p).size - st(*p).done;
          sends_.remove(*p);
          // The bytes already encrypted went (or are about to go) to the peer.
          finish(out, *p, st(*p).done, aborted);
          found = true;
        }
        p = next;
      }
      if (!found) return make_error_code(error::not_found);
    }
    deliver(out, false);
    return {};
  }

  std::error_code close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return make_error_code(error::bad_handle);
    }
    (void)cancel(nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    // The underlying operations complete on their own (their completions find
    // the state closed, and keep it alive until then).
    if (rd_pending_) (void)stream_.cancel(rd_);
    if (wr_pending_) (void)stream_.cancel(wr_);
    return {};
  }

 private:
  // A list of finished operations, delivered once the lock is released.
  struct done_list {
    loop_node* head = nullptr;
    loop_node* tail = nullptr;
  };

  // An underlying operation of this stream.
  class under_op final : public loop_node {
   public:
    explicit under_op(tls_stream_state& owner) noexcept : loop_node(&complete), owner_(owner) {}
    std::shared_ptr<tls_stream_state> keep;  // the state lives while this is pending

   private:
    static void complete(loop_node& self, std::size_t bytes, std::error_code ec) {
      auto& me = static_cast<under_op&>(self);
      std::shared_ptr<tls_stream_state> keep = std::move(me.keep);
      if (&me == &me.owner_.rd_) {
        me.owner_.on_received(bytes, ec);
      } else {
        me.owner_.on_sent(bytes, ec);
      }
    }
    tls_stream_state& owner_;
  };

  std::error_code refuse(tls_kind kind, std::size_t size) const {
    if (failed_) return failed_;
    switch (kind) {
      case tls_kind::handshake:
        return {};
      case tls_kind::recv:
        if (!handshake_done_) return make_error_code(error::not_connected);
        if (peer_closed_ && recvs_.empty()) return make_error_code(error::eof);
        return {};
      case tls_kind::send:
        if (!handshake_done_) return make_error_code(error::not_connected);
        if (shutdown_ != nullptr || shutdown_sent_) return make_error_code(error::shut_down);
        (void)size;
        return {};
      case tls_kind::shutdown:
        if (!handshake_done_) return make_error_code(error::not_connected);
        return {};
    }
    return {};
  }

  void finish(done_list& out, loop_node& op, std::size_t bytes, std::error_code ec) noexcept {
    op.result_bytes_ = bytes;
    op.result_error_ = ec;
    st(op).next = nullptr;
    if (out.tail != nullptr) {
      st(*out.tail).next = &op;
    } else {
      out.head = &op;
    }
    out.tail = &op;
  }

  // Runs the handlers: at once when called from a completion of the
  // underlying stream (already on a loop thread), else through the port so
  // that no handler runs inside a start call.
  void deliver(done_list& out, bool from_completion) {
    for (loop_node* op = out.head; op != nullptr;) {
      loop_node* next = st(*op).next;
      const std::size_t bytes = op->result_bytes_;
      const std::error_code ec = op->result_error_;
      op_access::end(*op);
      if (!from_completion || op->strand_ != nullptr) {
        if (!loop_.post_result(*op, bytes, ec)) {
          op = next;
          continue;
        }
      }
      op->finish_(*op, bytes, ec);  // the port is closed: finish it here
      op = next;
    }
  }

  void fail(done_list& out, std::error_code ec) {
    if (!failed_) failed_ = ec;
    if (handshake_ != nullptr) finish(out, *std::exchange(handshake_, nullptr), 0, failed_);
    if (shutdown_ != nullptr) finish(out, *std::exchange(shutdown_, nullptr), 0, failed_);
    while (loop_node* op = recvs_.pop()) finish(out, *op, 0, failed_);
    while (loop_node* op = sends_.pop()) finish(out, *op, st(*op).done, failed_);
    unencrypted_ = nullptr;
    unencrypted_bytes_ = 0;
  }

  std::uint64_t cipher_end() const noexcept { return taken_ + session_->pending_output(); }

  // Advances everything that can advance; under the lock. An underlying
  // operation that completed in its start call (a socket in skip-on-success
  // mode) is taken in at once, and the stream advances again.
  void drive(done_list& out) {
    do {
      if (closed_) return;
      advance(out);
    } while (flush(out) || fill(out));
  }

  void advance(done_list& out) {
    std::error_code ec;
    if (!failed_ && handshake_ != nullptr) {
      if (handshake_done_) {
        finish(out, *std::exchange(handshake_, nullptr), 0, {});
      } else {
        switch (session_->handshake(ec)) {
          case tls_step::done:
            handshake_done_ = true;
            finish(out, *std::exchange(handshake_, nullptr), 0, {});
            break;
          case tls_step::failed:
          case tls_step::closed:
            fail(out, ec ? ec : make_error_code(error::eof));
            break;
          case tls_step::want_input:
            break;
        }
      }
    }
    if (!failed_ && handshake_done_) {
      read_records(out);
      if (!failed_) encrypt_sends(out);
      if (!failed_ && shutdown_ != nullptr && !shutdown_sent_ && unencrypted_ == nullptr) {
        if (session_->shutdown(ec) == tls_step::failed) {
          fail(out, ec);
        } else {
          shutdown_sent_ = true;
          shutdown_mark_ = cipher_end();
        }
      }
    }
    // Sends and the shutdown whose ciphertext went out.
    while (!sends_.empty() && st(*sends_.head).encrypted && st(*sends_.head).mark <= sent_) {
      loop_node* op = sends_.pop();
      finish(out, *op, st(*op).size, {});
    }
    if (shutdown_ != nullptr && shutdown_sent_ && shutdown_mark_ <= sent_)
      finish(out, *std::exchange(shutdown_, nullptr), 0, {});
  }

  void read_records(done_list& out) {
    std::error_code ec;
    while (!recvs_.empty() && !peer_closed_) {
      loop_node& op = *recvs_.head;
      std::size_t n = 0;
      // A zero-byte recv, as on a socket (item 20), waits for decrypted
      // bytes and takes none.
      const tls_step r = session_->read(st(op).data, st(op).size, n, ec);
      if (r == tls_step::want_input) return;
      if (r == tls_step::failed) return fail(out, ec);
      if (r == tls_step::closed) {
        peer_closed_ = true;
        break;
      }
      recvs_.pop();
      finish(out, op, n, {});
    }
    if (peer_closed_) {
      while (loop_node* op = recvs_.pop()) finish(out, *op, 0, make_error_code(error::eof));
    }
  }

  // Encrypts queued sends while the ciphertext waiting is below the high
  // water mark. While the underlying stream is sending, only full records are
  // made: small sends wait for it and then share records, their bytes
  // gathered into one record's plaintext.
  void encrypt_sends(done_list& out) {
    std::error_code ec;
    while (unencrypted_ != nullptr && session_->pending_output() < output_high_water &&
           (!wr_pending_ || unencrypted_bytes_ >= tls_record_plaintext)) {
      tls_op_state& first = st(*unencrypted_);
      const std::size_t left = first.size - first.done;
      if (left >= tls_record_plaintext || first.next == nullptr) {
        const std::size_t k = std::min(left, tls_record_plaintext);
        if (k != 0 && session_->write(first.data + first.done, k, ec) == tls_step::failed)
          return fail(out, ec);
        first.done += k;
        unencrypted_bytes_ -= k;
        if (first.done == first.size) seal(*unencrypted_);
        continue;
      }
      std::size_t used = 0;
      loop_node* last_whole = nullptr;
      for (loop_node* p = unencrypted_; p != nullptr && used < tls_record_plaintext;
           p = st(*p).next) {
        tls_op_state& s = st(*p);
        const std::size_t k = std::min(s.size - s.done, tls_record_plaintext - used);
        std::memcpy(plain_ + used, s.data + s.done, k);
        used += k;
        if (k == s.size - s.done) last_whole = p;
      }
      if (used != 0 && session_->write(plain_, used, ec) == tls_step::failed) return fail(out, ec);
      unencrypted_bytes_ -= used;
      // Every send copied whole is sealed; the one copied in part advances.
      used = 0;
      while (unencrypted_ != nullptr && used < tls_record_plaintext) {
        tls_op_state& s = st(*unencrypted_);
        const std::size_t k = std::min(s.size - s.done, tls_record_plaintext - used);
        used += k;
        s.done += k;
        if (s.done != s.size) break;
        const bool was_last = unencrypted_ == last_whole;
        seal(*unencrypted_);
        if (was_last) break;
      }
    }
  }

  // Every byte of the send at unencrypted_ is in the ciphertext.
  void seal(loop_node& op) noexcept {
    st(op).encrypted = true;
    st(op).mark = cipher_end();
    unencrypted_ = st(op).next;
  }

  // An underlying start refused because the stream was closed or its loop
  // stopped while a TLS operation was pending: that operation was aborted,
  // as it would have been had the underlying one been in flight.
  static std::error_code refused(std::error_code ec) noexcept {
    if (ec == errc::bad_handle || ec == errc::port_closed)
      return make_error_code(error::operation_aborted);
    return ec;
  }

  // Starts the underlying send of waiting ciphertext; true if it completed
  // in its start call.
  bool flush(done_list& out) {
    if (wr_pending_ || closed_ || session_->pending_output() == 0) return false;
    const std::size_t n = session_->take_output(cipher_out_, sizeof cipher_out_);
    if (n == 0) return false;
    taken_ += n;
    wr_pending_ = true;
    wr_.keep = shared_from_this();
    if (const std::error_code ec = stream_.send(wr_, const_buffer{cipher_out_, n})) {
      wr_pending_ = false;
      wr_.keep.reset();
      if (!failed_) fail(out, refused(ec));
      return false;
    }
    if (!wr_.completed_at_start()) return false;
    wr_.keep.reset();
    const completion c = wr_.result();
    sent(out, c.bytes, c.error);
    return true;
  }

  // Starts the underlying recv when an operation waits for the peer; true if
  // it completed in its start call.
  bool fill(done_list& out) {
    if (rd_pending_ || failed_ || closed_ || transport_ended_) return false;
    const bool waiting = (handshake_ != nullptr && !handshake_done_) ||
                         (handshake_done_ && !recvs_.empty() && !peer_closed_);
    if (!waiting) return false;
    rd_pending_ = true;
    rd_.keep = shared_from_this();
    if (const std::error_code ec = stream_.recv(rd_, buffer{cipher_in_, sizeof cipher_in_})) {
      rd_pending_ = false;
      rd_.keep.reset();
      fail(out, refused(ec));
      return false;
    }
    if (!rd_.completed_at_start()) return false;
    rd_.keep.reset();
    const completion c = rd_.result();
    received(out, c.bytes, c.error);
    return true;
  }

  // What an underlying recv or send brought; under the lock.
  void received(done_list& out, std::size_t bytes, std::error_code ec) {
    rd_pending_ = false;
    if (bytes != 0) session_->feed(cipher_in_, bytes);
    if (ec == errc::eof) {
      transport_ended_ = true;
      session_->feed_end();
    } else if (ec && !failed_) {
      fail(out, ec);
    }
  }
  void sent(done_list& out, std::size_t bytes, std::error_code ec) {
    wr_pending_ = false;
    sent_ += bytes;
    if (ec && !failed_) fail(out, ec);
  }

  void on_received(std::size_t bytes, std::error_code ec) {
    done_list out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) {
        rd_pending_ = false;
        return;
      }
      received(out, bytes, ec);
      drive(out);
    }
    deliver(out, true);
  }

  void on_sent(std::size_t bytes, std::error_code ec) {
    done_list out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) {
        wr_pending_ = false;
        return;
      }
      sent(out, bytes, ec);
      drive(out);
    }
    deliver(out, true);
  }

  loop& loop_;
  stream_handle& stream_;
  std::shared_ptr<tls_engine_context> engine_;
  std::unique_ptr<tls_session> session_;
  std::error_code broken_;  // the session could not be made

  std::mutex mutex_;  // guards everything below
  under_op rd_;
  under_op wr_;
  bool rd_pending_ = false;
  bool wr_pending_ = false;
  bool started_ = false;
  bool closed_ = false;
  bool handshake_done_ = false;
  bool peer_closed_ = false;      // the peer's close_notify arrived
  bool transport_ended_ = false;  // the underlying stream's end of stream
  bool shutdown_sent_ = false;    // our close_notify is in the ciphertext
  std::error_code failed_;        // the session's failure, final
  loop_node* handshake_ = nullptr;
  loop_node* shutdown_ = nullptr;
  op_queue recvs_;
  op_queue sends_;                     // in order; encrypted ones first
  loop_node* unencrypted_ = nullptr;   // the first send not yet wholly encrypted
  std::size_t unencrypted_bytes_ = 0;  // the bytes of sends still to encrypt
  std::uint64_t taken_ = 0;            // ciphertext bytes taken from the engine
  std::uint64_t sent_ = 0;             // ciphertext bytes the underlying stream sent
  std::uint64_t shutdown_mark_ = 0;
  unsigned char cipher_in_[cipher_buffer];
  unsigned char cipher_out_[cipher_out_buffer];
  unsigned char plain_[tls_record_plaintext];  // small sends gathered into one record
};

}  // namespace detail

tls_context::tls_context() noexcept = default;
tls_context::~tls_context() = default;

std::error_code tls_context::open(const tls_options& options) {
  if (engine_) return make_error_code(error::already_associated);
  std::error_code ec;
  std::shared_ptr<detail::tls_engine_context> engine = detail::make_tls_engine(options, ec);
  if (!engine) return ec ? ec : make_error_code(error::operation_not_supported);
  engine_ = std::move(engine);
  role_ = options.role;
  return {};
}

tls_stream::tls_stream(loop& l, stream_handle& s, tls_context& ctx)
    : loop_(l), stream_(s), state_(std::make_shared<detail::tls_stream_state>(l, s, ctx.engine_)) {}

tls_stream::~tls_stream() {
  (void)close();
}

std::error_code tls_stream::set_host_name(std::string_view name) {
  return state_->set_host_name(name);
}
std::string tls_stream::alpn_protocol() const {
  return state_->alpn_protocol();
}

std::error_code tls_stream::start_handshake(detail::loop_node& op) {
  return state_->start(op, detail::tls_kind::handshake, nullptr, 0);
}
std::error_code tls_stream::start_recv(detail::loop_node& op, buffer b) {
  return state_->start(op, detail::tls_kind::recv, b.data, b.size);
}
std::error_code tls_stream::start_send(detail::loop_node& op, const_buffer b) {
  return state_->start(op, detail::tls_kind::send, const_cast<void*>(b.data), b.size);
}
std::error_code tls_stream::start_shutdown(detail::loop_node& op) {
  return state_->start(op, detail::tls_kind::shutdown, nullptr, 0);
}

std::error_code tls_stream::handshake(callback_op& op) {
  return start_handshake(op);
}
std::error_code tls_stream::recv(callback_op& op, buffer b) {
  return start_recv(op, b);
}
std::error_code tls_stream::send(callback_op& op, const_buffer b) {
  return start_send(op, b);
}
std::error_code tls_stream::shutdown(callback_op& op) {
  return start_shutdown(op);
}

std::error_code tls_stream::cancel(operation& op) {
  return state_->cancel(&op);
}
std::error_code tls_stream::cancel_awaited(void* self, operation& op) {
  return static_cast<tls_stream*>(self)->cancel(op);
}
std::error_code tls_stream::cancel() {
  return state_->cancel(nullptr);
}
std::error_code tls_stream::close() {
  return state_->close();
}

}  // namespace proact
