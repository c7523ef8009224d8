/**
 * What shards and workers share: the job spec and its fingerprint, the block layout and
 * partitioner, the zero-copy wire codecs, refusal details, metric names and the error-floor term.
 * Depends on the generated proto classes only; never on the server, worker, ND4J or Micrometer
 * registries.
 */
package io.parasol.common;
