/**
 * Models: the built-in networks (Java kernels with OpenBLAS products, checked against their
 * ND4J and SameDiff references), user SameDiff graphs, and the {@code ModelProvider} service
 * interface for adapters. A model is a pure function of parameters and batch; it never talks to
 * a shard.
 */
package io.parasol.worker.model;
