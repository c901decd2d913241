// Tests //rigl:export: networks written and read back exactly (patterns, values, buffers; export -> import -> export
// byte-identical), the conv mapping, magnitude sparsification of dense tensors, CSR densified into dense layers, and
// one row per malformed file the import must refuse (naming the tensor, what was found and what was expected)
// without changing the model.
#include "rigl/export.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/base/check.h"
#include "models/networks.h"
#include "rigl/config.h"
#include "rigl/safetensors.h"
#include "tests/rigl/run_fixture.h"

namespace rigl {
namespace {

std::string Path(const std::string& name) { return testutil::TempDir("export_test") + "/" + name; }

// 784-20-10-10: fc1 and fc2 sparse (50 and 30 of 15680 and 200), fc3 dense.
models::Network Mlp(uint64_t seed, bool sparse = true) {
  models::NetworkOptions o;
  o.model = "mlp";
  o.hidden = {20, 10};
  o.seed = seed;
  if (sparse) {
    o.plan["fc1.weight"] = engine::nn::WeightStorage::Sparse(50);
    o.plan["fc2.weight"] = engine::nn::WeightStorage::Sparse(30);
  }
  return models::BuildNetwork(o);
}

TrainConfig MlpConfig() {
  TrainConfig c;
  c.model = "mlp";
  c.width = {20, 10};
  return c;
}

// Every parameter's and buffer's bytes (sparse: offsets, columns, values), by name.
std::map<std::string, std::vector<uint8_t>> Contents(models::Network& net) {
  std::map<std::string, std::vector<uint8_t>> out;
  auto put = [&out](const std::string& name, const void* data, size_t bytes) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    out[name].assign(p, p + bytes);
  };
  for (engine::DenseParameter* p : net.params.dense) put(p->name, p->var.value().data(), p->var.value().size() * 4);
  for (engine::SparseParameter* p : net.params.sparse) {
    const engine::CsrMatrix& w = p->weight();
    put(p->name + ".offsets", w.row_offsets().data(), w.row_offsets().size() * 8);
    put(p->name + ".cols", w.col_indices().data(), w.col_indices().size() * 4);
    put(p->name + ".values", w.values().data(), w.values().size() * 4);
  }
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net.module->CollectBuffers(&buffers);
  for (auto& [name, t] : buffers) put(name, t->data(), t->size() * 4);
  return out;
}

ExportOptions Options(int64_t step = 7) {
  ExportOptions o;
  o.step = step;
  o.input = {0.25f, 0.5f};
  return o;
}

TEST(Export, ImportRestoresTheNetworkAndReexportsByteIdentical) {
  models::Network a = Mlp(1);
  const std::string first = Path("mlp_a.safetensors"), second = Path("mlp_b.safetensors");
  const ExportStats stats = ExportNetwork(a, MlpConfig(), Options(), first);
  EXPECT_EQ(stats.tensors, 10);  // 2 x 3 CSR parts, fc3.weight, 3 biases
  EXPECT_EQ(stats.sparse_weights, 2);
  EXPECT_EQ(stats.bytes, testutil::ReadFile(first).size());

  models::Network b = Mlp(2);  // another pattern and other values
  ASSERT_NE(Contents(a), Contents(b));
  const ImportStats in = ImportNetwork(first, &b, "--model=mlp --width=20,10");
  EXPECT_EQ(in.step, 7);
  EXPECT_EQ(in.csr, 2);
  EXPECT_EQ(in.sparsified, 0);
  EXPECT_EQ(Contents(a), Contents(b));
  ExportNetwork(b, MlpConfig(), Options(), second);
  EXPECT_EQ(testutil::ReadFile(first), testutil::ReadFile(second));

  const SafetensorsReader r(first);
  EXPECT_EQ(r.metadata().at("format"), kExportFormat);
  EXPECT_EQ(r.metadata().at("model"), "mlp");
  EXPECT_EQ(r.metadata().at("width"), "20,10");
  EXPECT_EQ(r.metadata().at("method"), "rigl");
  EXPECT_EQ(r.metadata().at("step"), "7");
  EXPECT_EQ(r.metadata().at("seed"), "0");
  EXPECT_EQ(r.metadata().at("input_mean"), "0.25");
  EXPECT_EQ(r.metadata().at("fc1.weight.shape"), "[20, 784]");
  EXPECT_EQ(std::stod(r.metadata().at("fc1.weight.density")), 50.0 / 15680.0);
  EXPECT_EQ(r.metadata().at("fc3.weight.density"), "1.0");
  EXPECT_EQ(r.Get("fc1.weight.crow_indices").dtype, Dtype::kI64);
  EXPECT_EQ(r.Get("fc1.weight.col_indices").dtype, Dtype::kI64);
  EXPECT_EQ(r.Get("fc1.weight.values").shape, std::vector<int64_t>{50});
  EXPECT_EQ(r.Get("fc3.weight").shape, (std::vector<int64_t>{10, 10}));
}

// A block-sparse model exports its blocks as CSR (every in-bounds entry of a stored block): the parts densify to
// exactly the BSR weight, and they initialise an unstructured model with that many entries; importing into a
// block-sparse model is refused, naming the weight.
TEST(Export, BlockSparseWeightsExportAsTheirCsrAndImportIntoUnstructuredModels) {
  models::NetworkOptions o;
  o.model = "mlp";
  o.hidden = {20, 10};
  o.seed = 5;
  o.plan["fc1.weight"] = engine::nn::WeightStorage::Blocked(30, 4, 1);  // 20 x 784: 5 x 784 grid
  o.plan["fc2.weight"] = engine::nn::WeightStorage::Blocked(8, 4, 4);   // 10 x 20: 3 x 5 grid, last row padded
  models::Network blocked = models::BuildNetwork(o);
  ExportNetwork(blocked, MlpConfig(), Options(), Path("blocked.safetensors"));
  const SafetensorsReader r(Path("blocked.safetensors"));
  for (engine::SparseParameter* p : blocked.params.sparse) {
    ASSERT_TRUE(p->blocked()) << p->name;
    const std::vector<int64_t> crow = r.ReadInt64s(p->name + ".crow_indices");
    const std::vector<int64_t> col = r.ReadInt64s(p->name + ".col_indices");
    const std::vector<float> val = r.ReadFloats(p->name + ".values");
    ASSERT_EQ(static_cast<int64_t>(val.size()), p->entries()) << p->name;
    const engine::Tensor want = p->blocks().ToDense();
    std::vector<float> got(static_cast<size_t>(want.size()), 0.0f);
    for (int64_t i = 0; i + 1 < static_cast<int64_t>(crow.size()); ++i) {
      for (int64_t q = crow[i]; q < crow[i + 1]; ++q) got[i * p->cols() + col[q]] = val[q];
    }
    EXPECT_EQ(got, std::vector<float>(want.data(), want.data() + want.size())) << p->name;
  }
  models::NetworkOptions u = o;
  u.plan["fc1.weight"] = engine::nn::WeightStorage::Sparse(blocked.params.sparse[0]->entries());
  u.plan["fc2.weight"] = engine::nn::WeightStorage::Sparse(blocked.params.sparse[1]->entries());
  u.seed = 6;
  models::Network unstructured = models::BuildNetwork(u);
  ImportNetwork(Path("blocked.safetensors"), &unstructured, "--model=mlp --width=20,10");
  for (size_t l = 0; l < 2; ++l) {
    const engine::Tensor a = blocked.params.sparse[l]->blocks().ToDense();
    const engine::Tensor b = unstructured.params.sparse[l]->weight().ToDense();
    EXPECT_EQ(std::vector<float>(a.data(), a.data() + a.size()), std::vector<float>(b.data(), b.data() + b.size()));
  }
  models::Network again = models::BuildNetwork(o);
  try {
    ImportNetwork(Path("blocked.safetensors"), &again, "--model=mlp --width=20,10");
    FAIL() << "imported into a block-sparse model";
  } catch (const engine::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc1.weight is stored in 4x1 blocks"), std::string::npos) << e.what();
  }
}

TEST(Export, ConvWeightsAreTheRowMajorReshapeOfTheirCsrMatrix) {
  models::NetworkOptions o;
  o.model = "lenet5";
  o.seed = 3;
  for (const char* w : {"conv1.weight", "conv2.weight", "fc1.weight"}) o.plan[w] = engine::nn::WeightStorage::Sparse(40);
  models::Network net = models::BuildNetwork(o);
  TrainConfig c;
  c.model = "lenet5";
  ExportOptions dense = Options();
  dense.dense = true;
  ExportNetwork(net, c, Options(), Path("lenet_csr.safetensors"));
  ExportNetwork(net, c, dense, Path("lenet_dense.safetensors"));
  const SafetensorsReader csr(Path("lenet_csr.safetensors")), full(Path("lenet_dense.safetensors"));
  EXPECT_EQ(csr.metadata().at("conv2.weight.shape"), "[16, 6, 5, 5]");
  EXPECT_EQ(full.Get("conv2.weight").shape, (std::vector<int64_t>{16, 6, 5, 5}));
  const std::vector<int64_t> crow = csr.ReadInt64s("conv2.weight.crow_indices");
  const std::vector<int64_t> col = csr.ReadInt64s("conv2.weight.col_indices");
  const std::vector<float> val = csr.ReadFloats("conv2.weight.values");
  const std::vector<float> w = full.ReadFloats("conv2.weight");
  ASSERT_EQ(crow.size(), 17u);
  std::vector<float> expected(16 * 6 * 5 * 5, 0.0f);
  for (int64_t k = 0; k < 16; ++k) {
    for (int64_t p = crow[k]; p < crow[k + 1]; ++p) {
      const int64_t c_in = col[p] / 25, r = col[p] % 25 / 5, s = col[p] % 5;  // column c*R*S + r*S + s
      expected[((k * 6 + c_in) * 5 + r) * 5 + s] = val[p];
    }
  }
  EXPECT_EQ(w, expected);
  // The dense export imports back to the same patterns: the stored values are nonzero, so the 40 largest |w| of
  // each weight are exactly its stored entries.
  o.seed = 4;
  models::Network back = models::BuildNetwork(o);
  const ImportStats in = ImportNetwork(Path("lenet_dense.safetensors"), &back, "--model=lenet5");
  EXPECT_EQ(in.sparsified, 3);
  EXPECT_EQ(Contents(back), Contents(net));
}

TEST(Export, BatchNormRunningStatisticsTravel) {
  models::NetworkOptions o;
  o.model = "wrn22_2";
  o.plan["layer2.0.conv1.weight"] = engine::nn::WeightStorage::Sparse(1000);
  models::Network net = models::BuildNetwork(o);
  std::vector<std::pair<std::string, engine::Tensor*>> buffers;
  net.module->CollectBuffers(&buffers);
  ASSERT_EQ(buffers.size(), 2u * 19);  // 9 blocks x 2 + the final bn, mean and var each
  for (size_t b = 0; b < buffers.size(); ++b) {
    for (int64_t i = 0; i < buffers[b].second->size(); ++i) (*buffers[b].second)[i] = 0.5f + 0.01f * (b + i);
  }
  TrainConfig c;
  c.model = "wrn22_2";
  ExportNetwork(net, c, Options(), Path("wrn.safetensors"));
  const SafetensorsReader r(Path("wrn.safetensors"));
  EXPECT_TRUE(r.Has("layer1.0.bn1.running_mean"));
  EXPECT_TRUE(r.Has("bn.running_var"));
  EXPECT_TRUE(r.Has("layer2.0.shortcut.weight"));
  EXPECT_EQ(r.metadata().at("layer2.0.conv1.weight.shape"), "[64, 32, 3, 3]");
  o.seed = 9;
  models::Network back = models::BuildNetwork(o);
  ImportNetwork(Path("wrn.safetensors"), &back, "--model=wrn22_2");
  EXPECT_EQ(Contents(back), Contents(net));
}

// A file's tensors as editable bytes, for writing variants of a valid export.
struct Content {
  struct Tensor {
    Dtype dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;

