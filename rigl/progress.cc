// Progress bar / periodic lines (see progress.h).
#include "rigl/progress.h"

#include <unistd.h>

#include <cstdio>

namespace rigl {

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0)) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>((s / 60) % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  }
  return buf;
}

Progress::Progress(const std::string& mode, int64_t total, int64_t done) : total_(total), start_done_(done) {
  const bool tty = isatty(fileno(stderr)) != 0;
  bar_ = mode == "bar" || (mode == "auto" && tty);
  lines_ = mode == "lines" || (mode == "auto" && !tty);
}

void Progress::OnStep(int64_t done, int64_t epoch, int64_t epochs, float loss, float lr) {
  const double now = timer_.Seconds();
  const double rate = (done - start_done_) / std::max(now, 1e-9);
  const double eta = rate > 0 ? (total_ - done) / rate : -1;
  if (bar_) {
    if (now - last_draw_ < 0.1 && done < total_) return;
    last_draw_ = now;
    const int width = 30;
    const int filled = static_cast<int>(width * static_cast<double>(done) / std::max<int64_t>(total_, 1));
    std::string bar(filled, '#');
    bar += std::string(width - filled, '.');
    std::fprintf(stderr, "\r[%s] %3d%% epoch %lld/%lld  loss %.4f  lr %.4g  %.0f it/s  ETA %s   ", bar.c_str(),
                 static_cast<int>(100.0 * done / std::max<int64_t>(total_, 1)), static_cast<long long>(epoch + 1),
                 static_cast<long long>(epochs), loss, lr, rate, FormatDuration(eta).c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else if (lines_) {
    if (last_draw_ >= 0 && now - last_draw_ < 10.0) return;  // one line every 10 s
    last_draw_ = now;
    std::fprintf(stderr, "progress: %lld/%lld iterations (%.0f%%), epoch %lld/%lld, loss %.4f, lr %.4g, ETA %s\n",
                 static_cast<long long>(done), static_cast<long long>(total_), 100.0 * done / std::max<int64_t>(total_, 1),
                 static_cast<long long>(epoch + 1), static_cast<long long>(epochs), loss, lr,
                 FormatDuration(eta).c_str());
  }
}

void Progress::Clear() {
  if (bar_ && drawn_) {
    std::fprintf(stderr, "\r%*s\r", 110, "");
    drawn_ = false;
  }
}

void Progress::Line(const std::string& text) {
  Clear();
  std::fprintf(stdout, "%s\n", text.c_str());
  std::fflush(stdout);
}

}  // namespace rigl
