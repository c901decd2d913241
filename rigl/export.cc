// Network <-> safetensors: names, CSR parts, metadata, and the validation of an imported file (see export.h).
#include "rigl/export.h"

#include <cmath>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/check.h"
#include "engine/sparse/csr.h"
#include "engine/sparse/topology_edit.h"
#include "rigl/method.h"
#include "rigl/safetensors.h"
#include "rigl/updater.h"

namespace rigl {
namespace {

constexpr char kConvCsrLayout[] =
    "a conv weight [K, C, R, S] stored as CSR parts is the matrix of K rows and C*R*S columns: row k, column "
    "c*R*S + r*S + s (the row-major reshape of the 4-D weight)";
// PyTorch's BatchNorm counter: in every state dict, unused by the engine (its momentum is fixed).
constexpr char kIgnoredSuffix[] = ".num_batches_tracked";

// One tensor of the model: a dense parameter, a sparse weight or a buffer, with PyTorch's shape.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  engine::DenseParameter* dense = nullptr;
  engine::SparseParameter* sparse = nullptr;
  engine::Tensor* buffer = nullptr;

  engine::Tensor& tensor() const { return dense != nullptr ? dense->var.value() : *buffer; }
};

// PyTorch's shape of a sparse weight, from the model's layer table (Linear [out, in], Conv2d [K, C, R, S]).
std::vector<int64_t> TorchShape(const models::Network& net, const engine::SparseParameter& p) {
  for (const models::LayerSpec& l : net.layers) {
    if (l.name != p.name) continue;
    const std::vector<int64_t> shape =
        l.kind == models::LayerSpec::kDense ? std::vector<int64_t>{l.out_channels, l.in_channels}
        : l.kind == models::LayerSpec::kConv
            ? std::vector<int64_t>{l.out_channels, l.in_channels, l.kernel_h, l.kernel_w}
            : std::vector<int64_t>{l.out_channels, 1, l.kernel_h, l.kernel_w};
    ENGINE_CHECK(shape[0] == p.rows() && engine::ShapeSize(shape) == p.rows() * p.cols(), p.name,
                 ": the layer table says ", ShapeText(shape), " but the weight is ", p.rows(), " x ", p.cols());
    return shape;
  }
  ENGINE_CHECK(false, p.name, ": not in the model's layer table");
  return {};
}

// Every tensor an export writes and an import reads, in the model's order.
std::vector<Slot> Slots(models::Network& net) {
  std::vector<Slot> slots;
  for (engine::DenseParameter* p : net.params.dense) slots.push_back({p->name, p->var.value().shape(), p});
  for (engine::SparseParameter* p : net.params.sparse) slots.push_back({p->name, TorchShape(net, *p), nullptr, p});
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net.module->CollectBuffers(&buffers);
  for (auto& [name, t] : buffers) slots.push_back({name, t->shape(), nullptr, nullptr, t});
  std::set<std::string> names;
  for (const Slot& s : slots) ENGINE_CHECK(names.insert(s.name).second, "the model has two tensors named ", s.name);
  return slots;
}

// The shortest text that reads back as the same double.
std::string Number(double v) { return nlohmann::json(v).dump(); }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The CSR parts' names.
std::string Crow(const std::string& name) { return name + ".crow_indices"; }
std::string Col(const std::string& name) { return name + ".col_indices"; }
std::string Val(const std::string& name) { return name + ".values"; }

}  // namespace

std::string ModelFlags(const TrainConfig& config) {
  std::string s = "--model=" + config.model;
  if (config.model == "mlp") {
    s += " --width=";
    for (size_t i = 0; i < config.width.size(); ++i) s += (i ? "," : "") + std::to_string(config.width[i]);
  }
  return s;
}

