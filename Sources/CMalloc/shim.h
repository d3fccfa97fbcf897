// glibc's allocator statistics and trimming (mallinfo2(3), malloc_trim(3)), which Swift's Glibc
// module does not import. Part of glibc itself: nothing to link.
#include <malloc.h>
