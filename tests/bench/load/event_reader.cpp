#include "tests/bench/load/event_reader.h"

namespace crius::bench::load {

EventReader::EventReader(CriDaemon& d) {
  reader_ = std::thread([this, &d] {
    auto stream = d.runtime().GetContainerEvents(&ctx_, v1::GetEventsRequest());
    v1::ContainerEventResponse e;
    while (stream->Read(&e)) ++events_;
    const grpc::Status s = stream->Finish();
    ended_ = s.ok() ? "ended by the daemon" : s.error_message();
    done_ = true;
  });
}

EventReader::~EventReader() {
  ctx_.TryCancel();
  reader_.join();
}

std::string EventReader::ended() const { return done_ ? ended_ : std::string(); }

}  // namespace crius::bench::load
