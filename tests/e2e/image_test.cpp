// The ImageService over gRPC against a docker-registry started by the test
// on a loopback port: pulls by tag and digest, indexes, records, removal,
// registry errors, auth, TLS, mirrors, corrupted blobs, stalls, concurrent
// pulls and hostile layers.
#include "tests/e2e/image_helpers.h"
//
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/fixtures/registry/http_stub.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using fixtures::HttpStub;
using fixtures::Registry;
using fixtures::RegistryOptions;
using namespace image_e2e;

TEST(ImagePull, ByTagThenStatusListAndRemove) {
  Registry reg;
  fixtures::ImageConfig cfg;
  cfg.user = "1000:1000";
  cfg.env = {"PATH=/bin", "GREETING=hi"};
  cfg.entrypoint = {"/bin/sh"};
  cfg.cmd = {"-c", "echo hi"};
  cfg.working_dir = "/home/app";
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()}, cfg);
  Daemon d;
  const std::string ref = reg.host() + "/test/busybox:v1";

  auto r = pull(d, ref);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, img.config_digest) << "image_ref is the image ID, the config digest";
  EXPECT_TRUE(fs::exists(layer_dir(d, busybox().digest) + "/bin/busybox"));
  EXPECT_TRUE(fs::is_symlink(layer_dir(d, busybox().digest) + "/bin/sh"));

  auto images = list(d);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].id(), img.config_digest);
  ASSERT_EQ(images[0].repo_tags_size(), 1);
  EXPECT_EQ(images[0].repo_tags(0), ref);
  ASSERT_EQ(images[0].repo_digests_size(), 1);
  EXPECT_EQ(images[0].repo_digests(0), reg.host() + "/test/busybox@" + img.manifest_digest);
  EXPECT_EQ(images[0].size(), img.blob_bytes);
  EXPECT_EQ(images[0].uid().value(), 1000);

  std::string info;
  auto st = status(d, ref, &info);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->id(), img.config_digest);
  auto j = nlohmann::json::parse(info);
  EXPECT_EQ(j["imageSpec"]["config"]["Env"][1], "GREETING=hi") << info;
  EXPECT_EQ(j["imageSpec"]["config"]["WorkingDir"], "/home/app");
  ASSERT_TRUE(status(d, img.config_digest)) << "found by ID";
  ASSERT_TRUE(status(d, img.config_digest.substr(7, 12))) << "found by a short ID";
  ASSERT_TRUE(status(d, reg.host() + "/test/busybox@" + img.manifest_digest)) << "found by digest";
  EXPECT_EQ(list(d, ref).size(), 1u);
  EXPECT_EQ(list(d, reg.host() + "/test/other:v1").size(), 0u);

  // A second pull reuses everything.
  {
    auto c = ctx();
    auto reader = d.image()->StreamImages(c.get(), v1::StreamImagesRequest());
    v1::StreamImagesResponse batch;
    int streamed = 0;
    while (reader->Read(&batch)) streamed += batch.images_size();
    auto s = reader->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(streamed, 1) << "StreamImages gives what ListImages gives";
  }

  auto again = pull(d, ref);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(reg.count_requests("/blobs/" + busybox().digest), 1) << "a present layer is not fetched again";

  auto metrics = http_get(d.metrics_address(), "/metrics");
  EXPECT_NE(metrics.find("crius_image_pulls_total{result=\"success\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("crius_image_layer_reuse_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("crius_image_pull_duration_seconds_count 2"), std::string::npos) << metrics;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m, std::regex("crius_image_pull_bytes_total (\\d+)")));
  EXPECT_EQ(std::stoull(m[1]), img.blob_bytes);

  v1::ImageFsInfoResponse fsinfo;
  auto fs_status = d.image()->ImageFsInfo(ctx().get(), v1::ImageFsInfoRequest(), &fsinfo);
  ASSERT_TRUE(fs_status.ok()) << fs_status.error_message();
  ASSERT_EQ(fsinfo.image_filesystems_size(), 1);
  EXPECT_EQ(fsinfo.image_filesystems(0).fs_id().mountpoint(), d.dir() / "root/images");
  EXPECT_GT(fsinfo.image_filesystems(0).used_bytes().value(), busybox().blob.size());
  EXPECT_GT(fsinfo.image_filesystems(0).inodes_used().value(), 100u);
  EXPECT_EQ(fsinfo.container_filesystems_size(), 1);

  ASSERT_TRUE(remove(d, ref).ok());
  EXPECT_FALSE(status(d, ref));
  EXPECT_TRUE(list(d).empty());
  EXPECT_FALSE(fs::exists(layer_dir(d, busybox().digest))) << "an unused layer goes with its image";
  EXPECT_TRUE(remove(d, ref).ok()) << "removing an absent image succeeds";
}

