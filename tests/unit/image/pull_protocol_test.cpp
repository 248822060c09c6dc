// What the daemon and crius-pull say to each other, and the daemon's side
// of it run against a stand-in helper (a shell script).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/file.h"
#include "image/pull_helper.h"
#include "image/pull_protocol.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;

struct Tmp {
  std::string path;
  Tmp() {
    std::string t = (fs::temp_directory_path() / "crius-pull-unit-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Tmp() { fs::remove_all(path); }
};

PullRequest request() {
  PullRequest r;
  r.image = "example.test/app:v1";
  r.creds.username = "user";
  r.creds.password = "pa\"ss\n";
  r.creds.identity_token = "it";
  r.creds.registry_token = "rt";
  r.config.registries = {{"example.test", "127.0.0.1:5000", false, {{"127.0.0.1:6000/cache", true}}}};
  r.config.short_name_search = {"a.test", "b.test"};
  r.config.pull_progress_timeout = std::chrono::milliseconds(1234);
  r.config.max_parallel_layers = 5;
  r.context = {"ns/pod", "uid-1"};
  r.images_dir = "/var/lib/crius/images";
  r.certs_dir = "/etc/crius/certs.d";
  return r;
}

TEST(PullProtocol, ARequestReadsBackAsItWasWritten) {
  const PullRequest r = request();
  const PullRequest back = decode_request(encode(r));
  EXPECT_EQ(back.image, r.image);
  EXPECT_EQ(back.creds.username, "user");
  EXPECT_EQ(back.creds.password, "pa\"ss\n");
  EXPECT_EQ(back.creds.identity_token, "it");
  EXPECT_EQ(back.creds.registry_token, "rt");
  EXPECT_EQ(back.config.registries, r.config.registries);
  EXPECT_EQ(back.config.short_name_search, r.config.short_name_search);
  EXPECT_EQ(back.config.pull_progress_timeout, r.config.pull_progress_timeout);
  EXPECT_EQ(back.config.max_parallel_layers, 5);
  EXPECT_EQ(back.context.pod, "ns/pod");
  EXPECT_EQ(back.context.pod_uid, "uid-1");
  EXPECT_EQ(back.images_dir, r.images_dir);
  EXPECT_EQ(back.certs_dir, r.certs_dir);
  try {
    decode_request(R"({"image":"x"})");
    FAIL() << "a request without its fields was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("creds"), std::string::npos) << e.what();
  }
}

TEST(PullProtocol, EachLineSaysOneThingAndAnErrorKeepsItsCode) {
  PullResult r{"example.test/app:v1", "example.test/app:v1", "example.test/app@sha256:aa", "sha256:m", "sha256:c",
               {"sha256:l1", "sha256:l2"}, 42};
  const std::string line = result_line(r);
  ASSERT_EQ(line.back(), '\n');
  const auto m = decode_message(line.substr(0, line.size() - 1));
  ASSERT_TRUE(m.result);
  EXPECT_EQ(m.result->ref, r.ref);
  EXPECT_EQ(m.result->tagged, r.tagged);
  EXPECT_EQ(m.result->digested, r.digested);
  EXPECT_EQ(m.result->manifest_digest, "sha256:m");
  EXPECT_EQ(m.result->config_digest, "sha256:c");
  EXPECT_EQ(m.result->layers, r.layers);
  EXPECT_EQ(m.result->size, 42u);
  EXPECT_FALSE(m.error);

  const auto e = decode_message(error_line(ResourceExhausted("no space left on /x")));
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->code(), ErrorCode::resource_exhausted);
  EXPECT_STREQ(e.error->what(), "no space left on /x");
  EXPECT_EQ(decode_message(bytes_line(1 << 20)).bytes, 1u << 20);
  EXPECT_TRUE(decode_message(layer_reused_line()).layer_reused);

  for (const char* bad : {"not json", "{}", R"({"error":{"code":99,"message":"x"}})"}) {
    try {
      decode_message(bad);
      ADD_FAILURE() << "taken: " << bad;
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), ErrorCode::internal) << bad;
    }
  }
}

// A stand-in for crius-pull: a script that keeps its arguments and request
// and then says what `lines` say, exiting with `status`.
std::string fake_helper(const std::string& dir, const std::string& lines, int status) {
  const std::string path = dir + "/fake-pull";
  std::ofstream(path) << "#!/bin/sh\n"
                      << "echo \"$@\" > " << dir << "/args\n"
                      << "cat > " << dir << "/request\n"
                      << "printf '%s' '" << lines << "'\n"
                      << "exit " << status << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(PullHelper, TheDaemonHearsBytesReusedLayersAndTheResult) {
  Tmp t;
  const std::string lines = bytes_line(100) + bytes_line(23) + layer_reused_line() +
                            result_line({"r", "t", "d", "sha256:m", "sha256:c", {"sha256:l"}, 7});
  uint64_t bytes = 0;
  int reused = 0;
  PullEvents events{[&](uint64_t n) { bytes += n; }, [&] { ++reused; }};
  const PullResult r = helper_pull_runner(fake_helper(t.path, lines, 0))(request(), events);
  EXPECT_EQ(r.config_digest, "sha256:c");
  EXPECT_EQ(r.layers, std::vector<std::string>{"sha256:l"});
  EXPECT_EQ(bytes, 123u);
  EXPECT_EQ(reused, 1);
  EXPECT_EQ(decode_request(read_file(t.path + "/request")).creds.password, "pa\"ss\n") << "the request came on stdin";
  EXPECT_NE(read_file(t.path + "/args").find("--parent " + std::to_string(::getpid())), std::string::npos);
}

TEST(PullHelper, TheHelpersErrorIsThePullsAndSilenceIsInternal) {
  Tmp t;
  try {
    helper_pull_runner(fake_helper(t.path, error_line(NotFound("no such image")), 1))(request(), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(), "no such image");
  }
  try {
    helper_pull_runner(fake_helper(t.path, "", 3))(request(), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("exited with status 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("example.test/app:v1"), std::string::npos) << e.what();
  }
  try {
    helper_pull_runner("")(request(), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
    EXPECT_NE(std::string(e.what()).find("crius-pull"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crius::image
