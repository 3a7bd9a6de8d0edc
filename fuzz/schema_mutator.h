// Structured mutations of JSON Schemas for fuzz_schema: instead of flipping bytes (which mostly
// breaks the JSON and tests only the parser), a mutation parses the schema and edits its tree:
// replace a node with a generated schema, add a keyword with a value of the right shape, delete a
// member or item, copy a subtree over another, or change a scalar to a boundary value. The
// generator knows the keywords, the formats, a set of patterns and the numbers at the edges of
// what the compiler enforces (digit caps, 2^53, exponents), so mutated seeds stay schemas.
#pragma once

#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "json.h"

namespace maaza::fuzz {

// A random schema at most `depth` levels deep.
json::Value random_schema(Rng& rng, int depth);

// Applies one structured mutation to `schema` in place.
void mutate_schema(json::Value& schema, Rng& rng);

// Replaces a random node of `into` with a copy of a random node of `from`.
void cross_schemas(json::Value& into, const json::Value& from, Rng& rng);

}  // namespace maaza::fuzz
