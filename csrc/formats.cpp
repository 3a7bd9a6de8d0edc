// Built-in formats as anchored ECMA-262 patterns; see formats.h and docs/schema_support.md.
#include "formats.h"

#include <vector>

namespace maaza {

namespace {

// Years 0001-9999; day counts per month; 29 February only in leap years.
constexpr const char* kYear = "(?:[1-9]\\d{3}|0[1-9]\\d\\d|00[1-9]\\d|000[1-9])";
constexpr const char* kMonthDay =
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)"
    "|02-(?:0[1-9]|1\\d|2[0-8]))";
constexpr const char* kLeapYear =
    "(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)";
// Leap seconds (:60) are refused: whether one is valid depends on the date.
constexpr const char* kPartialTime = "(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?";
constexpr const char* kOffset = "(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)";

std::string date() {
  return std::string("(?:") + kYear + "-" + kMonthDay + "|" + kLeapYear + "-02-29)";
}

std::string time(const FormatOptions& options) {
  return std::string(kPartialTime) + kOffset + (options.optional_timezone ? "?" : "");
}

// A hostname label of 1 to `max_len` letters, digits and hyphens (RFC 1123), neither starting nor
// ending with a hyphen, and without hyphens in both the 3rd and 4th positions: RFC 5891 reserves
// those for A-labels (`xn--`), which must then be valid Punycode; they are left out rather than
// decoded.
std::string label(unsigned max_len) {
  const std::string l = "[A-Za-z0-9]";
  const std::string h = "[A-Za-z0-9-]";
  std::vector<std::string> longer;
  if (max_len >= 2) longer.push_back(l);                // 2 characters
  if (max_len >= 3) longer.push_back(h + l);            // 3
  if (max_len >= 4) longer.push_back(h + h + l);        // 4: the 4th is not a hyphen
  if (max_len >= 5) {                                   // 5 and more: not "--" at 3-4
    longer.push_back(h + "(?:" + l + h + "|-" + l + ")" + h + "{0," + std::to_string(max_len - 5) +
                     "}" + l);
  }
  std::string out = l;
  if (!longer.empty()) {
    out += "(?:";
    for (std::size_t i = 0; i < longer.size(); ++i) out += (i ? "|" : "") + longer[i];
    out += ")?";
  }
  return out;
}

// At most 253 characters in all (RFC 1123 via RFC 1035). A bounded total over variable-length
// labels is not a regular expression of useful size, so each range of label counts gets the
// longest labels that always fit: 1-4 labels of up to 62 characters, 5-8 of 30, 9-16 of 14,
// 17-32 of 6. Few ranges, because the matcher follows every range in parallel (masks slow down
// with each one).
std::string hostname() {
  struct Range {
    unsigned lo, hi, max_len;
  };
  const Range ranges[] = {{1, 4, 62}, {5, 8, 30}, {9, 16, 14}, {17, 32, 6}};
  std::string out = "^(?:";
  bool first = true;
  for (const Range& r : ranges) {
    std::string lab = label(r.max_len);
    out += first ? "" : "|";
    first = false;
    out += lab + "(?:\\." + lab + "){" + std::to_string(r.lo - 1) + "," + std::to_string(r.hi - 1) + "}";
  }
  return out + ")$";
}

// RFC 3986 (appendix A). IP-literal hosts (`[...]`) are left out; an IPv4 address is a reg-name.
constexpr const char* kPct = "%[0-9A-Fa-f]{2}";
std::string pchar() { return std::string("(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|") + kPct + ")"; }
std::string authority() {
  std::string userinfo = std::string("(?:[A-Za-z0-9\\-._~!$&'()*+,;=:]|") + kPct + ")*";
  std::string reg_name = std::string("(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|") + kPct + ")*";
  return "(?:" + userinfo + "@)?" + reg_name + "(?::\\d*)?";
}
// The part after the scheme's ':' or of a relative reference: hier-part or relative-part, then
// query and fragment. `first_segment` is the first segment of a rootless (or no-scheme) path.
std::string after_scheme(const std::string& first_segment) {
  std::string p = pchar();
  std::string segments = "(?:/" + p + "*)*";
  std::string query = "(?:" + p + "|[/?])*";
  return "(?://" + authority() + segments + "|/(?:" + p + "+" + segments + ")?|" + first_segment +
         "+" + segments + ")?(?:\\?" + query + ")?(?:#" + query + ")?";
}
constexpr const char* kScheme = "[A-Za-z][A-Za-z0-9+.\\-]*";
std::string uri() { return std::string(kScheme) + ":" + after_scheme(pchar()); }
std::string relative_ref() {
  // path-noscheme: the first segment has no ':' (else it would read as a scheme).
  return after_scheme(std::string("(?:[A-Za-z0-9\\-._~!$&'()*+,;=@]|") + kPct + ")");
}

// Local parts of dot-separated atoms, domains of 2-6 labels; see schema_support.md.
constexpr const char* kAtom = "[A-Za-z0-9_%+-]";
std::string email_label(const char* n) { return std::string("[A-Za-z0-9](?:[A-Za-z0-9-]{0,") + n + "}[A-Za-z0-9])?"; }

std::string email() {
  // A subset of metrics.h's definition, so every generated address passes it: a local part of at
  // most 64 characters, dot-separated atoms (up to six, no empty one); a domain of at most 253
  // characters, two to six labels. Each count of atoms or labels gets the longest atoms or labels
  // that keep the total within bounds (two atoms of 31, ...; three labels of 63, four of 62, five
  // of 49, six of 41): a bounded total has no plain regular expression, and without a bound a
  // runaway generation could write a 4 KB domain.
  const std::string a = kAtom;
  std::string local = "(?:" + a + "{1,64}|" + a + "{1,31}\\." + a + "{1,31}|" + a + "{1,20}(?:\\." + a +
                      "{1,20}){2}|" + a + "{1,15}(?:\\." + a + "{1,15}){3}|" + a + "{1,12}(?:\\." + a +
                      "{1,12}){4}|" + a + "{1,9}(?:\\." + a + "{1,9}){5})";
  std::string l61 = email_label("61"), l60 = email_label("60"), l47 = email_label("47"),
              l39 = email_label("39");
  std::string domain = "(?:" + l61 + "(?:\\." + l61 + "){1,2}|" + l60 + "(?:\\." + l60 + "){3}|" + l47 +
                       "(?:\\." + l47 + "){4}|" + l39 + "(?:\\." + l39 + "){5})";
  return "^" + local + "@" + domain + "$";
}

}  // namespace

std::optional<std::string> format_pattern(std::string_view name, const FormatOptions& options) {
  if (name == "date") return "^" + date() + "$";
  if (name == "time") return "^" + time(options) + "$";
  if (name == "date-time") return "^" + date() + "T" + time(options) + "$";
  if (name == "email") return email();
  if (name == "uuid") {
    return std::string("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  }
  if (name == "ipv4") {
    const std::string octet = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    return "^" + octet + "(?:\\." + octet + "){3}$";
  }
  if (name == "hostname") return hostname();
  if (name == "uri") return "^" + uri() + "$";
  if (name == "uri-reference") return "^(?:" + uri() + "|" + relative_ref() + ")$";
  if (name == "json-pointer") return std::string("^(?:/(?:[^~/]|~[01])*)*$");
  return std::nullopt;
}

}  // namespace maaza
