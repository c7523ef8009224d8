/**
 * A worker's training loop per mode over ps-client: pull, compute, push, rollback recovery,
 * divergence watch, simulated delays and arrivals, worker metrics and the Lipschitz estimate.
 * Must not depend on ps-server: it talks to shards only through the client.
 */
package io.parasol.worker.train;
