/**
 * {@code parasol bench}: every benchmark prints its figure beside a reference measured in the
 * same run (raw loopback, plain gRPC, an array copy, a plain local loop, PyTorch on the same job).
 * Timing claims live here, never in tests.
 */
package io.parasol.experiments.bench;
