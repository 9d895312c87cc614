// proact: one proactor (completion-based) event loop with the semantics of
// Windows I/O completion ports, on IOCP, epoll and io_uring.
#pragma once

#include "proact/buffer.hpp"
#include "proact/composed.hpp"
#include "proact/connect.hpp"
#include "proact/endpoint.hpp"
#include "proact/error.hpp"
#include "proact/file.hpp"
#include "proact/handle.hpp"
#include "proact/local_stream.hpp"
#include "proact/loop.hpp"
#include "proact/operation.hpp"
#include "proact/port.hpp"
#include "proact/socket.hpp"
#include "proact/spawn.hpp"
#include "proact/stream.hpp"
#include "proact/task.hpp"
#include "proact/timer.hpp"
#include "proact/udp.hpp"
#include "proact/version.hpp"
#include "proact/when.hpp"
