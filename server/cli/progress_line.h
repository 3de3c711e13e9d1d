// The progress report of a long-running command on stderr: one line redrawn in place on a
// terminal, a plain line every few seconds otherwise (logs, pipes, CI).
#pragma once

#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

namespace mkv {

class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;

  ProgressLine()
      : terminal_(::isatty(STDERR_FILENO) == 1),
        interval_(terminal_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(2000)),
        start_(Clock::now()),
        last_(start_) {}

  // Returns whether the line is due to be shown again; the caller builds it only then.
  bool due() const { return Clock::now() - last_ >= interval_; }

  // Returns the seconds since this object was made.
  double seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

  // Shows line (no newline): on a terminal it replaces the line shown before.
  void show(std::string_view line) {
    last_ = Clock::now();
    if (terminal_) {
      write("\r" + std::string(line) + "\x1b[K");
      drawn_ = true;
    } else {
      write(std::string(line) + '\n');
    }
  }

  // Shows line as the last state of a phase: it stays on the screen and later output follows
  // on the next line.
  void finish(std::string_view line) {
    last_ = Clock::now();
    if (terminal_) {
      write("\r" + std::string(line) + "\x1b[K\n");
    } else {
      write(std::string(line) + '\n');
    }
    drawn_ = false;
  }

  // Writes whole lines of text, first clearing a line drawn in place.
  void print(std::string_view text) {
    if (drawn_) {
      write("\r\x1b[K" + std::string(text));
      drawn_ = false;
    } else {
      write(std::string(text));
    }
  }

 private:
  // One write(2) per report, so the line is never torn by other output.
  static void write(const std::string& text) {
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, text.data(), text.size());
  }

  bool terminal_;
  std::chrono::milliseconds interval_;
  Clock::time_point start_;
  Clock::time_point last_;
  bool drawn_ = false;
};

}  // namespace mkv
