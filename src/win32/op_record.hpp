// op_record: the proact::operation behind one OVERLAPPED while it is in
// flight (or behind one posted packet while it is queued).
//
// Records come from a pool and go back to it when their packet is dequeued:
// the layer allocates nothing per operation. The pool grows by a chunk when
// it runs dry (the high-water mark of operations in flight) and never
// shrinks; taking and returning a record is one compare-exchange on a
// (generation, index) word, so no lock and no ABA.
//
// While an operation is pending its OVERLAPPED says STATUS_PENDING in
// Internal, and InternalHigh (reserved for the system while pending) holds
// the record's address: CancelIoEx(h, ov) finds the operation through it.
#pragma once

#include <atomic>
#include <cstdint>

#include "proact/buffer.hpp"
#include "proact/endpoint.hpp"
#include "proact/handle.hpp"
#include "proact/operation.hpp"
#include "proact/socket.hpp"
#include "proact/win32.h"

namespace proact::win32 {

struct socket_object;

enum class op_kind : std::uint8_t {
  post,
  recv,
  send,
  recv_from,
  send_to,
  accept,
  accept_data,
  connect,
  connect_data,
  read_file,
  write_file,
  // TransmitFile and DisconnectEx (transmit.cpp): the OVERLAPPED's record
  // with its first step, a record of another step, and the OVERLAPPED's
  // record posted when its steps were done before the start call returned.
  transmit_whole,
  transmit_part,
  transmit_done
};

inline constexpr std::size_t record_buffers = 16;  // WSABUFs per WSARecv/WSASend

struct op_record : proact::operation {
  op_kind kind = op_kind::post;
  OVERLAPPED* overlapped = nullptr;
  ULONG_PTR key = 0;
  DWORD posted_bytes = 0;
  const void* owner = nullptr;           // the socket or file the call named (CancelIoEx checks it)
  proact::handle* started_on = nullptr;  // the proact handle the operation is on now
  // AcceptEx
  socket_object* target = nullptr;  // AcceptEx: sAcceptSocket; ConnectEx: the socket
  char* output = nullptr;
  DWORD receive_length = 0;
  DWORD local_length = 0;
  DWORD remote_length = 0;
  proact::endpoint peer;  // AcceptEx's remote address; WSARecvFrom's source; WSASendTo's target
  // WSARecvFrom: where the source address goes at completion
  sockaddr* from = nullptr;
  int* from_length = nullptr;
  // ConnectEx's send buffer, WSARecv/WSASend's buffers
  proact::buffer buffers[record_buffers];
  proact::const_buffer send_buffers[record_buffers];
  std::uint32_t buffer_count = 0;
  // TransmitFile and DisconnectEx: each step (the file with the head and
  // tail around it, or without a file the head and the tail, then the
  // disconnect) is an operation of its own, all started in the call so that
  // they keep their place among the socket's sends; the OVERLAPPED's record
  // (`whole`) collects their results, and the last one done makes the
  // packet.
  op_record* whole = nullptr;
  proact::send_file_buffers around;  // the file step's head and tail
  std::uint8_t step = 0;
  std::atomic<int> parts_left{0};  // steps not done, + 1 while the start call runs
  std::atomic<std::uint32_t> transferred{0};
  DWORD step_status[4] = {};  // NTSTATUS per step, written before parts_left drops
  DWORD flags = 0;            // TF_REUSE_SOCKET
  // The other steps' records, each kept (one hold) until the packet is
  // made, so that CancelIoEx(h, ov) can reach them.
  op_record* parts[3] = {};
  // Who still needs the record: its packet's dequeuer, and during a start
  // call on a handle in skip mode the starting thread too (it reads
  // completed_at_start() after the call). The last one returns it.
  std::atomic<int> holds{1};
  std::uint32_t index = 0;                  // in the pool
  std::atomic<std::uint32_t> next_free{0};  // pool link (index + 1; 0 = end)
};

op_record* take_record() noexcept;  // nullptr when memory is exhausted
// take_record, with what every started call records.
op_record* take_record(op_kind kind, OVERLAPPED* ov, ULONG_PTR key, const void* owner,
                       proact::handle* on) noexcept;
// Drops one hold; the last returns the record to the pool.
void give_back(op_record* r) noexcept;
// The record a pending OVERLAPPED points to, if it is one of the pool's.
op_record* record_of(const OVERLAPPED* ov) noexcept;

}  // namespace proact::win32
