// Placeholder; implemented in its own change.
#include "errors.h"
