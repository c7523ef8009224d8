/**
 * Programs a user copies: a user-defined SameDiff model trained in the user's own loop through
 * ps-client. They use only public APIs, as a user's code would; the tests build and run them.
 */
package io.parasol.examples;
