#include "oci/monitor/idle_trim.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/file.h"

namespace crius::oci::monitor {

void IdleTrim::init() {
  ranges_.clear();
  struct stat exe;
  if (::stat("/proc/self/exe", &exe) != 0) return;
  // Unreadable (no /proc): nothing is trimmed then.
  const std::string smaps = read_file_or_empty("/proc/self/smaps");
  // A mapping's header line, then its "Key: value" lines.
  bool candidate = false;
  Range cur{};
  auto close_mapping = [&] {
    if (candidate) ranges_.push_back(cur);
    candidate = false;
  };
  size_t pos = 0;
  while (pos < smaps.size()) {
    size_t eol = smaps.find('\n', pos);
    if (eol == std::string::npos) eol = smaps.size();
    const std::string line = smaps.substr(pos, eol - pos);
    pos = eol + 1;
    unsigned long start, end, offset, inode;
    unsigned major, minor;
    char perms[5];
    if (std::sscanf(line.c_str(), "%lx-%lx %4s %lx %x:%x %lu", &start, &end, perms, &offset, &major, &minor,
                    &inode) == 7) {
      close_mapping();
      // Only the executable's own pages that can never have been written:
      // code and constants, never .data or a writable mapping.
      candidate = inode == exe.st_ino && major == ::major(exe.st_dev) && minor == ::minor(exe.st_dev) &&
                  perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
      cur = Range{reinterpret_cast<char*>(start), end - start};
      continue;
    }
    // A private copy (RELRO after start-up relocations) would be lost.
    if (candidate && line.starts_with("Anonymous:") && std::strtoul(line.c_str() + 10, nullptr, 10) != 0)
      candidate = false;
  }
  close_mapping();
}

void IdleTrim::trim() {
  // The heap first: code run after the madvise calls is faulted back in.
  ::malloc_trim(0);
  for (const Range& r : ranges_) ::madvise(r.start, r.length, MADV_DONTNEED);
}

}  // namespace crius::oci::monitor
