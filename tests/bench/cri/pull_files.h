// bench_cri's `pull-files` figure (issue 19): a realistic cold pull. The
// image is built at bench start from this machine's own files (one gzip -6
// layer per tree, made with the system tar and gzip, streamed to files in
// the run dir), pushed to the loopback registry, then pulled cold by crius
// and containerd in turn, with the page cache warm and dropped, beside the
// floors of the same blobs: `tar -xzf` into a directory on the daemons'
// filesystem and `gzip -dc > /dev/null`. Wall time, user and system CPU
// (each daemon's with every process it started, from a cgroup of its own),
// MB/s and files/s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace crius::fixtures {
class Registry;
}

namespace crius::bench {

class RunDir;
class CriDaemon;

struct FilesImage {
  std::string ref;                                  // "<registry>/bench/files:1"
  std::vector<std::string> trees;                   // one layer each, in this order
  std::vector<std::string> blobs;                   // the gzip blobs, under the run dir
  std::vector<std::string> registry_blobs;          // the same in the registry's storage
  std::vector<std::string> digests, diff_ids;
  std::vector<uint64_t> gz_bytes_of, tar_bytes_of, entries_of;
  uint64_t gz_bytes = 0, tar_bytes = 0, entries = 0;  // totals: compressed, uncompressed tar, tar entries
};

// /usr/include, /usr/bin, /usr/lib/gcc; one that is missing here is
// replaced by a directory of /usr that is not (said on stderr).
std::vector<std::string> default_files_trees();

// Makes one layer per tree (tar | hash | gzip -6, all streamed, the trees
// at once) and pushes them with a config and an OCI manifest as ref.
FilesImage push_files_image(const RunDir& run, fixtures::Registry& reg, const std::vector<std::string>& trees);

// Removes the image from d and waits until its blobs and layers are gone
// from disk (layers_before: d's layer count without it); "" or what failed.
std::string make_cold(CriDaemon& d, const FilesImage& im, size_t layers_before);
// Reads the files through, into the page cache.
void read_through(const std::vector<std::string>& files);

// Runs and prints the figure: n interleaved iterations for each page-cache
// variant asked for ("warm", "dropped").
void figure_pull_files(const RunDir& run, const std::vector<CriDaemon*>& ds, const FilesImage& im, int n,
                       const std::set<std::string>& variants);

}  // namespace crius::bench