ExportStats ExportNetwork(models::Network& net, const TrainConfig& config, const ExportOptions& options,
                          const std::string& path) {
  SafetensorsWriter w;
  ExportStats stats;
  std::deque<std::vector<int64_t>> columns;  // int32 column indices widened for PyTorch (alive until Write)
  std::deque<engine::Tensor> densified;      // sparse weights written dense
  std::deque<engine::CsrMatrix> unblocked;   // blocked weights as CSR (every in-bounds entry of a stored block)
  for (const Slot& s : Slots(net)) {
    if (s.sparse == nullptr) {
      w.Add(s.name, Dtype::kF32, s.shape, s.tensor().data());
      continue;
    }
    if (s.sparse->blocked()) unblocked.push_back(s.sparse->ToCsr());
    const engine::CsrMatrix& m = s.sparse->blocked() ? unblocked.back() : s.sparse->weight();
    if (options.dense) {
      densified.push_back(m.ToDense());
      w.Add(s.name, Dtype::kF32, s.shape, densified.back().data());
      continue;
    }
    ++stats.sparse_weights;
    columns.emplace_back(m.col_indices().begin(), m.col_indices().end());
    w.Add(Crow(s.name), Dtype::kI64, {m.rows() + 1}, m.row_offsets().data());
    w.Add(Col(s.name), Dtype::kI64, {m.nnz()}, columns.back().data());
    w.Add(Val(s.name), Dtype::kF32, {m.nnz()}, m.values().data());
    w.SetMetadata(s.name + ".shape", ShapeText(s.shape));
  }
  w.SetMetadata("format", kExportFormat);
  w.SetMetadata("engine_version", kVersion);
  w.SetMetadata("model", config.model);
  if (config.model == "mlp") {  // the hidden widths as built (Small-Dense scales them)
    std::string widths;
    for (size_t l = 0; l + 1 < net.layers.size(); ++l) {
      widths += (l ? "," : "") + std::to_string(net.layers[l].out_channels);
    }
    w.SetMetadata("width", widths);
  }
  w.SetMetadata("method", MethodName(config.method));
  if (config.method != Method::kDense) {
    w.SetMetadata("sparsity", Number(config.sparsity));
    w.SetMetadata("distribution", config.distribution);
    w.SetMetadata("block", config.block);
  }
  w.SetMetadata("seed", std::to_string(config.seed));
  w.SetMetadata("step", std::to_string(options.step));
  w.SetMetadata("input_mean", Number(options.input.mean));
  w.SetMetadata("input_std", Number(options.input.std));
  w.SetMetadata("conv_csr_layout", kConvCsrLayout);
  for (const models::LayerSpec& l : net.layers) {
    double density = 1.0;
    for (const engine::SparseParameter* p : net.params.sparse) {
      if (p->name == l.name) density = p->density();
    }
    w.SetMetadata(l.name + ".density", Number(density));
  }
  w.Write(path);
  stats.tensors = w.size();
  std::error_code ec;
  stats.bytes = std::filesystem::file_size(path, ec);
  return stats;
}

namespace {

// Reads and checks one file for one model; everything it returns is validated, nothing of the model is changed.
class Importer {
 public:
  Importer(const std::string& path, const std::string& model)
      : r_(path, "--init_from=" + path + ": "), where_("--init_from=" + path + ": ") {
    const auto& md = r_.metadata();
    const auto m = md.find("model");
    if (m != md.end()) {
      note_ = " (checked against " + model + "; the file's metadata says model=" + m->second;
      const auto w = md.find("width");
      note_ += (w != md.end() ? " width=" + w->second : "") + ")";
    } else {
      note_ = " (checked against " + model + ")";
    }
  }

  const SafetensorsReader& reader() const { return r_; }
  const std::string& where() const { return where_; }
  const std::string& note() const { return note_; }
  void Use(const std::string& name) { used_.insert(name); }
  bool Used(const std::string& name) const { return used_.count(name) != 0; }

  // The dense tensor `name` of PyTorch shape `shape`, finite.
  std::vector<float> Dense(const std::string& name, const std::vector<int64_t>& shape) {
    CheckShape(name, shape, "");
    std::vector<float> v = r_.ReadFloats(name);
    CheckFinite(name, v);
    Use(name);
    return v;
  }