TEST(ImagePull, ByDigestWithLayersOfEveryCompressionAndWhiteouts) {
  Registry reg;
  using fixtures::TarEntry;
  auto upper = fixtures::make_layer({{.path = "etc/.wh.passwd", .type = 'f', .data = "", .mode = 0644},
                                     {.path = "tmp/", .type = 'd', .data = "", .mode = 01777},
                                     {.path = "tmp/.wh..wh..opq", .type = 'f', .data = "", .mode = 0644},
                                     {.path = "tmp/new", .type = 'f', .data = "zstd layer", .mode = 0644}},
                                    Compression::zstd);
  auto top = fixtures::make_layer({{.path = "etc/motd", .type = 'f', .data = "plain layer", .mode = 0644}},
                                  Compression::none);
  auto img = fixtures::push_image(reg, "test/layers", "", {busybox(), upper, top});
  Daemon d;
  const std::string ref = reg.host() + "/test/layers@" + img.manifest_digest;
  auto r = pull(d, ref);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, img.config_digest);
  auto st = status(d, ref);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->repo_tags_size(), 0) << "a pull by digest adds no tag";
  ASSERT_EQ(st->repo_digests_size(), 1);
  EXPECT_EQ(st->repo_digests(0), ref);
  EXPECT_TRUE(fs::is_character_file(layer_dir(d, upper.digest) + "/etc/passwd")) << "whiteout in overlay form";
  EXPECT_EQ(read_file(layer_dir(d, upper.digest) + "/tmp/new"), "zstd layer");
  EXPECT_EQ(read_file(layer_dir(d, top.digest) + "/etc/motd"), "plain layer");
  EXPECT_EQ(count_layers(d), 3u);
}

TEST(ImagePull, IndexGivesThisPlatformAndDockerListToo) {
  Registry reg;
  fixtures::ImageConfig other;
  other.architecture = "s390x";
  auto foreign = fixtures::push_image(reg, "test/multi", "", {fixtures::make_layer({{.path = "s390x", .type = 'f', .data = "x", .mode = 0644}}, Compression::gzip)}, other);
  auto native = fixtures::push_image(reg, "test/multi", "", {busybox()});
  const std::string top = fixtures::push_index(reg, "test/multi", "oci",
                                               {{&foreign, "linux", "s390x", ""}, {&native, "linux", fixtures::host_arch(), ""}});
  auto dforeign = fixtures::push_image(reg, "test/multi", "", {busybox()}, other, true);
  auto dnative = fixtures::push_image(reg, "test/multi", "", {fixtures::busybox_layer(Compression::gzip, true)}, {}, true);
  fixtures::push_index(reg, "test/multi", "docker",
                       {{&dforeign, "linux", "s390x", ""}, {&dnative, "linux", fixtures::host_arch(), ""}}, true);
  fixtures::push_index(reg, "test/multi", "elsewhere", {{&foreign, "linux", "s390x", ""}, {&foreign, "windows", "amd64", ""}});

  Daemon d;
  auto r = pull(d, reg.host() + "/test/multi:oci");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, native.config_digest);
  EXPECT_EQ(status(d, r.id)->repo_digests(0), reg.host() + "/test/multi@" + top) << "the repo digest is the index's";

  auto docker = pull(d, reg.host() + "/test/multi:docker");
  ASSERT_TRUE(docker.status.ok()) << docker.status.error_message();
  EXPECT_EQ(docker.id, dnative.config_digest);

  auto none = pull(d, reg.host() + "/test/multi:elsewhere");
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(none.status.error_message().find("linux/s390x, windows/amd64"), std::string::npos)
      << none.status.error_message();
}

