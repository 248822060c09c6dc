#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd.h"
#include "oci/cgroups/devices.h"

namespace crius::oci::cgroups {
namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// Registers after the prologue: r2 device type, r3 requested access,
// r4 major, r5 minor (struct bpf_cgroup_dev_ctx).
void prologue(std::vector<bpf_insn>& p) {
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0));  // access_type
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0));  // major
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0));  // minor
}

int access_bits(const std::string& a) {
  int bits = 0;
  for (char c : a) bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return bits;
}

// One rule: a run of "skip to the next rule unless it matches" tests, then
// return its verdict.
void rule_block(std::vector<bpf_insn>& p, const DeviceRule& r) {
  std::vector<size_t> jumps;
  if (r.type != 'a') {
    jumps.push_back(p.size());
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
  }
  const int acc = access_bits(r.access);
  if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
    // Matches only when every requested bit is one of the rule's.
    p.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0));
    p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, ~acc & 7));
    jumps.push_back(p.size());
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0));
  }
  if (r.major >= 0) {
    jumps.push_back(p.size());
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(r.major)));
  }
  if (r.minor >= 0) {
    jumps.push_back(p.size());
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(r.minor)));
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r.allow ? 1 : 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  const size_t next = p.size();
  for (size_t j : jumps) p[j].off = static_cast<int16_t>(next - j - 1);
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

}  // namespace

std::vector<uint64_t> device_filter_program(const std::vector<DeviceRule>& rules) {
  std::vector<DeviceRule> all = rules;
  const bool allow_all = !rules.empty() && rules.back().allow && rules.back().type == 'a' &&
                         rules.back().major == -1 && rules.back().minor == -1 && rules.back().access == "rwm";
  if (!allow_all) all.insert(all.end(), default_device_rules().begin(), default_device_rules().end());
  std::vector<bpf_insn> p;
  prologue(p);
  // The last matching rule wins: test them from last to first.
  // A rule that matches everything ends the program: the verifier refuses
  // unreachable instructions after it.
  bool ended = false;
  for (auto it = all.rbegin(); it != all.rend() && !ended; ++it) {
    rule_block(p, *it);
    ended = it->type == 'a' && it->major < 0 && it->minor < 0 && it->access.find('r') != std::string::npos &&
            it->access.find('w') != std::string::npos && it->access.find('m') != std::string::npos;
  }
  if (!ended) {
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  std::vector<uint64_t> out(p.size());
  std::memcpy(out.data(), p.data(), p.size() * sizeof(bpf_insn));
  return out;
}

void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules) {
  const std::vector<uint64_t> prog = device_filter_program(rules);
  static const char license[] = "Apache";
  std::vector<char> log(1 << 16);
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>(license);
  load.log_buf = reinterpret_cast<uint64_t>(log.data());
  load.log_size = static_cast<uint32_t>(log.size());
  load.log_level = 1;
  Fd prog_fd(static_cast<int>(bpf(BPF_PROG_LOAD, load)));
  if (!prog_fd) {
    int err = errno;
    throw Internal(errno_text("devices: load the BPF device filter for " + cgroup_dir, err) +
                   (log[0] ? " (verifier: " + std::string(log.data()) + ")" : ""));
  }
  Fd dir(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno("devices: open " + cgroup_dir);
  // Programs attached before (an update): remember them to detach after the
  // new one is in place, so that no window allows everything.
  std::vector<uint32_t> old(64);
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(dir.get());
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(old.data());
  q.query.prog_cnt = static_cast<uint32_t>(old.size());
  if (bpf(BPF_PROG_QUERY, q) == 0)
    old.resize(q.query.prog_cnt);
  else
    old.clear();
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(dir.get());
  at.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, at) != 0) throw_errno("devices: attach the BPF device filter to " + cgroup_dir);
  for (uint32_t id : old) {
    bpf_attr g{};
    g.prog_id = id;
    Fd ofd(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, g)));
    if (!ofd) continue;
    bpf_attr d{};
    d.target_fd = static_cast<uint32_t>(dir.get());
    d.attach_bpf_fd = static_cast<uint32_t>(ofd.get());
    d.attach_type = BPF_CGROUP_DEVICE;
    // Attached programs all must allow an access: an old one that stays
    // (detach failed) can only narrow the new rules, never widen them.
    bpf(BPF_PROG_DETACH, d);
  }
}

}  // namespace crius::oci::cgroups
