// bench_cri's `rootless` figure (12; only with --only rootless): the same
// crius binary started rootless, as an unprivileged user made for the run
// (bench_user.h), against the rootful crius of the other figures, side by
// side and interleaved: pod start on the bridge network (figure 2's code)
// and a cold pull of pull-files' image (its code).
#pragma once

#include <string>

namespace crius::bench {

class RunDir;
class CriDaemon;
struct CriusOptions;
struct FilesImage;

// `rootful`: the crius the other figures use, started with `o`; `busybox`
// and `files` are in the loopback registry `registry` ("127.0.0.1:PORT").
// `pods` pod starts and `pulls` cold pulls for each. Prints a reason instead
// when this host cannot run crius rootless.
void figure_rootless(const RunDir& run, CriDaemon& rootful, const CriusOptions& o, const std::string& registry,
                     const std::string& busybox, const FilesImage& files, int pods, int pulls);

}  // namespace crius::bench