  // The CSR parts of `name` as the rows x cols matrix of PyTorch shape `shape` (rows = shape[0]).
  engine::CsrMatrix Csr(const std::string& name, const std::vector<int64_t>& shape) {
    for (const std::string& part : {Crow(name), Col(name), Val(name)}) {
      ENGINE_CHECK(r_.Has(part), where_, "tensor '", part, "' is missing; expected the CSR parts ", Crow(name), ", ",
                   Col(name), " and ", Val(name), " together");
    }
    const int64_t rows = shape[0], cols = engine::ShapeSize(shape) / std::max<int64_t>(rows, 1);
    const auto md = r_.metadata().find(name + ".shape");
    if (md != r_.metadata().end()) {
      const nlohmann::json j = nlohmann::json::parse(md->second, nullptr, /*allow_exceptions=*/false);
      std::vector<int64_t> given;
      bool ok = j.is_array();
      for (const nlohmann::json& d : ok ? j : nlohmann::json::array()) {
        ok = ok && d.is_number_unsigned() && d.get<uint64_t>() <= (uint64_t{1} << 62);
        if (ok) given.push_back(d.get<int64_t>());
      }
      ENGINE_CHECK(ok, where_, "metadata '", name, ".shape' is '", md->second,
                   "'; expected a JSON array of integers such as ", ShapeText(shape));
      ENGINE_CHECK(given == shape, where_, "metadata '", name, ".shape' is ", ShapeText(given), "; expected ",
                   ShapeText(shape), note_);
    }
    const TensorInfo& col = r_.Get(Col(name));
    ENGINE_CHECK(col.shape.size() == 1, where_, "tensor '", Col(name), "' has shape ", ShapeText(col.shape),
                 "; expected [nnz]");
    const int64_t nnz = col.shape[0];
    CheckShape(Crow(name), {rows + 1}, " (rows + 1 for " + name + " of shape " + ShapeText(shape) + ")");
    CheckShape(Val(name), {nnz}, " (one value per column index)");
    std::vector<int64_t> offsets = r_.ReadInt64s(Crow(name));
    const std::vector<int64_t> wide = r_.ReadInt64s(Col(name));
    std::vector<int32_t> indices(wide.size());
    for (size_t p = 0; p < wide.size(); ++p) {  // before narrowing: 2^32 + 5 must not pass as 5
      ENGINE_CHECK(wide[p] >= 0 && wide[p] < cols, where_, "tensor '", Col(name), "': `0 <= col_indices < cols` is "
                   "not satisfied (col_indices[", p, "] = ", wide[p], ", cols = ", cols, " for ", name, " of shape ",
                   ShapeText(shape), ")");
      indices[p] = static_cast<int32_t>(wide[p]);
    }
    std::vector<float> values = r_.ReadFloats(Val(name));
    CheckFinite(Val(name), values);
    Use(Crow(name));
    Use(Col(name));
    Use(Val(name));
    return engine::CsrMatrix::FromParts(rows, cols, std::move(offsets), std::move(indices), std::move(values),
                                        where_ + "tensors " + name + ".{crow_indices, col_indices, values}");
  }

  int64_t Step() const {
    const auto it = r_.metadata().find("step");
    if (it == r_.metadata().end()) return 0;
    const std::string& s = it->second;
    bool ok = !s.empty() && s.size() <= 18;
    for (char ch : s) ok = ok && ch >= '0' && ch <= '9';
    ENGINE_CHECK(ok, where_, "metadata 'step' is '", s, "'; expected a non-negative integer");
    return std::stoll(s);
  }

 private:
  void CheckShape(const std::string& name, const std::vector<int64_t>& shape, const std::string& why) const {
    const TensorInfo& t = r_.Get(name);
    ENGINE_CHECK(t.shape == shape, where_, "tensor '", name, "' has shape ", ShapeText(t.shape), "; expected ",
                 ShapeText(shape), why, note_);
  }
  void CheckFinite(const std::string& name, const std::vector<float>& v) const {
    for (size_t i = 0; i < v.size(); ++i) {
      ENGINE_CHECK(std::isfinite(v[i]), where_, "tensor '", name, "' holds ", v[i], " at index ", i,
                   "; expected finite values");
    }
  }

