// Streaming SHA-256 (OpenSSL EVP), for verifying blobs while they arrive.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace crius::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  // "sha256:<hex>"; the hasher cannot be updated afterwards.
  std::string digest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_digest(std::string_view data);

}  // namespace crius::image