TEST(ImagePull, RegistryErrorsReachTheClient) {
  Registry reg;
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  auto tag = pull(d, reg.host() + "/test/busybox:nope");
  EXPECT_EQ(tag.status.error_code(), grpc::StatusCode::NOT_FOUND) << tag.status.error_message();
  EXPECT_NE(tag.status.error_message().find("MANIFEST_UNKNOWN"), std::string::npos) << tag.status.error_message();
  auto repo = pull(d, reg.host() + "/test/missing:v1");
  EXPECT_EQ(repo.status.error_code(), grpc::StatusCode::NOT_FOUND);
  // distribution 2.8 answers MANIFEST_UNKNOWN for a missing repository too.
  EXPECT_NE(repo.status.error_message().find("_UNKNOWN"), std::string::npos) << repo.status.error_message();
  auto bad = pull(d, "Bad//Ref");
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.status.error_message().find("\"Bad//Ref\""), std::string::npos) << bad.status.error_message();
  auto metrics = http_get(d.metrics_address(), "/metrics");
  EXPECT_NE(metrics.find("crius_image_pulls_total{result=\"failure\"} 3"), std::string::npos) << metrics;
  EXPECT_TRUE(list(d).empty());
}

TEST(ImagePull, ShortNamesUseTheSearchList) {
  Registry reg;
  fixtures::push_image(reg, "tiny", "v1", {busybox()});
  Daemon d({.config_yaml = "image:\n  short_name_search: [\"" + reg.host() + "\"]\n"});
  auto r = pull(d, "tiny:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(status(d, "tiny:v1")->repo_tags(0), reg.host() + "/tiny:v1") << "not docker.io's library/ rule";
}

TEST(ImagePull, BasicAuthNeedsCredentialsInEveryForm) {
  Registry reg({.user = "alice", .password = "s3cret"});
  fixtures::push_image(reg, "test/private", "v1", {busybox()});
  Daemon d;
  const std::string ref = reg.host() + "/test/private:v1";
  auto anon = pull(d, ref);
  EXPECT_EQ(anon.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << anon.status.error_message();
  EXPECT_NE(anon.status.error_message().find("UNAUTHORIZED"), std::string::npos) << anon.status.error_message();
  v1::AuthConfig wrong;
  wrong.set_username("alice");
  wrong.set_password("guess");
  auto bad = pull(d, ref, &wrong);
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad.status.error_message();
  EXPECT_NE(bad.status.error_message().find("UNAUTHORIZED"), std::string::npos) << bad.status.error_message();
  v1::AuthConfig plain;
  plain.set_username("alice");
  plain.set_password("s3cret");
  auto ok = pull(d, ref, &plain);
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  ASSERT_TRUE(remove(d, ref).ok());
  v1::AuthConfig encoded;
  encoded.set_auth("YWxpY2U6czNjcmV0");  // alice:s3cret
  auto ok2 = pull(d, ref, &encoded);
  EXPECT_TRUE(ok2.status.ok()) << ok2.status.error_message();
}

// A registry behind a bearer token service: the stub asks for a token
// (realm, service, scope), issues it for alice's password, and forwards
// authorized requests to the real registry.
TEST(ImagePull, BearerTokenFlowAnonymousRefusedCredentialedAndRegistryToken) {
  Registry reg;
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  std::atomic<int> token_requests{0};
  std::string realm;
  HttpStub stub([&](const HttpStub::Request& req) -> HttpStub::Reply {
    if (req.method == "POST" && req.target == "/token") {
      // OAuth2 refresh-token grant, for an identity_token.
      ++token_requests;
      if (req.body.find("grant_type=refresh_token") == std::string::npos ||
          req.body.find("refresh_token=refresh-456") == std::string::npos ||
          req.body.find("scope=repository:test/busybox:pull") == std::string::npos)
        return {401, {{"Content-Type", "application/json"}}, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad refresh token"}]})"};
      return {200, {{"Content-Type", "application/json"}}, R"({"access_token":"tok-123","expires_in":300})"};
    }
    if (req.target.rfind("/token?", 0) == 0) {
      ++token_requests;
      auto auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
      if (auth != "Basic YWxpY2U6czNjcmV0" || req.target.find("scope=repository:test/busybox:pull") == std::string::npos ||
          req.target.find("service=stub-registry") == std::string::npos)
        return {401, {{"Content-Type", "application/json"}}, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})"};
      return {200, {{"Content-Type", "application/json"}}, R"({"token":"tok-123","expires_in":300})"};
    }
    auto auth = req.headers.count("authorization") ? req.headers.at("authorization") : "";
    if (auth != "Bearer tok-123")
      return {401,
              {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"stub-registry\",scope=\"repository:test/busybox:pull\""},
               {"Content-Type", "application/json"}},
              R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
    return HttpStub::forward("http://" + reg.host(), req);
  });
  realm = "http://" + stub.host() + "/token";
  Daemon d;
  const std::string ref = stub.host() + "/test/busybox:v1";
  auto anon = pull(d, ref);
  EXPECT_EQ(anon.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << anon.status.error_message();
  EXPECT_NE(anon.status.error_message().find("bad credentials"), std::string::npos) << anon.status.error_message();

  v1::AuthConfig creds;
  creds.set_username("alice");
  creds.set_password("s3cret");
  token_requests = 0;
  auto ok = pull(d, ref, &creds);
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message() << "\n" << d.log();
  EXPECT_EQ(token_requests.load(), 1) << "the token is cached for its scope across the pull's requests";

  ASSERT_TRUE(remove(d, ref).ok());
  v1::AuthConfig token;
  token.set_registry_token("tok-123");
  token_requests = 0;
  auto direct = pull(d, ref, &token);
  ASSERT_TRUE(direct.status.ok()) << direct.status.error_message();
  EXPECT_EQ(token_requests.load(), 0) << "a registry_token is sent as is";

  ASSERT_TRUE(remove(d, ref).ok());
  v1::AuthConfig identity;
  identity.set_identity_token("refresh-456");
  auto oauth = pull(d, ref, &identity);
  ASSERT_TRUE(oauth.status.ok()) << oauth.status.error_message();
  EXPECT_EQ(token_requests.load(), 1) << "an identity_token is exchanged once for an access token";
}

TEST(ImagePull, TlsNeedsTheCaInCertsD) {
  Registry reg({.tls = true});
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  const std::string ref = reg.host() + "/test/busybox:v1";
  auto untrusted = pull(d, ref);
  EXPECT_FALSE(untrusted.status.ok());
  EXPECT_NE(untrusted.status.error_message().find("certificate"), std::string::npos) << untrusted.status.error_message();
  write_file(d.dir() / ("certs.d/" + reg.host() + "/ca.crt"), read_file(reg.ca_cert()));
  auto trusted = pull(d, ref);
  EXPECT_TRUE(trusted.status.ok()) << trusted.status.error_message() << "\n" << d.log();
}

TEST(ImagePull, TlsClientCertificateFromCertsD) {
  Registry reg({.tls = true, .client_certs = true});
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  const std::string ref = reg.host() + "/test/busybox:v1";
  const std::string certs = d.dir() / ("certs.d/" + reg.host());
  write_file(certs + "/ca.crt", read_file(reg.ca_cert()));
  EXPECT_FALSE(pull(d, ref).status.ok()) << "the registry wants a client certificate";
  write_file(certs + "/client.cert", read_file(reg.client_cert()));
  write_file(certs + "/client.key", read_file(reg.client_key()));
  auto r = pull(d, ref);
  EXPECT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
}

TEST(ImagePull, MirrorIsTriedBeforeTheOriginThenTheOrigin) {
  Registry origin, mirror;
  auto both = fixtures::push_image(mirror, "team/app", "v1", {busybox()});
  fixtures::push_image(origin, "team/app", "v1", {busybox()});
  fixtures::ImageConfig other;
  other.env = {"ONLY=origin"};
  auto only_origin = fixtures::push_image(origin, "team/app", "v2", {busybox()}, other);
  Daemon d({.config_yaml = "image:\n  registries:\n    - prefix: example.test\n      location: " + origin.host() +
                           "\n      insecure: true\n      mirrors:\n        - location: " + mirror.host() +
                           "\n          insecure: true\n"});
  auto r = pull(d, "example.test/team/app:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, both.config_digest);
  EXPECT_EQ(mirror.count_requests("/v2/team/app/manifests/v1"), 1);
  EXPECT_EQ(origin.count_requests("/manifests/"), 0) << "the mirror answered; the origin was not asked";
  EXPECT_EQ(status(d, r.id)->repo_tags(0), "example.test/team/app:v1") << "named as the user asked";

  auto fallback = pull(d, "example.test/team/app:v2");
  ASSERT_TRUE(fallback.status.ok()) << fallback.status.error_message();
  EXPECT_EQ(fallback.id, only_origin.config_digest);
  EXPECT_EQ(mirror.count_requests("/v2/team/app/manifests/v2"), 1) << "the mirror was asked first";
  EXPECT_EQ(origin.count_requests("/v2/team/app/manifests/v2"), 1);
}

TEST(ImagePull, CorruptedBlobIsRefusedAndNothingIsStored) {
  Registry reg;
  auto layer = fixtures::make_layer({{.path = "data", .type = 'f', .data = std::string(200000, 'q'), .mode = 0644}},
                                    Compression::none);
  fixtures::push_image(reg, "test/corrupt", "v1", {layer});
  // Same size, different bytes: only the digest can tell.
  {
    std::string data = read_file(reg.blob_file(layer.digest));
    ASSERT_EQ(data.size(), layer.blob.size());
    data[100000] = 'X';
    write_file(reg.blob_file(layer.digest), data);
  }
  Daemon d;
  auto r = pull(d, reg.host() + "/test/corrupt:v1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("digest mismatch"), std::string::npos) << r.status.error_message();
  EXPECT_TRUE(list(d).empty());
  EXPECT_EQ(count_layers(d), 0u);
  EXPECT_TRUE(leftovers(d).empty()) << leftovers(d).front();
}

TEST(ImagePull, StalledRegistryHitsTheProgressTimeout) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  HttpStub stub([&](const HttpStub::Request& req) {
    auto reply = HttpStub::forward("http://" + reg.host(), req);
    if (req.target.find("/blobs/" + busybox().digest) != std::string::npos) reply.stall = true;
    return reply;
  });
  Daemon d({.config_yaml = "image:\n  pull_progress_timeout: 1s\n"});
  const auto start = std::chrono::steady_clock::now();
  auto r = pull(d, stub.host() + "/test/busybox:v1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("pull_progress_timeout"), std::string::npos) << r.status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_TRUE(list(d).empty());
  EXPECT_EQ(count_layers(d), 0u);
  EXPECT_TRUE(leftovers(d).empty());
}

TEST(ImagePull, ServerErrorsAreRetried) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  std::atomic<int> manifest_requests{0};
  HttpStub stub([&](const HttpStub::Request& req) -> HttpStub::Reply {
    if (req.target.find("/manifests/") != std::string::npos && manifest_requests++ < 2)
      return {503, {{"Content-Type", "application/json"}}, R"({"errors":[{"code":"UNAVAILABLE","message":"busy"}]})"};
    return HttpStub::forward("http://" + reg.host(), req);
  });
  Daemon d;
  auto r = pull(d, stub.host() + "/test/busybox:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, img.config_digest);
  EXPECT_EQ(manifest_requests.load(), 3) << "two 503s, then the answer";
  EXPECT_NE(d.log().find("retrying"), std::string::npos);
}

// Every transfer of the layer is cut: the pull gives up after its bounded
// retries, leaves nothing, and a later pull completes.
TEST(ImagePull, PullCutHalfwayEveryTimeFailsThenRetriedCompletes) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  std::atomic<bool> cut{true};
  std::atomic<int> blob_requests{0};
  HttpStub stub([&](const HttpStub::Request& req) {
    auto reply = HttpStub::forward("http://" + reg.host(), req);
    if (req.target.find("/blobs/" + busybox().digest) != std::string::npos && cut) {
      ++blob_requests;
      reply.truncate = true;
    }
    return reply;
  });
  Daemon d;
  const std::string ref = stub.host() + "/test/busybox:v1";
  auto first = pull(d, ref);
  EXPECT_EQ(first.status.error_code(), grpc::StatusCode::UNAVAILABLE) << first.status.error_message();
  EXPECT_GT(blob_requests.load(), 1) << "retried within the pull";
  EXPECT_LE(blob_requests.load(), 4) << "a bounded number of times";
  cut = false;
  EXPECT_TRUE(list(d).empty());
  EXPECT_EQ(count_layers(d), 0u);
  EXPECT_TRUE(leftovers(d).empty());
  auto second = pull(d, ref);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.id, img.config_digest);
  EXPECT_TRUE(fs::exists(layer_dir(d, busybox().digest) + "/bin/busybox"));
}

TEST(ImagePull, ConcurrentPullsOfOneImageDownloadItOnce) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  std::vector<std::future<PullResult>> pulls;
  for (int i = 0; i < 10; ++i)
    pulls.push_back(std::async(std::launch::async, [&] { return pull(d, reg.host() + "/test/busybox:v1"); }));
  for (auto& p : pulls) {
    auto r = p.get();
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(r.id, img.config_digest);
  }
  EXPECT_EQ(reg.count_requests("/blobs/" + busybox().digest), 1) << reg.log();
  EXPECT_EQ(list(d).size(), 1u);
}

TEST(ImagePull, HostileLayerIsContained) {
  Registry reg;
  const std::string marker = "crius-escape-" + std::to_string(::getpid());
  auto evil = fixtures::make_layer({{.path = "../../../../../../" + marker, .type = 'f', .data = "dotdot", .mode = 0644},
                                    {.path = "/" + marker + "-abs", .type = 'f', .data = "abs", .mode = 0644},
                                    {.path = "root-link", .type = 'l', .data = "/", .mode = 0777},
                                    {.path = "root-link/tmp/" + marker + "-link", .type = 'f', .data = "link", .mode = 0644}},
                                   Compression::gzip);
  fixtures::push_image(reg, "test/evil", "v1", {evil});
  Daemon d;
  auto r = pull(d, reg.host() + "/test/evil:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const std::string layer = layer_dir(d, evil.digest);
  EXPECT_EQ(read_file(layer + "/" + marker), "dotdot");
  EXPECT_EQ(read_file(layer + "/" + marker + "-abs"), "abs");
  EXPECT_EQ(read_file(layer + "/tmp/" + marker + "-link"), "link");
  EXPECT_FALSE(fs::exists("/" + marker));
  EXPECT_FALSE(fs::exists("/" + marker + "-abs"));
  EXPECT_FALSE(fs::exists("/tmp/" + marker + "-link"));
  for (auto& e : fs::recursive_directory_iterator(d.dir().path())) {
    if (e.path().filename().string().rfind(marker, 0) == 0) {
      EXPECT_EQ(e.path().string().rfind(layer, 0), 0u) << e.path();
    }
  }
}

TEST(ImagePull, RecordsSurviveARestart) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  TempDir root;
  {
    Daemon d({.extra_args = {"--root", root.path()}});
    ASSERT_TRUE(pull(d, reg.host() + "/test/busybox:v1").status.ok());
  }
  Daemon again({.extra_args = {"--root", root.path()}});
  auto st = status(again, reg.host() + "/test/busybox:v1");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->id(), img.config_digest);
}

}  // namespace
}  // namespace crius::test
