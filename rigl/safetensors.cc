// The safetensors container: writer and hostile-input reader (see safetensors.h).
#include "rigl/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>
#include <tuple>

#include <nlohmann/json.hpp>

#include "engine/base/check.h"
#include "rigl/checkpoint.h"

namespace rigl {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; so must the host be");

using nlohmann::json;

struct DtypeRow {
  Dtype dtype;
  const char* name;
  int64_t bytes;
};
// The format's dtypes, in its own order.
constexpr DtypeRow kDtypes[] = {
    {Dtype::kBool, "BOOL", 1}, {Dtype::kU8, "U8", 1},   {Dtype::kI8, "I8", 1},   {Dtype::kI16, "I16", 2},
    {Dtype::kU16, "U16", 2},   {Dtype::kF16, "F16", 2}, {Dtype::kBF16, "BF16", 2}, {Dtype::kI32, "I32", 4},
    {Dtype::kU32, "U32", 4},   {Dtype::kF32, "F32", 4}, {Dtype::kF64, "F64", 8}, {Dtype::kI64, "I64", 8},
    {Dtype::kU64, "U64", 8},
};

const DtypeRow& Row(Dtype dtype) {
  for (const DtypeRow& r : kDtypes) {
    if (r.dtype == dtype) return r;
  }
  ENGINE_CHECK(false, "safetensors: dtype ", static_cast<int>(dtype), " is not in the table");
  return kDtypes[0];  // unreachable
}

// The element count of `shape` and its byte size at `element_bytes`, or false when either exceeds 2^63 - 1.
bool SizeOf(const std::vector<int64_t>& shape, int64_t element_bytes, int64_t* elements, uint64_t* bytes) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return false;
  }
  uint64_t b = 0;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (n > kMax || __builtin_mul_overflow(n, static_cast<uint64_t>(element_bytes), &b) || b > kMax) return false;
  *elements = static_cast<int64_t>(n);
  *bytes = b;
  return true;
}

uint64_t LittleEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* DtypeName(Dtype dtype) { return Row(dtype).name; }
int64_t DtypeBytes(Dtype dtype) { return Row(dtype).bytes; }

std::string DtypeNameList() {
  std::string list;
  for (const DtypeRow& r : kDtypes) list += (list.empty() ? "" : " | ") + std::string(r.name);
  return list;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// --- Writer -------------------------------------------------------------------------------------------------------

void SafetensorsWriter::Add(const std::string& name, Dtype dtype, std::vector<int64_t> shape, const void* data) {
  ENGINE_CHECK(!name.empty() && name != "__metadata__", "safetensors writer: tensor name '", name,
               "'; expected a non-empty name other than __metadata__");
  for (const Entry& e : entries_) ENGINE_CHECK(e.name != name, "safetensors writer: tensor '", name, "' added twice");
  Entry e{name, dtype, std::move(shape), data, 0};
  int64_t elements = 0;
  ENGINE_CHECK(SizeOf(e.shape, DtypeBytes(dtype), &elements, &e.bytes), "safetensors writer: tensor '", name,
               "' has shape ", ShapeText(e.shape), "; expected dimensions >= 0 and fewer than 2^63 bytes");
  ENGINE_CHECK(e.bytes == 0 || data != nullptr, "safetensors writer: tensor '", name, "' has no data");
  entries_.push_back(std::move(e));
}

std::vector<const SafetensorsWriter::Entry*> SafetensorsWriter::Ordered() const {
  std::vector<const Entry*> order;
  for (const Entry& e : entries_) order.push_back(&e);
  // Largest elements first keeps every tensor aligned to its element size; names make the order total.
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::make_tuple(-DtypeBytes(a->dtype), a->name) < std::make_tuple(-DtypeBytes(b->dtype), b->name);
  });
  return order;
}

std::string SafetensorsWriter::Header() const {
  json header = json::object();
  uint64_t offset = 0;
  for (const Entry* e : Ordered()) {
    header[e->name] = {{"dtype", DtypeName(e->dtype)}, {"shape", e->shape}, {"data_offsets", {offset, offset + e->bytes}}};
    offset += e->bytes;
  }
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xFF);
  return out + text;
}

void SafetensorsWriter::Write(const std::string& path) const {
  const std::string header = Header();
  std::vector<std::pair<const void*, size_t>> pieces = {{header.data(), header.size()}};
  for (const Entry* e : Ordered()) pieces.emplace_back(e->data, static_cast<size_t>(e->bytes));
  WriteFileAtomically(path, pieces);
}

// --- Reader -------------------------------------------------------------------------------------------------------

