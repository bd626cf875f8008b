#include "campaign/item_key.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace belay::campaign {
namespace {

// ---- SHA-256 (FIPS 180-4). Our own copy: keys must not depend on which
// crypto library, or which std::hash, a build happens to have.

constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::array<uint32_t, 8>& state, const unsigned char* block) {
  std::array<uint32_t, 64> w{};
  for (size_t i = 0; i < 16; ++i) {
    w[i] = uint32_t{block[4 * i]} << 24 | uint32_t{block[4 * i + 1]} << 16 |
           uint32_t{block[4 * i + 2]} << 8 | uint32_t{block[4 * i + 3]};
  }
  for (size_t i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, h] = state;
  for (int i = 0; i < 64; ++i) {
    uint32_t t1 =
        h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  std::array<uint32_t, 8> add = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; ++i) state[i] += add[i];
}

// ---- Canonical JSON (see item_key.hpp).

void append_string(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;  // bytes as they are: never throws on invalid UTF-8
        }
    }
  }
  out += '"';
}

// The value of an integral float that doubles represent exactly, so that 2.0
// and 2 are one number (and -0.0 is 0).
std::optional<int64_t> integral_value(double d) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) >= kExact) return std::nullopt;
  return static_cast<int64_t>(d);
}

void append_canonical(std::string& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      // object_t is a std::map: iteration is bytewise key order already.
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        append_string(out, key);
        out += ':';
        append_canonical(out, member);
      }
      out += '}';
      break;
    }
    case json::value_t::array:
      out += '[';
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ',';
        append_canonical(out, value[i]);
      }
      out += ']';
      break;
    case json::value_t::string:
      append_string(out, value.get_ref<const std::string&>());
      break;
    case json::value_t::number_integer:
      out += std::to_string(value.get<int64_t>());
      break;
    case json::value_t::number_unsigned:
      out += std::to_string(value.get<uint64_t>());
      break;
    case json::value_t::number_float: {
      double d = value.get<double>();
      if (auto whole = integral_value(d))
        out += std::to_string(*whole);
      else
        out += json(d).dump();  // nlohmann's own shortest round-trip: no locale, no printf
      break;
    }
    case json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      break;
    case json::value_t::binary:
      out += value.dump();
      break;
    default:
      out += "null";
      break;  // null, discarded
  }
}

std::optional<std::string> key_from_id(const json& id) {
  if (id.is_string()) {
    const auto& s = id.get_ref<const std::string&>();
    if (!s.empty()) return s;
  } else if (id.is_number_integer()) {  // signed and unsigned
    return id.is_number_unsigned() ? std::to_string(id.get<uint64_t>())
                                   : std::to_string(id.get<int64_t>());
  } else if (id.is_number_float()) {
    if (auto whole = integral_value(id.get<double>())) return std::to_string(*whole);
  }
  return std::nullopt;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<uint32_t, 8> state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  size_t full = data.size() / 64 * 64;
  for (size_t i = 0; i < full; i += 64) {
    compress(state, reinterpret_cast<const unsigned char*>(data.data() + i));
  }
  // Padding: 0x80, zeros, then the bit length big-endian, in one or two blocks.
  std::array<unsigned char, 128> tail{};
  size_t rest = data.size() - full;
  std::copy(data.begin() + full, data.end(), tail.begin());
  tail[rest] = 0x80;
  size_t tail_size = rest < 56 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (size_t i = 0; i < tail_size; i += 64) compress(state, tail.data() + i);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint32_t word : state) {
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(word >> shift) & 0xF];
  }
  return out;
}

std::string canonical_json(const json& value) {
  std::string out;
  append_canonical(out, value);
  return out;
}

std::string item_key(const json& item) {
  if (item.is_object()) {
    auto id = item.find("id");
    if (id != item.end()) {
      if (auto key = key_from_id(*id)) return *key;
    }
  }
  return "h:" + sha256_hex(canonical_json(item)).substr(0, 32);
}

std::vector<std::string> item_keys(const std::vector<json>& items) {
  std::vector<std::string> keys;
  keys.reserve(items.size());
  for (const json& item : items) keys.push_back(item_key(item));
  return keys;
}

std::string items_fingerprint(const std::vector<json>& items) {
  std::string framed;
  for (const json& item : items) {
    std::string key = item_key(item);
    framed += std::to_string(key.size());
    framed += ':';
    framed += key;
    framed += ',';
  }
  return sha256_hex(framed);
}

std::string items_content_fingerprint(const std::vector<json>& items) {
  std::string framed;
  for (const json& item : items) {
    const std::string text = canonical_json(item);
    framed += std::to_string(text.size());
    framed += ':';
    framed += text;
    framed += ',';
  }
  return sha256_hex(framed);
}

std::vector<std::string> duplicate_keys(const std::vector<json>& items) {
  std::vector<std::string> keys = item_keys(items);
  std::unordered_map<std::string_view, int> count;
  count.reserve(keys.size());
  std::vector<std::string> duplicates;
  for (const std::string& key : keys) {
    if (++count[key] == 2) duplicates.push_back(key);
  }
  return duplicates;
}

}  // namespace belay::campaign
