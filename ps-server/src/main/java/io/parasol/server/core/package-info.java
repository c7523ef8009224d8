/**
 * A shard without gRPC: {@link io.parasol.server.core.ShardCore}, the thin front, over the
 * job's parts — {@code BlockStore} (blocks and lookups), {@code PullWaiters} (waiting pulls),
 * {@code PushPlan} (push staging), {@code Membership} (leases, ssp clocks), {@code Dedupe}
 * (exactly-once pushes), {@link io.parasol.server.core.StalenessTracker} and
 * {@code ShardStatus} — plus {@link io.parasol.server.core.ShardException} (refusals with
 * their gRPC code) and the server's {@link io.parasol.server.core.Lifecycle}. Depends on
 * consistency, optim, metrics, checkpoint, clock, common and the proto; never on rpc or the
 * server classes above it.
 */
package io.parasol.server.core;
