// The mkv binary: the command line (cli/commands.h) over the index backend of this build.
#include "cli/commands.h"

int main(int argc, char** argv) { return mkv::cli::run(argc, argv); }
