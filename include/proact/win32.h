// The Win32 I/O completion port API on Linux, over proact's port: a legacy
// server written against CreateIoCompletionPort, AcceptEx, WSARecv... builds
// unchanged with include/proact/win32/compat on its include path (its
// <windows.h>, <winsock2.h>, <mswsock.h> and <ws2tcpip.h> include this file).
//
// Types, constants and error values are Windows' own (x64 layout: DWORD and
// LONG are 32 bits, ULONG_PTR and SOCKET pointer-sized). Which functions
// exist and where they differ from Windows: docs/win32.md.
//
// This header declares the Windows socket names (socket, bind, listen...)
// and its own sockaddr types, so a file that includes it must not include
// the POSIX socket headers (<sys/socket.h>, <netinet/in.h>, <arpa/inet.h>),
// exactly as a Windows source never does.
#pragma once

#if defined(_WIN32)
#error "proact/win32.h is the Win32 API for Linux; on Windows include <windows.h>"
#endif

#include <strings.h>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
// glibc declares BSD names that Windows gives other sizes (u_long is 64 bits
// there, socklen_t unsigned): its headers come first, then the Windows
// types take those names over by macro.
#include <sys/types.h>
#include <unistd.h>

// Everything below is spelled as Windows spells it (typedef struct, macros,
// C types), so clang-tidy's modern-C++ advice does not apply.
// NOLINTBEGIN

// ---- Basic types -----------------------------------------------------------

#define WINAPI
#define CALLBACK
#define WSAAPI
#define APIENTRY
// The x86 calling conventions, which x86-64 does not have: legacy sources
// spell them (`unsigned __stdcall worker(void*)`, `void __cdecl main`).
#define __stdcall
#define __cdecl
#define VOID void
#define CONST const
#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif

typedef int BOOL;
typedef BOOL* LPBOOL;
typedef unsigned char BYTE;
typedef BYTE* LPBYTE;
typedef unsigned short WORD;
typedef std::uint32_t DWORD;
typedef DWORD* LPDWORD;
typedef DWORD* PDWORD;
typedef std::int32_t LONG;
typedef LONG* LPLONG;
typedef std::uint32_t ULONG;
typedef ULONG* PULONG;
typedef std::int64_t LONGLONG;
typedef std::uint64_t ULONGLONG;
typedef std::uint64_t DWORD64;
typedef int INT;
typedef int* LPINT;
typedef unsigned int UINT;
typedef unsigned short USHORT;
typedef short SHORT;
typedef char CHAR;
typedef unsigned char UCHAR;
typedef char* LPSTR;
typedef const char* LPCSTR;
typedef char* PSTR;
typedef const char* PCSTR;
typedef char* PCHAR;
// WCHAR is wchar_t, as on Windows, so that L"..." compiles unchanged; on
// Linux that is 32 bits (UTF-32; UTF-16 surrogate pairs are accepted too).
typedef wchar_t WCHAR;
typedef WCHAR* LPWSTR;
typedef const WCHAR* LPCWSTR;
typedef WCHAR* PWSTR;
typedef const WCHAR* PCWSTR;
typedef WCHAR* PWCHAR;
typedef void* PVOID;
typedef void* LPVOID;
typedef const void* LPCVOID;
typedef std::uintptr_t ULONG_PTR;
typedef ULONG_PTR* PULONG_PTR;
typedef std::intptr_t LONG_PTR;
typedef std::uintptr_t UINT_PTR;
typedef std::uintptr_t DWORD_PTR;
typedef std::size_t SIZE_T;
typedef void* HANDLE;
typedef HANDLE* PHANDLE;
typedef HANDLE* LPHANDLE;
typedef LONG NTSTATUS;

