/**
 * The Prometheus scrape endpoint that a shard and a worker each serve ({@code MetricsServer}).
 * Knows nothing of shard or worker internals: they register their own meters.
 */
package io.parasol.common.metrics;
