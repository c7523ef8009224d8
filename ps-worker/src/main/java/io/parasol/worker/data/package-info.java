/**
 * Data as users have it: IDX (with the official t10k split), CSV, LIBSVM and the bundled digits;
 * feature scaling, partitioning over workers, mini-batches. Knows nothing of models or the client.
 */
package io.parasol.worker.data;