typedef union _LARGE_INTEGER {
  struct {
    DWORD LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef struct _GUID {
  std::uint32_t Data1;
  std::uint16_t Data2;
  std::uint16_t Data3;
  std::uint8_t Data4[8];
} GUID, *LPGUID;

inline bool operator==(const GUID& a, const GUID& b) noexcept {
  if (a.Data1 != b.Data1 || a.Data2 != b.Data2 || a.Data3 != b.Data3) return false;
  for (int i = 0; i < 8; ++i) {
    if (a.Data4[i] != b.Data4[i]) return false;
  }
  return true;
}

#define MAKEWORD(low, high) \
  static_cast<WORD>((static_cast<BYTE>(low)) | (static_cast<WORD>(static_cast<BYTE>(high)) << 8))
#define LOBYTE(w) static_cast<BYTE>(static_cast<DWORD_PTR>(w) & 0xff)
#define HIBYTE(w) static_cast<BYTE>((static_cast<DWORD_PTR>(w) >> 8) & 0xff)
// Functions rather than Windows' macros: GCC's -Woverflow misreads the
// macros' casts of a negative constant.
constexpr LONG MAKELONG(WORD low, WORD high) noexcept {
  return static_cast<LONG>(static_cast<DWORD>(low) | (static_cast<DWORD>(high) << 16));
}
constexpr WORD LOWORD(DWORD_PTR l) noexcept {
  return static_cast<WORD>(l & 0xffff);
}
constexpr WORD HIWORD(DWORD_PTR l) noexcept {
  return static_cast<WORD>((l >> 16) & 0xffff);
}

// Memory (winnt.h's macros, over the C library).
#define RtlZeroMemory(Destination, Length) std::memset((Destination), 0, (Length))
#define RtlCopyMemory(Destination, Source, Length) std::memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) std::memmove((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill) std::memset((Destination), (Fill), (Length))
#define ZeroMemory RtlZeroMemory
#define CopyMemory RtlCopyMemory
#define MoveMemory RtlMoveMemory
#define FillMemory RtlFillMemory
// Zeroes memory even when it is not read afterwards (no dead-store removal).
inline PVOID SecureZeroMemory(PVOID ptr, SIZE_T cnt) {
  volatile unsigned char* p = static_cast<volatile unsigned char*>(ptr);
  while (cnt-- != 0) *p++ = 0;
  return ptr;
}

// ---- OVERLAPPED and the completion port -------------------------------------

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // Windows' anonymous struct in a union
typedef struct _OVERLAPPED {
  ULONG_PTR Internal;      // the status (an NTSTATUS; STATUS_PENDING while pending)
  ULONG_PTR InternalHigh;  // bytes transferred, once complete
  union {
    struct {
      DWORD Offset;
      DWORD OffsetHigh;
    };
    PVOID Pointer;
  };
  HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;
#pragma GCC diagnostic pop
typedef OVERLAPPED WSAOVERLAPPED;
typedef OVERLAPPED* LPWSAOVERLAPPED;

typedef struct _OVERLAPPED_ENTRY {
  ULONG_PTR lpCompletionKey;
  LPOVERLAPPED lpOverlapped;
  ULONG_PTR Internal;  // the status of the dequeued packet (an NTSTATUS)
  DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY, *LPOVERLAPPED_ENTRY;

typedef void(WINAPI* LPOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwErrorCode,
                                                      DWORD dwNumberOfBytesTransfered,
                                                      LPOVERLAPPED lpOverlapped);
typedef void(CALLBACK* LPWSAOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwError, DWORD cbTransferred,
                                                           LPWSAOVERLAPPED lpOverlapped,
                                                           DWORD dwFlags);

#define INVALID_HANDLE_VALUE (reinterpret_cast<HANDLE>(static_cast<LONG_PTR>(-1)))
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0x00000000u
#define WAIT_ABANDONED_0 0x00000080u
#define WAIT_ABANDONED WAIT_ABANDONED_0
#define WAIT_TIMEOUT 258u
#define WAIT_FAILED 0xFFFFFFFFu

#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u
// The record that holds `address` as its member `field`.
#define CONTAINING_RECORD(address, type, field) \
  (reinterpret_cast<type*>(reinterpret_cast<char*>(address) - offsetof(type, field)))
#define HasOverlappedIoCompleted(lpOverlapped) \
  ((static_cast<DWORD>((lpOverlapped)->Internal)) != STATUS_PENDING)

#define FILE_SKIP_COMPLETION_PORT_ON_SUCCESS 0x1
#define FILE_SKIP_SET_EVENT_ON_HANDLE 0x2

// ---- Error values (winerror.h) ---------------------------------------------

#define ERROR_SUCCESS 0L
#define NO_ERROR 0L
#define ERROR_FILE_NOT_FOUND 2L
#define ERROR_PATH_NOT_FOUND 3L
#define ERROR_TOO_MANY_OPEN_FILES 4L
#define ERROR_ACCESS_DENIED 5L
#define ERROR_INVALID_HANDLE 6L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_GEN_FAILURE 31L
#define ERROR_HANDLE_EOF 38L
#define ERROR_NOT_SUPPORTED 50L
#define ERROR_NETNAME_DELETED 64L
#define ERROR_FILE_EXISTS 80L
#define ERROR_INVALID_PARAMETER 87L
#define ERROR_CALL_NOT_IMPLEMENTED 120L
#define ERROR_SEM_TIMEOUT 121L
#define ERROR_INSUFFICIENT_BUFFER 122L
#define ERROR_MOD_NOT_FOUND 126L
#define ERROR_PROC_NOT_FOUND 127L
#define ERROR_ALREADY_EXISTS 183L
#define ERROR_MORE_DATA 234L
#define ERROR_MR_MID_NOT_FOUND 317L
#define ERROR_NOT_OWNER 288L
#define ERROR_TOO_MANY_POSTS 298L
#define ERROR_ABANDONED_WAIT_0 735L
#define ERROR_OPERATION_ABORTED 995L
#define ERROR_IO_INCOMPLETE 996L
#define ERROR_IO_PENDING 997L
#define ERROR_NOT_FOUND 1168L
#define ERROR_CONNECTION_REFUSED 1225L
#define ERROR_NETWORK_UNREACHABLE 1231L
#define ERROR_HOST_UNREACHABLE 1232L
#define ERROR_CONNECTION_ABORTED 1236L

#define WSABASEERR 10000
#define WSAEINTR 10004L
#define WSAEBADF 10009L
#define WSAEACCES 10013L
#define WSAEFAULT 10014L
#define WSAEINVAL 10022L
#define WSAEMFILE 10024L
#define WSAEWOULDBLOCK 10035L
#define WSAEINPROGRESS 10036L
#define WSAEALREADY 10037L
#define WSAENOTSOCK 10038L
#define WSAEDESTADDRREQ 10039L
#define WSAEMSGSIZE 10040L
#define WSAEPROTOTYPE 10041L
#define WSAENOPROTOOPT 10042L
#define WSAEPROTONOSUPPORT 10043L
#define WSAESOCKTNOSUPPORT 10044L
#define WSAEOPNOTSUPP 10045L
#define WSAEPFNOSUPPORT 10046L
#define WSAEAFNOSUPPORT 10047L
#define WSAEADDRINUSE 10048L
#define WSAEADDRNOTAVAIL 10049L
#define WSAENETDOWN 10050L
#define WSAENETUNREACH 10051L
#define WSAENETRESET 10052L
#define WSAECONNABORTED 10053L
#define WSAECONNRESET 10054L
#define WSAENOBUFS 10055L
#define WSAEISCONN 10056L
#define WSAENOTCONN 10057L
#define WSAESHUTDOWN 10058L
#define WSAETIMEDOUT 10060L
#define WSAECONNREFUSED 10061L
#define WSAEHOSTUNREACH 10065L
#define WSASYSNOTREADY 10091L
#define WSAVERNOTSUPPORTED 10092L
#define WSANOTINITIALISED 10093L
#define WSAEDISCON 10101L
#define WSATYPE_NOT_FOUND 10109L
#define WSAHOST_NOT_FOUND 11001L
#define WSATRY_AGAIN 11002L
#define WSANO_RECOVERY 11003L
#define WSANO_DATA 11004L
#define WSA_IO_PENDING ERROR_IO_PENDING
#define WSA_IO_INCOMPLETE ERROR_IO_INCOMPLETE
#define WSA_INVALID_HANDLE ERROR_INVALID_HANDLE
#define WSA_INVALID_PARAMETER ERROR_INVALID_PARAMETER
#define WSA_NOT_ENOUGH_MEMORY ERROR_NOT_ENOUGH_MEMORY
#define WSA_OPERATION_ABORTED ERROR_OPERATION_ABORTED

// ---- Sockets (winsock2.h, ws2def.h, ws2ipdef.h) ----------------------------

typedef UINT_PTR SOCKET;
#define INVALID_SOCKET (static_cast<SOCKET>(~static_cast<SOCKET>(0)))
#define SOCKET_ERROR (-1)

typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef std::uint32_t proact_win32_u_long;
#define u_long proact_win32_u_long
typedef USHORT ADDRESS_FAMILY;
typedef int proact_win32_socklen_t;
#define socklen_t proact_win32_socklen_t

#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 23
#define PF_UNSPEC AF_UNSPEC
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_IP 0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41

#define SOL_SOCKET 0xffff
#define SO_ACCEPTCONN 0x0002
#define SO_REUSEADDR 0x0004
#define SO_KEEPALIVE 0x0008
#define SO_LINGER 0x0080
#define SO_SNDBUF 0x1001
#define SO_RCVBUF 0x1002
#define SO_ERROR 0x1007
#define SO_TYPE 0x1008
#define SO_EXCLUSIVEADDRUSE (static_cast<int>(~SO_REUSEADDR))
#define SO_CONNECT_TIME 0x700C
#define SO_UPDATE_ACCEPT_CONTEXT 0x700B
#define SO_UPDATE_CONNECT_CONTEXT 0x7010
#define TCP_NODELAY 0x0001
#define IPV6_V6ONLY 27

#define SD_RECEIVE 0x00
#define SD_SEND 0x01
#define SD_BOTH 0x02

#define SOMAXCONN 0x7fffffff
#define INADDR_ANY static_cast<u_long>(0x00000000)
#define INADDR_LOOPBACK 0x7f000001
#define INADDR_NONE 0xffffffff

#define WSA_FLAG_OVERLAPPED 0x01
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_DONTROUTE 0x4
#define MSG_WAITALL 0x8
#define MSG_PARTIAL 0x8000

#define WSADESCRIPTION_LEN 256
#define WSASYS_STATUS_LEN 128

typedef struct WSAData {
  WORD wVersion;
  WORD wHighVersion;
  unsigned short iMaxSockets;
  unsigned short iMaxUdpDg;
  char* lpVendorInfo;
  char szDescription[WSADESCRIPTION_LEN + 1];
  char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

typedef struct _WSABUF {
  ULONG len;
  CHAR* buf;
} WSABUF, *LPWSABUF;

typedef struct in_addr {
  union {
    struct {
      UCHAR s_b1, s_b2, s_b3, s_b4;
    } S_un_b;
    struct {
      USHORT s_w1, s_w2;
    } S_un_w;
    ULONG S_addr;
  } S_un;
} IN_ADDR, *PIN_ADDR;
#define s_addr S_un.S_addr

typedef struct sockaddr {
  ADDRESS_FAMILY sa_family;
  CHAR sa_data[14];
} SOCKADDR, *PSOCKADDR, *LPSOCKADDR;

typedef struct sockaddr_in {
  ADDRESS_FAMILY sin_family;
  USHORT sin_port;
  IN_ADDR sin_addr;
  CHAR sin_zero[8];
} SOCKADDR_IN, *PSOCKADDR_IN;

typedef struct in6_addr {
  union {
    UCHAR Byte[16];
    USHORT Word[8];
  } u;
} IN6_ADDR, *PIN6_ADDR;
#define s6_addr u.Byte

typedef struct sockaddr_in6 {
  ADDRESS_FAMILY sin6_family;
  USHORT sin6_port;
  ULONG sin6_flowinfo;
  IN6_ADDR sin6_addr;
  ULONG sin6_scope_id;
} SOCKADDR_IN6, *PSOCKADDR_IN6;

typedef struct sockaddr_storage {
  ADDRESS_FAMILY ss_family;
  CHAR ss_pad1[6];
  LONGLONG ss_align;
  CHAR ss_pad2[112];
} SOCKADDR_STORAGE, *PSOCKADDR_STORAGE;

typedef struct linger {
  u_short l_onoff;
  u_short l_linger;
} LINGER, *PLINGER;

inline u_short htons(u_short v) noexcept {
  return static_cast<u_short>((v << 8) | (v >> 8));
}
inline u_short ntohs(u_short v) noexcept {
  return htons(v);
}
inline u_long htonl(u_long v) noexcept {
  return ((v & 0xffu) << 24) | ((v & 0xff00u) << 8) | ((v >> 8) & 0xff00u) | (v >> 24);
}
inline u_long ntohl(u_long v) noexcept {
  return htonl(v);
}

// ---- Name resolution (ws2tcpip.h) ------------------------------------------

// Windows' layout: ai_canonname comes before ai_addr (glibc has them the
// other way round), and the addresses are Windows sockaddrs (AF_INET6 = 23).
typedef struct addrinfo {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  std::size_t ai_addrlen;
  char* ai_canonname;
  struct sockaddr* ai_addr;
  struct addrinfo* ai_next;
} ADDRINFOA, *PADDRINFOA, *LPADDRINFO;
typedef struct addrinfoW {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  std::size_t ai_addrlen;
  PWSTR ai_canonname;
  struct sockaddr* ai_addr;
  struct addrinfoW* ai_next;
} ADDRINFOW, *PADDRINFOW;

#define AI_PASSIVE 0x00000001
#define AI_CANONNAME 0x00000002
#define AI_NUMERICHOST 0x00000004
#define AI_NUMERICSERV 0x00000008
#define AI_ALL 0x00000100
#define AI_ADDRCONFIG 0x00000400
#define AI_V4MAPPED 0x00000800
#define EAI_AGAIN WSATRY_AGAIN
#define EAI_BADFLAGS WSAEINVAL
#define EAI_FAIL WSANO_RECOVERY
#define EAI_FAMILY WSAEAFNOSUPPORT
#define EAI_MEMORY WSA_NOT_ENOUGH_MEMORY
#define EAI_NONAME WSAHOST_NOT_FOUND
#define EAI_SERVICE WSATYPE_NOT_FOUND
#define EAI_SOCKTYPE WSAESOCKTNOSUPPORT
#define EAI_NODATA WSANO_DATA
#define INET_ADDRSTRLEN 22
#define INET6_ADDRSTRLEN 65
#define NI_NOFQDN 0x01
#define NI_NUMERICHOST 0x02
#define NI_NAMEREQD 0x04
#define NI_NUMERICSERV 0x08
#define NI_DGRAM 0x10
#define NI_MAXHOST 1025
#define NI_MAXSERV 32

// WSAIoctl codes.
#define IOC_IN 0x80000000u
#define IOC_OUT 0x40000000u
#define IOC_INOUT (IOC_IN | IOC_OUT)
#define IOC_WS2 0x08000000u
#define _WSAIORW(x, y) (IOC_INOUT | (x) | (y))
#define SIO_GET_EXTENSION_FUNCTION_POINTER _WSAIORW(IOC_WS2, 6)
// The code's type (bits 27-28): an address family's (IOC_PROTOCOL) or a
// vendor's (IOC_VENDOR, as <mstcpip.h>'s codes), with their constructors for
// codes that take input (_WSAIOW) or give output (_WSAIOR). Spelled token
// for token as <winsock2.h> does: a legacy source that defines them itself
// (servers built with old SDKs do) repeats an identical definition, which
// the preprocessor accepts silently.
// clang-format off
#define IOC_PROTOCOL 0x10000000
#define IOC_VENDOR 0x18000000
#define _WSAIOR(x,y) (IOC_OUT|(x)|(y))
#define _WSAIOW(x,y) (IOC_IN|(x)|(y))
// UDP's ICMP reports off or on. The Windows SDK has them in <mstcpip.h>,
// MinGW-w64 SIO_UDP_CONNRESET in <mswsock.h>: here every compat header
// gives them, so a source finds them wherever its compiler did.
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR,12)
#define SIO_UDP_NETRESET _WSAIOW(IOC_VENDOR,15)
// clang-format on

// WSAAccept's condition function and WSAConnect's quality of service.
typedef unsigned int GROUP;
typedef ULONG SERVICETYPE;
typedef struct _flowspec {
  ULONG TokenRate;
  ULONG TokenBucketSize;
  ULONG PeakBandwidth;
  ULONG Latency;
  ULONG DelayVariation;
  SERVICETYPE ServiceType;
  ULONG MaxSduSize;
  ULONG MinimumPolicedSize;
} FLOWSPEC, *PFLOWSPEC, *LPFLOWSPEC;
typedef struct _QualityOfService {
  FLOWSPEC SendingFlowspec;
  FLOWSPEC ReceivingFlowspec;
  WSABUF ProviderSpecific;
} QOS, *LPQOS;
typedef int(CALLBACK* LPCONDITIONPROC)(LPWSABUF lpCallerId, LPWSABUF lpCallerData, LPQOS lpSQOS,
                                       LPQOS lpGQOS, LPWSABUF lpCalleeId, LPWSABUF lpCalleeData,
                                       GROUP* g, DWORD_PTR dwCallbackData);
#define CF_ACCEPT 0x0000
#define CF_REJECT 0x0001
#define CF_DEFER 0x0002

// ---- Extension functions (mswsock.h) ----------------------------------------

typedef BOOL(WINAPI* LPFN_ACCEPTEX)(SOCKET sListenSocket, SOCKET sAcceptSocket,
                                    PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
                                    DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
                                    LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped);
typedef BOOL(WINAPI* LPFN_CONNECTEX)(SOCKET s, const struct sockaddr* name, int namelen,
                                     PVOID lpSendBuffer, DWORD dwSendDataLength,
                                     LPDWORD lpdwBytesSent, LPOVERLAPPED lpOverlapped);
typedef void(WINAPI* LPFN_GETACCEPTEXSOCKADDRS)(
    PVOID lpOutputBuffer, DWORD dwReceiveDataLength, DWORD dwLocalAddressLength,
    DWORD dwRemoteAddressLength, struct sockaddr** LocalSockaddr, LPINT LocalSockaddrLength,
    struct sockaddr** RemoteSockaddr, LPINT RemoteSockaddrLength);

#define WSAID_ACCEPTEX                               \
  {                                                  \
    0xb5367df1, 0xcbac, 0x11cf, {                    \
      0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92 \
    }                                                \
  }
#define WSAID_CONNECTEX                              \
  {                                                  \
    0x25a207b9, 0xddf3, 0x4660, {                    \
      0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e \
    }                                                \
  }
typedef struct _TRANSMIT_FILE_BUFFERS {
  LPVOID Head;
  DWORD HeadLength;
  LPVOID Tail;
  DWORD TailLength;
} TRANSMIT_FILE_BUFFERS, *PTRANSMIT_FILE_BUFFERS, *LPTRANSMIT_FILE_BUFFERS;
typedef BOOL(WINAPI* LPFN_TRANSMITFILE)(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                                        DWORD nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped,
                                        LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers,
                                        DWORD dwReserved);
#define WSAID_TRANSMITFILE                           \
  {                                                  \
    0xb5367df0, 0xcbac, 0x11cf, {                    \
      0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92 \
    }                                                \
  }
#define WSAID_GETACCEPTEXSOCKADDRS                   \
  {                                                  \
    0xb5367df2, 0xcbac, 0x11cf, {                    \
      0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92 \
    }                                                \
  }
// TransmitFile's flags (DisconnectEx takes TF_REUSE_SOCKET too).
#define TF_DISCONNECT 0x01
#define TF_REUSE_SOCKET 0x02
#define TF_WRITE_BEHIND 0x04
#define TF_USE_DEFAULT_WORKER 0x00
#define TF_USE_SYSTEM_THREAD 0x10
#define TF_USE_KERNEL_APC 0x20
#define DE_REUSE_SOCKET TF_REUSE_SOCKET
typedef BOOL(WINAPI* LPFN_DISCONNECTEX)(SOCKET s, LPOVERLAPPED lpOverlapped, DWORD dwFlags,
                                        DWORD dwReserved);
#define WSAID_DISCONNECTEX                           \
  {                                                  \
    0x7fda2e11, 0x8630, 0x436f, {                    \
      0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57 \
    }                                                \
  }

// ---- Functions ---------------------------------------------------------------

// Errors: one thread-local value, shared by GetLastError and WSAGetLastError
// as on Windows.
DWORD WINAPI GetLastError();
void WINAPI SetLastError(DWORD dwErrCode);
int WSAAPI WSAGetLastError();
void WSAAPI WSASetLastError(int iError);

// The completion port. The backend is proact's default, or PROACT_BACKEND
// (epoll, io_uring) read when the port is created.
HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
                                     ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads);
BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                                      PULONG_PTR lpCompletionKey, LPOVERLAPPED* lpOverlapped,
                                      DWORD dwMilliseconds);
BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
                                        LPOVERLAPPED_ENTRY lpCompletionPortEntries, ULONG ulCount,
                                        PULONG ulNumEntriesRemoved, DWORD dwMilliseconds,
                                        BOOL fAlertable);
BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                       ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped);
BOOL WINAPI CloseHandle(HANDLE hObject);
BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                LPDWORD lpNumberOfBytesTransferred, BOOL bWait);
BOOL WINAPI CancelIo(HANDLE hFile);
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);

