// CDI device names. A device is asked for by its fully qualified name
// "vendor/class=name": the spec file's `kind` ("vendor/class") and the
// device's `name` within it.
//   vendor: letters, digits, '_', '-', '.'; starts with a letter, ends with a
//           letter or digit (a DNS-subdomain-like prefix such as nvidia.com);
//   class:  the same characters and ends, at most 63 of them;
//   name:   letters, digits, '_', '-', '.', ':'; starts and ends with a
//           letter or digit.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crius::oci::cdi {

// What is wrong with each part, or nullopt when it is fine.
std::optional<std::string> vendor_problem(std::string_view vendor);
std::optional<std::string> class_problem(std::string_view device_class);
std::optional<std::string> device_name_problem(std::string_view name);

struct QualifiedName {
  std::string vendor, device_class, name;
  std::string kind() const { return vendor + "/" + device_class; }
  std::string str() const { return kind() + "=" + name; }
};

// Splits and checks "vendor/class=name"; throws crius::Error InvalidArgument
// quoting the name and saying what is wrong.
QualifiedName parse_qualified_name(std::string_view device);

// Splits a spec's kind "vendor/class" into its two parts, checked; throws
// InvalidArgument quoting the kind.
QualifiedName parse_kind(std::string_view kind);

}  // namespace crius::oci::cdi
