#include "status.hpp"

#include <iterator>

#include "proact/error.hpp"

namespace proact::win32 {
namespace {

struct status_row {
  proact::errc condition;
  DWORD ntstatus;
  DWORD win32;
  int wsa;
};

// Windows' own pairs (RtlNtStatusToDosError, and Winsock's mapping of the
// same NTSTATUS for WSAGetOverlappedResult).
constexpr status_row status_rows[] = {
    {proact::errc::operation_aborted, status_cancelled, ERROR_OPERATION_ABORTED,
     WSA_OPERATION_ABORTED},
    {proact::errc::connection_reset, 0xC000020Du, ERROR_NETNAME_DELETED, WSAECONNRESET},
    {proact::errc::connection_refused, 0xC0000236u, ERROR_CONNECTION_REFUSED, WSAECONNREFUSED},
    {proact::errc::connection_aborted, 0xC0000241u, ERROR_CONNECTION_ABORTED, WSAECONNABORTED},
    {proact::errc::timed_out, 0xC00000B5u, ERROR_SEM_TIMEOUT, WSAETIMEDOUT},
    {proact::errc::network_unreachable, 0xC000023Cu, ERROR_NETWORK_UNREACHABLE, WSAENETUNREACH},
    {proact::errc::host_unreachable, 0xC000023Du, ERROR_HOST_UNREACHABLE, WSAEHOSTUNREACH},
    {proact::errc::message_size, 0x80000005u, ERROR_MORE_DATA, WSAEMSGSIZE},
    {proact::errc::eof, 0xC0000011u, ERROR_HANDLE_EOF, WSAEDISCON},
};

// STATUS_UNSUCCESSFUL: what the table does not know.
constexpr DWORD status_unsuccessful = 0xC0000001u;

}  // namespace

DWORD ntstatus_from(const std::error_code& ec) noexcept {
  if (!ec) return STATUS_SUCCESS;
  for (const status_row& row : status_rows) {
    if (ec == row.condition) return row.ntstatus;
  }
  return status_unsuccessful;
}

DWORD win32_from_ntstatus(DWORD status) noexcept {
  if (status == STATUS_SUCCESS) return ERROR_SUCCESS;
  for (const status_row& row : status_rows) {
    if (row.ntstatus == status) return row.win32;
  }
  return ERROR_GEN_FAILURE;
}

int wsa_from_ntstatus(DWORD status) noexcept {
  if (status == STATUS_SUCCESS) return 0;
  for (const status_row& row : status_rows) {
    if (row.ntstatus == status) return row.wsa;
  }
  return WSAEINVAL;
}

int wsa_from(const std::error_code& ec) noexcept {
  using proact::errc;
  struct row {
    errc condition;
    int wsa;
  };
  static constexpr row rows[] = {
      {errc::invalid_argument, WSAEINVAL},
      {errc::bad_handle, WSAENOTSOCK},
      {errc::not_associated, WSAEINVAL},
      {errc::operation_in_progress, WSAEINVAL},
      {errc::port_closed, WSAEINVAL},
      {errc::not_connected, WSAENOTCONN},
      {errc::already_connected, WSAEISCONN},
      {errc::shut_down, WSAESHUTDOWN},
      {errc::address_in_use, WSAEADDRINUSE},
      {errc::address_not_available, WSAEADDRNOTAVAIL},
      {errc::buffer_too_large, WSAENOBUFS},
      {errc::no_resources, WSAENOBUFS},
      {errc::connection_reset, WSAECONNRESET},
      {errc::connection_refused, WSAECONNREFUSED},
      {errc::connection_aborted, WSAECONNABORTED},
      {errc::network_unreachable, WSAENETUNREACH},
      {errc::host_unreachable, WSAEHOSTUNREACH},
      {errc::message_size, WSAEMSGSIZE},
      {errc::operation_not_supported, WSAEOPNOTSUPP},
  };
  for (const row& r : rows) {
    if (ec == r.condition) return r.wsa;
  }
  return WSAEINVAL;
}

}  // namespace proact::win32
