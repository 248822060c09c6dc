// The D-Bus wire format, as much of it as crius needs to talk to systemd:
// little-endian marshalling of the basic types y b u i t x s o g, arrays,
// structs, dict entries and variants, and whole messages (fixed header,
// header fields, body). Values are dynamic (Value carries its signature) so
// that one encoder and one decoder serve every method we call.
// No libdbus/libsystemd: this links into the static runtime and monitor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crius::oci::dbus {

struct Value {
  std::string sig;            // complete signature of this one value ("s", "au", "a(sv)", "v")
  uint64_t num = 0;           // y b u i t x (signed ones as two's complement)
  std::string str;            // s o g
  std::vector<Value> items;   // array elements, struct/dict-entry fields, variant: items[0]

  static Value byte(uint8_t v);
  static Value boolean(bool v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value string(std::string v);
  static Value object_path(std::string v);
  static Value signature(std::string v);
  // elem_sig is needed for an empty array.
  static Value array(std::string elem_sig, std::vector<Value> elems);
  static Value structure(std::vector<Value> fields);
  static Value variant(Value inner);

  bool operator==(const Value& o) const { return sig == o.sig && num == o.num && str == o.str && items == o.items; }
};

// Splits a signature into its complete types: "sa(sv)u" → {"s", "a(sv)", "u"}.
// InvalidArgument for a malformed one.
std::vector<std::string> split_signature(const std::string& sig);

// Appends v to buf at offset buf.size() (alignment counted from buf's start,
// which is the message start or the body start — both 8-aligned).
void marshal(std::string& buf, const Value& v);
// Reads one value of complete type sig at pos (advanced); InvalidArgument on
// a truncated or malformed buffer.
Value unmarshal(const std::string& buf, size_t& pos, const std::string& sig);

enum class MessageType : uint8_t { invalid = 0, method_call = 1, method_return = 2, error = 3, signal = 4 };

struct Message {
  MessageType type = MessageType::invalid;
  uint8_t flags = 0;  // 1: no reply expected
  uint32_t serial = 0;
  std::string path, interface, member, error_name, destination, sender;
  uint32_t reply_serial = 0;
  std::vector<Value> body;  // its signature is the concatenation of the items'

  std::string body_signature() const;
  // The whole message on the wire.
  std::string serialize() const;
  // Bytes needed for the message at the start of buf (0 while fewer than 16
  // bytes are there); InvalidArgument when the header is not one we read.
  static size_t wire_size(const std::string& buf);
  // buf holds exactly one message (wire_size bytes).
  static Message parse(const std::string& buf);
};

}  // namespace crius::oci::dbus
