/**
 * The shard process: {@link io.parasol.server.ShardServer} (gRPC server, health, reflection,
 * lease and checkpoint timers, lifecycle), {@link io.parasol.server.ServerCommand} (the jar's
 * main) and {@link io.parasol.server.LocalCluster} (in-process shards on 127.0.0.1). Wires
 * together the subpackages: rpc, core, consistency, optim, metrics, checkpoint, security,
 * clock.
 */
package io.parasol.server;
