// Handing a job to the running `mkv serve` that owns the index: the CLI finds the server's
// admin listener (admin/admin_listener.h), asks it to run the job, and shows the lines the job
// streams back exactly as the offline command shows its own. Ctrl-C asks the server to stop the
// job at a safe point and waits for its report; a second Ctrl-C leaves without waiting.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mkv::cli {

// Runs the job at admin target (e.g. "/jobs/verify?repair=1") in the serve that owns db, and
// returns the command's exit status (the job's, or 1 if it could not be run or was stopped).
// Returns nullopt, having printed nothing, when no server's admin address is recorded for db
// or none answers there: the caller then reports why it cannot own the index. command names
// the command in messages ("verify").
std::optional<int> run_online(const std::string& db, std::string_view command,
                              const std::string& target);

}  // namespace mkv::cli
