/**
 * The embeddable Parasol client: what a worker's training loop calls to pull and push the
 * sharded model.
 *
 * <p>Public API: {@link io.parasol.client.ParasolClient} (built by
 * {@link io.parasol.client.ParasolClientBuilder}; handles, {@link io.parasol.client.Job},
 * {@link io.parasol.client.JobStatus}) and the lower-level {@link io.parasol.client.PsClient}
 * (flat-vector pull and push with versions), with {@link io.parasol.client.RetryPolicy} and,
 * when a shard restarts, {@link io.parasol.client.ShardRollback} events. Package-private parts
 * behind {@code PsClient}:
 * {@code ShardCalls} (channels, stubs, deadlines, retries), {@code PullPath} and
 * {@code PushPath} (the data path's two directions) and {@code Futures} (waiting for calls).
 *
 * <p>Nothing here depends on ND4J or on the server.
 */
package io.parasol.client;
