/**
 * Loading TLS material and bearer tokens for the client and the server side, from files
 * named by flags. No gRPC service code; the server's interceptors live in ps-server.
 */
package io.parasol.common.security;
