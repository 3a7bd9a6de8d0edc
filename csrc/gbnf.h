// GBNF text <-> grammar IR. The syntax is llama.cpp's: `name ::= alternatives`, `|`, literals in
// double quotes with \x \u \U \n \r \t \\ \" escapes, character classes `[a-z]` / `[^...]`,
// groups `( )`, the any-character `.`, postfix `* + ? {m} {m,} {m,n}`, and `#` comments.
#pragma once

#include <string>
#include <string_view>

#include "grammar.h"

namespace maaza {

// Parses GBNF text. `root` names the start rule. Throws GrammarError with 1-based line and column
// on syntax errors, undefined rules, a missing root and left recursion.
Grammar parse_gbnf(std::string_view text, const std::string& root = "root");

// Prints a grammar as GBNF that parse_gbnf reads back to an equivalent grammar; the root rule is
// printed first and named "root". GBNF cannot say that a value is grounded in an input text: a
// grounded reference (Symbol::grounded) is printed as the plain reference it narrows.
std::string to_gbnf(const Grammar& grammar);

}  // namespace maaza
