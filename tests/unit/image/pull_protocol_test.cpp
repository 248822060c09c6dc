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
  r.creds.password = "pa\"ss\n\xe9\xff";  // AuthConfig.auth decodes to any bytes
  r.creds.identity_token = "it";
  r.creds.registry_token = "rt";
  r.config.registries = {{"example.test", "127.0.0.1:5000", false, {{"127.0.0.1:6000/cache", true}}}};
  r.config.short_name_search = {"a.test", "b.test"};
  r.config.pull_progress_timeout = std::chrono::milliseconds(1234);
  r.config.max_parallel_layers = 5;
  r.context = {"ns/pod", "uid-1"};
  r.images_dir = "/var/lib/crius/images";
  r.scratch_dir = "/var/lib/crius/images/layers/tmp-pull-1";
  r.certs_dir = "/etc/crius/certs.d";
  return r;
}

TEST(PullProtocol, ARequestReadsBackAsItWasWritten) {
  const PullRequest r = request();
  const PullRequest back = decode_request(encode(r));
  EXPECT_EQ(back.image, r.image);
  EXPECT_EQ(back.creds.username, "user");
  EXPECT_EQ(back.creds.password, "pa\"ss\n\xe9\xff");
  EXPECT_EQ(back.creds.identity_token, "it");
  EXPECT_EQ(back.creds.registry_token, "rt");
  EXPECT_EQ(back.config.registries, r.config.registries);
  EXPECT_EQ(back.config.short_name_search, r.config.short_name_search);
  EXPECT_EQ(back.config.pull_progress_timeout, r.config.pull_progress_timeout);
  EXPECT_EQ(back.config.max_parallel_layers, 5);
  EXPECT_EQ(back.context.pod, "ns/pod");
  EXPECT_EQ(back.context.pod_uid, "uid-1");
  EXPECT_EQ(back.images_dir, r.images_dir);
  EXPECT_EQ(back.scratch_dir, r.scratch_dir);
  EXPECT_EQ(back.certs_dir, r.certs_dir);
  // The daemon's own words: what is wrong with them is Internal, not the client's.
  for (const char* bad : {R"({"version":1,"image":"x"})", R"({"version":2,"image":"x"})"}) {
    try {
      decode_request(bad);
      ADD_FAILURE() << "taken: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal) << bad;
      EXPECT_NE(std::string(e.what()).find(std::string(bad).find("2") != std::string::npos ? "version 2" : "creds"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(PullProtocol, EachLineSaysOneThingAndAnErrorKeepsItsCode) {
  const std::string m_digest = "sha256:" + std::string(64, 'a'), c_digest = "sha256:" + std::string(64, 'c');
  const std::vector<std::string> layers{"sha256:" + std::string(64, '1'), "sha256:" + std::string(64, '2')};
  PullResult r{"example.test/app:v1", "example.test/app:v1", "example.test/app@" + m_digest, m_digest, c_digest, layers, 42};
  const std::string line = result_line(r);
  ASSERT_EQ(line.back(), '\n');
  const auto m = decode_message(line.substr(0, line.size() - 1));
  ASSERT_TRUE(m.result);
  EXPECT_EQ(m.result->ref, r.ref);
  EXPECT_EQ(m.result->tagged, r.tagged);
  EXPECT_EQ(m.result->digested, r.digested);
  EXPECT_EQ(m.result->manifest_digest, m_digest);
  EXPECT_EQ(m.result->config_digest, c_digest);
  EXPECT_EQ(m.result->layers, r.layers);
  EXPECT_EQ(m.result->size, 42u);
  EXPECT_FALSE(m.error);

  const auto e = decode_message(error_line(ResourceExhausted("no space left on /x")));
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->code(), ErrorCode::resource_exhausted);
  EXPECT_STREQ(e.error->what(), "no space left on /x");
  // A message with bytes that are not UTF-8 (a tar entry's name) still gets through.
  const auto latin1 = decode_message(error_line(ResourceExhausted("writing caf\xe9: full")));
  ASSERT_TRUE(latin1.error);
  EXPECT_EQ(latin1.error->code(), ErrorCode::resource_exhausted);
  EXPECT_NE(std::string(latin1.error->what()).find("writing caf"), std::string::npos);
  EXPECT_EQ(decode_message(bytes_line(1 << 20)).bytes, 1u << 20);
  EXPECT_TRUE(decode_message(layer_reused_line()).layer_reused);

  // A result naming a path rather than a digest is not the daemon's to act on.
  PullResult escaping = r;
  escaping.layers = {"sha256:../../x"};
  const std::string escaping_line = result_line(escaping);
  for (const std::string& bad : {std::string("not json"), std::string("{}"),
                                std::string(R"({"error":{"code":99,"message":"x"}})"), escaping_line}) {
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
  const std::string m = "sha256:" + std::string(64, 'a'), c = "sha256:" + std::string(64, 'c'),
                    l = "sha256:" + std::string(64, 'b');
  const std::string lines = bytes_line(100) + bytes_line(23) + layer_reused_line() +
                            result_line({"a.test/r:v1", "a.test/r:v1", "a.test/r@" + m, m, c, {l}, 7});
  uint64_t bytes = 0;
  int reused = 0;
  PullEvents events{[&](uint64_t n) { bytes += n; }, [&] { ++reused; }};
  const PullResult r = helper_pull_runner(fake_helper(t.path, lines, 0))(request(), events);
  EXPECT_EQ(r.config_digest, c);
  EXPECT_EQ(r.layers, std::vector<std::string>{l});
  EXPECT_EQ(bytes, 123u);
  EXPECT_EQ(reused, 1);
  EXPECT_EQ(decode_request(read_file(t.path + "/request")).creds.password, "pa\"ss\n\xe9\xff")
      << "the request came on stdin";
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
