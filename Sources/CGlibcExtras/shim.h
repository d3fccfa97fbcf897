// glibc interfaces that Swift's Glibc module does not import. Part of glibc itself: nothing to link.
// Allocator statistics and trimming (mallinfo2(3), malloc_trim(3)).
#include <malloc.h>
// The file system type of an open file (fstatfs(2)).
#include <sys/vfs.h>
