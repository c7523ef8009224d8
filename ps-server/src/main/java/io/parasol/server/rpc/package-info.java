/**
 * The shard's gRPC face: {@link io.parasol.server.rpc.ShardService} (validates messages,
 * delegates to the core, maps {@code ShardException}s to statuses in one place, streams pulls
 * under flow control), {@link io.parasol.server.rpc.LenientParsing}, and
 * {@link io.parasol.server.rpc.RefusalInterceptor} (counts and rate-limits the log of refused
 * calls, {@link io.parasol.server.rpc.RefusalLog}). Thin: no shard
 * state lives here. Depends on the core, common, the proto and gRPC.
 */
package io.parasol.server.rpc;
