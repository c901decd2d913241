// Terminal progress for long training runs: a one-line bar with rate and ETA on a terminal (redrawn in place on
// stderr), or plain periodic lines when stderr is not a terminal (logs, CI). Epoch summaries and other permanent
// lines go through Line() so they never collide with the bar.
#ifndef RIGL_PROGRESS_H_
#define RIGL_PROGRESS_H_

#include <cstdint>
#include <string>

#include "engine/base/timer.h"

namespace rigl {

class Progress {
 public:
  // mode: auto | bar | lines | none. total: iterations of the whole run; done: already done (resume).
  Progress(const std::string& mode, int64_t total, int64_t done);
  // After each iteration.
  void OnStep(int64_t done, int64_t epoch, int64_t epochs, float loss, float lr);
  // A permanent line on stdout (clears the bar first).
  void Line(const std::string& text);

 private:
  void Clear();
  bool bar_ = false, lines_ = false;
  int64_t total_ = 0, start_done_ = 0;
  engine::Timer timer_;
  double last_draw_ = -1;
  bool drawn_ = false;
};

std::string FormatDuration(double seconds);

}  // namespace rigl

#endif  // RIGL_PROGRESS_H_
