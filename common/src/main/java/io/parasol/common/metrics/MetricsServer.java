package io.parasol.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Serves a Prometheus registry's scrape at {@code /metrics} on its own HTTP port, apart from
 * gRPC. One per process: a shard, a worker, or the whole embedded cluster of {@code local}.
 */
public final class MetricsServer implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  private final JvmGcMetrics gc;

  private MetricsServer(PrometheusMeterRegistry registry, HttpServer http, JvmGcMetrics gc) {
    this.registry = registry;
    this.http = http;
    this.gc = gc;
  }

  /** A fresh Prometheus registry with JVM and processor meters. */
  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /** Serves {@code registry} on {@code host:port} (port 0: ephemeral). */
  public static MetricsServer start(PrometheusMeterRegistry registry, String host, int port)
      throws IOException {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 16);
    http.setExecutor(Executors.newSingleThreadExecutor(io.parasol.common.Threads.daemon("metrics")));
    MetricsServer server = new MetricsServer(registry, http, gc);
    http.createContext("/metrics", server::scrape);
    http.createContext("/", ex -> {
      respond(ex, 404, "text/plain; charset=utf-8", "see /metrics\n");
    });
    http.start();
    return server;
  }

  private void scrape(HttpExchange ex) throws IOException {
    if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
      respond(ex, 405, "text/plain; charset=utf-8", "GET only\n");
      return;
    }
    respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
  }

  private static void respond(HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  public int port() {
    return http.getAddress().getPort();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    http.stop(0);
    gc.close();
  }
}
