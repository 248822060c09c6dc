// The D-Bus marshalling of oci/cgroups/dbus_message.h against byte
// sequences worked out by hand from the D-Bus specification (little endian,
// each value aligned to its type's boundary from the buffer's start), and
// the systemd unit naming and properties of oci/cgroups/systemd.h.
#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/cgroups/dbus_message.h"
#include "oci/cgroups/systemd.h"

namespace crius::oci::dbus {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string encode(const Value& v, std::string prefix = "") {
  marshal(prefix, v);
  return prefix;
}

// Decodes what encode wrote (after the same prefix) and checks it is all.
Value decode(const std::string& buf, size_t start, const std::string& sig) {
  size_t pos = start;
  Value v = unmarshal(buf, pos, sig);
  EXPECT_EQ(pos, buf.size()) << sig;
  return v;
}

TEST(DbusMarshal, FixedTypesAreLittleEndianAndAligned) {
  EXPECT_EQ(encode(Value::u32(0x12345678)), bytes({0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(encode(Value::boolean(true)), bytes({1, 0, 0, 0}));
  // A byte, then a u64 aligned to 8: seven bytes of padding.
  EXPECT_EQ(encode(Value::u64(0x0102030405060708ull), bytes({0xff})),
            bytes({0xff, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(encode(Value::i32(-2)), bytes({0xfe, 0xff, 0xff, 0xff}));
  const std::string b = encode(Value::i64(-5), bytes({0}));
  EXPECT_EQ(decode(b, 1, "x"), Value::i64(-5));
}

TEST(DbusMarshal, StringsObjectPathsAndSignatures) {
  // u32 length (aligned to 4), the bytes, a nul.
  EXPECT_EQ(encode(Value::string("ab"), bytes({1})), bytes({1, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0}));
  EXPECT_EQ(encode(Value::object_path("/")), bytes({1, 0, 0, 0, '/', 0}));
  // A signature has a one-byte length and no alignment.
  EXPECT_EQ(encode(Value::signature("au"), bytes({7})), bytes({7, 2, 'a', 'u', 0}));
  const std::string s = encode(Value::string(""), bytes({9}));
  EXPECT_EQ(decode(s, 1, "s"), Value::string(""));
}

TEST(DbusMarshal, ArraysCountTheirBytesWithoutLeadingPadding) {
  EXPECT_EQ(encode(Value::array("u", {Value::u32(1), Value::u32(2)})),
            bytes({8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}));
  // An empty array of 8-aligned elements still pads after its length.
  EXPECT_EQ(encode(Value::array("t", {})), bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  // Starting at offset 4 the padding is not needed; the length stays 8.
  EXPECT_EQ(encode(Value::array("t", {Value::u64(3)}), bytes({0, 0, 0, 0})),
            bytes({0, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}));
  const std::string a = encode(Value::array("s", {Value::string("x"), Value::string("yz")}));
  EXPECT_EQ(decode(a, 0, "as"), Value::array("s", {Value::string("x"), Value::string("yz")}));
}

TEST(DbusMarshal, PropertyArrayOfStructWithVariant) {
  // a(sv) holding ("Delegate", <true>): length, pad to 8, struct at 8:
  // "Delegate" (4 + 9 bytes, to 21), variant signature "b" (3 bytes, to 24),
  // the boolean (to 28). The array's length is 28 - 8 = 20.
  const Value props = Value::array(
      "(sv)", {Value::structure({Value::string("Delegate"), Value::variant(Value::boolean(true))})});
  EXPECT_EQ(props.sig, "a(sv)");
  const std::string expect = bytes({20, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0}) + std::string("Delegate") +
                             bytes({0, 1, 'b', 0, 1, 0, 0, 0});
  const std::string got = encode(props);
  EXPECT_EQ(got, expect);
  EXPECT_EQ(decode(got, 0, "a(sv)"), props);
}

TEST(DbusMarshal, NestedAuxArrayAndVariantsRoundTrip) {
  const Value pids = Value::variant(Value::array("u", {Value::u32(42)}));
  const Value aux = Value::array(
      "(sa(sv))",
      {Value::structure({Value::string("x.scope"),
                         Value::array("(sv)", {Value::structure({Value::string("PIDs"), pids})})})});
  EXPECT_EQ(aux.sig, "a(sa(sv))");
  const std::string b = encode(aux, bytes({1, 2, 3}));
  EXPECT_EQ(decode(b, 3, "a(sa(sv))"), aux);
  // A dict entry reads like a struct.
  const std::string d = encode(Value::array("(sv)", {}));
  EXPECT_EQ(decode(d, 0, "a{sv}").items.size(), 0u);
}

TEST(DbusMarshal, RefusesMalformedInput) {
  size_t pos = 0;
  EXPECT_THROW(unmarshal(bytes({5, 0, 0, 0, 'a'}), pos, "s"), Error);  // truncated
  pos = 0;
  EXPECT_THROW(unmarshal(bytes({2, 0, 0, 0}), pos, "b"), Error);  // boolean 2
  pos = 1;
  EXPECT_THROW(unmarshal(bytes({0, 1, 0, 0, 1, 0, 0, 0}), pos, "u"), Error);  // non-zero padding
  pos = 0;
  EXPECT_THROW(unmarshal(bytes({1, 0, 0, 0, 'a', 'b'}), pos, "s"), Error);  // no nul
  pos = 0;
  EXPECT_THROW(unmarshal(bytes({0, 0, 0, 0}), pos, "a("), Error);  // bad signature
  pos = 0;
  EXPECT_THROW(unmarshal(bytes({0, 0, 0, 0}), pos, "uu"), Error);  // two types
  EXPECT_THROW(Value::array("u", {Value::string("no")}), Error);
  EXPECT_EQ(split_signature("sa(sv)a{sv}u"), (std::vector<std::string>{"s", "a(sv)", "a{sv}", "u"}));
}

TEST(DbusMessage, HeaderLayoutAndRoundTrip) {
  Message m;
  m.type = MessageType::method_call;
  m.serial = 7;
  m.path = "/org/freedesktop/systemd1";
  m.interface = "org.freedesktop.systemd1.Manager";
  m.member = "StopUnit";
  m.destination = "org.freedesktop.systemd1";
  m.body = {Value::string("a.scope"), Value::string("replace")};
  const std::string wire = m.serialize();
  // 'l', type 1, flags 0, version 1, body length, serial.
  EXPECT_EQ(wire.substr(0, 4), bytes({'l', 1, 0, 1}));
  const std::string body = bytes({7, 0, 0, 0}) + "a.scope" + bytes({0, 7, 0, 0, 0}) + "replace" + bytes({0});
  EXPECT_EQ(wire.substr(4, 4), bytes({static_cast<int>(body.size()), 0, 0, 0}));
  EXPECT_EQ(wire.substr(8, 4), bytes({7, 0, 0, 0}));
  // The header is padded to 8; the body follows.
  EXPECT_EQ(wire.size() % 8, body.size() % 8);
  EXPECT_EQ(wire.substr(wire.size() - body.size()), body);
  EXPECT_EQ(Message::wire_size(wire), wire.size());
  EXPECT_EQ(Message::wire_size(wire.substr(0, 15)), 0u);

  const Message back = Message::parse(wire);
  EXPECT_EQ(back.type, MessageType::method_call);
  EXPECT_EQ(back.serial, 7u);
  EXPECT_EQ(back.path, m.path);
  EXPECT_EQ(back.interface, m.interface);
  EXPECT_EQ(back.member, m.member);
  EXPECT_EQ(back.destination, m.destination);
  EXPECT_EQ(back.body_signature(), "ss");
  EXPECT_EQ(back.body, m.body);
}

TEST(DbusMessage, ErrorReplyAndBigEndianRefused) {
  Message e;
  e.type = MessageType::error;
  e.serial = 3;
  e.reply_serial = 2;
  e.error_name = "org.freedesktop.systemd1.NoSuchUnit";
  e.body = {Value::string("Unit x.scope not loaded.")};
  const Message back = Message::parse(e.serialize());
  EXPECT_EQ(back.type, MessageType::error);
  EXPECT_EQ(back.reply_serial, 2u);
  EXPECT_EQ(back.error_name, e.error_name);
  EXPECT_EQ(back.body, e.body);
  std::string big = e.serialize();
  big[0] = 'B';
  EXPECT_THROW(Message::wire_size(big), Error);
}

}  // namespace
}  // namespace crius::oci::dbus

namespace crius::oci::cgroups::systemd {
namespace {

TEST(SystemdUnits, NamesFromCgroupsPath) {
  auto u = parse_unit_spec("kubepods-burstable-pod1.slice:cri-o:abc");
  EXPECT_EQ(u.slice, "kubepods-burstable-pod1.slice");
  EXPECT_EQ(u.unit, "cri-o-abc.scope");
  EXPECT_FALSE(u.is_slice());
  u = parse_unit_spec(":crius:x");
  EXPECT_EQ(u.slice, "system.slice");
  u = parse_unit_spec("a.slice:p:a-b.slice");
  EXPECT_EQ(u.unit, "a-b.slice");
  EXPECT_TRUE(u.is_slice());
  EXPECT_EQ(spec_or_default("", "id1"), "system.slice:crius:id1");
  EXPECT_THROW(parse_unit_spec("/a/b"), Error);
  EXPECT_THROW(parse_unit_spec("a.slice:p:"), Error);
}

TEST(SystemdUnits, ScopeProperties) {
  Resources r;
  r.memory = Resources::Memory{};
  r.memory->limit = 64 << 20;
  r.pids_limit = 50;
  r.cpu = Resources::Cpu{};
  r.cpu->shares = 1024;
  const auto props = container_unit_properties(parse_unit_spec("k.slice:crius:c1"), "c1", 1234, r);
  std::map<std::string, dbus::Value> by_name;
  for (const auto& p : props) {
    ASSERT_EQ(p.sig, "(sv)");
    by_name[p.items[0].str] = p.items[1].items[0];
  }
  EXPECT_EQ(by_name["Slice"], dbus::Value::string("k.slice"));
  EXPECT_EQ(by_name["Delegate"], dbus::Value::boolean(true));
  EXPECT_EQ(by_name["PIDs"], dbus::Value::array("u", {dbus::Value::u32(1234)}));
  EXPECT_EQ(by_name["MemoryMax"], dbus::Value::u64(64 << 20));
  EXPECT_EQ(by_name["TasksMax"], dbus::Value::u64(50));
  EXPECT_EQ(by_name["CPUWeight"], dbus::Value::u64(shares_to_weight(1024)));
  EXPECT_EQ(by_name.count("Wants"), 0u);
  // A slice unit is placed by its name: Wants its parent, no Delegate.
  const auto sp = container_unit_properties(parse_unit_spec("k.slice:p:k-x.slice"), "x", 1, Resources{});
  bool wants = false, delegate = false;
  for (const auto& p : sp) wants |= p.items[0].str == "Wants", delegate |= p.items[0].str == "Delegate";
  EXPECT_TRUE(wants);
  EXPECT_FALSE(delegate);
}

}  // namespace
}  // namespace crius::oci::cgroups::systemd
