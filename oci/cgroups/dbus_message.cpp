#include "oci/cgroups/dbus_message.h"

#include <cstring>

#include "base/error.h"

namespace crius::oci::dbus {
namespace {

constexpr uint32_t kMaxArray = 64u << 20;     // the spec's limits
constexpr size_t kMaxMessage = 128u << 20;

// Header field codes.
enum : uint8_t { kPath = 1, kInterface = 2, kMember = 3, kErrorName = 4, kReplySerial = 5, kDestination = 6,
                 kSender = 7, kSignature = 8 };

Error bad(const std::string& what) { return InvalidArgument("D-Bus message: " + what); }

// End of the complete type starting at sig[i].
size_t type_end(const std::string& sig, size_t i, int depth = 0) {
  if (depth > 64) throw bad("signature nested too deep: " + sig);
  if (i >= sig.size()) throw bad("truncated signature \"" + sig + "\"");
  const char c = sig[i];
  if (std::strchr("ybnqiuxtdsogvh", c)) return i + 1;
  if (c == 'a') return type_end(sig, i + 1, depth + 1);
  if (c == '(' || c == '{') {
    const char close = c == '(' ? ')' : '}';
    size_t j = i + 1;
    if (j < sig.size() && sig[j] == close) throw bad("empty struct in signature \"" + sig + "\"");
    while (j < sig.size() && sig[j] != close) j = type_end(sig, j, depth + 1);
    if (j >= sig.size()) throw bad("unclosed struct in signature \"" + sig + "\"");
    return j + 1;
  }
  throw bad(std::string("unknown type code '") + c + "' in signature \"" + sig + "\"");
}

size_t alignment(char c) {
  switch (c) {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 4;  // b i u h s o a
  }
}

void pad(std::string& buf, size_t a) {
  while (buf.size() % a) buf.push_back('\0');
}

void put_le(std::string& buf, uint64_t v, size_t n) {
  pad(buf, n);
  for (size_t k = 0; k < n; ++k) buf.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

size_t fixed_size(char c) {
  switch (c) {
    case 'y': return 1;
    case 'n': case 'q': return 2;
    case 'b': case 'i': case 'u': case 'h': return 4;
    case 'x': case 't': case 'd': return 8;
    default: return 0;
  }
}

struct Reader {
  const std::string& buf;
  size_t& pos;

  void need(size_t n) const {
    if (pos + n > buf.size() || pos + n < pos) throw bad("truncated at offset " + std::to_string(pos));
  }
  void align(size_t a) {
    size_t to = (pos + a - 1) / a * a;
    need(to - pos);
    for (; pos < to; ++pos)
      if (buf[pos] != '\0') throw bad("non-zero padding at offset " + std::to_string(pos));
  }
  uint64_t le(size_t n) {
    align(n);
    need(n);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(buf[pos + k])) << (8 * k);
    pos += n;
    return v;
  }
  std::string text(size_t len) {
    need(len + 1);
    std::string s = buf.substr(pos, len);
    if (buf[pos + len] != '\0') throw bad("string not nul-terminated at offset " + std::to_string(pos));
    if (s.find('\0') != std::string::npos) throw bad("string with an embedded nul");
    pos += len + 1;
    return s;
  }

  Value read(const std::string& sig, int depth) {
    if (depth > 64) throw bad("value nested too deep");
    const char c = sig[0];
    Value v;
    v.sig = sig;
    if (size_t n = fixed_size(c)) {
      v.num = le(n);
      if (c == 'b' && v.num > 1) throw bad("boolean that is neither 0 nor 1");
      return v;
    }
    switch (c) {
      case 's': case 'o': {
        const uint64_t len = le(4);
        v.str = text(static_cast<size_t>(len));
        return v;
      }
      case 'g': {
        need(1);
        const size_t len = static_cast<uint8_t>(buf[pos++]);
        v.str = text(len);
        return v;
      }
      case 'v': {
        need(1);
        const size_t len = static_cast<uint8_t>(buf[pos++]);
        const std::string inner = text(len);
        if (type_end(inner, 0) != inner.size()) throw bad("variant signature \"" + inner + "\" is not one type");
        v.items.push_back(read(inner, depth + 1));
        return v;
      }
      case 'a': {
        const uint64_t len = le(4);
        if (len > kMaxArray) throw bad("array longer than 64 MiB");
        const std::string elem = sig.substr(1);
        align(alignment(elem[0]));
        need(static_cast<size_t>(len));
        const size_t end = pos + static_cast<size_t>(len);
        while (pos < end) v.items.push_back(read(elem, depth + 1));
        if (pos != end) throw bad("array elements overrun its length");
        return v;
      }
      case '(': case '{': {
        align(8);
        for (const auto& f : split_signature(sig.substr(1, sig.size() - 2))) v.items.push_back(read(f, depth + 1));
        return v;
      }
      default:
        throw bad(std::string("cannot read type '") + c + "'");
    }
  }
};

}  // namespace

Value Value::byte(uint8_t v) { return {"y", v, {}, {}}; }
Value Value::boolean(bool v) { return {"b", v ? 1u : 0u, {}, {}}; }
Value Value::u32(uint32_t v) { return {"u", v, {}, {}}; }
Value Value::i32(int32_t v) { return {"i", static_cast<uint32_t>(v), {}, {}}; }
Value Value::u64(uint64_t v) { return {"t", v, {}, {}}; }
Value Value::i64(int64_t v) { return {"x", static_cast<uint64_t>(v), {}, {}}; }
Value Value::string(std::string v) { return {"s", 0, std::move(v), {}}; }
Value Value::object_path(std::string v) { return {"o", 0, std::move(v), {}}; }
Value Value::signature(std::string v) { return {"g", 0, std::move(v), {}}; }
Value Value::array(std::string elem_sig, std::vector<Value> elems) {
  for (const auto& e : elems)
    if (e.sig != elem_sig) throw bad("array of " + elem_sig + " given an element of type " + e.sig);
  return {"a" + elem_sig, 0, {}, std::move(elems)};
}
Value Value::structure(std::vector<Value> fields) {
  std::string sig = "(";
  for (const auto& f : fields) sig += f.sig;
  return {sig + ")", 0, {}, std::move(fields)};
}
Value Value::variant(Value inner) { return {"v", 0, {}, {std::move(inner)}}; }

std::vector<std::string> split_signature(const std::string& sig) {
  std::vector<std::string> out;
  for (size_t i = 0; i < sig.size();) {
    size_t j = type_end(sig, i);
    out.push_back(sig.substr(i, j - i));
    i = j;
  }
  return out;
}

void marshal(std::string& buf, const Value& v) {
  if (v.sig.empty()) throw bad("value without a type");
  const char c = v.sig[0];
  if (size_t n = fixed_size(c)) return put_le(buf, v.num, n);
  switch (c) {
    case 's': case 'o':
      put_le(buf, v.str.size(), 4);
      buf += v.str;
      buf.push_back('\0');
      return;
    case 'g':
      if (v.str.size() > 255) throw bad("signature longer than 255 bytes");
      buf.push_back(static_cast<char>(v.str.size()));
      buf += v.str;
      buf.push_back('\0');
      return;
    case 'v': {
      if (v.items.size() != 1) throw bad("variant without exactly one value");
      marshal(buf, Value::signature(v.items[0].sig));
      marshal(buf, v.items[0]);
      return;
    }
    case 'a': {
      put_le(buf, 0, 4);
      const size_t len_at = buf.size() - 4;
      pad(buf, alignment(v.sig[1]));  // not counted in the length
      const size_t start = buf.size();
      for (const auto& e : v.items) marshal(buf, e);
      const size_t len = buf.size() - start;
      if (len > kMaxArray) throw bad("array longer than 64 MiB");
      for (size_t k = 0; k < 4; ++k) buf[len_at + k] = static_cast<char>((len >> (8 * k)) & 0xff);
      return;
    }
    case '(': case '{':
      pad(buf, 8);
      for (const auto& f : v.items) marshal(buf, f);
      return;
    default:
      throw bad("cannot write type '" + v.sig + "'");
  }
}

Value unmarshal(const std::string& buf, size_t& pos, const std::string& sig) {
  if (type_end(sig, 0) != sig.size()) throw bad("\"" + sig + "\" is not a single complete type");
  Reader r{buf, pos};
  return r.read(sig, 0);
}

std::string Message::body_signature() const {
  std::string s;
  for (const auto& v : body) s += v.sig;
  return s;
}

std::string Message::serialize() const {
  std::string body_bytes;
  for (const auto& v : body) marshal(body_bytes, v);
  std::vector<Value> fields;
  auto field = [&](uint8_t code, Value v) {
    fields.push_back(Value::structure({Value::byte(code), Value::variant(std::move(v))}));
  };
  if (!path.empty()) field(kPath, Value::object_path(path));
  if (!interface.empty()) field(kInterface, Value::string(interface));
  if (!member.empty()) field(kMember, Value::string(member));
  if (!error_name.empty()) field(kErrorName, Value::string(error_name));
  if (reply_serial) field(kReplySerial, Value::u32(reply_serial));
  if (!destination.empty()) field(kDestination, Value::string(destination));
  if (!sender.empty()) field(kSender, Value::string(sender));
  if (!body.empty()) field(kSignature, Value::signature(body_signature()));
  std::string out;
  out.push_back('l');
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  out.push_back(1);  // protocol version
  put_le(out, body_bytes.size(), 4);
  put_le(out, serial, 4);
  marshal(out, Value::array("(yv)", std::move(fields)));
  pad(out, 8);
  return out + body_bytes;
}

size_t Message::wire_size(const std::string& buf) {
  if (buf.size() < 16) return 0;
  if (buf[0] != 'l') throw bad("only little-endian messages are read (got endianness byte " +
                               std::to_string(static_cast<uint8_t>(buf[0])) + ")");
  if (buf[3] != 1) throw bad("protocol version " + std::to_string(static_cast<uint8_t>(buf[3])));
  auto u32_at = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v |= static_cast<uint32_t>(static_cast<uint8_t>(buf[at + k])) << (8 * k);
    return v;
  };
  const size_t body_len = u32_at(4), fields_len = u32_at(12);
  const size_t header = (16 + fields_len + 7) / 8 * 8;
  if (body_len > kMaxMessage || fields_len > kMaxArray || header + body_len > kMaxMessage)
    throw bad("message larger than 128 MiB");
  return header + body_len;
}