// Winsock.
int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
int WSAAPI WSACleanup();
SOCKET WSAAPI WSASocketA(int af, int type, int protocol, void* lpProtocolInfo, unsigned g,
                         DWORD dwFlags);
SOCKET WSAAPI WSASocketW(int af, int type, int protocol, void* lpProtocolInfo, unsigned g,
                         DWORD dwFlags);
#define WSASocket WSASocketA
SOCKET WSAAPI socket(int af, int type, int protocol);
int WSAAPI bind(SOCKET s, const struct sockaddr* name, int namelen);
int WSAAPI listen(SOCKET s, int backlog);
int WSAAPI closesocket(SOCKET s);
int WSAAPI shutdown(SOCKET s, int how);
int WSAAPI setsockopt(SOCKET s, int level, int optname, const char* optval, int optlen);
int WSAAPI getsockopt(SOCKET s, int level, int optname, char* optval, int* optlen);
int WSAAPI getsockname(SOCKET s, struct sockaddr* name, int* namelen);
int WSAAPI getpeername(SOCKET s, struct sockaddr* name, int* namelen);
int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
                    LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                    LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesRecvd,
                   LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent,
                   DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                       LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr* lpFrom,
                       LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount, LPDWORD lpNumberOfBytesSent,
                     DWORD dwFlags, const struct sockaddr* lpTo, int iTolen,
                     LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer,
                                   BOOL fWait, LPDWORD lpdwFlags);

