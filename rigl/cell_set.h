// A set of cells of a grid (flat indices in [0, cells)), for the ever-active history of a layer: which positions
// have ever held a weight. It starts as a sorted list (8 bytes a member) and becomes a bitmap (one bit a cell) once
// the list would be the larger of the two, i.e. above cells / 64 members; a bitmap never goes back. Adding k sorted
// cells costs O(size + k) as a list and O(k) as a bitmap, which is why the switch matters: with RigL at density 0.1
// the history of a 4096 x 4096 layer passes 1/64 of its cells at the first update.
#ifndef RIGL_CELL_SET_H_
#define RIGL_CELL_SET_H_

#include <cstdint>
#include <vector>

namespace rigl {

class CellSet {
 public:
  // The set over [0, cells) holding `sorted` (ascending, distinct, each in range: checked, an engine::Error names
  // `what` and the first bad entry).
  void Assign(int64_t cells, std::vector<int64_t> sorted, const char* what = "cell set");
  // Adds cells (ascending, distinct, each in [0, cells): checked the same way); members already in stay once.
  void Add(const std::vector<int64_t>& sorted);
  int64_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  int64_t cells() const { return cells_; }
  bool is_bitmap() const { return bitmap_; }
  // The members in ascending order (what a checkpoint stores, whatever the representation).
  std::vector<int64_t> Sorted() const;

 private:
  void MaybeSwitch();
  int64_t cells_ = 0;
  int64_t count_ = 0;
  bool bitmap_ = false;
  std::vector<int64_t> list_;    // while !bitmap_
  std::vector<uint64_t> words_;  // while bitmap_: bit c % 64 of word c / 64 is cell c
};

}  // namespace rigl

#endif  // RIGL_CELL_SET_H_
