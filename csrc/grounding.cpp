// Suffix automaton (Blumer et al.; the online construction), literal trie and the per-text
// binding. See grounding.h.
#include "grounding.h"

#include <algorithm>
#include <utility>

#include "json.h"

namespace maaza {

namespace {

struct BuildState {
  std::uint32_t len = 0;
  std::uint32_t link = TextAutomaton::kNone;
  std::vector<std::pair<std::uint8_t, std::uint32_t>> next;  // unsorted while building

  std::uint32_t get(std::uint8_t b) const {
    for (const auto& e : next) {
      if (e.first == b) return e.second;
    }
    return TextAutomaton::kNone;
  }
  void set(std::uint8_t b, std::uint32_t to) {
    for (auto& e : next) {
      if (e.first == b) {
        e.second = to;
        return;
      }
    }
    next.emplace_back(b, to);
  }
};

}  // namespace

TextAutomaton::TextAutomaton(std::string_view text) : text_(text) {
  if (text.size() > kMaxStates / 2) throw Error("text is too long to ground values in");
  std::vector<BuildState> st;
  st.reserve(2 * text.size() + 1);
  st.emplace_back();
  std::uint32_t last = 0;
  for (char ch : text) {
    const auto b = static_cast<std::uint8_t>(ch);
    const auto cur = static_cast<std::uint32_t>(st.size());
    st.emplace_back();
    st[cur].len = st[last].len + 1;
    std::uint32_t p = last;
    while (p != kNone && st[p].get(b) == kNone) {
      st[p].set(b, cur);
      p = st[p].link;
    }
    if (p == kNone) {
      st[cur].link = 0;
    } else {
      std::uint32_t q = st[p].get(b);
      if (st[p].len + 1 == st[q].len) {
        st[cur].link = q;
      } else {
        const auto clone = static_cast<std::uint32_t>(st.size());
        BuildState c;
        c.len = st[p].len + 1;
        c.link = st[q].link;
        c.next = st[q].next;
        st.push_back(std::move(c));
        while (p != kNone && st[p].get(b) == q) {
          st[p].set(b, clone);
          p = st[p].link;
        }
        st[q].link = clone;
        st[cur].link = clone;
      }
    }
    last = cur;
  }
  first_.assign(st.size() + 1, 0);
  std::size_t n_edges = 0;
  for (const BuildState& s : st) n_edges += s.next.size();
  edge_byte_.reserve(n_edges);
  edge_to_.reserve(n_edges);
  for (std::size_t i = 0; i < st.size(); ++i) {
    auto& edges = st[i].next;
    std::sort(edges.begin(), edges.end());
    first_[i] = static_cast<std::uint32_t>(edge_byte_.size());
    for (const auto& e : edges) {
      edge_byte_.push_back(e.first);
      edge_to_.push_back(e.second);
    }
  }
  first_[st.size()] = static_cast<std::uint32_t>(edge_byte_.size());
}

LiteralTrie::LiteralTrie() { nodes_.emplace_back(); }

void LiteralTrie::add(std::string_view literal) {
  if (literal.empty()) return;
  std::uint32_t node = 0;
  for (char ch : literal) {
    const auto b = static_cast<std::uint8_t>(ch);
    std::uint32_t to = next(node, b);
    if (to == kNone) {
      to = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& kids = nodes_[node].children;
      kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, std::uint32_t(0))),
                  {b, to});
    }
    node = to;
  }
  if (!nodes_[node].terminal) ++count_;
  nodes_[node].terminal = true;
}

void LiteralTrie::finish() {
  // Children are created after their parents, so one backward pass sees every child first.
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    Node& n = nodes_[i];
    n.min_len = n.terminal ? 0 : ~std::uint32_t(0);
    n.min_child = kNone;
    if (n.terminal) continue;
    for (std::uint32_t k = 0; k < n.children.size(); ++k) {
      std::uint32_t m = nodes_[n.children[k].second].min_len;
      if (m != ~std::uint32_t(0) && m + 1 < n.min_len) {
        n.min_len = m + 1;
        n.min_child = k;
      }
    }
  }
}

std::uint32_t LiteralTrie::next(std::uint32_t node, std::uint8_t b) const {
  for (const auto& e : nodes_[node].children) {
    if (e.first == b) return e.second;
    if (e.first > b) break;
  }
  return kNone;
}

void LiteralTrie::next_bytes(std::uint32_t node, std::uint64_t out[4]) const {
  for (const auto& e : nodes_[node].children) out[e.first >> 6] |= std::uint64_t(1) << (e.first & 63);
}

void LiteralTrie::append_min_completion(std::uint32_t node, std::string& out) const {
  while (!nodes_[node].terminal) {
    const Node& n = nodes_[node];
    if (n.min_child == kNone) throw InternalError("literal trie node completes no literal");
    out.push_back(static_cast<char>(n.children[n.min_child].first));
    node = n.children[n.min_child].second;
  }
}

std::string grounding_text(std::string_view text) {
  std::string out(text);
  for (std::size_t pos = 0; pos < out.size();) {
    const std::size_t len = json::utf8_length(out, pos);
    if (len == 0) {
      out[pos++] = '\0';
    } else {
      pos += len;
    }
  }
  return out;
}

Grounding::Grounding(std::string_view text, const std::vector<std::string>& number_literals)
    : text_(grounding_text(text)), numbers_(number_literals) {}

}  // namespace maaza
