#pragma once
// Item keys (DESIGN.md: "an item's key is item.id, else a hash of its JSON:
// resume follows keys"). A key is the primary key of the store's `items`
// table, so it must come out the same on every run, machine and compiler:
// changing anything here orphans every stored result. The golden values in
// tests/unit/item_key_test.cpp guard that.
//
//   id is a string (non-empty)           → the string            "A-17"
//   id is an integer (or a float with an
//     integral value within ±2^53)       → its decimal text      "17"
//   anything else (no id, "", null, bool,
//     fractional number, array, object)  → "h:" + 32 hex digits
//
// The hash is SHA-256 of the item's canonical JSON, truncated to 128 bits
// (collisions are out of reach for any campaign). Canonical JSON is compact,
// object keys sorted bytewise at every level, strings' bytes as they are with
// only `"`, `\` and control characters escaped (\b \f \n \r \t, else \u00xx
// lowercase), integers and integral floats (|x| < 2^53) as decimal integers,
// other finite floats in nlohmann's shortest round-trip form, NaN/Inf as null.
// So {"b":1,"a":2.0} and {"a":2,"b":1} share a key. It recurses over the
// item: items files cap nesting at kMaxItemDepth (items_file.hpp).
//
// An empty string id counts as no id: an empty cell in a CSV id column is a
// missing id, and keying every such row "" would make them collide.
// id 17 and id "17" share the key "17", so switching a file between JSONL and
// CSV (where every value is a string) keeps resume working.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace belay::campaign {

using json = nlohmann::json;

std::string item_key(const json& item);

// item_key of each item, in order.
std::vector<std::string> item_keys(const std::vector<json>& items);

// SHA-256 (64 hex digits) over the ordered list of keys, each framed as
// "<length>:<key>," so no two lists share an encoding. It changes when an item
// is added, removed, reordered or re-keyed; editing a field of an item that
// has an id does not change it, on purpose: resume follows keys.
std::string items_fingerprint(const std::vector<json>& items);

// SHA-256 over the items' canonical JSON, in order: it changes when any
// field of any item changes. The store keeps it to tell a user that the
// items file changed between runs.
std::string items_content_fingerprint(const std::vector<json>& items);

// Keys that occur more than once, each listed once, in the order in which
// they first repeat. A campaign with any is rejected by the caller.
std::vector<std::string> duplicate_keys(const std::vector<json>& items);

// The canonical JSON text described above (exposed for tests and tools).
std::string canonical_json(const json& value);

// SHA-256 of DATA as 64 lowercase hex digits (FIPS 180-4).
std::string sha256_hex(std::string_view data);

}  // namespace belay::campaign