// The blocking (non-overlapped) socket calls. accept/WSAAccept
// return a connected socket associated with no port; connect, send and recv
// leave the socket's association as it was.
SOCKET WSAAPI accept(SOCKET s, struct sockaddr* addr, int* addrlen);
SOCKET WSAAPI WSAAccept(SOCKET s, struct sockaddr* addr, LPINT addrlen,
                        LPCONDITIONPROC lpfnCondition, DWORD_PTR dwCallbackData);
int WSAAPI connect(SOCKET s, const struct sockaddr* name, int namelen);
int WSAAPI WSAConnect(SOCKET s, const struct sockaddr* name, int namelen, LPWSABUF lpCallerData,
                      LPWSABUF lpCalleeData, LPQOS lpSQOS, LPQOS lpGQOS);
int WSAAPI send(SOCKET s, const char* buf, int len, int flags);
int WSAAPI recv(SOCKET s, char* buf, int len, int flags);
int WSAAPI sendto(SOCKET s, const char* buf, int len, int flags, const struct sockaddr* to,
                  int tolen);
int WSAAPI recvfrom(SOCKET s, char* buf, int len, int flags, struct sockaddr* from, int* fromlen);

// Name resolution over glibc's resolver; the results and errors in Windows'
// form (EAI_NONAME is WSAHOST_NOT_FOUND...), the error also the last error.
// GetAddrInfoW takes and gives WCHAR strings (see WCHAR).
INT WSAAPI getaddrinfo(PCSTR pNodeName, PCSTR pServiceName, const ADDRINFOA* pHints,
                       PADDRINFOA* ppResult);