SafetensorsReader::SafetensorsReader(const std::string& path, const std::string& context)
    : path_(path), where_(context.empty() ? "safetensors " + path + ": " : context) {
  const std::string& where = where_;
  std::error_code ec;
  ENGINE_CHECK(std::filesystem::is_regular_file(path, ec), where,
               "not found or not a regular file; expected a .safetensors file (written by the trainer's --export, "
               "or by PyTorch in the layout of docs/EXPORT.md)");
  file_.reset(std::fopen(path.c_str(), "rb"));
  ENGINE_CHECK(file_ != nullptr, where, "cannot open (", std::strerror(errno), ")");
  std::FILE* f = file_.get();
  ENGINE_CHECK(fseeko(f, 0, SEEK_END) == 0, where, "cannot seek (", std::strerror(errno), ")");
  const uint64_t size = static_cast<uint64_t>(ftello(f));
  ENGINE_CHECK(size >= 8, where, size, " bytes; expected at least 8 (the header length)");
  unsigned char length[8];
  ENGINE_CHECK(fseeko(f, 0, SEEK_SET) == 0 && std::fread(length, 1, 8, f) == 8, where, "cannot read the header length");
  const uint64_t n = LittleEndian64(length);
  ENGINE_CHECK(n <= size - 8, where, "header length ", n, " is beyond the file (", size,
               " bytes, so at most ", size - 8, " header bytes); expected a complete safetensors file");
  ENGINE_CHECK(n <= kMaxSafetensorsHeaderBytes, where, "header length ", n, "; expected at most ",
               kMaxSafetensorsHeaderBytes, " bytes");
  ENGINE_CHECK(n >= 2, where, "header length ", n, "; expected at least 2 (the JSON object {})");
  std::string text(n, '\0');
  ENGINE_CHECK(std::fread(text.data(), 1, n, f) == n, where, "read error in the header");
  ENGINE_CHECK(text[0] == '{', where, "the header starts with byte 0x", std::hex,
               static_cast<int>(static_cast<unsigned char>(text[0])), std::dec, "; expected '{' (a JSON object)");
  data_start_ = 8 + n;
  const uint64_t data_size = size - data_start_;

  // Duplicate keys would silently keep the last value (two tensors by one name); nesting deeper than the format's
  // three levels (header, entry, shape) is refused too.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool too_deep = false;
  const json header = json::parse(
      text,
      [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth > 3) too_deep = true;
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
        if (event == json::parse_event_t::key && !open_objects.empty() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        return true;
      },
      /*allow_exceptions=*/false);
  ENGINE_CHECK(!header.is_discarded(), where, "the header is not valid JSON; expected a JSON object");
  ENGINE_CHECK(!too_deep, where, "the header nests deeper than 3 levels; expected {name: {dtype, shape, data_offsets}}");
  ENGINE_CHECK(duplicate.empty(), where, "the header has the key '", duplicate, "' twice; expected unique keys");
  ENGINE_CHECK(header.is_object(), where, "the header is a JSON ", header.type_name(), "; expected an object");

  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      ENGINE_CHECK(entry.is_object(), where, "__metadata__ is a JSON ", entry.type_name(),
                   "; expected an object of strings");
      for (const auto& [key, value] : entry.items()) {
        ENGINE_CHECK(value.is_string(), where, "__metadata__ entry '", key, "' is a JSON ", value.type_name(),
                     "; expected a string");
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string tensor = where + "tensor '" + name + "': ";
    ENGINE_CHECK(!name.empty(), where, "a tensor has the empty name; expected a non-empty name");
    ENGINE_CHECK(entry.is_object(), tensor, "a JSON ", entry.type_name(),
                 "; expected an object {dtype, shape, data_offsets}");
    for (const auto& [key, value] : entry.items()) {
      (void)value;
      ENGINE_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", tensor, "unknown key '", key,
                   "'; expected only dtype, shape and data_offsets");
    }
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      ENGINE_CHECK(entry.contains(key), tensor, "no '", key, "'; expected dtype, shape and data_offsets");
    }
    TensorInfo info;
    const json& dtype = entry["dtype"];
    ENGINE_CHECK(dtype.is_string(), tensor, "dtype is a JSON ", dtype.type_name(), "; expected a string");
    const DtypeRow* row = nullptr;
    for (const DtypeRow& r : kDtypes) {
      if (dtype.get<std::string>() == r.name) row = &r;
    }
    ENGINE_CHECK(row != nullptr, tensor, "unknown dtype '", dtype.get<std::string>(), "'; expected one of ",
                 DtypeNameList());
    info.dtype = row->dtype;
    const json& shape = entry["shape"];
    ENGINE_CHECK(shape.is_array(), tensor, "shape is a JSON ", shape.type_name(), "; expected an array of integers");
    for (const json& d : shape) {
      ENGINE_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), tensor,
                   "shape holds ", d.dump(), "; expected integers >= 0");
      info.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    }
    uint64_t bytes = 0;
    ENGINE_CHECK(SizeOf(info.shape, row->bytes, &info.elements, &bytes), tensor, "shape ", ShapeText(info.shape),
                 " of ", row->name, " overflows: its product x ", row->bytes, " bytes exceeds 2^63 - 1");
    const json& offsets = entry["data_offsets"];
    ENGINE_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                     offsets[1].is_number_unsigned(),
                 tensor, "data_offsets is ", offsets.dump(), "; expected [begin, end], two integers >= 0");
    info.begin = offsets[0].get<uint64_t>();
    info.end = offsets[1].get<uint64_t>();
    ENGINE_CHECK(info.begin <= info.end, tensor, "data_offsets [", info.begin, ", ", info.end,
                 "]; expected begin <= end");
    ENGINE_CHECK(info.end <= data_size, tensor, "data_offsets [", info.begin, ", ", info.end,
                 "] end beyond the data section (", data_size, " bytes); expected end <= ", data_size);
    ENGINE_CHECK(info.end - info.begin == bytes, tensor, "data_offsets [", info.begin, ", ", info.end, "] hold ",
                 info.end - info.begin, " bytes; dtype ", row->name, " and shape ", ShapeText(info.shape), " need ",
                 bytes);
    spans.push_back({info.begin, info.end, name});
    tensors_[name] = std::move(info);
  }
  // The tensors must tile the data section exactly: sorted by offset, each starts where the previous ends.
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name); });
  uint64_t cursor = 0;
  const Span* previous = nullptr;
  for (const Span& s : spans) {
    ENGINE_CHECK(s.begin >= cursor, where, "tensors '", previous->name, "' [", previous->begin, ", ", previous->end,
                 ") and '", s.name, "' [", s.begin, ", ", s.end, ") overlap; expected disjoint data_offsets");
    ENGINE_CHECK(s.begin == cursor, where, "bytes [", cursor, ", ", s.begin,
                 ") of the data section belong to no tensor; expected the tensors to cover it without holes");
    cursor = s.end;
    previous = &s;
  }
  ENGINE_CHECK(cursor == data_size, where, "the data section has ", data_size, " bytes but the tensors end at byte ",
               cursor, "; expected no trailing bytes");
}

