/**
 * Test fixtures other modules reuse through ps-server's test-jar: {@link
 * io.parasol.server.testing.ClusterFixture}. Depends on the server's public API only.
 */
package io.parasol.server.testing;