void WSAAPI freeaddrinfo(PADDRINFOA pAddrInfo);
#define GetAddrInfoA getaddrinfo
#define FreeAddrInfoA freeaddrinfo
// The text of a getaddrinfo error (FormatMessageA's, on one line), in a
// buffer of the calling thread's; an unknown value gives an empty text.
char* WSAAPI gai_strerrorA(int ecode);
#define gai_strerror gai_strerrorA
INT WSAAPI GetAddrInfoW(PCWSTR pNodeName, PCWSTR pServiceName, const ADDRINFOW* pHints,
                        PADDRINFOW* ppResult);
void WSAAPI FreeAddrInfoW(PADDRINFOW pAddrInfo);
// An IPv4 or IPv6 sockaddr (Windows' family values) to a host and a service
// name; 0, or the error (also the last error): WSAEFAULT for a null or short
// address or a buffer too small, WSAEAFNOSUPPORT for another family,
// WSAEINVAL for a name asked into a buffer of size 0 or an unknown flag,
// WSAHOST_NOT_FOUND when neither is asked for or (NI_NAMEREQD) no name is
// found. GetNameInfoW's sizes count WCHARs.
INT WSAAPI getnameinfo(const struct sockaddr* pSockaddr, socklen_t SockaddrLength,
                       PCHAR pNodeBuffer, DWORD NodeBufferSize, PCHAR pServiceBuffer,
                       DWORD ServiceBufferSize, INT Flags);
