#include <zlib.h>

// deflateInit2 is a macro over deflateInit2_ (zlib.h), which Swift cannot import.
static inline int lookout_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16 asks for a gzip header and trailer instead of a zlib wrapper (zlib.h).
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
