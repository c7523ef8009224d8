/**
 * The consistency modes, one class per mode behind {@link
 * io.parasol.server.consistency.ConsistencyRule}: {@code Sync} (rounds of gradients),
 * {@code Async} (applied on arrival), {@code Ssp} (async with a bound on pulls) and
 * {@code LocalUpdate} (periodic model averaging); {@code Rounds} holds what sync and local
 * share. A rule reaches the shard only through {@link
 * io.parasol.server.consistency.RuleContext}. May depend on the core's data types ({@code
 * Block}, {@code ShardException}), optim, metrics, clock, common and the proto; never on
 * {@code ShardCore} or gRPC services.
 */
package io.parasol.server.consistency;
