// Image records as the CRI shows them.
#pragma once

#include "image/image_store.h"
#include "server/proto/api.pb.h"

namespace crius::server {

void to_cri_image(const image::ImageRecord& r, ::runtime::v1::Image* out);

}  // namespace crius::server
