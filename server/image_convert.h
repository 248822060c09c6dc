// Image records as the CRI shows them.
#pragma once

#include "image/image_store.h"
#include "api/cri.pb.h"

namespace crius::server {

// `pinned`: image::is_pinned of the record against image.pinned_images.
void to_cri_image(const image::ImageRecord& r, bool pinned, ::runtime::v1::Image* out);

}  // namespace crius::server
