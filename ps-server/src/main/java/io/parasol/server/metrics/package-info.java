/**
 * The shard's Micrometer meters ({@link io.parasol.server.metrics.ShardMetrics}, a
 * {@code MeterBinder}) and the one copy of its counts that both the exported meters and the
 * Status call read. Meter names come from {@code io.parasol.common.MetricNames}; modes are the
 * proto's {@code Mode} enum. Depends on common, the proto and Micrometer only.
 */
package io.parasol.server.metrics;
