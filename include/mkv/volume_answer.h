// What a volume's answer means: the one classification of the status codes nginx answers mkv's
// requests with, when a request that got no answer is sent again, and which PUT bodies may
// share a pipelined connection. The IO layer (server/volume/) asks these and decides nothing.
#pragma once

#include <cstdint>
#include <optional>

namespace mkv {

// The requests mkv sends to volumes.
enum class VolumeVerb {
  put,     // store a body at a path (nginx: 201 created, 204 replaced)
  remove,  // DELETE a path
  move,    // MOVE a staged file onto a key (a rename on the volume)
  get,     // read a blob or a directory listing
};

// What a volume's status code says about a request.
enum class Answer {
  done,    // the volume did what was asked
  absent,  // the path was not there: for a DELETE that is as good as done, for a GET or a
           // MOVE the request failed
  failed,  // the volume refused or failed the request
};

// Returns what status means as the answer to verb.
[[nodiscard]] constexpr Answer classify_answer(VolumeVerb verb, unsigned status) {
  if (status == 404 && verb != VolumeVerb::put) return Answer::absent;
  switch (verb) {
    case VolumeVerb::put:
    case VolumeVerb::move: return status == 201 || status == 204 ? Answer::done : Answer::failed;
    case VolumeVerb::remove: return status == 200 || status == 204 ? Answer::done : Answer::failed;
    case VolumeVerb::get: return status == 200 ? Answer::done : Answer::failed;
  }
  return Answer::failed;  // unreachable: every verb is handled above
}

// Returns whether a DELETE answered with status leaves the path gone (deleted, or not there).
[[nodiscard]] constexpr bool removed(unsigned status) {
  return classify_answer(VolumeVerb::remove, status) != Answer::failed;
}

// What to do with an idempotent request to a volume (a DELETE, a MOVE, a GET, the PUT of a
// whole body) that got no answer on its keep-alive connection.
enum class Unanswered { resend, fail };

// Returns whether to send an unanswered request again, once, on a new connection.
// closed_cleanly: the volume answered an earlier request on the connection with
//   "Connection: close" (e.g. nginx's keepalive_requests), so it read none of the later ones.
// connection_worked: the connection had answered before it failed; a pooled connection the
//   volume dropped while idle fails this way, and a fresh try is likely to work. A connection
//   that never answered fails for a reason a new one would meet again.
// resent_before: this request was already sent again after a failure.
// timed_out: the volume accepted the request and then said nothing for the whole IO timeout: it
//   hangs, and a resend would only wait out another timeout.
[[nodiscard]] constexpr Unanswered after_no_answer(bool closed_cleanly, bool connection_worked,
                                                   bool resent_before, bool timed_out = false) {
  if (closed_cleanly) return Unanswered::resend;  // never reached the volume: always safe
  if (timed_out) return Unanswered::fail;
  return connection_worked && !resent_before ? Unanswered::resend : Unanswered::fail;
}

// Returns whether the body of a PUT to a volume may share the volume's pipeline: it is whole
// in memory, exactly the length the request declares (a short body on a pipelined connection
// would take the next request's bytes as its own), and at most limit bytes (a large one would
// hold up the requests queued behind it).
[[nodiscard]] constexpr bool pipelinable_body(bool whole, std::optional<std::uint64_t> declared,
                                              std::uint64_t size, std::uint64_t limit) {
  return whole && declared && *declared == size && size <= limit;
}

}  // namespace mkv
