// Tests for the resident-set readings of engine/base/memory, against readings that share no code with them:
// /proc/self/statm (another file, in pages) and getrusage's ru_maxrss (a system call, in kB), around a fresh
// anonymous mapping whose every page is touched and then unmapped.
#include "engine/base/memory.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include <gtest/gtest.h>

namespace {

constexpr int64_t kTouched = int64_t{64} << 20;  // 64 MiB: far above allocator noise and counter lag
// The kernel's RSS counters lag by a few per-CPU batches, and reclaim may drop some file-backed pages meanwhile.
// (8 MiB: far below what a parser that got the unit or the field wrong would be off by.)
constexpr int64_t kSlack = kTouched / 8;

// Resident bytes from /proc/self/statm (second field, in pages).
int64_t StatmResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long long size = 0, resident = 0;
  const int fields = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  return fields == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

int64_t RusageMaxRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

TEST(PeakRss, GrowsByWhatAFreshMappingTouchesAndStaysAfterItIsReleased) {
  const int64_t resident_before = StatmResidentBytes();
  ASSERT_GT(resident_before, 0) << "/proc/self/statm unreadable";
  void* mapping = mmap(nullptr, kTouched, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  volatile char* bytes = static_cast<volatile char*>(mapping);
  for (int64_t i = 0; i < kTouched; i += sysconf(_SC_PAGESIZE)) bytes[i] = 1;  // fault every page in
  const int64_t resident_touched = StatmResidentBytes();
  const int64_t rss_touched = engine::RssBytes();
  const int64_t peak_touched = engine::PeakRssBytes();
  munmap(mapping, kTouched);
  const int64_t resident_released = StatmResidentBytes();
  const int64_t peak_released = engine::PeakRssBytes();
  const int64_t rusage_peak = RusageMaxRssBytes();  // read last: it can only have grown since

  ASSERT_GE(resident_touched, resident_before + kTouched - kSlack) << "the oracle did not see the pages";
  EXPECT_NEAR(static_cast<double>(rss_touched), static_cast<double>(resident_touched), kSlack)
      << "RssBytes disagrees with /proc/self/statm (units?)";
  EXPECT_GE(peak_touched, resident_before + kTouched - kSlack) << "before " << resident_before;
  // The high-water mark keeps the pages after they are released (to within the counters' lag: the mark saved at
  // munmap may read a few pages below what VmHWM showed a moment before, seen here: 120 KiB).
  EXPECT_GE(peak_released, resident_before + kTouched - kSlack) << "before " << resident_before;
  EXPECT_GE(peak_released, peak_touched - kSlack);
  EXPECT_LT(resident_released, peak_released - kTouched / 2) << "PeakRssBytes reads the current RSS, not the peak";
  EXPECT_LE(peak_released, rusage_peak) << "VmHWM above getrusage's ru_maxrss (units?)";
}

}  // namespace