  static Content Read(const std::string& path) {
    const SafetensorsReader r(path);
    Content c;
    for (const auto& [name, info] : r.tensors()) c.tensors[name] = {info.dtype, info.shape, r.ReadBytes(name)};
    c.metadata = r.metadata();
    return c;
  }
  void Write(const std::string& path) const {
    SafetensorsWriter w;
    for (const auto& [name, t] : tensors) w.Add(name, t.dtype, t.shape, t.bytes.data());
    for (const auto& [k, v] : metadata) w.SetMetadata(k, v);
    w.Write(path);
  }
  template <typename T>
  void Set(const std::string& name, Dtype dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
    Tensor& t = tensors[name];
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.bytes.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  }
  template <typename T>
  std::vector<T> Get(const std::string& name) const {
    const Tensor& t = tensors.at(name);
    std::vector<T> v(t.bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
};

TEST(Import, DenseTensorsOfSparseWeightsKeepTheirLargestMagnitudes) {
  models::Network dense = Mlp(5, /*sparse=*/false);
  ExportNetwork(dense, MlpConfig(), Options(0), Path("dense.safetensors"));
  Content c = Content::Read(Path("dense.safetensors"));
  // fc2 (10 x 20) by hand: |w| = position, three ties at the top end broken towards higher positions.
  std::vector<float> fc2(200);
  for (int i = 0; i < 200; ++i) fc2[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i);
  fc2[10] = 199.0f;   // ties with position 199: both kept
  fc2[11] = -171.0f;  // ties with position 171 for the last place
  c.Set("fc2.weight", Dtype::kF32, {10, 20}, fc2);
  c.Write(Path("dense_edited.safetensors"));
  models::Network sparse = Mlp(6);
  const ImportStats in = ImportNetwork(Path("dense_edited.safetensors"), &sparse, "--model=mlp --width=20,10");
  EXPECT_EQ(in.sparsified, 2);
  EXPECT_EQ(in.step, 0);
  const engine::CsrMatrix& w = sparse.params.sparse[1]->weight();
  ASSERT_EQ(w.nnz(), 30);
  // The 30 largest |w|: 199 (at 10 and 199), 198 ... 172 (27 values), then |w| = 171 at positions 11 and 171 for
  // the one place left: LowestMagnitude drops the lower position first, so 171 stays and 11 goes.
  std::vector<int64_t> kept;
  for (int64_t r = 0; r < w.rows(); ++r) {
    for (int64_t p = w.row_offsets()[r]; p < w.row_offsets()[r + 1]; ++p) kept.push_back(r * 20 + w.col_indices()[p]);
  }
  std::vector<int64_t> expected = {10};
  for (int64_t i = 171; i < 200; ++i) expected.push_back(i);
  EXPECT_EQ(kept, expected);
  for (int64_t p = 0; p < w.nnz(); ++p) EXPECT_EQ(w.values()[p], fc2[kept[p]]);
  // fc1: its 50 largest |w| among the dense draw.
  const std::vector<float> fc1 = c.Get<float>("fc1.weight");
  float smallest_kept = INFINITY;
  for (float v : sparse.params.sparse[0]->weight().values()) smallest_kept = std::min(smallest_kept, std::fabs(v));
  int larger = 0;
  for (float v : fc1) larger += std::fabs(v) >= smallest_kept;
  EXPECT_EQ(larger, 50);
}

TEST(Import, CsrPartsOfADenseWeightAreDensified) {
  models::Network sparse = Mlp(7);
  ExportNetwork(sparse, MlpConfig(), Options(), Path("for_dense.safetensors"));
  models::Network dense = Mlp(8, /*sparse=*/false);
  const ImportStats in = ImportNetwork(Path("for_dense.safetensors"), &dense, "--model=mlp --width=20,10");
  EXPECT_EQ(in.csr, 0);
  const engine::Tensor expected = sparse.params.sparse[0]->weight().ToDense();
  const engine::Tensor& got = dense.params.dense[0]->var.value();  // fc1.weight
  ASSERT_EQ(dense.params.dense[0]->name, "fc1.weight");
  ASSERT_EQ(got.size(), expected.size());
  for (int64_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << "at " << i;
}

TEST(Import, StartsFullStorageKeepsEveryEntryOfADenseTensor) {
  models::Network dense = Mlp(9, /*sparse=*/false);
  ExportNetwork(dense, MlpConfig(), Options(), Path("full.safetensors"));
  models::NetworkOptions o;
  o.model = "mlp";
  o.hidden = {20, 10};
  o.plan["fc1.weight"] = engine::nn::WeightStorage::Sparse(784 * 20);  // gradual pruning and SNIP start full
  models::Network full = models::BuildNetwork(o);
  ImportNetwork(Path("full.safetensors"), &full, "--model=mlp --width=20,10");
  EXPECT_EQ(full.params.sparse[0]->weight().nnz(), 784 * 20);
  const engine::Tensor back = full.params.sparse[0]->weight().ToDense();
  for (int64_t i = 0; i < back.size(); ++i) ASSERT_EQ(back[i], dense.params.dense[0]->var.value()[i]);
}

struct BadFile {
  const char* why;
  std::function<void(Content*)> edit;
  std::vector<const char*> message;  // every part must appear
};

using Ints = std::vector<int64_t>;

// An edit of fc1.weight's crow_indices and col_indices (same lengths), for the CSR rows of the table below.
std::function<void(Content*)> Indices(void (*edit)(Ints& crow, Ints& col)) {
  return [edit](Content* c) {
    Ints crow = c->Get<int64_t>("fc1.weight.crow_indices"), col = c->Get<int64_t>("fc1.weight.col_indices");
    edit(crow, col);
    c->Set("fc1.weight.crow_indices", Dtype::kI64, {static_cast<int64_t>(crow.size())}, crow);
    c->Set("fc1.weight.col_indices", Dtype::kI64, {static_cast<int64_t>(col.size())}, col);
  };
}

// The position of the first stored entry of the first row holding at least two.
int64_t FirstPair(const Ints& crow) {
  for (size_t r = 0; r + 1 < crow.size(); ++r) {
    if (crow[r + 1] - crow[r] >= 2) return crow[r];
  }
  ADD_FAILURE() << "no row with two entries";
  return 0;
}

const std::vector<BadFile>& BadFiles() {
  static const std::vector<BadFile> kCases = {
      {"a bias missing", [](Content* c) { c->tensors.erase("fc2.bias"); },
       {"no tensor 'fc2.bias'; expected fc2.bias of shape [10]", "checked against --model=mlp --width=20,10"}},
      {"a sparse weight missing", [](Content* c) {
         for (const char* p : {".crow_indices", ".col_indices", ".values"}) c->tensors.erase(std::string("fc1.weight") + p);
       },
       {"no tensor 'fc1.weight' (nor its CSR parts fc1.weight.crow_indices", "expected fc1.weight of shape [20, 784]"}},
      {"a bias of the wrong shape", [](Content* c) { c->Set("fc1.bias", Dtype::kF32, {21}, std::vector<float>(21)); },
       {"tensor 'fc1.bias' has shape [21]; expected [20]"}},
      {"a dense weight transposed",
       [](Content* c) { c->Set("fc3.weight", Dtype::kF32, {10, 10, 1}, std::vector<float>(100)); },
       {"tensor 'fc3.weight' has shape [10, 10, 1]; expected [10, 10]"}},
      {"the file of another model", [](Content* c) {
         c->metadata["model"] = "lenet5";
         c->Set("fc1.bias", Dtype::kF32, {120}, std::vector<float>(120));
       },
       {"tensor 'fc1.bias' has shape [120]; expected [20]", "the file's metadata says model=lenet5"}},
      {"dense and CSR both", [](Content* c) { c->Set("fc1.weight", Dtype::kF32, {20, 784}, std::vector<float>(15680)); },
       {"both the dense tensor 'fc1.weight' and CSR parts of it"}},
      {"a CSR part missing", [](Content* c) { c->tensors.erase("fc1.weight.values"); },
       {"tensor 'fc1.weight.values' is missing; expected the CSR parts"}},
      {"crow_indices one short",
       [](Content* c) { c->Set("fc1.weight.crow_indices", Dtype::kI64, {20}, std::vector<int64_t>(20)); },
       {"tensor 'fc1.weight.crow_indices' has shape [20]; expected [21] (rows + 1 for fc1.weight of shape [20, 784])"}},
      {"values shorter than col_indices",
       [](Content* c) { c->Set("fc1.weight.values", Dtype::kF32, {49}, std::vector<float>(49, 1.0f)); },
       {"tensor 'fc1.weight.values' has shape [49]; expected [50]"}},
      {"a column index out of range", Indices([](Ints& crow, Ints& col) { col[0] = 784; }),
       {"tensor 'fc1.weight.col_indices': `0 <= col_indices < cols` is not satisfied (col_indices[0] = 784, cols = 784"}},
      {"a column index that int32 would wrap into range",
       Indices([](Ints& crow, Ints& col) { col[3] += int64_t{1} << 32; }),
       {"`0 <= col_indices < cols` is not satisfied (col_indices[3] = 42949"}},
      {"a negative column index", Indices([](Ints& crow, Ints& col) { col[1] = -1; }), {"col_indices[1] = -1"}},
      {"columns unsorted within a row",
       Indices([](Ints& crow, Ints& col) { std::swap(col[FirstPair(crow)], col[FirstPair(crow) + 1]); }),
       {"fc1.weight.{crow_indices, col_indices, values}: `col_indices sorted within a row` is not satisfied"}},
      {"a duplicate column", Indices([](Ints& crow, Ints& col) { col[FirstPair(crow) + 1] = col[FirstPair(crow)]; }),
       {"`col_indices unique within a row` is not satisfied"}},
      {"row offsets decreasing", Indices([](Ints& crow, Ints& col) { crow[5] = crow[6] + 1; }),
       {"`row_offsets[i] <= row_offsets[i + 1]` is not satisfied"}},
      {"row offsets not ending at nnz", Indices([](Ints& crow, Ints& col) { crow[20] = 49; }),
       {"`row_offsets[rows] == nnz` is not satisfied"}},
      {"row offsets starting below 0", Indices([](Ints& crow, Ints& col) { crow[0] = -5; }),
       {"`row_offsets[0] == 0` is not satisfied"}},
      {"another nnz than the run stores", [](Content* c) {
         std::vector<int64_t> crow = c->Get<int64_t>("fc1.weight.crow_indices");
         std::vector<int64_t> col = c->Get<int64_t>("fc1.weight.col_indices");
         std::vector<float> val = c->Get<float>("fc1.weight.values");
         col.pop_back();
         val.pop_back();
         crow[20] = 49;
         for (int64_t& o : crow) o = std::min<int64_t>(o, 49);
         c->Set("fc1.weight.crow_indices", Dtype::kI64, {21}, crow);
         c->Set("fc1.weight.col_indices", Dtype::kI64, {49}, col);
         c->Set("fc1.weight.values", Dtype::kF32, {49}, val);
       },
       {"fc1.weight has 49 stored entries (CSR parts); expected 50 as this run stores it", "--export_dense"}},
      {"a tensor the model does not have", [](Content* c) { c->Set("fc4.weight", Dtype::kF32, {1}, std::vector<float>(1)); },
       {"tensor 'fc4.weight' is not a parameter or buffer of this model"}},
      {"integer weights", [](Content* c) { c->Set("fc3.weight", Dtype::kI64, {10, 10}, std::vector<int64_t>(100)); },
       {"tensor 'fc3.weight' is I64; expected F32 or F64"}},
      {"float column indices",
       [](Content* c) { c->Set("fc1.weight.col_indices", Dtype::kF32, {50}, std::vector<float>(50)); },
       {"tensor 'fc1.weight.col_indices' is F32; expected I64 or I32"}},
      {"a NaN value", [](Content* c) {
         std::vector<float> v = c->Get<float>("fc2.weight.values");
         v[4] = NAN;
         c->Set("fc2.weight.values", Dtype::kF32, {30}, v);
       },
       {"tensor 'fc2.weight.values' holds nan at index 4; expected finite values"}},
      {"an infinite bias", [](Content* c) {
         std::vector<float> v(10, 0.0f);
         v[9] = -INFINITY;
         c->Set("fc3.bias", Dtype::kF32, {10}, v);
       },
       {"tensor 'fc3.bias' holds -inf at index 9"}},
      {"metadata shape of another model", [](Content* c) { c->metadata["fc1.weight.shape"] = "[20, 700]"; },
       {"metadata 'fc1.weight.shape' is [20, 700]; expected [20, 784]"}},
      {"metadata shape not a list", [](Content* c) { c->metadata["fc1.weight.shape"] = "20x784"; },
       {"metadata 'fc1.weight.shape' is '20x784'; expected a JSON array of integers"}},
      {"step not a number", [](Content* c) { c->metadata["step"] = "-3"; },
       {"metadata 'step' is '-3'; expected a non-negative integer"}},
  };
  return kCases;
}

class ImportRefuses : public ::testing::TestWithParam<size_t> {};

TEST_P(ImportRefuses, NamingTheTensorAndLeavingTheModelAlone) {
  const BadFile& bad = BadFiles()[GetParam()];
  models::Network source = Mlp(11);
  ExportNetwork(source, MlpConfig(), Options(), Path("good.safetensors"));
  Content c = Content::Read(Path("good.safetensors"));
  bad.edit(&c);
  const std::string path = Path("bad_" + std::to_string(GetParam()) + ".safetensors");
  c.Write(path);
  models::Network target = Mlp(12);
  const auto before = Contents(target);
  try {
    ImportNetwork(path, &target, "--model=mlp --width=20,10");
    ADD_FAILURE() << bad.why << ": imported";
  } catch (const engine::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--init_from=" + path + ": "), std::string::npos) << bad.why << ": " << message;
    for (const char* part : bad.message) {
      EXPECT_NE(message.find(part), std::string::npos) << bad.why << ": '" << part << "' not in: " << message;
    }
  }
  EXPECT_EQ(Contents(target), before) << bad.why << ": a refused import changed the model";
}

INSTANTIATE_TEST_SUITE_P(Cases, ImportRefuses, ::testing::Range<size_t>(0, BadFiles().size()));

TEST(Import, AcceptsPyTorchBatchNormCountersAndI32Indices) {
  models::Network source = Mlp(13);
  ExportNetwork(source, MlpConfig(), Options(), Path("variant.safetensors"));
  Content c = Content::Read(Path("variant.safetensors"));
  c.Set("fc1.num_batches_tracked", Dtype::kI64, {}, std::vector<int64_t>{3});  // a state dict's counter: ignored
  for (const char* part : {"fc1.weight.crow_indices", "fc1.weight.col_indices"}) {
    const std::vector<int64_t> wide = c.Get<int64_t>(part);
    c.Set(part, Dtype::kI32, c.tensors[part].shape, std::vector<int32_t>(wide.begin(), wide.end()));
  }
  c.metadata.clear();  // a file written from PyTorch has no metadata: shapes come from the model
  c.Write(Path("variant2.safetensors"));
  models::Network target = Mlp(14);
  const ImportStats in = ImportNetwork(Path("variant2.safetensors"), &target, "--model=mlp --width=20,10");
  EXPECT_EQ(in.step, 0);
  EXPECT_EQ(Contents(target), Contents(source));
}

TEST(Config, ExportFlagsHaveTheirRules) {
  const std::vector<std::pair<std::function<void(TrainConfig*)>, const char*>> cases = {
      {[](TrainConfig* c) { c->export_path = "model.bin"; }, "--export=model.bin: expected a path ending in .safetensors"},
      {[](TrainConfig* c) { c->export_path = ".safetensors"; }, "--export=.safetensors: expected"},
      {[](TrainConfig* c) { c->export_only = true; }, "--export_only without --export"},
      {[](TrainConfig* c) { c->export_dense = true; }, "--export_dense without --export"},
  };
  for (const auto& [mutate, message] : cases) {
    TrainConfig c;
    mutate(&c);
    try {
      ValidateConfig(c);
      ADD_FAILURE() << message << ": accepted";
    } catch (const engine::Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  TrainConfig ok;
  ok.export_path = "runs/a.safetensors";
  ok.export_only = ok.export_dense = true;
  EXPECT_NO_THROW(ValidateConfig(ok));
  // Saved in config.json and checkpoints, and free to change on --resume; absent in older checkpoints.
  nlohmann::json j = ConfigToJson(ok);
  EXPECT_EQ(j.at("export"), "runs/a.safetensors");
  EXPECT_FALSE(j.contains("export_only"));
  j.erase("export");
  j.erase("init_from");
  j.erase("export_dense");
  const TrainConfig old = ConfigFromJson(j);
  EXPECT_EQ(old.export_path, "");
  EXPECT_EQ(old.init_from, "");
  TrainConfig now;
  now.init_from = "elsewhere.safetensors";
  EXPECT_NO_THROW(CheckResumeCompatible("ckpt", j, now));
}

}  // namespace
}  // namespace rigl
