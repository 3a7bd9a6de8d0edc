// Token vocabulary: the raw bytes of every token piece and the end-of-generation ids, with a byte
// trie over the pieces for mask computation. (Placeholder interface; filled in with the matcher.)
#pragma once
