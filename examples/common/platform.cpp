#include "platform.hpp"

#if !defined(_WIN32)
#include <sys/resource.h>
#endif

namespace examples {

#if defined(_WIN32)

unsigned long raise_open_file_limit() {
  return 0;
}

#else

unsigned long raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? static_cast<unsigned long>(-1)
                                         : static_cast<unsigned long>(limit.rlim_cur);
}

#endif

}  // namespace examples
