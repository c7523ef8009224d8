/**
 * Run reports: CSV, JSON and plots (through XChart, Commons CSV and Gson), written into a run
 * folder. No training logic.
 */
package io.parasol.experiments.report;
