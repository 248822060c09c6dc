// Between container records and the CRI messages: a record becomes a
// ContainerStatus or a Container list item, and a filter is matched.
#pragma once

#include "container/record.h"
#include "api/cri.pb.h"

namespace crius::server {

void to_status(const container::Record&, ::runtime::v1::ContainerStatus*);
void to_list_item(const container::Record&, ::runtime::v1::Container*);
// The filter's id (exact or prefix), pod sandbox id (exact or prefix), state
// and labels all match.
bool matches(const container::Record&, const ::runtime::v1::ContainerFilter&);
// Verbose info: pid, the OCI spec, the runtime handler, as JSON.
std::string verbose_info(const container::Record&);

}  // namespace crius::server
