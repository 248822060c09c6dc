// crius-runtime: the builtin OCI runtime behind runc's command line.
#include "oci/runtime/cli.h"

int main(int argc, char** argv) { return crius::oci::runtime::run_cli(argc, argv); }