  SafetensorsReader r_;
  std::string where_, note_;
  std::set<std::string> used_;
};

// The `keep` largest |w| of a dense rows x cols weight (ties: the higher position stays, LowestMagnitude's rule), as
// CSR.
engine::CsrMatrix KeepLargest(const std::vector<float>& dense, int64_t rows, int64_t cols, int64_t keep,
                              const std::string& name) {
  const int64_t n = rows * cols;
  const std::vector<int64_t> drop = LowestMagnitude(dense.data(), n, n - keep);  // ascending
  std::vector<int64_t> offsets(rows + 1, 0);
  std::vector<int32_t> indices;
  std::vector<float> values;
  indices.reserve(keep);
  values.reserve(keep);
  size_t d = 0;
  for (int64_t flat = 0; flat < n; ++flat) {
    if (d < drop.size() && drop[d] == flat) {
      ++d;
      continue;
    }
    ++offsets[flat / cols + 1];
    indices.push_back(static_cast<int32_t>(flat % cols));
    values.push_back(dense[flat]);
  }
  for (int64_t i = 0; i < rows; ++i) offsets[i + 1] += offsets[i];
  return engine::CsrMatrix::FromParts(rows, cols, std::move(offsets), std::move(indices), std::move(values), name);
}

}  // namespace

ImportStats ImportNetwork(const std::string& path, models::Network* net, const std::string& model) {
  Importer in(path, model);
  const SafetensorsReader& r = in.reader();
  const std::string& where = in.where();
  ImportStats stats;
  const std::vector<Slot> slots = Slots(*net);
  // Everything is read and checked into these first; the model changes only once all of it has passed.
  std::vector<std::vector<float>> dense(slots.size());
  std::vector<std::optional<engine::CsrMatrix>> sparse(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    const bool has_dense = r.Has(s.name);
    const bool has_csr = r.Has(Crow(s.name)) || r.Has(Col(s.name)) || r.Has(Val(s.name));
    ENGINE_CHECK(!(has_dense && has_csr), where, "both the dense tensor '", s.name, "' and CSR parts of it; expected "
                 "one of the two");
    const bool matrix = s.buffer == nullptr && s.shape.size() >= 2;  // a weight: may come as CSR parts
    ENGINE_CHECK(has_dense || (has_csr && matrix), where, "no tensor '", s.name, "'",
                 matrix ? " (nor its CSR parts " + Crow(s.name) + ", " + Col(s.name) + ", " + Val(s.name) + ")" : "",
                 "; expected ", s.name, " of shape ", ShapeText(s.shape), in.note());
    ++stats.tensors;
    const int64_t rows = s.shape.empty() ? 1 : s.shape[0];
    const int64_t cols = engine::ShapeSize(s.shape) / std::max<int64_t>(rows, 1);
    if (s.sparse != nullptr) {
      ENGINE_CHECK(!s.sparse->blocked(), where, s.name, " is stored in ", s.sparse->block_rows(), "x",
                   s.sparse->block_cols(), " blocks in this run; expected an unstructured (--block=1x1) run: "
                   "importing into a block-sparse model is not supported");
      const int64_t nnz = s.sparse->weight().nnz();
      if (has_csr) {
        sparse[i] = in.Csr(s.name, s.shape);
        ENGINE_CHECK(sparse[i]->nnz() == nnz, where, s.name, " has ", sparse[i]->nnz(), " stored entries (CSR parts); "
                     "expected ", nnz, " as this run stores it", in.note(), ". To have it chosen by magnitude, "
                     "give the weight as a dense tensor (--export_dense) or change --sparsity/--distribution");
        ++stats.csr;
      } else {
        sparse[i] = KeepLargest(in.Dense(s.name, s.shape), rows, cols, nnz, where + s.name);
        ++stats.sparsified;
      }
    } else {
      dense[i] = has_dense ? in.Dense(s.name, s.shape) : std::vector<float>();
      if (has_csr) {
        const engine::Tensor d = in.Csr(s.name, s.shape).ToDense();
        dense[i].assign(d.data(), d.data() + d.size());
      }
    }
  }
  for (const auto& [name, info] : r.tensors()) {
    (void)info;
    ENGINE_CHECK(in.Used(name) || EndsWith(name, kIgnoredSuffix), where, "tensor '", name, "' is not a parameter or "
                 "buffer of this model; expected only the model's ", slots.size(), " tensors (",
                 slots.front().name, ", ...)", in.note());
  }
  stats.step = in.Step();
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    if (s.sparse != nullptr) {
      engine::TopologyEdit::Replace(*s.sparse, std::move(*sparse[i]));
      s.sparse->ZeroGrad();
    } else {
      std::copy(dense[i].begin(), dense[i].end(), s.tensor().data());
    }
  }
  return stats;
}

}  // namespace rigl
