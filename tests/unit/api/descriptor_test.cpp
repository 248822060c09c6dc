// Our api/cri.proto against upstream cri-api, descriptor by descriptor: every
// message, field (name, number, cardinality, type), enum value and RPC
// (with its streaming flags) must be the same, since they are the wire. The
// upstream facts are a fixture (cri_api_v1_facts.txt) in the same flat form
// that describe() writes for ours.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "api/cri.pb.h"

namespace {
namespace pb = google::protobuf;

std::string type_of(const pb::FieldDescriptor* f) {
  if (f->message_type()) return f->message_type()->full_name();
  if (f->enum_type()) return f->enum_type()->full_name();
  return f->type_name();
}

void describe(const pb::EnumDescriptor* e, std::vector<std::string>& out) {
  out.push_back("enum " + e->full_name());
  for (int i = 0; i < e->value_count(); ++i)
    out.push_back("  value " + e->value(i)->name() + " " + std::to_string(e->value(i)->number()));
}

void describe(const pb::Descriptor* m, std::vector<std::string>& out) {
  out.push_back("message " + m->full_name() + (m->options().map_entry() ? " map_entry" : ""));
  for (int i = 0; i < m->field_count(); ++i) {
    const pb::FieldDescriptor* f = m->field(i);
    std::string line = "  field " + f->name() + " " + std::to_string(f->number()) + " " +
                       (f->is_repeated() ? "repeated" : "optional") + " " + type_of(f);
    if (f->containing_oneof()) line += " oneof" + std::to_string(f->containing_oneof()->index());
    out.push_back(line);
  }
  for (int i = 0; i < m->nested_type_count(); ++i) describe(m->nested_type(i), out);
  for (int i = 0; i < m->enum_type_count(); ++i) describe(m->enum_type(i), out);
}

// The flat description of our generated file, in declaration order.
std::vector<std::string> ours() {
  const pb::FileDescriptor* file = runtime::v1::VersionRequest::descriptor()->file();
  std::vector<std::string> out;
  for (int i = 0; i < file->message_type_count(); ++i) describe(file->message_type(i), out);
  for (int i = 0; i < file->enum_type_count(); ++i) describe(file->enum_type(i), out);
  for (int i = 0; i < file->service_count(); ++i) {
    const pb::ServiceDescriptor* s = file->service(i);
    out.push_back("service " + s->full_name());
    for (int j = 0; j < s->method_count(); ++j) {
      const pb::MethodDescriptor* m = s->method(j);
      out.push_back("  rpc " + m->name() + " " + m->input_type()->full_name() + " " + m->output_type()->full_name() +
                    (m->client_streaming() ? " client_streaming" : "") +
                    (m->server_streaming() ? " server_streaming" : ""));
    }
  }
  return out;
}

std::vector<std::string> upstream() {
  std::ifstream in(CRIUS_CRI_API_FACTS);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

// Each member line qualified by its entity ("message runtime.v1.Mount /
// field readonly 3 optional bool"), so that order does not matter but every
// member is compared where it belongs.
std::set<std::string> qualified(const std::vector<std::string>& lines) {
  std::set<std::string> out;
  std::string entity;
  for (const auto& l : lines) {
    if (l.starts_with("  ")) {
      out.insert(entity + " /" + l.substr(1));
    } else {
      entity = l;
      out.insert(l);
    }
  }
  return out;
}

TEST(CriApiDescriptor, TheFixtureHoldsTheWholeUpstreamFile) {
  const auto up = upstream();
  ASSERT_GT(up.size(), 800u) << "fixture not found or cut short: " << CRIUS_CRI_API_FACTS;
  int rpcs = 0;
  for (const auto& l : up) rpcs += l.starts_with("  rpc ");
  EXPECT_EQ(rpcs, 43);  // RuntimeService and ImageService together
}

TEST(CriApiDescriptor, EveryUpstreamDescriptorIsOursExactly) {
  const auto mine = qualified(ours());
  for (const auto& fact : qualified(upstream())) EXPECT_TRUE(mine.count(fact)) << "missing or different: " << fact;
}

TEST(CriApiDescriptor, OursHasNothingUpstreamLacks) {
  const auto theirs = qualified(upstream());
  for (const auto& fact : qualified(ours())) EXPECT_TRUE(theirs.count(fact)) << "not upstream: " << fact;
}

// Declaration order is not wire, but keeping upstream's makes the next
// comparison by eye easy; the services' RPC order is what reflection shows.
TEST(CriApiDescriptor, RpcsAreInUpstreamsOrder) {
  std::vector<std::string> up, mine;
  for (const auto& l : upstream())
    if (l.starts_with("  rpc ") || l.starts_with("service ")) up.push_back(l);
  for (const auto& l : ours())
    if (l.starts_with("  rpc ") || l.starts_with("service ")) mine.push_back(l);
  EXPECT_EQ(mine, up);
}

}  // namespace
