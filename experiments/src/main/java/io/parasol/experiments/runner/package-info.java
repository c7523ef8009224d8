/**
 * {@code parasol local}: an embedded cluster of real shards on 127.0.0.1 and worker threads in
 * one process, its summary and its partial report when interrupted.
 */
package io.parasol.experiments.runner;
