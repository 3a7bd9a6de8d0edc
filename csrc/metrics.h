// EdgeJSON metric scoring. (Placeholder interface; filled in with the scorer.)
#pragma once