#define GetNameInfoA getnameinfo
INT WSAAPI GetNameInfoW(const struct sockaddr* pSockaddr, socklen_t SockaddrLength,
                        PWCHAR pNodeBuffer, DWORD NodeBufferSize, PWCHAR pServiceBuffer,
                        DWORD ServiceBufferSize, INT Flags);
// 1, 0 (not an address of the family), or -1 (WSAEAFNOSUPPORT, WSAEFAULT).
INT WSAAPI inet_pton(INT Family, PCSTR pszAddrString, PVOID pAddrBuf);
// NULL with WSAEAFNOSUPPORT, or ERROR_INVALID_PARAMETER when the buffer is
// too small.
PCSTR WSAAPI inet_ntop(INT Family, const VOID* pAddr, PSTR pStringBuf, std::size_t StringBufSize);
#define InetPtonA inet_pton
#define InetNtopA inet_ntop
// INADDR_NONE for what is not an IPv4 address.
u_long WSAAPI inet_addr(const char* cp);
// A buffer of the calling thread's, as Windows'.
char* WSAAPI inet_ntoa(struct in_addr in);

// The extension functions, also callable directly as mswsock exports them.
BOOL WINAPI AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer,
                     DWORD dwReceiveDataLength, DWORD dwLocalAddressLength,
                     DWORD dwRemoteAddressLength, LPDWORD lpdwBytesReceived,
                     LPOVERLAPPED lpOverlapped);
// TransmitFile: the head buffer, then the file from the OVERLAPPED's offset,
// nNumberOfBytesToWrite bytes (0: to the end; hFile NULL: none), then the
// tail buffer; bytes = all of them. TF_DISCONNECT (with TF_REUSE_SOCKET: the
// socket may then be an AcceptEx/ConnectEx socket again) as DisconnectEx;
// the performance hints are accepted and ignored; other bits: WSAEINVAL.
// DisconnectEx itself is reached through WSAIoctl(WSAID_DISCONNECTEX), as
// mswsock exports no such function.
BOOL WINAPI TransmitFile(SOCKET hSocket, HANDLE hFile, DWORD nNumberOfBytesToWrite,
                         DWORD nNumberOfBytesPerSend, LPOVERLAPPED lpOverlapped,
                         LPTRANSMIT_FILE_BUFFERS lpTransmitBuffers, DWORD dwReserved);
void WINAPI GetAcceptExSockaddrs(PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
                                 DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
                                 struct sockaddr** LocalSockaddr, LPINT LocalSockaddrLength,
                                 struct sockaddr** RemoteSockaddr, LPINT RemoteSockaddrLength);

// Files: overlapped only (FILE_FLAG_OVERLAPPED), positional I/O at the
// OVERLAPPED's Offset/OffsetHigh.
#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_ALL 0x10000000u
#define FILE_SHARE_READ 0x00000001
#define FILE_SHARE_WRITE 0x00000002
#define FILE_SHARE_DELETE 0x00000004
#define CREATE_NEW 1
#define CREATE_ALWAYS 2
#define OPEN_EXISTING 3
#define OPEN_ALWAYS 4
#define TRUNCATE_EXISTING 5
#define FILE_ATTRIBUTE_READONLY 0x00000001
#define FILE_ATTRIBUTE_NORMAL 0x00000080
#define FILE_FLAG_OVERLAPPED 0x40000000
HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPVOID lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile);
BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                     LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped);
BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                      LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);
BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize);
BOOL WINAPI DeleteFileA(LPCSTR lpFileName);
// The WCHAR forms: the name converted to UTF-8 (the A forms take UTF-8 here,
// where Windows would read them in the ANSI code page).
HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPVOID lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile);
BOOL WINAPI DeleteFileW(LPCWSTR lpFileName);
#ifdef UNICODE
#define CreateFile CreateFileW
#define DeleteFile DeleteFileW
#else
#define CreateFile CreateFileA
#define DeleteFile DeleteFileA
#endif
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS on a socket or file; call it before
// starting I/O on the handle.
BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags);
DWORD WINAPI GetCurrentProcessId();

// Modules: no DLLs here. GetModuleHandleA answers NULL (ERROR_MOD_NOT_FOUND),
// so a program probing ntdll for wine_get_version learns it is not under Wine.
typedef struct HINSTANCE__* HMODULE;
typedef int(WINAPI* FARPROC)();
HMODULE WINAPI GetModuleHandleA(LPCSTR lpModuleName);
FARPROC WINAPI GetProcAddress(HMODULE hModule, LPCSTR lpProcName);

// Waits: on thread handles (signaled once the thread has ended), event,
// semaphore and mutex handles. The lowest signaled index answers a wait for
// any; a satisfied wait resets the auto-reset events it waited for, takes
// one of each semaphore's count and each mutex (WAIT_ABANDONED_0 + i: a
// mutex whose owner ended without releasing it, taken now).
DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds);

// Events, unnamed (a name: ERROR_NOT_SUPPORTED); CloseHandle closes them.
HANDLE WINAPI CreateEventA(LPVOID lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                           LPCSTR lpName);
HANDLE WINAPI CreateEventW(LPVOID lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                           LPCWSTR lpName);
#ifdef UNICODE
#define CreateEvent CreateEventW
#else
#define CreateEvent CreateEventA
#endif
BOOL WINAPI SetEvent(HANDLE hEvent);
BOOL WINAPI ResetEvent(HANDLE hEvent);

// Semaphores and mutexes, unnamed (a name: ERROR_NOT_SUPPORTED);
// CloseHandle closes them.
HANDLE WINAPI CreateSemaphoreA(LPVOID lpSemaphoreAttributes, LONG lInitialCount, LONG lMaximumCount,
                               LPCSTR lpName);
HANDLE WINAPI CreateSemaphoreW(LPVOID lpSemaphoreAttributes, LONG lInitialCount, LONG lMaximumCount,
                               LPCWSTR lpName);
