// Grammar matcher: parser state over a compiled grammar, token masks, accept, forced bytes.
// (Placeholder interface; filled in with the matcher.)
#pragma once