Message Message::parse(const std::string& buf) {
  const size_t total = wire_size(buf);
  if (total == 0 || total != buf.size()) throw bad("parse needs exactly one whole message");
  Message m;
  m.type = static_cast<MessageType>(buf[1]);
  m.flags = static_cast<uint8_t>(buf[2]);
  size_t pos = 4;
  const uint64_t body_len = unmarshal(buf, pos, "u").num;
  m.serial = static_cast<uint32_t>(unmarshal(buf, pos, "u").num);
  const Value fields = unmarshal(buf, pos, "a(yv)");
  std::string sig;
  for (const auto& f : fields.items) {
    const Value& v = f.items[1].items[0];
    switch (f.items[0].num) {
      case kPath: m.path = v.str; break;
      case kInterface: m.interface = v.str; break;
      case kMember: m.member = v.str; break;
      case kErrorName: m.error_name = v.str; break;
      case kReplySerial: m.reply_serial = static_cast<uint32_t>(v.num); break;
      case kDestination: m.destination = v.str; break;
      case kSender: m.sender = v.str; break;
      case kSignature: sig = v.str; break;
      default: break;  // unknown fields are ignored, as the spec asks
    }
  }
  Reader r{buf, pos};
  r.align(8);
  const std::string body = buf.substr(pos);
  if (body.size() != body_len) throw bad("body length mismatch");
  size_t bpos = 0;
  for (const auto& t : split_signature(sig)) m.body.push_back(unmarshal(body, bpos, t));
  if (bpos != body.size()) throw bad("body longer than its signature \"" + sig + "\"");
  return m;
}

}  // namespace crius::oci::dbus
