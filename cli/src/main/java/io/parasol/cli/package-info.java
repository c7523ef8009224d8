/**
 * The {@code parasol} command line: the picocli commands ({@code server}, {@code worker}, {@code local},
 * {@code health}, {@code model}, {@code bench}, {@code experiment}), their options and the jar's main.
 * Commands parse and check flags and hand over to the library modules; no training or shard logic
 * lives here.
 */
package io.parasol.cli;
