// linux.resources of the OCI runtime spec, parsed and checked, and turned
// into controller file writes for either hierarchy. The writes are plain
// data (controller, file, value) so that they can be checked without a
// kernel; Cgroup (cgroup.h) performs them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::oci::cgroups {

struct DeviceRule {
  bool allow = false;
  char type = 'a';       // 'a', 'c', 'b'
  int64_t major = -1;    // -1: any
  int64_t minor = -1;
  std::string access = "rwm";
};

struct BlockDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;  // weightDevice
  uint64_t rate = 0;                             // throttle*
};

struct Resources {
  std::vector<DeviceRule> devices;
  bool has_devices = false;
  struct Memory {
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
  };
  std::optional<Memory> memory;
  struct Cpu {
    std::optional<uint64_t> shares, period, realtime_period, burst;
    std::optional<int64_t> quota, realtime_runtime, idle;
    std::string cpus, mems;
  };
  std::optional<Cpu> cpu;
  std::optional<int64_t> pids_limit;
  struct BlockIO {
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<BlockDevice> weight_device, read_bps, write_bps, read_iops, write_iops;
  };
  std::optional<BlockIO> block_io;
  std::vector<std::pair<std::string, uint64_t>> hugepage_limits;  // "2MB" → bytes
  struct Network {
    std::optional<uint32_t> class_id;
    std::vector<std::pair<std::string, uint32_t>> priorities;
  };
  std::optional<Network> network;
  struct Rdma {
    std::optional<uint32_t> hca_handles, hca_objects;
  };
  std::map<std::string, Rdma> rdma;
  std::map<std::string, std::string> unified;

  // Whether anything but device rules is asked for.
  bool limits_anything() const {
    return memory || cpu || pids_limit || block_io || !hugepage_limits.empty() || network || !rdma.empty() ||
           !unified.empty();
  }
};

// Throws InvalidArgument naming the key ("linux.resources.memory.limit: …").
Resources parse_resources(const nlohmann::json& j);

// The devices a container gets whatever its rules say (as runc and crun):
// mknod of anything, null, zero, full, random, urandom, tty, ptmx, /dev/pts.
const std::vector<DeviceRule>& default_device_rules();

struct Write {
  std::string controller;  // v1 controller; "" on v2
  std::string file;        // "memory.max"
  std::string value;
  bool optional = false;   // skipped when the file does not exist
};

// cpu.shares (2…262144) → cpu.weight (1…10000), as runc converts it.
uint64_t shares_to_weight(uint64_t shares);
// blkio.weight (10…1000) → io.weight (1…10000).
uint64_t blkio_to_io_weight(uint64_t weight);
// memory.swap in OCI terms (memory+swap) → memory.swap.max; -1 is "max",
// nullopt when unset. InvalidArgument when it cannot be expressed.
std::optional<int64_t> swap_to_v2(int64_t swap, int64_t limit);

// Writes for a v2 cgroup. warnings collects fields ignored on v2.
// has_bfq: io.bfq.weight exists (weights go there, unconverted).
std::vector<Write> v2_writes(const Resources&, std::vector<std::string>& warnings, bool has_bfq = false);
// Writes for v1 controllers (unified refused). Devices are separate.
std::vector<Write> v1_writes(const Resources&, std::vector<std::string>& warnings);
// devices.deny / devices.allow lines for v1, default rules appended.
std::vector<Write> v1_device_writes(const std::vector<DeviceRule>& rules);

}  // namespace crius::oci::cgroups