const TensorInfo& SafetensorsReader::Get(const std::string& name) const {
  const auto it = tensors_.find(name);
  ENGINE_CHECK(it != tensors_.end(), where_, "no tensor '", name, "'");
  return it->second;
}

std::vector<uint8_t> SafetensorsReader::ReadBytes(const std::string& name) const {
  const TensorInfo& info = Get(name);
  std::vector<uint8_t> out(info.end - info.begin);
  std::FILE* f = file_.get();
  ENGINE_CHECK(fseeko(f, static_cast<off_t>(data_start_ + info.begin), SEEK_SET) == 0 &&
                   std::fread(out.data(), 1, out.size(), f) == out.size(),
               where_, "read error in tensor '", name, "' (the file changed or was truncated?)");
  return out;
}

namespace {

// Element conversions: widening, and double to float rounded to nearest with out-of-range values becoming +-inf
// (which a plain cast leaves undefined).
inline int64_t Element(int64_t v, int64_t*) { return v; }
inline int64_t Element(int32_t v, int64_t*) { return v; }
inline float Element(float v, float*) { return v; }
inline float Element(double v, float*) {
  if (v > std::numeric_limits<float>::max()) return std::numeric_limits<float>::infinity();
  if (v < -std::numeric_limits<float>::max()) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(v);
}

// Converts raw little-endian elements of type From into To.
template <typename To, typename From>
std::vector<To> Convert(const std::vector<uint8_t>& bytes) {
  std::vector<To> out(bytes.size() / sizeof(From));
  for (size_t i = 0; i < out.size(); ++i) {
    From v;
    std::memcpy(&v, bytes.data() + i * sizeof(From), sizeof(From));
    out[i] = Element(v, static_cast<To*>(nullptr));
  }
  return out;
}

}  // namespace

std::vector<float> SafetensorsReader::ReadFloats(const std::string& name) const {
  const Dtype dtype = Get(name).dtype;
  ENGINE_CHECK(dtype == Dtype::kF32 || dtype == Dtype::kF64, where_, "tensor '", name, "' is ",
               DtypeName(dtype), "; expected F32 or F64");
  const std::vector<uint8_t> bytes = ReadBytes(name);
  return dtype == Dtype::kF32 ? Convert<float, float>(bytes) : Convert<float, double>(bytes);
}

std::vector<int64_t> SafetensorsReader::ReadInt64s(const std::string& name) const {
  const Dtype dtype = Get(name).dtype;
  ENGINE_CHECK(dtype == Dtype::kI64 || dtype == Dtype::kI32, where_, "tensor '", name, "' is ",
               DtypeName(dtype), "; expected I64 or I32");
  const std::vector<uint8_t> bytes = ReadBytes(name);
  return dtype == Dtype::kI64 ? Convert<int64_t, int64_t>(bytes) : Convert<int64_t, int32_t>(bytes);
}

}  // namespace rigl