BOOL WINAPI ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount);
HANDLE WINAPI CreateMutexA(LPVOID lpMutexAttributes, BOOL bInitialOwner, LPCSTR lpName);
HANDLE WINAPI CreateMutexW(LPVOID lpMutexAttributes, BOOL bInitialOwner, LPCWSTR lpName);
BOOL WINAPI ReleaseMutex(HANDLE hMutex);
#ifdef UNICODE
#define CreateSemaphore CreateSemaphoreW
#define CreateMutex CreateMutexW
#else
#define CreateSemaphore CreateSemaphoreA
#define CreateMutex CreateMutexA
#endif
// Winsock's names for the same events: manual-reset, created unsignaled;
// errors through WSAGetLastError.
typedef HANDLE WSAEVENT;
typedef HANDLE* LPWSAEVENT;
#define WSA_INVALID_EVENT (static_cast<WSAEVENT>(nullptr))
#define WSA_MAXIMUM_WAIT_EVENTS MAXIMUM_WAIT_OBJECTS
#define WSA_WAIT_EVENT_0 WAIT_OBJECT_0
#define WSA_WAIT_IO_COMPLETION 0x000000C0u
#define WSA_WAIT_TIMEOUT WAIT_TIMEOUT
#define WSA_WAIT_FAILED WAIT_FAILED
#define WSA_INFINITE INFINITE
WSAEVENT WSAAPI WSACreateEvent();
BOOL WSAAPI WSASetEvent(WSAEVENT hEvent);
BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent);
BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent);
// fAlertable is accepted; there are no APCs to run.
DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT* lphEvents, BOOL fWaitAll,
                                      DWORD dwTimeout, BOOL fAlertable);

// Console control: SIGINT is CTRL_C_EVENT, SIGQUIT CTRL_BREAK_EVENT, SIGHUP
// CTRL_CLOSE_EVENT and SIGTERM CTRL_SHUTDOWN_EVENT. The handlers run on a
// thread of their own, the last added first, until one returns TRUE; when
// none does, the signal ends the process as it would have. A handler that
// returns TRUE keeps the process running, whatever the event (Windows ends
// it after CTRL_CLOSE_EVENT and the like). (NULL, TRUE) ignores CTRL_C_EVENT.
// A child made by fork() starts with no handlers.
#define CTRL_C_EVENT 0
#define CTRL_BREAK_EVENT 1
#define CTRL_CLOSE_EVENT 2
#define CTRL_LOGOFF_EVENT 5
#define CTRL_SHUTDOWN_EVENT 6
typedef BOOL(WINAPI* PHANDLER_ROUTINE)(DWORD CtrlType);
BOOL WINAPI SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add);

// Threads. _beginthreadex (<process.h>) is CreateThread with the C
// runtime's types: 0 and errno (EINVAL, EAGAIN) on failure, else the HANDLE.
// ExitThread and _endthreadex end the calling thread with an exit code (its
// mutexes abandoned, its handle signaled); unlike Windows they unwind its
// stack, so C++ destructors run.
typedef DWORD(WINAPI* LPTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
std::uintptr_t __cdecl _beginthreadex(void* security, unsigned stack_size,
                                      unsigned(__stdcall* start_address)(void*), void* arglist,
                                      unsigned initflag, unsigned* thrdaddr);
#define CREATE_SUSPENDED 0x00000004
#define STILL_ACTIVE 259
#define MAXIMUM_WAIT_OBJECTS 64
HANDLE WINAPI CreateThread(LPVOID lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                           DWORD dwCreationFlags, LPDWORD lpThreadId);
BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
[[noreturn]] void WINAPI ExitThread(DWORD dwExitCode);
[[noreturn]] void __cdecl _endthreadex(unsigned retval);
DWORD WINAPI GetCurrentThreadId();
void WINAPI Sleep(DWORD dwMilliseconds);
DWORD WINAPI GetTickCount();
ULONGLONG WINAPI GetTickCount64();

// CRITICAL_SECTION: Windows' size (40 bytes on x64), holding a recursive
// mutex.
typedef struct _RTL_CRITICAL_SECTION {
  alignas(8) unsigned char opaque[40];
} CRITICAL_SECTION, *LPCRITICAL_SECTION;
void WINAPI InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection);
BOOL WINAPI InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
                                                  DWORD dwSpinCount);
void WINAPI EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection);
BOOL WINAPI TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection);
void WINAPI LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection);
void WINAPI DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection);

// Interlocked operations (full barriers, as Windows').
LONG WINAPI InterlockedIncrement(LONG volatile* Addend);
LONG WINAPI InterlockedDecrement(LONG volatile* Addend);
LONG WINAPI InterlockedExchange(LONG volatile* Target, LONG Value);
LONG WINAPI InterlockedExchangeAdd(LONG volatile* Addend, LONG Value);
LONG WINAPI InterlockedCompareExchange(LONG volatile* Destination, LONG Exchange, LONG Comperand);

// The system and the process heap.
#define PROCESSOR_ARCHITECTURE_AMD64 9
#define PROCESSOR_ARCHITECTURE_ARM64 12
#define HEAP_ZERO_MEMORY 0x00000008
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // Windows' anonymous struct in a union
typedef struct _SYSTEM_INFO {
  union {
    DWORD dwOemId;
    struct {
      WORD wProcessorArchitecture;
      WORD wReserved;
    };
  };
  DWORD dwPageSize;
  LPVOID lpMinimumApplicationAddress;
  LPVOID lpMaximumApplicationAddress;
  DWORD_PTR dwActiveProcessorMask;
  DWORD dwNumberOfProcessors;
  DWORD dwProcessorType;
  DWORD dwAllocationGranularity;
  WORD wProcessorLevel;
  WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;
#pragma GCC diagnostic pop
void WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);
HANDLE WINAPI GetProcessHeap();
LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);
// The local and global allocators (fixed memory only: a moveable block,
// which needs LocalLock, gives NULL and ERROR_NOT_SUPPORTED).
typedef HANDLE HLOCAL;
typedef HANDLE HGLOBAL;
#define LMEM_FIXED 0x0000
#define LMEM_MOVEABLE 0x0002
#define LMEM_ZEROINIT 0x0040
#define LPTR (LMEM_FIXED | LMEM_ZEROINIT)
#define GMEM_FIXED 0x0000
#define GMEM_MOVEABLE 0x0002
#define GMEM_ZEROINIT 0x0040
#define GPTR (GMEM_FIXED | GMEM_ZEROINIT)
HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes);
HLOCAL WINAPI LocalFree(HLOCAL hMem);
HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes);
HGLOBAL WINAPI GlobalFree(HGLOBAL hMem);

