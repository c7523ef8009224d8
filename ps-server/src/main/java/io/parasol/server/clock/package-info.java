/**
 * Time on the server: {@link io.parasol.server.clock.Ticker}, injected wherever time is read,
 * and {@link io.parasol.server.clock.SystemTicker}, the one class that reads the system clock.
 * Depends on nothing.
 */
package io.parasol.server.clock;
