// Item keys: the rules per id type, the canonical JSON behind hash keys, and
// golden values — resume depends on keys never changing between builds.

#include "campaign/item_key.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace belay::campaign {
namespace {

bool is_hash_key(const std::string& key) {
  return key.size() == 34 && key.rfind("h:", 0) == 0 &&
         key.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

TEST(ItemKey, StringIdIsTheKey) {
  EXPECT_EQ(item_key({{"id", "A-17"}, {"phone", "+1555"}}), "A-17");
  EXPECT_EQ(item_key({{"id", "h:looks-like-a-hash"}}), "h:looks-like-a-hash");
}

TEST(ItemKey, IntegerIdIsItsDecimalText) {
  EXPECT_EQ(item_key({{"id", 17}}), "17");
  EXPECT_EQ(item_key({{"id", -5}}), "-5");
  EXPECT_EQ(item_key({{"id", std::numeric_limits<uint64_t>::max()}}), "18446744073709551615");
  EXPECT_EQ(item_key({{"id", std::numeric_limits<int64_t>::min()}}), "-9223372036854775808");
}

TEST(ItemKey, StringAndIntegerIdsShareAKey) {
  // A CSV row (strings only) and a JSONL line keep the same key.
  EXPECT_EQ(item_key({{"id", "17"}}), item_key({{"id", 17}}));
}

TEST(ItemKey, IntegralFloatIdIsItsDecimalText) {
  EXPECT_EQ(item_key({{"id", 17.0}}), "17");
  EXPECT_EQ(item_key({{"id", -0.0}}), "0");
}

TEST(ItemKey, OtherIdsFallBackToTheHash) {
  for (const json& id : {json(1.5), json(nullptr), json(true), json::array({1}), json({{"a", 1}}),
                         json(""), json(1e300)}) {
    json item = {{"id", id}, {"phone", "+1555"}};
    std::string key = item_key(item);
    EXPECT_TRUE(is_hash_key(key)) << id.dump() << " → " << key;
  }
}

TEST(ItemKey, ItemWithoutIdHashesItsJson) {
  std::string key = item_key({{"phone", "+1555"}});
  EXPECT_TRUE(is_hash_key(key)) << key;
  EXPECT_EQ(key, item_key({{"phone", "+1555"}}));
  EXPECT_NE(key, item_key({{"phone", "+1556"}}));
  EXPECT_NE(item_key({{"a", 1}}), item_key({{"a", "1"}}));
  EXPECT_TRUE(is_hash_key(item_key(json("not an object"))));
}

TEST(ItemKey, HashIgnoresKeyInsertionOrder) {
  json first = json::object();
  first["b"] = 1;
  first["a"] = json::object();
  first["a"]["y"] = "y";
  first["a"]["x"] = "x";
  json second = json::object();
  second["a"] = json::object();
  second["a"]["x"] = "x";
  second["a"]["y"] = "y";
  second["b"] = 1;
  EXPECT_EQ(item_key(first), item_key(second));
  EXPECT_EQ(item_key(json::parse(R"({"z":[{"q":1,"p":2}],"a":0})")),
            item_key(json::parse(R"({"a":0,"z":[{"p":2,"q":1}]})")));
}

TEST(ItemKey, NumbersHashByValue) {
  EXPECT_EQ(item_key({{"n", 2.0}}), item_key({{"n", 2}}));
  EXPECT_EQ(item_key({{"n", 2u}}), item_key({{"n", 2}}));
  EXPECT_NE(item_key({{"n", 2.5}}), item_key({{"n", 2}}));
}

// Golden values: if one of these changes, every stored campaign loses its
// place. Computed independently (Python hashlib over the canonical text).
TEST(ItemKey, CanonicalJsonGolden) {
  json item = json::parse(
      "{\"phone\":\"+15550100\",\"name\":\"Zo\xC3\xAB \\\"Z\\\"\\n\",\"tags\":[\"b\",\"a\"],"
      "\"n\":2.0,\"x\":0.5,\"big\":-12,\"nested\":{\"z\":null,\"a\":true}}");
  EXPECT_EQ(canonical_json(item),
            "{\"big\":-12,\"n\":2,\"name\":\"Zo\xC3\xAB "
            "\\\"Z\\\"\\n\",\"nested\":{\"a\":true,\"z\":null},"
            "\"phone\":\"+15550100\",\"tags\":[\"b\",\"a\"],\"x\":0.5}");
  EXPECT_EQ(item_key(item), "h:a954654af72961fc09957820c1a3d1b2");
  EXPECT_EQ(item_key(json::object()), "h:44136fa355b3678a1146ad16f7e8649e");
}

TEST(ItemKey, CanonicalJsonEscapesOnlyWhatItMust) {
  EXPECT_EQ(canonical_json(json(std::string("\x01\t/\x7F", 4))), "\"\\u0001\\t/\x7F\"");
  // Invalid UTF-8 (a Lua string can hold any bytes) passes through, no throw.
  EXPECT_EQ(canonical_json(json(std::string("\xFF"))), "\"\xFF\"");
  EXPECT_EQ(canonical_json(json(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(canonical_json(json(0.1)), "0.1");
}

TEST(ItemKey, Sha256KnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // The padding boundaries: 55 bytes fit one block, 56 need two.
  EXPECT_EQ(sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(63, 'a')),
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ItemKey, FingerprintGolden) {
  std::vector<json> items = {{{"id", 1}}, {{"id", "b"}}, json::object()};
  EXPECT_EQ(items_fingerprint(items),
            "676e794024dbe1dcf35287e294d713160755f17e3d2297e99d8f93e364f8d1c0");
  EXPECT_EQ(items_fingerprint({}), sha256_hex(""));
}

TEST(ItemKey, FingerprintChangesWhenAnItemOrTheOrderChanges) {
  std::vector<json> items = {{{"id", 1}}, {{"id", 2}}, {{"phone", "+1555"}}};
  const std::string base = items_fingerprint(items);
  EXPECT_EQ(items_fingerprint(items), base);

  auto edited = items;
  edited[2]["phone"] = "+1556";  // a hashed item's content is its key
  EXPECT_NE(items_fingerprint(edited), base);

  auto rekeyed = items;
  rekeyed[0]["id"] = 3;
  EXPECT_NE(items_fingerprint(rekeyed), base);

  auto reordered = items;
  std::swap(reordered[0], reordered[1]);
  EXPECT_NE(items_fingerprint(reordered), base);

  auto shorter = items;
  shorter.pop_back();
  EXPECT_NE(items_fingerprint(shorter), base);
}

TEST(ItemKey, FingerprintFollowsKeysNotOtherFields) {
  std::vector<json> items = {{{"id", 1}, {"phone", "+1555"}}};
  std::vector<json> edited = {{{"id", 1}, {"phone", "+1556"}}};
  EXPECT_EQ(items_fingerprint(items), items_fingerprint(edited));
}

TEST(ItemKey, FingerprintFramingKeepsKeyBoundaries) {
  EXPECT_NE(items_fingerprint({{{"id", "ab"}}, {{"id", "c"}}}),
            items_fingerprint({{{"id", "a"}}, {{"id", "bc"}}}));
}

TEST(ItemKey, DuplicateKeysAreReportedOnceInOrderOfFirstRepeat) {
  std::vector<json> items = {{{"id", 1}}, {{"id", "1"}}, {{"id", 2}}, {{"x", 1}},
                             {{"x", 1}},  {{"id", 3}},   {{"id", 2}}, {{"id", 1}}};
  EXPECT_EQ(duplicate_keys(items), (std::vector<std::string>{"1", item_key({{"x", 1}}), "2"}));
  EXPECT_TRUE(duplicate_keys({{{"id", 1}}, {{"id", 2}}, {{"x", 1}}}).empty());
  EXPECT_EQ(item_keys(items).size(), items.size());
}

}  // namespace
}  // namespace belay::campaign