// High-resolution time: QueryPerformanceCounter counts the monotonic clock
// in units of 100 ns, QueryPerformanceFrequency says 10 MHz (as Windows 10
// and later do).
BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER* lpPerformanceCount);
BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER* lpFrequency);

// System messages: FormatMessageA with FORMAT_MESSAGE_FROM_SYSTEM, Windows'
// English text (with its "\r\n") of the ERROR_* and WSAE* values this layer
// gives; another value: 0, ERROR_MR_MID_NOT_FOUND. FORMAT_MESSAGE_FROM_STRING
// and FORMAT_MESSAGE_FROM_HMODULE: 0, ERROR_NOT_SUPPORTED. With
// FORMAT_MESSAGE_ALLOCATE_BUFFER, lpBuffer is an LPSTR* that receives a
// buffer to free with LocalFree.
#define FORMAT_MESSAGE_ALLOCATE_BUFFER 0x00000100
#define FORMAT_MESSAGE_IGNORE_INSERTS 0x00000200
#define FORMAT_MESSAGE_FROM_STRING 0x00000400
#define FORMAT_MESSAGE_FROM_HMODULE 0x00000800
#define FORMAT_MESSAGE_FROM_SYSTEM 0x00001000
#define FORMAT_MESSAGE_ARGUMENT_ARRAY 0x00002000
#define FORMAT_MESSAGE_MAX_WIDTH_MASK 0x000000FF
#define LANG_NEUTRAL 0x00
#define SUBLANG_DEFAULT 0x01
#define MAKELANGID(p, s) static_cast<WORD>((static_cast<WORD>(s) << 10) | static_cast<WORD>(p))
DWORD WINAPI FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                            LPSTR lpBuffer, DWORD nSize, va_list* Arguments);
#define FormatMessage FormatMessageA

// The Microsoft C runtime's own string functions, which MinGW and MSVC have
// and glibc has not; the _s forms with the array overloads C++ gets on
// Windows. On a destination too small the _s forms leave an empty string
// and return ERANGE (Windows calls the invalid-parameter handler first;
// there is none here). Each is left out where a macro of its name exists
// (a source's own stand-in for Linux).
#ifndef _stricmp
inline int _stricmp(const char* a, const char* b) {
  return ::strcasecmp(a, b);
}
#endif
#ifndef _strnicmp
inline int _strnicmp(const char* a, const char* b, std::size_t n) {
  return ::strncasecmp(a, b, n);
}
#endif
#ifndef _strdup
inline char* _strdup(const char* s) {
  return ::strdup(s);
}
#endif
#ifndef _vsnprintf
// As Windows': -1 when the text does not fit (what fit is kept; Windows
// leaves it without a terminating NUL, here it has one).
inline int _vsnprintf(char* buffer, std::size_t count, const char* format, va_list args) {
  const int n = std::vsnprintf(buffer, count, format, args);
  return n >= 0 && static_cast<std::size_t>(n) < count ? n : -1;
}
#endif
#ifndef _snprintf
inline int _snprintf(char* buffer, std::size_t count, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
inline int _snprintf(char* buffer, std::size_t count, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = _vsnprintf(buffer, count, format, args);
  va_end(args);
  return n;
}
#endif
#ifndef vsprintf_s
inline int vsprintf_s(char* buffer, std::size_t size, const char* format, va_list args) {
  if (buffer == nullptr || size == 0 || format == nullptr) return -1;
  const int n = std::vsnprintf(buffer, size, format, args);
  if (n < 0 || static_cast<std::size_t>(n) >= size) {
    buffer[0] = '\0';
    return -1;
  }
  return n;
}
#endif
#ifndef sprintf_s
inline int sprintf_s(char* buffer, std::size_t size, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
inline int sprintf_s(char* buffer, std::size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = vsprintf_s(buffer, size, format, args);
  va_end(args);
  return n;
}
template <std::size_t Size>
inline int sprintf_s(char (&buffer)[Size], const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = vsprintf_s(buffer, Size, format, args);
  va_end(args);
  return n;
}
#endif
#ifndef strcpy_s
inline int strcpy_s(char* destination, std::size_t size, const char* source) {
  if (destination == nullptr || size == 0) return EINVAL;
  if (source == nullptr) {
    destination[0] = '\0';
    return EINVAL;
  }
  const std::size_t n = std::strlen(source);
  if (n >= size) {
    destination[0] = '\0';
    return ERANGE;
  }
  std::memcpy(destination, source, n + 1);
  return 0;
}
template <std::size_t Size>
inline int strcpy_s(char (&destination)[Size], const char* source) {
  return strcpy_s(destination, Size, source);
}
#endif
#ifndef strcat_s
inline int strcat_s(char* destination, std::size_t size, const char* source) {
  if (destination == nullptr || size == 0) return EINVAL;
  const std::size_t used = ::strnlen(destination, size);
  if (used == size || source == nullptr) {
    destination[0] = '\0';
    return EINVAL;
  }
  const std::size_t n = std::strlen(source);
  if (used + n >= size) {
    destination[0] = '\0';
    return ERANGE;
  }
  std::memcpy(destination + used, source, n + 1);
  return 0;
}
template <std::size_t Size>
inline int strcat_s(char (&destination)[Size], const char* source) {
  return strcat_s(destination, Size, source);
}
#endif

// NOLINTEND
