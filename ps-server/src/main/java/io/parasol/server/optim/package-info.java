/**
 * The server-side optimizers: {@link io.parasol.server.optim.BlockOptimizer} and one class per
 * optimizer (SGD, momentum, AdaGrad, Adam), with their shared state handling in
 * {@link io.parasol.server.optim.StatefulOptimizer}. Public so benchmarks and tests can drive
 * them directly. Depends only on the proto (the optimizer spec); nothing here knows about
 * shards, locking or gRPC.
 */
package io.parasol.server.optim;
