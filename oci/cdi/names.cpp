#include "oci/cdi/names.h"

#include "base/error.h"

namespace crius::oci::cdi {
namespace {

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool alnum(char c) { return letter(c) || (c >= '0' && c <= '9'); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The rules vendor and class share: a letter first, a letter or digit last,
// letters, digits, '_', '-' and '.' between.
std::optional<std::string> label_problem(std::string_view what, std::string_view s, std::size_t max) {
  if (s.empty()) return std::string(what) + " is empty";
  if (s.size() > max)
    return std::string(what) + " " + quoted(s) + " is longer than " + std::to_string(max) + " characters";
  if (!letter(s.front())) return std::string(what) + " " + quoted(s) + " must start with a letter";
  if (!alnum(s.back())) return std::string(what) + " " + quoted(s) + " must end with a letter or digit";
  for (char c : s)
    if (!alnum(c) && c != '_' && c != '-' && c != '.')
      return std::string(what) + " " + quoted(s) + " has '" + std::string(1, c) +
             "'; only letters, digits, '_', '-' and '.' are allowed";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> vendor_problem(std::string_view vendor) { return label_problem("vendor", vendor, 253); }

std::optional<std::string> class_problem(std::string_view device_class) {
  return label_problem("class", device_class, 63);
}

std::optional<std::string> device_name_problem(std::string_view name) {
  if (name.empty()) return std::string("device name is empty");
  if (!alnum(name.front()) || !alnum(name.back()))
    return "device name " + quoted(name) + " must start and end with a letter or digit";
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '-' && c != '.' && c != ':')
      return "device name " + quoted(name) + " has '" + std::string(1, c) +
             "'; only letters, digits, '_', '-', '.' and ':' are allowed";
  return std::nullopt;
}

namespace {

// "vendor/class" into q's two parts; what is wrong with it, if anything.
std::optional<std::string> split_kind(std::string_view kind, QualifiedName& q) {
  const std::size_t slash = kind.find('/');
  if (slash == std::string_view::npos) return "kind " + quoted(kind) + " is not of the form vendor/class";
  q.vendor = std::string(kind.substr(0, slash));
  q.device_class = std::string(kind.substr(slash + 1));
  if (auto problem = vendor_problem(q.vendor)) return problem;
  return class_problem(q.device_class);
}

}  // namespace

QualifiedName parse_kind(std::string_view kind) {
  QualifiedName q;
  if (auto problem = split_kind(kind, q)) throw InvalidArgument("CDI kind " + quoted(kind) + ": " + *problem);
  return q;
}

QualifiedName parse_qualified_name(std::string_view device) {
  const std::size_t eq = device.find('=');
  if (eq == std::string_view::npos)
    throw InvalidArgument("CDI device name " + quoted(device) + " is not fully qualified (vendor/class=name)");
  QualifiedName q;
  auto problem = split_kind(device.substr(0, eq), q);
  if (!problem) {
    q.name = std::string(device.substr(eq + 1));
    problem = device_name_problem(q.name);
  }
  if (problem) throw InvalidArgument("CDI device name " + quoted(device) + ": " + *problem);
  return q;
}

}  // namespace crius::oci::cdi
