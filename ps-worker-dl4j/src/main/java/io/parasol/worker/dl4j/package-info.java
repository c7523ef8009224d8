/**
 * The adapter that trains a DL4J network saved with ModelSerializer ({@code --model dl4j:PATH}):
 * its flat parameters are the job's vector, its gradient divided by the batch size. Found through
 * the ps-worker {@code ModelProvider} service interface, so ps-worker does not depend on DL4J.
 */
package io.parasol.worker.dl4j;
