/**
 * The experiments that reproduce the seed documents' results (staleness, Age of Information,
 * κ_i and the error-floor term, local-update SGD) on the embedded cluster, and their command.
 */
package io.parasol.experiments;
