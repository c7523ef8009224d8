/**
 * JMH micro-benchmarks of the wire codecs and the shards' apply loops; compiled by the build, run by hand.
 * They use only public APIs of common and ps-server (no classes placed in another module's package).
 */
package io.parasol.bench;
