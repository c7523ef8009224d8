/**
 * A shard's checkpoints on disk ({@link io.parasol.server.checkpoint.Checkpoints}): the
 * {@code parasol.v1.CheckpointFile} protobuf with a CRC-32 over its payload, written by atomic
 * rename. Depends on the proto only; the core converts its state to and from
 * {@link io.parasol.server.checkpoint.Checkpoints.Snapshot}.
 */
package io.parasol.server.checkpoint;
