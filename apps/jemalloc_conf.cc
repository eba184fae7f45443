// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// jemalloc's settings for the executables that link it
// (streamml_link_jemalloc() in CMakeLists.txt): jemalloc reads this
// variable at start, before MALLOC_CONF, which can override any of it.
//
// Why: with jemalloc's defaults (unused pages kept ~10 s per arena) a
// KafkaDataset reading 10M records grew by +50 to +79 MB at its peak
// (bench/data_memory_bench, goal <= +50 MB; glibc: +25 MB). Returning them
// after 1 s, and at once rather than through a second "muzzy" stage, gave
// +24 to +31 MB, with serve's drain rate unchanged within the noise
// (BENCHMARKS.md, issue 14). Fewer arenas (narenas:2) saved a little more
// memory but cost serve 10-15 % of its rate, so the arena count stays
// jemalloc's (4 per CPU).
extern "C" {  // the name and type are jemalloc's
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}
